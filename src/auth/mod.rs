//! Authentication and authorization: argon2id passwords, JWT access tokens, the `Caller`
//! extractor with its scope checks, and login rate limiting.

pub mod api_key;
pub mod caller;
pub mod client_addr;
pub mod jwt;
pub mod password;
pub mod rate_limit;

pub use caller::Caller;
