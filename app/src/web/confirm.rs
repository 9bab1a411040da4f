//! Asking before anything irreversible (finalising a bill, revoking a key, removing a tenant subscription). Each
//! such form carries a hidden `confirmed` input. With JavaScript its button asks in a dialog and, when the user
//! agrees, sets the input to `yes` ([`crate::layout::confirm_first`]): one step. Without JavaScript the post arrives
//! unanswered and the server answers with a page that asks ([`page`]), whose button posts the same fields answered.
//! Nothing changes until a post says `yes`; who may ask is checked first, so another partner gets the same 404.
use axum::response::{Html, IntoResponse, Response};
use leptos::config::LeptosOptions;

use crate::domain::text::html_escape;

/// Whether a post's `confirmed` value says the question was answered.
pub fn answered(value: &str) -> bool {
    value == "yes"
}

/// The question to ask before an irreversible post.
pub struct Question {
    /// "Finalise the bill of Northwind Traders for October 2026?"
    pub question: String,
    /// What happens, in a sentence.
    pub consequence: String,
    /// Where the answered form posts (the same route).
    pub action: String,
    /// The form's other fields, posted again as they were.
    pub fields: Vec<(&'static str, String)>,
    /// The button's words ("Finalise").
    pub button: &'static str,
    /// Where "Cancel" goes (the page the form was on).
    pub back: String,
}

/// The page that asks (200; nothing has changed yet).
pub fn page(options: &LeptosOptions, q: Question) -> Response {
    let e = html_escape;
    let fields: String = q
        .fields
        .iter()
        .chain(std::iter::once(&(crate::web::form::ConfirmForm::FIELDS.confirmed, "yes".to_string())))
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", e(name), e(value)))
        .collect();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Please confirm · Stackbill</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head><body><main class=\"content\">\
         <section class=\"card confirm\" aria-labelledby=\"question\"><h1 id=\"question\">{question}</h1><p>{consequence}</p>\
         <form method=\"post\" action=\"{action}\" class=\"inline\">{fields}\
         <button type=\"submit\" class=\"primary danger\">{button}</button> <a href=\"{back}\">Cancel</a></form>\
         </section></main></body></html>",
        css = e(&crate::shell::stylesheet_href(options)),
        question = e(&q.question),
        consequence = e(&q.consequence),
        action = e(&q.action),
        button = e(q.button),
        back = e(&q.back),
    );
    Html(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_asks_and_posts_the_same_fields_answered() {
        let q = Question {
            question: "Revoke the key <forwarder>?".into(),
            consequence: "Requests with it are refused from now on.".into(),
            action: "/stacks/x/keys/revoke".into(),
            fields: vec![("key_id", "k\"1".into())],
            button: "Revoke",
            back: "/stacks/x".into(),
        };
        let res = page(&LeptosOptions::builder().output_name("stackbill").build(), q);
        let body = futures_body(res);
        assert!(body.contains("Revoke the key &lt;forwarder&gt;?"), "escaped: {body}");
        assert!(body.contains("name=\"key_id\" value=\"k&quot;1\""), "{body}");
        assert!(body.contains("name=\"confirmed\" value=\"yes\""), "{body}");
        assert!(body.contains("href=\"/stacks/x\">Cancel</a>"));
    }

    fn futures_body(res: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(axum::body::to_bytes(res.into_body(), usize::MAX)).unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
