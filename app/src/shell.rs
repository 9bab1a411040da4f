//! The HTML shell, the root component and the routes.
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::audit::page::AuditPageView;
use crate::bills::page::{BillPage, BillsPage};
use crate::customers::CustomersPage;
use crate::dashboard::DashboardPage;
use crate::explorer::page::ExplorerPage;
use crate::home::{HomePage, NoAccessPage, NotFoundPage};
use crate::layout::Layout;
use crate::operator::OperatorPage;
use crate::stacks::page::StackPage;

/// The Content-Security-Policy: scripts only from this origin, and inline only with this response's `nonce` (Leptos
/// puts it on its hydration script); no `'unsafe-inline'` for scripts. The development reload websocket is allowed
/// only while `cargo leptos watch` runs (`LEPTOS_WATCH`).
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let reload = match std::env::var("LEPTOS_WATCH") {
        Ok(_) => {
            let port = std::env::var("LEPTOS_RELOAD_PORT").unwrap_or_else(|_| "3001".into());
            format!(" ws://127.0.0.1:{port} ws://localhost:{port}")
        }
        Err(_) => String::new(),
    };
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'{reload}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )
}

/// Sends this page's policy, naming the nonce Leptos generated for its inline scripts.
fn send_content_security_policy() {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The root component. Routes render `Async`: the whole page arrives as HTML, so it works without JavaScript.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    focus_the_outcome();
    view! {
        <Title text="Stackbill"/>
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/no-access") view=NoAccessPage ssr=SsrMode::Async/>
                    <Route path=path!("/stacks/:cloud_id") view=StackPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditPageView ssr=SsrMode::Async/>
                    <Route path=path!("/customers") view=CustomersPage ssr=SsrMode::Async/>
                    <Route path=path!("/operator") view=OperatorPage ssr=SsrMode::Async/>
                    <Route path=path!("/bills") view=BillsPage ssr=SsrMode::Async/>
                    <Route path=path!("/reconciliation") view=crate::recon::page::ReconPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/webhooks") view=crate::webhooks::page::WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/partner") view=crate::partners::settings::PartnerSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/bills/:period/:subscription/invoice") view=crate::bills::invoice::InvoicePage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/usage") view=ExplorerPage ssr=SsrMode::Async/>
                    <Route path=path!("/bills/:period/:subscription") view=BillPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// After a form post the page is opened at `#outcome`, the post's message, which the browser scrolls to and focuses.
/// A reload of the same page (the usage upload's script does one) does not focus it again; this does, once the page
/// is hydrated. It also marks the document `data-hydrated`, which browser tests wait for before using scripts.
fn focus_the_outcome() {
    Effect::new(|| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(root) = document().document_element() {
                root.set_attribute("data-hydrated", "").ok();
            }
            let wanted = window().location().hash().is_ok_and(|h| h == format!("#{}", crate::web::flash::OUTCOME));
            let outcome = document().get_element_by_id(crate::web::flash::OUTCOME);
            if let (true, Some(element)) = (wanted, outcome.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())) {
                element.focus().ok();
            }
        }
    });
}

/// The stylesheet's address, fingerprinted when the build is (what `HashedStylesheet` links), for the few pages
/// written outside Leptos (a failed sign-in).
#[cfg(feature = "ssr")]
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let hash = options
        .hash_files
        .then(|| std::env::current_exe().ok()?.parent().map(|dir| dir.join(options.hash_file.as_ref())))
        .flatten()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|hashes| hashes.lines().find_map(|l| l.strip_prefix("css:").map(|h| format!(".{}", h.trim()))));
    format!("/{}/{}{}.css", options.site_pkg_dir, options.output_name, hash.unwrap_or_default())
}
