//! The stack page's collector section: its state (last success, last error) and, for partner admins, its settings.
use leptos::prelude::*;

use super::forms::{CollectorFields, CollectorForm};
use super::{AuthKind, CollectorStatus};
use crate::domain::when::minute;

const F: CollectorFields = CollectorForm::FIELDS;

/// State and settings form.
#[component]
pub fn CollectorPanel(status: Option<CollectorStatus>, can_write: bool, action: String) -> impl IntoView {
    let state = match &status {
        None => view! { <p class="empty">"No collector. With the stack's admin ARM endpoint and credentials, Stackbill reads its usage API every hour itself."</p> }.into_any(),
        Some(c) => {
            let c = c.clone();
            let error_class = if c.last_error.is_some() { "warn" } else { "" };
            view! {
                <dl class="facts" data-testid="collector-state">
                    <dt>"Endpoint"</dt><dd class="mono">{c.endpoint}</dd>
                    <dt>"Status"</dt><dd>{if c.enabled { "on, hourly" } else { "off" }}</dd>
                    <dt>"Read up to (reported time, UTC)"</dt><dd>{minute(c.watermark)}</dd>
                    <dt>"Next run (UTC)"</dt><dd>{minute(c.next_run_at)}</dd>
                    <dt>"Last success (UTC)"</dt><dd>{c.last_success_at.map_or_else(|| "never".into(), minute)} " " {c.last_summary}</dd>
                    <dt>"Last error (UTC)"</dt>
                    <dd class=error_class>
                        {match (c.last_error_at, c.last_error) {
                            (Some(at), Some(e)) => format!("{}: {e}", minute(at)),
                            _ => "none".to_string(),
                        }}
                    </dd>
                </dl>
            }
            .into_any()
        }
    };
    let s = status.clone();
    let get = move |f: fn(&CollectorStatus) -> Option<String>| s.as_ref().and_then(f).unwrap_or_default();
    let endpoint = get(|c| Some(c.endpoint.clone()));
    let sub = get(|c| Some(c.provider_subscription_id.to_string()));
    let bearer = status.as_ref().is_some_and(|c| c.auth_kind == AuthKind::Bearer);
    let client_id = get(|c| c.client_id.clone());
    let token_url = get(|c| c.token_url.clone());
    let scope = get(|c| c.scope.clone());
    let enabled = status.as_ref().is_none_or(|c| c.enabled);
    let keep = if status.is_some() { "Leave empty to keep the stored one." } else { "" };
    view! {
        {state}
        {can_write.then(|| view! {
            <details open=status.is_none()>
                <summary>{if status.is_some() { "Change the collector" } else { "Set up a collector" }}</summary>
                <form method="post" action=action class="stacked" aria-label="Collector settings">
                    <label>"Admin ARM endpoint" <input name=F.endpoint value=endpoint placeholder="https://adminmanagement.local.azurestack.external"/></label>
                    <label>"Provider subscription ID" <input name=F.provider_subscription value=sub placeholder="the default provider subscription's GUID"/></label>
                    <label>"Sign in with"
                        <select name=F.auth_kind>
                            <option value=AuthKind::ClientCredentials.as_str() selected=!bearer>"Entra ID / AD FS client credentials"</option>
                            <option value=AuthKind::Bearer.as_str() selected=bearer>"A bearer token"</option>
                        </select>
                    </label>
                    <label>"Token endpoint" <input name=F.token_url value=token_url placeholder="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"/></label>
                    <label>"Application (client) ID" <input name=F.client_id value=client_id/></label>
                    <label>"Client secret" <span class="hint">{keep}</span> <input type="password" name=F.client_secret autocomplete="off"/></label>
                    <label>"Scope" <input name=F.scope value=scope placeholder="https://adminmanagement.local.azurestack.external/.default"/></label>
                    <label>"…or bearer token" <span class="hint">{keep}</span> <input type="password" name=F.bearer_token autocomplete="off"/></label>
                    <label>"Collect usage reported since (UTC day)" <span class="hint">"Empty: 7 days back for a new collector, unchanged otherwise."</span> <input type="date" name=F.collect_from/></label>
                    <label class="check"><input type="checkbox" name=F.enabled value="on" checked=enabled/> " Collect every hour"</label>
                    <div><button type="submit" class="primary">"Save collector"</button></div>
                </form>
            </details>
        })}
    }
}
