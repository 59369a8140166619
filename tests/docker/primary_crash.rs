//! Runs the shipped primary-crash drill against real containers, through the library API a
//! team's own test would use.

use crate::common;

use firedrill::engine::{self, LABEL_RUN};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_crash_fails_over_losing_at_most_the_unstreamed_tail() {
    let Some(_turn) = common::docker_turn("primary_crash", common::Turn::Beside).await else {
        return;
    };
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
    // Asynchronous replication: a crash may lose what the leader acknowledged and had not yet
    // streamed, and nothing else. Every lost write (usually none) is one the crashed leader
    // acknowledged in its last second, up to the end of the kill.
    let lost = m.lost_writes.as_ref().expect("writes were read back");
    let kill = injection_of(&record, &crash.node);
    for seq in &lost.seqs {
        let write = record.history.writes().find(|w| w.seq == *seq).unwrap();
        assert_eq!(
            write.node.as_deref(),
            Some(crash.node.as_str()),
            "{write:?}"
        );
        assert!(
            write.complete.as_duration() + Duration::from_secs(1) >= kill.at.as_duration()
                && write.complete <= kill.done,
            "lost write {write:?} was not acknowledged just before the kill {kill:?}"
        );
    }
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

    // `firedrill analyze` judges the stored run again from its record alone, and agrees.
    let stored = std::fs::read(dir.join("run.json.gz")).unwrap();
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
    let rewritten = std::fs::read(dir.join("run.json.gz")).unwrap();
    assert_eq!(rewritten, stored, "analyze changed the record");

    // Nothing of the run is left in Docker.
    let docker = engine::connect().await.unwrap();
    let left = engine::find_leftovers(&docker, &format!("{LABEL_RUN}={}", record.run_id))
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn injection_of<'a>(
    record: &'a firedrill::RunRecord,
    node: &str,
) -> &'a firedrill::history::FaultEvent {
    record
        .history
        .faults()
        .find(|f| f.node == node && f.action == firedrill::history::FaultAction::Inject)
        .expect("the crash was recorded")
}
