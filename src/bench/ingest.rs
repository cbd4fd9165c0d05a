//! `tarozi bench-ingest`: dispensing records through the HTTP batch endpoint, side by side
//! with PostgreSQL's own COPY of the same rows into the same table definition.
//!
//! Both run against one private cluster. The COPY target is the `dispensings` table of a
//! twin database cloned (as a template) from the seeded one before the API run, so it has
//! the same columns, constraints, foreign keys and indexes; the rows are exactly those the
//! API wrote, exported with binary COPY beforehand and loaded with one binary COPY.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use diesel::pg::CopyFormat;
use diesel::prelude::*;
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::auth::jwt::TokenKeys;
use crate::bench::{BENCH_JWT_SECRET, BenchDatabase, ServerProcess, fixtures, rate, token};
use crate::db::enums::Role;
use crate::db::schema::dispensings;
use crate::domain::ids::FacilityId;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub records: usize,
    pub batch: usize,
    pub pharmacies: usize,
    pub patients: usize,
    pub in_flight: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions { records: 1_000_000, batch: 10_000, pharmacies: 100, patients: 200_000, in_flight: 2 }
    }
}

const INDICATIONS: [&str; 6] = ["cancer", "palliative", "acute", "chronic_non_cancer", "opioid_dependence", "other"];
const SEXES: [&str; 3] = ["female", "male", "unknown"];

/// One JSON body per batch, each for a single pharmacy, records in time order.
fn batches(options: &IngestOptions, fixture: &fixtures::Fixture) -> Vec<(usize, Vec<u8>)> {
    let mut rng = StdRng::seed_from_u64(20261128);
    let start = Utc::now() - Duration::days(25);
    let span_seconds = 24 * 86_400;
    let mut bodies = Vec::new();
    let mut produced = 0usize;
    let mut batch_number = 0usize;
    while produced < options.records {
        let size = options.batch.min(options.records - produced);
        let pharmacy = batch_number % fixture.pharmacies.len();
        let mut offsets: Vec<i64> = (0..size).map(|_| rng.random_range(0..span_seconds)).collect();
        offsets.sort_unstable();
        let records: Vec<serde_json::Value> = offsets
            .into_iter()
            .enumerate()
            .map(|(i, offset)| {
                let product = &fixture.products[rng.random_range(0..fixture.products.len())];
                json!({
                    "client_record_id": format!("b{batch_number}-{i}"),
                    "product_id": product.id,
                    "quantity_units": rng.random_range(1..=60),
                    "dispensed_at": start + Duration::seconds(offset),
                    "patient_id": format!("{:012}", 100_000_000_000u64 + rng.random_range(0..options.patients as u64)),
                    "patient_sex": SEXES[rng.random_range(0..SEXES.len())],
                    "patient_age": rng.random_range(0..95),
                    "prescriber_id": format!("DOC-{:05}", rng.random_range(0..2_000)),
                    "prescription_number": format!("RX-{batch_number}-{i}"),
                    "days_supply": rng.random_range(1..=30),
                    "indication": INDICATIONS[rng.random_range(0..INDICATIONS.len())],
                })
            })
            .collect();
        bodies.push((pharmacy, serde_json::to_vec(&json!({"records": records})).unwrap_or_default()));
        produced += size;
        batch_number += 1;
    }
    bodies
}

