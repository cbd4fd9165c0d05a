//! The regulator sets which sections of its country's packages are shared with the hub
//! (replacing the policy; an empty list shares nothing).

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::AppResult;
use crate::app::exchange::Policy;
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ExchangeSection, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::exchange::ExchangePolicy;

#[derive(Debug, Clone)]
pub struct Input {
    pub country_code: String,
    pub shared: Vec<ExchangeSection>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Policy>> {
    let mut shared = input.shared;
    shared.sort();
    shared.dedup();
    let policy = Policy::from(ExchangePolicy::put(conn, &input.country_code, &shared, actor.user_id)?);
    let audit = AuditEntry::new(
        AuditAction::PutExchangePolicy,
        ResourceType::ExchangePolicy,
        &input.country_code,
        Some(&input.country_code),
        json!({"shared": policy.shared, "withheld": policy.withheld()}),
    );
    Ok(Outcome::done(policy, audit))
}
