//! The demo world: `tarozi seed-demo` and `tarozi serve --demo` fill an empty database with a
//! synthetic but realistic Central Asia, so the dashboard has something to show.
//!
//! Everything is written through the application layer's commands (`src/app/…::execute`
//! run by `app::frame::run`, as the API runs them), so every invariant, ledger entry, monthly
//! aggregate and audit entry holds exactly as for real data: the regions and their
//! populations, users, facilities and products, estimates and deaths by cause, import
//! authorizations, receipts, transfers and their confirmations, dispensing batches (one per
//! facility and month, in time order, after the supply that covers them), stock events and
//! counts, closed reporting periods, and a scan of every rule at the end so flags exist.
//!
//! - [`world`]: the five countries, their regions (real names, populations adding up to the
//!   national figure) and how many facilities each has;
//! - [`catalogue`]: the products (labelled strength and salt) and how each is prescribed;
//! - [`generator`]: patients and their fills per facility, with seasonality;
//! - [`stories`]: the planted stories, each visible on the dashboard.
//!
//! Deterministic: every random draw comes from a generator seeded with the facility's place,
//! and the world spans the [`MONTHS`] months that ended before the day it is seeded, so the
//! same scale seeded in the same month gives the same world. Everything the demo creates is
//! labelled synthetic ("Demo pharmacy 12, Almaty (synthetic)"; products end in "(demo)").
//! The demo users share [`DEMO_PASSWORD`]: a demo only, never a real deployment.

pub mod catalogue;
pub mod generator;
pub mod stories;
pub mod world;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use bigdecimal::{BigDecimal, RoundingMode};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::app::dispensing::{ParsedRecord, ValidRecord, close_reporting_period, record_batch};
use crate::app::error::{AppError, AppResult};
use crate::app::frame::{self, Outcome, Reply};
use crate::app::{accounts, diversion, estimates, reference, stock, supply};
use crate::db::enums::{EstimateKind, FacilityKind, ReportedEventKind, Role};
use crate::db::ledger::ProductLedger;
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::substance::Substance;
use crate::db::models::user::User;
use crate::demo::catalogue::{PRODUCT_COUNT, PRODUCTS};
use crate::demo::generator::{FacilityProfile, MonthWindow, PatientRef, Visit};
use crate::demo::stories::{Story, place};
use crate::demo::world::{COUNTRIES, CountryPlan, apportion};
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, ImportAuthorizationId, ProductId, RegionId, SubstanceId};
use crate::domain::period::Month;
use crate::domain::pseudonym::pseudonym;

/// The demo users' password. A demo only: never use the demo world, or this password, for
/// real data.
pub const DEMO_PASSWORD: &str = "tarozi-demo";
/// Months of history: those that ended before the day of seeding.
pub const MONTHS: usize = 24;
/// Months one delivery to a pharmacy covers; pharmacies are staggered over the months of the
/// cycle, so supply to the retail level is spread over every month.
const ROUND_MONTHS: usize = 3;
/// Stock shipped to a pharmacy beyond what it will dispense until its next delivery.
const BUFFER_PCT: i64 = 15;
/// Estimates are filed this much (percent) above the year's imports.
const ESTIMATE_HEADROOM_PCT: i64 = 30;

/// How big a world, and with what keys.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Volume: 1 is the default (about 250 dispensing facilities, ~160 000 dispensings over
    /// two years); below 1 fewer facilities (at least one in each region) with fewer
    /// patients (a tiny world for tests), above 1 more patients per facility ([`volume`]:
    /// 10 is about ten million dispensings; per-capita consumption grows with it).
    pub scale: f64,
    /// The instance's pseudonym key (patients are pseudonymised as the API does).
    pub pseudonym_key: Vec<u8>,
    /// The moment of seeding: the world spans the `MONTHS` months that ended before it.
    pub now: DateTime<Utc>,
    /// Days after a month's end before an open period is late (for the scan).
    pub reporting_grace_days: i64,
    /// Print progress to standard output.
    pub verbose: bool,
}

/// A demo user.
#[derive(Debug, Clone)]
pub struct DemoUser {
    pub username: String,
    pub role: Role,
    pub country: Option<String>,
    pub facility_id: Option<FacilityId>,
}

/// What seeding wrote.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub regions: usize,
    pub facilities: usize,
    pub products: usize,
    pub users: Vec<DemoUser>,
    pub dispensings: usize,
    pub transfers: usize,
    pub flags: i64,
    pub stories: Vec<Story>,
    pub first_month: Option<Month>,
    pub last_month: Option<Month>,
    pub seconds: f64,
    /// Seconds spent in each phase, in the order they first ran.
    pub phases: Vec<(&'static str, f64)>,
}

impl Summary {
    /// Adds `seconds` to the phase `name`.
    fn time(&mut self, name: &'static str, seconds: f64) {
        match self.phases.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => *s += seconds,
            None => self.phases.push((name, seconds)),
        }
    }
}

/// Whether the database holds no world yet (no facility, no dispensing): a fresh database,
/// or one where only the bootstrap admin exists.
pub fn is_empty(conn: &mut PgConnection) -> QueryResult<bool> {
    use crate::db::schema::{dispensings, facilities};
    let facilities: i64 = facilities::table.count().get_result(conn)?;
    let dispensings: i64 = dispensings::table.count().get_result(conn)?;
    Ok(facilities == 0 && dispensings == 0)
}

