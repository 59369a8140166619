//! Builds the shipped scenarios into the binary: `$OUT_DIR/shipped_scenarios.rs` holds one
//! `(name, text)` per `scenarios/*.toml` file, in name order, so that an installed `firedrill`
//! runs and lists them from any directory.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the scenarios directory is readable") {
        let path = entry.expect("the scenarios directory is readable").path();
        // regular files only: not a directory, nor an editor's lock symlink
        let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if path.extension().is_none_or(|e| e != "toml") || !is_file {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("scenario file name is not UTF-8: {}", path.display()))
            .to_owned();
        let full = path
            .to_str()
            .unwrap_or_else(|| panic!("scenario path is not UTF-8: {}", path.display()))
            .to_owned();
        files.push((name, full));
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (name, full) in &files {
        writeln!(out, "    ({name:?}, include_str!({full:?})),").expect("writing to a string");
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("shipped_scenarios.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
