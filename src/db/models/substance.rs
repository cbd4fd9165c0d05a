//! `substances` and their versioned reference values (S-DDD, morphine-equivalence factor,
//! salt-to-base factor, convention, schedule), each version with its source.

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::enums::{Convention, Schedule};
use crate::db::schema::{substance_reference_values, substances};
use crate::domain::ids::{SubstanceId, SubstanceReferenceValueId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = substances)]
pub struct Substance {
    pub id: SubstanceId,
    pub inn: String,
    pub created_at: DateTime<Utc>,
    /// In the INCB opioid-analgesic basket: its S-DDDs count in the availability total.
    pub in_sddd_basket: bool,
}

/// One version of a substance's reference values.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = substance_reference_values)]
pub struct ReferenceValues {
    pub id: SubstanceReferenceValueId,
    pub substance_id: SubstanceId,
    pub effective_from: NaiveDate,
    pub convention: Convention,
    pub schedule: Option<Schedule>,
    pub sddd_mg: Option<BigDecimal>,
    pub sddd_status: String,
    pub me_factor: Option<BigDecimal>,
    pub me_source: Option<String>,
    pub transdermal_mme_per_mcg_h: Option<BigDecimal>,
    pub reference_salt: Option<String>,
    pub salt_base_factor: Option<BigDecimal>,
    pub notes: Option<String>,
    pub source: String,
    pub recorded_by: Option<UserId>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = substance_reference_values)]
pub struct NewReferenceValues {
    pub substance_id: SubstanceId,
    pub effective_from: NaiveDate,
    pub convention: Convention,
    pub schedule: Option<Schedule>,
    pub sddd_mg: Option<BigDecimal>,
    pub sddd_status: String,
    pub me_factor: Option<BigDecimal>,
    pub me_source: Option<String>,
    pub transdermal_mme_per_mcg_h: Option<BigDecimal>,
    pub reference_salt: Option<String>,
    pub salt_base_factor: Option<BigDecimal>,
    pub notes: Option<String>,
    pub source: String,
    pub recorded_by: Option<UserId>,
}

impl From<ReferenceValues> for NewReferenceValues {
    fn from(v: ReferenceValues) -> Self {
        NewReferenceValues {
            substance_id: v.substance_id,
            effective_from: v.effective_from,
            convention: v.convention,
            schedule: v.schedule,
            sddd_mg: v.sddd_mg,
            sddd_status: v.sddd_status,
            me_factor: v.me_factor,
            me_source: v.me_source,
            transdermal_mme_per_mcg_h: v.transdermal_mme_per_mcg_h,
            reference_salt: v.reference_salt,
            salt_base_factor: v.salt_base_factor,
            notes: v.notes,
            source: v.source,
            recorded_by: v.recorded_by,
        }
    }
}

impl Substance {
    pub fn find(conn: &mut PgConnection, id: SubstanceId) -> QueryResult<Option<Substance>> {
        substances::table.find(id).select(Substance::as_select()).first(conn).optional()
    }

    pub fn find_by_inn(conn: &mut PgConnection, inn: &str) -> QueryResult<Option<Substance>> {
        substances::table.filter(substances::inn.eq(inn)).select(Substance::as_select()).first(conn).optional()
    }

    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Substance>> {
        substances::table.order(substances::id).select(Substance::as_select()).load(conn)
    }

    pub fn create(conn: &mut PgConnection, inn: &str, in_sddd_basket: bool) -> QueryResult<Substance> {
        diesel::insert_into(substances::table)
            .values((substances::inn.eq(inn), substances::in_sddd_basket.eq(in_sddd_basket)))
            .returning(Substance::as_returning())
            .get_result(conn)
    }

    /// Puts the substance in or out of the INCB opioid-analgesic basket.
    pub fn set_in_sddd_basket(conn: &mut PgConnection, id: SubstanceId, in_sddd_basket: bool) -> QueryResult<Substance> {
        diesel::update(substances::table.find(id))
            .set(substances::in_sddd_basket.eq(in_sddd_basket))
            .returning(Substance::as_returning())
            .get_result(conn)
    }
}

impl ReferenceValues {
    /// The version of every substance in force on `as_of` (substances with none are absent).
    pub fn in_force(conn: &mut PgConnection, as_of: NaiveDate) -> QueryResult<Vec<ReferenceValues>> {
        substance_reference_values::table
            .filter(substance_reference_values::effective_from.le(as_of))
            .distinct_on(substance_reference_values::substance_id)
            .order((
                substance_reference_values::substance_id,
                substance_reference_values::effective_from.desc(),
                substance_reference_values::id.desc(),
            ))
            .select(ReferenceValues::as_select())
            .load(conn)
    }

    /// The version of one substance in force on `as_of`.
    pub fn in_force_for(conn: &mut PgConnection, substance_id: SubstanceId, as_of: NaiveDate) -> QueryResult<Option<ReferenceValues>> {
        substance_reference_values::table
            .filter(substance_reference_values::substance_id.eq(substance_id))
            .filter(substance_reference_values::effective_from.le(as_of))
            .order((substance_reference_values::effective_from.desc(), substance_reference_values::id.desc()))
            .select(ReferenceValues::as_select())
            .first(conn)
            .optional()
    }

    /// Every version of one substance, oldest first.
    pub fn history(conn: &mut PgConnection, substance_id: SubstanceId) -> QueryResult<Vec<ReferenceValues>> {
        substance_reference_values::table
            .filter(substance_reference_values::substance_id.eq(substance_id))
            .order((substance_reference_values::effective_from, substance_reference_values::id))
            .select(ReferenceValues::as_select())
            .load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewReferenceValues) -> QueryResult<ReferenceValues> {
        diesel::insert_into(substance_reference_values::table).values(new).returning(ReferenceValues::as_returning()).get_result(conn)
    }
}
