//! Numbers and dates written for a reader: digit grouping, decimal mark and rounding come
//! from the reader's language (its catalogue gives the separators), the value itself is
//! exact until the last digit shown.

use bigdecimal::{BigDecimal, RoundingMode, Zero};
use chrono::{Datelike, NaiveDate};

/// How a language writes numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberStyle {
    /// Between groups of three digits ("," in English, a no-break space in Russian).
    pub group: String,
    /// Before the fraction ("." in English, "," in Russian).
    pub decimal: String,
}

/// `value` rounded half away from zero to `scale` digits after the mark, grouped.
pub fn decimal(value: &BigDecimal, scale: i64, style: &NumberStyle) -> String {
    let rounded = value.with_scale_round(scale.max(0), RoundingMode::HalfUp);
    let text = rounded.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int_part, fraction) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    // "-0.0" reads as a negative number; a value that rounds to zero has no sign.
    let sign = if rounded.is_zero() { "" } else { sign };
    let mut out = format!("{sign}{}", group_digits(int_part, &style.group));
    // Exactly `scale` digits after the mark (a zero may print without its scale).
    let scale = scale.max(0) as usize;
    if scale > 0 {
        let f = fraction.unwrap_or("");
        out.push_str(&style.decimal);
        out.push_str(f);
        out.extend(std::iter::repeat_n('0', scale.saturating_sub(f.len())));
    }
    out
}

/// An integer, grouped.
pub fn integer(value: i64, style: &NumberStyle) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}", group_digits(&digits, &style.group))
}

/// `1234567` -> `1,234,567` with `sep` = ",".
fn group_digits(digits: &str, sep: &str) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3 * sep.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// The parts a language's date pattern is filled with: day, the month's short name (from
/// `months`, January first) and year.
pub fn date_parts(day: NaiveDate, months: &[String; 12]) -> (u32, String, i32) {
    (day.day(), months[day.month0() as usize].clone(), day.year())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn en() -> NumberStyle {
        NumberStyle { group: ",".into(), decimal: ".".into() }
    }

    fn ru() -> NumberStyle {
        NumberStyle { group: "\u{a0}".into(), decimal: ",".into() }
    }

    fn d(s: &str) -> BigDecimal {
        BigDecimal::from_str(s).unwrap()
    }

    #[test]
    fn english_groups_with_commas_and_a_point() {
        assert_eq!(decimal(&d("1234567.891"), 2, &en()), "1,234,567.89");
        assert_eq!(decimal(&d("999.995"), 2, &en()), "1,000.00");
        assert_eq!(decimal(&d("12"), 1, &en()), "12.0");
        assert_eq!(decimal(&d("12.5"), 0, &en()), "13");
    }

    #[test]
    fn russian_groups_with_no_break_spaces_and_a_comma() {
        assert_eq!(decimal(&d("1234567.891"), 2, &ru()), "1\u{a0}234\u{a0}567,89");
        assert_eq!(integer(-45000, &ru()), "-45\u{a0}000");
    }

    #[test]
    fn negatives_keep_their_sign_and_a_rounded_zero_loses_it() {
        assert_eq!(decimal(&d("-1234.5"), 0, &en()), "-1,235");
        assert_eq!(decimal(&d("-0.001"), 1, &en()), "0.0");
        assert_eq!(integer(100, &en()), "100");
        assert_eq!(integer(1000, &en()), "1,000");
    }

    #[test]
    fn dates_take_the_month_name_of_the_language() {
        let months: [String; 12] = std::array::from_fn(|i| format!("m{}", i + 1));
        assert_eq!(date_parts(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), &months), (5, "m12".to_owned(), 2026));
    }
}
