//! The stack page's ingestion-key section: the list, a form to create one, and the new secret shown once.
use leptos::prelude::*;

use crate::domain::when::minute;
use crate::layout::confirm_first;

use super::forms::{NewKeyForm, RevokeKeyForm, CREATE_KEY, REVOKE_KEY};
use super::KeyRow;

/// Lists the keys; partner admins also get the create and revoke forms.
#[component]
pub fn KeysPanel(keys: Vec<KeyRow>, new_key: Option<String>, can_write: bool, cloud_id: uuid::Uuid) -> impl IntoView {
    let revoke = REVOKE_KEY.at(&[&cloud_id]);
    view! {
        {new_key.map(|k| view! { <NewKey secret=k/> })}
        {if keys.is_empty() {
            view! { <p class="empty">"No ingestion keys yet. A stack needs one to send usage to the ingest API."</p> }.into_any()
        } else {
            view! {
                <table class="data" tabindex="0" aria-label="Ingestion keys">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Key starts with"</th><th scope="col">"Created (UTC)"</th>
                        <th scope="col">"Last used (UTC)"</th><th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{keys.into_iter().map(|k| {
                        let active = k.revoked_at.is_none();
                        let label = format!("Revoke {}", k.name);
                        let confirm = format!("Revoke the key {}? Stacks using it are refused from now on.", k.name);
                        view! {
                            <tr>
                                <td>{k.name.clone()}</td>
                                <td class="mono">{format!("sbk_{}_…", k.prefix)}</td>
                                <td>{minute(k.created_at)}</td>
                                <td>{k.last_used_at.map_or_else(|| "never".into(), minute)}</td>
                                <td>{k.revoked_at.map_or_else(|| "active".into(), |r| format!("revoked {}", minute(r)))}</td>
                                <td>{(can_write && active).then(|| view! {
                                    <form method="post" action=revoke.clone() class="inline" aria-label=label>
                                        <input type="hidden" name=RevokeKeyForm::FIELDS.key_id value=k.key_id.to_string()/>
                                        {crate::layout::unanswered()}
                                        <button type="submit" class="link danger" on:click=confirm_first(confirm.clone())>"Revoke"</button>
                                    </form>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        {can_write.then(|| view! {
            <form method="post" action=CREATE_KEY.at(&[&cloud_id]) class="inline" aria-label="Create an ingestion key">
                <label>"Key name " <input name=NewKeyForm::FIELDS.name required maxlength="100" placeholder="e.g. usage forwarder"/></label>
                " " <button type="submit">"Create key"</button>
            </form>
        })}
    }
}

/// A new key, shown once, over the page. Without JavaScript it is a box where the page opens after the post (an open
/// `<dialog>`, which its Close button closes without a script: `method="dialog"`). With JavaScript it becomes a modal
/// dialog over the whole page, focused, with a Copy button (hidden until the page is hydrated, as it needs a script).
#[component]
fn NewKey(secret: String) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let copied = RwSignal::new(false);
    Effect::new(move || {
        if let Some(d) = dialog.get() {
            // Opened by the server's markup; reopened as a modal once there is a script to close it.
            d.close();
            d.show_modal().ok();
        }
    });
    let copy = {
        let secret = secret.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let _promise = window().navigator().clipboard().write_text(&secret);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &secret;
            copied.set(true);
        }
    };
    view! {
        <dialog open node_ref=dialog class="shown-once" aria-labelledby="new-key-title" data-testid="new-key">
            <h3 id="new-key-title">"Your new ingestion key"</h3>
            <p>"Copy it now: it is shown only this once, and Stackbill keeps only its hash."</p>
            <p><code class="secret">{secret.clone()}</code></p>
            <div class="actions">
                <button type="button" class="primary copy" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                " "
                <form method="dialog" class="inline"><button type="submit">"Close"</button></form>
            </div>
        </dialog>
    }
}
