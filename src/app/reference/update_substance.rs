//! The admin records a new version of a substance's reference values: values left out keep
//! those in force on the new version's `effective_from`; history is never overwritten.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::reference::{SubstanceValues, SubstanceVersion, new_version};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::substance::{ReferenceValues, Substance};
use crate::domain::ids::SubstanceId;

#[derive(Debug, Clone)]
pub struct Input {
    pub substance_id: SubstanceId,
    pub values: SubstanceValues,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<SubstanceVersion>> {
    let id = input.substance_id;
    let mut substance = Substance::find(conn, id)?.ok_or_else(|| DomainError::not_found("substance"))?;
    let basket_before = substance.in_sddd_basket;
    if let Some(in_basket) = input.values.in_sddd_basket {
        substance = Substance::set_in_sddd_basket(conn, id, in_basket)?;
    }
    let as_of = input.values.effective_from.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let base = ReferenceValues::in_force_for(conn, id, as_of)?;
    let values = ReferenceValues::insert(conn, &new_version(id, base, input.values, actor.user_id)?)?;
    let audit = AuditEntry::new(
        AuditAction::UpdateSubstance,
        ResourceType::Substance,
        id,
        None,
        json!({
            "version_id": values.id,
            "effective_from": values.effective_from,
            "source": values.source,
            "in_sddd_basket": {"before": basket_before, "after": substance.in_sddd_basket},
        }),
    );
    Ok(Outcome::done(SubstanceVersion { substance, values }, audit))
}
