//! `tarozi bench-pages`: every dashboard page on the demo world, as its users open it.
//!
//! Seeds the demo world (`crate::demo`) at `--scale` into a private cluster (or reuses one a
//! `--keep` run left), starts a `tarozi serve` child on it, signs in through the login form
//! as the demo user of each role, and requests every page `--requests` times one after
//! another (after one unmeasured request), printing p50, p95 and the slowest per page. A
//! page that does not answer 200 fails the run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, Utc};
use diesel::prelude::*;

use crate::bench::{BENCH_PSEUDONYM_KEY, BenchDatabase, ServerProcess};
use crate::demo::{DEMO_PASSWORD, DemoOptions};

#[derive(Debug, Clone)]
pub struct PagesOptions {
    pub scale: f64,
    /// Measured requests per page.
    pub requests: usize,
    pub keep: bool,
    pub reuse: Option<PathBuf>,
}

/// A signed-in browser: the session cookie.
struct Session {
    client: awc::Client,
    base: String,
    cookie: String,
}

fn session_cookie(headers: &awc::http::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with("tarozi_session=") && pair.len() > "tarozi_session=".len())
        .map(str::to_owned)
}

impl Session {
    async fn sign_in(base: &str, username: &str) -> anyhow::Result<Session> {
        let client = awc::Client::builder().disable_redirects().timeout(Duration::from_secs(120)).finish();
        let mut login = client.get(format!("{base}/dashboard/login")).send().await.map_err(|e| anyhow::anyhow!("login page: {e}"))?;
        let cookie = session_cookie(login.headers()).unwrap_or_default();
        let body = login.body().await?;
        let html = String::from_utf8_lossy(&body);
        let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).context("the login form's CSRF token")?.to_owned();
        let answer = client
            .post(format!("{base}/dashboard/login"))
            .insert_header(("Cookie", cookie))
            .insert_header(("Origin", base.to_owned()))
            .send_form(&[("csrf", csrf.as_str()), ("username", username), ("password", DEMO_PASSWORD)])
            .await
            .map_err(|e| anyhow::anyhow!("sign-in: {e}"))?;
        if answer.status().as_u16() != 303 {
            bail!("{username} could not sign in ({})", answer.status());
        }
        let cookie = session_cookie(answer.headers()).context("the session cookie")?;
        Ok(Session { client, base: base.to_owned(), cookie })
    }

    /// Milliseconds to read the whole page.
    async fn time(&self, path: &str) -> anyhow::Result<f64> {
        let started = Instant::now();
        let mut answer = self
            .client
            .get(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie.clone()))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        let body = answer.body().limit(64 * 1024 * 1024).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if answer.status().as_u16() != 200 {
            bail!("{path} answered {}: {}", answer.status(), String::from_utf8_lossy(&body).chars().take(300).collect::<String>());
        }
        Ok(ms)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn run(options: PagesOptions) -> anyhow::Result<()> {
    if options.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let database = match &options.reuse {
        Some(folder) => BenchDatabase::reuse(folder)?,
        None => {
            let mut database = BenchDatabase::start()?;
            database.keep = options.keep;
            database
        }
    };
    let mut conn = PgConnection::establish(database.url())?;
    let demo = DemoOptions {
        scale: options.scale,
        pseudonym_key: BENCH_PSEUDONYM_KEY.as_bytes().to_vec(),
        now: Utc::now(),
        reporting_grace_days: 10,
        verbose: true,
    };
    match crate::demo::seed_if_empty(&mut conn, &demo)? {
        Some(summary) => println!(
            "bench-pages: demo world at scale {} seeded in {:.0} s: {} facilities, {} dispensings, {} flags",
            options.scale, summary.seconds, summary.facilities, summary.dispensings, summary.flags
        ),
        None => println!("bench-pages: reusing the demo world in {}", database.folder.display()),
    }
    let dispensings: i64 = crate::db::schema::dispensings::table.count().get_result(&mut conn)?;
    diesel::sql_query("VACUUM ANALYZE").execute(&mut conn)?;
    // A flag with evidence about a facility, and one about a patient, of Kazakhstan.
    use crate::db::schema::flags as f;
    let facility_flag: Option<i64> =
        f::table.filter(f::country_code.eq("KZ")).filter(f::facility_id.is_not_null()).order(f::id).select(f::id).first(&mut conn).optional()?;
    let patient_flag: Option<i64> = f::table
        .filter(f::country_code.eq("KZ"))
        .filter(f::rule_code.eq("multiple_provider_episode"))
        .order(f::id)
        .select(f::id)
        .first(&mut conn)
        .optional()?;
    drop(conn);

    let server = ServerProcess::spawn(database.url(), &database.folder)?;
    // The server prints its address with the scheme.
    let base = if server.address.starts_with("http") { server.address.clone() } else { format!("http://{}", server.address) };
    let last_year = Utc::now().year() - 1;
    let mut pages: Vec<(&str, String)> = vec![
        ("kz-ministry", "/dashboard/overview".into()),
        ("kz-ministry", format!("/dashboard/overview?year={last_year}")),
        ("kz-ministry", "/dashboard/rules".into()),
        ("kz-regulator", "/dashboard/flags".into()),
        ("kz-regulator", "/dashboard/flags?rule=multiple_provider_episode".into()),
        ("kz-pharmacy-1", "/dashboard/facility".into()),
        ("regional", "/dashboard/regional".into()),
        ("admin", "/dashboard/users".into()),
        ("kz-ministry", "/dashboard/account".into()),
    ];
    for id in facility_flag.into_iter().chain(patient_flag) {
        pages.insert(5, ("kz-regulator", format!("/dashboard/flags/{id}")));
    }
    let requests = options.requests;
    let results = actix_web::rt::System::new().block_on(async move {
        let mut sessions: Vec<(String, Session)> = Vec::new();
        let mut results = Vec::new();
        for (user, path) in &pages {
            if !sessions.iter().any(|(u, _)| u == user) {
                sessions.push((user.to_string(), Session::sign_in(&base, user).await?));
            }
            let session = &sessions.iter().find(|(u, _)| u == user).context("session")?.1;
            session.time(path).await?;
            let mut samples = Vec::with_capacity(requests);
            for _ in 0..requests {
                samples.push(session.time(path).await?);
            }
            samples.sort_by(f64::total_cmp);
            results.push((user.to_string(), path.clone(), samples));
        }
        anyhow::Ok(results)
    })?;
    println!("pages on the demo world ({dispensings} dispensings), {requests} requests each, one at a time (target p95 ≤ 150 ms):");
    println!("  {:<14} {:<58} {:>9} {:>9} {:>9}", "as", "page", "p50 ms", "p95 ms", "max ms");
    for (user, path, samples) in results {
        println!(
            "  {user:<14} {path:<58} {:>9.1} {:>9.1} {:>9.1}",
            percentile(&samples, 0.5),
            percentile(&samples, 0.95),
            samples.last().copied().unwrap_or_default()
        );
    }
    drop(server);
    Ok(())
}
