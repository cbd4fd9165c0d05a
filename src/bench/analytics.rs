//! `tarozi bench-analytics`: a country-year of dispensing records (10 000 000 by default)
//! with matching supply, loaded through the real write paths (so the monthly aggregates are
//! built incrementally, as in production); then, side by side:
//! - the by-region availability report for the country-year read from the aggregates, and
//!   the same report computed by plain aggregates over the raw rows — p50 latencies, their
//!   ratio, and a check that both agree to the last digit;
//! - a full-year scan of every rule, and an incremental scan of the year's last day (a full
//!   day of records, as the daily scheduled scan sees).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::analytics::availability::{AvailabilityRequest, report};
use crate::app::dispensing::record_batch;
use crate::app::dispensing::{ParsedRecord, ValidRecord};
use crate::bench::{BENCH_PSEUDONYM_KEY, BenchDatabase, fixtures, rate};
use crate::db::enums::{AgeBand, Indication, PatientSex, ScanTrigger, StockEventKind};
use crate::db::ledger::{Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::transfer::{NewTransfer, Transfer};
use crate::db::reports::flows::{DateRange, Source};
use crate::domain::ids::SubstanceId;
use crate::domain::pseudonym::pseudonym;
use crate::views::analytics::AvailabilityReport;

#[derive(Debug, Clone)]
pub struct AnalyticsOptions {
    pub records: usize,
    pub pharmacies: usize,
    pub year: i32,
    pub report_runs: usize,
    /// Keep the loaded database after the run.
    pub keep: bool,
    /// Measure on the database of an earlier `keep` run instead of loading one.
    pub reuse: Option<std::path::PathBuf>,
}

impl Default for AnalyticsOptions {
    fn default() -> Self {
        AnalyticsOptions { records: 10_000_000, pharmacies: 1_000, year: 2025, report_runs: 30, keep: false, reuse: None }
    }
}

fn at(day: NaiveDate, seconds: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default()) + Duration::seconds(seconds)
}

