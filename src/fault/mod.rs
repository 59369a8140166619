//! Faults (Jepsen's nemesis), as verbs: each kind, in its own file, implements [`Verb`] (its
//! keys and their checks, the node kinds it applies to, inject, heal, what it recorded) and is
//! listed once in [`VERBS`]. Scenario validation, its messages and `firedrill list --faults`
//! all read the registry. Targets are resolved when a fault fires; every action is recorded
//! with the instant it began and ended.
//!
//! # Adding a fault verb
//!
//! 1. A new file here with a unit struct implementing [`Verb`]: `NAME` and `SUMMARY`; `KEYS`
//!    (beyond at/kind/target/duration) and `params`, which checks them into the verb's own
//!    `Params` type (use [`NoKeys`] for none) with messages at FILE:LINE:COL through
//!    [`FaultInput`](crate::scenario::FaultInput); `HEALING`; `TARGETS` (kind names);
//!    `REQUIRES`; `involve` (nodes to resolve before the injection instant, if any); `inject`;
//!    `heal`; `schedule_note` if the report's schedule line should say more.
//! 2. One line in [`VERBS`].
//!
//! Nothing else changes: the scenario model holds a [`FaultSpec`], whatever the kind.

mod archive_fail;
mod crash;
mod disk_full;
mod error;
mod iptables;
mod lag;
mod partition;
mod patroni_freeze;
mod pause;
mod pgbouncer_pause;
mod postgres_crash;
mod spec;
mod sql;
mod stop;
mod switchover;
mod target;
mod verb;

pub use archive_fail::ArchiveFail;
pub use crash::{Crash, inject as kill};
pub use disk_full::DiskFull;
pub use error::FaultError;
pub use lag::{Behind, Lag, LagParams};
pub use partition::{Direction, Partition, PartitionParams, PartitionPeers};
pub use patroni_freeze::PatroniFreeze;
pub use pause::Pause;
pub use pgbouncer_pause::PgbouncerPause;
pub use postgres_crash::PostgresCrash;
pub use spec::FaultSpec;
pub(crate) use spec::{deserialize_named, serialize_named};
pub use stop::Stop;
pub use switchover::{Switchover, SwitchoverParams};
pub use target::{Resolver, lag_bytes};
pub use verb::{DynVerb, Fire, Healing, Key, KeyForm, NoKeys, Requirement, Targets, Verb};

use crate::engine;
use crate::history::{Clock, FaultAction, FaultEvent};
use crate::scenario::Fault;
use crate::topology::{Cluster, Node};

/// Every fault verb, one line each, in the order messages and `firedrill list` show them.
pub static VERBS: &[&dyn DynVerb] = &[
    &Crash,
    &PostgresCrash,
    &Stop,
    &Pause,
    &Partition,
    &Switchover,
    &Lag,
    &DiskFull,
    &PatroniFreeze,
    &PgbouncerPause,
    &ArchiveFail,
];

/// The verb named `name` in scenario files.
pub fn verb_named(name: &str) -> Option<&'static dyn DynVerb> {
    VERBS.iter().copied().find(|verb| verb.name() == name)
}

/// Every verb's name, in registry order.
pub fn verb_names() -> impl Iterator<Item = &'static str> {
    VERBS.iter().map(|verb| verb.name())
}

/// Resolves the fault's target now and injects it. `F`, the event's `at`, is the instant the
/// injection itself began (after the target was resolved).
pub async fn inject(
    cluster: &Cluster,
    resolver: &Resolver<'_>,
    index: usize,
    fault: &Fault,
    clock: Clock,
) -> Result<(Vec<Node>, FaultEvent), FaultError> {
    let nodes = resolver.resolve(&fault.target).await?;
    inject_on(cluster, resolver, index, fault, nodes, clock).await
}

/// Injects the fault on `nodes`, its target resolved already (a game day checks them against
/// the faults in effect first).
pub async fn inject_on(
    cluster: &Cluster,
    resolver: &Resolver<'_>,
    index: usize,
    fault: &Fault,
    nodes: Vec<Node>,
    clock: Clock,
) -> Result<(Vec<Node>, FaultEvent), FaultError> {
    // What a kind needs besides its targets is resolved before F too.
    let involved = fault.kind.armed().involve(resolver, &nodes).await?;
    ensure_owned(cluster, fault, nodes.iter().chain(&involved)).await?;
    let at = clock.now();
    let fire = Fire {
        cluster,
        targets: &nodes,
        involved: &involved,
    };
    let detail = fault.kind.armed().inject(fire).await?;
    let event = event(index, fault, FaultAction::Inject, &nodes, at, clock, detail);
    Ok((nodes, event))
}

/// Heals a fault on the nodes it was injected on.
pub async fn heal(
    cluster: &Cluster,
    index: usize,
    fault: &Fault,
    nodes: &[Node],
    clock: Clock,
) -> Result<FaultEvent, FaultError> {
    ensure_owned(cluster, fault, nodes).await?;
    let at = clock.now();
    let detail = fault.kind.armed().heal(cluster, nodes).await?;
    Ok(event(
        index,
        fault,
        FaultAction::Heal,
        nodes,
        at,
        clock,
        detail,
    ))
}

