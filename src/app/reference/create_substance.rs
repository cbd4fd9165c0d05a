//! The admin adds a substance by its INN with the first version of its reference values;
//! refused with `substance_exists` when the INN is known (a new version is an update).

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::reference::{SubstanceValues, SubstanceVersion, new_version};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::substance::{ReferenceValues, Substance};

/// A checked request: `inn` is trimmed and lower-case.
#[derive(Debug, Clone)]
pub struct Input {
    pub inn: String,
    pub values: SubstanceValues,
}

impl Input {
    /// Checks what the request's shape cannot say: an INN is given, of lower-case letters,
    /// digits, spaces and '-', starting with a letter.
    pub fn parse(inn: Option<&str>, values: SubstanceValues) -> Result<Input, DomainError> {
        let inn = inn.ok_or_else(|| DomainError::field("/inn", "is required"))?.trim().to_lowercase();
        if !inn.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            || !inn.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return Err(DomainError::field("/inn", "use lower-case letters, digits, spaces and '-'"));
        }
        Ok(Input { inn, values })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<SubstanceVersion>> {
    let inn = input.inn;
    if Substance::find_by_inn(conn, &inn)?.is_some() {
        return Err(DomainError::new(ProblemCode::SubstanceExists, format!("{inn} exists; PATCH it to add a version")).into());
    }
    let substance = Substance::create(conn, &inn, input.values.in_sddd_basket.unwrap_or(false))?;
    let values = ReferenceValues::insert(conn, &new_version(substance.id, None, input.values, actor.user_id)?)?;
    let audit = AuditEntry::new(
        AuditAction::CreateSubstance,
        ResourceType::Substance,
        substance.id,
        None,
        json!({"inn": inn, "version_id": values.id, "in_sddd_basket": substance.in_sddd_basket}),
    );
    Ok(Outcome::done(SubstanceVersion { substance, values }, audit))
}
