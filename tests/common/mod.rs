//! Shared by the Docker integration tests.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// Drills one test process runs at once. Measured on this 2-core machine: a drill keeps about
/// 20 % of it busy (its bring-up 85 % for a second or two), two at once about 35 %, and every
/// test's verdict came out as when run alone. With three at once the machine was busy 68 % of
/// the time on average (164 s of 800 above 90 %), bring-ups took up to 12.6 s, and a drill
/// could not send its own load: a drill starved this way says so in its record (a run
/// problem), which fails its test rather than skewing it quietly. (Since format 7, attempts
/// not sent while sent ones were slow to answer are no run problem: a starved drill shows in
/// its write latencies instead.) A drill through the API tier keeps the machine 36 % busy.
const DRILLS_AT_ONCE: u32 = 2;
static DRILL_SLOTS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(DRILLS_AT_ONCE as usize);

/// How a drill shares the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// Beside other drills.
    Beside,
    /// Alone: a test that runs several drills or stacks itself (the isolation test's two
    /// drills, the game-day test's two sessions). A second stack on a single turn made three
    /// at once, which starved a game day beside it in CI (its writes 1–2.6 s, load not sent).
    Alone,
}

/// Waits for a drill's turn; the turn lasts as long as the permit is held. The semaphore is
/// fair: a drill waiting to run alone is not overtaken by later ones.
pub async fn take_turn(turn: Turn) -> tokio::sync::SemaphorePermit<'static> {
    let slots = match turn {
        Turn::Beside => 1,
        Turn::Alone => DRILLS_AT_ONCE,
    };
    DRILL_SLOTS
        .acquire_many(slots)
        .await
        .expect("the drill slots are never closed")
}

/// The prologue of every Docker test: `None` (the skip printed) without an engine, else the
/// test's turn, held until the returned permit is dropped.
pub async fn docker_turn(test: &str, turn: Turn) -> Option<tokio::sync::SemaphorePermit<'static>> {
    if !docker_or_skip(test).await {
        return None;
    }
    Some(take_turn(turn).await)
}

/// Whether a Docker engine answers. Without one, a test prints a visible skip and returns; with
/// FIREDRILL_REQUIRE_DOCKER=1 or true (CI sets it) a missing engine fails the test instead.
pub async fn docker_or_skip(test: &str) -> bool {
    match firedrill::engine::connect().await {
        Ok(_) => true,
        Err(e) if required("FIREDRILL_REQUIRE_DOCKER") => {
            panic!("{test}: FIREDRILL_REQUIRE_DOCKER is set but {e}")
        }
        Err(e) => {
            skip(test, &format!("no docker engine ({e})"));
            false
        }
    }
}

/// Whether the environment variable asks for a dependency to be required: `1` or `true` (any
/// case) yes; unset, empty, `0` or `false` no; anything else is a mistake worth stopping for.
pub fn required(var: &str) -> bool {
    let value = std::env::var(var).unwrap_or_default();
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => true,
        "" | "0" | "false" => false,
        other => panic!("{var}={other:?}: expected 1, true, 0 or false"),
    }
}

/// Says that a test skipped, and why, where `cargo test` shows it: libtest captures what a
/// passing test prints with `eprintln!` and would hide the skip, so this writes to the process's
/// standard error directly, past the capture.
pub fn skip(test: &str, why: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "SKIPPED {test}: {why}");
    let _ = err.flush();
}

/// Runs `scenario` through the library, as a team's own test would: prints its summary and
/// keeps its reports under the target directory, passing or not. `None` when no engine answers
/// (the skip is printed). A drill that could not run fails the test.
pub async fn drill(
    test: &str,
    scenario: &firedrill::scenario::Scenario,
    turn: Turn,
) -> Option<firedrill::RunRecord> {
    let _turn = docker_turn(test, turn).await?;
    let record = firedrill::run(scenario, &firedrill::DrillOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{test}: the drill could not run: {e}"));
    eprintln!("{}", firedrill::report::table(&record));
    let dir = firedrill::report::write_run_dir(
        &record,
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
    )
    .expect("reports written");
    eprintln!("reports: {}", dir.display());
    Some(record)
}

/// What an assertion on a drilled record says instead of its table: `drill` printed the table
/// before any assertion could fail, and a message holding the whole table pushes the reason
/// itself out of a CI log that keeps only the head and tail of a failure.
pub fn see_table(record: &firedrill::RunRecord) -> String {
    format!("(run {}: its table is printed above)", record.run_id)
}

/// A shipped scenario's text with each `(from, to)` replaced; a `from` the file no longer holds
/// fails the test rather than leaving the scenario silently unchanged.
pub fn shipped_with(scenario: &str, changes: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(scenario_path(scenario)).unwrap();
    for (from, to) in changes {
        assert!(text.contains(from), "{scenario} no longer holds {from:?}");
        text = text.replace(from, to);
    }
    text
}

pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}
pub mod drill_cli;
