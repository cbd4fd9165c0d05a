//! The regional exchange's tables: `exchange_policies` and `exchange_pushes` (national
//! side), `exchange_keys` and `exchange_packages` (hub side).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::enums::{ExchangeSection, PushStatus};
use crate::db::schema::{exchange_keys, exchange_packages, exchange_policies, exchange_pushes};
use crate::domain::ids::{ExchangeKeyId, ExchangePackageId, ExchangePushId, UserId};

/// A country's sharing policy (no row: nothing is shared).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exchange_policies)]
pub struct ExchangePolicy {
    pub country_code: String,
    pub shared: Vec<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<UserId>,
}

impl ExchangePolicy {
    pub fn find(conn: &mut PgConnection, country: &str) -> QueryResult<Option<ExchangePolicy>> {
        exchange_policies::table.find(country).select(ExchangePolicy::as_select()).first(conn).optional()
    }

    /// Replaces the country's policy.
    pub fn put(conn: &mut PgConnection, country: &str, shared: &[ExchangeSection], by: Option<UserId>) -> QueryResult<ExchangePolicy> {
        let shared: Vec<String> = shared.iter().map(|s| s.as_str().to_owned()).collect();
        diesel::insert_into(exchange_policies::table)
            .values((
                exchange_policies::country_code.eq(country),
                exchange_policies::shared.eq(&shared),
                exchange_policies::updated_at.eq(Utc::now()),
                exchange_policies::updated_by.eq(by),
            ))
            .on_conflict(exchange_policies::country_code)
            .do_update()
            .set((exchange_policies::shared.eq(&shared), exchange_policies::updated_at.eq(Utc::now()), exchange_policies::updated_by.eq(by)))
            .returning(ExchangePolicy::as_returning())
            .get_result(conn)
    }

    /// The shared sections, in the vocabulary's order (unknown stored names are skipped).
    pub fn sections(&self) -> Vec<ExchangeSection> {
        ExchangeSection::ALL.iter().copied().filter(|s| self.shared.iter().any(|x| x == s.as_str())).collect()
    }
}

/// A package built for the hub and its delivery.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exchange_pushes)]
pub struct ExchangePush {
    pub id: ExchangePushId,
    pub country_code: String,
    pub month: NaiveDate,
    pub sequence: i64,
    pub content_sha256: Vec<u8>,
    pub envelope: Value,
    pub hub_url: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = exchange_pushes)]
pub struct NewExchangePush<'a> {
    pub country_code: &'a str,
    pub month: NaiveDate,
    pub sequence: i64,
    pub content_sha256: &'a [u8],
    pub envelope: Value,
    pub hub_url: &'a str,
    pub status: &'a str,
}

impl ExchangePush {
    /// The latest push of a country's month.
    pub fn latest_of_month(conn: &mut PgConnection, country: &str, month: NaiveDate) -> QueryResult<Option<ExchangePush>> {
        exchange_pushes::table
            .filter(exchange_pushes::country_code.eq(country))
            .filter(exchange_pushes::month.eq(month))
            .order(exchange_pushes::sequence.desc())
            .select(ExchangePush::as_select())
            .first(conn)
            .optional()
    }

    /// The next sequence number of a country (1 for its first package), locking the
    /// country's pushes so two builds never take the same number.
    pub fn next_sequence(conn: &mut PgConnection, country: &str) -> QueryResult<i64> {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('exchange_pushes:' || $1))")
            .bind::<diesel::sql_types::Text, _>(country)
            .execute(conn)?;
        let max: Option<i64> = exchange_pushes::table
            .filter(exchange_pushes::country_code.eq(country))
            .select(diesel::dsl::max(exchange_pushes::sequence))
            .first(conn)?;
        Ok(max.unwrap_or(0) + 1)
    }

    pub fn insert(conn: &mut PgConnection, row: &NewExchangePush<'_>) -> QueryResult<ExchangePush> {
        diesel::insert_into(exchange_pushes::table).values(row).returning(ExchangePush::as_returning()).get_result(conn)
    }

    /// Records one delivery attempt and where the push stands after it.
    pub fn record_attempt(
        conn: &mut PgConnection,
        id: ExchangePushId,
        hub_url: &str,
        status: PushStatus,
        error: Option<&str>,
    ) -> QueryResult<ExchangePush> {
        let finished = (status != PushStatus::Pending).then(Utc::now);
        diesel::update(exchange_pushes::table.find(id))
            .set((
                exchange_pushes::attempts.eq(exchange_pushes::attempts + 1),
                exchange_pushes::status.eq(status.as_str()),
                exchange_pushes::last_error.eq(error),
                exchange_pushes::hub_url.eq(hub_url),
                exchange_pushes::finished_at.eq(finished),
            ))
            .returning(ExchangePush::as_returning())
            .get_result(conn)
    }
}

