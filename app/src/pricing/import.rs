//! Reading the meter map (`Local Meter ID,Commerce Meter ID,Factor`) and price lists (the shape of
//! `data/price-list-sample.csv`). Header names are matched without regard to case, spaces or underscores, and a few
//! common spellings are accepted for each column. Every bad cell is named by line and column; one refuses the file.

use rust_decimal::Decimal;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

pub use crate::rows::RowError;
use crate::rows::{err, guid, normalise, number, read_csv};

/// One price list row kept (an Azure Stack region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRow {
    /// Line in the file.
    pub line: usize,
    /// The Azure commerce meter priced (the file's Meter ID).
    pub commerce_meter_id: Uuid,
    /// Its name.
    pub meter_name: String,
    /// Its region (Azure Stack / Azure Stack Hub).
    pub region: String,
    /// Unit, e.g. `1 vCPU Hour`.
    pub unit: String,
    /// Price per unit.
    pub unit_price: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// From when the price applies (UTC).
    pub effective_from: OffsetDateTime,
}

/// A price list: the rows kept, and how many rows of other regions were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceFile {
    /// Azure Stack rows.
    pub rows: Vec<PriceRow>,
    /// Rows of other regions, skipped.
    pub skipped: usize,
}

/// One meter map row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterMapRow {
    /// Line in the file.
    pub line: usize,
    /// Azure Stack meter.
    pub local_meter_id: Uuid,
    /// Commerce meter it is billed as.
    pub commerce_meter_id: Uuid,
    /// Commerce quantity = local quantity × factor.
    pub factor: Decimal,
}

/// Whether `d` fits a NUMERIC column with `digits` digits before the decimal point and `scale` after it; else an
/// error naming the limits, so a value the database would refuse or round is refused here, by line and column.
fn fits(line: usize, column: &str, v: &str, d: Decimal, (digits, scale): (u32, u32), errors: &mut Vec<RowError>) {
    let whole = d.abs().trunc();
    if d.normalize().scale() > scale || whole >= Decimal::from(10u64.pow(digits)) {
        let limits = format!("at most {digits} digits before the decimal point and {scale} after it");
        errors.push(err(line, column, format!("{v} is out of range: {limits}")));
    }
}

/// A unit price's column: NUMERIC(19, 8).
const PRICE_DIGITS: (u32, u32) = (11, 8);
/// A meter-map factor's column: NUMERIC(38, 24) (the sample's factors have 18 decimals).
const FACTOR_DIGITS: (u32, u32) = (14, 24);

/// Whether a region is Azure Stack's (`Azure Stack`, `Azure Stack Hub`, in any case and spacing).
pub fn is_azure_stack(region: &str) -> bool {
    normalise(region).starts_with("azurestack")
}

fn date(line: usize, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<OffsetDateTime> {
    let day = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v, day)
        .map(|d| d.midnight().assume_utc())
        .or_else(|_| OffsetDateTime::parse(v, &Rfc3339))
        .map_err(|_| errors.push(err(line, column, format!("“{v}” is not a date (YYYY-MM-DD)"))))
        .ok()
}

const PRICE_COLUMNS: [&[&str]; 7] = [
    &["Meter ID", "Commerce Meter ID", "MeterId"],
    &["Meter Name", "Name"],
    &["Meter Region", "Region", "Location"],
    &["Unit", "Unit of Measure"],
    &["Unit Price", "Price", "Rate"],
    &["Currency", "Currency Code"],
    &["Effective Date", "Effective From", "Effective Start Date"],
];

/// Reads a price list, keeping only Azure Stack rows.
pub fn parse_prices(text: &str) -> Result<PriceFile, Vec<RowError>> {
    let (rows, skipped) = read_csv(text, PRICE_COLUMNS, |line, f| {
        if !is_azure_stack(f[2]) {
            return Ok(None);
        }
        let c = |i: usize| PRICE_COLUMNS[i][0];
        let mut errors = Vec::new();
        let meter = guid(line, c(0), f[0], &mut errors);
        let price = number(line, c(4), f[4], &mut errors);
        if price.is_some_and(|p| p.is_sign_negative() && !p.is_zero()) {
            errors.push(err(line, c(4), format!("{} is negative", f[4])));
        }
        if let Some(p) = price {
            fits(line, c(4), f[4], p, PRICE_DIGITS, &mut errors);
        }
        let currency = f[5].to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|ch| ch.is_ascii_uppercase()) {
            errors.push(err(line, c(5), format!("“{}” is not a currency code such as USD", f[5])));
        }
        let from = date(line, c(6), f[6], &mut errors);
        for (i, what) in [(1, "meter name"), (3, "unit")] {
            if f[i].is_empty() {
                errors.push(err(line, c(i), format!("give the {what}")));
            }
        }
        match (meter, price, from) {
            (Some(commerce_meter_id), Some(unit_price), Some(effective_from)) if errors.is_empty() => {
                Ok(Some(PriceRow {
                    line,
                    commerce_meter_id,
                    meter_name: f[1].into(),
                    region: f[2].into(),
                    unit: f[3].into(),
                    unit_price,
                    currency,
                    effective_from,
                }))
            }
            _ => Err(errors),
        }
    })?;
    Ok(PriceFile { rows, skipped })
}

