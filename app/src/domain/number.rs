//! How numbers are shown to people: thousands separators ("4,859,475"), no trailing zeros beyond what the value holds,
//! never a negative zero, and counts with their noun in the right number ("1 record", "2 records"). Written the same
//! on the server and in the browser, so hydration never differs.
use rust_decimal::Decimal;

/// `value` with a comma between each group of three digits, its fraction as given (`1234.50` stays `1,234.50`), and
/// `-0`/`-0.00` written without the sign.
pub fn grouped(value: Decimal) -> String {
    let value = if value.is_zero() { value.abs() } else { value };
    let text = value.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A quantity to at most `places` decimals, without trailing zeros: `grouped` of `4859475.0000` is `4,859,475`.
pub fn quantity(value: Decimal, places: u32) -> String {
    grouped(value.round_dp(places).normalize())
}

/// A count and its noun: `1 record`, `1,234 records`, `0 records` (`plural` is the noun for any other count).
pub fn count(n: u64, one: &str, plural: &str) -> String {
    format!("{} {}", grouped(Decimal::from(n)), if n == 1 { one } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn numbers_are_grouped_by_thousands_and_keep_their_fraction() {
        assert_eq!(grouped(d("4859475")), "4,859,475");
        assert_eq!(grouped(d("1107.26")), "1,107.26");
        assert_eq!(grouped(d("-1234567.5")), "-1,234,567.5");
        assert_eq!(grouped(d("999")), "999");
        assert_eq!(grouped(d("100000")), "100,000");
        assert_eq!(grouped(d("0.001")), "0.001");
    }

    #[test]
    fn negative_zero_is_never_shown() {
        assert_eq!(grouped(d("-0.00")), "0.00");
        assert_eq!(grouped(d("-0")), "0");
        assert_eq!(quantity(d("-0.00001"), 4), "0");
    }

    #[test]
    fn quantities_drop_zeros_beyond_their_precision() {
        assert_eq!(quantity(d("4859475.0000"), 4), "4,859,475");
        assert_eq!(quantity(d("0.250000"), 6), "0.25");
        assert_eq!(quantity(d("1.23456789"), 6), "1.234568");
    }

    #[test]
    fn counts_name_their_noun_in_the_right_number() {
        assert_eq!(count(1, "record", "records"), "1 record");
        assert_eq!(count(0, "record", "records"), "0 records");
        assert_eq!(count(1234, "row", "rows"), "1,234 rows");
    }
}
