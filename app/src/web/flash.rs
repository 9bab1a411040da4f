//! The outcome of a form post, kept in the session for the one page view after the redirect (post/redirect/get), so
//! the forms work the same with and without JavaScript.
use serde::{Deserialize, Serialize};

/// Which form a message belongs to: the page shows it beside that form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormId {
    /// "Add a stack" on the home page.
    AddStack,
    /// The stack's registration and name.
    Registration,
    /// Adding, replacing or removing a tenant subscription.
    Mapping,
    /// Ingestion keys.
    Keys,
    /// The collector's settings.
    Collector,
    /// Usage file uploads.
    Usage,
    /// The operator page's forms.
    Operator,
    /// Bill status and markups.
    Bills,
    /// Importing Microsoft's reconciliation file.
    Reconciliation,
    /// Webhook endpoints and thresholds.
    Webhooks,
    /// The partner's details (settings).
    PartnerDetails,
}

/// The `id` of a post's outcome on the page it returns to, and the fragment of the redirect there: the browser
/// scrolls to the message and focuses it (it has `tabindex="-1"`), so sighted and screen-reader users meet it at once.
pub const OUTCOME: &str = "outcome";

/// A form post's outcome, shown once at the top of its form (and beside its field when it is one field's fault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// Whether the change was made.
    pub ok: bool,
    /// The form that was posted.
    pub form: FormId,
    /// Plain words; for refusals the rule and the value.
    pub message: String,
    /// The input a refusal belongs to (one of the form's `FIELDS`), when it is one field's fault.
    #[serde(default)]
    pub field: Option<String>,
    /// What the user had typed, by input name, when refused: the form is filled with it again.
    #[serde(default)]
    pub typed: Vec<(String, String)>,
}

impl Flash {
    /// A change that was made.
    pub fn done(form: FormId, message: impl Into<String>) -> Self {
        Self { ok: true, form, message: message.into(), field: None, typed: Vec::new() }
    }

    /// A refusal, beside `field` when it names one.
    pub fn refused(form: FormId, message: impl Into<String>, field: Option<String>) -> Self {
        Self { ok: false, form, message: message.into(), field, typed: Vec::new() }
    }

    /// This message when it belongs to `form`.
    pub fn of(flash: &Option<Self>, form: FormId) -> Option<&Self> {
        flash.as_ref().filter(|f| f.form == form)
    }

    /// What the user typed into `field` of `form` before a refusal (to fill the input with again).
    pub fn typed(flash: &Option<Self>, form: FormId, field: &str) -> Option<String> {
        let refused = Self::of(flash, form).filter(|f| !f.ok)?;
        refused.typed.iter().find(|(name, _)| name == field).map(|(_, value)| value.clone())
    }

    /// The refusal's message when it belongs to the input `field`.
    pub fn for_field<'a>(flash: &'a Option<Self>, field: &str) -> Option<&'a str> {
        flash.as_ref().filter(|f| !f.ok && f.field.as_deref() == Some(field)).map(|f| f.message.as_str())
    }
}
