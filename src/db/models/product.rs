//! `products`: preparations of one substance, with the exact base content of one unit.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::{DosageForm, Unit};
use crate::db::models::substance::ReferenceValues;
use crate::db::schema::products;
use crate::domain::ids::{ProductId, SubstanceId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub substance_id: SubstanceId,
    pub base_mg_per_unit: BigDecimal,
    pub dosage_form: DosageForm,
    pub unit: Unit,
    pub delivery_mcg_per_hour: Option<BigDecimal>,
    pub created_at: DateTime<Utc>,
    /// Labelled strength of one unit: mg of `strength_salt`; `None` when unknown.
    pub strength_mg_per_unit: Option<BigDecimal>,
    /// The salt or ester the label names, or `base`.
    pub strength_salt: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = products)]
pub struct NewProduct<'a> {
    pub name: &'a str,
    pub substance_id: SubstanceId,
    pub base_mg_per_unit: BigDecimal,
    pub dosage_form: DosageForm,
    pub unit: Unit,
    pub delivery_mcg_per_hour: Option<BigDecimal>,
    pub strength_mg_per_unit: Option<BigDecimal>,
    pub strength_salt: Option<String>,
}

impl Product {
    pub fn find(conn: &mut PgConnection, id: ProductId) -> QueryResult<Option<Product>> {
        products::table.find(id).select(Product::as_select()).first(conn).optional()
    }

    pub fn find_many(conn: &mut PgConnection, ids: &[ProductId]) -> QueryResult<Vec<Product>> {
        products::table.filter(products::id.eq_any(ids)).select(Product::as_select()).load(conn)
    }

    /// The products of `ids`, each with every version of its substance's reference values
    /// (oldest first; empty when it has none), in one query.
    pub fn find_many_with_reference_values(conn: &mut PgConnection, ids: &[ProductId]) -> QueryResult<Vec<(Product, Vec<ReferenceValues>)>> {
        use crate::db::schema::substance_reference_values as rv;
        let rows: Vec<(Product, Option<ReferenceValues>)> = products::table
            .left_join(rv::table.on(rv::substance_id.eq(products::substance_id)))
            .filter(products::id.eq_any(ids))
            .order((products::id, rv::effective_from, rv::id))
            .select((Product::as_select(), Option::<ReferenceValues>::as_select()))
            .load(conn)?;
        let mut out: Vec<(Product, Vec<ReferenceValues>)> = Vec::new();
        for (product, values) in rows {
            match out.last_mut() {
                Some((last, versions)) if last.id == product.id => versions.extend(values),
                _ => out.push((product, values.into_iter().collect())),
            }
        }
        Ok(out)
    }

    /// A page of products, of one substance and/or only those whose labelled strength is
    /// (`Some(true)`) or is not (`Some(false)`) unknown.
    pub fn page(
        conn: &mut PgConnection,
        substance_id: Option<SubstanceId>,
        strength_unknown: Option<bool>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<Product>, i64)> {
        let mut query = products::table.into_boxed();
        let mut count = products::table.into_boxed();
        if let Some(s) = substance_id {
            query = query.filter(products::substance_id.eq(s));
            count = count.filter(products::substance_id.eq(s));
        }
        match strength_unknown {
            Some(true) => {
                query = query.filter(products::strength_mg_per_unit.is_null());
                count = count.filter(products::strength_mg_per_unit.is_null());
            }
            Some(false) => {
                query = query.filter(products::strength_mg_per_unit.is_not_null());
                count = count.filter(products::strength_mg_per_unit.is_not_null());
            }
            None => {}
        }
        let total = count.count().get_result(conn)?;
        let rows = query.order(products::id).offset(offset).limit(limit).select(Product::as_select()).load(conn)?;
        Ok((rows, total))
    }

    pub fn create(conn: &mut PgConnection, new: &NewProduct<'_>) -> QueryResult<Product> {
        diesel::insert_into(products::table).values(new).returning(Product::as_returning()).get_result(conn)
    }

    /// Base mass in mg of `units` units: exact.
    pub fn base_mg(&self, units: i64) -> BigDecimal {
        &self.base_mg_per_unit * BigDecimal::from(units)
    }
}
