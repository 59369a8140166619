//! Every shipped scenario runs against real containers and meets its own objectives; its
//! history shows each fault injected and, when it has a duration, healed. One drill at a time:
//! they share two cores, and the timings are what is judged.

mod common;

use firedrill::history::{FaultAction, FaultEvent, Outcome};
use firedrill::record::RunRecord;
use firedrill::scenario;
use std::path::Path;
use std::time::Duration;

static ONE_DRILL_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the scenario and checks its history shows every fault injected, and healed when it has
/// a duration. `None` when Docker is unavailable (the skip is printed).
async fn drill(name: &str) -> Option<RunRecord> {
    if !common::docker_or_skip(name).await {
        return None;
    }
    let _turn = ONE_DRILL_AT_A_TIME.lock().await;
    let scenario = scenario::load(&common::scenario_path(name)).expect("the scenario is valid");
    let record = firedrill::run(&scenario, &firedrill::DrillOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: the drill could not run: {e}"));
    eprintln!("{}", firedrill::report::table(&record));
    let dir = firedrill::report::write_run_dir(&record, Path::new(env!("CARGO_TARGET_TMPDIR")))
        .expect("reports written");
    eprintln!("reports: {}", dir.display());

    for (i, fault) in scenario.faults.iter().enumerate() {
        let actions: Vec<_> = record
            .history
            .faults()
            .filter(|f| f.fault == i)
            .map(|f| (f.action, f.at))
            .collect();
        let inject = actions
            .iter()
            .find(|(a, _)| *a == FaultAction::Inject)
            .unwrap_or_else(|| panic!("{name}: fault {i} was never injected"));
        match fault.duration {
            Some(_) => {
                let heal = actions
                    .iter()
                    .find(|(a, _)| *a == FaultAction::Heal)
                    .unwrap_or_else(|| panic!("{name}: fault {i} was never healed"));
                assert!(
                    heal.1 > inject.1,
                    "{name}: fault {i} healed before injected"
                );
            }
            None => assert_eq!(actions.len(), 1, "{name}: fault {i} without duration"),
        }
    }
    Some(record)
}

/// The objectives that failed, by name.
fn failed_objectives(record: &RunRecord) -> Vec<String> {
    record
        .verdict
        .objectives
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.measure.name().to_string())
        .collect()
}

fn injection<'a>(record: &'a RunRecord, kind: &str) -> &'a FaultEvent {
    record
        .history
        .faults()
        .find(|f| f.kind == kind && f.action == FaultAction::Inject)
        .unwrap_or_else(|| panic!("no {kind} injected"))
}

macro_rules! scenarios {
    ($($test:ident => $file:literal),* $(,)?; controls: $($control:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(record) = drill($file).await {
                    assert!(
                        record.passed(),
                        "{}: objectives failed\n{}",
                        $file,
                        firedrill::report::table(&record)
                    );
                }
            }
        )*

        /// Every file in scenarios/ has a test here (the default drill has its own, in
        /// primary_crash.rs).
        #[test]
        fn every_shipped_scenario_is_drilled() {
            let mut tested = vec!["patroni-primary-crash" $(, $file)* $(, $control)*];
            tested.sort();
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
            let mut shipped: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| {
                    let path = e.unwrap().path();
                    (path.extension()? == "toml")
                        .then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
                })
                .collect();
            shipped.sort();
            assert_eq!(shipped, tested);
        }
    };
}

scenarios! {
    primary_crash_restart => "patroni-primary-crash-restart",
    postgres_crash => "patroni-postgres-crash",
    graceful_stop => "patroni-graceful-stop",
    primary_pause => "patroni-primary-pause",
    isolate_primary_from_etcd => "patroni-isolate-primary-from-etcd",
    network_split => "patroni-network-split",
    replica_lag => "patroni-replica-lag",
    disk_full => "patroni-disk-full",
    replica_crash => "patroni-replica-crash",
    switchover => "patroni-switchover",
    etcd_member_down => "etcd-member-down",
    etcd_quorum_loss => "etcd-quorum-loss",
    etcd_partition => "etcd-partition",
    haproxy_crash => "haproxy-crash",
    haproxy_pause => "haproxy-pause",
    strict_sync_no_loss => "control-strict-sync-no-loss";
    controls: "control-async-lag-loss", "control-split-brain-tcp-proxy",
}

/// Known-bad control: acknowledged writes really are lost, and firedrill must report them, with
/// the lost writes being exactly of the kind the setup loses: acknowledged by the old leader
/// after its replica's stream was cut, before it crashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_lag_loss_is_caught() {
    let name = "control-async-lag-loss";
    let Some(record) = drill(name).await else {
        return;
    };
    let table = firedrill::report::table(&record);
    assert_eq!(failed_objectives(&record), ["lost_writes"], "{table}");
    let lost = record
        .measurements
        .lost_writes
        .as_ref()
        .expect("a read-back");
    assert!(lost.count > 0, "{table}");
    assert!(lost.rpo.is_some_and(|rpo| rpo > Duration::ZERO), "{table}");
    // The stream was cut from the lag's F on; the old leader acknowledged writes until the
    // kill had taken effect (the crash's `done`), a few milliseconds after its F.
    let (cut, crash) = (
        injection(&record, "lag").at,
        injection(&record, "crash").done,
    );
    let old_leader = &record.timings.initial_leader;
    for w in record
        .history
        .writes()
        .filter(|w| lost.seqs.contains(&w.seq))
    {
        assert_eq!(w.outcome, Outcome::Ok);
        assert_eq!(w.node.as_ref(), Some(old_leader), "lost write {}", w.seq);
        assert!(
            w.invoke >= cut && w.invoke <= crash,
            "lost write {} invoked at {} outside the cut stream [{cut}, {crash}]",
            w.seq,
            w.invoke
        );
    }
}

/// Known-bad control: two primaries accept writes; split brain must be detected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_brain_behind_a_tcp_proxy_is_caught() {
    let name = "control-split-brain-tcp-proxy";
    let Some(record) = drill(name).await else {
        return;
    };
    let table = firedrill::report::table(&record);
    let failed = failed_objectives(&record);
    assert!(failed.iter().any(|f| f == "split_brain"), "{table}");
    assert!(record.measurements.split_brain.detected, "{table}");
    let old_leader = &record.timings.initial_leader;
    assert!(
        record
            .measurements
            .split_brain
            .evidence
            .iter()
            .any(|e| e.contains(old_leader.as_str())),
        "the evidence names {old_leader}: {:?}",
        record.measurements.split_brain.evidence
    );
    // Who ends as leader after pg1's Patroni resumes is a race: Patroni before 3.0.3 may write
    // its leader key back over the new leader's (upstream PR #2689) and keep pg1's data. Only
    // when another node ends as leader is what pg1 acknowledged meanwhile discarded; then it
    // must be reported lost.
    let lost = record
        .measurements
        .lost_writes
        .as_ref()
        .expect("a read-back");
    let final_leader = record.measurements.leaders.last().expect("a leader");
    if final_leader != old_leader {
        assert!(lost.count > 0, "{table}");
        assert!(lost.rpo.is_some_and(|rpo| rpo > Duration::ZERO), "{table}");
    }
    // PostgreSQL itself, asked directly, said two nodes were primaries at once.
    assert!(
        record
            .measurements
            .split_brain
            .evidence
            .iter()
            .any(|e| e.contains("answered as primary (PostgreSQL)")),
        "{:?}",
        record.measurements.split_brain.evidence
    );
}
