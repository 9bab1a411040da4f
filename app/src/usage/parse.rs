//! Reading one page of the Azure Stack usage API (`{"value":[…]}`, DOMAIN §1.4) as sent to the ingest API.
//! Every record is checked and every problem reported by record index and field; one bad record refuses the page.
use std::borrow::Cow;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// Records per page at most (the usage API pages at 1,000; backfills may send more).
pub const MAX_RECORDS: usize = 10_000;

/// One valid usage record.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The local (Azure Stack) subscription.
    pub local_subscription_id: Uuid,
    /// The local meter.
    pub meter_id: Uuid,
    /// Usage window start (UTC).
    pub start: OffsetDateTime,
    /// Usage window end (UTC).
    pub end: OffsetDateTime,
    /// Exact quantity, as sent.
    pub quantity: Decimal,
    /// `instanceData.Microsoft.Resources.resourceUri` (empty when absent).
    pub resource_uri: String,
    /// Its `location`.
    pub location: String,
    /// Its `tags`.
    pub tags: Option<serde_json::Value>,
    /// Its `additionalInfo`.
    pub additional_info: Option<serde_json::Value>,
}

/// A problem with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// Index in `value`, or the data row of a CSV file (0-based); `None` for the page or file itself.
    pub index: Option<usize>,
    /// Line in a CSV file (1-based); `None` for JSON pages, whose records have no useful line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The field, e.g. `properties.quantity`.
    pub field: String,
    /// What is wrong, with the value.
    pub message: String,
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
}

/// Strings are borrowed from the page where they have no escapes (all but `instanceData`): no copy per field.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    #[serde(default, borrow, deserialize_with = "text")]
    subscription_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    usage_start_time: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    usage_end_time: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    instance_data: Option<Cow<'a, str>>,
    #[serde(borrow)]
    quantity: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "text")]
    meter_id: Option<Cow<'a, str>>,
}

/// A string field, borrowed from the page unless it has escapes (serde borrows a `Cow` only outside an `Option`).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text>::deserialize(d)?.map(|t| t.0))
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow)]
    properties: Option<Properties<'a>>,
}

