//! A regulator issues an export authorization to a licensed exporter of its country, naming
//! the importing country and its import certificate. Exports never draw on the exporting
//! country's estimate, so nothing is checked against it.

use chrono::{Datelike, NaiveDate};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, FacilityKind, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::export_authorization::{ExportAuthorization, NewExportAuthorization};
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::domain::ids::{FacilityId, ProductId};
use crate::domain::quantities::base_g;

/// A checked request: `importing_country` upper-cased (the request's shape checked the code), the validity ordered.
#[derive(Debug, Clone)]
pub struct Input {
    pub number: String,
    pub exporter_facility_id: FacilityId,
    pub importing_country: String,
    pub import_certificate_number: String,
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

impl Input {
    /// Checks what the request's shape cannot say.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        number: &str,
        exporter_facility_id: FacilityId,
        importing_country: &str,
        import_certificate_number: &str,
        product_id: ProductId,
        quantity_units: i64,
        valid_from: NaiveDate,
        valid_until: NaiveDate,
    ) -> Result<Input, DomainError> {
        let importing = importing_country.to_uppercase();
        let certificate = import_certificate_number.trim();
        if certificate.is_empty() {
            return Err(DomainError::field("/import_certificate_number", "must not be blank"));
        }
        if valid_until < valid_from {
            return Err(DomainError::field("/valid_until", "must not be before valid_from"));
        }
        Ok(Input {
            number: number.trim().to_owned(),
            exporter_facility_id,
            importing_country: importing,
            import_certificate_number: certificate.to_owned(),
            product_id,
            quantity_units,
            valid_from,
            valid_until,
        })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<ExportAuthorization>> {
    let exporter =
        Facility::find(conn, input.exporter_facility_id)?.ok_or_else(|| DomainError::field("/exporter_facility_id", "unknown facility"))?;
    policy::check_country(actor, &exporter.country_code)?;
    if !matches!(exporter.kind, FacilityKind::Importer | FacilityKind::Wholesaler) {
        return Err(DomainError::field("/exporter_facility_id", "must be a licensed importer or wholesaler").into());
    }
    if !exporter.licensed_on(input.valid_from) {
        return Err(DomainError::field("/exporter_facility_id", "the exporter's licence has expired by valid_from").into());
    }
    if input.importing_country == exporter.country_code {
        return Err(DomainError::field("/importing_country", "must be another country").into());
    }
    let product = Product::find(conn, input.product_id)?.ok_or_else(|| DomainError::field("/product_id", "unknown product"))?;
    let authorization = ExportAuthorization::create(
        conn,
        &NewExportAuthorization {
            number: &input.number,
            country_code: &exporter.country_code,
            exporter_facility_id: exporter.id,
            importing_country: &input.importing_country,
            import_certificate_number: &input.import_certificate_number,
            product_id: product.id,
            substance_id: product.substance_id,
            quantity_units: input.quantity_units,
            quantity_g: base_g(input.quantity_units, &product.base_mg_per_unit),
            year: input.valid_from.year(),
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            issued_by: actor.user_id,
        },
    )
    .map_err(unique_violation_as(
        DomainError::new(ProblemCode::AuthorizationNumberTaken, "an export authorization with this number exists")
            .with_error(FieldError::at("/number", "is taken")),
    ))?;
    let audit = AuditEntry::new(
        AuditAction::CreateExportAuthorization,
        ResourceType::ExportAuthorization,
        authorization.id,
        Some(&authorization.country_code),
        json!({
            "number": authorization.number,
            "exporter_facility_id": exporter.id,
            "importing_country": authorization.importing_country,
            "import_certificate_number": authorization.import_certificate_number,
            "product_id": product.id,
            "quantity_units": authorization.quantity_units,
            "quantity_g": authorization.quantity_g.to_string(),
        }),
    );
    Ok(Outcome::done(authorization, audit))
}
