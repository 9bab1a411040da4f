//! The bill pages' forms and exports: routes and fields, written once.
use crate::web::Route;

/// The bills of a month (the list).
pub const BILLS_PAGE: Route = Route("/bills");
/// One customer's bill.
pub const BILL_PAGE: Route = Route("/bills/{period}/{subscription}");
/// The bill as the customer's invoice (print or save as PDF).
pub const INVOICE_PAGE: Route = Route("/bills/{period}/{subscription}/invoice");
/// Sets the partner's default markup.
pub const DEFAULT_MARKUP: Route = Route("/bills/markup");
/// Sets one customer's markup.
pub const CUSTOMER_MARKUP: Route = Route("/bills/{period}/{subscription}/markup");
/// Turns a final bill back into a draft.
pub const MARK_DRAFT: Route = Route("/bills/{period}/{subscription}/draft");
/// Finalises a bill.
pub const FINALISE: Route = Route("/bills/{period}/{subscription}/finalise");
/// One bill's lines as CSV.
pub const EXPORT_BILL: Route = Route("/exports/bills/{period}/{subscription}");
/// Every bill of a month as CSV (`?partner=` for operators).
pub const EXPORT_PERIOD: Route = Route("/exports/bills/{period}");

crate::form! {
    /// A markup form (the partner's default or one customer's).
    pub struct MarkupForm, names MarkupFields {
        /// A percentage such as `12.5` or `12.5 %`; empty: none (the default) or back to the default (a customer).
        pub markup: String,
    }
}
