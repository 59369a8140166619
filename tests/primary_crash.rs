//! Runs the shipped primary-crash drill against real containers, through the library API a
//! team's own test would use.

mod common;

use firedrill::engine::{self, LABEL_RUN};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_crash_fails_over_without_losing_acknowledged_writes() {
    if !common::docker_or_skip("primary_crash").await {
        return;
    }
    let record = firedrill::run_file(common::scenario_path("patroni-primary-crash"))
        .await
        .expect("the drill runs");
    let summary = firedrill::report::table(&record);
    eprintln!("{summary}");
    // Keep the evidence of every run of this test, passing or not.
    let dir = firedrill::report::write_run_dir(
        &record,
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
    )
    .expect("reports written");
    eprintln!("reports: {}", dir.display());

    let m = &record.measurements;
    let crash = &m.faults[0];
    assert_eq!(
        crash.node, record.timings.initial_leader,
        "the leader was crashed"
    );
    let new_leader = crash
        .new_leader
        .as_deref()
        .expect("a new leader was elected");
    assert_ne!(new_leader, crash.node, "leadership moved to another node");
    let rto = m.rto.expect("writes recovered");
    assert!(
        rto > Duration::ZERO && rto < Duration::from_secs(30),
        "rto {rto:?}"
    );
    let lost = m.lost_writes.as_ref().expect("writes were read back");
    assert_eq!(lost.count, 0, "lost {:?}", lost.seqs);
    assert!(
        m.writes_per_node.contains_key(new_leader),
        "writes went to the new leader"
    );
    assert!(!m.split_brain.detected, "{:?}", m.split_brain.evidence);

    // The readers ran through the replica endpoint; no primary missed an acknowledged write.
    let reads = m.reads.as_ref().expect("the scenario has readers");
    assert!(reads.judged > 0, "{reads:?}");
    assert_eq!(reads.stale_on_primary, 0, "{:?}", reads.on_primary);

    // Every source tells the same story: etcd's leader key ends with the new leader, HAProxy
    // routes to it only, and PostgreSQL on it reports itself a primary.
    let last_key = record
        .history
        .authority_reports()
        .filter(|k| k.error.is_none())
        .last()
        .expect("the leader key was probed");
    assert_eq!(last_key.node.as_deref(), Some(new_leader));
    assert!(crash.proxy_switch_time.is_some(), "haproxy switched");
    assert!(
        record
            .history
            .replication_samples()
            .any(|r| r.node == new_leader && r.received > crash.injected_at),
        "{new_leader} seen as a primary by PostgreSQL"
    );
    assert!(record.passed(), "{summary}");

    // `firedrill analyze` judges the stored run again from its run.json alone, and agrees.
    let stored = std::fs::read_to_string(dir.join("run.json")).unwrap();
    let analyze = std::process::Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .arg("analyze")
        .arg(&dir)
        .output()
        .expect("firedrill analyze runs");
    let out = String::from_utf8_lossy(&analyze.stdout);
    assert_eq!(analyze.status.code(), Some(0), "{out}");
    assert!(
        out.contains("verdict reproduced from the history: PASS"),
        "{out}"
    );
    let rewritten = std::fs::read_to_string(dir.join("run.json")).unwrap();
    assert_eq!(rewritten, stored, "analyze changed the record");

    // Nothing of the run is left in Docker.
    let docker = engine::connect().await.unwrap();
    let left = engine::find_leftovers(&docker, &format!("{LABEL_RUN}={}", record.run_id))
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}