/// Seeds the demo world when the database is empty (`serve --demo`); a database that holds
/// data is left as it is (`None`).
pub fn seed_if_empty(conn: &mut PgConnection, options: &DemoOptions) -> anyhow::Result<Option<Summary>> {
    if !is_empty(conn)? {
        return Ok(None);
    }
    seed(conn, options).map(Some)
}

/// Seeds the demo world; refused when the database already holds facilities or dispensing.
pub fn seed(conn: &mut PgConnection, options: &DemoOptions) -> anyhow::Result<Summary> {
    if !options.scale.is_finite() || options.scale <= 0.0 || options.scale > 1000.0 {
        bail!("--scale must be a number above 0 and at most 1000");
    }
    if !is_empty(conn)? {
        bail!("the database already holds facilities or dispensing: the demo world is seeded into an empty database only");
    }
    let started = Instant::now();
    // Each command commits on its own, as requests do; the seeding does not wait for each
    // commit to reach the disk (a crash loses the last commits, never consistency: seed again).
    diesel::sql_query("SET synchronous_commit TO off").execute(conn)?;
    let mut seeder = Seeder::new(conn, options)?;
    let seeded = seeder.run();
    let mut summary = seeder.summary;
    diesel::sql_query("RESET synchronous_commit").execute(conn)?;
    seeded?;
    summary.flags = crate::db::schema::flags::table.count().get_result(conn)?;
    summary.seconds = started.elapsed().as_secs_f64();
    if options.verbose {
        for (phase, seconds) in &summary.phases {
            println!("  {seconds:>7.1} s  {phase}");
        }
        println!("  {:>7.0} dispensings a second", summary.dispensings as f64 / summary.seconds.max(1e-9));
    }
    Ok(summary)
}

/// Runs `command` through the write frame for `actor`, as a request would (transaction, audit
/// entry, refusals, cache generation); a refusal fails the seeding, naming it.
fn exec<T>(
    conn: &mut PgConnection,
    actor: &Actor,
    what: &str,
    command: impl FnOnce(&mut PgConnection) -> AppResult<Outcome<T>>,
) -> anyhow::Result<T> {
    let mut output = None;
    frame::run(conn, actor, None, command, |result| match result {
        Ok(value) => {
            output = Some(value);
            Ok(Reply { status: 200, body: Vec::new(), replayed: false })
        }
        Err(e) => Err(AppError::from(e.clone())),
    })
    .map_err(|e| anyhow!("demo: {what}: {e}"))?;
    output.ok_or_else(|| anyhow!("demo: {what}: no output"))
}

fn actor_of(user: &User) -> Actor {
    Actor {
        user_id: Some(user.id),
        role: Some(user.role),
        country_code: user.country_code.clone(),
        facility_id: user.facility_id,
        ..Default::default()
    }
}

fn decimal(text: &str) -> anyhow::Result<Decimal> {
    Decimal::from_str(text).map_err(|_| anyhow!("not a decimal: {text}"))
}

/// A dispensing facility of the world and what it will dispense.
struct Outlet {
    facility: Facility,
    actor: Actor,
    /// Index of its supplier in the country's suppliers (the importer first, then the
    /// wholesalers).
    supplier: usize,
    region: String,
    visits: Vec<Visit>,
}

/// Extra stock a delivery brings a pharmacy for a story, and a short receipt.
#[derive(Default, Clone, Copy)]
struct Extra {
    units: i64,
    short: i64,
}

struct Seeder<'c> {
    conn: &'c mut PgConnection,
    options: DemoOptions,
    admin: Actor,
    password_hash: String,
    products: Vec<Product>,
    first: Month,
    summary: Summary,
}

impl<'c> Seeder<'c> {
    fn new(conn: &'c mut PgConnection, options: &DemoOptions) -> anyhow::Result<Self> {
        let today = options.now.date_naive();
        let this_month = Month::of(today);
        let first_day = this_month.first_day().checked_sub_months(Months::new(MONTHS as u32)).context("date")?;
        let password_hash = crate::auth::password::hash(DEMO_PASSWORD)?;
        Ok(Seeder {
            conn,
            options: options.clone(),
            // The seeder itself acts as an administrator (no user) to create the first users.
            admin: Actor { role: Some(Role::Admin), request_id: Some("demo-seed".into()), ..Default::default() },
            password_hash,
            products: Vec::new(),
            first: Month::of(first_day),
            summary: Summary::default(),
        })
    }

    fn run(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        if !User::any_admin(self.conn)? {
            let admin = self.user("admin", Role::Admin, None, None)?;
            self.admin = Actor { request_id: Some("demo-seed".into()), ..actor_of(&admin) };
        }
        self.user("regional", Role::Regional, None, None)?;
        self.products()?;
        self.summary.first_month = Some(self.first);
        let mut last = self.first;
        for _ in 1..MONTHS {
            last = last.next();
        }
        self.summary.last_month = Some(last);
        for (index, plan) in COUNTRIES.iter().enumerate() {
            self.country(index, plan)?;
            if self.options.verbose {
                println!("  {:>6.1} s  {} seeded ({} dispensings so far)", started.elapsed().as_secs_f64(), plan.code, self.summary.dispensings);
            }
        }
        Ok(())
    }

