//! The regional exchange: on a national instance, `GET|PUT /exchange/policy` (the country's
//! regulator decides what is shared); on the hub, `GET|POST /exchange/keys` (the hub's
//! admin registers each country's public key) and `POST /exchange/packages` (a country's
//! `exchange` credential delivers signed packages). The hub's regional view is
//! `GET /analytics/regional`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::app::exchange::{put_policy, receive_package, register_key};
use crate::auth::Caller;
use crate::db::models::exchange::ExchangeKey;
use crate::exchange::package::SignedPackage;
use crate::extract::JsonBody;
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::exchange::{KeyEnvelope, KeyList, KeyRequest, KeyView, PolicyEnvelope, PolicyRequest, PolicyView, ReceivedEnvelope, ReceivedView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_exchange_policy)
        .service(put_exchange_policy)
        .service(list_exchange_keys)
        .service(register_exchange_key)
        .service(receive_exchange_package);
}

/// Largest package accepted: a country's regions × substances with room to spare.
const MAX_PACKAGE_BYTES: usize = 4 * 1024 * 1024;

/// 404 `not_a_hub` unless this instance is the hub.
fn require_hub(state: &AppState) -> AppResult<()> {
    if state.settings.hub {
        Ok(())
    } else {
        Err(DomainError::new(ProblemCode::NotAHub, "this instance is not the regional exchange hub (TAROZI_HUB)").into())
    }
}

/// The country's sharing policy: which sections of its monthly packages the hub receives.
#[utoipa::path(tag = "exchange", responses((status = 200, body = PolicyEnvelope)))]
#[get("/exchange/policy")]
async fn get_exchange_policy(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let country = caller.country_scope(None)?.ok_or_else(|| DomainError::forbidden("a sharing policy belongs to a country"))?;
    let policy = app::run(&state.pool, move |conn| app::exchange::policy_of(conn, &country)).await?;
    Ok(HttpResponse::Ok().json(PolicyEnvelope { policy: PolicyView::from(&policy) }))
}

/// Sets the country's sharing policy (replacing it): the sections listed are shared, the
/// others withheld and named as withheld in every package.
#[utoipa::path(tag = "exchange", params(IdempotencyKeyHeader), request_body = PolicyRequest, responses((status = 200, body = PolicyEnvelope)))]
#[put("/exchange/policy")]
async fn put_exchange_policy(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<PolicyRequest>) -> AppResult<HttpResponse> {
    let country = caller.country_scope(None)?.ok_or_else(|| DomainError::forbidden("a sharing policy belongs to a country"))?;
    let input = put_policy::Input { country_code: country, shared: body.value.shared };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| put_policy::execute(conn, actor, input),
        |policy| (StatusCode::OK, PolicyEnvelope { policy: PolicyView::from(&policy) }),
    )
    .await
}

/// The countries' public keys registered on this hub.
#[utoipa::path(tag = "exchange", responses((status = 200, body = KeyList)))]
#[get("/exchange/keys")]
async fn list_exchange_keys(state: web::Data<AppState>, _caller: Caller) -> AppResult<HttpResponse> {
    require_hub(&state)?;
    let keys = app::run(&state.pool, |conn| Ok(ExchangeKey::all(conn)?)).await?;
    Ok(HttpResponse::Ok().json(KeyList { exchange_keys: keys.iter().map(KeyView::from).collect() }))
}

/// Registers a country instance's Ed25519 public key on this hub.
#[utoipa::path(tag = "exchange", params(IdempotencyKeyHeader), request_body = KeyRequest, responses((status = 201, body = KeyEnvelope)))]
#[post("/exchange/keys")]
async fn register_exchange_key(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<KeyRequest>) -> AppResult<HttpResponse> {
    require_hub(&state)?;
    let r = body.value;
    let input = register_key::Input { country_code: r.country_code, public_key: r.public_key };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| register_key::execute(conn, actor, input),
        |key| (StatusCode::CREATED, KeyEnvelope { exchange_key: KeyView::from(&key) }),
    )
    .await
}

/// Receives a country's signed monthly package (the `exchange` role of that country). The
/// body must follow the package schema exactly: an unknown member anywhere — a facility id,
/// a patient — is refused with its pointer. 201 when stored, 200 for the same package again.
#[utoipa::path(
    tag = "exchange",
    params(IdempotencyKeyHeader),
    request_body = SignedPackage,
    responses((status = 201, body = ReceivedEnvelope), (status = 200, description = "The same package again: a replay", body = ReceivedEnvelope))
)]
#[post("/exchange/packages")]
async fn receive_exchange_package(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<SignedPackage, MAX_PACKAGE_BYTES>,
) -> AppResult<HttpResponse> {
    require_hub(&state)?;
    let signed = body.value;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| receive_package::execute(conn, actor, signed),
        |received| {
            let status = if received.replayed { StatusCode::OK } else { StatusCode::CREATED };
            (status, ReceivedEnvelope { package: ReceivedView::from(&received) })
        },
    )
    .await
}
