//! An audit event told as a history: one sentence ("Adele Admin replaced Tailspin Toys' subscription on
//! contoso-ams-01 from 2 October 2026, 00:00 UTC"), and what changed, field by field, in words: dates as dates,
//! subscriptions and tenants by their customer's name. Written from the event's before and after as logged, so
//! events of every age read the same.
use serde_json::{Map, Value};

use super::AuditRow;
use crate::domain::text::{possessive, short_id};

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The field, in words ("Subscription").
    pub what: String,
    /// Before ("—" when there was none).
    pub before: String,
    /// After ("—" when there is none).
    pub after: String,
}

/// An event in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    /// Who did what to what, and from when.
    pub sentence: String,
    /// The fields that changed.
    pub changes: Vec<Change>,
}

/// The event told (see the module's documentation).
pub fn story(row: &AuditRow) -> Story {
    let told = Telling { row, before: object(&row.before), after: object(&row.after) };
    Story { sentence: told.sentence(), changes: told.changes() }
}

fn object(json: &Option<String>) -> Map<String, Value> {
    match json.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(o))) => o,
        _ => Map::new(),
    }
}

struct Telling<'a> {
    row: &'a AuditRow,
    before: Map<String, Value>,
    after: Map<String, Value>,
}

impl Telling<'_> {
    fn sentence(&self) -> String {
        let who = &self.row.actor_label;
        let stack = self.stack();
        let tenant = || self.customer(self.field("tenant"));
        let from = || self.after.get("validFrom").map(|v| shown("validFrom", v, self.row)).unwrap_or_default();
        match self.row.action.as_str() {
            "mapping.add" => format!("{who} gave {} a subscription on {stack} from {}", tenant(), from()),
            "mapping.replace" => {
                format!("{who} replaced {} subscription on {stack} from {}", possessive(&tenant()), from())
            }
            "mapping.remove" => {
                format!("{who} removed {} subscription on {stack} from {}", possessive(&tenant()), from())
            }
            "registration.set" if self.before.is_empty() => format!("{who} registered {stack}"),
            "registration.set" => format!("{who} changed the registration of {stack}"),
            "stack.add" => format!("{who} added the stack {stack}"),
            "stack.rename" => format!(
                "{who} renamed the stack {} to {}",
                self.text(&self.before, "name"),
                self.text(&self.after, "name")
            ),
            "stack.archive" => format!("{who} archived {stack}"),
            "stack.restore" => format!("{who} restored {stack}"),
            "stack.conflict" => {
                format!("{who} tried to add {}, whose cloud ID is registered elsewhere", self.text(&self.after, "name"))
            }
            "key.create" => format!("{who} created the ingestion key {} for {stack}", self.text(&self.after, "name")),
            "key.revoke" => format!("{who} revoked the ingestion key {} of {stack}", self.text(&self.before, "name")),
            "usage.upload" => format!("{who} uploaded usage to {stack}"),
            "usage.ingest" => format!("{who} sent usage of {stack}"),
            "usage.collect" => format!("{who} collected usage of {stack}"),
            "usage.collect.failed" => format!("{who} could not collect usage of {stack}"),
            "ingest.refused" => format!("{who} sent usage of {stack} that was refused"),
            "subscriptions.sync" => format!("{who} updated the local subscriptions of {stack}"),
            "bill.finalise" => format!("{who} finalised {}", self.bill()),
            "bill.draft" => format!("{who} marked {} as a draft", self.bill()),
            "recon.import" => {
                format!("{who} imported Microsoft's reconciliation file of {}", self.text(&self.after, "period"))
            }
            "prices.import" => format!("{who} imported a price list"),
            "meters.import" => format!("{who} imported a meter map"),
            "partner.update" => format!("{who} changed the partner's details"),
            "markup.set" if self.row.entity_type == "partner" => format!("{who} set the default markup"),
            "markup.set" => format!("{who} set the markup of {}", self.named(&self.row.entity_id)),
            "partner.add" => format!("{who} added the partner {}", self.text(&self.after, "name")),
            "directory.status" => {
                format!("{who} changed the status of subscription {}", self.named(&self.row.entity_id))
            }
            "webhooks.endpoint.add" => format!("{who} added the webhook endpoint {}", self.text(&self.after, "url")),
            "webhooks.endpoint.remove" => {
                format!("{who} removed the webhook endpoint {}", self.text(&self.before, "url"))
            }
            "webhooks.thresholds" => format!("{who} changed the webhook thresholds"),
            other => format!("{who}: {} ({} {})", other.replace('.', " "), self.row.entity_type, stack_or_id(self)),
        }
    }

    fn changes(&self) -> Vec<Change> {
        let mut keys: Vec<&String> = self.before.keys().collect();
        keys.extend(self.after.keys().filter(|k| !self.before.contains_key(*k)));
        keys.into_iter()
            .filter(|k| self.before.get(*k) != self.after.get(*k))
            .map(|k| Change {
                what: label(k),
                before: self.before.get(k).map_or_else(|| "—".into(), |v| shown(k, v, self.row)),
                after: self.after.get(k).map_or_else(|| "—".into(), |v| shown(k, v, self.row)),
            })
            .collect()
    }

    /// The stack, by name when the event is of a stack.
    fn stack(&self) -> String {
        self.row.stack_name.clone().unwrap_or_else(|| format!("stack {}", short_id(&self.row.entity_id)))
    }

    /// "Northwind's bill of October 2026", from a bill's logged ID (`2026-10/<subscription>`).
    fn bill(&self) -> String {
        let (period, sub) = self.row.entity_id.split_once('/').unwrap_or(("", &self.row.entity_id));
        let month = crate::domain::Period::parse(period).map(crate::domain::when::month).unwrap_or_default();
        match self.row.name_of(sub) {
            Some(name) => format!("{} bill of {month}", possessive(name)),
            None => format!("the bill of subscription {} for {month}", short_id(sub)),
        }
    }

    fn field(&self, key: &str) -> String {
        let value = self.after.get(key).or_else(|| self.before.get(key));
        value.and_then(Value::as_str).unwrap_or_default().to_string()
    }

    fn text(&self, side: &Map<String, Value>, key: &str) -> String {
        side.get(key).map(|v| shown(key, v, self.row)).unwrap_or_else(|| "—".into())
    }

    /// A tenant by its customer's name (the ID when the directory does not know it).
    fn customer(&self, id: String) -> String {
        self.row.name_of(&id).map_or_else(|| format!("tenant {}", short_id(&id)), str::to_string)
    }

    fn named(&self, id: &str) -> String {
        named(id, self.row)
    }
}

