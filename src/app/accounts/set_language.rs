//! A user chooses the language of its dashboard pages, remembered for its next sign-in.
//! The language must be one the dashboard has a catalogue for (the front door passes the
//! list it knows); choosing the one already set writes nothing.

use diesel::PgConnection;
use serde_json::json;

use crate::app::accounts::user_id;
use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::user_preference;

#[derive(Debug, Clone)]
pub struct Input {
    pub language: String,
}

impl Input {
    /// 422 naming `/language` unless `language` is one of `known`.
    pub fn parse(language: &str, known: &[String]) -> Result<Input, DomainError> {
        if known.iter().any(|k| k == language) {
            Ok(Input { language: language.to_owned() })
        } else {
            Err(DomainError::field("/language", format!("must be one of: {}", known.join(", "))))
        }
    }
}

/// The language now set.
pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<String>> {
    let id = user_id(actor)?;
    if user_preference::language_of(conn, id)?.as_deref() == Some(input.language.as_str()) {
        return Ok(Outcome::unchanged(input.language));
    }
    user_preference::set_language(conn, id, &input.language)?;
    let audit = AuditEntry::new(AuditAction::SetLanguage, ResourceType::User, id, actor.country_code.as_deref(), json!({"language": input.language}));
    Ok(Outcome::done(input.language, audit))
}