/// Refuses a fault on any container that does not carry this run's label (isolation on a shared
/// engine): checked before every injection and heal, before `F`.
async fn ensure_owned<'a>(
    cluster: &Cluster,
    fault: &Fault,
    nodes: impl IntoIterator<Item = &'a Node>,
) -> Result<(), FaultError> {
    for node in nodes {
        engine::ensure_owned(&cluster.docker, &node.container, &cluster.run_id)
            .await
            .map_err(|source| match source {
                engine::EngineError::NotOurs { .. } => FaultError::Isolation {
                    kind: fault.kind.name().to_string(),
                    node: node.name.clone(),
                    source: Box::new(source),
                },
                other => FaultError::action("look up the container", &node.name)(other.to_string()),
            })?;
    }
    Ok(())
}

/// Checks, before the workload starts, that every fault of the scenario can be injected on
/// this host: a fault that would silently do nothing fails the drill here. Each requirement is
/// checked once, in the name of the first fault that has it.
pub async fn preflight(cluster: &Cluster, faults: &[Fault]) -> Result<(), FaultError> {
    let mut checked: Vec<Requirement> = Vec::new();
    for fault in faults {
        for &requirement in fault.kind.verb().requires() {
            if checked.contains(&requirement) {
                continue;
            }
            checked.push(requirement);
            match requirement {
                Requirement::Iptables => iptables::preflight(cluster, fault.kind.name()).await?,
            }
        }
    }
    Ok(())
}

fn event(
    index: usize,
    fault: &Fault,
    action: FaultAction,
    nodes: &[Node],
    at: crate::history::At,
    clock: Clock,
    detail: Option<String>,
) -> FaultEvent {
    FaultEvent {
        fault: index,
        action,
        kind: fault.kind.name().to_string(),
        node: nodes.first().map(|n| n.name.clone()).unwrap_or_default(),
        nodes: if nodes.len() > 1 {
            nodes.iter().map(|n| n.name.clone()).collect()
        } else {
            Vec::new()
        },
        at,
        done: clock.now(),
        detail,
        scheduled_at: Some(fault.at),
        by_hand: false,
    }
}

