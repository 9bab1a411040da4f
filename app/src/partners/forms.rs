//! The partner forms' routes and fields, written once: the operator's "add a partner", and a partner's details.
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

/// A partner's details: the settings page, and where its form posts.
pub const PARTNER_SETTINGS: Route = Route("/settings/partner");

crate::form! {
    /// A partner's details, as printed on its customer invoices.
    pub struct DetailsForm, names DetailsFields {
        /// Display name, and the name on invoices.
        pub name: String,
        /// Postal address, several lines.
        pub address: String,
        /// Tax or VAT ID, as the partner writes it.
        pub tax_id: String,
        /// What invoice numbers start with (`INV-` gives `INV-00042`).
        pub invoice_prefix: String,
    }
}
