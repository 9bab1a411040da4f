//! `/settings/partner`: a partner's details as its customer invoices print them (name, address, tax ID, invoice
//! number prefix). A partner's admins change them; its readers see them; operators have no partner of their own
//! (403: they add partners on the operator page).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::details::PartnerDetails;
use super::forms::{DetailsFields, DetailsForm, PARTNER_SETTINGS};
use crate::layout::{field_error, notice};
use crate::web::{Flash, FormId};
use crate::AppError;

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerSettings {
    /// The details as saved.
    pub details: PartnerDetails,
    /// The number the next final bill will get.
    pub next_invoice_number: String,
    /// Whether the viewer may change them.
    pub can_write: bool,
    /// The last save's outcome.
    pub flash: Option<Flash>,
}

/// The caller's partner's details.
#[server]
pub async fn load_partner_settings() -> Result<PartnerSettings, AppError> {
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let partner = scope.partner_filter().ok_or(AppError::Forbidden)?;
    let pool = crate::db::pool()?;
    let details = super::db::details(&pool, partner).await?;
    let issued = super::db::invoices_issued(&pool, partner).await?;
    Ok(PartnerSettings {
        next_invoice_number: details.invoice_number(issued + 1),
        details,
        can_write: user.can_write(),
        flash: session.take_flash().await?,
    })
}

/// `/settings/partner`
#[component]
pub fn PartnerSettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_partner_settings());
    view! {
        <h1>"Partner details"</h1>
        {crate::layout::loaded(data, |s| view! { <Settings s=s/> })}
    }
}

#[component]
fn Settings(s: PartnerSettings) -> impl IntoView {
    const F: DetailsFields = DetailsForm::FIELDS;
    let flash = Flash::of(&s.flash, FormId::PartnerDetails).cloned();
    // After a refusal the form shows what was typed; otherwise what is saved.
    let shown = |field: &str, saved: &str| Flash::typed(&flash, FormId::PartnerDetails, field).unwrap_or(saved.into());
    let d = &s.details;
    let (name, address, tax_id, prefix) = (
        shown(F.name, &d.name),
        shown(F.address, &d.address),
        shown(F.tax_id, &d.tax_id),
        shown(F.invoice_prefix, &d.invoice_prefix),
    );
    view! {
        <p>"Printed on your customer invoices. Invoices already issued keep the number and details they were issued with."</p>
        {notice(&flash, FormId::PartnerDetails)}
        <form method="post" action=PARTNER_SETTINGS.pattern() class="stacked card" aria-label="Partner details">
            <fieldset disabled=!s.can_write>
                <label>"Name" {field_error(&flash, F.name)} <input name=F.name value=name required maxlength="200"/></label>
                <label>"Postal address" {field_error(&flash, F.address)}
                    <textarea name=F.address rows="4" maxlength="500">{address}</textarea></label>
                <label>"Tax ID (VAT, GST…)" {field_error(&flash, F.tax_id)} <input name=F.tax_id value=tax_id maxlength="50"/></label>
                <label>
                    "Invoice number prefix"
                    <span class="hint">{format!("Letters, digits, - or /, at most 12. The next final bill will be {}.", s.next_invoice_number)}</span>
                    {field_error(&flash, F.invoice_prefix)}
                    <input name=F.invoice_prefix value=prefix maxlength="12"/>
                </label>
                {s.can_write.then(|| view! { <div><button type="submit" class="primary">"Save details"</button></div> })}
            </fieldset>
        </form>
    }
}
