//! Every shipped scenario runs against real containers and meets its own objectives; its
//! history shows each fault injected and, when it has a duration, healed. One drill at a time:
//! they share two cores, and the timings are what is judged.

mod common;

use firedrill::history::FaultAction;
use firedrill::scenario;
use std::path::Path;

static ONE_DRILL_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn drill(name: &str) {
    if !common::docker_or_skip(name).await {
        return;
    }
    let _turn = ONE_DRILL_AT_A_TIME.lock().await;
    let scenario = scenario::load(&common::scenario_path(name)).expect("the scenario is valid");
    let record = firedrill::run(&scenario, &firedrill::DrillOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: the drill could not run: {e}"));
    let summary = firedrill::report::table(&record);
    eprintln!("{summary}");
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
    assert!(record.passed(), "{name}: objectives failed\n{summary}");
}

macro_rules! scenarios {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                drill($file).await;
            }
        )*

        /// Every file in scenarios/ has a test here (the default drill has its own, in
        /// primary_crash.rs).
        #[test]
        fn every_shipped_scenario_is_drilled() {
            let mut tested = vec!["patroni-primary-crash" $(, $file)*];
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
}
