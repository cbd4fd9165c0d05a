//! Signing and verifying packages: Ed25519 (ed25519-dalek) over the canonical serialization
//! of the package (`canonical_bytes`): its JSON as the package schema writes it, members in
//! byte order of their names, no insignificant white space, decimals as exact JSON numbers
//! in their shortest form. The hub re-derives the same bytes from the package it parsed
//! with the same schema, so any changed number breaks the signature.
//!
//! The instance's signing key is 32 secret bytes, from `TAROZI_EXCHANGE_SIGNING_KEY` (64 hex
//! digits) or generated once into `<data dir>/exchange-signing-key` like the other secrets.

use std::path::Path;

use anyhow::{Context, bail};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::exchange::package::Package;

/// The canonical bytes of a package: what is signed and verified.
pub fn canonical_bytes(package: &Package) -> serde_json::Result<Vec<u8>> {
    // `serde_json::Value` keeps object members ordered by name (no `preserve_order`), so
    // the detour through it sorts every object of the document.
    let value = serde_json::to_value(package)?;
    serde_json::to_vec(&value)
}

/// Signs a package: the signature, 128 hex digits.
pub fn sign(key: &SigningKey, package: &Package) -> serde_json::Result<String> {
    Ok(hex::encode(key.sign(&canonical_bytes(package)?).to_bytes()))
}

/// Why a package's signature does not hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the signature is not 128 hex digits")]
    Malformed,
    #[error("the signature does not match the package")]
    Mismatch,
}

/// Checks `signature_hex` over the canonical bytes of `package` with `public_key`.
pub fn verify(public_key: &[u8; 32], package: &Package, signature_hex: &str) -> Result<(), SignatureError> {
    let bytes: [u8; 64] = hex::decode(signature_hex).ok().and_then(|b| b.try_into().ok()).ok_or(SignatureError::Malformed)?;
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| SignatureError::Mismatch)?;
    let message = canonical_bytes(package).map_err(|_| SignatureError::Mismatch)?;
    key.verify(&message, &Signature::from_bytes(&bytes)).map_err(|_| SignatureError::Mismatch)
}

/// A public key from 64 hex digits.
pub fn parse_public_key(text: &str) -> Option<[u8; 32]> {
    let bytes: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok().map(|_| bytes)
}

/// The public key of a signing key, 64 hex digits (what the hub's admin registers).
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// A signing key from 64 hex digits of secret.
pub fn signing_key_from_hex(text: &str) -> anyhow::Result<SigningKey> {
    let bytes: [u8; 32] = hex::decode(text.trim()).ok().and_then(|b| b.try_into().ok()).context("an exchange signing key is 64 hex digits")?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A new random signing key.
pub fn generate() -> SigningKey {
    let mut secret = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut secret);
    SigningKey::from_bytes(&secret)
}

/// The instance's signing key: `TAROZI_EXCHANGE_SIGNING_KEY`, or the key file of the data
/// folder, generated (mode 600) the first time.
pub fn load_or_generate(data_dir: &Path) -> anyhow::Result<SigningKey> {
    if let Ok(v) = std::env::var("TAROZI_EXCHANGE_SIGNING_KEY")
        && !v.trim().is_empty()
    {
        return signing_key_from_hex(&v).context("TAROZI_EXCHANGE_SIGNING_KEY");
    }
    let file = data_dir.join("exchange-signing-key");
    if file.exists() {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        return signing_key_from_hex(&text).with_context(|| file.display().to_string());
    }
    let key = generate();
    crate::config::write_private_file(&file, &hex::encode(key.to_bytes()))?;
    if !file.exists() {
        bail!("{} was not written", file.display());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::db::enums::ExchangeSection;
    use crate::exchange::package::{Count, FlagCount, FlagsSection};

    fn package() -> Package {
        Package {
            schema_version: crate::exchange::package::SCHEMA_VERSION,
            country: "KG".into(),
            month: "2026-03".into(),
            sequence: 7,
            generated_at: chrono::Utc.with_ymd_and_hms(2026, 4, 11, 8, 0, 0).unwrap(),
            shared: vec![ExchangeSection::Flags],
            withheld: vec![ExchangeSection::Availability],
            availability: None,
            reporting: None,
            access: None,
            estimates: None,
            flags: Some(FlagsSection {
                counts: vec![FlagCount {
                    rule: "stock_out".into(),
                    severity: crate::db::enums::Severity::High,
                    status: crate::db::enums::FlagStatus::Open,
                    count: Count { value: Some(12), suppressed: false },
                }],
                total: Count { value: Some(12), suppressed: false },
            }),
        }
    }

    #[test]
    fn canonical_bytes_sort_members_and_survive_a_round_trip() {
        let p = package();
        let bytes = canonical_bytes(&p).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"country":"KG","flags":{"counts":[{"count":{"suppressed":false,"value":12},"rule":"stock_out""#), "{text}");
        assert!(!text.contains(' '));
        let again: Package = serde_json::from_slice(&serde_json::to_vec_pretty(&p).unwrap()).unwrap();
        assert_eq!(canonical_bytes(&again).unwrap(), bytes);
    }

    #[test]
    fn a_signature_holds_for_its_package_only() {
        let key = signing_key_from_hex(&"11".repeat(32)).unwrap();
        let public: [u8; 32] = key.verifying_key().to_bytes();
        let p = package();
        let signature = sign(&key, &p).unwrap();
        assert_eq!(verify(&public, &p, &signature), Ok(()));
        let mut changed = p.clone();
        changed.flags.as_mut().unwrap().total.value = Some(13);
        assert_eq!(verify(&public, &changed, &signature), Err(SignatureError::Mismatch));
        let other = generate();
        assert_eq!(verify(&other.verifying_key().to_bytes(), &p, &signature), Err(SignatureError::Mismatch));
        assert_eq!(verify(&public, &p, "abc"), Err(SignatureError::Malformed));
        assert_eq!(parse_public_key(&public_key_hex(&key)), Some(public));
        assert_eq!(parse_public_key("zz"), None);
    }
}
