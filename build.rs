//! Builds the shipped scenarios into the binary: `$OUT_DIR/shipped_scenarios.rs` holds one
//! `(name, text)` per `scenarios/*.toml`, in name order, so that an installed `firedrill` runs
//! and lists them from any directory.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the scenarios directory is readable")
        .filter_map(|entry| {
            let path = entry.expect("the scenarios directory is readable").path();
            (path.extension()? == "toml").then(|| {
                println!("cargo:rerun-if-changed={}", path.display());
                path.file_stem()?.to_str().map(str::to_owned)
            })?
        })
        .collect();
    names.sort();
    let mut out = String::from("&[\n");
    for name in &names {
        writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/scenarios/{name}.toml\"))),"
        )
        .expect("writing to a string");
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("shipped_scenarios.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
