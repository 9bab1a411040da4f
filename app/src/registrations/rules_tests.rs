//! Each rule: one test proving the refusal, one proving the allowed case.
use uuid::Uuid;

use super::*;

const PARTNER: Uuid = Uuid::from_u128(1);
const OTHER_PARTNER: Uuid = Uuid::from_u128(2);
const TENANT: Uuid = Uuid::from_u128(10);
const SUB: Uuid = Uuid::from_u128(100);
const NORTHWIND: TenantFacts<'static> = TenantFacts { id: TENANT, name: Some("Northwind Traders") };
const FOURTH_COFFEE: TenantFacts<'static> = TenantFacts { id: Uuid::from_u128(11), name: Some("Fourth Coffee") };

fn entry(offer: OfferType) -> DirectoryEntry {
    DirectoryEntry {
        subscription_id: SUB,
        offer,
        billing_partner: PARTNER,
        customer_tenant: TENANT,
        customer_name: "Northwind Traders".into(),
        status: SubscriptionStatus::Active,
    }
}

fn reg(model: BillingModel, default_offer: OfferType) -> RegistrationFacts {
    RegistrationFacts { model, default_offer }
}

fn rule_of<T>(r: Result<T, RuleViolation>) -> &'static str {
    r.err().map(|v| v.rule).unwrap_or("allowed")
}

#[test]
fn r2_mapping_needs_a_registration_first() {
    assert_eq!(rule_of(check_mapping(PARTNER, None, NORTHWIND, SUB, Some(&entry(OfferType::Csp)))), "R2");
    let r = reg(BillingModel::PayAsYouUse, OfferType::Apss);
    assert_eq!(rule_of(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&entry(OfferType::Csp)))), "allowed");
}

#[test]
fn r3_default_must_be_csp_or_apss_or_ea_without_mappings() {
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Ea)), 1)), "R3");
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Payg)), 0)), "R3");
    assert_eq!(
        rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Ea)), 0)),
        "allowed"
    );
    assert_eq!(
        rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Apss)), 3)),
        "allowed"
    );
    assert_eq!(
        rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Csp)), 3)),
        "allowed"
    );
}

#[test]
fn r3_payg_and_msdn_defaults_only_for_development_registrations() {
    for offer in [OfferType::Payg, OfferType::Msdn] {
        assert_eq!(rule_of(check_default(PARTNER, BillingModel::Development, SUB, Some(&entry(offer)), 0)), "allowed");
        assert_eq!(rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(offer)), 0)), "R3");
        assert_eq!(rule_of(check_default(PARTNER, BillingModel::Capacity, SUB, Some(&entry(offer)), 0)), "R3");
    }
}

#[test]
fn r3_an_ea_default_refuses_tenant_mappings() {
    let r = reg(BillingModel::PayAsYouUse, OfferType::Ea);
    assert_eq!(rule_of(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&entry(OfferType::Csp)))), "R3");
}

#[test]
fn r4_tenant_subscription_must_be_csp() {
    let r = reg(BillingModel::PayAsYouUse, OfferType::Apss);
    for offer in [OfferType::Ea, OfferType::Apss, OfferType::Payg, OfferType::Msdn] {
        assert_eq!(rule_of(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&entry(offer)))), "R4");
    }
    assert_eq!(rule_of(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&entry(OfferType::Csp)))), "allowed");
}

#[test]
fn r5_subscriptions_must_roll_up_to_the_stacks_partner() {
    let r = reg(BillingModel::PayAsYouUse, OfferType::Apss);
    let theirs = DirectoryEntry { billing_partner: OTHER_PARTNER, ..entry(OfferType::Csp) };
    let err = check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&theirs)).unwrap_err();
    assert_eq!((err.rule, err.code), ("R5", "BadCustomerSubscriptionId"));
    assert!(err.message.contains(&SUB.to_string()));
    let theirs_apss = DirectoryEntry { billing_partner: OTHER_PARTNER, ..entry(OfferType::Apss) };
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&theirs_apss), 0)), "R5");
}

#[test]
fn r5_another_partners_subscription_is_refused_like_one_that_does_not_exist() {
    let r = reg(BillingModel::PayAsYouUse, OfferType::Apss);
    let missing = check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, None).unwrap_err();
    for theirs in [
        DirectoryEntry { billing_partner: OTHER_PARTNER, ..entry(OfferType::Ea) },
        DirectoryEntry {
            billing_partner: OTHER_PARTNER,
            status: SubscriptionStatus::Suspended,
            ..entry(OfferType::Csp)
        },
        DirectoryEntry {
            billing_partner: OTHER_PARTNER,
            customer_tenant: Uuid::from_u128(12),
            ..entry(OfferType::Csp)
        },
    ] {
        assert_eq!(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&theirs)).unwrap_err(), missing);
        assert_eq!(
            check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&theirs), 0).unwrap_err().to_string(),
            check_default(PARTNER, BillingModel::PayAsYouUse, SUB, None, 0).unwrap_err().to_string()
        );
    }
    assert!(missing.to_string().contains("not found in your commerce directory"), "{missing}");
}

#[test]
fn r6_tenant_subscription_must_belong_to_the_tenant() {
    let r = reg(BillingModel::PayAsYouUse, OfferType::Apss);
    let err = check_mapping(PARTNER, Some(&r), FOURTH_COFFEE, SUB, Some(&entry(OfferType::Csp))).unwrap_err();
    assert_eq!((err.rule, err.field), ("R6", RuleField::Subscription));
    // In words: whose subscription it is, whose it is not, what to do; the rule and Azure's code in small print.
    assert_eq!(
        err.to_string(),
        "Northwind Traders' subscription 0000…0064 is a CSP subscription of another tenant (0000…000a), not of \
         Fourth Coffee: choose one of Fourth Coffee's own CSP subscriptions (R6, BadCustomerSubscriptionId)"
    );
    let unnamed = TenantFacts { name: None, ..FOURTH_COFFEE };
    let err = check_mapping(PARTNER, Some(&r), unnamed, SUB, Some(&entry(OfferType::Csp))).unwrap_err();
    assert!(err.message.contains("not of tenant 0000…000b"), "{err}");
}

#[test]
fn r8_capacity_registrations_have_no_tenant_mappings() {
    let r = reg(BillingModel::Capacity, OfferType::Apss);
    assert_eq!(rule_of(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, Some(&entry(OfferType::Csp)))), "R8");
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::Capacity, SUB, Some(&entry(OfferType::Apss)), 2)), "R8");
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::Capacity, SUB, Some(&entry(OfferType::Ea)), 0)), "allowed");
}

#[test]
fn r9_subscriptions_must_be_active() {
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, None, 0)), "R5", "not in the directory");
    let suspended = DirectoryEntry { status: SubscriptionStatus::Suspended, ..entry(OfferType::Apss) };
    let err = check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&suspended), 0).unwrap_err();
    assert_eq!(err.rule, "R9");
    assert!(err.message.contains("suspended"));
    let r = reg(BillingModel::PayAsYouUse, OfferType::Apss);
    assert_eq!(rule_of(check_mapping(PARTNER, Some(&r), NORTHWIND, SUB, None)), "R5");
}

#[test]
fn r10_changing_the_default_is_checked_against_the_mappings_in_force() {
    // An EA default is fine for a stack without tenants, refused once it has any (R10 via R3).
    assert_eq!(
        rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Ea)), 0)),
        "allowed"
    );
    assert_eq!(rule_of(check_default(PARTNER, BillingModel::PayAsYouUse, SUB, Some(&entry(OfferType::Ea)), 2)), "R3");
}
