//! The ministry's overview shows the analytics' figures (the hand-computed world of
//! `analytics.rs`, Kyrgyzstan 2024), written for the reader's language, with each chart's
//! table and a CSV of the same rows, the estimate forecast and INCB Form C.

use crate::analytics::world;
use crate::helpers::{WebSession, csrf_of, field_of};

/// The row of a table (by `data-table`) whose first cell is `first`, as its cell texts.
fn row(html: &str, table: &str, first: &str) -> Vec<String> {
    let start = html.find(&format!("data-table=\"{table}\"")).unwrap_or_else(|| panic!("no table {table}"));
    let body = &html[start..];
    let body = &body[..body.find("</table>").unwrap()];
    let at = body
        .find(&format!(">{first}</td>"))
        .or_else(|| body.find(&format!(">{first}</a></td>")))
        .unwrap_or_else(|| panic!("no row {first} in {table}"));
    let row_start = body[..at].rfind("<tr>").unwrap();
    let row = &body[row_start..row_start + body[row_start..].find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|c| {
            let inner = &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()];
            // Strip a link around the text.
            let inner = inner.strip_prefix("<a href=").map_or(inner, |rest| &rest[rest.find('>').unwrap() + 1..rest.rfind("</a>").unwrap()]);
            inner.to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn the_overview_shows_the_hand_computed_figures_in_english_and_russian() {
    let w = world().await;
    let app = &w.app;
    let session = WebSession::signed_in(app, &w.ministry).await;
    let page = session.get("/dashboard/overview?year=2024").await;
    assert_eq!(page.status, 200);
    let html = &page.text;
    // Bishkek: (3 660 + 1 000) S-DDD / 366 days / 1 million = 12.7322 → shown 12.7; ME 0.426 → 0.43.
    let bishkek = row(html, "regions", "Bishkek");
    assert_eq!(bishkek[1], "1,000,000");
    assert_eq!(bishkek[2], "12.7");
    assert_eq!(bishkek[3], "0.43");
    // Dispensed in Bishkek: (30 000 × 10 mg / 100 + 3 000 × 0.1 mg / 0.6) / 366 = (3 000 + 500) / 366 = 9.5628 → 9.6.
    assert_eq!(bishkek[4], "9.6");
    assert_eq!(bishkek[5], "very low");
    assert!(html.contains("class=\"band band-very_low\""));
    // Osh: 1 830 / 366 / 0.5 = 10 → 10.0; the country 11.8215 → 11.8 on 1 500 000 people.
    assert_eq!(row(html, "regions", "Osh")[2], "10.0");
    let country = row(html, "regions", "Country");
    assert_eq!((country[1].as_str(), country[2].as_str()), ("1,500,000", "11.8"));
    // The ranked chart has one bar per region with data, and the monthly trend two lines
    // (consumption and dispensing) over February–December: January has no movement, so no
    // data (not zero): 11 months × 2 = 22 points.
    assert!(html.contains("data-chart=\"regions\" data-points=\"2\""), "regions chart");
    let figure = |name: &str| html.split(&format!("data-chart=\"{name}\"")).nth(1).map(|r| r[..40].to_owned()).unwrap_or_default();
    assert!(html.contains("data-chart=\"trend\" data-points=\"22\""), "trend chart: {}", figure("trend"));
    let svg = &html[html.find("data-chart=\"regions\"").unwrap()..];
    let svg = &svg[svg.find("<svg").unwrap()..svg.find("</svg>").unwrap()];
    assert!(svg.contains("Bishkek") && svg.contains("<rect"), "the chart names its bars");
    // Morphine: 549 g of the 1 000 g estimate = 54.9 %; at that rate 1 000 × 366 ÷ 549 = 667 days: it lasts the year.
    let morphine = row(html, "estimates", "morphine");
    assert_eq!(morphine[1], "1,000.000");
    assert_eq!(morphine[2], "549.000");
    assert_eq!(morphine[4], "54.9");
    assert_eq!(morphine[5], "lasts the year");
    // Methadone has no S-DDD: said in words, not dropped.
    assert!(html.contains("methadone has no configured reference value"));
    // The estimate proposal says what it lacks.
    assert!(html.contains("no deaths by cause recorded for"), "{html}");

    // The CSV carries the same rows with every digit.
    let csv = session.get("/dashboard/overview.csv?table=regions&year=2024").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "region,population,sddd_per_million_per_day,me_mg_per_capita,dispensed_sddd_per_million_per_day,band");
    assert!(lines.contains(&"Bishkek,1000000,12.7322,0.426,9.5628,very_low"), "{}", csv.text);
    assert!(lines.contains(&"KG,1500000,11.8215,0.4217,8.1967,very_low"), "{}", csv.text);
    let trend = session.get("/dashboard/overview.csv?table=trend&year=2024").await;
    assert!(trend.text.lines().any(|l| l.starts_with("2024-02,366000,")), "{}", trend.text);
    assert_eq!(session.get("/dashboard/overview.csv?table=nothing&year=2024").await.status, 404);

    // Form C from the page is the API's CSV.
    let form = session.get("/dashboard/reports/form-c.csv?year=2024").await;
    let api = app.get("/api/v1/reports/incb/form-c?year=2024&format=csv", &w.ministry).await.expect(200);
    assert_eq!(form.text, api.text);
    assert!(form.text.starts_with("country,year,substance,consumed_kg"));

    // In Russian: the same figures with a comma and no-break spaces, the band in words.
    let token = csrf_of(html);
    let idem = field_of(html, "idem");
    session.post_form("/dashboard/language", &[("csrf", &token), ("idem", &idem), ("language", "ru")]).await;
    let ru = session.get("/dashboard/overview?year=2024").await.text;
    let bishkek = row(&ru, "regions", "Bishkek");
    assert_eq!(bishkek[1], "1\u{a0}000\u{a0}000");
    assert_eq!(bishkek[2], "12,7");
    assert_eq!(bishkek[5], "очень низкий");
    assert_eq!(row(&ru, "estimates", "morphine")[5], "хватит на год");
    assert!(ru.contains("С 1 янв. 2024 по 31 дек. 2024"), "dates in Russian");
    // The proposal's notes too, and nothing of them left in English.
    assert!(ru.contains("нет данных о смертях по причинам за"), "{ru}");
    assert!(!ru.contains("no deaths by cause recorded"));
    // The CSV does not change with the language.
    let csv_ru = session.get("/dashboard/overview.csv?table=regions&year=2024").await;
    assert_eq!(csv_ru.text, csv.text);
}
