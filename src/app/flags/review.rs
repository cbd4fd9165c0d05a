//! A regulator of the flag's country moves a flag through its review — open → under_review →
//! confirmed or dismissed (with a reason) → reopened — and assigns it to an active regulator
//! of the country (or unassigns it). Refused with `invalid_transition` for a move the
//! workflow does not allow.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, FlagEventAction, FlagStatus, ResourceType, Role};
use crate::db::models::audit_event::Actor;
use crate::db::models::flag::{Flag, FlagEvent, NewFlagEvent};
use crate::db::models::user::User;
use crate::domain::ids::{FlagId, UserId};

/// A checked request: a status, an assignment or both; a note with a confirmation or dismissal.
#[derive(Debug, Clone)]
pub struct Input {
    pub flag_id: FlagId,
    pub status: Option<FlagStatus>,
    pub note: Option<String>,
    /// `Some(None)` unassigns.
    pub assigned_to: Option<Option<UserId>>,
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(
        flag_id: FlagId,
        status: Option<FlagStatus>,
        note: Option<String>,
        assigned_to: Option<Option<UserId>>,
    ) -> Result<Input, DomainError> {
        if status.is_none() && assigned_to.is_none() {
            return Err(DomainError::field("/status", "give a status, an assignment, or both"));
        }
        if matches!(status, Some(FlagStatus::Confirmed | FlagStatus::Dismissed)) && note.is_none() {
            return Err(DomainError::field("/note", "a reason is required to confirm or dismiss a flag"));
        }
        Ok(Input { flag_id, status, note, assigned_to })
    }
}

/// The flag after the review and its whole trail.
#[derive(Debug)]
pub struct Reviewed {
    pub flag: Flag,
    pub events: Vec<FlagEvent>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Reviewed>> {
    let id = input.flag_id;
    let mut flag = Flag::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("flag"))?;
    policy::check_country(actor, &flag.country_code)?;
    if let Some(next) = input.status
        && next != flag.status
    {
        if !flag.status.can_move_to(next) {
            return Err(DomainError::new(ProblemCode::InvalidTransition, format!("a flag cannot move from {} to {}", flag.status, next))
                .with_error(FieldError::at("/status", format!("not allowed from {}", flag.status)))
                .into());
        }
        let from = flag.status;
        flag = Flag::set_status(conn, id, next)?;
        FlagEvent::record(
            conn,
            &NewFlagEvent {
                flag_id: id,
                action: FlagEventAction::Status,
                from_status: Some(from),
                to_status: Some(next),
                note: input.note.as_deref(),
                visibility: None,
                user_id: actor.user_id,
                scan_id: None,
            },
        )?;
    }
    if let Some(assignee) = input.assigned_to {
        if let Some(user_id) = assignee {
            let user = User::find(conn, user_id)?.ok_or_else(|| DomainError::field("/assigned_to", "unknown user"))?;
            if user.role != Role::Regulator || user.country_code.as_deref() != Some(flag.country_code.as_str()) || !user.active {
                return Err(DomainError::field("/assigned_to", "must be an active regulator of the flag's country").into());
            }
        }
        flag = Flag::assign(conn, id, assignee)?;
        FlagEvent::record(
            conn,
            &NewFlagEvent {
                flag_id: id,
                action: FlagEventAction::Assigned,
                from_status: None,
                to_status: None,
                note: assignee.map(|u| format!("assigned to user {u}")).as_deref(),
                visibility: None,
                user_id: actor.user_id,
                scan_id: None,
            },
        )?;
    }
    let audit = AuditEntry::new(
        AuditAction::UpdateFlag,
        ResourceType::Flag,
        id,
        Some(&flag.country_code),
        json!({"status": input.status, "note": input.note, "assigned_to": input.assigned_to}),
    );
    let events = FlagEvent::of_flag(conn, id)?;
    Ok(Outcome::done(Reviewed { flag, events }, audit))
}
