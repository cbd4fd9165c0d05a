//! The planted stories: what a ministry analyst or a regulator should find on the dashboard
//! of the demo world, each with the rule (or figure) that shows it and where.

use serde::Serialize;

/// A story planted in the world.
#[derive(Debug, Clone, Serialize)]
pub struct Story {
    /// Stable name of the story.
    pub code: &'static str,
    pub country: &'static str,
    /// The rule whose flag shows it (every story has one; the very-low country also shows
    /// its band on the overview).
    pub rule: &'static str,
    /// The facility the flag is about, if any.
    pub facility_id: Option<crate::domain::ids::FacilityId>,
    /// The region the flag is about, if any.
    pub region_id: Option<crate::domain::ids::RegionId>,
    /// One line for the reader, in English (printed by `seed-demo`).
    pub description: String,
}

/// The stories, in the order `seed-demo` prints them.
pub const CODES: [&str; 8] = [
    "doctor_shopping",
    "dispensing_spike",
    "theft",
    "short_transfer",
    "chronic_count_shortfall",
    "no_access_point",
    "unused_estimate",
    "very_low_country",
];

/// Where the stories are planted.
pub mod place {
    /// The shopper's country; the shopper visits its facilities in these regions first.
    pub const SHOPPING: (&str, [&str; 3]) = ("KZ", ["Almaty", "Almaty Region", "Jetisu Region"]);
    pub const SPIKE: (&str, &str) = ("UZ", "Tashkent");
    pub const THEFT: (&str, &str) = ("KZ", "Karaganda Region");
    pub const SHORT_TRANSFER: (&str, &str) = ("KG", "Osh");
    pub const COUNT_SHORTFALL: (&str, &str) = ("UZ", "Samarkand Region");
    pub const NO_ACCESS: (&str, &str) = ("TJ", "Gorno-Badakhshan Autonomous Region");
    /// Country and substance of the estimate left mostly unused (the last ended year).
    pub const UNUSED_ESTIMATE: (&str, &str) = ("KG", "morphine");
    pub const VERY_LOW: &str = "TJ";
}

/// Units stolen in the theft.
pub const THEFT_UNITS: i64 = 120;
/// Units missing from the short transfer.
pub const SHORT_UNITS: i64 = 24;
/// Months (the last ones) in which the chronic shortfall's facility counts its stock.
pub const COUNT_MONTHS: usize = 8;
/// How far the unused estimate exceeds the year's imports (utilization about 1/6).
pub const UNUSED_ESTIMATE_FACTOR: i64 = 6;
/// The spike month's dispensed mass against the facility's median month.
pub const SPIKE_FACTOR: f64 = 7.0;
