//! API key secrets: `tz_` and 64 hex digits (256 random bits), stored as their SHA-256.
//!
//! A plain, fast hash is enough here, unlike for passwords: argon2 exists to make guessing
//! low-entropy human passwords expensive, but a 256-bit random secret cannot be guessed or
//! found from its hash, however fast the hash. A fast hash also lets the key be found by
//! an indexed equality on the hash, one read per request.

use sha2::{Digest, Sha256};

/// What every key starts with; `Authorization: Bearer tz_...` is a key, anything else a JWT.
pub const PREFIX: &str = "tz_";

/// Characters of the key shown in lists to recognise it (`tz_` and 8 hex digits).
const SHOWN: usize = PREFIX.len() + 8;

/// A freshly generated key.
pub struct Generated {
    /// The whole key, shown once.
    pub secret: String,
    /// Its first characters, kept to recognise it.
    pub prefix: String,
    pub sha256: [u8; 32],
}

pub fn generate() -> Generated {
    let secret = format!("{PREFIX}{}", crate::config::random_hex(32));
    Generated { prefix: secret[..SHOWN].to_owned(), sha256: hash(&secret), secret }
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether a bearer credential is shaped like a key.
pub fn looks_like_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert_eq!(a.secret.len(), 3 + 64);
        assert!(a.secret.starts_with("tz_") && a.secret.starts_with(&a.prefix));
        assert_ne!(a.secret, b.secret);
        assert_eq!(hash(&a.secret), a.sha256);
        assert!(looks_like_key(&a.secret) && !looks_like_key("eyJhbGciOi"));
    }
}
