//! Properties of the two usage readers over generated input: neither panics on anything, errors point at records that
//! exist, and well-formed input reads back exactly.
use std::str::FromStr;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::parse::{parse_page, RecordError};
use super::usagesummary::UsageSummaryReader;

/// Modest so the whole suite stays a few seconds; no regression files, since this suite must not write into `src/`.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

const KEYS: &[&str] = &[
    "value",
    "id",
    "properties",
    "subscriptionId",
    "usageStartTime",
    "usageEndTime",
    "quantity",
    "meterId",
    "instanceData",
    "Microsoft.Resources",
    "resourceUri",
    "location",
    "tags",
    "additionalInfo",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(KEYS).prop_map(String::from), 1 => "[a-zA-Z.]{0,8}"]
}

/// Strings that come near what the parser looks for, so generated records get past the first check now and then.
fn near_miss_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u128>().prop_map(|n| Uuid::from_u128(n).to_string()),
        "[0-9a-fA-F-]{0,40}",
        "(19|20|99)[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](Z|[+-][0-2][0-9]:[0-5][0-9])?",
        "-?[0-9]{0,30}(\\.[0-9]{0,30})?([eE][+-]?[0-9]{1,4})?",
        ".{0,20}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        near_miss_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner.clone()), 0..8).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            // `instanceData` is JSON inside a string.
            inner.prop_map(|v| Value::String(v.to_string())),
        ]
    })
}

/// A time from year 1 to 9998, whole seconds, UTC.
fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (-62_135_596_800i64..253_370_764_800).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap())
}

fn guid_text(id: Uuid, spelling: u8) -> String {
    match spelling % 4 {
        0 => id.hyphenated().to_string(),
        1 => id.hyphenated().to_string().to_uppercase(),
        2 => id.simple().to_string(),
        _ => id.simple().to_string().to_uppercase(),
    }
}

#[derive(Debug, Clone)]
struct Generated {
    sub: Uuid,
    meter: Uuid,
    start: OffsetDateTime,
    end: OffsetDateTime,
    quantity: String,
    spelling: u8,
}

fn generated() -> impl Strategy<Value = Generated> {
    (any::<u128>(), any::<u128>(), 0i64..200_000, 1i64..=24, "(0|[1-9][0-9]{0,14})(\\.[0-9]{1,12})?", any::<u8>())
        .prop_map(|(sub, meter, hour, hours, quantity, spelling)| {
            let start = OffsetDateTime::UNIX_EPOCH + Duration::hours(hour);
            Generated {
                sub: Uuid::from_u128(sub),
                meter: Uuid::from_u128(meter),
                start,
                end: start + Duration::hours(hours),
                quantity,
                spelling,
            }
        })
}

fn page_record(g: &Generated) -> String {
    let rfc = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let instance = json!({"Microsoft.Resources": {
        "resourceUri": format!("/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1", g.sub),
        "location": "local", "tags": null, "additionalInfo": null}})
    .to_string();
    // Built as text: going through `Value` would turn the quantity into an f64, the very loss under test.
    format!(
        r#"{{"properties":{{"subscriptionId":"{}","usageStartTime":"{}","usageEndTime":"{}","instanceData":{},"quantity":{},"meterId":"{}"}}}}"#,
        guid_text(g.sub, g.spelling),
        rfc(g.start),
        rfc(g.end),
        Value::String(instance),
        g.quantity,
        guid_text(g.meter, g.spelling / 4),
    )
}

fn indices_in_range(errors: &[RecordError], records: usize) -> bool {
    errors.iter().all(|e| e.index.is_none_or(|i| i < records))
}

const HEADER: &str = r#""UsageStartTime","UsageEndTime","MeterName","Quantity","resourceType","location","resourceGroup","resourceName","subowner","tags","MeterId","additionalInfo","subscription","resourceUri""#;

/// Reads a whole CSV; every error of row `i` must say `index: Some(i)`.
fn read_all(bytes: &[u8]) -> Result<usize, TestCaseError> {
    let Ok(reader) = UsageSummaryReader::new(bytes) else { return Ok(0) };
    let mut rows = 0;
    for (i, item) in reader.enumerate() {
        if let Err(errors) = item {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| e.index == Some(i)), "row {i}: {errors:?}");
        }
        rows += 1;
    }
    Ok(rows)
}

