//! A regulator of the flag's country comments on a flag: `internal` for regulators,
//! `official` also shown to the facility the flag is about.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, CommentVisibility, FlagEventAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::flag::{Flag, FlagEvent, NewFlagEvent};
use crate::domain::ids::FlagId;

#[derive(Debug, Clone)]
pub struct Input {
    pub flag_id: FlagId,
    pub body: String,
    pub visibility: CommentVisibility,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<FlagEvent>> {
    let id = input.flag_id;
    let flag = Flag::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("flag"))?;
    policy::check_country(actor, &flag.country_code)?;
    let event = FlagEvent::record(
        conn,
        &NewFlagEvent {
            flag_id: id,
            action: FlagEventAction::Comment,
            from_status: None,
            to_status: None,
            note: Some(&input.body),
            visibility: Some(input.visibility),
            user_id: actor.user_id,
            scan_id: None,
        },
    )?;
    let audit = AuditEntry::new(
        AuditAction::CreateFlagComment,
        ResourceType::Flag,
        id,
        Some(&flag.country_code),
        json!({"event_id": event.id, "visibility": input.visibility}),
    );
    Ok(Outcome::done(event, audit))
}
