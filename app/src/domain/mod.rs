//! Validated domain types shared by the server and the browser (STYLE L4).
#[cfg(feature = "ssr")]
pub mod clock;
mod directory;
pub mod money;
pub mod number;
#[cfg(feature = "ssr")]
pub mod outbound;
mod period;
mod role;
#[cfg(feature = "ssr")]
pub mod secrets;
pub mod text;
pub mod when;

pub use directory::{BillingModel, OfferType, SubscriptionStatus};
pub use period::Period;
pub use role::Role;

/// Compares secrets in time independent of where they differ, so response times do not leak a prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_match_only_when_every_byte_does() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"ab"));
    }
}
