//! Rebuild when migrations, shipped reference data, page templates, catalogues or static
//! assets change (all are embedded).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=reference");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=static");
    println!("cargo:rerun-if-changed=assets");
}