    fn user(&mut self, username: &str, role: Role, country: Option<&str>, facility_id: Option<FacilityId>) -> anyhow::Result<User> {
        let input = accounts::create_user::Input {
            username: username.to_owned(),
            password_hash: self.password_hash.clone(),
            role,
            country_code: country.map(str::to_owned),
            facility_id,
        };
        let admin = self.admin.clone();
        let user = exec(self.conn, &admin, "create user", |conn| accounts::create_user::execute(conn, &admin, input))?;
        self.summary.users.push(DemoUser { username: username.to_owned(), role, country: country.map(str::to_owned), facility_id });
        Ok(user)
    }

    fn products(&mut self) -> anyhow::Result<()> {
        let admin = self.admin.clone();
        for spec in &PRODUCTS {
            let substance = Substance::find_by_inn(self.conn, spec.inn)?.with_context(|| format!("substance {} is seeded", spec.inn))?;
            let input = reference::create_product::Input::parse(
                spec.name.to_owned(),
                substance.id,
                decimal(spec.base_mg)?,
                spec.form,
                spec.unit,
                spec.delivery_mcg_per_hour.map(decimal).transpose()?,
                (Some(decimal(spec.strength_mg)?), Some(spec.salt.to_owned())),
            )
            .map_err(|e| anyhow!("demo product {}: {e:?}", spec.name))?;
            let product = exec(self.conn, &admin, "create product", |conn| reference::create_product::execute(conn, &admin, input))?;
            self.products.push(product);
        }
        self.summary.products = self.products.len();
        Ok(())
    }

    /// The years the world spans, and the next (for the estimate proposal).
    fn years(&self) -> Vec<i32> {
        let from = self.first.first_day().year();
        let last = self.summary.last_month.map(|m| m.first_day().year()).unwrap_or(from);
        (from..=last + 1).collect()
    }

    /// Adds the time since `clock` to the phase `name`, and restarts the clock.
    fn lap(&mut self, clock: &mut Instant, name: &'static str) {
        self.summary.time(name, clock.elapsed().as_secs_f64());
        *clock = Instant::now();
    }

