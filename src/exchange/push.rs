//! `tarozi exchange push`: builds the month's package under the country's sharing policy,
//! signs it, records it (`exchange_pushes`) and sends it to the hub's
//! `POST /api/v1/exchange/packages` with the hub-issued `exchange` credential.
//!
//! Retries never duplicate: a package is built once per content — sending the month again
//! with unchanged figures re-sends the recorded package (same sequence, same bytes, same
//! `Idempotency-Key`), which the hub answers as a replay; changed figures get the next
//! sequence and supersede the earlier package on the hub. A hub that cannot be reached, or
//! answers 5xx or 429, is retried with exponential back-off; every attempt and the outcome
//! are recorded on the push row and in the audit log.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbPool;
use crate::db::enums::{AuditAction, PushStatus, ResourceType};
use crate::db::models::audit_event::{Actor, AuditEvent};
use crate::db::models::country::Country;
use crate::db::models::exchange::{ExchangePush, NewExchangePush};
use crate::domain::ids::ExchangePushId;
use crate::domain::period::{Month, Tz, today_in};
use crate::exchange::package::{self, BuildRequest, SignedPackage};
use crate::exchange::signing;

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The hub's base URL (`https://hub.example.org`).
    pub hub: String,
    pub username: String,
    pub password: String,
    pub country: String,
    pub month: Month,
    /// Attempts before the push is recorded as failed.
    pub attempts: u32,
    /// Wait after the first failed attempt; doubled after each, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub grace_days: i64,
    /// The instant the push is judged at (whether the month is over, the package's
    /// `generated_at`); `None`: the current time. Tests set it to a day's edge.
    pub now: Option<DateTime<Utc>>,
}

impl PushOptions {
    /// Defaults: 8 attempts, 2 s doubling up to 5 minutes.
    pub fn new(hub: &str, username: &str, password: &str, country: &str, month: Month, grace_days: i64) -> Self {
        PushOptions {
            hub: hub.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            country: country.to_ascii_uppercase(),
            month,
            attempts: 8,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            grace_days,
            now: None,
        }
    }
}

/// How a push ended.
#[derive(Debug, Clone)]
pub struct PushOutcome {
    pub push_id: ExchangePushId,
    pub sequence: i64,
    pub status: PushStatus,
    /// Attempts made by this run.
    pub attempts: u32,
    /// The hub had this package already (a re-send).
    pub replayed: bool,
    /// The hub's answer to the last attempt: its package record or its problem document.
    pub answer: Value,
}

/// The package of the month, prepared once per content: the recorded push to send.
fn prepare(conn: &mut PgConnection, key: &SigningKey, options: &PushOptions, now: DateTime<Utc>) -> anyhow::Result<ExchangePush> {
    // The month is the country's: it is over once its last day has ended at home.
    let zone = Country::zone_of(conn, &options.country)?;
    let today = today_in(zone, now);
    if !options.month.has_ended(today) {
        bail!("{} has not ended yet; a month is pushed once it is over", package::month_text(options.month));
    }
    conn.transaction(|conn| {
        let policy = crate::app::exchange::policy_of(conn, &options.country).map_err(|e| anyhow::anyhow!("{e}"))?;
        let request = |sequence: i64, generated_at: DateTime<Utc>| BuildRequest {
            country: options.country.clone(),
            month: options.month,
            sequence,
            generated_at,
            shared: policy.shared.clone(),
            today,
            grace_days: options.grace_days,
        };
        // The content: the package without its sequence and time of building.
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let content = package::build(conn, &request(1, epoch)).map_err(|e| anyhow::anyhow!("building the package: {e:?}"))?;
        let content_sha256: [u8; 32] = Sha256::digest(signing::canonical_bytes(&content)?).into();
        let month = options.month.first_day();
        let sequence = ExchangePush::next_sequence(conn, &options.country)?;
        // The same content again: the recorded package, if the hub has it or may still take
        // it (no later package of the country went before it).
        if let Some(earlier) = ExchangePush::latest_of_month(conn, &options.country, month)?
            && earlier.content_sha256 == content_sha256
            && (earlier.status == PushStatus::Delivered.as_str() || earlier.sequence == sequence - 1)
        {
            return Ok(earlier);
        }
        let package = package::Package { sequence, generated_at: now, ..content };
        let signed = SignedPackage { public_key: signing::public_key_hex(key), signature: signing::sign(key, &package)?, package };
        Ok(ExchangePush::insert(
            conn,
            &NewExchangePush {
                country_code: &options.country,
                month,
                sequence,
                content_sha256: &content_sha256,
                envelope: serde_json::to_value(&signed)?,
                hub_url: &options.hub,
                status: PushStatus::Pending.as_str(),
            },
        )?)
    })
}

