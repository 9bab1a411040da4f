use rust_decimal::Decimal;
use std::str::FromStr;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use time::OffsetDateTime;

const SUB: &str = "10ca0000-0000-4000-8000-000000000101";
const METER: &str = "FAB6EB84-500B-4A09-A8CA-7358F8BBAEA5";
const HEADER: &str = r#""UsageStartTime","UsageEndTime","MeterName","Quantity","resourceType","location","resourceGroup","resourceName","subowner","tags","MeterId","additionalInfo","subscription","resourceUri""#;

fn uri(sub: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1")
}

/// A row as Export-Csv writes it, in the script's column order.
fn row(start: &str, end: &str, quantity: &str, meter: &str, sub: &str) -> String {
    format!(
        r#""{start}","{end}","Base VM Size Hours","{quantity}","virtualMachines","local","rg1","vm1","owner@contoso.onmicrosoft.com","","{meter}","","{sub}","{}""#,
        uri(sub)
    )
}

fn csv(rows: &[String]) -> String {
    let mut text = HEADER.to_string();
    for r in rows {
        text.push_str("\r\n");
        text.push_str(r);
    }
    text.push_str("\r\n");
    text
}

fn read(text: &str) -> Vec<Result<UsageRecord, Vec<RecordError>>> {
    UsageSummaryReader::new(text.as_bytes()).expect("header").collect()
}

fn one(text: &str) -> UsageRecord {
    let mut rows = read(text);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.remove(0).expect("a valid row")
}

fn errors(text: &str) -> Vec<RecordError> {
    read(text).into_iter().filter_map(Result::err).flatten().collect()
}

fn start_of(date: &str) -> Result<OffsetDateTime, String> {
    date_time(date)
}

#[test]
fn a_script_export_reads_into_the_same_record_as_a_usage_page() {
    let r = one(&csv(&[row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "2.4000000000123456789", METER, SUB)]));
    assert_eq!(r.local_subscription_id, Uuid::parse_str(SUB).unwrap());
    assert_eq!(r.meter_id, Uuid::parse_str("fab6eb84500b4a09a8ca7358f8bbaea5").unwrap());
    assert_eq!(r.start, datetime!(2017-09-06 00:00 UTC));
    assert_eq!(r.end, datetime!(2017-09-07 00:00 UTC));
    assert_eq!(r.quantity.to_string(), "2.4000000000123456789");
    assert_eq!(r.resource_uri, uri(SUB));
    assert_eq!(r.location, "local");
    assert_eq!((r.tags, r.additional_info), (None, None));
}

#[test]
fn the_meter_id_is_read_in_any_case_with_or_without_dashes() {
    for meter in [METER, "fab6eb84-500b-4a09-a8ca-7358f8bbaea5", "FAB6EB84500B4A09A8CA7358F8BBAEA5"] {
        let r = one(&csv(&[row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "1", meter, SUB)]));
        assert_eq!(r.meter_id, Uuid::parse_str(METER).unwrap(), "{meter}");
    }
}

#[test]
fn every_accepted_date_format_reads_as_the_same_utc_instant() {
    let six_am = datetime!(2017-09-06 06:30:15 UTC);
    for text in [
        "2017-09-06T06:30:15Z",
        "2017-09-06T08:30:15+02:00",
        "2017-09-06T01:30:15-0500",
        "2017-09-06 06:30:15Z",
        "2017-09-06T06:30:15",
        "2017-09-06 06:30:15",
        "9/6/2017 6:30:15 AM",
        "09/06/2017 06:30:15 am",
        "9/6/2017\u{202F}6:30:15\u{202F}AM",
        "6/9/2017 06:30:15",
        "06/09/2017 06:30:15",
        "06.09.2017 06:30:15",
        "6.9.2017 06:30:15",
        "2017/09/06 6:30:15",
    ] {
        assert_eq!(start_of(text), Ok(six_am), "{text}");
    }
    assert_eq!(start_of("2017-09-06T06:30:15.1234567"), Ok(six_am + time::Duration::nanoseconds(123_456_700)));
    assert_eq!(start_of("9/6/2017 6:30 PM"), Ok(datetime!(2017-09-06 18:30 UTC)));
}

