//! The frame around every page: header, navigation, who is signed in.
use leptos::prelude::*;

use crate::auth::api::whoami;
use crate::auth::CurrentUser;
use crate::AppError;

/// The signed-in user for every component on the page, loaded once per page.
#[derive(Clone, Copy)]
pub struct UserResource(pub Resource<Result<Option<CurrentUser>, AppError>>);

/// Header, navigation and main area.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    provide_context(UserResource(user));
    view! {
        // `rel="external"`: the browser's own fragment navigation, which moves focus (the router's would only scroll).
        <a class="skip" href="#main" rel="external">"Skip to the content"</a>
        <header class="topbar">
            <a class="brand" href="/">"Stackbill"</a>
            <nav aria-label="Main">
                <a href="/dashboard">"Dashboard"</a>
                <a href="/">"Stacks"</a>
                <a href="/customers">"Customers"</a>
                <a href="/usage">"Usage"</a>
                <a href="/bills">"Bills"</a>
                <a href="/audit">"Audit log"</a>
                // Only operators have an operator page, and only partners webhooks and details; anyone else gets a 403 there.
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let operator = user.await.ok().flatten().map(|u| u.role == crate::domain::Role::Operator);
                        match operator {
                            Some(true) => view! { <a href="/operator">"Operator"</a> }.into_any(),
                            Some(false) => view! {
                                <a href="/settings/webhooks">"Webhooks"</a>
                                <a href="/settings/partner">"Details"</a>
                            }
                            .into_any(),
                            None => ().into_any(),
                        }
                    })}
                </Suspense>
            </nav>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    view! { <UserBox user=user.await.ok().flatten()/> }
                })}
            </Suspense>
        </header>
        <main class="content" id="main" tabindex="-1">{children()}</main>
        <footer class="footer">"Stackbill · usage and billing for Azure Stack Hub · all times UTC"</footer>
    }
}

/// Who is signed in, with the sign-out button; or the sign-in link.
#[component]
fn UserBox(user: Option<CurrentUser>) -> impl IntoView {
    match user {
        None => view! { <a class="button" href="/auth/login" rel="external">"Sign in"</a> }.into_any(),
        Some(u) => {
            let partner = u.partner.as_ref().map(|p| p.name.clone());
            view! {
                <div class="userbox">
                    <span class="who" data-testid="who">{u.display_name.clone()}</span>
                    <span class="role" data-testid="role">{u.role.label()}</span>
                    {partner.map(|p| view! { <span class="partner" data-testid="partner">{p}</span> })}
                    <SignOutButton/>
                </div>
            }
            .into_any()
        }
    }
}

/// A plain form post, so signing out works without JavaScript.
#[component]
pub fn SignOutButton() -> impl IntoView {
    view! {
        <form method="post" action="/auth/logout" class="inline">
            <button type="submit" class="link">"Sign out"</button>
        </form>
    }
}

/// The partner chooser of operator views (empty for partner users, who see only their own).
pub fn partner_select(partners: &[(uuid::Uuid, String)], current: uuid::Uuid) -> impl IntoView {
    (!partners.is_empty()).then(|| {
        let options = partners
            .iter()
            .map(|(id, name)| view! { <option value=id.to_string() selected=*id == current>{name.clone()}</option> })
            .collect_view();
        view! { " " <label>"Partner " <select name="partner">{options}</select></label> }
    })
}

/// A click handler for an irreversible submit: asks `question` and cancels the submit unless confirmed; when
/// confirmed it marks the form's hidden `confirmed` input `yes`, so the server does not ask again (`web::confirm`,
/// which asks with a page when there is no script). It runs once the page is hydrated; no inline script is
/// involved, so the Content-Security-Policy needs no `'unsafe-inline'`.
pub fn confirm_first(question: String) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
    move |ev| {
        let agreed = window().confirm_with_message(&question).unwrap_or(false);
        if !agreed {
            ev.prevent_default();
        }
        #[cfg(feature = "hydrate")]
        if agreed {
            use wasm_bindgen::JsCast;
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|b| b.closest("form").ok().flatten());
            let input = form.and_then(|f| f.query_selector("input[name=confirmed]").ok().flatten());
            if let Some(input) = input.and_then(|i| i.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                input.set_value("yes");
            }
        }
    }
}

/// The hidden answer of an irreversible form: empty until its dialog is agreed to (see [`confirm_first`]).
pub fn unanswered() -> impl IntoView {
    view! { <input type="hidden" name=crate::web::form::ConfirmForm::FIELDS.confirmed value=""/> }
}

/// A page's data as the page shows it: "Loading…" while it comes, then `ok` with it, or the refusal in a notice (the
/// page answering with the error's status). The one wrapper of every page's `Suspense`.
pub fn loaded<T, V>(
    data: Resource<Result<T, AppError>>,
    ok: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    loaded_or(data, ok, |e| view! { <crate::error::ErrorNotice error=e/> })
}

/// [`loaded`], with the page's own view of a refusal (which sets the status itself, e.g. with `ErrorNotice`).
pub fn loaded_or<T, V, W>(
    data: Resource<Result<T, AppError>>,
    ok: impl Fn(T) -> V + Clone + Send + Sync + 'static,
    refused: impl Fn(AppError) -> W + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
    W: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let (ok, refused) = (ok.clone(), refused.clone());
                Suspend::new(async move {
                    match data.await {
                        Ok(d) => ok(d).into_any(),
                        Err(e) => refused(e).into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The outcome of the last post of `form`, unless it belongs beside one field: a status when done, an alert when
/// refused (several lines, one per problem, stay lines).
pub fn notice(flash: &Option<crate::web::Flash>, form: crate::web::FormId) -> Option<impl IntoView> {
    crate::web::Flash::of(flash, form).filter(|f| f.field.is_none()).map(|f| {
        let class = if f.ok { "notice ok" } else { "notice error" };
        view! {
            <p class=class role=if f.ok { "status" } else { "alert" } id=crate::web::flash::OUTCOME tabindex="-1">
                {message(&f.message)}
            </p>
        }
    })
}

/// A refusal that belongs to `field`, shown beside it.
pub fn field_error(flash: &Option<crate::web::Flash>, field: &str) -> Option<impl IntoView> {
    crate::web::Flash::for_field(flash, field)
        .map(|m| view! { <span class="field-error" role="alert" id=crate::web::flash::OUTCOME tabindex="-1">{message(m)}</span> })
}

/// A refusal's words, with the rule it cites (a closing "(R5, BadCustomerSubscriptionId)") in small print.
fn message(text: &str) -> impl IntoView {
    let cited = text
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once(" (R"))
        .filter(|(_, rule)| rule.split(", ").next().is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())));
    match cited {
        Some((words, rule)) => {
            view! { {words.to_string()} " " <small class="rule">{format!("(R{rule})")}</small> }.into_any()
        }
        None => text.to_string().into_any(),
    }
}
