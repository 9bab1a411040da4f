//! The stack page's usage section: what has arrived, and the upload form for usage files.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::when::minute;

/// What the stack page says about the usage received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageStatus {
    /// The latest usage hour seen (UTC), if any.
    pub latest_usage_hour: Option<time::OffsetDateTime>,
    /// When usage last arrived (UTC), and how.
    pub last_arrival: Option<(time::OffsetDateTime, String)>,
}

/// Status and upload form (multipart; several files at once, each stored whole or refused whole).
#[component]
pub fn UsagePanel(status: UsageStatus, can_write: bool, action: String) -> impl IntoView {
    view! {
        <dl class="facts" data-testid="usage-state">
            <dt>"Latest usage hour (UTC)"</dt><dd>{status.latest_usage_hour.map_or_else(|| "none yet".into(), minute)}</dd>
            <dt>"Last arrival (UTC)"</dt><dd>{status.last_arrival.map_or_else(|| "never".into(), |(at, by)| format!("{} by {by}", minute(at)))}</dd>
        </dl>
        {can_write.then(|| view! {
            <form method="post" action=action enctype="multipart/form-data" class="inline" aria-label="Upload usage files">
                <label>
                    "Usage files "
                    <span class="hint">"Usage API JSON pages, the CSV of AzureStack-Tools' Usagesummary script, or the stack's subscription list (JSON). Each file is stored whole or refused whole."</span>
                    <input type="file" name=super::forms::UPLOAD_FIELDS.files multiple required accept=".json,.csv,application/json,text/csv"/>
                </label>
                " " <label>
                    "Reported hour (UTC, optional) "
                    <span class="hint">"When the files are one reported hour's query of the usage API, its start: their usage then adds to what other reported hours brought. Empty: the files hold totals that replace."</span>
                    <input type="datetime-local" name=super::forms::UPLOAD_FIELDS.reported_hour step="3600"/>
                </label>
                " " <button type="submit">"Upload"</button>
            </form>
        })}
    }
}
