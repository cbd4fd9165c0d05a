//! Rebuild when migrations or shipped reference data change (both are embedded).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=reference");
}
