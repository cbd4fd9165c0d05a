//! The admin adds a product of a known substance with its exact base content per unit, its
//! labelled strength (mg of the salt named on the pack, which patient-level MME uses) and
//! the delivery rate of a transdermal patch; refused with `product_exists` when the name is
//! taken. Without a labelled strength the product is `strength_unknown`: nothing is assumed
//! about its salt, and its dispensings get no daily MME.

use bigdecimal::BigDecimal;
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, DosageForm, ResourceType, Unit};
use crate::db::models::audit_event::Actor;
use crate::db::models::product::{NewProduct, Product};
use crate::db::models::substance::Substance;
use crate::domain::decimal::Decimal;
use crate::domain::ids::SubstanceId;

/// A checked request: the base content positive with at most 6 decimals, a delivery rate
/// given for and only for a transdermal patch, a labelled strength given with its salt (and
/// equal to the base content when the salt is `base`).
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub substance_id: SubstanceId,
    pub base_mg_per_unit: Decimal,
    pub dosage_form: DosageForm,
    pub unit: Unit,
    pub delivery_mcg_per_hour: Option<Decimal>,
    pub strength: Option<Strength>,
}

/// What the label says one unit holds: `mg_per_unit` mg of `salt` (or of the base).
#[derive(Debug, Clone)]
pub struct Strength {
    pub mg_per_unit: Decimal,
    pub salt: String,
}

/// The `strength_salt` of a product labelled by its base content.
pub const BASE_SALT: &str = "base";

impl Input {
    /// Checks what the request's shape cannot say; the labelled strength comes as (mg, salt).
    pub fn parse(
        name: String,
        substance_id: SubstanceId,
        base_mg_per_unit: Decimal,
        dosage_form: DosageForm,
        unit: Unit,
        delivery_mcg_per_hour: Option<Decimal>,
        (strength_mg_per_unit, strength_salt): (Option<Decimal>, Option<String>),
    ) -> Result<Input, DomainError> {
        let mut errors = Vec::new();
        let strength = match (strength_mg_per_unit, strength_salt.map(|s| s.trim().to_lowercase())) {
            (None, None) => None,
            (Some(_), None) => {
                errors.push(FieldError::at("/strength_salt", "is required with strength_mg_per_unit (the salt on the label, or \"base\")"));
                None
            }
            (None, Some(_)) => {
                errors.push(FieldError::at("/strength_mg_per_unit", "is required with strength_salt"));
                None
            }
            (Some(mg), Some(salt)) => {
                if mg.0 <= 0 || !mg.fits(18, 6) {
                    errors.push(FieldError::at("/strength_mg_per_unit", "must be greater than 0, below 10^12, with at most 6 decimals"));
                } else if salt == BASE_SALT && mg.0 != base_mg_per_unit.0 {
                    errors.push(FieldError::at("/strength_mg_per_unit", "a strength labelled as base must equal base_mg_per_unit"));
                }
                if salt.is_empty() {
                    errors.push(FieldError::at("/strength_salt", "must not be empty"));
                }
                Some(Strength { mg_per_unit: mg, salt })
            }
        };
        let input = Input { name, substance_id, base_mg_per_unit, dosage_form, unit, delivery_mcg_per_hour, strength };
        let zero = BigDecimal::from(0);
        if input.base_mg_per_unit.0 <= zero {
            errors.push(FieldError::at("/base_mg_per_unit", "must be greater than 0"));
        } else if input.base_mg_per_unit.fraction_digits() > 6 {
            errors.push(FieldError::at("/base_mg_per_unit", "at most 6 decimals (0.000001 mg)"));
        } else if input.base_mg_per_unit.0 >= 1_000_000_000_000i64 {
            errors.push(FieldError::at("/base_mg_per_unit", "is too large"));
        }
        match (&input.dosage_form, &input.delivery_mcg_per_hour) {
            (DosageForm::TransdermalPatch, None) => errors.push(FieldError::at("/delivery_mcg_per_hour", "is required for a transdermal patch")),
            (DosageForm::TransdermalPatch, Some(rate)) if rate.0 <= zero || !rate.fits(18, 6) => {
                errors.push(FieldError::at("/delivery_mcg_per_hour", "must be greater than 0, below 10^12, with at most 6 decimals"))
            }
            (form, Some(_)) if *form != DosageForm::TransdermalPatch => {
                errors.push(FieldError::at("/delivery_mcg_per_hour", "applies to transdermal patches only"))
            }
            _ => {}
        }
        if errors.is_empty() { Ok(input) } else { Err(DomainError::validation(errors)) }
    }
}

pub fn execute(conn: &mut PgConnection, _actor: &Actor, input: Input) -> AppResult<Outcome<Product>> {
    if Substance::find(conn, input.substance_id)?.is_none() {
        return Err(DomainError::field("/substance_id", "unknown substance").into());
    }
    let product = Product::create(
        conn,
        &NewProduct {
            name: input.name.trim(),
            substance_id: input.substance_id,
            base_mg_per_unit: input.base_mg_per_unit.into_inner(),
            dosage_form: input.dosage_form,
            unit: input.unit,
            delivery_mcg_per_hour: input.delivery_mcg_per_hour.map(Decimal::into_inner),
            strength_mg_per_unit: input.strength.as_ref().map(|s| s.mg_per_unit.0.clone()),
            strength_salt: input.strength.map(|s| s.salt),
        },
    )
    .map_err(unique_violation_as(
        DomainError::new(ProblemCode::ProductExists, "a product with this name exists").with_error(FieldError::at("/name", "is taken")),
    ))?;
    let audit = AuditEntry::new(
        AuditAction::CreateProduct,
        ResourceType::Product,
        product.id,
        None,
        json!({
            "name": product.name,
            "substance_id": product.substance_id,
            "base_mg_per_unit": product.base_mg_per_unit.to_string(),
            "strength_mg_per_unit": product.strength_mg_per_unit.as_ref().map(ToString::to_string),
            "strength_salt": product.strength_salt,
        }),
    );
    Ok(Outcome::done(product, audit))
}
