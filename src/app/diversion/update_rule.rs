//! A regulator changes a rule of its country: parameters (merged onto the current ones and
//! checked by the rule), enabled, mode. Every change is a new version; flags keep the version
//! that raised them. Refused with `not_found` for a rule the engine does not know and with
//! `validation_failed` for parameters the rule rejects.

use diesel::PgConnection;
use serde_json::{Map, Value, json};

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType, RuleMode};
use crate::db::models::audit_event::Actor;
use crate::db::models::rule::Rule;
use crate::rules;

/// A request for a rule the engine knows.
#[derive(Debug, Clone)]
pub struct Input {
    pub code: String,
    /// The rule's check of its parameters.
    pub check_params: fn(&Value) -> Result<Value, String>,
    /// Merged onto the current parameters.
    pub params: Option<Map<String, Value>>,
    pub enabled: Option<bool>,
    pub mode: Option<RuleMode>,
}

impl Input {
    /// 404 for a rule code the engine does not know.
    pub fn parse(code: String, params: Option<Map<String, Value>>, enabled: Option<bool>, mode: Option<RuleMode>) -> Result<Input, DomainError> {
        let spec = rules::spec(&code).ok_or_else(|| DomainError::not_found("rule"))?;
        Ok(Input { code, check_params: spec.check_params, params, enabled, mode })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Rule>> {
    let country = actor.country_code.clone().ok_or_else(|| DomainError::forbidden("no country"))?;
    let user_id = actor.user_id.ok_or_else(|| DomainError::forbidden("only a signed-in user may do this"))?;
    let code = input.code;
    let mut rule = Rule::find_for_update(conn, &country, &code)?.ok_or_else(|| DomainError::not_found("rule"))?;
    let before = (rule.version, rule.params.clone(), rule.enabled, rule.mode);
    if let Some(changes) = &input.params {
        let mut params = rule.params.as_object().cloned().unwrap_or_default();
        for (k, v) in changes {
            params.insert(k.clone(), v.clone());
        }
        rule.params = (input.check_params)(&Value::Object(params)).map_err(|m| DomainError::field("/params", m))?;
    }
    if let Some(enabled) = input.enabled {
        rule.enabled = enabled;
    }
    if let Some(mode) = input.mode {
        rule.mode = mode;
    }
    rule.version += 1;
    let saved = Rule::save_version(conn, &rule, user_id)?;
    let audit = AuditEntry::new(
        AuditAction::UpdateRule,
        ResourceType::Rule,
        code,
        Some(&country),
        json!({"before": {"version": before.0, "params": before.1, "enabled": before.2, "mode": before.3}, "after": {"version": saved.version, "params": saved.params, "enabled": saved.enabled, "mode": saved.mode}}),
    );
    Ok(Outcome::done(saved, audit))
}
