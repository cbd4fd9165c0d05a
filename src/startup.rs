//! Building the HTTP application (`build_app`, shared by the server and the tests) and
//! running it (`Application`), plus first-start bootstrap of the admin user.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use diesel::PgConnection;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::error::DomainError;
use crate::db::DbPool;
use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::models::audit_event::{Actor, AuditEvent};
use crate::db::models::user::{NewUser, User};
use crate::extract::DEFAULT_BODY_BYTES;
use crate::observability::{Metrics, observe};
use crate::operations::PathTable;
use crate::state::AppState;

/// The shared, per-process parts of the application.
#[derive(Clone)]
pub struct Shared {
    pub state: web::Data<AppState>,
    pub metrics: web::Data<Metrics>,
    pub spec: Arc<utoipa::openapi::OpenApi>,
    /// The spec's path templates and their methods, for 405 answers.
    pub paths: web::Data<PathTable>,
}

impl Shared {
    pub fn new(state: AppState) -> Self {
        let spec = crate::openapi::spec();
        let paths = web::Data::new(PathTable::from_spec(&spec));
        Shared { state: web::Data::new(state), metrics: web::Data::new(Metrics::default()), spec: Arc::new(spec), paths }
    }
}

/// CORS for the configured origins only; with none configured the middleware is off, so no
/// response carries CORS headers and a preflight is answered like any other `OPTIONS`.
fn cors(origins: &[String]) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header(crate::idempotency::HEADER)
        .allowed_header(crate::observability::REQUEST_ID_HEADER)
        .expose_headers([header::LOCATION, header::RETRY_AFTER])
        .expose_headers([crate::observability::REQUEST_ID_HEADER, crate::idempotency::REPLAYED_HEADER])
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}

/// The complete actix application: API routes, `/openapi.json`, `/docs`, middleware and
/// problem+json for every error the framework itself raises.
pub fn build_app(
    shared: Shared,
) -> App<impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error, InitError = ()>> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .app_data(shared.state.clone())
        .app_data(shared.metrics.clone())
        .app_data(shared.paths.clone())
        // Bodies read outside `JsonBody` (which carries its own limit) stay small too.
        .app_data(web::PayloadConfig::new(DEFAULT_BODY_BYTES))
        .app_data(
            web::PathConfig::default()
                .error_handler(|err, _| crate::error::to_actix(DomainError::not_found(&format!("resource at this path ({err})")))),
        )
        .configure(crate::router::configure)
        .split_for_parts();
    app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", (*shared.spec).clone()))
        .service(web::redirect("/docs", "/docs/"))
        .configure(|cfg| crate::pages::configure(cfg, &shared.state.settings))
        .default_service(web::to(crate::fallback::no_route))
        .wrap(from_fn(crate::extract::refuse_nul_in_path))
        .wrap(cors(&shared.state.settings.ops.cors_origins))
        .wrap(from_fn(observe))
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
}

impl Application {
    /// Binds `address` (port 0 picks a free port) with `workers` worker threads.
    pub fn build(shared: Shared, address: &str, workers: usize) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(address)?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || build_app(shared.clone())).workers(workers).listen(listener)?.run();
        Ok(Application { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// On first start, creates user `admin`. Returns the password when it was generated
/// (the caller prints it once); `None` if an admin existed or the password was given.
pub fn bootstrap_admin(conn: &mut PgConnection, given_password: Option<String>) -> anyhow::Result<Option<String>> {
    if User::any_admin(conn)? {
        return Ok(None);
    }
    let generated = given_password.is_none();
    let password = given_password.unwrap_or_else(|| crate::config::random_hex(12));
    let hash = crate::auth::password::hash(&password)?;
    let user = User::create(conn, &NewUser { username: "admin", password_hash: &hash, role: Role::Admin, country_code: None, facility_id: None })?;
    AuditEvent::record(
        conn,
        &Actor::default(),
        AuditAction::BootstrapAdmin,
        ResourceType::User,
        Some(user.id.to_string()),
        None,
        serde_json::json!({"username": "admin"}),
    )?;
    Ok(generated.then_some(password))
}

/// Every `interval`, scans the previous day of every country, in its own time (`serve` only;
/// tests do not start it). A failed scan is logged and retried at the next tick.
pub fn spawn_scheduled_scans(pool: DbPool, interval: Duration, reporting_grace_days: i64) {
    actix_web::rt::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let pool = pool.clone();
            let result = actix_web::web::block(move || {
                crate::db::run_job(&pool, |conn| -> anyhow::Result<usize> {
                    use crate::db::enums::ScanTrigger;
                    use crate::db::reports::flows::DateRange;
                    let now = chrono::Utc::now();
                    let mut raised = 0;
                    for country in crate::db::models::country::Country::all(conn)? {
                        // The country's yesterday: its last whole day, cut at its local midnight.
                        let zone = country.zone()?;
                        let yesterday = crate::domain::period::today_in(zone, now) - chrono::Duration::days(1);
                        let outcome = crate::rules::scan::run(
                            conn,
                            &country.code,
                            DateRange { from: yesterday, to: yesterday, zone },
                            ScanTrigger::Scheduled,
                            None,
                            now,
                            reporting_grace_days,
                        )?;
                        AuditEvent::record(
                            conn,
                            &Actor::default(),
                            AuditAction::ScheduledScan,
                            ResourceType::Scan,
                            Some(outcome.scan.id.to_string()),
                            Some(&country.code),
                            serde_json::json!({"day": yesterday, "flags_raised": outcome.flags_raised, "flags_updated": outcome.flags_updated}),
                        )?;
                        raised += outcome.flags_raised as usize;
                    }
                    Ok(raised)
                })
            })
            .await;
            match result {
                Ok(Ok(raised)) => tracing::info!(flags_raised = raised, "scheduled scan finished"),
                Ok(Err(e)) => tracing::error!(error = ?e, "scheduled scan failed"),
                Err(e) => tracing::error!(error = %e, "scheduled scan could not run"),
            }
        }
    });
}

/// Every hour from start (`serve` only): purges idempotency keys past their retention and
/// marks failed the scans a stopped process left `running`. A failure is logged and retried
/// at the next tick.
pub fn spawn_maintenance(pool: DbPool, idempotency_retention_days: i64) {
    actix_web::rt::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(3600));
        loop {
            ticker.tick().await;
            let pool = pool.clone();
            let result = web::block(move || {
                crate::db::run_job(&pool, |conn| -> anyhow::Result<(usize, usize)> {
                    let purged = crate::app::frame::purge(conn, idempotency_retention_days)?;
                    let abandoned = crate::db::models::scan::Scan::fail_abandoned(conn, ABANDONED_SCAN_MINUTES)?;
                    Ok((purged, abandoned))
                })
            })
            .await;
            match result {
                Ok(Ok((purged, abandoned))) => tracing::info!(purged, abandoned_scans = abandoned, "maintenance done"),
                Ok(Err(e)) => tracing::error!(error = ?e, "maintenance failed"),
                Err(e) => tracing::error!(error = %e, "maintenance could not run"),
            }
        }
    });
}

/// A scan still `running` this long after it started, with no scan of its country under
/// way, was left by a process that stopped.
pub const ABANDONED_SCAN_MINUTES: i32 = 10;
