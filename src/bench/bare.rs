//! The reference `bench-http` measures the API against: a bare actix-web handler that
//! inserts its request body as one row (`POST /insert`), with the server's own pool
//! (`db::pool`), blocking-pool hop and worker count, and nothing else — no authentication,
//! parsing, checks, ledger or audit. Run as a child process (`tarozi bench-bare-server`), as
//! the real server is, so both are measured the same way.

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::DbPool;

/// The table the reference handler writes (created when missing, in the bench database).
const TABLE: &str =
    "CREATE TABLE IF NOT EXISTS bench_bare_inserts (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())";

async fn insert(pool: web::Data<DbPool>, body: web::Bytes) -> HttpResponse {
    let pool = pool.get_ref().clone();
    let text = String::from_utf8_lossy(&body).into_owned();
    let written = web::block(move || -> anyhow::Result<usize> {
        let mut conn = crate::db::checkout(&pool).map_err(|_| anyhow::anyhow!("no connection"))?;
        Ok(diesel::sql_query("INSERT INTO bench_bare_inserts (body) VALUES ($1)").bind::<Text, _>(text).execute(&mut conn)?)
    })
    .await;
    match written {
        Ok(Ok(1)) => HttpResponse::Created().content_type("application/json").body("{\"inserted\":1}"),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// Serves `POST /insert` on `bind` with `DATABASE_URL`'s database; prints
/// `listening on <address>` once bound, as `serve` does.
pub fn serve(bind: &str) -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(|_| anyhow::anyhow!("DATABASE_URL is required"))?;
    let pool = crate::db::pool(&url, crate::config::pool_size()?)?;
    pool.get()?.batch_execute(TABLE)?;
    let workers = crate::config::workers()?;
    actix_web::rt::System::new().block_on(async move {
        let data = web::Data::new(pool);
        let server =
            HttpServer::new(move || App::new().app_data(data.clone()).route("/insert", web::post().to(insert))).workers(workers).bind(bind)?;
        for address in server.addrs() {
            println!("listening on http://{address}");
        }
        server.run().await?;
        anyhow::Ok(())
    })
}
