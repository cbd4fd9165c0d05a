//! The views declared to diesel by hand (`tarozi::db::views_schema`) are the database's: the
//! same columns, in the same order, of the same types (nullability a view does not record).

use diesel::expression::Expression;
use diesel::pg::{Pg, PgMetadataLookup};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, HasSqlType, Text};
use tarozi::db::views_schema::{counted_dispensings, ledger_entries};

use crate::helpers::TestApp;

#[derive(QueryableByName, Debug, PartialEq)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    oid: i64,
}

/// The type OID of a declared column's SQL type (`Nullable<T>` is `T`'s).
fn oid<T>(conn: &mut PgConnection) -> i64
where
    Pg: HasSqlType<T>,
{
    i64::from(<Pg as HasSqlType<T>>::metadata(conn as &mut dyn PgMetadataLookup).oid().expect("a built-in type"))
}

/// The columns named, with the types they are declared with.
macro_rules! declared {
    ($conn:expr, $view:ident: $($column:ident),+ $(,)?) => {
        vec![$(Column { name: stringify!($column).to_owned(), oid: oid::<<$view::$column as Expression>::SqlType>($conn) }),+]
    };
}

/// The column names of a declared `SELECT` of all columns, in order.
fn names(select_all: String) -> Vec<String> {
    let list = select_all.trim_start_matches("SELECT ").split(" FROM ").next().unwrap_or_default().to_owned();
    list.split(", ").map(|c| c.rsplit('.').next().unwrap_or_default().trim_matches('"').to_owned()).collect()
}

fn in_database(conn: &mut PgConnection, view: &str) -> Vec<Column> {
    diesel::sql_query(
        "SELECT a.attname::text AS name, a.atttypid::bigint AS oid FROM pg_attribute a \
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .bind::<Text, _>(view)
    .load(conn)
    .unwrap()
}

#[actix_web::test]
async fn the_views_declared_to_diesel_are_the_databases() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let conn = &mut conn;

    let db = in_database(conn, "ledger_entries");
    let all = names(diesel::debug_query::<Pg, _>(&ledger_entries::table.select(ledger_entries::all_columns)).to_string());
    assert_eq!(all, db.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
    let typed = declared!(conn, ledger_entries: id, country_code, facility_id, product_id, kind, delta_units, occurred_at,
        recorded_at, recorded_by, reason, reverses_entry_id, import_authorization_id, transfer_id);
    assert_eq!(typed, db);

    let db = in_database(conn, "counted_dispensings");
    let all = names(diesel::debug_query::<Pg, _>(&counted_dispensings::table.select(counted_dispensings::all_columns)).to_string());
    assert_eq!(all, db.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
    let typed = declared!(conn, counted_dispensings: id, country_code, facility_id, region_id, product_id, substance_id,
        client_record_id, quantity_units, dispensed_at, recorded_at, recorded_by, patient_pseudonym, patient_sex,
        patient_age_band, prescriber_id, prescription_number, days_supply, indication, daily_mme);
    assert_eq!(typed, db);
}
