//! The registration and tenant-subscription forms of the stack page: routes and fields, written once.
use crate::web::Route;

/// Sets the stack's registration (default subscription and billing model).
pub const SET_REGISTRATION: Route = Route("/stacks/{cloud_id}/registration");
/// Adds or replaces a tenant subscription.
pub const MAP_TENANT: Route = Route("/stacks/{cloud_id}/mappings");
/// Removes a tenant subscription.
pub const UNMAP_TENANT: Route = Route("/stacks/{cloud_id}/mappings/remove");

crate::form! {
    /// The registration form: a subscription picked or typed, the billing model and when it takes effect.
    pub struct RegistrationForm, names RegistrationFields {
        /// The picker's choice (a subscription ID, or empty).
        pub default_subscription: String,
        /// A typed subscription ID; wins over the picker when given.
        pub default_subscription_id: String,
        /// `PayAsYouUse`, `Capacity` or `Development`.
        pub billing_model: String,
        /// `datetime-local`, read as UTC; empty means now.
        pub effective_from: String,
        /// `yes` once asked and agreed, when the default is a customer's CSP subscription (`web::confirm`).
        pub confirmed: String,
    }
}

crate::form! {
    /// The add/replace form of a tenant subscription.
    pub struct MappingForm, names MappingFields {
        /// The picker's choice (a CSP subscription ID, or empty).
        pub subscription: String,
        /// A typed subscription ID; wins over the picker when given.
        pub subscription_id: String,
        /// The directory tenant; empty: the tenant the directory names for the subscription.
        pub tenant: String,
        /// `datetime-local`, read as UTC; empty means now.
        pub effective_from: String,
        /// The mapping version the form was rendered with; absent from scripts, which then replace directly.
        pub version: Option<i64>,
    }
}

crate::form! {
    /// A mapping's remove button.
    pub struct RemoveMappingForm, names RemoveMappingFields {
        /// The directory tenant whose subscription is removed.
        pub tenant: String,
        /// The subscription the page showed; a different current one means someone changed it meanwhile.
        pub expected_current: String,
        /// `datetime-local`, read as UTC; empty means now.
        pub effective_from: String,
        /// `yes` once asked and agreed (`web::confirm`).
        pub confirmed: String,
    }
}

impl RegistrationForm {
    /// The subscription ID given: typed, else picked.
    pub fn subscription(&self) -> &str {
        either(&self.default_subscription_id, &self.default_subscription)
    }
}

impl MappingForm {
    /// The subscription ID given: typed, else picked.
    pub fn subscription(&self) -> &str {
        either(&self.subscription_id, &self.subscription)
    }
}

fn either<'a>(typed: &'a str, picked: &'a str) -> &'a str {
    if typed.trim().is_empty() {
        picked
    } else {
        typed.trim()
    }
}