    fn country(&mut self, index: usize, plan: &CountryPlan) -> anyhow::Result<()> {
        let mut clock = Instant::now();
        let cc = plan.code;
        let lower = cc.to_lowercase();
        let country = Country::find(self.conn, cc)?.with_context(|| format!("country {cc} is seeded"))?;
        let zone: Tz = country.zone()?;
        let months = generator::months(zone, self.first, MONTHS);
        let mut lead = self.first;
        for _ in 0..generator::LEAD_MONTHS {
            lead = Month::of(lead.first_day().pred_opt().context("date")?);
        }
        let drawn = generator::months(zone, lead, generator::LEAD_MONTHS + MONTHS);

        // People of the country's authorities.
        let ministry = self.user(&format!("{lower}-ministry"), Role::Ministry, Some(cc), None)?;
        let regulator = self.user(&format!("{lower}-regulator"), Role::Regulator, Some(cc), None)?;
        let (ministry, regulator) = (actor_of(&ministry), actor_of(&regulator));

        // Regions and their populations, adding up to the national figure every year.
        let populations = apportion(&plan.regions.iter().map(|r| r.2).collect::<Vec<_>>(), country.population, 0);
        let mut regions = Vec::new();
        for ((name, code, _), population) in plan.regions.iter().zip(&populations) {
            let input = reference::create_region::Input::new(cc, name, Some((*code).to_owned()));
            let region = exec(self.conn, &ministry, "create region", |conn| reference::create_region::execute(conn, &ministry, input))?;
            for year in self.years() {
                let source = Some(format!("{} (regional shares, scaled to it; demo)", country.population_source));
                let input = reference::put_region_population::Input::parse(region.id, year, *population, source, None)
                    .map_err(|e| anyhow!("population: {e:?}"))?;
                exec(self.conn, &ministry, "put region population", |conn| reference::put_region_population::execute(conn, &ministry, input))?;
            }
            regions.push(region);
        }
        self.summary.regions += regions.len();

        // Deaths by cause, for the morbidity-based estimate proposal.
        for (i, year) in self.years().into_iter().enumerate() {
            let grow = |n: i64| n + n * i as i64 / 50;
            let causes = vec![
                estimates::put_deaths::Cause { cause: "cancer".into(), deaths: grow(plan.deaths.0) },
                estimates::put_deaths::Cause { cause: "hiv_aids".into(), deaths: grow(plan.deaths.1) },
                estimates::put_deaths::Cause { cause: "other".into(), deaths: grow(plan.deaths.2) },
            ];
            let input = estimates::put_deaths::Input::parse(cc, year, causes, "synthetic figures of realistic size (demo)".into())
                .map_err(|e| anyhow!("deaths: {e:?}"))?;
            exec(self.conn, &ministry, "put deaths", |conn| estimates::put_deaths::execute(conn, &ministry, input))?;
        }

        // Facilities: the importer and wholesalers in the capital and the largest regions,
        // dispensing facilities in every region (by population) but the story's.
        let licence_until = NaiveDate::from_ymd_opt(self.first.first_day().year() + 8, 12, 31).context("date")?;
        let by_size: Vec<usize> = {
            let mut order: Vec<usize> = (0..regions.len()).collect();
            order.sort_by_key(|i| std::cmp::Reverse(populations[*i]));
            order
        };
        let license = |seeder: &mut Self, region: usize, name: String, kind: FacilityKind, number: String| -> anyhow::Result<Facility> {
            let input = reference::create_facility::Input {
                region_id: regions[region].id,
                name,
                kind,
                licence_number: number,
                licence_valid_until: licence_until,
            };
            exec(seeder.conn, &regulator, "license facility", |conn| reference::create_facility::execute(conn, &regulator, input))
        };
        let importer = license(
            self,
            by_size[0],
            format!("Demo importer, {} (synthetic)", regions[by_size[0]].name),
            FacilityKind::Importer,
            format!("{cc}-DEMO-I-001"),
        )?;
        let importer_user = self.user(&format!("{lower}-importer"), Role::Wholesaler, Some(cc), Some(importer.id))?;
        // Suppliers: the importer (which supplies the hospital pharmacies, as the state
        // distributors do) and the wholesalers (the pharmacies); each imports for itself.
        let mut suppliers = vec![(importer, actor_of(&importer_user))];
        for w in 0..plan.wholesalers {
            let region = by_size[w.min(by_size.len() - 1)];
            let facility = license(
                self,
                region,
                format!("Demo wholesaler {}, {} (synthetic)", w + 1, regions[region].name),
                FacilityKind::Wholesaler,
                format!("{cc}-DEMO-W-{:03}", w + 1),
            )?;
            let user = self.user(&format!("{lower}-wholesaler-{}", w + 1), Role::Wholesaler, Some(cc), Some(facility.id))?;
            suppliers.push((facility, actor_of(&user)));
        }
        let no_access = (cc == place::NO_ACCESS.0).then(|| plan.regions.iter().position(|r| r.0 == place::NO_ACCESS.1)).flatten();
        let weights: Vec<i64> = populations.iter().enumerate().map(|(i, p)| if Some(i) == no_access { 0 } else { *p }).collect();
        let open_regions = weights.iter().filter(|w| **w > 0).count();
        let wanted = ((plan.facilities as f64) * self.options.scale.min(1.0)).round() as i64;
        let mut per_region = apportion(&weights, wanted.max(open_regions as i64), 1);
        if let Some(i) = no_access {
            // The floor gave it one: move it to the largest region.
            let moved = per_region[i];
            per_region[i] = 0;
            per_region[by_size[0]] += moved;
        }
        let volume = volume(self.options.scale);
        let mut outlets: Vec<Outlet> = Vec::new();
        let mut number = 0usize;
        for (r, count) in per_region.iter().enumerate() {
            for k in 0..*count {
                number += 1;
                // The first facility of a region is its hospital's pharmacy.
                let kind = if k == 0 { FacilityKind::Hospital } else { FacilityKind::Pharmacy };
                let label = if kind == FacilityKind::Hospital { "Demo hospital pharmacy" } else { "Demo pharmacy" };
                let facility =
                    license(self, r, format!("{label} {number}, {} (synthetic)", regions[r].name), kind, format!("{cc}-DEMO-P-{number:04}"))?;
                let user = self.user(&format!("{lower}-pharmacy-{number}"), Role::Pharmacy, Some(cc), Some(facility.id))?;
                let size = if kind == FacilityKind::Hospital { 1.5 } else { 1.0 };
                let profile = FacilityProfile {
                    seed: (index as u64 + 1) * 1_000_003 + number as u64,
                    kind,
                    mix: plan.mix,
                    courses_per_month: plan.courses_per_month * volume * size,
                    prescribers: if kind == FacilityKind::Hospital { 6 } else { 3 },
                };
                let visits = generator::visits(&profile, &drawn);
                let supplier = if kind == FacilityKind::Hospital { 0 } else { 1 + number % plan.wholesalers };
                outlets.push(Outlet { facility, actor: actor_of(&user), supplier, region: regions[r].name.clone(), visits });
            }
        }
        self.summary.facilities += outlets.len() + suppliers.len();

        // Stories planted in the dispensing.
        let mut extras: BTreeMap<(usize, usize, usize), Extra> = BTreeMap::new();
        let mut counts: Vec<(usize, usize)> = Vec::new();
        let mut theft: Option<(usize, usize, usize)> = None;
        if cc == place::SHOPPING.0 {
            self.plant_shopper(cc, &mut outlets, &months)?;
        }
        if cc == place::SPIKE.0 {
            self.plant_spike(cc, &mut outlets, &months)?;
        }
        if cc == place::THEFT.0 {
            let o = pick_outlet(&outlets, place::THEFT.1, true)?;
            let month = MONTHS - 3;
            let product = main_product(&outlets[o]);
            extras.entry((o, product, delivery(o, month))).or_default().units += stories::THEFT_UNITS;
            theft = Some((o, product, month));
            self.story(
                "theft",
                cc,
                "loss_or_theft",
                Some(outlets[o].facility.id),
                None,
                format!(
                    "{} reports the theft of {} units of {} in {}",
                    outlets[o].facility.name,
                    stories::THEFT_UNITS,
                    PRODUCTS[product].name,
                    months[month].month.label()
                ),
            );
        }
        if cc == place::SHORT_TRANSFER.0 {
            let o = pick_outlet(&outlets, place::SHORT_TRANSFER.1, false)?;
            let product = main_product(&outlets[o]);
            extras.entry((o, product, delivery(o, MONTHS - 1))).or_default().short += stories::SHORT_UNITS;
            self.story(
                "short_transfer",
                cc,
                "transfer_mismatch",
                Some(outlets[o].facility.id),
                None,
                format!(
                    "{} received {} units fewer of {} than its supplier shipped",
                    outlets[o].facility.name,
                    stories::SHORT_UNITS,
                    PRODUCTS[product].name
                ),
            );
        }
        if cc == place::COUNT_SHORTFALL.0 {
            let o = pick_outlet(&outlets, place::COUNT_SHORTFALL.1, true)?;
            let product = main_product(&outlets[o]);
            for month in MONTHS - stories::COUNT_MONTHS..MONTHS {
                counts.push((o, month));
                let need: i64 = outlets[o]
                    .visits
                    .iter()
                    .filter(|v| v.product == product && generator::month_index(&months, v.at) == Some(month))
                    .map(|v| v.units)
                    .sum();
                extras.entry((o, product, delivery(o, month))).or_default().units += need / 5 + 20;
            }
            self.story(
                "chronic_count_shortfall",
                cc,
                "inventory_variance",
                Some(outlets[o].facility.id),
                None,
                format!(
                    "{}: each monthly count of {} over the last {} months finds 5 % less than the book (12 % once)",
                    outlets[o].facility.name,
                    PRODUCTS[product].name,
                    stories::COUNT_MONTHS
                ),
            );
        }
        if let Some(r) = no_access {
            self.story(
                "no_access_point",
                cc,
                "no_access_point",
                None,
                Some(regions[r].id),
                format!("{} ({} inhabitants) has no licensed pharmacy or hospital pharmacy", regions[r].name, populations[r]),
            );
        }
        if cc == place::VERY_LOW {
            self.story(
                "very_low_country",
                cc,
                "very_low_availability",
                None,
                None,
                format!("{cc}'s consumption is in the very low band (under 100 S-DDD per million inhabitants a day)"),
            );
        }

        // The supply plan: each delivery to a pharmacy covers what it will dispense until the
        // next plus a buffer (and a story's extra); its supplier imports, that month, exactly
        // what it ships on.
        let mut shipments: BTreeMap<(usize, usize, usize), (i64, i64)> = BTreeMap::new(); // (month, outlet, product) -> (shipped, received)
        for (o, outlet) in outlets.iter().enumerate() {
            let mut need: BTreeMap<(usize, usize), i64> = BTreeMap::new();
            for v in &outlet.visits {
                if let Some(m) = generator::month_index(&months, v.at) {
                    *need.entry((delivery(o, m), v.product)).or_default() += v.units;
                }
            }
            for ((round, product), units) in need {
                let received = units + (units * BUFFER_PCT + 99) / 100;
                shipments.insert((round, o, product), (received, received));
            }
        }
        for ((o, product, round), extra) in &extras {
            let entry = shipments.entry((*round, *o, *product)).or_insert((0, 0));
            entry.0 += extra.units + extra.short;
            entry.1 += extra.units;
        }
        let mut imports: BTreeMap<(usize, usize, usize), i64> = BTreeMap::new(); // (month, supplier, product) -> units
        for ((round, o, product), (shipped, _)) in &shipments {
            *imports.entry((*round, outlets[*o].supplier, *product)).or_default() += shipped;
        }

        // Estimates and import authorizations per year, sized from the plan.
        let year_of = |month: usize| months[month].month.first_day().year();
        let mut by_year: BTreeMap<(i32, usize, usize), i64> = BTreeMap::new();
        for ((round, supplier, product), units) in &imports {
            *by_year.entry((year_of(*round), *supplier, *product)).or_default() += units;
        }
        let mut grams: BTreeMap<(i32, SubstanceId), BigDecimal> = BTreeMap::new();
        for ((year, _, product), units) in &by_year {
            let p = &self.products[*product];
            *grams.entry((*year, p.substance_id)).or_default() += BigDecimal::from(*units) * &p.base_mg_per_unit / BigDecimal::from(1000);
        }
        let story_year = self.options.now.date_naive().year() - 1;
        let unused = if cc == place::UNUSED_ESTIMATE.0 { Substance::find_by_inn(self.conn, place::UNUSED_ESTIMATE.1)?.map(|s| s.id) } else { None };
        for ((year, substance_id), g) in &grams {
            let factor = if Some(*substance_id) == unused && *year == story_year {
                BigDecimal::from(stories::UNUSED_ESTIMATE_FACTOR * 100)
            } else {
                BigDecimal::from(100 + ESTIMATE_HEADROOM_PCT)
            };
            let quantity = (g * factor / BigDecimal::from(100)).with_scale_round(3, RoundingMode::Ceiling);
            let input = estimates::create_estimate::Input::new(
                cc,
                *substance_id,
                *year,
                EstimateKind::Annual,
                Decimal::from(quantity),
                Some("demo estimate (synthetic)".into()),
            )
            .check()
            .map_err(|e| anyhow!("estimate: {e:?}"))?;
            exec(self.conn, &ministry, "create estimate", |conn| estimates::create_estimate::execute(conn, &ministry, input))?;
        }
        if unused.is_some() {
            self.story(
                "unused_estimate",
                cc,
                "estimate_underused",
                None,
                None,
                format!(
                    "{cc}'s {story_year} estimate of {} was {}× what it imported: mostly unused",
                    place::UNUSED_ESTIMATE.1,
                    stories::UNUSED_ESTIMATE_FACTOR
                ),
            );
        }
        let mut authorizations: BTreeMap<(i32, usize, usize), ImportAuthorizationId> = BTreeMap::new();
        for (n, ((year, supplier, product), units)) in by_year.iter().enumerate() {
            let spec = &PRODUCTS[*product];
            let input = supply::issue_import_authorization::Input::parse(
                &format!("{cc}-IA-{year}-{:03} (demo)", n + 1),
                suppliers[*supplier].0.id,
                spec.exporter,
                self.products[*product].id,
                *units,
                NaiveDate::from_ymd_opt(*year, 1, 1).context("date")?,
                NaiveDate::from_ymd_opt(*year, 12, 31).context("date")?,
            )
            .map_err(|e| anyhow!("authorization: {e:?}"))?;
            let a = exec(self.conn, &regulator, "issue import authorization", |conn| {
                supply::issue_import_authorization::execute(conn, &regulator, input)
            })?;
            authorizations.insert((*year, *supplier, *product), a.id);
        }

        self.lap(&mut clock, "reference data, facilities and plan");
        // Month by month: imports and deliveries, then the month's dispensing.
        for month in 0..MONTHS {
            let day = months[month].start;
            let at = |minutes: i64| day + Duration::minutes(minutes);
            // Imports at 00:20 local.
            for ((_, supplier, product), units) in imports.range((month, 0, 0)..(month + 1, 0, 0)) {
                let authorization = authorizations[&(year_of(month), *supplier, *product)];
                let input =
                    supply::record_import_receipt::Input { import_authorization_id: authorization, quantity_units: *units, received_at: at(20) };
                let actor = &suppliers[*supplier].1;
                exec(self.conn, actor, "record import receipt", |conn| supply::record_import_receipt::execute(conn, actor, input))?;
            }
            // To the pharmacies at 02:00 local, confirmed at 03:00.
            for ((_, o, product), (shipped, received)) in shipments.range((month, 0, 0)..(month + 1, 0, 0)) {
                let outlet = &outlets[*o];
                let (supplier, supplier_actor) = &suppliers[outlet.supplier];
                self.transfer(
                    supplier_actor,
                    supplier.id,
                    &outlet.actor,
                    outlet.facility.id,
                    self.products[*product].id,
                    (*shipped, *received),
                    at(120),
                    at(180),
                )?;
            }
            self.lap(&mut clock, "imports and transfers");
            for outlet in &outlets {
                self.dispense(cc, outlet, &months, month)?;
            }
            self.lap(&mut clock, "dispensing batches");
            if let Some((o, product, m)) = theft
                && m == month
            {
                let outlet = &outlets[o];
                let input = stock::record_stock_event::Input::parse(
                    outlet.facility.clone(),
                    ReportedEventKind::Theft,
                    self.products[product].id,
                    stories::THEFT_UNITS,
                    months[month].start + Duration::days(14) + Duration::hours(20),
                    Some("break-in at night; reported to the police (demo)".into()),
                )
                .map_err(|e| anyhow!("theft: {e:?}"))?;
                exec(self.conn, &outlet.actor, "record theft", |conn| stock::record_stock_event::execute(conn, &outlet.actor, input))?;
            }
            for (o, m) in counts.iter().filter(|(_, m)| *m == month) {
                let outlet = &outlets[*o];
                let product = main_product(outlet);
                let counted_at = months[*m].end - Duration::hours(2);
                let ledger = ProductLedger::open(self.conn, &outlet.facility, self.products[product].id, counted_at)?;
                let book = ledger.balance_at(counted_at);
                let pct = if *m == MONTHS - 2 { 12 } else { 5 };
                let short = (book * pct / 100).max(6).min(book);
                let input = stock::record_inventory_count::Input {
                    facility: outlet.facility.clone(),
                    product_id: self.products[product].id,
                    counted_units: book - short,
                    counted_at,
                    reason: Some("month-end count (demo)".into()),
                };
                exec(self.conn, &outlet.actor, "record inventory count", |conn| stock::record_inventory_count::execute(conn, &outlet.actor, input))?;
            }
        }

        self.lap(&mut clock, "thefts and counts");
        // Every month but the last closed by its facility (a zero report when nothing was
        // dispensed): the last is left open, as pharmacies report it in the next days.
        for outlet in &outlets {
            let mut dispensed = [false; MONTHS];
            for v in &outlet.visits {
                if let Some(m) = generator::month_index(&months, v.at) {
                    dispensed[m] = true;
                }
            }
            for (m, window) in months.iter().enumerate().take(MONTHS - 1) {
                let input = close_reporting_period::Input::parse(outlet.facility.clone(), window.month, !dispensed[m])
                    .map_err(|e| anyhow!("close: {e:?}"))?;
                exec(self.conn, &outlet.actor, "close reporting period", |conn| close_reporting_period::execute(conn, &outlet.actor, input))?;
            }
        }

        self.lap(&mut clock, "reporting periods closed");
        // The regulator scans the two years: flags exist when the dashboard opens. The planner
        // first learns what was just loaded (statistics left from before the bulk of the
        // dispensing can turn a rule's query into a nested loop over the whole country).
        diesel::sql_query("ANALYZE").execute(self.conn)?;
        let (from, to) = (months[0].month.first_day(), months[MONTHS - 1].month.last_day());
        let input = diversion::start_scan::Input::parse(&regulator, cc, from, to).map_err(|e| anyhow!("scan: {e:?}"))?;
        let scan = exec(self.conn, &regulator, "start scan", |conn| diversion::start_scan::execute(conn, &regulator, input))?;
        diversion::run_scan::run(self.conn, &regulator, scan.id, self.options.now, self.options.reporting_grace_days)
            .map_err(|e| anyhow!("demo: scan of {cc}: {e}"))?;
        self.lap(&mut clock, "scan");
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &mut self,
        from: &Actor,
        from_id: FacilityId,
        to: &Actor,
        to_id: FacilityId,
        product_id: ProductId,
        (shipped, received): (i64, i64),
        shipped_at: DateTime<Utc>,
        received_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let input = supply::create_transfer::Input::parse(from_id, to_id, product_id, shipped, shipped_at).map_err(|e| anyhow!("transfer: {e:?}"))?;
        let shipment = exec(self.conn, from, "create transfer", |conn| supply::create_transfer::execute(conn, from, input))?;
        let input = supply::confirm_transfer_receipt::Input { transfer_id: shipment.transfer.id, quantity_units: received, received_at };
        exec(self.conn, to, "confirm transfer receipt", |conn| supply::confirm_transfer_receipt::execute(conn, to, input))?;
        self.summary.transfers += 1;
        Ok(())
    }

