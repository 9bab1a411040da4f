//! The stack page: registration, tenant subscriptions with add/replace/remove, history. Forms are plain HTML
//! posts to `/stacks/{cloud_id}/…` that redirect back here, so they work the same with and without JavaScript.
use leptos::prelude::*;

use crate::layout::{confirm_first, field_error, notice};
use crate::paging::{current_query, page_param, with_page, Pager};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::detail::{load_stack_page, StackDetail};
use super::forms::{RenameForm, ARCHIVE, RENAME, RESTORE, STACK_PAGE};
use super::{MappingRow, SubscriptionOption};
use crate::collector::forms::{CollectorForm, SAVE_COLLECTOR};
use crate::collector::panel::CollectorPanel;
use crate::domain::when::minute;
use crate::domain::{BillingModel, OfferType, SubscriptionStatus};
use crate::keys::forms::NewKeyForm;
use crate::keys::panel::KeysPanel;
use crate::local_subscriptions::panel::LocalSubscriptionsPanel;
use crate::registrations::forms::{
    MappingForm as MappingFields, RegistrationForm as RegistrationFields, RemoveMappingForm, MAP_TENANT,
    SET_REGISTRATION, UNMAP_TENANT,
};
use crate::usage::forms::UPLOAD_USAGE;
use crate::usage::panel::UsagePanel;
use crate::web::{Flash, FormId};
use crate::AppError;

/// `/stacks/:cloud_id`
#[component]
pub fn StackPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            let pages = (page_param(q.get("mappings_page")), page_param(q.get("subs_page")));
            (params.read().get("cloud_id").unwrap_or_default(), q.get("history").is_some(), pages)
        },
        |(cloud_id, history, (mappings, subs))| load_stack_page(cloud_id, history, mappings, subs),
    );
    view! {
        {crate::layout::loaded_or(data, |d| view! { <Stack detail=d/> }, |e| view! { <PageError error=e/> })}
    }
}

/// Archives the stack (reversible: no confirmation), or restores an archived one.
#[component]
fn ArchiveForm(cloud: uuid::Uuid, name: String, archived: bool) -> impl IntoView {
    let (route, label, hint) = if archived {
        (RESTORE, "Restore the stack", "It takes usage again and is listed with the others.")
    } else {
        (ARCHIVE, "Archive the stack", "Its history and bills are kept; usage sent for it is refused; lists hide it.")
    };
    view! {
        <form method="post" action=route.at(&[&cloud]) class="inline" aria-label=format!("{label} {name}")>
            <button type="submit">{label}</button> " " <span class="hint">{hint}</span>
        </form>
    }
}

/// The offer type of the stack's default subscription now, when the partner's directory knows it.
fn default_offer(detail: &StackDetail) -> Option<OfferType> {
    let current = detail.stack.default_subscription?;
    detail.subscriptions.iter().find(|o| o.subscription_id == current).map(|o| o.offer_type)
}

#[component]
fn PageError(error: AppError) -> impl IntoView {
    error.set_page_status();
    let text = match &error {
        AppError::NotFound => "This stack does not exist, or it is not yours.".to_string(),
        other => other.to_string(),
    };
    view! {
        <h1>"Stack"</h1>
        <p class="notice error" role="alert">{text}</p>
        <p><a href="/">"Back to your stacks"</a></p>
    }
}

