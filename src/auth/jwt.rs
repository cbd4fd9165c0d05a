//! Access tokens: HS256 JWTs with `exp`, `iss` and `aud`, the algorithm pinned on decode.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::db::enums::Role;
use crate::domain::ids::FacilityId;

pub const ISSUER: &str = "tarozi";
pub const AUDIENCE: &str = "tarozi-api";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub role: Role,
    pub country: Option<String>,
    pub facility: Option<FacilityId>,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn issue(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)?)
    }

    /// The claims of a valid token: signature, algorithm, expiry, issuer and audience checked.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "7".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: 0,
            exp,
            role: Role::Pharmacy,
            country: Some("KZ".into()),
            facility: Some(FacilityId(3)),
        }
    }

    #[test]
    fn round_trips_and_rejects_tampering() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let c = claims(chrono::Utc::now().timestamp() + 60);
        let token = keys.issue(&c).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), c);
        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&token).is_err());
        let expired = keys.issue(&claims(chrono::Utc::now().timestamp() - 5)).unwrap();
        assert!(keys.verify(&expired).is_err());
    }

    #[test]
    fn refuses_other_algorithms() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let c = claims(chrono::Utc::now().timestamp() + 60);
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS384), &c, &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef")).unwrap();
        assert!(keys.verify(&token).is_err());
    }
}