    /// One batch: the outlet's fills of `month`, in time order.
    fn dispense(&mut self, cc: &str, outlet: &Outlet, months: &[MonthWindow], month: usize) -> anyhow::Result<()> {
        let window = months[month];
        let key = &self.options.pseudonym_key;
        let facility = &outlet.facility;
        let records: Vec<ParsedRecord> = outlet
            .visits
            .iter()
            .enumerate()
            .filter(|(_, v)| v.at >= window.start && v.at < window.end)
            .enumerate()
            .map(|(index, (i, v))| {
                let (label, prescriber) = match v.patient {
                    // Fixed widths: identifiers are compared without their dashes.
                    PatientRef::Local(p) => (format!("P{:06}{p:08}", facility.id), format!("{cc}-DOC-{}-{}", facility.id, v.prescriber)),
                    PatientRef::Story(p) => (format!("S{p:08}"), format!("{cc}-DOC-S{}", v.prescriber)),
                };
                ParsedRecord::Valid(ValidRecord {
                    index,
                    client_record_id: format!("demo-{i}"),
                    product_id: self.products[v.product].id,
                    quantity_units: v.units,
                    dispensed_at: v.at,
                    patient_pseudonym: pseudonym(key, cc, &label).unwrap_or([0; 32]),
                    patient_sex: v.sex,
                    patient_age_band: v.age,
                    prescriber_id: prescriber,
                    prescription_number: format!("RX-{}-{i}", facility.id),
                    days_supply: v.days,
                    indication: v.indication,
                })
            })
            .collect();
        if records.is_empty() {
            return Ok(());
        }
        let n = records.len();
        let actor = &outlet.actor;
        let outcome = exec(self.conn, actor, "record dispensings", |conn| {
            let locked = record_batch::open(conn, facility.id)?;
            record_batch::execute(conn, actor, &locked, records)
        })?;
        let accepted = outcome.accepted_ids.len();
        if accepted != n {
            let first = outcome.results.iter().find_map(|r| r.error.as_ref()).map(|e| format!("{e:?}")).unwrap_or_default();
            bail!("demo: {} of {n} dispensings of {} in {} were refused: {first}", n - accepted, facility.name, window.month.label());
        }
        self.summary.dispensings += accepted;
        Ok(())
    }