/// Parses a page; `Err` lists every problem (at most 100).
pub fn parse_page(body: &str) -> Result<Vec<UsageRecord>, Vec<RecordError>> {
    let page: Page = serde_json::from_str(body).map_err(|e| {
        vec![RecordError {
            index: None,
            line: None,
            field: "value".into(),
            message: format!("not a usage API page ({{\"value\":[…]}}): {e}"),
        }]
    })?;
    if page.value.len() > MAX_RECORDS {
        return Err(vec![RecordError {
            index: None,
            line: None,
            field: "value".into(),
            message: format!("{} records; send at most {MAX_RECORDS} per page", page.value.len()),
        }]);
    }
    let (mut records, mut errors) = (Vec::with_capacity(page.value.len()), Vec::new());
    for (i, raw) in page.value.iter().enumerate() {
        match record(i, raw) {
            Ok(r) => records.push(r),
            Err(mut e) => errors.append(&mut e),
        }
        if errors.len() >= 100 {
            break;
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

fn record(i: usize, raw: &RawValue) -> Result<UsageRecord, Vec<RecordError>> {
    let err = |field: &str, message: String| RecordError { index: Some(i), line: None, field: field.into(), message };
    let item: Item =
        serde_json::from_str(raw.get()).map_err(|e| vec![err("properties", format!("not a usage record: {e}"))])?;
    let p = item.properties.ok_or_else(|| vec![err("properties", "missing".into())])?;
    let mut errors = Vec::new();
    let mut id = |field: &str, v: &Option<Cow<str>>| match v.as_deref().map(guid) {
        Some(Ok(id)) => Some(id),
        Some(Err(m)) => {
            errors.push(err(field, m));
            None
        }
        None => {
            errors.push(err(field, "missing".into()));
            None
        }
    };
    let sub = id("properties.subscriptionId", &p.subscription_id);
    let meter = id("properties.meterId", &p.meter_id);
    let mut time =
        |field: &str, v: &Option<Cow<str>>| match v.as_deref().map(|s| OffsetDateTime::parse(s.trim(), &Rfc3339)) {
            Some(Ok(t)) => Some(t),
            _ => {
                errors.push(err(
                    field,
                    format!("{:?} is not an ISO 8601 time with offset", v.as_deref().unwrap_or("missing")),
                ));
                None
            }
        };
    let (start, end) =
        (time("properties.usageStartTime", &p.usage_start_time), time("properties.usageEndTime", &p.usage_end_time));
    if let (Some(s), Some(e)) = (start, end) {
        if let Err(m) = window(s, e, "usageStartTime") {
            errors.push(err("properties.usageEndTime", m));
        }
    }
    let quantity = quantity(p.quantity).map_err(|m| errors.push(err("properties.quantity", m))).ok();
    let instance =
        instance(p.instance_data.as_deref()).map_err(|m| errors.push(err("properties.instanceData", m))).ok();
    match (sub, meter, start, end, quantity, instance) {
        (Some(sub), Some(meter), Some(start), Some(end), Some(quantity), Some((uri, location, tags, info)))
            if errors.is_empty() =>
        {
            Ok(UsageRecord {
                local_subscription_id: sub,
                meter_id: meter,
                start,
                end,
                quantity,
                resource_uri: uri,
                location,
                tags,
                additional_info: info,
            })
        }
        _ => Err(errors),
    }
}

/// Quantities arrive as JSON numbers; read their text so no digit is lost to floating point.
fn quantity(raw: Option<&RawValue>) -> Result<Decimal, String> {
    let text = raw.ok_or("missing")?.get().trim();
    decimal_quantity(text, text)
}

/// The quantity rules every usage source shares. `shown` is how messages quote the value, so a reader that rewrote
/// the text first (the CSV reader turns a decimal comma into a point) still names what the user sent.
pub(crate) fn decimal_quantity(text: &str, shown: &str) -> Result<Decimal, String> {
    let q = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("{shown} is not a decimal number"))?;
    if q.is_sign_negative() && !q.is_zero() {
        return Err(format!("{shown} is negative"));
    }
    if q >= Decimal::from(MAX_QUANTITY) {
        return Err(format!("{shown} is larger than a record can hold (less than 10^15 units)"));
    }
    Ok(q)
}

/// The start of one reported hour (PRODUCT §4 R10): a whole hour, or a refusal naming `field`.
pub fn whole_hour(field: &str, t: OffsetDateTime) -> Result<OffsetDateTime, crate::AppError> {
    if t.minute() != 0 || t.second() != 0 || t.nanosecond() != 0 {
        return Err(crate::AppError::Validation(format!(
            "{field}: give the start of one whole reported hour, such as 2026-10-01T11:00"
        )));
    }
    Ok(t)
}

/// Quantities are kept with every decimal they are sent with (up to Decimal's 28 significant digits); their size is
/// capped so that sums, × meter-map factors, stay within the charges' columns. No meter reports 10^15 units an hour.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000_000;

/// Meter and subscription IDs, in any spelling `Uuid` reads (with or without dashes, any case).
pub(crate) fn guid(text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text.trim()).map_err(|_| format!("“{text}” is not a GUID"))
}

/// An empty or inverted window would bill nothing or bill twice; `start_field` names the start in the message.
pub(crate) fn window(start: OffsetDateTime, end: OffsetDateTime, start_field: &str) -> Result<(), String> {
    if end <= start {
        return Err(format!("must be after {start_field}"));
    }
    Ok(())
}

type Instance = (String, String, Option<serde_json::Value>, Option<serde_json::Value>);

#[derive(Deserialize)]
struct InstanceData<'a> {
    #[serde(rename = "Microsoft.Resources", borrow)]
    resources: Option<Resources<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resources<'a> {
    #[serde(default, borrow, deserialize_with = "text")]
    resource_uri: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    location: Option<Cow<'a, str>>,
    tags: Option<serde_json::Value>,
    additional_info: Option<serde_json::Value>,
}

/// `instanceData` is a JSON-encoded string: `{"Microsoft.Resources":{"resourceUri":…,"location":…,…}}`.
fn instance(text: Option<&str>) -> Result<Instance, String> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok((String::new(), String::new(), None, None));
    };
    // The usual shape, read straight into its fields; anything else (other types, duplicate keys) the general way.
    if let Ok(InstanceData { resources }) = serde_json::from_str::<InstanceData>(text) {
        let r = resources.unwrap_or_default();
        let text = |v: Option<Cow<str>>| v.map(Cow::into_owned).unwrap_or_default();
        return Ok((text(r.resource_uri), text(r.location), r.tags, r.additional_info));
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not a JSON string: {e}"))?;
    let r = v.get("Microsoft.Resources").cloned().unwrap_or(serde_json::Value::Null);
    let s = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
    let o = |k: &str| r.get(k).filter(|x| !x.is_null()).cloned();
    Ok((s("resourceUri"), s("location"), o("tags"), o("additionalInfo")))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
