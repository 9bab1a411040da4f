//! Reading Partner Center's daily rated usage reconciliation CSV (DOMAIN §7): a byte-order mark, quoted fields, about
//! sixty columns of which the ones below are read (by header, any order), dates in the exporting culture. All or
//! nothing: every problem comes back by line and column. Azure Stack Hub lines (meter region "Azure Stack Hub", or
//! the `Microsoft.AzureStack` service) are kept; the rest are counted and set aside.

use uuid::Uuid;

use super::{ReconFile, ReconLine};
use crate::rows::{err, guid, number, read_csv, RowError};

const COLUMNS: [&[&str]; 14] = [
    &["PartnerId"],
    &["CustomerId"],
    &["CustomerName"],
    &["EntitlementId"],
    &["UsageDate"],
    &["MeterId"],
    &["MeterName"],
    &["MeterRegion"],
    &["ConsumedService"],
    &["Quantity"],
    &["UnitPrice"],
    &["EffectiveUnitPrice"],
    &["BillingPreTaxTotal"],
    &["BillingCurrency"],
];

/// The Azure Stack Hub region as Partner Center and the price list name it.
const STACK_REGION: &str = "Azure Stack Hub";

/// Reads the file; a file with lines of more than one month or of more than one partner is refused.
pub fn parse_recon(text: &str) -> Result<ReconFile, Vec<RowError>> {
    let mut partners: Vec<(Uuid, usize)> = Vec::new();
    let mut months: Vec<(usize, time::Date)> = Vec::new();
    let (rows, set_aside) = read_csv(text, COLUMNS, |line, c| {
        let [partner, customer, name, entitlement, day, meter, meter_name, region, service, q, price, effective, total, currency] =
            c;
        let mut errors = Vec::new();
        let partner = guid(line, "PartnerId", partner, &mut errors);
        if let Some(p) = partner.filter(|p| !partners.iter().any(|(q, _)| q == p)) {
            partners.push((p, line));
        }
        // Every line's day, set-aside ones too: they say which month the file is of, even with no Azure Stack Hub line.
        let usage_day = crate::usage::culture_dates::date_time(day)
            .map(|t| t.date())
            .map_err(|m| errors.push(err(line, "UsageDate", m)))
            .unwrap_or(time::Date::MIN);
        months.push((line, usage_day));
        if !region.eq_ignore_ascii_case(STACK_REGION) && !service.eq_ignore_ascii_case("Microsoft.AzureStack") {
            return if errors.is_empty() { Ok(None) } else { Err(errors) };
        }
        let line_of = ReconLine {
            line,
            subscription_id: guid(line, "EntitlementId", entitlement, &mut errors).unwrap_or_default(),
            customer_tenant_id: guid(line, "CustomerId", customer, &mut errors).unwrap_or_default(),
            customer_name: name.to_string(),
            usage_day,
            commerce_meter_id: guid(line, "MeterId", meter, &mut errors).unwrap_or_default(),
            meter_name: meter_name.to_string(),
            quantity: number(line, "Quantity", q, &mut errors).unwrap_or_default(),
            unit_price: number(line, "UnitPrice", price, &mut errors).unwrap_or_default(),
            effective_unit_price: number(line, "EffectiveUnitPrice", effective, &mut errors).unwrap_or_default(),
            amount: number(line, "BillingPreTaxTotal", total, &mut errors).unwrap_or_default(),
            currency: currency.to_ascii_uppercase(),
        };
        if line_of.currency.len() != 3 {
            errors.push(err(line, "BillingCurrency", format!("“{currency}” is not a currency code (USD, EUR, …)")));
        }
        if errors.is_empty() {
            Ok(Some(line_of))
        } else {
            Err(errors)
        }
    })?;
    if let [(_, _), (other, line), ..] = partners[..] {
        return Err(vec![err(
            line,
            "PartnerId",
            format!("{other} is a second partner in one file; export one partner's file"),
        )]);
    }
    let partner_tenant_id =
        partners.first().map(|(p, _)| *p).ok_or_else(|| vec![err(0, "file", "the file has no lines")])?;
    let month = |d: time::Date| d.replace_day(1).unwrap_or(d);
    let period = months.first().map(|(_, d)| month(*d)).unwrap_or(time::Date::MIN);
    let other_months: Vec<RowError> = months
        .iter()
        .filter(|(_, d)| month(*d) != period)
        .take(crate::rows::MAX_ERRORS)
        .map(|(line, d)| {
            let first = crate::domain::Period::of_day(period);
            err(*line, "UsageDate", format!("{d} is not in {first} like the first line; import one month per file"))
        })
        .collect();
    if !other_months.is_empty() {
        return Err(other_months);
    }
    Ok(ReconFile { period, partner_tenant_id, lines: rows, set_aside })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use rust_decimal::Decimal;

    use super::*;

    const HEADER: &str = "PartnerId,CustomerId,CustomerName,EntitlementId,UsageDate,MeterId,MeterName,MeterRegion,ConsumedService,Quantity,UnitPrice,EffectiveUnitPrice,BillingPreTaxTotal,BillingCurrency,InvoiceNumber";
    const P: &str = "3e1f2b5c-0000-4000-8000-00000000a001";
    const C: &str = "7e4a1000-0000-4000-8000-000000000001";
    const S: &str = "5b5c1000-0000-4000-8000-000000000001";
    const M: &str = "821be9b1-ce85-57dd-9a7e-98726239b2bb";

    fn row(day: &str, region: &str, quantity: &str) -> String {
        format!("{P},{C},\"Northwind Traders, Inc.\",{S},{day},{M},Base VM,{region},Microsoft.AzureStack,{quantity},0.008,0.0068,0.33,USD,G1")
    }

    #[test]
    fn the_sample_file_is_read_with_its_bom_and_its_azure_line_set_aside() {
        let f = parse_recon(include_str!("../../../server/data/recon-sample.csv")).unwrap();
        assert_eq!((f.lines.len(), f.set_aside), (10, 1));
        assert_eq!(f.period, time::macros::date!(2026 - 10 - 01));
        assert_eq!(f.lines[0].quantity, Decimal::from(48));
        assert_eq!(f.lines[0].effective_unit_price, Decimal::from_str("0.0068").unwrap());
    }

    #[test]
    fn dates_in_the_german_culture_and_quoted_names_are_read() {
        let text = format!("\u{feff}{HEADER}\n{}\n", row("01.10.2026 00:00:00", "Azure Stack Hub", "48"));
        let f = parse_recon(&text).unwrap();
        assert_eq!(f.lines[0].usage_day, time::macros::date!(2026 - 10 - 01));
        assert_eq!(f.lines[0].customer_name, "Northwind Traders, Inc.");
    }

    #[test]
    fn a_bad_row_is_named_by_line_and_column_and_nothing_is_kept() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            row("10/1/2026 12:00:00 AM", "Azure Stack Hub", "48"),
            row("10/2/2026 12:00:00 AM", "Azure Stack Hub", "lots"),
            row("11/1/2026 12:00:00 AM", "Azure Stack Hub", "1"),
        );
        let errors = parse_recon(&text).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column.as_str()), (3, "Quantity"), "{errors:?}");
        assert!(errors[0].message.contains("“lots” is not a number"));
    }

    #[test]
    fn a_month_without_azure_stack_hub_lines_is_still_a_month() {
        let text = format!(
            "{HEADER}\n{}\n",
            row("10/3/2026 12:00:00 AM", "EU West", "1").replace("Microsoft.AzureStack", "Microsoft.Compute")
        );
        let f = parse_recon(&text).unwrap();
        assert_eq!((f.lines.len(), f.set_aside, f.period), (0, 1, time::macros::date!(2026 - 10 - 01)));
    }

    #[test]
    fn a_file_of_two_months_is_refused_naming_the_line() {
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            row("10/1/2026 12:00:00 AM", "Azure Stack Hub", "48"),
            row("11/1/2026 12:00:00 AM", "Azure Stack Hub", "1"),
        );
        let errors = parse_recon(&text).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column.as_str()), (3, "UsageDate"), "{errors:?}");
    }
}
