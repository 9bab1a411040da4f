use super::*;

fn page(records: &[String]) -> String {
    format!("{{\"value\":[{}]}}", records.join(","))
}

fn rec(sub: &str, meter: &str, start: &str, end: &str, qty: &str) -> String {
    format!(
        r#"{{"id":"x","name":"y","type":"Microsoft.Commerce/UsageAggregate","properties":{{"subscriptionId":"{sub}","usageStartTime":"{start}","usageEndTime":"{end}","instanceData":"{{\"Microsoft.Resources\":{{\"resourceUri\":\"/subscriptions/s/rg/vm1\",\"location\":\"local\",\"tags\":null,\"additionalInfo\":null}}}}","quantity":{qty},"meterId":"{meter}"}}}}"#
    )
}

const SUB: &str = "10ca0000-0000-4000-8000-000000000101";
const METER: &str = "FAB6EB84500B4A09A8CA7358F8BBAEA5";

#[test]
fn the_documented_shape_parses_with_exact_quantities_and_any_meter_spelling() {
    let body =
        page(&[rec(SUB, METER, "2015-03-03T00:00:00+00:00", "2015-03-04T00:00:00+00:00", "2.4000000000123456789")]);
    let r = parse_page(&body).unwrap();
    assert_eq!(r[0].quantity.to_string(), "2.4000000000123456789");
    assert_eq!(r[0].meter_id, Uuid::parse_str("fab6eb84-500b-4a09-a8ca-7358f8bbaea5").unwrap());
    assert_eq!(r[0].resource_uri, "/subscriptions/s/rg/vm1");
}

#[test]
fn every_bad_record_is_named_by_index_and_field() {
    let body = page(&[
        rec(SUB, METER, "2015-03-03T00:00:00Z", "2015-03-03T01:00:00Z", "1"),
        rec("nope", METER, "2015-03-03T00:00:00Z", "2015-03-03T01:00:00Z", "-1"),
        rec(SUB, METER, "2015-03-03T02:00:00Z", "2015-03-03T01:00:00Z", "1"),
    ]);
    let errors = parse_page(&body).unwrap_err();
    let places: Vec<(Option<usize>, &str)> = errors.iter().map(|e| (e.index, e.field.as_str())).collect();
    assert_eq!(
        places,
        [
            (Some(1), "properties.subscriptionId"),
            (Some(1), "properties.quantity"),
            (Some(2), "properties.usageEndTime")
        ]
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    for body in [
        "",
        "{",
        "[]",
        "{\"value\":1}",
        "{\"value\":[1,null,{}]}",
        "{\"value\":[{\"properties\":{\"quantity\":\"x\"}}]}",
    ] {
        assert!(parse_page(body).is_err(), "{body}");
    }
    let mut seed: u64 = 42;
    for _ in 0..2000 {
        let len = (seed % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                b"{}[]\":,0123456789.-eE valuepropertiesquantity\\"[(seed >> 33) as usize % 44]
            })
            .collect();
        let _ = parse_page(&String::from_utf8_lossy(&bytes));
    }
}

/// `instanceData` in the usual shape and in others (read the general way): the same fields either way, and strings
/// with escapes read whole.
#[test]
fn instance_data_of_every_shape_gives_its_resource_fields() {
    let cases = [
        (
            r#"{"Microsoft.Resources":{"resourceUri":"/s/vm\"1","location":"local","tags":{"a":"b"},"additionalInfo":null}}"#,
            ("/s/vm\"1", "local", Some(serde_json::json!({"a":"b"})), None),
        ),
        (r#"{"Microsoft.Resources":{"resourceUri":7,"location":"local"}}"#, ("", "local", None, None)),
        (r#"{"Microsoft.Resources":{"resourceUri":"/a","resourceUri":"/b"}}"#, ("/b", "", None, None)),
        (r#"{"Microsoft.Resources":"not an object"}"#, ("", "", None, None)),
        (r#"{"Other":{"resourceUri":"/a"}}"#, ("", "", None, None)),
        ("42", ("", "", None, None)),
    ];
    for (text, (uri, location, tags, info)) in cases {
        let got = instance(Some(text)).unwrap();
        assert_eq!(got, (uri.to_string(), location.to_string(), tags, info), "{text}");
    }
    assert!(instance(Some("{not json")).is_err());
}