/// Runs a database step off the async threads.
async fn blocking<T: Send + 'static>(pool: &DbPool, f: impl FnOnce(&mut PgConnection) -> anyhow::Result<T> + Send + 'static) -> anyhow::Result<T> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || crate::db::run_job(&pool, f)).await.context("the database task")?
}

/// One attempt's result.
enum Attempt {
    Delivered {
        replayed: bool,
        answer: Value,
    },
    /// Worth another attempt after a wait.
    Transient(String),
    /// The hub refused the package for good (or the credential).
    Refused(Value),
}

async fn login(client: &reqwest::Client, options: &PushOptions) -> Result<String, Attempt> {
    let response = client
        .post(format!("{}/api/v1/auth/login", options.hub))
        .json(&json!({"username": options.username, "password": options.password}))
        .send()
        .await
        .map_err(|e| Attempt::Transient(format!("login: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return body["access_token"].as_str().map(str::to_owned).ok_or_else(|| Attempt::Transient("login: no access_token".into()));
    }
    if status.is_server_error() || status.as_u16() == 429 { Err(Attempt::Transient(format!("login: {status}"))) } else { Err(Attempt::Refused(body)) }
}

async fn attempt(client: &reqwest::Client, options: &PushOptions, token: &mut Option<String>, push: &ExchangePush) -> Attempt {
    for _ in 0..2 {
        let bearer = match token {
            Some(t) => t.clone(),
            None => match login(client, options).await {
                Ok(t) => {
                    *token = Some(t.clone());
                    t
                }
                Err(e) => return e,
            },
        };
        let sent = client
            .post(format!("{}/api/v1/exchange/packages", options.hub))
            .bearer_auth(&bearer)
            .header("Idempotency-Key", format!("exchange-{}-{}", push.country_code, push.sequence))
            .json(&push.envelope)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Transient(format!("sending: {e}")),
        };
        let status = response.status();
        // The hub's write frame replays a stored answer under the same Idempotency-Key.
        let replayed_answer = response.headers().contains_key(crate::idempotency::REPLAYED_HEADER);
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            let replayed = replayed_answer || body["package"]["replayed"].as_bool().unwrap_or(false);
            return Attempt::Delivered { replayed, answer: body };
        }
        if status.as_u16() == 401 {
            // The token ran out: sign in again once.
            *token = None;
            continue;
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Attempt::Transient(format!("hub answered {status}: {}", body["code"].as_str().unwrap_or("")));
        }
        return Attempt::Refused(body);
    }
    Attempt::Transient("the hub refused two fresh tokens".into())
}

/// Records one attempt and, when the push is over, its audit entry.
async fn record(pool: &DbPool, push: &ExchangePush, status: PushStatus, error: Option<String>, answer: Value) -> anyhow::Result<()> {
    let (id, hub, country, sequence, month) = (push.id, push.hub_url.clone(), push.country_code.clone(), push.sequence, push.month);
    blocking(pool, move |conn| {
        conn.transaction(|conn| {
            ExchangePush::record_attempt(conn, id, &hub, status, error.as_deref())?;
            if status != PushStatus::Pending {
                AuditEvent::record(
                    conn,
                    &Actor::default(),
                    AuditAction::PushExchangePackage,
                    ResourceType::ExchangePackage,
                    Some(id.to_string()),
                    Some(&country),
                    json!({"hub": hub, "month": month, "sequence": sequence, "status": status, "error": error, "answer": answer}),
                )?;
            }
            diesel::QueryResult::Ok(())
        })?;
        Ok(())
    })
    .await
}