/// Runs one action on every node at once; the first failure is the result.
async fn on_each<'a, F, Fut>(nodes: &'a [Node], action: F) -> Result<(), FaultError>
where
    F: Fn(&'a Node) -> Fut,
    Fut: std::future::Future<Output = Result<(), FaultError>>,
{
    futures_util::future::try_join_all(nodes.iter().map(action))
        .await
        .map(|_| ())
}

/// Runs a shell script as root in the node's container; a non-zero exit is an error carrying
/// what the script printed.
async fn run_as_root(
    cluster: &Cluster,
    node: &Node,
    action: &str,
    script: &str,
) -> Result<String, FaultError> {
    let out = engine::exec(
        &cluster.docker,
        &node.container,
        Some("root"),
        &["sh", "-c", script],
    )
    .await
    .map_err(|e| FaultError::action(action, &node.name)(e.to_string()))?;
    if out.success() {
        Ok(out.stdout)
    } else {
        Err(FaultError::action(action, &node.name)(
            format!("{}{}", out.stdout, out.stderr).trim().to_string(),
        ))
    }
}

fn names(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, Fault};
    use std::path::{Path, PathBuf};

    #[test]
    fn the_registry_lists_every_verb_once_by_a_unique_name() {
        let names: Vec<&str> = verb_names().collect();
        assert_eq!(
            names,
            [
                "crash",
                "postgres-crash",
                "stop",
                "pause",
                "partition",
                "switchover",
                "lag",
                "disk-full",
                "patroni-freeze",
                "pgbouncer-pause",
                "archive-fail"
            ]
        );
        for name in &names {
            assert_eq!(verb_named(name).map(|v| v.name()), Some(*name));
            assert!(!verb_named(name).unwrap().summary().is_empty(), "{name}");
        }
        assert!(verb_named("crsh").is_none());
    }

    #[test]
    fn a_key_shared_by_verbs_has_one_form_and_no_verb_redefines_a_common_key() {
        let keys: Vec<Key> = VERBS.iter().flat_map(|v| v.keys()).copied().collect();
        for key in &keys {
            assert!(
                !["at", "kind", "target", "duration"].contains(&key.name),
                "{key:?}"
            );
            assert!(
                keys.iter()
                    .all(|other| other.name != key.name || other.form == key.form),
                "{key:?}"
            );
        }
    }

    /// A valid value for every key a verb takes: a new key needs one here.
    fn sample(key: &str) -> &'static str {
        match key {
            "from" => "[\"etcd\", \"pg2\"]",
            "direction" => "\"outgoing\"",
            "candidate" => "\"pg2\"",
            "behind" => "\"64kB\"",
            other => panic!("no sample value for key {other}: add one"),
        }
    }

    /// A target every verb accepts with its keys.
    fn target(verb: &dyn DynVerb) -> &'static str {
        match verb.name() {
            "switchover" => "leader",
            "pgbouncer-pause" => "pgbouncer",
            _ => "replica",
        }
    }

    fn fault_of(verb: &dyn DynVerb, keys: &str) -> Fault {
        let text = format!(
            "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\n[topology.pgbouncer]\n\
             [[fault]]\nat = \"10s\"\n\
             kind = \"{}\"\ntarget = \"{}\"\n{keys}",
            verb.name(),
            target(verb)
        );
        match scenario::parse(Path::new("x.toml"), &text) {
            Ok(s) => s.faults.into_iter().next().unwrap(),
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    #[test]
    fn every_verbs_keys_are_read_and_round_trip_through_json() {
        for verb in VERBS {
            let plain = fault_of(*verb, "");
            let keys: String = verb
                .keys()
                .iter()
                .map(|key| format!("{} = {}\n", key.name, sample(key.name)))
                .collect();
            let given = fault_of(*verb, &keys);
            if !verb.keys().is_empty() {
                assert_ne!(plain.kind, given.kind, "{} ignored its keys", verb.name());
            }
            for fault in [plain, given] {
                let json = serde_json::to_string(&fault.kind).unwrap();
                assert!(json.starts_with(&format!("{{\"name\":\"{}\"", verb.name())));
                let back: FaultSpec = serde_json::from_str(&json).unwrap();
                assert_eq!(back, fault.kind, "{json}");
                assert_eq!(serde_json::to_string(&back).unwrap(), json);
            }
        }
    }

    #[test]
    fn kinds_serialize_as_they_always_have() {
        let json = |verb: &dyn DynVerb, keys: &str| {
            serde_json::to_string(&fault_of(verb, keys).kind).unwrap()
        };
        assert_eq!(json(&Crash, ""), r#"{"name":"crash"}"#);
        assert_eq!(
            json(&Partition, ""),
            r#"{"name":"partition","from":"all","direction":"both"}"#
        );
        assert_eq!(
            json(&Partition, "from = \"etcd\"\ndirection = \"incoming\"\n"),
            r#"{"name":"partition","from":{"of":[{"kind":{"kind":"etcd","random":false}}]},"direction":"incoming"}"#
        );
        assert_eq!(
            json(&Switchover, "candidate = \"replica\"\n"),
            r#"{"name":"switchover","candidate":{"replica":"random"}}"#
        );
        assert_eq!(
            json(&Switchover, ""),
            r#"{"name":"switchover","candidate":null}"#
        );
        assert_eq!(
            json(&Lag, "behind = \"5s\"\n"),
            r#"{"name":"lag","behind":{"time":"5s"}}"#
        );
        assert_eq!(
            json(&Lag, "behind = \"64kB\"\n"),
            r#"{"name":"lag","behind":{"bytes":65536}}"#
        );
        let unknown = serde_json::from_str::<FaultSpec>(r#"{"name":"crsh"}"#).unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("unknown fault kind \"crsh\"")
        );
    }

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn files(dir: &Path, name: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, name, out);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(name) {
                out.push(path);
            }
        }
    }

    fn without_whitespace(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn stored_runs_faults_load_and_serialize_as_written() {
        let mut runs = Vec::new();
        let stored = |name: &str| name.ends_with("run.json");
        files(&root().join("reports/example/runs"), &stored, &mut runs);
        files(&root().join("tests/fixtures"), &stored, &mut runs);
        assert!(runs.len() >= 6, "{runs:?}");
        let mut kinds = 0;
        for run in runs {
            let text = std::fs::read_to_string(&run).unwrap();
            let record: serde_json::Value = serde_json::from_str(&text).unwrap();
            let written = record["scenario"]["faults"].clone();
            let faults: Vec<Fault> = serde_json::from_value(written.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", run.display()));
            assert_eq!(serde_json::to_value(&faults).unwrap(), written);
            // Key order too: each kind appears in the file as it serializes now.
            let compact = without_whitespace(&text);
            for fault in &faults {
                let kind = serde_json::to_string(&fault.kind).unwrap();
                assert!(compact.contains(&kind), "{}: {kind}", run.display());
                kinds += 1;
            }
        }
        assert!(kinds >= 5);
    }

    #[test]
    fn shipped_scenarios_faults_round_trip() {
        let mut shipped = Vec::new();
        files(
            &root().join("scenarios"),
            &|n| n.ends_with(".toml"),
            &mut shipped,
        );
        assert!(!shipped.is_empty());
        for file in shipped {
            let scenario = scenario::load(&file).unwrap();
            let json = serde_json::to_string(&scenario.faults).unwrap();
            let back: Vec<Fault> = serde_json::from_str(&json).unwrap();
            assert_eq!(back, scenario.faults, "{}", file.display());
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
        }
    }
}