    fn story(
        &mut self,
        code: &'static str,
        country: &str,
        rule: &'static str,
        facility_id: Option<FacilityId>,
        region_id: Option<RegionId>,
        description: String,
    ) {
        let country = COUNTRIES.iter().map(|c| c.code).find(|c| *c == country).unwrap_or("");
        self.summary.stories.push(Story { code, country, rule, facility_id, region_id, description });
    }

    /// A patient who, within seven weeks, gets morphine from six facilities and six doctors.
    fn plant_shopper(&mut self, cc: &str, outlets: &mut [Outlet], months: &[MonthWindow]) -> anyhow::Result<()> {
        let mut chosen: Vec<usize> = Vec::new();
        for region in place::SHOPPING.1 {
            chosen.extend(outlets.iter().enumerate().filter(|(_, o)| o.region == region).map(|(i, _)| i));
        }
        chosen.extend(0..outlets.len());
        let mut seen = std::collections::BTreeSet::new();
        chosen.retain(|i| seen.insert(*i));
        chosen.truncate(6);
        if chosen.len() < 6 {
            bail!("demo: {cc} needs six dispensing facilities for the shopping story");
        }
        let start = months[MONTHS - 4].start + Duration::days(3) + Duration::hours(11);
        for (k, o) in chosen.iter().enumerate() {
            outlets[*o].visits.push(Visit {
                at: start + Duration::days(9 * k as i64) + Duration::minutes(37 * k as i64),
                product: catalogue::MORPHINE_TABLET,
                units: 56,
                days: 28,
                patient: PatientRef::Story(1),
                prescriber: 100 + k as u32,
                indication: crate::db::enums::Indication::ChronicNonCancer,
                sex: crate::db::enums::PatientSex::Male,
                age: crate::db::enums::AgeBand::From30To44,
            });
            outlets[*o].visits.sort_by_key(|v| v.at);
        }
        let names: Vec<String> = chosen.iter().map(|o| outlets[*o].facility.name.clone()).collect();
        self.story(
            "doctor_shopping",
            cc,
            "multiple_provider_episode",
            None,
            None,
            format!(
                "one patient collects morphine from six facilities and six doctors within seven weeks, from {}: {}",
                months[MONTHS - 4].month.label(),
                names.join("; ")
            ),
        );
        Ok(())
    }