#[component]
fn Stack(detail: StackDetail) -> impl IntoView {
    let s = detail.stack.clone();
    let cloud = s.cloud_id;
    let base = STACK_PAGE.at(&[&cloud]);
    view! {
        <h1>{s.name.clone()} {s.archived_at.is_some().then(|| view! { " " <span class="badge">"archived"</span> })}</h1>
        <p class="mono">"Cloud ID " {s.cloud_id.to_string()} " · " {s.region.clone()} " · " {s.partner_name.clone()}</p>
        {s.archived_at.map(|at| view! {
            <p class="notice" data-testid="archived">{format!(
                "Archived on {}. Its history, charges and bills are kept; usage sent for it is refused until it is restored.",
                crate::domain::when::long(at)
            )}</p>
        })}
        <section class="card" aria-label="Registration">
            <h2>"Registration"</h2>
            {notice(&detail.flash, FormId::Registration)}
            <RegistrationView detail=detail.clone()/>
            {detail.can_write.then(|| view! { <RegistrationForm detail=detail.clone() action=SET_REGISTRATION.at(&[&cloud])/> })}
            {detail.can_write.then(|| view! {
                <form method="post" action=RENAME.at(&[&cloud]) class="inline" aria-label="Rename the stack">
                    <input name=RenameForm::FIELDS.name value=s.name.clone() aria-label="Stack name" maxlength="100"/>
                    " " <button type="submit">"Rename"</button>
                </form>
                <ArchiveForm cloud=cloud name=s.name.clone() archived=s.archived_at.is_some()/>
            })}
        </section>
        <section class="card" id="mappings" aria-label="Tenant subscriptions">
            <h2>"Tenant subscriptions"</h2>
            {notice(&detail.flash, FormId::Mapping)}
            <MappingTable detail=detail.clone() base=base.clone()/>
            {detail.can_write.then(|| match (s.billing_model, default_offer(&detail)) {
                // A form that cannot succeed is not offered: why not, instead.
                (_, Some(offer)) if !matches!(offer, OfferType::Csp | OfferType::Apss) => view! { <p class="empty" data-testid="no-mapping-form">{format!("The default subscription is {offer}: tenant subscriptions need a CSP or APSS default (R3). Change the default (above) first.")}</p> }.into_any(),
                (None, _) => view! { <p class="empty" data-testid="no-mapping-form">"Register the stack first (above): a tenant subscription belongs to the stack's registration (R2)."</p> }.into_any(),
                (Some(BillingModel::Capacity), _) => view! { <p class="empty" data-testid="no-mapping-form">"This stack is registered under the Capacity billing model, which has no tenant subscriptions (R8): all its usage is the registration's."</p> }.into_any(),
                (Some(_), _) => view! { <MappingForm subscriptions=detail.subscriptions.clone() version=detail.mappings_version flash=detail.flash.clone() action=MAP_TENANT.at(&[&cloud])/> }.into_any(),
            })}
        </section>
        <section class="card" aria-label="Usage">
            <h2>"Usage"</h2>
            {notice(&detail.flash, FormId::Usage)}
            <UsagePanel status=detail.usage.clone() can_write=detail.can_write && s.archived_at.is_none() action=UPLOAD_USAGE.at(&[&cloud])/>
        </section>
        <section class="card" aria-label="Local subscriptions">
            <h2>"Local subscriptions"</h2>
            <LocalSubscriptionsPanel rows=detail.local_subscriptions.rows.clone()/>
            <Pager page=detail.local_subscriptions.page more=detail.local_subscriptions.more label="Local subscription pages"
                href={ let (base, query) = (base.clone(), current_query()); move |n| with_page(&base, &query, "subs_page", n) }/>
        </section>
        <section class="card" aria-label="Ingestion keys">
            <h2>"Ingestion keys"</h2>
            {notice(&detail.flash, FormId::Keys)}
            {field_error(&Flash::of(&detail.flash, FormId::Keys).cloned(), NewKeyForm::FIELDS.name)}
            <KeysPanel keys=detail.keys.clone() new_key=detail.new_key.clone() can_write=detail.can_write cloud_id=cloud/>
        </section>
        <section class="card" aria-label="Collector">
            <h2>"Collector"</h2>
            {notice(&detail.flash, FormId::Collector)}
            {collector_field_errors(&detail.flash)}
            <CollectorPanel status=detail.collector.clone() can_write=detail.can_write action=SAVE_COLLECTOR.at(&[&cloud])/>
        </section>
    }
}

/// The collector form's refusals, each beside the top of the form (the form is folded away on small screens).
fn collector_field_errors(flash: &Option<Flash>) -> impl IntoView {
    const F: crate::collector::forms::CollectorFields = CollectorForm::FIELDS;
    let flash = Flash::of(flash, FormId::Collector).cloned();
    [
        F.endpoint,
        F.provider_subscription,
        F.auth_kind,
        F.bearer_token,
        F.token_url,
        F.client_id,
        F.client_secret,
        F.scope,
        F.collect_from,
    ]
    .into_iter()
    .map(|f| field_error(&flash, f))
    .collect_view()
}

#[component]
fn RegistrationView(detail: StackDetail) -> impl IntoView {
    let s = detail.stack;
    match (s.billing_model, s.default_subscription) {
        (Some(model), Some(sub)) => {
            let name = detail.subscriptions.iter().find(|o| o.subscription_id == sub).map(|o| format!("{} ({})", o.customer_name, o.offer_type));
            let why = match model {
                BillingModel::Capacity => Some("Capacity: this stack's usage is kept and shown but not charged here; it is billed through the capacity purchase."),
                BillingModel::Development => Some("Development (ASDK): this stack's usage is kept and shown but not charged; it is free."),
                BillingModel::PayAsYouUse => None,
            };
            view! {
                <p data-testid="registration">
                    "Registered · " <strong>{model.as_str()}</strong> " · default subscription "
                    <span class="mono">{sub.to_string()}</span> " " {name}
                </p>
                {why.map(|w| view! { <p class="notice" data-testid="not-charged">{w}</p> })}
            }
            .into_any()
        }
        _ => view! { <p data-testid="registration">"Not registered yet. Set the default subscription first (R2): tenant subscriptions come after it."</p> }.into_any(),
    }
}

