//! Bounded waits: a drill that overruns a `[bounds]` bound ends with an error naming the step and
//! the bound, tears down, exits 2 and says what it reached. Each case is a real stall: bring-up
//! cannot finish in 3 s, Patroni answers a switchover only once it is done, and a lone node that
//! crashed is never a writable leader again.

use crate::common;

use common::drill_cli::{DrillCli, crash_scenario, leftovers, run_dirs};
use firedrill::fault::FaultError;
use firedrill::{DrillError, DrillOptions, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_up_past_its_bound_stops_with_a_partial_report() {
    let Some(_turn) = common::docker_turn("bounds::bring_up", common::Turn::Beside).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("bounds-bringup-{:08x}", rand::random::<u32>());
    let path = dir.path().join("bring-up.toml");
    std::fs::write(
        &path,
        crash_scenario(&name, "30s", "\n[bounds]\nbring_up = \"3s\"\n"),
    )
    .unwrap();
    let cli = DrillCli::start(&path, dir.path(), &[]);
    let (code, rest) = tokio::task::spawn_blocking(move || cli.finish())
        .await
        .unwrap();
    assert_eq!(code, Some(2), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("error: cluster not ready after 3s: reached ")),
        "{rest:#?}"
    );
    let dirs = run_dirs(dir.path());
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs[0].to_string_lossy().ends_with("-incomplete"));
    let report = std::fs::read_to_string(dirs[0].join("report.md")).unwrap();
    assert!(report.contains("— INCOMPLETE"), "{report}");
    assert!(
        report.contains("began: bringing up 3 etcd, 3 patroni, 1 haproxy"),
        "{report}"
    );
    assert!(report.contains("| bring-up | 3s |"), "{report}");
    let partial: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dirs[0].join("partial.json")).unwrap())
            .unwrap();
    assert!(
        partial["error"]
            .as_str()
            .unwrap()
            .starts_with("cluster not ready after 3s")
    );
    assert!(leftovers(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_past_its_bound_stops_the_drill() {
    let Some(_turn) = common::docker_turn("bounds::fault", common::Turn::Beside).await else {
        return;
    };
    let name = format!("bounds-fault-{:08x}", rand::random::<u32>());
    // Patroni answers POST /switchover once the new leader is promoted: seconds, not 200 ms.
    let text = crash_scenario(&name, "30s", "\n[bounds]\nfault = \"200ms\"\n")
        .replace("kind = \"crash\"", "kind = \"switchover\"");
    let s = scenario::parse(std::path::Path::new("fault.toml"), &text).unwrap();
    let err = firedrill::run(&s, &DrillOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DrillError::Fault(FaultError::Timeout { fault: 1, .. })),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "fault 1 (switchover) not injected within 200ms (the [bounds] fault bound)"
    );
    assert!(leftovers(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_past_its_bound_reports_what_was_measured_and_exits_2() {
    let Some(_turn) = common::docker_turn("bounds::recovery", common::Turn::Beside).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("bounds-recovery-{:08x}", rand::random::<u32>());
    // One etcd, one Patroni node, crashed for good: no leader can come back.
    let text = crash_scenario(
        &name,
        "10s",
        "\n[bounds]\nrecovery = \"3s\"\nread_back = \"2s\"\n",
    )
    .replace("etcd = 3", "etcd = 1")
    .replace("nodes = 3", "nodes = 1")
    .replace("readers = 2", "readers = 0")
    .replace("read_rate = 20", "")
    .replace("read_through = \"replica\"", "");
    let path = dir.path().join("recovery.toml");
    std::fs::write(&path, text).unwrap();
    let cli = DrillCli::start(&path, dir.path(), &[]);
    let (code, rest) = tokio::task::spawn_blocking(move || cli.finish())
        .await
        .unwrap();
    assert_eq!(code, Some(2), "{rest:#?}");
    assert!(
        rest.iter().any(|l| l.starts_with(
            "error: the drill did not complete: no writable leader to read back from within 3s (the [bounds] recovery bound)"
        )),
        "{rest:#?}"
    );
    // The drill itself ran: its reports are written, the problem at the top.
    let dirs = run_dirs(dir.path());
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let record = firedrill::store::load(&dirs[0].join("run.json.gz")).unwrap();
    assert_eq!(record.problems.len(), 1, "{:?}", record.problems);
    assert!(record.measurements.lost_writes.is_none());
    let report = std::fs::read_to_string(dirs[0].join("report.md")).unwrap();
    assert!(
        report.contains("no writable leader to read back from"),
        "{report}"
    );
    assert!(leftovers(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_back_past_its_bound_is_retried_then_reported() {
    let Some(_turn) = common::docker_turn("bounds::read_back", common::Turn::Beside).await else {
        return;
    };
    let name = format!("bounds-readback-{:08x}", rand::random::<u32>());
    // Connecting and reading hundreds of rows takes longer than 1 ms on any host.
    let text = crash_scenario(
        &name,
        "6s",
        "\n[bounds]\nrecovery = \"2s\"\nread_back = \"1ms\"\n",
    )
    .replace("at = \"4s\"", "at = \"5s\"")
    .replace("kind = \"crash\"", "kind = \"pause\"\nduration = \"500ms\"")
    .replace("rto = \"<= 30s\"\n", "");
    let s = scenario::parse(std::path::Path::new("read-back.toml"), &text).unwrap();
    let record = firedrill::run(&s, &DrillOptions::default()).await.unwrap();
    assert_eq!(
        record.problems,
        [
            "no writable leader to read back from within 2s (the [bounds] recovery bound): last error: no read-back within 1ms (the [bounds] read_back bound)"
        ]
    );
    assert!(record.measurements.lost_writes.is_none());
    assert!(leftovers(&name).await.is_empty());
}
