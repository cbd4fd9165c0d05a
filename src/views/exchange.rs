//! The regional exchange on the wire: the sharing policy, registered keys, the hub's answer
//! to a package, and the hub's regional view of received packages. The package itself is
//! `crate::exchange::package` (its schema is the contract between instances).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::exchange::Policy;
use crate::app::exchange::receive_package::Received;
use crate::app::exchange::regional::{CountryMonths, MonthStatus};
use crate::db::enums::ExchangeSection;
use crate::db::models::exchange::ExchangeKey;
use crate::domain::ids::{ExchangeKeyId, ExchangePackageId, UserId};
use crate::exchange::package::{Package, month_text};
use crate::views::envelope;

/// `PUT /exchange/policy`: the sections to share (the others are withheld).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    pub shared: Vec<ExchangeSection>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyView {
    pub country_code: String,
    pub shared: Vec<ExchangeSection>,
    pub withheld: Vec<ExchangeSection>,
    /// `null` while the country has never set a policy (nothing is shared).
    pub updated_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<i64>)]
    pub updated_by: Option<UserId>,
}

impl From<&Policy> for PolicyView {
    fn from(p: &Policy) -> Self {
        PolicyView {
            country_code: p.country_code.clone(),
            shared: p.shared.clone(),
            withheld: p.withheld(),
            updated_at: p.updated_at,
            updated_by: p.updated_by,
        }
    }
}

envelope!(PolicyEnvelope, policy, PolicyView);

/// `POST /exchange/keys`: a country instance's public key.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    #[schema(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country_code: String,
    /// Ed25519 public key, 64 hex digits (`tarozi exchange public-key` prints it).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub public_key: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    #[schema(value_type = i64)]
    pub id: ExchangeKeyId,
    pub country_code: String,
    pub public_key: String,
    pub registered_at: DateTime<Utc>,
}

impl From<&ExchangeKey> for KeyView {
    fn from(k: &ExchangeKey) -> Self {
        KeyView { id: k.id, country_code: k.country_code.clone(), public_key: hex::encode(&k.public_key), registered_at: k.registered_at }
    }
}

envelope!(KeyEnvelope, exchange_key, KeyView);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyList {
    pub exchange_keys: Vec<KeyView>,
}

/// The hub's record of an accepted package.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceivedView {
    #[schema(value_type = i64)]
    pub id: ExchangePackageId,
    pub country_code: String,
    /// `YYYY-MM`.
    pub month: String,
    pub sequence: i64,
    pub received_at: DateTime<Utc>,
    /// The package of the same month this one superseded (kept in the history).
    #[schema(value_type = Option<i64>)]
    pub supersedes: Option<ExchangePackageId>,
    /// The same package had been accepted before; nothing new was stored.
    pub replayed: bool,
}

impl From<&Received> for ReceivedView {
    fn from(r: &Received) -> Self {
        ReceivedView {
            id: r.package.id,
            country_code: r.package.country_code.clone(),
            month: r.package.month.format("%Y-%m").to_string(),
            sequence: r.package.sequence,
            received_at: r.package.received_at,
            supersedes: r.supersedes,
            replayed: r.replayed,
        }
    }
}

envelope!(ReceivedEnvelope, package, ReceivedView);

crate::string_enum! {
    /// Where a country's month stands on the hub.
    ExchangeMonthStatus {
        Complete => "complete",
        Partial => "partial",
        Withheld => "withheld",
        Missing => "missing",
    }
}

impl From<MonthStatus> for ExchangeMonthStatus {
    fn from(s: MonthStatus) -> Self {
        match s {
            MonthStatus::Complete => ExchangeMonthStatus::Complete,
            MonthStatus::Partial => ExchangeMonthStatus::Partial,
            MonthStatus::Withheld => ExchangeMonthStatus::Withheld,
            MonthStatus::Missing => ExchangeMonthStatus::Missing,
        }
    }
}

/// A month of a country on the hub: the package in force, or what is missing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExchangeMonthView {
    /// `YYYY-MM`.
    pub month: String,
    pub status: ExchangeMonthStatus,
    pub sequence: Option<i64>,
    pub received_at: Option<DateTime<Utc>>,
    /// Earlier packages of the month superseded by corrections.
    pub superseded_versions: i64,
    /// Sections the country did not share.
    pub withheld: Vec<ExchangeSection>,
    pub package: Option<Package>,
}

/// A country's months on the hub.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryExchangeView {
    pub country: String,
    pub name: String,
    /// Ended months of the year without a package.
    pub missing_months: Vec<String>,
    /// Months whose package withholds at least one section.
    pub withheld_months: Vec<String>,
    pub months: Vec<ExchangeMonthView>,
}

impl From<&CountryMonths> for CountryExchangeView {
    fn from(c: &CountryMonths) -> Self {
        let months: Vec<ExchangeMonthView> = c
            .months
            .iter()
            .map(|m| ExchangeMonthView {
                month: month_text(m.month),
                status: m.status.into(),
                sequence: m.package.as_ref().map(|(r, _)| r.sequence),
                received_at: m.package.as_ref().map(|(r, _)| r.received_at),
                superseded_versions: m.superseded,
                withheld: m.package.as_ref().map(|(_, p)| p.withheld.clone()).unwrap_or_default(),
                package: m.package.as_ref().map(|(_, p)| p.clone()),
            })
            .collect();
        let with = |statuses: &[ExchangeMonthStatus]| months.iter().filter(|m| statuses.contains(&m.status)).map(|m| m.month.clone()).collect();
        CountryExchangeView {
            country: c.country.clone(),
            name: c.name.clone(),
            missing_months: with(&[ExchangeMonthStatus::Missing]),
            withheld_months: with(&[ExchangeMonthStatus::Withheld, ExchangeMonthStatus::Partial]),
            months,
        }
    }
}
