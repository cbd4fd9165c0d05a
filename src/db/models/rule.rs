//! `rules` and `rule_versions`: each country's configuration of every rule, versioned.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::enums::{RuleCategory, RuleMode};
use crate::db::schema::{rule_versions, rules};
use crate::domain::ids::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rules)]
pub struct Rule {
    pub country_code: String,
    pub code: String,
    pub category: RuleCategory,
    pub description: String,
    pub version: i32,
    pub params: Value,
    pub enabled: bool,
    pub mode: RuleMode,
    pub updated_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = rules)]
pub struct NewRule<'a> {
    pub country_code: &'a str,
    pub code: &'a str,
    pub category: RuleCategory,
    pub description: &'a str,
    pub params: Value,
}

impl Rule {
    pub fn of_country(conn: &mut PgConnection, country: &str) -> QueryResult<Vec<Rule>> {
        rules::table.filter(rules::country_code.eq(country)).order((rules::category, rules::code)).select(Rule::as_select()).load(conn)
    }

    pub fn find_for_update(conn: &mut PgConnection, country: &str, code: &str) -> QueryResult<Option<Rule>> {
        rules::table.find((country, code)).for_update().select(Rule::as_select()).first(conn).optional()
    }

    /// Adds a rule with its first version unless it exists.
    pub fn ensure(conn: &mut PgConnection, new: &NewRule<'_>) -> QueryResult<()> {
        let inserted = diesel::insert_into(rules::table).values(new).on_conflict_do_nothing().execute(conn)?;
        if inserted == 1 {
            diesel::insert_into(rule_versions::table)
                .values((
                    rule_versions::country_code.eq(new.country_code),
                    rule_versions::code.eq(new.code),
                    rule_versions::version.eq(1),
                    rule_versions::params.eq(&new.params),
                    rule_versions::enabled.eq(true),
                    rule_versions::mode.eq(RuleMode::Active),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Stores a new version of the rule (params, enabled, mode).
    pub fn save_version(conn: &mut PgConnection, rule: &Rule, by: UserId) -> QueryResult<Rule> {
        let saved = diesel::update(rules::table.find((&rule.country_code, &rule.code)))
            .set((
                rules::version.eq(rule.version),
                rules::params.eq(&rule.params),
                rules::enabled.eq(rule.enabled),
                rules::mode.eq(rule.mode),
                rules::updated_by.eq(by),
                rules::updated_at.eq(Utc::now()),
            ))
            .returning(Rule::as_returning())
            .get_result(conn)?;
        diesel::insert_into(rule_versions::table)
            .values((
                rule_versions::country_code.eq(&saved.country_code),
                rule_versions::code.eq(&saved.code),
                rule_versions::version.eq(saved.version),
                rule_versions::params.eq(&saved.params),
                rule_versions::enabled.eq(saved.enabled),
                rule_versions::mode.eq(saved.mode),
                rule_versions::changed_by.eq(by),
            ))
            .execute(conn)?;
        Ok(saved)
    }
}
