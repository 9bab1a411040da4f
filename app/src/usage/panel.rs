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
    let upload = Upload { sent: RwSignal::new(None), refused: RwSignal::new(None) };
    let Upload { sent, refused } = upload;
    view! {
        <dl class="facts" data-testid="usage-state">
            <dt>"Latest usage hour (UTC)"</dt><dd>{status.latest_usage_hour.map_or_else(|| "none yet".into(), minute)}</dd>
            <dt>"Last arrival (UTC)"</dt><dd>{status.last_arrival.map_or_else(|| "never".into(), |(at, by)| format!("{} by {by}", minute(at)))}</dd>
        </dl>
        {can_write.then(|| view! {
            <form method="post" action=action enctype="multipart/form-data" class="inline" aria-label="Upload usage files"
                on:submit=move |ev| send_with_progress(ev, upload)>
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
                {move || sent.get().map(|(done, total)| view! {
                    <p role="status" data-testid="upload-progress">
                        <progress max=total value=done></progress>
                        " " {sent_of(done, total)}
                    </p>
                })}
                {move || refused.get().map(|why| view! { <p class="notice error" role="alert">{why}</p> })}
            </form>
        })}
    }
}

/// An upload sent by the page's script: how much has been sent (bytes, of bytes), and why it was refused when the
/// server refused it before it could say so on the page (too large, not allowed).
#[derive(Clone, Copy)]
struct Upload {
    sent: RwSignal<Option<(f64, f64)>>,
    refused: RwSignal<Option<String>>,
}

/// "Sent 3.2 of 10.0 MB (32 %)".
fn sent_of(done: f64, total: f64) -> String {
    let mb = |bytes: f64| bytes / 1_000_000.0;
    let share = if total > 0.0 { done / total * 100.0 } else { 0.0 };
    format!("Sent {:.1} of {:.1} MB ({share:.0} %); the page moves on when the files are stored.", mb(done), mb(total))
}

/// With JavaScript, the files are sent by `XMLHttpRequest`, whose upload events drive the progress bar, and the page
/// then goes where the plain post would have gone. Without JavaScript (or if the request cannot be made) the form
/// posts as usual.
fn send_with_progress(ev: leptos::ev::SubmitEvent, upload: Upload) {
    #[cfg(feature = "hydrate")]
    script::send(ev, upload);
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, upload);
}

#[cfg(feature = "hydrate")]
mod script {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    use crate::usage::forms::{PROGRESS_HEADER, THEN_HEADER};

    pub fn send(ev: leptos::ev::SubmitEvent, upload: super::Upload) {
        let super::Upload { sent, refused } = upload;
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        let (Ok(data), Ok(request)) = (web_sys::FormData::new_with_form(&form), web_sys::XmlHttpRequest::new()) else {
            return;
        };
        let (Ok(()), Ok(()), Ok(upload)) =
            (request.open("POST", &form.action()), request.set_request_header(PROGRESS_HEADER, "1"), request.upload())
        else {
            return;
        };
        ev.prevent_default();
        sent.set(Some((0.0, 0.0)));
        let progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() {
                sent.set(Some((e.loaded(), e.total())));
            }
        });
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        progress.forget();
        let answer = request.clone();
        let done = Closure::<dyn Fn()>::new(move || {
            let location = window().location();
            let here = location.pathname().unwrap_or_default();
            let status = answer.status().unwrap_or_default();
            match answer.get_response_header(THEN_HEADER).ok().flatten() {
                // Another page (assigning this page's own address with a fragment would only scroll).
                Some(then) if !then.starts_with(&format!("{here}#")) => location.assign(&then).ok(),
                // This page, at its outcome.
                Some(_) => location.set_hash(crate::web::flash::OUTCOME).and_then(|()| location.reload()).ok(),
                // Signed out, or the connection broke off: the page as it now is says so.
                None if status == 0 || status == 401 => location.reload().ok(),
                // Refused before the outcome could be kept (too large, not allowed): said here.
                None => {
                    sent.set(None);
                    let text = answer.response_text().ok().flatten().unwrap_or_default();
                    refused.set(Some(format!("The upload was refused ({status}): {}", plain(&text))));
                    None
                }
            };
        });
        request.set_onloadend(Some(done.as_ref().unchecked_ref()));
        done.forget();
        refused.set(None);
        if request.send_with_opt_form_data(Some(&data)).is_err() {
            sent.set(None);
            form.submit().ok();
        }
    }

    /// An answer's words without markup (an error page or a JSON refusal), at most 300 characters.
    fn plain(answer: &str) -> String {
        // Our error pages put the reason in their heading.
        let answer = answer.split_once("<h1>").and_then(|(_, rest)| rest.split_once("</h1>")).map_or(answer, |h| h.0);
        let (mut text, mut in_tag) = (String::new(), false);
        for c in answer.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        words.chars().take(300).collect()
    }
}
