//! Patient pseudonyms: HMAC-SHA-256 of the national identifier under the server's key.
//!
//! The same person gets the same pseudonym in every pharmacy of a country (which is what
//! makes cross-pharmacy patterns visible); the country is part of the message, so the same
//! identifier in two countries does not link. The identifier is normalised first (spaces and
//! dashes dropped, letters upper-cased) so formatting differences do not split a patient.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const PSEUDONYM_BYTES: usize = 32;

/// The identifier in canonical form, or `None` if it is not 1 to 64 letters and digits.
pub fn normalize(national_id: &str) -> Option<String> {
    let canonical: String = national_id.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect();
    let ok = (1..=64).contains(&canonical.chars().count()) && canonical.chars().all(char::is_alphanumeric);
    ok.then_some(canonical)
}

/// The pseudonym of a national identifier in `country`, or `None` for a malformed identifier.
pub fn pseudonym(key: &[u8], country: &str, national_id: &str) -> Option<[u8; PSEUDONYM_BYTES]> {
    let canonical = normalize(national_id)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(country.as_bytes());
    mac.update(b":");
    mac.update(canonical.as_bytes());
    Some(mac.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a-test-key-of-at-least-32-bytes!!";

    #[test]
    fn formatting_does_not_split_a_patient() {
        let a = pseudonym(KEY, "KZ", "870412-300-123").unwrap();
        let b = pseudonym(KEY, "KZ", "870412 300123").unwrap();
        assert_eq!(a, b);
        assert_eq!(pseudonym(KEY, "KZ", "ab12").unwrap(), pseudonym(KEY, "KZ", "AB12").unwrap());
    }

    #[test]
    fn keys_and_countries_separate_pseudonyms() {
        let a = pseudonym(KEY, "KZ", "870412300123").unwrap();
        assert_ne!(a, pseudonym(KEY, "UZ", "870412300123").unwrap());
        assert_ne!(a, pseudonym(b"another-key-of-at-least-32-bytes!!", "KZ", "870412300123").unwrap());
        assert_ne!(a, pseudonym(KEY, "KZ", "870412300124").unwrap());
    }

    #[test]
    fn malformed_identifiers_have_no_pseudonym() {
        assert!(pseudonym(KEY, "KZ", "").is_none());
        assert!(pseudonym(KEY, "KZ", " - ").is_none());
        assert!(pseudonym(KEY, "KZ", "12/34").is_none());
        assert!(pseudonym(KEY, "KZ", &"1".repeat(65)).is_none());
    }
}
