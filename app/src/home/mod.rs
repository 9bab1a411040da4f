//! The home page, the sign-in prompt and the "no access" page.
use leptos::prelude::*;

use crate::layout::SignOutButton;
use crate::paging::{current_query, with_page, Pager};
use crate::sorting::ListAt;
use crate::stacks::api::{home_overview, Overview};
use crate::stacks::components::{PartnerTable, StackTable};
use crate::AppError;

/// Home: the partner's stacks, or for operators every partner and stack.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let pages = move || {
        let q = crate::paging::pairs(query.get());
        let archived = q.iter().any(|(k, v)| k == "archived" && v == "1");
        (ListAt::of(&q, "", "page"), ListAt::of(&q, "partners", "partners_page"), archived)
    };
    let data = Resource::new(pages, |(page, partners, archived)| home_overview(page, partners, archived));
    view! {
        {crate::layout::loaded_or(data, |o| view! { <Home overview=o/> }, |e| match e {
            AppError::Unauthorized => view! { <SignInPrompt/> }.into_any(),
            AppError::Forbidden => view! { <NoAccess/> }.into_any(),
            e => view! { <crate::error::ErrorNotice error=e/> }.into_any(),
        })}
    }
}

#[component]
fn Home(overview: Overview) -> impl IntoView {
    let is_operator = !overview.partners.rows.is_empty() || overview.user.partner.is_none();
    let pairs = current_query();
    let (others, partners_link) = (pairs.clone(), pairs);
    let (stacks, partners) = (overview.stacks, overview.partners);
    let heading = match &overview.user.partner {
        Some(p) => format!("{} — stacks", p.name),
        None => "All partners".to_string(),
    };
    view! {
        <h1>{heading}</h1>
        {is_operator.then(|| view! {
            <section>
                <h2>"Partners"</h2>
                <PartnerTable partners=partners.rows.clone() path="/"/>
                <Pager page=partners.page more=partners.more label="Partner pages"
                    href=move |n| with_page("/", &partners_link, "partners_page", n)/>
            </section>
        })}
        <section>
            <h2>"Stacks"</h2>
            {if stacks.rows.is_empty() && overview.archived > 0 && !overview.with_archived {
                view! { <p class="empty">"Every stack is archived."</p> }.into_any()
            } else {
                view! { <StackTable stacks=stacks.rows show_partner=is_operator/> }.into_any()
            }}
            <Pager page=stacks.page more=stacks.more label="Stack pages" href=move |n| with_page("/", &others, "page", n)/>
            {(overview.archived > 0).then(|| if overview.with_archived {
                view! { <p><a href="/">"Hide the archived stacks"</a></p> }.into_any()
            } else {
                let n = crate::domain::number::count(overview.archived as u64, "archived stack", "archived stacks");
                view! { <p><a href="/?archived=1">{format!("Show {n}")}</a></p> }.into_any()
            })}
        </section>
        {overview.user.can_write().then(|| view! { <AddStackForm flash=overview.flash.clone() operator=is_operator/> })}
    }
}

/// Adds a stack (R1: a cloud ID is registered once). Operators name the partner.
#[component]
fn AddStackForm(flash: Option<crate::web::Flash>, operator: bool) -> impl IntoView {
    use crate::stacks::forms::{AddStackForm, ADD_STACK};
    const F: crate::stacks::forms::AddStackFields = AddStackForm::FIELDS;
    let flash = crate::web::Flash::of(&flash, crate::web::FormId::AddStack).filter(|f| !f.ok).cloned();
    let beside = |field: &str| crate::layout::field_error(&flash, field);
    let kept = |field: &str| crate::web::Flash::typed(&flash, crate::web::FormId::AddStack, field);
    view! {
        <section class="card">
            <h2>"Add a stack"</h2>
            {crate::layout::notice(&flash, crate::web::FormId::AddStack)}
            <form method="post" action=ADD_STACK.pattern() class="stacked" aria-label="Add a stack">
                {operator.then(|| view! { <label>"Partner ID" <input name=F.partner value=kept(F.partner) required/> {beside(F.partner)}</label> })}
                <label>"Name" <input name=F.name value=kept(F.name) required maxlength="100"/> {beside(F.name)}</label>
                <label>
                    "Cloud ID"
                    <span class="hint">"The stack's CloudDeploymentID (a GUID), shown in the administrator portal under Region management."</span>
                    <input name=F.cloud_id value=kept(F.cloud_id) required placeholder="00000000-0000-0000-0000-000000000000"/>
                    {beside(F.cloud_id)}
                </label>
                <label>"Region label" <input name=F.region value=kept(F.region) maxlength="100"/></label>
                <label>"Admin ARM endpoint (optional)" <input name=F.endpoint value=kept(F.endpoint) placeholder="https://adminmanagement.local.azurestack.external"/> {beside(F.endpoint)}</label>
                <div><button type="submit" class="primary">"Add stack"</button></div>
            </form>
        </section>
    }
}

#[component]
fn SignInPrompt() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Usage and billing for Azure Stack Hub"</h1>
            <p>"Sign in with your organisation's account to see your stacks, customers, usage and bills."</p>
            <a class="button primary" href="/auth/login" rel="external">"Sign in"</a>
        </section>
    }
}

#[component]
fn NoAccess() -> impl IntoView {
    view! {
        <section class="hero" data-testid="no-access">
            <h1>"No access"</h1>
            <p>
                "You are signed in, but your account belongs to no partner registered in Stackbill and has no operator role. "
                "Ask your Stackbill operator to add your organisation's directory tenant as a partner, or to give you a role."
            </p>
            <SignOutButton/>
        </section>
    }
}

/// Where sign-in sends users whose claims match no partner and no operator role.
#[component]
pub fn NoAccessPage() -> impl IntoView {
    view! { <NoAccess/> }
}

/// Unknown paths.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1>"Page not found"</h1>
        <p><a href="/">"Back to the home page"</a></p>
    }
}
