//! Reading a stack's list of user subscriptions: the admin API's own shape (`{"value":[{"subscriptionId",
//! "tenantId","displayName","offerId","state",…}]}`, as `Get-AzsUserSubscription` returns it) or a bare array.
//! Every problem is reported by index and field; one bad entry refuses the list.
use serde_json::Value;
use uuid::Uuid;

use crate::usage::parse::RecordError;

/// Entries per list at most.
pub const MAX_SUBSCRIPTIONS: usize = 100_000;

/// One valid local subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSubscription {
    /// Subscription ID on the stack.
    pub subscription_id: Uuid,
    /// Owner directory tenant.
    pub owner_tenant_id: Uuid,
    /// The subscription's name as the stack lists it.
    pub display_name: String,
    /// Offer (name or ID as sent; the admin API gives an offer resource ID).
    pub offer_name: String,
    /// State, e.g. `Enabled`.
    pub state: String,
}

fn page_error(message: String) -> Vec<RecordError> {
    vec![RecordError { index: None, line: None, field: "value".into(), message }]
}

/// Parses a list; `Err` lists every problem (at most 100).
pub fn parse_list(body: &str) -> Result<Vec<LocalSubscription>, Vec<RecordError>> {
    let v: Value = serde_json::from_str(body).map_err(|e| page_error(format!("not JSON: {e}")))?;
    let items = match v {
        Value::Array(items) => items,
        Value::Object(mut o) => match o.remove("value") {
            Some(Value::Array(items)) => items,
            _ => return Err(page_error("expected {\"value\":[…]} or an array of subscriptions".into())),
        },
        _ => return Err(page_error("expected {\"value\":[…]} or an array of subscriptions".into())),
    };
    if items.len() > MAX_SUBSCRIPTIONS {
        return Err(page_error(format!("{} subscriptions; send at most {MAX_SUBSCRIPTIONS}", items.len())));
    }
    let (mut out, mut errors) = (Vec::with_capacity(items.len()), Vec::new());
    for (i, item) in items.iter().enumerate() {
        match entry(i, item) {
            Ok(s) => out.push(s),
            Err(mut e) => errors.append(&mut e),
        }
        if errors.len() >= 100 {
            break;
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn entry(i: usize, item: &Value) -> Result<LocalSubscription, Vec<RecordError>> {
    let err = |field: &str, message: String| RecordError { index: Some(i), line: None, field: field.into(), message };
    // The admin API nests nothing, but ARM list responses sometimes wrap fields in `properties`.
    let obj = item.get("properties").filter(|p| p.is_object()).unwrap_or(item);
    if !obj.is_object() {
        return Err(vec![err("", "not an object".into())]);
    }
    let text = |keys: &[&str]| keys.iter().find_map(|k| obj.get(*k).and_then(Value::as_str)).map(str::trim);
    let mut errors = Vec::new();
    let mut guid = |field: &str, keys: &[&str]| match text(keys) {
        Some(s) => Uuid::parse_str(s).map_err(|_| errors.push(err(field, format!("“{s}” is not a GUID")))).ok(),
        None => {
            errors.push(err(field, "missing".into()));
            None
        }
    };
    let sub = guid("subscriptionId", &["subscriptionId"]);
    let tenant = guid("tenantId", &["tenantId", "ownerTenantId"]);
    let display_name = text(&["displayName"]).unwrap_or_default().to_string();
    let offer_name = text(&["offerName", "offer", "offerId"]).unwrap_or_default().to_string();
    let state = text(&["state"]).filter(|s| !s.is_empty()).unwrap_or("Enabled").to_string();
    if display_name.chars().count() > 200 {
        errors.push(err("displayName", "longer than 200 characters".into()));
    }
    match (sub, tenant) {
        (Some(subscription_id), Some(owner_tenant_id)) if errors.is_empty() => {
            Ok(LocalSubscription { subscription_id, owner_tenant_id, display_name, offer_name, state })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_api_shape_and_a_bare_array_both_read() {
        let body = r#"{"value":[{"subscriptionId":"10CA0000-0000-4000-8000-000000000101","tenantId":"7e1a0000-0000-4000-8000-000000000001",
            "displayName":"Dev","offerId":"/delegatedProviders/default/offers/basic","state":"Enabled","owner":"a@contoso.com"}]}"#;
        let list = parse_list(body).unwrap();
        assert_eq!(list[0].subscription_id.to_string(), "10ca0000-0000-4000-8000-000000000101");
        assert_eq!(list[0].offer_name, "/delegatedProviders/default/offers/basic");
        let bare = r#"[{"subscriptionId":"10ca0000-0000-4000-8000-000000000101","tenantId":"7e1a0000-0000-4000-8000-000000000001"}]"#;
        assert_eq!(parse_list(bare).unwrap()[0].state, "Enabled");
    }

    #[test]
    fn bad_entries_are_named_by_index_and_field() {
        let body = r#"[{"subscriptionId":"x","tenantId":"7e1a0000-0000-4000-8000-000000000001"},
                      {"subscriptionId":"10ca0000-0000-4000-8000-000000000101","tenantId":"7e1a0000-0000-4000-8000-000000000001"},
                      {"subscriptionId":"10ca0000-0000-4000-8000-000000000102"}]"#;
        let errors = parse_list(body).unwrap_err();
        let named: Vec<_> = errors.iter().map(|e| (e.index, e.field.as_str())).collect();
        assert_eq!(named, vec![(Some(0), "subscriptionId"), (Some(2), "tenantId")]);
        assert!(parse_list("{\"nope\":1}").unwrap_err()[0].message.contains("expected"));
    }
}