fn option_label(o: &SubscriptionOption) -> String {
    let status = if o.status == SubscriptionStatus::Active { String::new() } else { format!(" — {}", o.status) };
    format!("{} · {} · {}{status}", o.customer_name, o.offer_type, o.subscription_id)
}

#[component]
fn RegistrationForm(detail: StackDetail, action: String) -> impl IntoView {
    let current = detail.stack.default_subscription;
    const F: crate::registrations::forms::RegistrationFields = RegistrationFields::FIELDS;
    let flash = Flash::of(&detail.flash, FormId::Registration).cloned();
    let kept = |field: &str| Flash::typed(&flash, FormId::Registration, field);
    let picked = kept(F.default_subscription);
    let model = kept(F.billing_model)
        .and_then(|m| BillingModel::parse(&m).ok())
        .or(detail.stack.billing_model)
        .unwrap_or(BillingModel::PayAsYouUse);
    let defaults: Vec<SubscriptionOption> = detail
        .subscriptions
        .into_iter()
        // Only what would be accepted: active (R9), CSP or APSS, and EA only while no tenant has its own (R3).
        .filter(|o| o.status == SubscriptionStatus::Active || Some(o.subscription_id) == current)
        .filter(|o| match o.offer_type {
            OfferType::Csp | OfferType::Apss => true,
            OfferType::Ea => detail.stack.current_mappings == 0,
            _ => false,
        })
        .collect();
    view! {
        <form method="post" action=action class="stacked" aria-label="Set registration">
            <label>
                "Default subscription"
                <span class="hint">"CSP or APSS (EA only while there are no tenant subscriptions), rolling up to your partner. Pick one, or type a subscription ID below."</span>
                {field_error(&flash, F.default_subscription)}
                <select name=F.default_subscription>
                    <option value="">"— type an ID below —"</option>
                    {defaults.into_iter().map(|o| {
                        let id = o.subscription_id.to_string();
                        let selected = picked.as_ref().map_or(Some(o.subscription_id) == current, |p| *p == id);
                        view! { <option value=id selected=selected>{option_label(&o)}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "…or subscription ID"
                {field_error(&flash, F.default_subscription_id)}
                <input name=F.default_subscription_id value=kept(F.default_subscription_id) placeholder="00000000-0000-0000-0000-000000000000"/>
            </label>
            <label>
                "Billing model"
                {field_error(&flash, F.billing_model)}
                <select name=F.billing_model>
                    {[BillingModel::PayAsYouUse, BillingModel::Capacity, BillingModel::Development].into_iter().map(|m| view! {
                        <option value=m.as_str() selected=m == model>{m.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <EffectiveFrom name=F.effective_from flash=flash.clone() value=kept(F.effective_from)
                hint="Empty means now; a stack's first registration then covers every open bill period, so usage uploaded later is billed. An earlier time re-routes usage since then, but never into a finalised bill period (R7)."/>
            <div><button type="submit" class="primary">"Save registration"</button></div>
        </form>
    }
}

#[component]
fn MappingTable(detail: StackDetail, base: String) -> impl IntoView {
    let cloud_id = detail.stack.cloud_id;
    let history_link = format!("{base}?history=1");
    let (rows, page, more) = (detail.mappings.rows, detail.mappings.page, detail.mappings.more);
    let can_write = detail.can_write;
    let pages = {
        let (base, query) = (base.clone(), current_query());
        move |n| with_page(&base, &query, "mappings_page", n)
    };
    view! {
        <p><a href=history_link>"Show history"</a> " · " <a href=base.clone()>"Current only"</a> " · times are UTC"</p>
        {if rows.is_empty() {
            view! { <p class="empty">"No tenant subscriptions: every tenant's usage goes to the default subscription."</p> }.into_any()
        } else {
            view! {
                <table class="data" tabindex="0" aria-label="Tenant subscriptions">
                    <thead><tr>
                        <th scope="col">"Customer"</th><th scope="col">"Directory tenant"</th><th scope="col">"Subscription"</th>
                        <th scope="col">"Valid from (UTC)"</th><th scope="col">"Valid to (UTC)"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{rows.into_iter().map(|m| view! { <MappingTr m=m can_write action=UNMAP_TENANT.at(&[&cloud_id])/> }).collect_view()}</tbody>
                </table>
                <Pager page more label="Tenant subscription pages" href=pages/>
            }.into_any()
        }}
    }
}

#[component]
fn MappingTr(m: MappingRow, can_write: bool, action: String) -> impl IntoView {
    let current = m.valid_to.is_none();
    view! {
        <tr>
            <td>{m.customer_name.clone()}</td>
            <td class="mono">{m.tenant_id.to_string()}</td>
            <td class="mono">{m.subscription_id.to_string()}</td>
            <td>{minute(m.valid_from)}</td>
            <td>{m.valid_to.map_or_else(|| "in force".into(), minute)}</td>
            <td>{(can_write && current).then(|| view! {
                <form method="post" action=action class="inline" aria-label=format!("Remove {}", m.customer_name)>
                    <input type="hidden" name=RemoveMappingForm::FIELDS.tenant value=m.tenant_id.to_string()/>
                    <input type="hidden" name=RemoveMappingForm::FIELDS.expected_current value=m.subscription_id.to_string()/>
                    {crate::layout::unanswered()}
                    <button type="submit" class="link danger" on:click=confirm_first(format!("Remove the subscription of {}? Its later usage goes to the default subscription.", m.customer_name))>"Remove"</button>
                </form>
            })}</td>
        </tr>
    }
}

#[component]
fn MappingForm(
    subscriptions: Vec<SubscriptionOption>,
    version: i64,
    flash: Option<Flash>,
    action: String,
) -> impl IntoView {
    const F: crate::registrations::forms::MappingFields = MappingFields::FIELDS;
    let flash = Flash::of(&flash, FormId::Mapping).cloned();
    let kept = |field: &str| Flash::typed(&flash, FormId::Mapping, field);
    let picked = kept(F.subscription);
    // Only what would be accepted: active CSP subscriptions (R4, R9).
    let csp: Vec<SubscriptionOption> = subscriptions
        .into_iter()
        .filter(|o| o.offer_type == OfferType::Csp && o.status == SubscriptionStatus::Active)
        .collect();
    view! {
        <form method="post" action=action class="stacked" aria-label="Add or replace a tenant subscription">
            <h3>"Add or replace a tenant subscription"</h3>
            <input type="hidden" name=F.version value=version.to_string()/>
            <label>
                "Customer subscription (CSP)"
                <span class="hint">"Its directory tenant is mapped. Mapping a tenant again replaces its subscription from the effective time."</span>
                {field_error(&flash, F.subscription)}
                <select name=F.subscription>
                    <option value="">"— type IDs below —"</option>
                    {csp.into_iter().map(|o| {
                        let id = o.subscription_id.to_string();
                        let selected = picked.as_deref() == Some(id.as_str());
                        view! { <option value=id selected=selected>{option_label(&o)}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "…or subscription ID"
                {field_error(&flash, F.subscription_id)}
                <input name=F.subscription_id value=kept(F.subscription_id) placeholder="00000000-0000-0000-0000-000000000000"/>
            </label>
            <label>
                "…and directory tenant ID"
                {field_error(&flash, F.tenant)}
                <input name=F.tenant value=kept(F.tenant) placeholder="the customer's tenant; taken from the subscription when empty"/>
            </label>
            <EffectiveFrom name=F.effective_from flash=flash.clone() value=kept(F.effective_from)
                hint="Empty means now. An earlier time re-routes usage since then, but never into a finalised bill period (R7), and never before the stack's registration (R2)."/>
            <div><button type="submit" class="primary">"Save tenant subscription"</button></div>
        </form>
    }
}

/// The "Effective from (UTC)" input of the registration and tenant-subscription forms, with its refusal beside it.
#[component]
fn EffectiveFrom(
    /// The input's name.
    name: &'static str,
    /// What an empty or earlier time means for this form.
    hint: &'static str,
    /// The form's outcome, if it was the last one posted.
    flash: Option<Flash>,
    /// What was typed before a refusal.
    value: Option<String>,
) -> impl IntoView {
    view! {
        <label>
            "Effective from (UTC)"
            <span class="hint">{hint}</span>
            {field_error(&flash, name)}
            <input type="datetime-local" name=name value=value/>
        </label>
    }
}