#[test]
fn twelve_am_is_midnight_and_twelve_pm_is_noon() {
    assert_eq!(start_of("9/6/2017 12:00:00 AM"), Ok(datetime!(2017-09-06 00:00 UTC)));
    assert_eq!(start_of("9/6/2017 12:00:00 PM"), Ok(datetime!(2017-09-06 12:00 UTC)));
    assert_eq!(start_of("9/6/2017 11:59:59 PM"), Ok(datetime!(2017-09-06 23:59:59 UTC)));
}

#[test]
fn slash_dates_are_month_first_only_with_am_pm() {
    // 13 can only be a day: month-first with AM/PM, day-first without.
    assert_eq!(start_of("9/13/2017 1:00:00 AM"), Ok(datetime!(2017-09-13 01:00 UTC)));
    assert_eq!(start_of("13/9/2017 01:00:00"), Ok(datetime!(2017-09-13 01:00 UTC)));
    assert!(start_of("13/9/2017 1:00:00 AM").is_err());
    assert!(start_of("9/13/2017 01:00:00").is_err());
}

#[test]
fn impossible_or_unknown_dates_are_refused_with_the_accepted_formats() {
    for text in [
        "",
        "yesterday",
        "2017-02-30T00:00:00Z",
        "2017-09-06T24:00:00",
        "9/6/2017 0:00:00 AM",
        "9/6/2017 13:00:00 PM",
        "9/6/17 12:00:00 AM",
        "06.09.2017 06:30:15 PM",
        "2017-09-06",
        "2017-09-06T00:00:00+2:00",
        "2017-09-06T00:00:00+020",
        "2017-09-06T00:00:00 trailing",
        "Wednesday, September 6, 2017 12:00:00 AM",
    ] {
        let message = start_of(text).unwrap_err();
        assert!(message.contains(&format!("“{text}”")) && message.contains("9/6/2017 12:00:00 AM"), "{message}");
    }
}

#[test]
fn the_edge_of_the_calendar_is_refused_not_a_panic() {
    assert!(start_of("9999-12-31T23:59:59-01:00").is_err());
    assert!(start_of("9999-12-31 23:59:59-01:00").is_err());
    assert_eq!(start_of("9999-12-31T23:59:59Z"), Ok(datetime!(9999-12-31 23:59:59 UTC)));
}