const MAP_COLUMNS: [&[&str]; 3] = [
    &["Local Meter ID", "Local Meter", "Azure Stack Meter ID"],
    &["Commerce Meter ID", "Commerce Meter"],
    &["Factor", "Conversion Factor", "Multiplier"],
];

/// Reads a meter map.
pub fn parse_meter_map(text: &str) -> Result<Vec<MeterMapRow>, Vec<RowError>> {
    let (rows, _) = read_csv(text, MAP_COLUMNS, |line, f| {
        let c = |i: usize| MAP_COLUMNS[i][0];
        let mut errors = Vec::new();
        let local = guid(line, c(0), f[0], &mut errors);
        let commerce = guid(line, c(1), f[1], &mut errors);
        let factor = number(line, c(2), f[2], &mut errors);
        if factor.is_some_and(|x| x <= Decimal::ZERO) {
            errors.push(err(line, c(2), format!("{} must be greater than 0", f[2])));
        }
        if let Some(x) = factor {
            fits(line, c(2), f[2], x, FACTOR_DIGITS, &mut errors);
        }
        match (local, commerce, factor) {
            (Some(local_meter_id), Some(commerce_meter_id), Some(factor)) if errors.is_empty() => {
                Ok(Some(MeterMapRow { line, local_meter_id, commerce_meter_id, factor }))
            }
            _ => Err(errors),
        }
    })?;
    let mut seen = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for r in &rows {
        if let Some(first) = seen.insert(r.local_meter_id, r.line) {
            errors.push(err(
                r.line,
                MAP_COLUMNS[0][0],
                format!("{} is already mapped on line {first}", r.local_meter_id),
            ));
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_price_list_keeps_azure_stack_rows_with_exact_prices() {
        let file = parse_prices(include_str!("../../../server/data/price-list-sample.csv")).unwrap();
        assert_eq!(file.skipped, 1, "the EU West row is left out");
        assert_eq!(file.rows.len(), 5);
        assert_eq!(file.rows[0].unit_price.to_string(), "0.008");
        assert_eq!(file.rows[0].unit, "1 vCPU Hour");
    }

    #[test]
    fn other_header_spellings_are_accepted_and_bad_cells_are_named() {
        let text = "meter_id,METER NAME,region,unit,unit_price,currency,effective_date\n\
                    nope,Base,Azure Stack,1 Hour,-1,usd,2026-13-01\n";
        let errors = parse_prices(text).unwrap_err();
        let named: Vec<_> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(named, [(2, "Meter ID"), (2, "Unit Price"), (2, "Effective Date")]);
    }

    #[test]
    fn a_missing_column_is_named() {
        let errors = parse_prices("Meter ID,Meter Name,Unit,Unit Price,Currency,Effective Date\n").unwrap_err();
        assert_eq!(errors[0].column, "Meter Region");
    }

    #[test]
    fn the_sample_meter_map_reads_and_duplicates_are_refused() {
        let rows = parse_meter_map(include_str!("../../../server/data/meter-map-sample.csv")).unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[2].factor.to_string(), "0.001369863013698630");
        let dup = "Local Meter ID,Commerce Meter ID,Factor\n\
                   FAB6EB84-500B-4A09-A8CA-7358F8BBAEA5,821be9b1-ce85-57dd-9a7e-98726239b2bb,1\n\
                   fab6eb84500b4a09a8ca7358f8bbaea5,821be9b1-ce85-57dd-9a7e-98726239b2bb,2\n";
        let errors = parse_meter_map(dup).unwrap_err();
        assert_eq!((errors.len(), errors[0].line, errors[0].column.as_str()), (1, 3, "Local Meter ID"));
        let zero = dup.replace(",2\n", ",0\n");
        assert_eq!(parse_meter_map(&zero).unwrap_err()[0].column, "Factor");
    }
}
