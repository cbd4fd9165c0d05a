//! The regional exchange's use cases. National side: the regulator's sharing policy
//! (`put_policy`, `policy_of`). Hub side: the admin registers a country's public key
//! (`register_key`), the hub receives signed packages (`receive_package`), and the hub's
//! regional view reads the received packages (`regional`; the API and the pages reach it
//! through `app::regional`). Building, signing and pushing packages is `crate::exchange`.

pub mod put_policy;
pub mod receive_package;
pub mod regional;
pub mod register_key;

use diesel::PgConnection;

use crate::app::error::AppResult;
use crate::db::enums::ExchangeSection;
use crate::db::models::exchange::ExchangePolicy;
use crate::domain::ids::UserId;

/// A country's sharing policy as it stands: the shared sections (none without a policy).
#[derive(Debug, Clone)]
pub struct Policy {
    pub country_code: String,
    pub shared: Vec<ExchangeSection>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_by: Option<UserId>,
}

impl Policy {
    /// The sections not shared.
    pub fn withheld(&self) -> Vec<ExchangeSection> {
        ExchangeSection::ALL.iter().copied().filter(|s| !self.shared.contains(s)).collect()
    }
}

impl From<ExchangePolicy> for Policy {
    fn from(p: ExchangePolicy) -> Self {
        Policy { shared: p.sections(), country_code: p.country_code, updated_at: Some(p.updated_at), updated_by: p.updated_by }
    }
}

/// The sharing policy of `country` (off by default: nothing shared).
pub fn policy_of(conn: &mut PgConnection, country: &str) -> AppResult<Policy> {
    Ok(ExchangePolicy::find(conn, country)?.map(Policy::from).unwrap_or_else(|| Policy {
        country_code: country.to_owned(),
        shared: Vec::new(),
        updated_at: None,
        updated_by: None,
    }))
}
