//! A scenario's own Patroni and PostgreSQL settings are the ones the cluster runs with: its
//! PostgreSQL parameters are in effect on the nodes, Patroni's dynamic configuration holds its
//! keys, a node's tags are that node's, and the drill shows their effect: with `nofailover` on
//! pg2, the crashed leader's successor is pg3, and pg2 never leads.

use crate::common;

use common::drill_cli::{DrillCli, containers_of, crash_scenario_parts, leftovers, run_dirs};
use firedrill::history::Role;

/// What `argv` prints in the scenario's container `node` (as the postgres user).
async fn in_node(scenario: &str, node: &str, argv: &[&str]) -> String {
    let docker = firedrill::engine::connect().await.unwrap();
    let container = containers_of(scenario)
        .await
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .find(|name| name.ends_with(&format!("-{node}")))
        .unwrap_or_else(|| panic!("no container for {node}"));
    let out = firedrill::engine::exec(
        &docker,
        container.trim_start_matches('/'),
        Some("postgres"),
        argv,
    )
    .await
    .unwrap();
    assert!(out.success(), "{argv:?} in {node}: {out:?}");
    out.stdout.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_parameters_dynamic_settings_and_tags_are_what_the_cluster_runs() {
    let Some(_turn) = common::docker_turn("own_settings", common::Turn::Beside).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("own-settings-{:08x}", rand::random::<u32>());
    let (head, objectives) = crash_scenario_parts(&name, "25s");
    let own = "[topology.patroni]\n\
               failsafe_mode = true\n\
               primary_start_timeout = \"20s\"\n\
               parameters = { work_mem = \"8MB\", max_connections = 250, log_checkpoints = true }\n\
               tags.pg2 = { nofailover = true }\n";
    assert!(head.contains("[topology.patroni]\n"));
    let text = head.replacen("[topology.patroni]\n", own, 1) + "[objectives]" + &objectives;
    let path = dir.path().join("own.toml");
    std::fs::write(&path, text).unwrap();

    let mut drill = DrillCli::start(&path, dir.path(), &[]);
    drill.wait_for("injected crash");
    for (setting, expected) in [
        ("work_mem", "8MB"),
        ("max_connections", "250"),
        ("log_checkpoints", "on"),
    ] {
        let sql = format!("show {setting}");
        let shown = in_node(&name, "pg3", &["psql", "-h", "/tmp", "-Atc", &sql]).await;
        assert_eq!(shown, expected, "{setting}");
    }
    let config: serde_json::Value = serde_json::from_str(
        &in_node(&name, "pg3", &["curl", "-s", "localhost:8008/config"]).await,
    )
    .unwrap();
    assert_eq!(config["failsafe_mode"], true, "{config}");
    assert_eq!(config["primary_start_timeout"], 20, "{config}");
    let pg2: serde_json::Value = serde_json::from_str(
        &in_node(&name, "pg2", &["curl", "-s", "localhost:8008/patroni"]).await,
    )
    .unwrap();
    assert_eq!(
        pg2["tags"],
        serde_json::json!({ "nofailover": true }),
        "{pg2}"
    );
    let pg3: serde_json::Value = serde_json::from_str(
        &in_node(&name, "pg3", &["curl", "-s", "localhost:8008/patroni"]).await,
    )
    .unwrap();
    assert!(pg3.get("tags").is_none(), "{pg3}");

    let (code, rest) = tokio::task::spawn_blocking(move || drill.finish())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{rest:#?}");
    let run = run_dirs(dir.path()).pop().expect("a run directory");
    let record = firedrill::store::load(&run.join("run.json.gz")).unwrap();
    let crash = &record.measurements.faults[0];
    assert_eq!(crash.node, "pg1", "the bootstrap leader was crashed");
    assert_eq!(
        crash.new_leader.as_deref(),
        Some("pg3"),
        "pg2 carries nofailover: pg3 is the only candidate"
    );
    assert!(
        !record
            .history
            .role_samples()
            .any(|s| s.node.as_deref() == Some("pg2") && s.role == Some(Role::Leader)),
        "pg2 led"
    );
    assert!(leftovers(&name).await.is_empty());
}