    /// A pharmacy whose dispensing in one month is several times its usual.
    fn plant_spike(&mut self, cc: &str, outlets: &mut [Outlet], months: &[MonthWindow]) -> anyhow::Result<()> {
        let o = pick_outlet(outlets, place::SPIKE.1, true)?;
        let month = MONTHS - 2;
        let mass = |v: &Visit| v.units as f64 * PRODUCTS[v.product].base_mg.parse::<f64>().unwrap_or(0.0);
        let mut monthly = [0.0; MONTHS];
        for v in &outlets[o].visits {
            if let Some(m) = generator::month_index(months, v.at) {
                monthly[m] += mass(v);
            }
        }
        let mut history: Vec<f64> = monthly[month - 6..month].to_vec();
        history.sort_by(f64::total_cmp);
        let median = history[3].max(1000.0);
        let window = months[month];
        let mut k = 0u32;
        while monthly[month] < stories::SPIKE_FACTOR * median {
            let v = Visit {
                at: window.start + Duration::days(i64::from(k % 25) + 1) + Duration::hours(11) + Duration::minutes(i64::from(k) * 7 % 400),
                product: catalogue::MORPHINE_TABLET,
                units: 60,
                days: 30,
                patient: PatientRef::Story(1000 + k),
                prescriber: 200 + k % 3,
                indication: crate::db::enums::Indication::Cancer,
                sex: if k.is_multiple_of(2) { crate::db::enums::PatientSex::Female } else { crate::db::enums::PatientSex::Male },
                age: crate::db::enums::AgeBand::From60To74,
            };
            monthly[month] += mass(&v);
            outlets[o].visits.push(v);
            k += 1;
        }
        outlets[o].visits.sort_by_key(|v| v.at);
        self.story(
            "dispensing_spike",
            cc,
            "dispensing_spike",
            Some(outlets[o].facility.id),
            None,
            format!(
                "{} dispensed about {}× its usual month of opioids in {}",
                outlets[o].facility.name,
                stories::SPIKE_FACTOR as i64,
                window.month.label()
            ),
        );
        Ok(())
    }
}

