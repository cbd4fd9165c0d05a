//! `Decimal`: an exact decimal on the wire. Accepted as a JSON number or a decimal string,
//! emitted as a JSON number with its exact digits; never passes through floating point
//! (serde_json's `arbitrary_precision` keeps a number's text).

use std::fmt;
use std::str::FromStr;

use bigdecimal::{BigDecimal, RoundingMode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OneOfBuilder, RefOr};

/// The most digits an input may have on either side of the point: far beyond any figure the
/// API stores, and small enough that no input makes arithmetic or printing expensive.
pub const MAX_DIGITS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal(pub BigDecimal);

impl Decimal {
    pub fn zero() -> Self {
        Decimal(BigDecimal::from(0))
    }

    /// Digits after the decimal point, ignoring trailing zeros.
    pub fn fraction_digits(&self) -> i64 {
        let normalized = self.0.normalized();
        normalized.fractional_digit_count().max(0)
    }

    /// Digits before the decimal point (0 for a value below 1), counted without expanding
    /// the number, so `1e999999` costs nothing.
    pub fn integer_digits(&self) -> i64 {
        let normalized = self.0.normalized();
        (normalized.digits() as i64 - normalized.fractional_digit_count()).max(0)
    }

    /// Whether the value fits a PostgreSQL `numeric(precision, scale)` column exactly:
    /// at most `precision - scale` digits before the point and `scale` after (more
    /// decimals would be rounded by the database, so they do not fit either).
    pub fn fits(&self, precision: i64, scale: i64) -> bool {
        self.fraction_digits() <= scale && self.integer_digits() <= precision - scale
    }

    /// Rounded half-up to `scale` digits after the point, trailing zeros removed.
    pub fn round(&self, scale: i64) -> Decimal {
        Decimal(self.0.with_scale_round(scale, RoundingMode::HalfUp).normalized())
    }

    pub fn into_inner(self) -> BigDecimal {
        self.0
    }
}

impl From<BigDecimal> for Decimal {
    fn from(value: BigDecimal) -> Self {
        Decimal(value)
    }
}

impl From<i64> for Decimal {
    fn from(value: i64) -> Self {
        Decimal(BigDecimal::from(value))
    }
}

impl FromStr for Decimal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let plain =
            !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+' || b == b'e' || b == b'E');
        if !plain {
            return Err(format!("{s:?} is not a decimal number"));
        }
        let value = BigDecimal::from_str(t).map(Decimal).map_err(|_| format!("{s:?} is not a decimal number"))?;
        if !value.fits(2 * MAX_DIGITS, MAX_DIGITS) {
            return Err(format!("{s:?} has more than {MAX_DIGITS} digits before or after the decimal point"));
        }
        Ok(value)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.normalized();
        // Plain notation, never exponent form, so every client can parse it.
        if n.fractional_digit_count() < 0 { write!(f, "{}", n.with_scale(0)) } else { write!(f, "{n}") }
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_string();
        match serde_json::Number::from_str(&text) {
            Ok(number) => number.serialize(serializer),
            Err(_) => serializer.serialize_str(&text),
        }
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(n) => n.to_string().parse().map_err(serde::de::Error::custom),
            serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!("expected a decimal number or string, got {other}"))),
        }
    }
}

impl utoipa::PartialSchema for Decimal {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Number)))
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).pattern(Some(r"^-?\d+(\.\d+)?$")))
            .description(Some("Exact decimal: a JSON number or a decimal string; never rounded through floating point"))
            .into()
    }
}

impl utoipa::ToSchema for Decimal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_parse_exactly() {
        let from_number: Decimal = serde_json::from_str("0.012500000000000000001").unwrap();
        let from_string: Decimal = serde_json::from_str("\"0.012500000000000000001\"").unwrap();
        assert_eq!(from_number, from_string);
        assert_eq!(from_number.to_string(), "0.012500000000000000001");
    }

    #[test]
    fn serializes_as_an_exact_json_number() {
        let d: Decimal = "12.50".parse().unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "12.5");
        let big: Decimal = "1E+3".parse().unwrap();
        assert_eq!(serde_json::to_string(&big).unwrap(), "1000");
    }

    #[test]
    fn rejects_non_numbers() {
        assert!(serde_json::from_str::<Decimal>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Decimal>("true").is_err());
        assert!(serde_json::from_str::<Decimal>("\"NaN\"").is_err());
    }

    #[test]
    fn fits_a_numeric_column_exactly() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(d("99999999999999.999999").fits(20, 6));
        assert!(!d("100000000000000").fits(20, 6));
        assert!(!d("1.0000001").fits(20, 6));
        assert!(d("0.000001").fits(8, 6));
        assert!(d("10.5").fits(8, 6));
        assert!(!d("100").fits(8, 6));
        assert!(d("0").fits(8, 6));
        assert_eq!(d("123.4500").integer_digits(), 3);
        assert_eq!(d("0.05").integer_digits(), 0);
        assert_eq!(d("1E+3").integer_digits(), 4);
    }

    #[test]
    fn refuses_inputs_beyond_thirty_digits_either_side() {
        assert!("1e29".parse::<Decimal>().is_ok());
        assert!("1e30".parse::<Decimal>().is_err());
        assert!("1e999999999".parse::<Decimal>().is_err());
        assert!("1e-30".parse::<Decimal>().is_ok());
        assert!("1e-31".parse::<Decimal>().is_err());
    }

    #[test]
    fn counts_fraction_digits() {
        assert_eq!("2.100".parse::<Decimal>().unwrap().fraction_digits(), 1);
        assert_eq!("300".parse::<Decimal>().unwrap().fraction_digits(), 0);
    }
}