/// A country's public key registered on the hub.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exchange_keys)]
pub struct ExchangeKey {
    pub id: ExchangeKeyId,
    pub country_code: String,
    pub public_key: Vec<u8>,
    pub registered_at: DateTime<Utc>,
    pub registered_by: Option<UserId>,
}

impl ExchangeKey {
    pub fn register(conn: &mut PgConnection, country: &str, public_key: &[u8], by: Option<UserId>) -> QueryResult<ExchangeKey> {
        diesel::insert_into(exchange_keys::table)
            .values((exchange_keys::country_code.eq(country), exchange_keys::public_key.eq(public_key), exchange_keys::registered_by.eq(by)))
            .returning(ExchangeKey::as_returning())
            .get_result(conn)
    }

    pub fn by_public_key(conn: &mut PgConnection, public_key: &[u8]) -> QueryResult<Option<ExchangeKey>> {
        exchange_keys::table.filter(exchange_keys::public_key.eq(public_key)).select(ExchangeKey::as_select()).first(conn).optional()
    }

    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<ExchangeKey>> {
        exchange_keys::table.order(exchange_keys::id).select(ExchangeKey::as_select()).load(conn)
    }
}

/// A package accepted by the hub.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exchange_packages)]
pub struct ReceivedPackage {
    pub id: ExchangePackageId,
    pub country_code: String,
    pub month: NaiveDate,
    pub sequence: i64,
    pub schema_version: i32,
    pub key_id: ExchangeKeyId,
    pub package: Value,
    pub signature: Vec<u8>,
    pub received_at: DateTime<Utc>,
    pub received_by: Option<UserId>,
    pub superseded_by: Option<ExchangePackageId>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = exchange_packages)]
pub struct NewReceivedPackage<'a> {
    pub country_code: &'a str,
    pub month: NaiveDate,
    pub sequence: i64,
    pub schema_version: i32,
    pub key_id: ExchangeKeyId,
    pub package: Value,
    pub signature: &'a [u8],
    pub received_by: Option<UserId>,
}

impl ReceivedPackage {
    /// The package of a country with `sequence`, if any.
    pub fn by_sequence(conn: &mut PgConnection, country: &str, sequence: i64) -> QueryResult<Option<ReceivedPackage>> {
        exchange_packages::table
            .filter(exchange_packages::country_code.eq(country))
            .filter(exchange_packages::sequence.eq(sequence))
            .select(ReceivedPackage::as_select())
            .first(conn)
            .optional()
    }

    /// The highest sequence accepted from a country, locking the country's packages so
    /// two deliveries are judged one after the other.
    pub fn last_sequence(conn: &mut PgConnection, country: &str) -> QueryResult<Option<i64>> {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('exchange_packages:' || $1))")
            .bind::<diesel::sql_types::Text, _>(country)
            .execute(conn)?;
        exchange_packages::table.filter(exchange_packages::country_code.eq(country)).select(diesel::dsl::max(exchange_packages::sequence)).first(conn)
    }

    /// Stores a package; the current one of its month, if any, is superseded by it.
    pub fn insert_superseding(conn: &mut PgConnection, row: &NewReceivedPackage<'_>) -> QueryResult<(ReceivedPackage, Option<ExchangePackageId>)> {
        let current: Option<ExchangePackageId> = exchange_packages::table
            .filter(exchange_packages::country_code.eq(row.country_code))
            .filter(exchange_packages::month.eq(row.month))
            .filter(exchange_packages::superseded_by.is_null())
            .select(exchange_packages::id)
            .first(conn)
            .optional()?;
        // The partial unique index allows one current package per month: the earlier one
        // steps aside (pointing at itself for a moment) before the new one goes in.
        if let Some(id) = current {
            diesel::update(exchange_packages::table.find(id)).set(exchange_packages::superseded_by.eq(id)).execute(conn)?;
        }
        let stored: ReceivedPackage =
            diesel::insert_into(exchange_packages::table).values(row).returning(ReceivedPackage::as_returning()).get_result(conn)?;
        if let Some(id) = current {
            diesel::update(exchange_packages::table.find(id)).set(exchange_packages::superseded_by.eq(stored.id)).execute(conn)?;
        }
        Ok((stored, current))
    }

    /// The current packages of the months from `from` to `to`, every country.
    pub fn current_between(conn: &mut PgConnection, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<ReceivedPackage>> {
        exchange_packages::table
            .filter(exchange_packages::superseded_by.is_null())
            .filter(exchange_packages::month.ge(from))
            .filter(exchange_packages::month.le(to))
            .order((exchange_packages::country_code, exchange_packages::month))
            .select(ReceivedPackage::as_select())
            .load(conn)
    }

    /// How many earlier packages of a country's month were superseded.
    pub fn superseded_count(conn: &mut PgConnection, country: &str, month: NaiveDate) -> QueryResult<i64> {
        exchange_packages::table
            .filter(exchange_packages::country_code.eq(country))
            .filter(exchange_packages::month.eq(month))
            .filter(exchange_packages::superseded_by.is_not_null())
            .count()
            .get_result(conn)
    }
}
