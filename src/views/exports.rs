//! Export authorizations and shipments against them on the wire.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::db::models::export_authorization::ExportAuthorization;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{ExportAuthorizationId, FacilityId, ProductId, SubstanceId, UserId};
use crate::views::supply::StockEventView;
use crate::views::{envelope, list_page};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportAuthorizationRequest {
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub number: String,
    /// The licensed importer or wholesaler whose stock is exported.
    #[schema(value_type = i64)]
    pub exporter_facility_id: FacilityId,
    /// ISO 3166-1 alpha-2 code of the importing country.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub importing_country: String,
    /// The import certificate (or authorization) number the importing country issued.
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub import_certificate_number: String,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(minimum = 1, maximum = 1000000000)]
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub quantity_units: i64,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportAuthorizationView {
    #[schema(value_type = i64)]
    pub id: ExportAuthorizationId,
    pub number: String,
    pub country_code: String,
    #[schema(value_type = i64)]
    pub exporter_facility_id: FacilityId,
    pub importing_country: String,
    pub import_certificate_number: String,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub quantity_units: i64,
    /// Grams of base authorized (units × base content).
    pub quantity_g: Decimal,
    /// The year of `valid_from`.
    pub year: i32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub shipped_units: i64,
    pub remaining_units: i64,
    #[schema(value_type = Option<i64>)]
    pub issued_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl ExportAuthorizationView {
    pub fn new(a: ExportAuthorization, shipped_units: i64) -> Self {
        ExportAuthorizationView {
            id: a.id,
            number: a.number,
            country_code: a.country_code,
            exporter_facility_id: a.exporter_facility_id,
            importing_country: a.importing_country,
            import_certificate_number: a.import_certificate_number,
            product_id: a.product_id,
            substance_id: a.substance_id,
            remaining_units: a.quantity_units - shipped_units,
            quantity_units: a.quantity_units,
            quantity_g: a.quantity_g.into(),
            year: a.year,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            shipped_units,
            issued_by: a.issued_by,
            created_at: a.created_at,
        }
    }
}

envelope!(ExportAuthorizationEnvelope, export_authorization, ExportAuthorizationView);
list_page!(ExportAuthorizationList, export_authorizations, ExportAuthorizationView);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportAuthorizationQuery {
    /// Admin only (others see their country; exporters their own).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(value_type = Option<i64>)]
    pub exporter_facility_id: Option<FacilityId>,
    pub year: Option<i32>,
    #[param(value_type = Option<i64>)]
    pub substance_id: Option<SubstanceId>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportShipmentRequest {
    #[schema(minimum = 1, maximum = 1000000000)]
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub quantity_units: i64,
    pub shipped_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportShipmentResponse {
    /// The `export` ledger entry debiting the exporter's stock.
    pub stock_event: StockEventView,
    pub export_authorization: ExportAuthorizationView,
}
