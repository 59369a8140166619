//! The library as a team's tests depend on it (`default-features = false`): none of the command
//! line's crates come with it. (CI also compiles it that way: `.ci/run`.)

use std::process::Command;

#[test]
fn the_library_alone_leaves_the_command_line_out() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "--no-default-features"])
        .args(["--edges", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    for cli_only in [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "tracing-subscriber",
    ] {
        assert!(!crates.contains(&cli_only), "{cli_only} in:\n{tree}");
    }
    // The tree is the library's: what a drill needs is there.
    for needed in ["bollard", "tokio-postgres", "tracing", "serde"] {
        assert!(crates.contains(&needed), "{needed} missing from:\n{tree}");
    }
}
