//! Who may read one flag, and whether with its evidence: the regulator of its country and
//! the admin everything; the ministry availability findings only; a facility's users the
//! active flags about their own facility, without evidence and with the official comments
//! of its trail only. `GET /flags/{id}` and the flag's page read it through [`detail`].

use diesel::PgConnection;

use crate::app::error::{AppResult, DomainError};
use crate::app::policy;
use crate::db::enums::{CommentVisibility, FlagEventAction, Role, RuleCategory, RuleMode};
use crate::db::models::audit_event::Actor;
use crate::db::models::flag::{Flag, FlagEvent};
use crate::domain::ids::FlagId;

/// One flag as its reader may see it.
#[derive(Debug, Clone)]
pub struct Readable {
    pub flag: Flag,
    /// Whether the reader sees the evidence and the whole trail.
    pub with_evidence: bool,
    /// The trail the reader may see, oldest first.
    pub events: Vec<FlagEvent>,
}

/// The flag `id` as `actor` may read it: 404 when there is none, 403 when it is not theirs.
pub fn detail(conn: &mut PgConnection, actor: &Actor, id: FlagId) -> AppResult<Readable> {
    let flag = Flag::find(conn, id)?.ok_or_else(|| DomainError::not_found("flag"))?;
    let with_evidence = access(actor, &flag)?;
    let official_comment = |e: &FlagEvent| e.action == FlagEventAction::Comment && e.visibility == Some(CommentVisibility::Official);
    let events = FlagEvent::of_flag(conn, id)?.into_iter().filter(|e| with_evidence || official_comment(e)).collect();
    Ok(Readable { flag, with_evidence, events })
}

/// `Ok(with_evidence)` when `actor` may read `flag`, 403 otherwise.
pub fn access(actor: &Actor, flag: &Flag) -> Result<bool, DomainError> {
    match actor.role {
        Some(Role::Admin) => Ok(true),
        Some(Role::Regulator) => policy::check_country(actor, &flag.country_code).map(|_| true),
        Some(Role::Ministry) if flag.category == RuleCategory::Availability => policy::check_country(actor, &flag.country_code).map(|_| true),
        Some(Role::Ministry) => Err(DomainError::forbidden("the ministry reads diversion flags as counts only")),
        Some(Role::Pharmacy | Role::Wholesaler)
            if flag.facility_id.is_some() && flag.facility_id == actor.facility_id && flag.mode == RuleMode::Active =>
        {
            Ok(false)
        }
        _ => Err(DomainError::forbidden("no access to this flag")),
    }
}