#[test]
fn quantities_are_exact_and_a_decimal_comma_is_read() {
    let q = |text: &str| one(&csv(&[row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", text, METER, SUB)])).quantity;
    assert_eq!(q("2.4000000000123456789"), Decimal::from_str("2.4000000000123456789").unwrap());
    assert_eq!(q("2,4000000000123456789"), Decimal::from_str("2.4000000000123456789").unwrap());
    assert_eq!(q("1.5E-05"), Decimal::from_str("0.000015").unwrap());
    assert_eq!(q("1,5E-05"), Decimal::from_str("0.000015").unwrap());
    assert_eq!(q("0"), Decimal::ZERO);
}

#[test]
fn bad_quantities_are_named_by_line_column_and_value() {
    let rows: Vec<String> = ["1", "-0.5", "1,234.5", "1,2,3", "lots"]
        .iter()
        .map(|q| row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", q, METER, SUB))
        .collect();
    let found: Vec<(Option<usize>, Option<u64>, String, String)> =
        errors(&csv(&rows)).into_iter().map(|e| (e.index, e.line, e.field, e.message)).collect();
    assert_eq!(
        found,
        [
            (Some(1), Some(3), "Quantity".into(), "“-0.5” is negative".into()),
            (Some(2), Some(4), "Quantity".into(), "“1,234.5” is not a decimal number".into()),
            (Some(3), Some(5), "Quantity".into(), "“1,2,3” is not a decimal number".into()),
            (Some(4), Some(6), "Quantity".into(), "“lots” is not a decimal number".into()),
        ]
    );
}

#[test]
fn every_problem_in_a_row_is_named_by_line_and_column_and_good_rows_still_read() {
    let text = csv(&[
        row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "1", METER, SUB),
        row("31/31/2017 00:00:00", "2017-09-07T00:00:00Z", "1", "not-a-meter", "nope"),
        row("2017-09-07T00:00:00Z", "2017-09-06T00:00:00Z", "", METER, SUB),
        row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "3", METER, SUB),
    ]);
    let rows = read(&text);
    assert_eq!(rows.len(), 4);
    assert!(rows[0].is_ok() && rows[3].is_ok());
    let found: Vec<(Option<usize>, Option<u64>, &str)> =
        rows.iter().filter_map(|r| r.as_ref().err()).flatten().map(|e| (e.index, e.line, e.field.as_str())).collect();
    assert_eq!(
        found,
        [
            (Some(1), Some(3), "UsageStartTime"),
            (Some(1), Some(3), "MeterId"),
            (Some(1), Some(3), "subscription"),
            (Some(2), Some(4), "UsageEndTime"),
            (Some(2), Some(4), "Quantity"),
        ]
    );
    let bad_row = rows[1].as_ref().unwrap_err();
    assert!(bad_row[0].message.contains("“31/31/2017 00:00:00”") && bad_row[0].message.contains("accepted"));
    assert_eq!(bad_row[1].message, "“not-a-meter” is not a GUID");
    assert_eq!(bad_row[2].message, "“nope” is not a GUID");
    let inverted = rows[2].as_ref().unwrap_err();
    assert_eq!(inverted[0].message, "must be after UsageStartTime");
    assert_eq!(inverted[1].message, "missing (empty)");
}

#[test]
fn a_byte_order_mark_and_a_type_line_are_skipped() {
    let plain = csv(&[row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "1", METER, SUB)]);
    let with_bom = format!("\u{FEFF}{plain}");
    assert_eq!(one(&with_bom), one(&plain));
    let typed = format!("\u{FEFF}#TYPE System.Management.Automation.PSCustomObject\r\n{plain}");
    assert_eq!(one(&typed), one(&plain));
    let bad = format!("{}\r\n", row("soon", "2017-09-07T00:00:00Z", "1", METER, SUB));
    let e = errors(&format!("#TYPE System.Management.Automation.PSCustomObject\r\n{HEADER}\r\n{bad}"));
    assert_eq!((e[0].index, e[0].line, e[0].field.as_str()), (Some(0), Some(3), "UsageStartTime"));
}

#[test]
fn line_numbers_count_every_line_whatever_the_line_endings() {
    let good = row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "1", METER, SUB);
    let bad = row("soon", "2017-09-07T00:00:00Z", "1", METER, SUB);
    for nl in ["\r\n", "\n", "\r"] {
        let multi_line = good.replace("onmicrosoft.com\",\"\"", &format!("onmicrosoft.com\",\"@{{a=b;{nl}c=d}}\""));
        // Blank line 3; the row on lines 5–6 holds a newline in its tags; no newline at the end.
        let text = format!("{HEADER}{nl}{good}{nl}{nl}{bad}{nl}{multi_line}{nl}{bad}");
        let rows = read(&text);
        let found: Vec<(usize, Option<usize>, Option<u64>)> =
            rows.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e[0].index, e[0].line))).collect();
        assert_eq!(found, [(1, Some(1), Some(4)), (3, Some(3), Some(7))], "{nl:?}");
        let tags = rows[2].as_ref().unwrap().tags.clone();
        assert_eq!(tags, Some(serde_json::Value::String("@{a=b;\nc=d}".into())), "{nl:?}");
    }
}

#[test]
fn columns_are_found_by_name_in_any_order_and_case() {
    let text = format!(
        "\"  resourceuri \",\"QUANTITY\",\"subscription\",\"meterid\",\"usageendtime\",\"usagestarttime\",\"Tags\",\"AdditionalInfo\"\n\
         \"{}\",\"7.25\",\"{SUB}\",\"{METER}\",\"9/7/2017 12:00:00 AM\",\"9/6/2017 12:00:00 AM\",\"@{{env=prod}}\",\"@{{ServiceType=Standard_A1}}\"\n",
        uri(SUB)
    );
    let r = one(&text);
    assert_eq!(r.quantity, Decimal::from_str("7.25").unwrap());
    assert_eq!((r.start, r.end), (datetime!(2017-09-06 00:00 UTC), datetime!(2017-09-07 00:00 UTC)));
    assert_eq!(r.resource_uri, uri(SUB));
    assert_eq!(r.location, "", "location is optional");
    assert_eq!(r.tags, Some(serde_json::Value::String("@{env=prod}".into())));
    assert_eq!(r.additional_info, Some(serde_json::Value::String("@{ServiceType=Standard_A1}".into())));
    let e = errors(&text.replace("\"7.25\"", "\"x\""));
    assert_eq!((e[0].line, e[0].field.as_str()), (Some(2), "QUANTITY"), "errors quote the header as written");
}