/// The culture spellings the CSV reader promises to read, for a UTC time.
fn culture_spellings(t: OffsetDateTime) -> Vec<String> {
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, mi, s) = (t.hour(), t.minute(), t.second());
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let ampm = if h < 12 { "AM" } else { "PM" };
    vec![
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        format!("{m}/{d}/{y:04} {h12}:{mi:02}:{s:02} {ampm}"),
        format!("{d:02}/{m:02}/{y:04} {h:02}:{mi:02}:{s:02}"),
        format!("{d}/{m}/{y:04} {h:02}:{mi:02}:{s:02}"),
        format!("{d:02}.{m:02}.{y:04} {h:02}:{mi:02}:{s:02}"),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_page_of_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_page(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn a_page_of_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_page(&text);
    }

    #[test]
    fn a_page_of_json_like_tokens_never_panics(tokens in prop::collection::vec(
        prop::sample::select(&["{", "}", "[", "]", ",", ":", "\"value\"", "\"properties\"", "\"quantity\"", "1e999",
            "-0", "null", "\"", "\\", "0.1", "{\"value\":["][..]), 0..40)) {
        let _ = parse_page(&tokens.concat());
    }

    #[test]
    fn a_page_of_arbitrary_json_never_panics_and_names_only_real_records(
        records in prop::collection::vec(json_value(), 0..12),
    ) {
        let n = records.len();
        let body = json!({ "value": records }).to_string();
        match parse_page(&body) {
            Ok(parsed) => prop_assert_eq!(parsed.len(), n),
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                prop_assert!(indices_in_range(&errors, n), "{errors:?}");
            }
        }
    }

    #[test]
    fn an_arbitrary_quantity_text_never_panics_and_is_read_exactly_when_accepted(
        text in "-?[0-9]{0,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{1,6})?",
        g in generated(),
    ) {
        let body = format!("{{\"value\":[{}]}}", page_record(&Generated { quantity: text.clone(), ..g }));
        if let Ok(records) = parse_page(&body) {
            let exact = Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text));
            prop_assert_eq!(Ok(records[0].quantity), exact);
        }
    }

    #[test]
    fn well_formed_records_read_back_exactly(gs in prop::collection::vec(generated(), 1..20)) {
        let body = format!("{{\"value\":[{}]}}", gs.iter().map(page_record).collect::<Vec<_>>().join(","));
        let records = parse_page(&body).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(records.len(), gs.len());
        for (r, g) in records.iter().zip(&gs) {
            prop_assert_eq!(r.quantity, Decimal::from_str(&g.quantity).unwrap());
            // Same digits and scale, so nothing went through a float on the way.
            prop_assert_eq!(r.quantity.to_string(), g.quantity.clone());
            prop_assert_eq!((r.local_subscription_id, r.meter_id), (g.sub, g.meter));
            prop_assert_eq!((r.start, r.end), (g.start, g.end));
        }
    }

    #[test]
    fn a_csv_of_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        read_all(&bytes)?;
    }

    #[test]
    fn a_csv_with_a_real_header_and_an_arbitrary_body_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..1024),
        bom in any::<bool>(),
    ) {
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(HEADER.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&body);
        read_all(&bytes)?;
    }

    #[test]
    fn a_csv_of_near_miss_fields_never_panics(rows in prop::collection::vec(
        prop::collection::vec(near_miss_text(), 14), 0..8)) {
        let mut text = format!("{HEADER}\r\n");
        for row in &rows {
            let quoted: Vec<String> = row.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            text.push_str(&quoted.join(","));
            text.push_str("\r\n");
        }
        prop_assert_eq!(read_all(text.as_bytes())?, rows.len());
    }

    #[test]
    fn every_culture_spelling_of_a_time_reads_back_as_that_utc_instant(
        start in instant(),
        g in generated(),
        hours in 1i64..=24,
    ) {
        let end = start + Duration::hours(hours);
        for (s, e) in culture_spellings(start).into_iter().zip(culture_spellings(end)) {
            let row = format!(
                "\"{s}\",\"{e}\",\"\",\"{q}\",\"\",\"local\",\"\",\"\",\"\",\"\",\"{meter}\",\"\",\"{sub}\",\"/subscriptions/{sub}\"",
                q = g.quantity,
                meter = guid_text(g.meter, g.spelling),
                sub = g.sub,
            );
            let text = format!("{HEADER}\n{row}\n");
            let mut reader = UsageSummaryReader::new(text.as_bytes()).map_err(|e| TestCaseError::fail(e.message))?;
            let r = reader.next().unwrap().map_err(|e| TestCaseError::fail(format!("{s}: {e:?}")))?;
            prop_assert_eq!((r.start, r.end), (start, end), "{}", s);
            prop_assert_eq!(r.quantity.to_string(), g.quantity.clone());
            prop_assert!(reader.next().is_none());
        }
    }
}
