//! How exactly firedrill times a failover, against the servers' own records of it.
//!
//! Runs the shipped primary-crash drill (`FIREDRILL_BENCH_RUNS` times, default 3) and, for each
//! run, compares:
//! - firedrill's leader election instant (`F` + leader election time: the first probe answer
//!   naming the new leader) with the instant the new leader's Patroni logged "promoted self to
//!   leader by acquiring session lock";
//! - firedrill's promotion instant (`F` + promotion time: the first probe answer showing the
//!   new leader on a higher timeline) with the instant its PostgreSQL logged "selected new
//!   timeline ID";
//!
//! and prints the RTO with its resolution (the spacing of the write attempts around the
//! outage's edges). Run instants become wall-clock instants through the run's recorded start
//! (millisecond precision); the containers share the host's clock. A benchmark, not a test:
//! it needs Docker and prints numbers, it asserts nothing about speed.
//!
//! `cargo bench --bench election_accuracy`

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Parses "2026-11-22 09:30:01,234" (Patroni) or "2026-11-22 09:30:01.234 UTC" (PostgreSQL)
/// at the start of a log line, both in UTC.
fn log_instant(line: &str) -> Option<SystemTime> {
    let stamp = line.get(..23)?.replacen(' ', "T", 1).replace(',', ".");
    humantime::parse_rfc3339(&format!("{stamp}Z")).ok()
}

fn first_line<'a>(log: &'a str, needle: &str) -> Option<&'a str> {
    log.lines().find(|l| l.contains(needle))
}

/// `b - a` in signed milliseconds.
fn diff_ms(a: SystemTime, b: SystemTime) -> f64 {
    match b.duration_since(a) {
        Ok(d) => d.as_secs_f64() * 1e3,
        Err(e) => -e.duration().as_secs_f64() * 1e3,
    }
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("FIREDRILL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/patroni-primary-crash.toml");
    println!(
        "{:>3} {:>10} {:>10} {:>14} {:>14} {:>10} {:>10}",
        "run", "election", "Δ patroni", "promotion", "Δ postgres", "rto", "± resol."
    );
    for run in 1..=runs {
        let record = match firedrill::run_file(&scenario).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("run {run}: the drill could not run: {e}");
                std::process::exit(2);
            }
        };
        let start = humantime::parse_rfc3339(&record.history.started_wall)
            .expect("the record's start is RFC 3339");
        let f = &record.measurements.faults[0];
        let at = |offset: Duration| start + f.injected_at.since(firedrill::history::At(0)) + offset;
        let new_leader = f.new_leader.clone().unwrap_or_default();
        let log = record
            .logs
            .get(&new_leader)
            .map(String::as_str)
            .unwrap_or("");

        let election = f.leader_election_time.map(at);
        let patroni = first_line(log, "promoted self to leader").and_then(log_instant);
        let promotion = f.promotion_time.map(at);
        let postgres = first_line(log, "selected new timeline ID").and_then(log_instant);
        let show =
            |d: Option<Duration>| d.map_or("-".into(), |d| format!("{:.3}s", d.as_secs_f64()));
        let delta = |ours: Option<SystemTime>, theirs: Option<SystemTime>| match (ours, theirs) {
            (Some(o), Some(t)) => format!("{:+.0} ms", diff_ms(t, o)),
            _ => "not found".into(),
        };
        println!(
            "{run:>3} {:>10} {:>10} {:>14} {:>14} {:>10} {:>10}",
            show(f.leader_election_time),
            delta(election, patroni),
            show(f.promotion_time),
            delta(promotion, postgres),
            show(record.measurements.rto),
            show(record.measurements.rto_resolution),
        );
    }
    println!(
        "Δ = firedrill's instant minus the server's logged instant (positive: firedrill saw it later)"
    );
}