fn stack_or_id(t: &Telling<'_>) -> String {
    t.row.stack_name.clone().unwrap_or_else(|| short_id(&t.row.entity_id))
}

/// An ID with its customer's name: "Tailspin Toys · 5b5c…0001".
fn named(id: &str, row: &AuditRow) -> String {
    match row.name_of(id) {
        Some(name) => format!("{name} · {}", short_id(id)),
        None => short_id(id),
    }
}

/// A logged field in words: the known ones by name, others from their camelCase key ("customerPrice" reads
/// "Customer price").
fn label(key: &str) -> String {
    let known = match key {
        "tenant" => "Directory tenant",
        "subscription" => "Subscription",
        "validFrom" => "From",
        "defaultSubscription" => "Default subscription",
        "prefix" => "Key prefix",
        "markupPercent" => "Markup",
        "url" => "Address",
        "cloudId" => "Cloud ID",
        "endpoint" => "Admin ARM endpoint",
        "taxId" | "tax_id" => "Tax ID",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let mut words = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        match c {
            '_' => words.push(' '),
            c if c.is_ascii_uppercase() && i > 0 => {
                words.push(' ');
                words.push(c.to_ascii_lowercase());
            }
            c if i == 0 => words.push(c.to_ascii_uppercase()),
            c => words.push(c),
        }
    }
    words
}

/// A logged value in words.
fn shown(key: &str, value: &Value, row: &AuditRow) -> String {
    match (key, value) {
        (_, Value::Null) => "none".into(),
        ("validFrom", Value::Number(n)) => n
            .as_i64()
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .map_or_else(|| n.to_string(), crate::domain::when::long),
        ("subscription" | "defaultSubscription" | "tenant", Value::String(id)) => named(id, row),
        ("markupPercent", v) => format!("{} %", v.as_str().map_or_else(|| v.to_string(), str::to_string)),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Array(items)) => items.iter().map(|v| shown(key, v, row)).collect::<Vec<_>>().join(", "),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "7a1e0000-0000-4000-8000-000000000002";
    const OLD: &str = "5b5c0000-0000-4000-8000-000000000001";
    const NEW: &str = "5b5c0000-0000-4000-8000-000000000009";

    fn row(action: &str, before: Option<Value>, after: Option<Value>) -> AuditRow {
        AuditRow {
            at: time::macros::datetime!(2026-10-02 09:30 UTC),
            actor_label: "Adele Admin".into(),
            action: action.into(),
            entity_type: "stack".into(),
            entity_id: "0f0e0000-0000-4000-8000-000000000003".into(),
            stack_name: Some("contoso-ams-01".into()),
            names: vec![(TENANT.into(), "Tailspin Toys".into()), (NEW.into(), "Tailspin Toys".into())],
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        }
    }

    #[test]
    fn a_replaced_subscription_reads_as_a_sentence_with_a_readable_diff() {
        let r = row(
            "mapping.replace",
            Some(serde_json::json!({"tenant": TENANT, "subscription": OLD, "validFrom": 1_759_276_800})),
            Some(serde_json::json!({"tenant": TENANT, "subscription": NEW, "validFrom": 1_759_363_200})),
        );

        let s = story(&r);

        assert_eq!(
            s.sentence,
            "Adele Admin replaced Tailspin Toys' subscription on contoso-ams-01 from 2 October 2025, 00:00 UTC"
        );
        assert_eq!(
            s.changes,
            [
                Change {
                    what: "Subscription".into(),
                    before: "5b5c…0001".into(),
                    after: "Tailspin Toys · 5b5c…0009".into()
                },
                Change {
                    what: "From".into(),
                    before: "1 October 2025, 00:00 UTC".into(),
                    after: "2 October 2025, 00:00 UTC".into()
                },
            ]
        );
    }

    #[test]
    fn an_addition_lists_what_was_set_and_an_unknown_action_still_reads() {
        let added = story(&row("key.create", None, Some(serde_json::json!({"name": "forwarder", "prefix": "sbk_ab"}))));
        assert_eq!(added.sentence, "Adele Admin created the ingestion key forwarder for contoso-ams-01");
        assert_eq!(added.changes[0], Change { what: "Name".into(), before: "—".into(), after: "forwarder".into() });
        assert_eq!(label("customerPrice"), "Customer price");
        assert_eq!(label("invoice_prefix"), "Invoice prefix");

        let other = story(&row("stack.move", None, None));
        assert_eq!(other.sentence, "Adele Admin: stack move (stack contoso-ams-01)");
        assert!(other.changes.is_empty());
    }
}
