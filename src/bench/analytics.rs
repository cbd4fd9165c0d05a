//! `tarozi bench-analytics`: a country-year of dispensing records (10 000 000 by default)
//! with matching supply, loaded through the real write paths (so the monthly aggregates are
//! built incrementally, as in production); then, side by side:
//! - the by-region availability report for the country-year read from the aggregates, and
//!   the same report computed by plain aggregates over the raw rows — p50 latencies, their
//!   ratio, and a check that both agree to the last digit;
//! - a full-year scan of every rule, and an incremental scan of one day.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::analytics::availability::{AvailabilityRequest, report};
use crate::bench::{BENCH_PSEUDONYM_KEY, BenchDatabase, fixtures, rate};
use crate::db::dispensing_batch;
use crate::db::enums::{AgeBand, Indication, PatientSex, ScanTrigger, StockEventKind};
use crate::db::ledger::{Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::transfer::{NewTransfer, Transfer};
use crate::db::reports::flows::{DateRange, Source};
use crate::domain::pseudonym::pseudonym;
use crate::views::dispensing::{ParsedRecord, ValidRecord};

#[derive(Debug, Clone)]
pub struct AnalyticsOptions {
    pub records: usize,
    pub pharmacies: usize,
    pub patients: usize,
    pub year: i32,
    pub report_runs: usize,
}

impl Default for AnalyticsOptions {
    fn default() -> Self {
        AnalyticsOptions { records: 10_000_000, pharmacies: 1_000, patients: 500_000, year: 2025, report_runs: 30 }
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
                    Transfer::confirm(conn, transfer.id, units_per_quarter, received, fixture.pharmacy_users[i])?;
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

/// Dispensing records of one pharmacy for the year, in time order. Patients mostly use
/// their home pharmacy and prescriber, as they do.
fn records(rng: &mut StdRng, options: &AnalyticsOptions, fixture: &fixtures::Fixture, pharmacy: usize, count: usize) -> Vec<ParsedRecord> {
    let start = at(NaiveDate::from_ymd_opt(options.year, 1, 1).unwrap_or_default(), 3 * 3600);
    let span = 364 * 86_400 - 4 * 3600;
    let mut offsets: Vec<i64> = (0..count).map(|_| rng.random_range(0..span)).collect();
    offsets.sort_unstable();
    let patients_here = (options.patients / options.pharmacies).max(1);
    offsets
        .into_iter()
        .enumerate()
        .map(|(i, offset)| {
            let home = if rng.random_range(0..100) < 98 { pharmacy } else { rng.random_range(0..options.pharmacies) };
            let patient = home * patients_here + rng.random_range(0..patients_here);
            let product = &fixture.products[rng.random_range(0..fixture.products.len())];
            ParsedRecord::Valid(ValidRecord {
                index: i,
                client_record_id: format!("{pharmacy}-{i}"),
                product_id: product.id,
                quantity_units: rng.random_range(1..=60),
                dispensed_at: start + Duration::seconds(offset),
                patient_pseudonym: pseudonym(BENCH_PSEUDONYM_KEY.as_bytes(), &fixture.country, &format!("{:012}", patient)).unwrap_or([0; 32]),
                patient_sex: PatientSex::ALL[patient % 2],
                patient_age_band: AgeBand::ALL[patient % AgeBand::ALL.len()],
                prescriber_id: format!("DOC-{:05}", (patient / 150) % 4000),
                prescription_number: format!("RX-{pharmacy}-{i}"),
                days_supply: rng.random_range(1..=30),
                indication: Indication::ALL[rng.random_range(0..Indication::ALL.len())],
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
    println!(
        "bench-analytics: {} dispensing records in {}, {} pharmacies, {} patients",
        options.records, options.year, options.pharmacies, options.patients
    );
    let database = BenchDatabase::start()?;
    let url = database.url().to_owned();
    let mut conn = PgConnection::establish(&url)?;
    let fixture = fixtures::seed(&mut conn, "KZ", 17, options.pharmacies, &[options.year])?;
    let per_pharmacy = options.records / options.pharmacies;
    // Enough stock for a year of dispensing: at most 60 units a record.
    let per_quarter = (per_pharmacy as i64 * 60 / fixture.products.len() as i64 / 4 + 1) * 3;
    let started = Instant::now();
    supply(&mut conn, &fixture, options.year, per_quarter)?;
    println!("supply loaded in {:.0} s", started.elapsed().as_secs_f64());

    // Dispensing through the batch write path, 10 000 records a transaction, two streams.
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let loaded = AtomicUsize::new(0);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (fixture, options, next, loaded, url) = (&fixture, &options, &next, &loaded, &url);
                scope.spawn(move || -> anyhow::Result<()> {
                    let mut conn = PgConnection::establish(url)?;
                    let mut rng = StdRng::seed_from_u64(7 + w as u64);
                    loop {
                        let p = next.fetch_add(1, Ordering::SeqCst);
                        if p >= fixture.pharmacies.len() {
                            return Ok(());
                        }
                        let count = if p + 1 == fixture.pharmacies.len() { options.records - per_pharmacy * p } else { per_pharmacy };
                        let all = records(&mut rng, options, fixture, p, count);
                        let actor = Actor { user_id: Some(fixture.pharmacy_users[p]), ..Default::default() };
                        let mut chunk = Vec::with_capacity(10_000);
                        for (i, r) in all.into_iter().enumerate() {
                            chunk.push(match r {
                                ParsedRecord::Valid(v) => ParsedRecord::Valid(ValidRecord { index: i % 10_000, ..v }),
                                invalid => invalid,
                            });
                            if chunk.len() == 10_000 {
                                ingest(&mut conn, &fixture.pharmacies[p], &actor, std::mem::take(&mut chunk), loaded)?;
                            }
                        }
                        if !chunk.is_empty() {
                            ingest(&mut conn, &fixture.pharmacies[p], &actor, chunk, loaded)?;
                        }
                        let done = loaded.load(Ordering::SeqCst);
                        if p % 100 == 99 {
                            println!("  {done} records loaded ({} rows/s)", rate(done, started.elapsed().as_secs_f64()));
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
    let aggregate_rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM supply_monthly) + (SELECT count(*) FROM dispensing_monthly)",
    ))
    .get_result(&mut conn)?;

    let (from, to) = (NaiveDate::from_ymd_opt(options.year, 1, 1).context("year")?, NaiveDate::from_ymd_opt(options.year, 12, 31).context("year")?);
    let request = AvailabilityRequest { country: fixture.country.clone(), region_id: None, range: DateRange { from, to }, group_by: None };
    let timed = |conn: &mut PgConnection, source: Source| -> anyhow::Result<(f64, String)> {
        let started = Instant::now();
        let r = report(conn, &request, source).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((started.elapsed().as_secs_f64() * 1000.0, serde_json::to_string(&r)?))
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
    println!("availability by region, {} {}: both sources agree ({} regions)", fixture.country, options.year, fixture.regions.len());
    println!("  from the monthly aggregates ({aggregate_rows} rows): p50 {agg:.1} ms over {} runs  (target ≤ 50 ms)", options.report_runs);
    println!("  plain aggregate over the raw rows:              p50 {raw:.0} ms over {} runs", options.report_runs.min(5));
    println!("  ratio raw/aggregates: {:.0}×  (target ≥ 50×)", raw / agg);

    let today = Utc::now().date_naive();
    let started = Instant::now();
    let full = crate::rules::scan::run(&mut conn, &fixture.country, DateRange { from, to }, ScanTrigger::Manual, None, today, 10)?;
    let full_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let day = crate::rules::scan::run(&mut conn, &fixture.country, DateRange { from: to, to }, ScanTrigger::Manual, None, today, 10)?;
    let day_seconds = started.elapsed().as_secs_f64();
    println!("full-year scan (21 rules): {full_seconds:.1} s, {} flags raised  (target ≤ 60 s)", full.flags_raised);
    println!("one-day scan:              {day_seconds:.2} s, {} flags raised  (target ≤ 2 s)", day.flags_raised);
    for r in full.scan.rules.as_array().into_iter().flatten() {
        println!("  {:<30} {:>7} ms {:>6} findings", r["code"].as_str().unwrap_or(""), r["millis"], r["findings"]);
    }
    Ok(())
}

fn ingest(
    conn: &mut PgConnection,
    facility: &crate::db::models::facility::Facility,
    actor: &Actor,
    chunk: Vec<ParsedRecord>,
    loaded: &AtomicUsize,
) -> anyhow::Result<()> {
    let n = chunk.len();
    let outcome = conn.transaction(|conn| dispensing_batch::ingest(conn, facility, actor, chunk))?;
    let accepted = outcome.accepted_ids.len();
    if accepted != n {
        bail!("{} of {n} records were refused", n - accepted);
    }
    loaded.fetch_add(accepted, Ordering::SeqCst);
    Ok(())
}