/// Opening stock at the wholesalers, then quarterly transfers to every pharmacy.
fn supply(conn: &mut PgConnection, fixture: &fixtures::Fixture, year: i32, units_per_quarter: i64) -> anyhow::Result<()> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).context("year")?;
    let actor = Actor::default();
    fixtures::stock(
        conn,
        &fixture.wholesalers,
        &fixture.products,
        4 * units_per_quarter * (fixture.pharmacies.len() as i64 + 1),
        at(start, 0) - Duration::days(1),
    )?;
    for quarter in 0..4 {
        let day = NaiveDate::from_ymd_opt(year, 1 + 3 * quarter, 1).context("quarter")?;
        conn.transaction::<_, anyhow::Error, _>(|conn| {
            for (i, pharmacy) in fixture.pharmacies.iter().enumerate() {
                let wholesaler = &fixture.wholesalers[i % fixture.wholesalers.len()];
                for product in &fixture.products {
                    let shipped = at(day, 60);
                    let transfer = Transfer::create(
                        conn,
                        &NewTransfer {
                            country_code: &fixture.country,
                            from_facility_id: wholesaler.id,
                            to_facility_id: pharmacy.id,
                            product_id: product.id,
                            quantity_units: units_per_quarter,
                            shipped_at: shipped,
                            shipped_by: None,
                        },
                    )?;
                    let mut out = ProductLedger::open(conn, wholesaler, product.id, shipped)?;
                    out.append(
                        conn,
                        &actor,
                        Entry { transfer_id: Some(transfer.id), ..Entry::new(StockEventKind::TransferOut, -units_per_quarter, shipped) },
                    )?
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let received = shipped + Duration::hours(2);
                    Transfer::confirm(conn, transfer.id, units_per_quarter, received, Some(fixture.pharmacy_users[i]))?;
                    let mut inn = ProductLedger::open(conn, pharmacy, product.id, received)?;
                    inn.append(
                        conn,
                        &actor,
                        Entry { transfer_id: Some(transfer.id), ..Entry::new(StockEventKind::TransferIn, units_per_quarter, received) },
                    )?
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Who a benchmark visit is for.
#[derive(Clone, Copy)]
enum Patient {
    /// A patient of one pharmacy (numbered per pharmacy), with one prescriber.
    Regular(usize),
    /// The doctor-shopper shared by a group of four pharmacies (numbered by group), seen by
    /// a different prescriber at each.
    Shopper(usize),
}

/// Dispensing records of one pharmacy in one month of the year, in time order. As in real
/// practice, each patient keeps to one pharmacy, one prescriber and one product, and comes
/// back for a refill when the last supply runs out (every 7 to 35 days, a few days either
/// way), taking 1 to 3 units a day; indications are mixed. Planted among them, so that the
/// scan has findings to write as in a real country:
/// - one patient in 200 is an early refiller on a high dose: back after half to 60 % of
///   the supply, taking 8 to 12 units a day (overlapping supplies, and a high daily dose
///   outside cancer and palliative care);
/// - every group of four pharmacies shares a doctor-shopper who comes to each of them in
///   turn, a week apart, for a 28-day supply from that pharmacy's own prescriber.
///
/// Patients are numbered per pharmacy. The pharmacy's year is drawn from a generator seeded
/// with its number, so each month sees the same patients; record ids count through the year.
fn records(options: &AnalyticsOptions, fixture: &fixtures::Fixture, pharmacy: usize, count: usize, month: u32) -> Vec<ParsedRecord> {
    let mut rng = StdRng::seed_from_u64(pharmacy as u64);
    let start = at(NaiveDate::from_ymd_opt(options.year, 1, 1).unwrap_or_default(), 3 * 3600);
    let end = at(NaiveDate::from_ymd_opt(options.year + 1, 1, 1).unwrap_or_default(), 0);
    let mut visits: Vec<(DateTime<Utc>, Patient, usize, i32, i64)> = Vec::with_capacity(count);
    let group = pharmacy / 4;
    if (group + 1) * 4 <= fixture.pharmacies.len() {
        let product = group % fixture.products.len();
        let mut t = start + Duration::days(7 * (pharmacy % 4) as i64) + Duration::hours(7);
        while t < end && visits.len() < count {
            visits.push((t, Patient::Shopper(group), product, 28, 4 * 28));
            t += Duration::days(28);
        }
    }
    let mut patient = 0usize;
    while visits.len() < count {
        let interval = rng.random_range(7..=35i64);
        let early_refiller = rng.random_ratio(1, 200);
        let per_day = if early_refiller { rng.random_range(8..=12i64) } else { rng.random_range(1..=3i64) };
        let product = rng.random_range(0..fixture.products.len());
        let mut t = start + Duration::minutes(rng.random_range(0..interval * 1440));
        while t < end && visits.len() < count {
            let days = (interval + rng.random_range(-2..=2i64)).clamp(1, 365) as i32;
            visits.push((t, Patient::Regular(patient), product, days, per_day * i64::from(days)));
            t += if early_refiller {
                Duration::minutes(i64::from(days) * 720 + rng.random_range(0..=i64::from(days) * 144))
            } else {
                Duration::days(interval) + Duration::minutes(rng.random_range(0..=2880))
            };
        }
        patient += 1;
    }
    visits.sort_by_key(|v| v.0);
    visits
        .into_iter()
        .enumerate()
        .filter(|(_, v)| v.0.month() == month)
        .enumerate()
        .map(|(index, (i, (t, patient, product, days, units)))| {
            let (label, n, prescriber) = match patient {
                Patient::Regular(patient) => {
                    let id = pharmacy * 1_000_000 + patient;
                    (format!("{id:012}"), id, format!("DOC-{:05}", (pharmacy * 7 + patient % 5) % 4000))
                }
                Patient::Shopper(group) => (format!("shopper-{group}"), group, format!("DOC-SHOP-{group}-{}", pharmacy % 4)),
            };
            ParsedRecord::Valid(ValidRecord {
                index: index % 10_000,
                client_record_id: format!("{pharmacy}-{i}"),
                product_id: fixture.products[product].id,
                quantity_units: units,
                dispensed_at: t,
                patient_pseudonym: pseudonym(BENCH_PSEUDONYM_KEY.as_bytes(), &fixture.country, &label).unwrap_or([0; 32]),
                patient_sex: PatientSex::ALL[n % 2],
                patient_age_band: AgeBand::ALL[n % AgeBand::ALL.len()],
                prescriber_id: prescriber,
                prescription_number: format!("RX-{pharmacy}-{i}"),
                days_supply: days,
                indication: Indication::ALL[n % Indication::ALL.len()],
            })
        })
        .collect()
}

fn p50(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

pub fn run(options: AnalyticsOptions) -> anyhow::Result<()> {
    if options.pharmacies == 0 || options.records < options.pharmacies {
        bail!("--records must be at least --pharmacies");
    }
    let (database, country, regions) = match &options.reuse {
        Some(folder) => {
            let database = BenchDatabase::reuse(folder)?;
            let mut conn = PgConnection::establish(database.url())?;
            let records: i64 = crate::db::schema::dispensings::table.count().get_result(&mut conn)?;
            let regions: i64 =
                crate::db::schema::regions::table.filter(crate::db::schema::regions::country_code.eq("KZ")).count().get_result(&mut conn)?;
            println!("bench-analytics: reusing {} ({records} dispensing records)", folder.display());
            (database, "KZ".to_owned(), regions as usize)
        }
        None => {
            let (database, fixture) = load(&options)?;
            (database, fixture.country, fixture.regions.len())
        }
    };
    let mut conn = PgConnection::establish(database.url())?;
    let aggregate_rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM supply_monthly) + (SELECT count(*) FROM dispensing_monthly)",
    ))
    .get_result(&mut conn)?;

    let (from, to) = (NaiveDate::from_ymd_opt(options.year, 1, 1).context("year")?, NaiveDate::from_ymd_opt(options.year, 12, 31).context("year")?);
    let zone = crate::db::models::country::Country::zone_of(&mut conn, &country)?;
    let range = DateRange { from, to, zone };
    let request = AvailabilityRequest { country: country.clone(), region_id: None, range, partial: false, group_by: None };
    let timed = |conn: &mut PgConnection, source: Source| -> anyhow::Result<(f64, String)> {
        let started = Instant::now();
        let r = report(conn, &request, source).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((started.elapsed().as_secs_f64() * 1000.0, serde_json::to_string(&AvailabilityReport::from(&r))?))
    };
    let (_, from_aggregates) = timed(&mut conn, Source::Aggregates)?;
    let (_, from_raw) = timed(&mut conn, Source::Raw)?;
    if from_aggregates != from_raw {
        bail!("the report from the aggregates differs from the raw aggregate:\n{from_aggregates}\n{from_raw}");
    }
    let mut aggregate_ms = Vec::new();
    let mut raw_ms = Vec::new();
    for i in 0..options.report_runs {
        aggregate_ms.push(timed(&mut conn, Source::Aggregates)?.0);
        if i < options.report_runs.min(5) {
            raw_ms.push(timed(&mut conn, Source::Raw)?.0);
        }
    }
    let (agg, raw) = (p50(aggregate_ms), p50(raw_ms));
    println!("availability by region, {country} {}: both sources agree ({regions} regions)", options.year);
    println!("  from the monthly aggregates ({aggregate_rows} rows): p50 {agg:.1} ms over {} runs  (target ≤ 50 ms)", options.report_runs);
    println!("  plain aggregate over the raw rows:              p50 {raw:.0} ms over {} runs", options.report_runs.min(5));
    println!("  ratio raw/aggregates: {:.0}×  (target ≥ 50×)", raw / agg);

    let now = Utc::now();
    let started = Instant::now();
    let full = crate::rules::scan::run(&mut conn, &country, range, ScanTrigger::Manual, None, now, 10)?;
    let full_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let day = crate::rules::scan::run(&mut conn, &country, DateRange { from: to, to, zone }, ScanTrigger::Manual, None, now, 10)?;
    let day_seconds = started.elapsed().as_secs_f64();
    println!("full-year scan (21 rules): {full_seconds:.1} s, {} flags raised, {} refreshed  (target ≤ 60 s)", full.flags_raised, full.flags_updated);
    println!("one-day scan:              {day_seconds:.2} s, {} flags raised, {} refreshed  (target ≤ 2 s)", day.flags_raised, day.flags_updated);
    println!("  {:<30} {:>10} {:>9} {:>10} {:>9}", "rule", "full year", "findings", "one day", "findings");
    let one_day = day.scan.rules.as_array().cloned().unwrap_or_default();
    for r in full.scan.rules.as_array().into_iter().flatten() {
        let code = r["code"].as_str().unwrap_or("");
        let d = one_day.iter().find(|d| d["code"] == code).cloned().unwrap_or_default();
        println!("  {code:<30} {:>7} ms {:>9} {:>7} ms {:>9}", r["millis"], r["findings"], d["millis"], d["findings"]);
    }
    Ok(())
}

/// Loads the benchmark data set into a new database (also the preload of `bench-http`).
pub(crate) fn load(options: &AnalyticsOptions) -> anyhow::Result<(BenchDatabase, fixtures::Fixture)> {
    println!("bench-analytics: {} dispensing records in {}, {} pharmacies", options.records, options.year, options.pharmacies);
    let mut database = BenchDatabase::start()?;
    database.keep = options.keep;
    let url = database.url().to_owned();
    let mut conn = PgConnection::establish(&url)?;
    let fixture = fixtures::seed(&mut conn, "KZ", 17, options.pharmacies, &[options.year])?;
    // The estimates in force, generous, as a country that files them would have.
    let mut substances: Vec<SubstanceId> = fixture.products.iter().map(|p| p.substance_id).collect();
    substances.sort_unstable();
    substances.dedup();
    for substance_id in substances {
        crate::db::models::estimate::Estimate::create(
            &mut conn,
            &crate::db::models::estimate::NewEstimate {
                country_code: &fixture.country,
                substance_id,
                year: options.year,
                kind: crate::db::enums::EstimateKind::Annual,
                quantity_g: bigdecimal::BigDecimal::from(1_000_000_000),
                reference: Some("benchmark"),
                created_by: None,
            },
        )?;
    }
    let per_pharmacy = options.records / options.pharmacies;
    // Enough stock for a year of dispensing: at most 60 units a record.
    let per_quarter = (per_pharmacy as i64 * 60 / fixture.products.len() as i64 / 4 + 1) * 3;
    let started = Instant::now();
    supply(&mut conn, &fixture, options.year, per_quarter)?;
    println!("supply loaded in {:.0} s", started.elapsed().as_secs_f64());

    // Dispensing through the batch write path as pharmacies report it: month by month, one
    // batch per pharmacy and month, two streams; the table fills in time order, as in
    // production.
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let loaded = AtomicUsize::new(0);
    let batches = 12 * fixture.pharmacies.len();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (fixture, options, next, loaded, url) = (&fixture, &options, &next, &loaded, &url);
                scope.spawn(move || -> anyhow::Result<()> {
                    let mut conn = PgConnection::establish(url)?;
                    loop {
                        let b = next.fetch_add(1, Ordering::SeqCst);
                        if b >= batches {
                            return Ok(());
                        }
                        let (month, p) = (1 + (b / fixture.pharmacies.len()) as u32, b % fixture.pharmacies.len());
                        let count = if p + 1 == fixture.pharmacies.len() { options.records - per_pharmacy * p } else { per_pharmacy };
                        let actor = Actor { user_id: Some(fixture.pharmacy_users[p]), ..Default::default() };
                        let mut batch = records(options, fixture, p, count, month);
                        while !batch.is_empty() {
                            let rest = batch.split_off(batch.len().min(10_000));
                            ingest(&mut conn, &fixture.pharmacies[p], &actor, batch, loaded)?;
                            batch = rest;
                        }
                        if p + 1 == fixture.pharmacies.len() {
                            let done = loaded.load(Ordering::SeqCst);
                            println!("  month {month}: {done} records loaded ({} rows/s)", rate(done, started.elapsed().as_secs_f64()));
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a loader panicked"))??;
        }
        Ok(())
    })?;
    let load_seconds = started.elapsed().as_secs_f64();
    let total = loaded.load(Ordering::SeqCst);
    println!("dispensing loaded: {total} records in {load_seconds:.0} s ({} rows/s, aggregates maintained in each write)", rate(total, load_seconds));
    diesel::sql_query("VACUUM ANALYZE").execute(&mut conn)?;
    Ok((database, fixture))
}

fn ingest(
    conn: &mut PgConnection,
    facility: &crate::db::models::facility::Facility,
    actor: &Actor,
    chunk: Vec<ParsedRecord>,
    loaded: &AtomicUsize,
) -> anyhow::Result<()> {
    let n = chunk.len();
    // Through the write frame, as a request would (audit entry, refusals, generation).
    let mut accepted = 0;
    let mut first_refusal: Option<String> = None;
    crate::app::frame::run(
        conn,
        actor,
        None,
        |conn| {
            let locked = record_batch::open(conn, facility.id)?;
            record_batch::execute(conn, actor, &locked, chunk)
        },
        |outcome| {
            let outcome = outcome.map_err(|e| crate::app::error::AppError::from(e.clone()))?;
            accepted = outcome.accepted_ids.len();
            first_refusal = outcome.results.iter().find_map(|r| r.error.as_ref()).map(|e| format!("{}: {}", e.code, e.detail));
            Ok(crate::app::frame::Reply { status: 200, body: Vec::new(), replayed: false })
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if accepted != n {
        bail!("{} of {n} records were refused, the first: {}", n - accepted, first_refusal.unwrap_or_default());
    }
    loaded.fetch_add(accepted, Ordering::SeqCst);
    Ok(())
}