/// Patients per facility against scale 1's: below 1 as the scale (down to a fifth, with fewer
/// facilities too); above 1 growing faster than the scale, as `scale^VOLUME_EXPONENT`, so that
/// scale 10 (61.5×) holds about ten million dispensings with the facilities of scale 1.
pub fn volume(scale: f64) -> f64 {
    if scale <= 1.0 { scale.max(0.2) } else { scale.powf(VOLUME_EXPONENT) }
}

/// `log10(61.5)`: scale 10 gives 61.5 times scale 1's patients per facility.
pub const VOLUME_EXPONENT: f64 = 1.789;

/// The first outlet of `region` (a pharmacy rather than the hospital's when `pharmacy` and
/// there is one); any outlet of the country when the region has none at this scale.
fn pick_outlet(outlets: &[Outlet], region: &str, pharmacy: bool) -> anyhow::Result<usize> {
    let in_region: Vec<usize> = outlets.iter().enumerate().filter(|(_, o)| o.region == region).map(|(i, _)| i).collect();
    let preferred = in_region.iter().copied().find(|i| !pharmacy || outlets[*i].facility.kind == FacilityKind::Pharmacy);
    preferred.or(in_region.first().copied()).or((!outlets.is_empty()).then_some(0)).ok_or_else(|| anyhow!("demo: no dispensing facility in {region}"))
}

/// The month of the delivery that covers `month` for the outlet `o`: outlets get their
/// deliveries in turn over the months of the cycle (all of them in the first month).
fn delivery(o: usize, month: usize) -> usize {
    let offset = o % ROUND_MONTHS;
    if month < offset { 0 } else { offset + (month - offset) / ROUND_MONTHS * ROUND_MONTHS }
}

/// The product an outlet dispenses most units of.
fn main_product(outlet: &Outlet) -> usize {
    let mut units = [0i64; PRODUCT_COUNT];
    for v in &outlet.visits {
        units[v.product] += v.units;
    }
    (0..PRODUCT_COUNT).max_by_key(|p| (units[*p], std::cmp::Reverse(*p))).unwrap_or(0)
}

/// Whether the database holds the demo world (a facility with a demo licence number): the
/// sign-in page then says the data is synthetic.
pub fn present(conn: &mut PgConnection) -> QueryResult<bool> {
    use crate::db::schema::facilities;
    diesel::select(diesel::dsl::exists(facilities::table.filter(facilities::licence_number.like("%-DEMO-%")))).get_result(conn)
}
