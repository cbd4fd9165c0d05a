//! The OpenAPI document: paths collected from the router, the bearer scheme, and the
//! problem responses every operation can give. Builds without a database.

use actix_web::App;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use utoipa::PartialSchema;
use utoipa::openapi::schema::Schema;

use crate::app::error::FieldError;
use crate::db::enums::{self, Vocabulary};
use crate::error::{PROBLEM_CONTENT_TYPE, ProblemDocument};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tarozi API",
        description = "Opioid analgesic availability and diversion monitoring: INCB estimates, import authorizations, \
                       the stock ledger from importer to pharmacy, dispensing, availability analytics and diversion flags.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ProblemDocument, FieldError)),
    modifiers(&Conventions),
    tags(
        (name = "auth", description = "Login and the caller's identity"),
        (name = "users", description = "User accounts (admin)"),
        (name = "reference data", description = "Substances, products, countries, regions and population"),
        (name = "facilities", description = "Licensed establishments"),
        (name = "supply chain", description = "Estimates, import authorizations and receipts, transfers"),
        (name = "stock", description = "The stock ledger, balances, inventory counts and reversals"),
        (name = "dispensing", description = "Dispensing to patients (batches of up to 10 000 records) and monthly reporting periods"),
        (name = "analytics", description = "Availability, consumption, estimates, stock-outs, mass balance, the regional view"),
        (name = "reports", description = "INCB Form C and Form A, JSON or CSV"),
        (name = "diversion", description = "Rules, scans and the flag list with its review workflow"),
        (name = "audit", description = "The append-only audit log"),
        (name = "exchange", description = "The regional exchange: the sharing policy of a national instance; on the hub, countries' keys and signed packages"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// Bearer auth by default, and `4XX`/`5XX` problem responses on every operation.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer_auth", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()));
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("The TAROZI_METRICS_TOKEN of the instance")).build(),
            ),
        );
        openapi.security = Some(vec![SecurityRequirement::new("bearer_auth", Vec::<String>::new())]);
    }
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::response::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_CONTENT_TYPE, ContentBuilder::new().schema(Some(Ref::from_schema_name("ProblemDocument"))).build())
        .into()
}

/// Every closed vocabulary of the API: each is a component schema of the document, and the
/// contract test checks the document's enum values against these serializations.
macro_rules! vocabularies {
    ($($t:ty),+ $(,)?) => {
        /// `(schema name, values as serialized)` of every string enum on the wire.
        pub fn vocabularies() -> Vec<(&'static str, Vec<String>)> {
            vec![$((<$t as Vocabulary>::schema_name(), <$t as Vocabulary>::values())),+]
        }

        fn vocabulary_schemas() -> Vec<(&'static str, RefOr<Schema>)> {
            vec![$((<$t as Vocabulary>::schema_name(), <$t as PartialSchema>::schema())),+]
        }
    };
}

vocabularies!(
    enums::Role,
    enums::FacilityKind,
    enums::Convention,
    enums::Schedule,
    enums::DosageForm,
    enums::Unit,
    enums::Sex,
    enums::AgeBand,
    enums::EstimateKind,
    enums::StockEventKind,
    enums::ReportedEventKind,
    enums::TransferStatus,
    enums::PatientSex,
    enums::Indication,
    enums::PeriodStatus,
    enums::RuleCategory,
    enums::RuleMode,
    enums::Severity,
    enums::SubjectType,
    enums::FlagStatus,
    enums::FlagEventAction,
    enums::CommentVisibility,
    enums::ScanTrigger,
    enums::ScanStatus,
    enums::NotEvaluatedReason,
    crate::views::analytics::GroupBy,
    crate::views::analytics::ReportFormat,
    crate::app::dispensing::RecordStatus,
    crate::app::error::ProblemCode,
    enums::AuditAction,
    enums::ResourceType,
    enums::ExchangeSection,
    crate::views::exchange::ExchangeMonthStatus,
    crate::views::analytics::RegionalSource,
);

/// The complete document, as served at `/openapi.json` and committed as `openapi/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(crate::router::configure).split_for_parts();
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema) in vocabulary_schemas() {
        components.schemas.insert(name.to_owned(), schema);
    }
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            responses
                .entry("4XX".to_owned())
                .or_insert_with(|| problem_response("Client error: bad input, not authenticated, forbidden, not found or conflict"));
            responses.entry("5XX".to_owned()).or_insert_with(|| problem_response("Server error or database unavailable"));
        }
    }
    api
}

/// The document as pretty JSON with a trailing newline.
pub fn spec_json() -> String {
    let mut text = spec().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
