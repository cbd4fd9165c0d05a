//! A regulator issues an import authorization to a licensed importer of its country;
//! refused with `estimate_exceeded` (stating the headroom) when the year's authorized imports
//! of the substance would pass the estimate in force.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, FacilityKind, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::estimate::Estimate;
use crate::db::models::facility::Facility;
use crate::db::models::import_authorization::{ImportAuthorization, NewImportAuthorization};
use crate::db::models::product::Product;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, ProductId};
use crate::domain::quantities::{base_g, units_within};

/// A checked request: `exporting_country` upper-cased (the request's shape checked the code), the validity ordered.
#[derive(Debug, Clone)]
pub struct Input {
    pub number: String,
    pub importer_facility_id: FacilityId,
    pub exporting_country: String,
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(
        number: &str,
        importer_facility_id: FacilityId,
        exporting_country: &str,
        product_id: ProductId,
        quantity_units: i64,
        valid_from: NaiveDate,
        valid_until: NaiveDate,
    ) -> Result<Input, DomainError> {
        let exporting = exporting_country.to_uppercase();
        if valid_until < valid_from {
            return Err(DomainError::field("/valid_until", "must not be before valid_from"));
        }
        Ok(Input {
            number: number.trim().to_owned(),
            importer_facility_id,
            exporting_country: exporting,
            product_id,
            quantity_units,
            valid_from,
            valid_until,
        })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<ImportAuthorization>> {
    let importer =
        Facility::find(conn, input.importer_facility_id)?.ok_or_else(|| DomainError::field("/importer_facility_id", "unknown facility"))?;
    policy::check_country(actor, &importer.country_code)?;
    if !matches!(importer.kind, FacilityKind::Importer | FacilityKind::Wholesaler) {
        return Err(DomainError::field("/importer_facility_id", "must be a licensed importer or wholesaler").into());
    }
    if !importer.licensed_on(input.valid_from) {
        return Err(DomainError::field("/importer_facility_id", "the importer's licence has expired by valid_from").into());
    }
    if input.exporting_country == importer.country_code {
        return Err(DomainError::field("/exporting_country", "must be another country").into());
    }
    let product = Product::find(conn, input.product_id)?.ok_or_else(|| DomainError::field("/product_id", "unknown product"))?;
    let year = input.valid_from.year();
    let grams = base_g(input.quantity_units, &product.base_mg_per_unit);
    // Serialise authorizations of one country, substance and year.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(format!("estimate:{}:{}:{year}", importer.country_code, product.substance_id))
        .execute(conn)?;
    let estimate = Estimate::total_g(conn, &importer.country_code, product.substance_id, year)?.unwrap_or_default();
    let authorized = ImportAuthorization::authorized_g(conn, &importer.country_code, product.substance_id, year)?;
    let headroom = (&estimate - &authorized).max(Default::default());
    if &authorized + &grams > estimate {
        let grams_value = |g: bigdecimal::BigDecimal| serde_json::to_value(Decimal::from(g)).unwrap_or_default();
        return Err(DomainError::new(
            ProblemCode::EstimateExceeded,
            format!(
                "{year} imports of this substance would exceed the estimate in force: {} g of base left, {} g asked",
                Decimal::from(headroom.clone()),
                Decimal::from(grams.clone())
            ),
        )
        .with("headroom_g", grams_value(headroom.clone()))
        .with("headroom_units", units_within(&headroom, &product.base_mg_per_unit))
        .with("estimate_g", grams_value(estimate))
        .with("authorized_g", grams_value(authorized))
        .with("requested_g", grams_value(grams))
        .into());
    }
    let authorization = ImportAuthorization::create(
        conn,
        &NewImportAuthorization {
            number: &input.number,
            country_code: &importer.country_code,
            importer_facility_id: importer.id,
            exporting_country: &input.exporting_country,
            product_id: product.id,
            substance_id: product.substance_id,
            quantity_units: input.quantity_units,
            quantity_g: grams,
            year,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            issued_by: actor.user_id,
        },
    )
    .map_err(unique_violation_as(
        DomainError::new(ProblemCode::AuthorizationNumberTaken, "an authorization with this number exists")
            .with_error(FieldError::at("/number", "is taken")),
    ))?;
    let audit = AuditEntry::new(
        AuditAction::CreateImportAuthorization,
        ResourceType::ImportAuthorization,
        authorization.id,
        Some(&authorization.country_code),
        json!({"number": authorization.number, "importer_facility_id": importer.id, "product_id": product.id, "quantity_units": authorization.quantity_units, "quantity_g": authorization.quantity_g.to_string()}),
    );
    Ok(Outcome::done(authorization, audit))
}