/// Builds (or takes up again) the month's package and sends it until the hub has it, the
/// hub refuses it, or the attempts run out; the outcome is recorded either way.
pub async fn push(pool: &DbPool, key: &SigningKey, options: &PushOptions) -> anyhow::Result<PushOutcome> {
    let (k, o) = (key.clone(), options.clone());
    let now = options.now.unwrap_or_else(Utc::now);
    let push = blocking(pool, move |conn| prepare(conn, &k, &o, now)).await?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().context("the HTTP client")?;
    let mut token = None;
    let mut wait = options.backoff;
    let last = options.attempts.max(1);
    let mut n = 0;
    loop {
        n += 1;
        let (status, replayed, error, answer) = match attempt(&client, options, &mut token, &push).await {
            Attempt::Delivered { replayed, answer } => (PushStatus::Delivered, replayed, None, answer),
            Attempt::Refused(answer) => {
                (PushStatus::Failed, false, Some(format!("refused: {}", answer["code"].as_str().unwrap_or("unknown"))), answer)
            }
            Attempt::Transient(error) if n >= last => (PushStatus::Failed, false, Some(error.clone()), json!({"error": error})),
            Attempt::Transient(error) => {
                tracing::warn!(attempt = n, error = %error, "exchange push failed; retrying");
                record(pool, &push, PushStatus::Pending, Some(error), Value::Null).await?;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(options.max_backoff);
                continue;
            }
        };
        record(pool, &push, status, error, answer.clone()).await?;
        return Ok(PushOutcome { push_id: push.id, sequence: push.sequence, status, attempts: n, replayed, answer });
    }
}

/// The month a scheduled push sends on `today` (the country's local date): the previous
/// month, once its reporting grace period is over.
pub fn scheduled_month(today: NaiveDate, grace_days: i64) -> Option<Month> {
    let previous = Month::of(Month::of(today).first_day() - chrono::Duration::days(1));
    (today > previous.due_by(grace_days)).then_some(previous)
}

/// [`scheduled_month`] at the instant `now` for a country in `zone`: its days, not UTC's.
pub fn scheduled_month_at(zone: Tz, now: DateTime<Utc>, grace_days: i64) -> Option<Month> {
    scheduled_month(today_in(zone, now), grace_days)
}

/// Pushes the previous month once its grace period is over, checking every `interval`
/// (`serve` with `TAROZI_EXCHANGE_HUB_URL` set). A month already delivered with the same
/// figures is a replay on the hub; a failure is logged, recorded and retried next tick.
pub fn spawn_scheduled_push(pool: DbPool, key: SigningKey, settings: crate::config::ExchangeClientSettings, grace_days: i64, interval: Duration) {
    actix_web::rt::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            // The country's today, not UTC's: its months end at its local midnight.
            let country = settings.country.to_ascii_uppercase();
            let zone = match blocking(&pool, move |conn| Ok(Country::zone_of(conn, &country)?)).await {
                Ok(zone) => zone,
                Err(e) => {
                    tracing::error!(error = ?e, "scheduled exchange push: the country's time zone");
                    continue;
                }
            };
            let Some(month) = scheduled_month_at(zone, Utc::now(), grace_days) else { continue };
            let (country, m) = (settings.country.clone(), month.first_day());
            let delivered = blocking(&pool, move |conn| {
                Ok(ExchangePush::latest_of_month(conn, &country, m)?.is_some_and(|p| p.status == PushStatus::Delivered.as_str()))
            })
            .await;
            if matches!(delivered, Ok(true)) {
                continue;
            }
            let options = PushOptions::new(&settings.hub_url, &settings.username, &settings.password, &settings.country, month, grace_days);
            match push(&pool, &key, &options).await {
                Ok(outcome) => tracing::info!(sequence = outcome.sequence, status = %outcome.status, "scheduled exchange push finished"),
                Err(e) => tracing::error!(error = ?e, "scheduled exchange push failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduled_push_waits_for_the_grace_period() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        // March ends on the 31st; with 10 grace days it is due by April 10.
        assert_eq!(scheduled_month(day(4, 10), 10), None);
        assert_eq!(scheduled_month(day(4, 11), 10), Month::parse("2026-03"));
    }

    #[test]
    fn the_scheduled_push_waits_for_the_grace_period_on_the_countrys_days() {
        use chrono::TimeZone;
        let bishkek: Tz = "Asia/Bishkek".parse().unwrap();
        // 10 April 19:00 UTC is 11 April 01:00 in Bishkek (UTC+6): March's grace is over there.
        let evening = Utc.with_ymd_and_hms(2026, 4, 10, 19, 0, 0).unwrap();
        assert_eq!(scheduled_month_at(bishkek, evening, 10), Month::parse("2026-03"));
        assert_eq!(scheduled_month_at(Tz::UTC, evening, 10), None);
        // 17:00 UTC is 23:00 on 10 April in Bishkek: not yet.
        assert_eq!(scheduled_month_at(bishkek, Utc.with_ymd_and_hms(2026, 4, 10, 17, 0, 0).unwrap(), 10), None);
    }
}
