//! The bill CSV (PRODUCT §6, reconciliation-file style): one row per bill line, with exactly this header. Text
//! cells are neutralised against spreadsheet formulas; numbers are written as numbers.
use super::Bill;

/// The header, as PRODUCT §6 gives it.
pub const HEADER: &str = "PartnerId,CustomerName,CustomerTenantId,SubscriptionId,StackCloudId,CommerceMeterId,MeterName,Region,Unit,Quantity,UnitPrice,PreciseAmount,Amount,CustomerPrice,Margin,Currency,ChargeStartDate,ChargeEndDate,LineType";

/// A bill's rows (without the header), each ending in CRLF as RFC 4180 has it.
pub fn rows(b: &Bill) -> Result<Vec<u8>, crate::AppError> {
    let mut w = csv::WriterBuilder::new().has_headers(false).terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for l in &b.lines {
        let charge = l.charge_period;
        let text = |s: &str| crate::domain::text::csv_text(s).into_owned();
        w.write_record([
            b.partner_id.to_string(),
            text(&b.customer_name),
            b.customer_tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            b.subscription_id.to_string(),
            l.stack_cloud_id.to_string(),
            l.commerce_meter_id.to_string(),
            text(&l.meter_name),
            text(&l.region),
            text(&l.unit),
            l.quantity.to_string(),
            l.unit_price.to_string(),
            l.precise_amount.to_string(),
            format!("{:.2}", l.amount),
            format!("{:.2}", l.customer_price),
            format!("{:.2}", l.margin),
            b.currency.clone(),
            charge.start().to_string(),
            charge.end().to_string(),
            l.line_type.to_string(),
        ])
        .map_err(|_| crate::AppError::Internal)?;
    }
    w.into_inner().map_err(|_| crate::AppError::Internal)
}

/// The header line, CRLF-terminated.
pub fn header() -> Vec<u8> {
    format!("{HEADER}\r\n").into_bytes()
}