pub fn run(options: IngestOptions) -> anyhow::Result<()> {
    if options.batch == 0 || options.batch > crate::views::dispensing::MAX_RECORDS || options.pharmacies == 0 {
        bail!("--batch must be 1 to 10000 and --pharmacies at least 1");
    }
    println!(
        "bench-ingest: {} records in batches of {}, {} pharmacies, {} patients, {} requests in flight",
        options.records, options.batch, options.pharmacies, options.patients, options.in_flight
    );
    let database = BenchDatabase::start()?;
    let mut conn = PgConnection::establish(database.url())?;
    let year = chrono::Datelike::year(&Utc::now());
    let fixture = fixtures::seed(&mut conn, "KZ", 17, options.pharmacies, &[year - 1, year])?;
    fixtures::stock(&mut conn, &fixture.pharmacies, &fixture.products, 1_000_000_000, Utc::now() - Duration::days(29))?;
    drop(conn);
    // The COPY target: the same schema and seed, cloned before any dispensing exists.
    database.cluster.create_database_from_template("tarozi_copy", "tarozi")?;

    print!("generating records ... ");
    let bodies = batches(&options, &fixture);
    println!("{} bodies, {:.0} MiB of JSON", bodies.len(), bodies.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1_048_576.0);
    let keys = TokenKeys::new(BENCH_JWT_SECRET.as_bytes());
    let tokens: Vec<String> = fixture
        .pharmacies
        .iter()
        .zip(&fixture.pharmacy_users)
        .map(|(f, u)| token(&keys, *u, Role::Pharmacy, &fixture.country, Some(f.id)))
        .collect::<anyhow::Result<_>>()?;

    let server = ServerProcess::spawn(database.url(), &database.folder)?;
    let address = server.address.clone();
    let pharmacy_ids: Vec<FacilityId> = fixture.pharmacies.iter().map(|f| f.id).collect();
    let (api_seconds, accepted) = actix_web::rt::System::new().block_on(async move {
        let client = awc::Client::builder().timeout(std::time::Duration::from_secs(600)).finish();
        let started = Instant::now();
        let results: Vec<anyhow::Result<u64>> = futures_util::stream::iter(bodies.into_iter().map(|(p, body)| {
            let request = client
                .post(format!("{address}/api/v1/facilities/{}/dispensings", pharmacy_ids[p]))
                .insert_header(("Authorization", format!("Bearer {}", tokens[p])))
                .insert_header(("Content-Type", "application/json"));
            async move {
                let mut response = request.send_body(body).await.map_err(|e| anyhow::anyhow!("request failed: {e}"))?;
                let bytes = response.body().limit(64 * 1024 * 1024).await?;
                if !response.status().is_success() {
                    bail!("HTTP {}: {}", response.status(), String::from_utf8_lossy(&bytes));
                }
                let answer: serde_json::Value = serde_json::from_slice(&bytes)?;
                answer["accepted"].as_u64().context("accepted count")
            }
        }))
        .buffer_unordered(options.in_flight.max(1))
        .collect()
        .await;
        let seconds = started.elapsed().as_secs_f64();
        let accepted = results.into_iter().collect::<anyhow::Result<Vec<u64>>>()?.into_iter().sum::<u64>();
        anyhow::Ok((seconds, accepted as usize))
    })?;
    let peak = server.peak_rss_mib();
    drop(server);
    if accepted != options.records {
        bail!("the API accepted {accepted} of {} records", options.records);
    }

    // Export exactly what the API stored, then time PostgreSQL loading it with COPY.
    let mut source = PgConnection::establish(database.url())?;
    let mut rows = Vec::new();
    std::io::Read::read_to_end(&mut diesel::copy_to(dispensings::table).with_format(CopyFormat::Binary).load_raw(&mut source)?, &mut rows)?;
    drop(source);
    let chunks = split_binary_copy(&rows, options.batch)?;
    let copy_url = database.cluster.url_for("tarozi_copy");
    // As the API writes: one transaction per batch, as many streams as requests in flight.
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let copied: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..options.in_flight.max(1))
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<usize> {
                    let mut conn = PgConnection::establish(&copy_url)?;
                    let mut total = 0;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(chunk) = chunks.get(i) else {
                            return Ok(total);
                        };
                        total += copy_binary(&mut conn, chunk)?;
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().map_err(|_| anyhow::anyhow!("a COPY stream panicked"))?).sum::<anyhow::Result<usize>>()
    })?;
    let copy_seconds = started.elapsed().as_secs_f64();
    if copied != accepted {
        bail!("COPY loaded {copied} rows, the API {accepted}");
    }

    println!(
        "API  (HTTP batch endpoint, {} in flight): {accepted} rows in {api_seconds:.2} s = {} rows/s",
        options.in_flight,
        rate(accepted, api_seconds)
    );
    println!(
        "COPY (binary, same table, {} rows per transaction, {} streams): {copied} rows in {copy_seconds:.2} s = {} rows/s",
        options.batch,
        options.in_flight,
        rate(copied, copy_seconds)
    );
    println!("ratio API/COPY: {:.2}  (target ≥ 0.50)", copy_seconds / api_seconds);
    match peak {
        Some(mib) => println!("server peak resident memory: {mib:.0} MiB  (target < 300 MiB)"),
        None => println!("server peak resident memory: unavailable"),
    }
    Ok(())
}

/// Loads one binary COPY stream in its own transaction.
fn copy_binary(conn: &mut PgConnection, data: &[u8]) -> anyhow::Result<usize> {
    Ok(conn.transaction(|conn| {
        diesel::copy_from(dispensings::table)
            .from_raw_data(dispensings::table, |out: &mut dyn std::io::Write| {
                out.write_all(data).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
            })
            .with_format(CopyFormat::Binary)
            .execute(conn)
    })?)
}

/// Splits one binary COPY stream into streams of at most `rows` tuples each, every one
/// with the header and trailer of the format.
fn split_binary_copy(data: &[u8], rows: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
    if !data.starts_with(SIGNATURE) || data.len() < 19 {
        bail!("not a binary COPY stream");
    }
    let extension = u32::from_be_bytes(data[15..19].try_into()?) as usize;
    let header = &data[..19 + extension];
    let mut at = header.len();
    let mut chunks = Vec::new();
    let mut chunk = header.to_vec();
    let mut in_chunk = 0;
    loop {
        let fields = i16::from_be_bytes(data.get(at..at + 2).context("truncated COPY stream")?.try_into()?);
        if fields == -1 {
            break;
        }
        let start = at;
        at += 2;
        for _ in 0..fields {
            let len = i32::from_be_bytes(data.get(at..at + 4).context("truncated COPY stream")?.try_into()?);
            at += 4 + len.max(0) as usize;
        }
        chunk.extend_from_slice(&data[start..at]);
        in_chunk += 1;
        if in_chunk == rows {
            chunk.extend_from_slice(&(-1i16).to_be_bytes());
            chunks.push(std::mem::replace(&mut chunk, header.to_vec()));
            in_chunk = 0;
        }
    }
    if in_chunk > 0 {
        chunk.extend_from_slice(&(-1i16).to_be_bytes());
        chunks.push(chunk);
    }
    Ok(chunks)
}
