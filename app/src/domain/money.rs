//! Partner Center rounding (PRODUCT §4 R5): each line is rounded down to two decimals, `ROUNDDOWN(x, 2)`, which
//! rounds toward zero (so a negative adjustment is not made larger); totals are sums of rounded lines.
use rust_decimal::Decimal;

/// How an amount is shown everywhere: rounded to cents (half to even), grouped by thousands, with its currency:
/// `1,107.26 USD`; never `-0.00`.
pub fn show(amount: Decimal, currency: &str) -> String {
    format!("{} {currency}", cents(amount))
}

/// An amount rounded to cents (half to even) and grouped by thousands, without its currency: `1,107.26`.
pub fn cents(amount: Decimal) -> String {
    let mut cents = amount.round_dp(2);
    cents.rescale(2);
    crate::domain::number::grouped(cents)
}

/// Rounds toward zero to cents.
pub fn round_down(x: Decimal) -> Decimal {
    x.trunc_with_scale(2)
}

/// The customer price of a precise amount at `markup_percent`, rounded down to cents.
pub fn customer_price(precise: Decimal, markup_percent: Decimal) -> Decimal {
    round_down(precise * (Decimal::ONE + markup_percent / Decimal::ONE_HUNDRED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_are_shown_in_cents_with_their_currency() {
        assert_eq!(show(d("1107.255"), "USD"), "1,107.26 USD");
        assert_eq!(show(d("3"), "EUR"), "3.00 EUR");
        assert_eq!(show(d("-1234567.891"), "EUR"), "-1,234,567.89 EUR");
        assert_eq!(show(d("-0.004"), "USD"), "0.00 USD", "never a negative zero");
    }

    #[test]
    fn lines_round_down_toward_zero_to_cents() {
        assert_eq!(round_down(d("0.009999")), d("0.00"));
        assert_eq!(round_down(d("12.3456")), d("12.34"));
        assert_eq!(round_down(d("12.3")), d("12.30"));
        assert_eq!(round_down(d("-1.239")), d("-1.23"));
        assert_eq!(round_down(d("5")), d("5.00"));
    }

    #[test]
    fn customer_prices_apply_the_markup_to_the_precise_amount() {
        assert_eq!(customer_price(d("10.005"), d("10")), d("11.00"));
        assert_eq!(customer_price(d("0.999"), d("0")), d("0.99"));
        assert_eq!(customer_price(d("100"), d("12.5")), d("112.50"));
        assert_eq!(customer_price(d("-2.009"), d("10")), d("-2.20"));
    }
}