#[test]
fn a_semicolon_export_reads_like_a_comma_one() {
    let plain = csv(&[row("06.09.2017 00:00:00", "07.09.2017 00:00:00", "0,5", METER, SUB)]);
    let semicolons = plain.replace("\",\"", "\";\"");
    assert_eq!(one(&semicolons), one(&plain));
    assert_eq!(one(&semicolons).quantity, Decimal::from_str("0.5").unwrap());
}

#[test]
fn missing_columns_are_all_named_on_the_header_line() {
    let text = HEADER.replace("\"Quantity\",", "").replace(",\"resourceUri\"", "") + "\r\n";
    let e = UsageSummaryReader::new(text.as_bytes()).err().expect("refused");
    assert_eq!((e.index, e.line, e.field.as_str()), (None, Some(1), "Quantity, resourceUri"));
    assert!(e.message.contains("missing required column(s) Quantity, resourceUri"), "{}", e.message);

    let e = UsageSummaryReader::new(&b""[..]).err().expect("an empty file is refused");
    assert_eq!(e.line, Some(1));
    assert!(e.field.contains("UsageStartTime"));
}

#[test]
fn a_column_given_twice_is_refused() {
    let text = format!("{HEADER},\"quantity\"\r\n");
    let e = UsageSummaryReader::new(text.as_bytes()).err().expect("refused");
    assert_eq!((e.line, e.field.as_str()), (Some(1), "Quantity"));
}

#[test]
fn utf16_is_refused_with_a_hint() {
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(HEADER.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let e = UsageSummaryReader::new(&utf16[..]).err().expect("refused");
    assert!(e.message.contains("UTF-16") && e.message.contains("-Encoding UTF8"), "{}", e.message);
}

#[test]
fn a_short_row_and_non_utf8_text_are_named_and_reading_goes_on() {
    let good = row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "1", METER, SUB);
    let text = csv(&[
        good.clone(),
        "\"2017-09-06T00:00:00Z\",\"1\"".into(),
        good.replace("virtualMachines/vm1", "virtualMachines/vm\u{e9}"),
        good.replace("owner@", "\u{f6}wner@"),
    ]);
    // Windows PowerShell's `-Encoding Default` writes Windows-1252, where é and ö are one byte each.
    let bytes: Vec<u8> = text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
    let rows: Vec<_> = UsageSummaryReader::new(&bytes[..]).unwrap().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].is_ok());
    let short = &rows[1].as_ref().unwrap_err()[0];
    assert_eq!((short.index, short.line, short.field.as_str()), (Some(1), Some(3), "row"));
    assert_eq!(short.message, "has 2 fields; the header has 14");
    let latin = &rows[2].as_ref().unwrap_err()[0];
    assert_eq!((latin.index, latin.line, latin.field.as_str()), (Some(2), Some(4), "resourceUri"));
    assert!(rows[3].is_ok(), "an unread column may hold anything: {:?}", rows[3]);
}

#[test]
fn a_failing_stream_is_reported_once() {
    struct Broken(Vec<u8>);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("connection reset"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }
    let head = format!("{HEADER}\r\n{}\r\n", row("2017-09-06T00:00:00Z", "2017-09-07T00:00:00Z", "1", METER, SUB));
    let rows: Vec<_> = UsageSummaryReader::new(Broken(head.into_bytes())).unwrap().take(10).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].is_ok());
    let e = &rows[1].as_ref().unwrap_err()[0];
    assert_eq!((e.index, e.field.as_str()), (None, "file"));
    assert!(e.message.contains("connection reset"), "{}", e.message);
}

#[test]
fn json_is_told_apart_from_csv() {
    assert!(looks_like_json(b"{\"value\":[]}"));
    assert!(looks_like_json(b"\xEF\xBB\xBF \r\n\t{"));
    assert!(looks_like_json(b"[{\"subscriptionId\":"), "a bare array (a subscription list) is JSON too");
    assert!(!looks_like_json(HEADER.as_bytes()));
    assert!(!looks_like_json(b"\xEF\xBB\xBF\"UsageStartTime\""));
    assert!(!looks_like_json(b""));
    assert!(!looks_like_json(b"   "));
}
