//! The operator page's "add a partner" form: route and fields, written once.
use crate::web::Route;

/// Adds a partner.
pub const ADD_PARTNER: Route = Route("/operator/partners");

crate::form! {
    /// The "add a partner" form.
    pub struct PartnerForm, names PartnerFields {
        /// Display name.
        pub name: String,
        /// The Microsoft Partner ID (a GUID).
        pub partner_id: String,
        /// The MPN ID (digits).
        pub mpn_id: String,
        /// The partner organisation's directory tenant: its staff sign in with this `tid`.
        pub tenant: String,
        /// The billing currency (ISO 4217); empty means USD.
        pub currency: String,
    }
}
