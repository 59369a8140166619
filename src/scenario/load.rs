//! Reading a scenario file: TOML syntax, then the raw types (structure, key names), then
//! validation into a `Scenario`.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::{ScenarioError, ScenarioErrorKind};
use super::model::{Scenario, Source};
use super::raw::RawScenario;
use super::validate::validate;

/// The largest scenario file read, in bytes. A scenario is a few kB; anything near this is not
/// one (a log, an image, a device), and is rejected before it is read whole.
pub const MAX_FILE_SIZE: u64 = 1 << 20;

/// Reads, parses and validates the scenario file at `path`. `Scenario::source` records the path
/// and the sha256 of the file's bytes.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let read = |err| ScenarioError::new(path, ScenarioErrorKind::Read(err));
    let file = std::fs::File::open(path).map_err(read)?;
    // The size on disk, when the file has one (not a pipe or a device).
    let size = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|metadata| metadata.len());
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large(path, size.filter(|&size| size > MAX_FILE_SIZE)));
    }
    load_bytes(path, &bytes)
}

/// Parses and validates the contents of a scenario file, `bytes`, which must be UTF-8 text of at
/// most `MAX_FILE_SIZE` bytes. `path` only names the file in `Scenario::source` and in error
/// messages.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Scenario, ScenarioError> {
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large(path, Some(bytes.len() as u64)));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(path, text),
        Err(err) => {
            // The valid prefix is text; the error points at its first control character, or
            // just after it.
            let valid = &bytes[..err.valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            if let Some(err) = control_character(path, valid) {
                return Err(err);
            }
            Err(ScenarioError::at(
                path,
                valid,
                valid.len(),
                ScenarioErrorKind::Syntax {
                    message: format!(
                        "expected UTF-8 text, found the byte 0x{:02x} (a binary file, or text in \
                         another encoding?)",
                        bytes[valid.len()]
                    ),
                },
            ))
        }
    }
}

/// A file over the size limit, at its start: the whole file is the problem.
fn too_large(path: &Path, size: Option<u64>) -> ScenarioError {
    ScenarioError::at(
        path,
        "",
        0,
        ScenarioErrorKind::TooLarge {
            size,
            limit: MAX_FILE_SIZE,
        },
    )
}

/// An error at the first control character of `text` that TOML allows nowhere (all but tab,
/// line feed and carriage return), if there is one: a binary file, most likely.
fn control_character(path: &Path, text: &str) -> Option<ScenarioError> {
    let (offset, c) = text
        .char_indices()
        .find(|&(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r') && c <= '\u{7f}')?;
    Some(ScenarioError::at(
        path,
        text,
        offset,
        ScenarioErrorKind::Syntax {
            message: format!(
                "expected text, found the control character U+{:04X}, which TOML allows nowhere \
                 (a binary file?)",
                u32::from(c)
            ),
        },
    ))
}

/// Parses and validates scenario `text`. `path` only names the file in `Scenario::source` and in
/// error messages.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let source = Source {
        path: path.to_path_buf(),
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
    };
    if let Some(err) = control_character(path, text) {
        return Err(err);
    }
    let document = toml::de::Deserializer::parse(text)
        .map_err(|err| ScenarioError::from_toml(path, text, &err, true))?;
    let raw = RawScenario::deserialize(document)
        .map_err(|err| ScenarioError::from_toml(path, text, &err, false))?;
    validate(raw, source, text)
        .map_err(|failure| ScenarioError::at(path, text, failure.offset, failure.kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{
        Crash, Direction, FaultSpec, NoKeys, Partition, PartitionParams, PartitionPeers, Pause,
        PostgresCrash, Stop, Switchover, SwitchoverParams,
    };
    use crate::scenario::model::*;
    use crate::topology::kinds::etcd::{self, EtcdSettings};
    use crate::topology::kinds::haproxy::{self, HaproxyCheck, HaproxySettings};
    use crate::topology::kinds::patroni::{self, PatroniSettings};
    use crate::topology::kinds::pgbouncer;
    use proptest::prelude::*;
    use std::path::PathBuf;
    use std::time::Duration;

    fn shipped_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/patroni-primary-crash.toml")
    }

    fn shipped_text() -> String {
        std::fs::read_to_string(shipped_path()).unwrap()
    }

    #[test]
    fn loads_the_shipped_scenario() {
        let path = shipped_path();
        let scenario = load(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let expected = Scenario {
            name: "patroni-primary-crash".into(),
            description: "Primary node crash: a replica is promoted and clients reconnect \
                          through HAProxy"
                .into(),
            runbook: Some("1. Primary node crash".into()),
            duration: Duration::from_secs(40),
            source: Source {
                path: path.clone(),
                sha256: hex::encode(Sha256::digest(&bytes)),
            },
            image: None,
            topology: Topology {
                stack: "patroni".into(),
                kinds: vec![
                    Box::new(EtcdSettings { members: 3 }),
                    Box::new(PatroniSettings {
                        nodes: 3,
                        ttl: Duration::from_secs(10),
                        loop_wait: Duration::from_secs(2),
                        retry_timeout: Duration::from_secs(3),
                        maximum_lag_on_failover: 1_048_576,
                        synchronous_mode: false,
                        synchronous_mode_strict: false,
                        own: Default::default(),
                    }),
                    Box::new(HaproxySettings {
                        check: HaproxyCheck::PatroniRest,
                        inter: Duration::from_secs(1),
                        fall: 3,
                        rise: 2,
                        port: None,
                    }),
                ],
            },
            workload: Workload {
                writers: 4,
                rate: 100,
                through: Endpoint::Haproxy,
                connect_timeout: Duration::from_secs(1),
                write_timeout: Duration::from_secs(1),
                readers: 2,
                read_through: ReadEndpoint::Replica,
                read_rate: 20,
            },
            groups: vec![],
            faults: vec![Fault {
                at: Duration::from_secs(10),
                kind: FaultSpec::new(&Crash, NoKeys {}),
                target: Target::Leader,
                duration: None,
            }],
            steps: vec![],
            objectives: vec![
                Objective {
                    measure: Measure::Rto,
                    bound: Bound::Duration {
                        cmp: Cmp::Le,
                        value: Duration::from_secs(30),
                    },
                },
                Objective {
                    measure: Measure::Rpo,
                    bound: Bound::Duration {
                        cmp: Cmp::Le,
                        value: Duration::from_secs(1),
                    },
                },
                Objective {
                    measure: Measure::SplitBrain,
                    bound: Bound::Bool { value: false },
                },
                Objective {
                    measure: Measure::LeaderChanges,
                    bound: Bound::Count {
                        cmp: Cmp::Eq,
                        value: 1,
                    },
                },
            ],
            bounds: Bounds::default(),
        };
        assert_eq!(scenario, expected);
        assert_eq!(scenario.source.sha256.len(), 64);
    }

    /// The smallest valid scenario; tests append to it.
    const MINIMAL: &str =
        "name = \"bad\"\ndescription = \"a broken scenario\"\nduration = \"60s\"\n";

    /// `MINIMAL` and a fault at 1s of `kind` on `target`, lines 4 to 7, then `rest`.
    fn fault_with(kind: &str, target: &str, rest: &str) -> String {
        format!("{MINIMAL}[[fault]]\nat = \"1s\"\nkind = \"{kind}\"\ntarget = \"{target}\"\n{rest}")
    }

    /// `MINIMAL` and a partition fault, lines 4 to 7; tests append keys to it at line 8.
    const FAULT: &str = "name = \"bad\"\ndescription = \"a broken scenario\"\nduration = \"60s\"\n\
                         [[fault]]\nat = \"10s\"\nkind = \"partition\"\ntarget = \"pg1\"\n";

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let scenario = parse(Path::new("scenarios/min.toml"), MINIMAL).unwrap();
        assert_eq!(etcd::settings(&scenario.topology).unwrap().members, 3);
        let patroni = patroni::settings(&scenario.topology).unwrap();
        assert_eq!(patroni.nodes, 3);
        assert_eq!(patroni.ttl, Duration::from_secs(30));
        assert_eq!(patroni.loop_wait, Duration::from_secs(10));
        assert_eq!(patroni.retry_timeout, Duration::from_secs(10));
        assert_eq!(patroni.maximum_lag_on_failover, 1_048_576);
        assert!(!patroni.synchronous_mode);
        let haproxy = haproxy::settings(&scenario.topology).unwrap();
        assert_eq!(haproxy.check, HaproxyCheck::PatroniRest);
        assert_eq!(haproxy.inter, Duration::from_secs(2));
        assert_eq!((haproxy.fall, haproxy.rise), (3, 2));
        let workload = &scenario.workload;
        assert_eq!((workload.writers, workload.rate), (4, 100));
        assert_eq!(workload.through, Endpoint::Haproxy);
        assert_eq!(workload.connect_timeout, Duration::from_secs(1));
        assert_eq!(workload.write_timeout, Duration::from_secs(1));
        assert_eq!(
            (workload.readers, workload.read_through, workload.read_rate),
            (0, ReadEndpoint::Replica, 0),
            "no readers unless asked for"
        );
        assert!(scenario.groups.is_empty());
        assert!(scenario.faults.is_empty());
        assert!(scenario.objectives.is_empty());
        assert_eq!(scenario.runbook, None);
        assert_eq!(scenario.image, None);
    }

    #[test]
    fn scenarios_recorded_before_readers_still_load() {
        let scenario = load(&shipped_path()).unwrap();
        let mut json = serde_json::to_value(&scenario).unwrap();
        let workload = json["workload"].as_object_mut().unwrap();
        for key in ["readers", "read_through", "read_rate"] {
            assert!(workload.remove(key).is_some(), "{key}");
        }
        let old: Scenario = serde_json::from_value(json).unwrap();
        assert_eq!(old.workload.readers, 0);
        assert_eq!(old.workload.read_rate, 0);
        let mut without_readers = scenario.clone();
        (
            without_readers.workload.readers,
            without_readers.workload.read_rate,
        ) = (0, 0);
        assert_eq!(old, without_readers);
        let text = serde_json::to_string(&ReadEndpoint::Replica).unwrap();
        assert_eq!(text, "\"replica\"");
        for &endpoint in ReadEndpoint::ALL {
            let text = serde_json::to_string(&endpoint).unwrap();
            assert_eq!(text, format!("\"{}\"", endpoint.name()));
        }
    }

    #[test]
    fn an_application_tier_takes_the_writes_and_only_an_own_image_names_its_port_and_paths() {
        use crate::scenario::Endpoint;
        use crate::topology::kinds::app;
        let parse_ok = |extra: &str| {
            let text = format!("{MINIMAL}{extra}");
            parse(Path::new("scenarios/ok.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
        };
        let error = |extra: &str| {
            let text = format!("{MINIMAL}{extra}");
            parse(Path::new("bad.toml"), &text).unwrap_err().to_string()
        };
        // a tier: the writes go through it by default, the reference server's port and paths
        let tiered = parse_ok("[topology.app]\nnodes = 2\n");
        assert_eq!(tiered.workload.through, Endpoint::App);
        let tier = app::settings(&tiered.topology).unwrap();
        assert_eq!(
            (tier.nodes, tier.image.as_deref(), tier.port),
            (2, None, 8080)
        );
        assert_eq!(tier.write_path, "/writes/{seq}");
        // still through HAProxy's database endpoint when asked
        let direct = parse_ok("[topology.app]\n[workload]\nthrough = \"haproxy\"\n");
        assert_eq!(direct.workload.through, Endpoint::Haproxy);
        // an own image names its own
        let own = parse_ok(
            "[topology.app]\nimage = \"team/api:1\"\nport = 9090\nstatus = \"/health\"\n\
             write_path = \"/api/{seq}\"\n",
        );
        let tier = app::settings(&own.topology).unwrap();
        assert_eq!(
            (tier.image.as_deref(), tier.port, tier.status.as_str()),
            (Some("team/api:1"), 9090, "/health")
        );
        assert_eq!(tier.write_path, "/api/{seq}");
        // the reference server's are fixed
        let err = error("[topology.app]\nstatus = \"/health\"\n");
        assert!(
            err.contains("bad.toml:5:10: topology.app.status: expected `image` beside it"),
            "{err}"
        );
        let err = error("[topology.app]\nimage = \"x\"\nread_path = \"/rows/{seq}/{seq}\"\n");
        assert!(err.contains("holding {seq} once"), "{err}");
        // and it round-trips through run.json
        let json = serde_json::to_value(&own).unwrap();
        let back: Scenario = serde_json::from_value(json).unwrap();
        assert_eq!(back, own);
    }

    #[test]
    fn readers_take_an_endpoint_and_a_rate() {
        let workload = |keys: &str| {
            let text = format!("{MINIMAL}[workload]\n{keys}");
            match parse(Path::new("scenarios/ok.toml"), &text) {
                Ok(scenario) => scenario.workload,
                Err(err) => panic!("{err}\n{text}"),
            }
        };
        let readers = |w: Workload| (w.readers, w.read_through, w.read_rate);
        assert_eq!(
            readers(workload("readers = 2\n")),
            (2, ReadEndpoint::Replica, 20)
        );
        assert_eq!(
            readers(workload(
                "readers = 1\nread_through = \"primary\"\nread_rate = 5\n"
            )),
            (1, ReadEndpoint::Primary, 5)
        );
        assert_eq!(
            readers(workload(
                "readers = 256\nread_through = \"replica\"\nread_rate = 1000\n"
            )),
            (256, ReadEndpoint::Replica, 1000)
        );
        assert_eq!(
            readers(workload("readers = 0\n")),
            (0, ReadEndpoint::Replica, 0)
        );
        // without roles in the proxy, readers must go through the primary
        let text = format!(
            "{MINIMAL}[topology.haproxy]\ncheck = \"tcp\"\n\
             [workload]\nreaders = 1\nread_through = \"primary\"\n"
        );
        let scenario = parse(Path::new("scenarios/ok.toml"), &text).unwrap();
        assert_eq!(scenario.workload.read_through, ReadEndpoint::Primary);
        // writers are untouched
        let w = workload("readers = 3\n");
        assert_eq!((w.writers, w.rate), (4, 100));
    }

    #[test]
    fn objectives_keep_file_order_and_faults_resolve_targets() {
        let text = format!(
            "{MINIMAL}[[fault]]\nat = \"5s\"\nkind = \"crash\"\ntarget = \"primary\"\n\
             [[fault]]\nat = \"20s\"\nkind = \"crash\"\ntarget = \"pg2\"\nduration = \"10s\"\n\
             [[fault]]\nat = \"30s\"\nkind = \"crash\"\ntarget = \"pg2\"\n\
             [objectives]\nsplit_brain = true\nlost_writes = 3\nrto = \"> 1s\"\n"
        );
        let scenario = parse(Path::new("scenarios/ok.toml"), &text).unwrap();
        let measures: Vec<Measure> = scenario.objectives.iter().map(|o| o.measure).collect();
        assert_eq!(
            measures,
            [Measure::SplitBrain, Measure::LostWrites, Measure::Rto]
        );
        let targets: Vec<&Target> = scenario.faults.iter().map(|f| &f.target).collect();
        assert_eq!(
            targets,
            [
                &Target::Leader,
                &Target::Node("pg2".into()),
                &Target::Node("pg2".into())
            ]
        );
        assert_eq!(scenario.faults[1].duration, Some(Duration::from_secs(10)));
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.toml");
        let err = load(&path).unwrap_err();
        assert!(matches!(err.kind(), ScenarioErrorKind::Read(_)));
        assert_eq!(err.position(), None);
        assert!(
            err.to_string()
                .starts_with(&format!("{}: cannot read: ", path.display())),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_rejected_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"name = \"x\"\ndescription = \"caf\xe9\"\n").unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!((err.line(), err.column()), (Some(2), Some(19)));
    }

    /// The full message for `text`, which must not parse.
    fn error(text: &str) -> String {
        parse(Path::new("scenarios/bad.toml"), text)
            .unwrap_err()
            .to_string()
    }

    /// Pins the message for `text`; the snapshot records the input as its description.
    macro_rules! assert_error_snapshot {
        ($name:literal, $text:expr) => {{
            let text: &str = &$text;
            insta::with_settings!({ description => text, omit_expression => true }, {
                insta::assert_snapshot!($name, error(text));
            });
        }};
    }

    #[test]
    fn pgbackrest_settings_are_checked() {
        assert_error_snapshot!(
            "unknown_compression",
            format!("{MINIMAL}[topology.pgbackrest]\ncompress_type = \"zip\"\n")
        );
        assert_error_snapshot!(
            "repository_too_small",
            format!("{MINIMAL}[topology.pgbackrest]\nrepo_size = \"1MB\"\n")
        );
        assert_error_snapshot!(
            "archive_timeout_below_a_second",
            format!("{MINIMAL}[topology.pgbackrest]\narchive_timeout = \"500ms\"\n")
        );
        // pgBackRest runs inside the database nodes: no target of its own
        assert_error_snapshot!(
            "pgbackrest_is_no_target",
            format!(
                "{}[topology.pgbackrest]\n",
                fault_with("crash", "pgbackrest", "")
            )
        );
        let s = parse(
            Path::new("ok.toml"),
            &format!("{MINIMAL}[topology.pgbackrest]\nrepo_size = \"512MB\"\n"),
        )
        .unwrap();
        let backups = crate::topology::kinds::pgbackrest::settings(&s.topology).expect("backups");
        assert_eq!(backups.repo_size, 512 << 20);
        assert_eq!(backups.archive_timeout, Duration::from_secs(5));
        assert!(
            crate::topology::kinds::pgbackrest::settings(
                &parse(Path::new("ok.toml"), MINIMAL).unwrap().topology
            )
            .is_none()
        );
    }

    #[test]
    fn pgbouncer_settings_are_checked() {
        assert_error_snapshot!(
            "unknown_pool_mode",
            format!("{MINIMAL}[topology.pgbouncer]\npool_mode = \"transactions\"\n")
        );
        assert_error_snapshot!(
            "min_pool_size_above_the_pool",
            format!("{MINIMAL}[topology.pgbouncer]\ndefault_pool_size = 4\nmin_pool_size = 5\n")
        );
        assert_error_snapshot!(
            "unknown_key_in_pgbouncer",
            format!("{MINIMAL}[topology.pgbouncer]\npool_size = 4\n")
        );
        assert_error_snapshot!(
            "unknown_stack",
            format!(
                "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\n[topology]\nstack = \"patrony\"\n"
            )
        );
        // without the table, no poolers: `pgbouncer` is no target
        assert_error_snapshot!(
            "pgbouncer_target_without_poolers",
            fault_with("pgbouncer-pause", "pgbouncer", "duration = \"5s\"\n")
        );
        let s = parse(
            Path::new("ok.toml"),
            &format!("{MINIMAL}[topology.pgbouncer]\nmin_pool_size = 3\n"),
        )
        .unwrap();
        let pooler = pgbouncer::settings(&s.topology).expect("poolers");
        assert_eq!(pooler.pool_mode, pgbouncer::PoolMode::Transaction);
        assert_eq!((pooler.default_pool_size, pooler.min_pool_size), (20, 3));
        assert_eq!(pooler.server_login_retry, Duration::from_secs(15));
    }

    #[test]
    fn syntax_error() {
        assert_error_snapshot!("syntax_error", format!("{MINIMAL}[workload\nwriters = 4\n"));
    }

    #[test]
    fn unknown_top_level_key_with_suggestion() {
        assert_error_snapshot!(
            "unknown_top_level_key",
            "name = \"bad\"\ndescripton = \"typo\"\nduration = \"60s\"\n"
        );
    }

    #[test]
    fn unknown_key_in_patroni() {
        assert_error_snapshot!(
            "unknown_key_in_patroni",
            format!("{MINIMAL}[topology.patroni]\nnodes = 3\ncolour = \"blue\"\n")
        );
    }

    #[test]
    fn unknown_key_in_patroni_with_suggestion() {
        assert_error_snapshot!(
            "unknown_key_in_patroni_with_suggestion",
            format!("{MINIMAL}[topology.patroni]\nloop-wait = \"2s\"\n")
        );
    }

    #[test]
    fn wrong_type() {
        assert_error_snapshot!(
            "wrong_type",
            format!("{MINIMAL}[topology.patroni]\nnodes = \"three\"\n")
        );
    }

    #[test]
    fn wrong_type_for_a_duration() {
        assert_error_snapshot!(
            "wrong_type_for_a_duration",
            "name = \"bad\"\ndescription = \"x\"\nduration = 60\n"
        );
    }

    #[test]
    fn unknown_fault_kind() {
        assert_error_snapshot!(
            "unknown_fault_kind",
            format!("{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crsh\"\ntarget = \"leader\"\n")
        );
    }

    #[test]
    fn unknown_target() {
        assert_error_snapshot!(
            "unknown_target",
            format!("{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg4\"\n")
        );
    }

    #[test]
    fn fault_missing_keys() {
        assert_error_snapshot!(
            "fault_missing_keys",
            format!("{MINIMAL}[[fault]]\nat = \"10s\"\n")
        );
    }

    #[test]
    fn fault_at_past_the_end() {
        assert_error_snapshot!(
            "fault_at_past_the_end",
            format!("{MINIMAL}[[fault]]\nat = \"90s\"\nkind = \"crash\"\ntarget = \"leader\"\n")
        );
    }

    #[test]
    fn fault_healed_past_the_end() {
        assert_error_snapshot!(
            "fault_healed_past_the_end",
            format!(
                "{MINIMAL}[[fault]]\nat = \"50s\"\nkind = \"crash\"\ntarget = \"pg1\"\n\
                 duration = \"20s\"\n"
            )
        );
    }

    #[test]
    fn zero_fault_duration() {
        assert_error_snapshot!(
            "zero_fault_duration",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg1\"\n\
                 duration = \"0s\"\n"
            )
        );
    }

    #[test]
    fn overlapping_faults_on_one_node() {
        assert_error_snapshot!(
            "overlapping_faults",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg1\"\n\
                 duration = \"20s\"\n\n\
                 [[fault]]\nat = \"25s\"\nkind = \"crash\"\ntarget = \"pg1\"\n"
            )
        );
    }

    #[test]
    fn objective_on_unknown_measurement() {
        assert_error_snapshot!(
            "unknown_measurement",
            format!("{MINIMAL}[objectives]\nrto = \"<= 30s\"\nthroughput = \">= 100\"\n")
        );
    }

    #[test]
    fn a_name_too_long_for_a_directory_name() {
        let at_most = format!(
            "name = \"{}\"\ndescription = \"x\"\nduration = \"60s\"\n",
            "a".repeat(64)
        );
        assert!(parse(Path::new("scenarios/ok.toml"), &at_most).is_ok());
        assert_error_snapshot!(
            "name_too_long",
            format!(
                "description = \"x\"\nname = \"{}\"\nduration = \"60s\"\n",
                "a".repeat(65)
            )
        );
    }

    #[test]
    fn objective_on_misspelt_measurement() {
        assert_error_snapshot!(
            "misspelt_measurement",
            format!("{MINIMAL}[objectives]\nlost_write = \"== 0\"\n")
        );
    }

    #[test]
    fn malformed_bound() {
        assert_error_snapshot!(
            "malformed_bound",
            format!("{MINIMAL}[objectives]\nrto = \"about 30s\"\n")
        );
    }

    #[test]
    fn ttl_not_whole_seconds() {
        assert_error_snapshot!(
            "ttl_not_whole_seconds",
            format!("{MINIMAL}[topology.patroni]\nttl = \"2500ms\"\n")
        );
    }

    #[test]
    fn empty_file() {
        assert_error_snapshot!("empty_file", "");
    }

    #[test]
    fn loop_wait_not_below_ttl() {
        assert_error_snapshot!(
            "loop_wait_not_below_ttl",
            format!("{MINIMAL}[topology.patroni]\nttl = \"10s\"\nloop_wait = \"10s\"\n")
        );
    }

    #[test]
    fn ttl_not_above_default_loop_wait() {
        assert_error_snapshot!(
            "ttl_not_above_default_loop_wait",
            format!("{MINIMAL}[topology.patroni]\nttl = \"5s\"\n")
        );
    }

    #[test]
    fn readers_through_replicas_need_a_role_aware_proxy() {
        assert_error_snapshot!(
            "replica_reads_with_a_tcp_check",
            format!(
                "{MINIMAL}[topology.haproxy]\ncheck = \"tcp\"\n\
                 [workload]\nreaders = 2\nread_through = \"replica\"\n"
            )
        );
        assert_error_snapshot!(
            "replica_reads_on_a_single_node",
            format!("{MINIMAL}[topology.patroni]\nnodes = 1\n[workload]\nreaders = 1\n")
        );
        assert_error_snapshot!(
            "default_replica_reads_with_a_tcp_check",
            format!("{MINIMAL}[topology.haproxy]\ncheck = \"tcp\"\n[workload]\nreaders = 2\n")
        );
    }

    #[test]
    fn unknown_read_endpoint() {
        assert_error_snapshot!(
            "unknown_read_endpoint",
            format!("{MINIMAL}[workload]\nreaders = 2\nread_through = \"standby\"\n")
        );
    }

    #[test]
    fn read_settings_without_readers() {
        assert_error_snapshot!(
            "read_rate_without_readers",
            format!("{MINIMAL}[workload]\nread_rate = 50\n")
        );
    }

    #[test]
    fn topologies_without_etcd_or_nodes() {
        assert_error_snapshot!("zero_etcd", format!("{MINIMAL}[topology]\netcd = 0\n"));
        assert_error_snapshot!(
            "zero_nodes",
            format!("{MINIMAL}[topology.patroni]\nnodes = 0\n")
        );
        assert_error_snapshot!(
            "negative_nodes",
            format!("{MINIMAL}[topology.patroni]\nnodes = -3\n")
        );
        assert_error_snapshot!(
            "negative_writers",
            format!("{MINIMAL}[workload]\nwriters = -1\n")
        );
        assert_error_snapshot!(
            "too_many_nodes",
            format!("{MINIMAL}[topology.patroni]\nnodes = 10\n")
        );
    }

    #[test]
    fn names_given_twice() {
        assert_error_snapshot!("duplicate_key", format!("{MINIMAL}name = \"again\"\n"));
        assert_error_snapshot!(
            "duplicate_table",
            format!("{MINIMAL}[workload]\nwriters = 1\n[workload]\nrate = 2\n")
        );
        assert_error_snapshot!(
            "duplicate_nested_table",
            format!(
                "{MINIMAL}[topology.patroni]\nnodes = 1\n\n[topology.patroni] # again\n\
                 ttl = \"20s\"\n"
            )
        );
        assert_error_snapshot!(
            "duplicate_table_through_a_dotted_key",
            format!("{MINIMAL}[topology.patroni]\nnodes = 1\n[topology]\npatroni.nodes = 2\n")
        );
        assert_error_snapshot!(
            "fault_as_a_table_and_an_array",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg1\"\n\
                 [fault]\nat = \"20s\"\n"
            )
        );
        assert_error_snapshot!(
            "group_declared_twice",
            format!("{MINIMAL}[groups]\nminority = [\"pg1\"]\nminority = [\"pg2\"]\n")
        );
        assert_error_snapshot!(
            "group_declared_twice_quoted",
            format!("{MINIMAL}[groups]\n\"minority\" = [\"pg1\"]\nminority = [\"pg2\"]\n")
        );
        assert_error_snapshot!(
            "node_twice_in_a_group",
            format!("{MINIMAL}[groups]\nminority = [\"pg1\", \"etcd1\", \"pg1\"]\n")
        );
    }

    /// Group selectors always say `group:`, so a group may share a node's or a kind's name
    /// without making a target ambiguous.
    #[test]
    fn group_names_do_not_shadow_nodes_or_kinds() {
        let faults = faults_of(
            "[groups]\npg1 = [\"pg2\"]\netcd = [\"pg3\"]\n\
             [[fault]]\nat = \"10s\"\nkind = \"stop\"\ntarget = \"pg1\"\n\
             [[fault]]\nat = \"20s\"\nkind = \"stop\"\ntarget = \"group:pg1\"\n\
             [[fault]]\nat = \"30s\"\nkind = \"stop\"\ntarget = \"etcd\"\n\
             [[fault]]\nat = \"40s\"\nkind = \"stop\"\ntarget = \"group:etcd\"\n",
        );
        let targets: Vec<&Target> = faults.iter().map(|f| &f.target).collect();
        assert_eq!(
            targets,
            [
                &Target::Node("pg1".into()),
                &Target::Group("pg1".into()),
                &Target::Kind {
                    kind: "etcd".into(),
                    random: false
                },
                &Target::Group("etcd".into()),
            ]
        );
    }

    #[test]
    fn faults_on_nodes_the_topology_does_not_have() {
        assert_error_snapshot!(
            "fault_on_a_node_past_the_topology",
            fault_with("crash", "pg7", "")
        );
        assert_error_snapshot!(
            "fault_on_an_etcd_member_past_the_topology",
            fault_with("stop", "etcd5", "")
        );
        assert_error_snapshot!(
            "fault_on_a_node_of_a_smaller_topology",
            format!(
                "{MINIMAL}[topology]\netcd = 1\n[topology.patroni]\nnodes = 2\n\
                 [[fault]]\nat = \"10s\"\nkind = \"pause\"\ntarget = \"etcd2\"\n\
                 duration = \"5s\"\n"
            )
        );
        assert_error_snapshot!(
            "partition_from_a_node_past_the_topology",
            format!("{FAULT}from = [\"etcd1\", \"pg9\"]\n")
        );
        assert_error_snapshot!(
            "switchover_to_a_node_past_the_topology",
            fault_with("switchover", "leader", "candidate = \"pg4\"\n")
        );
        // not a node name at all: no topology to blame
        assert_error_snapshot!("fault_on_pg0", fault_with("crash", "pg0", ""));
    }

    #[test]
    fn instants_past_the_end_of_the_run() {
        assert_error_snapshot!(
            "fault_at_the_end_of_the_run",
            format!("{MINIMAL}[[fault]]\nat = \"60s\"\nkind = \"crash\"\ntarget = \"leader\"\n")
        );
        assert_error_snapshot!(
            "fault_duration_out_of_range",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg1\"\n\
                 duration = \"584942417355y\"\n"
            )
        );
        assert_error_snapshot!(
            "negative_instant",
            format!("{MINIMAL}[[fault]]\nat = \"-5s\"\nkind = \"crash\"\ntarget = \"pg1\"\n")
        );
    }

    #[test]
    fn more_wrong_types() {
        assert_error_snapshot!(
            "float_for_an_integer",
            format!("{MINIMAL}[topology.patroni]\nnodes = 1.5\n")
        );
        assert_error_snapshot!(
            "integer_past_64_bits",
            format!("{MINIMAL}[workload]\nrate = 99999999999999999999\n")
        );
        assert_error_snapshot!(
            "table_for_a_string",
            "name = { first = \"bad\" }\ndescription = \"x\"\nduration = \"60s\"\n"
        );
        assert_error_snapshot!(
            "string_for_a_table",
            format!("{MINIMAL}workload = \"heavy\"\n")
        );
    }

    #[test]
    fn blank_files() {
        assert_error_snapshot!("blank_file", " \n\t\n\n");
        assert_error_snapshot!("comments_only", "# a scenario, one day\n# nothing yet\n");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = |open: &str, close: &str| {
            format!(
                "{MINIMAL}[objectives]\nrto = {}1{}\n",
                open.repeat(100_000),
                close.repeat(100_000)
            )
        };
        for text in [
            deep("[", "]"),
            deep("{ a = ", " }"),
            format!("{MINIMAL}{} = 1\n", vec!["a"; 100_000].join(".")),
            format!("{MINIMAL}[{}]\n", vec!["a"; 100_000].join(".")),
        ] {
            let err = error(&text);
            assert!(err.contains("nested too deeply"), "{err}");
        }
        assert_error_snapshot!(
            "nested_too_deeply",
            format!(
                "{MINIMAL}[objectives]\nrto = {}1{}\n",
                "[".repeat(200),
                "]".repeat(200)
            )
        );
    }

    /// The full message for the file contents `bytes`, which must not load.
    fn bytes_error(bytes: &[u8]) -> String {
        load_bytes(Path::new("scenarios/bad.toml"), bytes)
            .unwrap_err()
            .to_string()
    }

    /// Pins the message for the file contents `bytes`; the snapshot records them, escaped.
    macro_rules! assert_bytes_snapshot {
        ($name:literal, $bytes:expr) => {{
            let bytes: &[u8] = &$bytes[..];
            let shown = bytes.escape_ascii().to_string();
            insta::with_settings!({ description => shown, omit_expression => true }, {
                insta::assert_snapshot!($name, bytes_error(bytes));
            });
        }};
    }

    #[test]
    fn binary_files() {
        // an ELF header: the DEL in its magic comes before its first byte that is not UTF-8
        assert_bytes_snapshot!(
            "elf_header",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0"
        );
        // a PNG header: its second byte is not UTF-8
        assert_bytes_snapshot!("png_header", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        assert_bytes_snapshot!("nul_bytes", [0u8; 64]);
        assert_bytes_snapshot!(
            "latin1_text",
            b"name = \"bad\"\ndescription = \"caf\xe9\"\nduration = \"60s\"\n"
        );
        assert_bytes_snapshot!(
            "utf16_text",
            "name"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        );
    }

    #[test]
    fn control_characters_in_utf8_text() {
        assert_error_snapshot!(
            "nul_in_a_string",
            format!("{MINIMAL}runbook = \"step\0 1\"\n")
        );
        assert_error_snapshot!("bell_in_a_comment", format!("{MINIMAL}# ring \u{7} ring\n"));
        assert_error_snapshot!("escape_in_a_key", format!("{MINIMAL}\u{1b}[31mred = 1\n"));
        // tabs, line feeds, CRLF and non-ASCII text are fine
        let text = format!("{MINIMAL}runbook\t= \"\u{e9}tape 1 \u{1f525}\"\r\n");
        let scenario = parse(Path::new("scenarios/ok.toml"), &text).unwrap();
        assert_eq!(scenario.runbook.as_deref(), Some("\u{e9}tape 1 \u{1f525}"));
    }

    #[test]
    fn huge_files_are_refused_unread() {
        let limit = MAX_FILE_SIZE as usize;
        let description = format!("{} bytes of '#'", limit + 1);
        insta::with_settings!({ description => description, omit_expression => true }, {
            insta::assert_snapshot!("too_large", bytes_error(&vec![b'#'; limit + 1]));
        });
        // at the limit, the file is parsed: a scenario and a long comment
        let mut at_limit = format!("{MINIMAL}# ").into_bytes();
        at_limit.resize(limit, b'-');
        assert!(load_bytes(Path::new("scenarios/ok.toml"), &at_limit).is_ok());

        let dir = tempfile::tempdir().unwrap();
        // a sparse file of 1 GiB: its size is said, and only the first MiB is read
        let path = dir.path().join("huge.toml");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(1 << 30).unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            matches!(err.kind(), ScenarioErrorKind::TooLarge { size: Some(size), .. } if *size == 1 << 30),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}:1:1: file too large: expected a scenario file of at most 1048576 bytes, 1 MiB \
                 (a scenario is a few kB of TOML), found 1073741824 bytes",
                path.display()
            )
        );
        // a device has no size: it is read up to the limit
        let err = load(Path::new("/dev/zero")).unwrap_err();
        assert!(
            err.to_string().ends_with("found more than 1048576 bytes"),
            "{err}"
        );
        // a directory cannot be read
        let err = load(dir.path()).unwrap_err();
        assert!(matches!(err.kind(), ScenarioErrorKind::Read(_)), "{err}");
    }

    /// The faults of `MINIMAL` followed by `rest`, which must parse.
    fn faults_of(rest: &str) -> Vec<Fault> {
        let text = format!("{MINIMAL}{rest}");
        match parse(Path::new("scenarios/ok.toml"), &text) {
            Ok(scenario) => scenario.faults,
            Err(err) => panic!("{err}\n{text}"),
        }
    }

    const GROUPS: &str = "[groups]\nminority = [\"pg1\", \"etcd1\"]\n\
                          majority = [\"pg2\", \"pg3\", \"etcd2\", \"etcd3\"]\n\
                          dbs = [\"pg3\", \"pg2\"]\n";

    #[test]
    fn groups_keep_file_order() {
        let text = format!("{MINIMAL}{GROUPS}");
        let scenario = parse(Path::new("scenarios/ok.toml"), &text).unwrap();
        let group = |name: &str, nodes: &[&str]| Group {
            name: name.into(),
            nodes: nodes.iter().map(|&n| n.to_owned()).collect(),
        };
        assert_eq!(
            scenario.groups,
            [
                group("minority", &["pg1", "etcd1"]),
                group("majority", &["pg2", "pg3", "etcd2", "etcd3"]),
                group("dbs", &["pg3", "pg2"]),
            ]
        );
    }

    #[test]
    fn every_selector_form_is_a_target() {
        let kind = |kind: &str, random| Target::Kind {
            kind: kind.into(),
            random,
        };
        let cases = [
            ("leader", Target::Leader),
            ("primary", Target::Leader),
            ("replica", Target::Replica(Pick::Random)),
            ("replica:random", Target::Replica(Pick::Random)),
            ("replica:all", Target::Replica(Pick::All)),
            ("replica:most-lagging", Target::Replica(Pick::MostLagging)),
            ("replica:least-lagging", Target::Replica(Pick::LeastLagging)),
            ("pg3", Target::Node("pg3".into())),
            ("etcd1", Target::Node("etcd1".into())),
            ("haproxy", Target::Node("haproxy".into())),
            ("etcd", kind("etcd", false)),
            ("patroni", kind("patroni", false)),
            ("etcd:random", kind("etcd", true)),
            ("patroni:random", kind("patroni", true)),
            ("haproxy:random", kind("haproxy", true)),
            ("group:minority", Target::Group("minority".into())),
        ];
        for (selector, expected) in cases {
            let faults = faults_of(&format!(
                "{GROUPS}[[fault]]\nat = \"10s\"\nkind = \"stop\"\ntarget = \"{selector}\"\n"
            ));
            assert_eq!(faults[0].target, expected, "{selector}");
        }
    }

    #[test]
    fn every_fault_kind_parses() {
        let faults = faults_of(
            "[[fault]]\nat = \"1s\"\nkind = \"crash\"\ntarget = \"pg1\"\nduration = \"1s\"\n\
             [[fault]]\nat = \"2s\"\nkind = \"postgres-crash\"\ntarget = \"replica\"\n\
             [[fault]]\nat = \"3s\"\nkind = \"stop\"\ntarget = \"etcd:random\"\n\
             duration = \"1s\"\n\
             [[fault]]\nat = \"4s\"\nkind = \"pause\"\ntarget = \"haproxy\"\nduration = \"1s\"\n\
             [[fault]]\nat = \"5s\"\nkind = \"partition\"\ntarget = \"leader\"\n\
             [[fault]]\nat = \"6s\"\nkind = \"switchover\"\ntarget = \"primary\"\n",
        );
        let kinds: Vec<&FaultSpec> = faults.iter().map(|f| &f.kind).collect();
        assert_eq!(
            kinds,
            [
                &FaultSpec::new(&Crash, NoKeys {}),
                &FaultSpec::new(&PostgresCrash, NoKeys {}),
                &FaultSpec::new(&Stop, NoKeys {}),
                &FaultSpec::new(&Pause, NoKeys {}),
                &FaultSpec::new(
                    &Partition,
                    PartitionParams {
                        from: PartitionPeers::All,
                        direction: Direction::Both
                    }
                ),
                &FaultSpec::new(&Switchover, SwitchoverParams { candidate: None }),
            ]
        );
        assert_eq!(faults[0].duration, Some(Duration::from_secs(1)));
        assert_eq!(faults[1].duration, None);
        assert_eq!(faults[5].target, Target::Leader);
    }

    #[test]
    fn partitions_take_peers_and_a_direction() {
        let partition = |from: &str, direction: &str| {
            let faults = faults_of(&format!(
                "{GROUPS}[[fault]]\nat = \"10s\"\nkind = \"partition\"\ntarget = \"leader\"\n\
                 {from}{direction}duration = \"20s\"\n"
            ));
            assert_eq!(faults[0].duration, Some(Duration::from_secs(20)));
            faults[0].kind.clone()
        };
        let of = |from: PartitionPeers, direction: Direction| {
            FaultSpec::new(&Partition, PartitionParams { from, direction })
        };
        assert_eq!(partition("", ""), of(PartitionPeers::All, Direction::Both));
        assert_eq!(
            partition("from = \"all\"\n", "direction = \"both\"\n"),
            of(PartitionPeers::All, Direction::Both)
        );
        assert_eq!(
            partition("from = \"etcd\"\n", "direction = \"outgoing\"\n"),
            of(
                PartitionPeers::Of(vec![Target::Kind {
                    kind: "etcd".into(),
                    random: false
                }]),
                Direction::Outgoing
            )
        );
        assert_eq!(
            partition(
                "from = [\"group:majority\", \"replica:all\", \"haproxy\"]\n",
                "direction = \"incoming\"\n"
            ),
            of(
                PartitionPeers::Of(vec![
                    Target::Group("majority".into()),
                    Target::Replica(Pick::All),
                    Target::Node("haproxy".into()),
                ]),
                Direction::Incoming
            )
        );
        assert_eq!(
            partition("from = [\"pg2\"]\n", ""),
            of(
                PartitionPeers::Of(vec![Target::Node("pg2".into())]),
                Direction::Both
            )
        );
    }

    #[test]
    fn switchovers_take_an_optional_candidate() {
        let candidate = |candidate: &str| {
            let faults = faults_of(&format!(
                "[[fault]]\nat = \"10s\"\nkind = \"switchover\"\ntarget = \"leader\"\n\
                 {candidate}"
            ));
            assert_eq!(faults[0].target, Target::Leader);
            match faults[0].kind.params::<Switchover>() {
                Some(params) => params.candidate.clone(),
                None => panic!("{:?}", faults[0].kind),
            }
        };
        assert_eq!(candidate(""), None);
        assert_eq!(
            candidate("candidate = \"pg2\"\n"),
            Some(Target::Node("pg2".into()))
        );
        for (written, pick) in [
            ("replica", Pick::Random),
            ("replica:random", Pick::Random),
            ("replica:most-lagging", Pick::MostLagging),
            ("replica:least-lagging", Pick::LeastLagging),
        ] {
            assert_eq!(
                candidate(&format!("candidate = \"{written}\"\n")),
                Some(Target::Replica(pick)),
                "{written}"
            );
        }
    }

    #[test]
    fn faults_on_other_nodes_or_at_other_times_do_not_overlap() {
        // A whole kind, a group and a node, each on nodes of their own or after the others.
        let faults = faults_of(&format!(
            "{GROUPS}\
             [[fault]]\nat = \"10s\"\nkind = \"partition\"\ntarget = \"group:minority\"\n\
             from = \"group:majority\"\nduration = \"20s\"\n\
             [[fault]]\nat = \"15s\"\nkind = \"pause\"\ntarget = \"pg2\"\nduration = \"5s\"\n\
             [[fault]]\nat = \"15s\"\nkind = \"stop\"\ntarget = \"haproxy\"\n\
             [[fault]]\nat = \"30s\"\nkind = \"crash\"\ntarget = \"etcd\"\n\
             [[fault]]\nat = \"30s\"\nkind = \"postgres-crash\"\ntarget = \"group:dbs\"\n\
             [[fault]]\nat = \"20s\"\nkind = \"postgres-crash\"\ntarget = \"pg2\"\n\
             [[fault]]\nat = \"40s\"\nkind = \"crash\"\ntarget = \"replica:all\"\n"
        ));
        assert_eq!(faults.len(), 7);
    }

    #[test]
    fn one_off_faults_overlap_the_faults_they_happen_during() {
        let err = error(&format!(
            "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"pause\"\ntarget = \"pg1\"\n\
             duration = \"20s\"\n\
             [[fault]]\nat = \"20s\"\nkind = \"postgres-crash\"\ntarget = \"patroni\"\n"
        ));
        assert_eq!(
            err,
            "scenarios/bad.toml:10:6: fault.at: expected one fault at a time on node \"pg1\", \
             but this one (patroni, at 20s) overlaps the one at line 5 (10s to 30s)"
        );
        let err = error(&format!(
            "{MINIMAL}[[fault]]\nat = \"20s\"\nkind = \"postgres-crash\"\ntarget = \"pg2\"\n\
             [[fault]]\nat = \"20s\"\nkind = \"postgres-crash\"\ntarget = \"pg2\"\n"
        ));
        assert!(
            err.contains("(at 20s) overlaps the one at line 5 (at 20s)"),
            "{err}"
        );
    }

    #[test]
    fn unknown_selector_in_from() {
        assert_error_snapshot!(
            "unknown_selector_in_from",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"partition\"\ntarget = \"pg1\"\n\
                 from = [\"etcd\", \"replicas\"]\n"
            )
        );
    }

    #[test]
    fn undefined_group() {
        assert_error_snapshot!(
            "undefined_group",
            format!(
                "{MINIMAL}{GROUPS}[[fault]]\nat = \"10s\"\nkind = \"crash\"\n\
                 target = \"group:minorty\"\n"
            )
        );
    }

    #[test]
    fn group_with_unknown_node() {
        assert_error_snapshot!(
            "group_with_unknown_node",
            format!("{MINIMAL}[groups]\nminority = [\"pg1\", \"etcd4\"]\n")
        );
    }

    #[test]
    fn from_on_a_crash_fault() {
        assert_error_snapshot!(
            "from_on_a_crash_fault",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"leader\"\n\
                 from = \"etcd\"\n"
            )
        );
    }

    #[test]
    fn postgres_crash_with_duration() {
        assert_error_snapshot!(
            "postgres_crash_with_duration",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"postgres-crash\"\n\
                 target = \"leader\"\nduration = \"10s\"\n"
            )
        );
    }

    #[test]
    fn switchover_target_not_leader() {
        assert_error_snapshot!(
            "switchover_target_not_leader",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"switchover\"\ntarget = \"pg1\"\n\
                 candidate = \"pg2\"\n"
            )
        );
    }

    #[test]
    fn candidate_replica_all() {
        assert_error_snapshot!(
            "candidate_replica_all",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"switchover\"\n\
                 target = \"leader\"\ncandidate = \"replica:all\"\n"
            )
        );
    }

    #[test]
    fn empty_from() {
        assert_error_snapshot!(
            "empty_from",
            format!(
                "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"partition\"\ntarget = \"pg1\"\n\
                 from = []\n"
            )
        );
    }

    #[test]
    fn overlapping_faults_via_a_group_and_a_kind() {
        assert_error_snapshot!(
            "overlapping_faults_via_a_group_and_a_kind",
            format!(
                "{MINIMAL}{GROUPS}\n\
                 [[fault]]\nat = \"10s\"\nkind = \"partition\"\ntarget = \"group:minority\"\n\
                 duration = \"20s\"\n\n\
                 [[fault]]\nat = \"25s\"\nkind = \"pause\"\ntarget = \"etcd\"\n\
                 duration = \"10s\"\n"
            )
        );
    }

    #[test]
    fn postgres_crash_on_a_group_with_an_etcd_node() {
        assert_error_snapshot!(
            "postgres_crash_on_a_group_with_an_etcd_node",
            format!(
                "{MINIMAL}{GROUPS}[[fault]]\nat = \"10s\"\nkind = \"postgres-crash\"\n\
                 target = \"group:minority\"\n"
            )
        );
    }

    #[test]
    fn switchover_with_duration() {
        let err = error(&format!(
            "{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"switchover\"\ntarget = \"leader\"\n\
             duration = \"5s\"\n"
        ));
        assert_eq!(
            err,
            "scenarios/bad.toml:8:12: fault.duration: expected no duration, a switchover has \
             nothing to heal"
        );
    }

    #[test]
    fn out_of_range_and_malformed_values() {
        let cases = [
            (
                "name = \"Bad Name\"\ndescription = \"x\"\nduration = \"60s\"\n",
                1,
                8,
            ),
            (
                "name = \"bad\"\ndescription = \"x\"\nduration = \"25h\"\n",
                3,
                12,
            ),
            (
                "name = \"bad\"\ndescription = \"x\"\nduration = \"6o s\"\n",
                3,
                12,
            ),
            (&format!("{MINIMAL}[topology]\netcd = 8\n"), 5, 8),
            (
                &format!("{MINIMAL}[topology.haproxy]\ninter = \"5ms\"\n"),
                5,
                9,
            ),
            (
                &format!("{MINIMAL}[topology.haproxy]\ncheck = \"http\"\n"),
                5,
                9,
            ),
            (
                &format!("{MINIMAL}[topology.patroni]\nsynchronous_mode_strict = true\n"),
                5,
                27,
            ),
            (&format!("{MINIMAL}[workload]\nrate = 0\n"), 5, 8),
            (
                &format!("{MINIMAL}[workload]\nthrough = \"pgbouncer\"\n"),
                5,
                11,
            ),
            (
                &format!("{MINIMAL}[workload]\nwrite_timeout = \"0s\"\n"),
                5,
                17,
            ),
            (&format!("{MINIMAL}[workload]\nreaders = -1\n"), 5, 11),
            (&format!("{MINIMAL}[workload]\nreaders = 257\n"), 5, 11),
            (
                &format!("{MINIMAL}[workload]\nreaders = 1\nread_rate = 0\n"),
                6,
                13,
            ),
            (
                &format!("{MINIMAL}[workload]\nreaders = 1\nread_rate = 1001\n"),
                6,
                13,
            ),
            (
                &format!("{MINIMAL}[workload]\nreaders = 0\nread_through = \"primary\"\n"),
                6,
                16,
            ),
            (
                &format!("{MINIMAL}[workload]\nread_through = \"replicas\"\n"),
                5,
                16,
            ),
            (
                &format!("{MINIMAL}[topology.haproxy]\ncheck = \"tcp\"\n[workload]\nreaders = 1\n"),
                7,
                11,
            ),
            (&format!("{MINIMAL}topology = 3\n"), 4, 12),
            (&format!("{MINIMAL}fault = 3\n"), 4, 9),
            (
                &format!("{MINIMAL}[objectives]\nsplit_brain = \"no\"\n"),
                5,
                15,
            ),
            (&format!("{MINIMAL}groups = 3\n"), 4, 10),
            (&format!("{MINIMAL}[groups]\nmajority = \"pg1\"\n"), 5, 12),
            (
                &format!("{MINIMAL}[groups]\nmajority = [\"pg1\", 2]\n"),
                5,
                20,
            ),
            (&format!("{MINIMAL}[groups]\nmajority = []\n"), 5, 12),
            (
                &format!("{MINIMAL}[groups]\nmajority = [\"pg1\", \"pg1\"]\n"),
                5,
                20,
            ),
            (&format!("{MINIMAL}[groups]\nMajority = [\"pg1\"]\n"), 5, 1),
            (
                &format!("{MINIMAL}[groups.majority]\nnodes = [\"pg1\"]\n"),
                4,
                1,
            ),
            (&format!("{FAULT}from = 3\n"), 8, 8),
            (&format!("{FAULT}from = [\"etcd\", 3]\n"), 8, 17),
            (&format!("{FAULT}from = [\"etcd\", \"all\"]\n"), 8, 17),
            (&format!("{FAULT}from = \"everyone\"\n"), 8, 8),
            (&format!("{FAULT}from = \"group:x\"\n"), 8, 8),
            (&format!("{FAULT}direction = \"in\"\n"), 8, 13),
            (&format!("{FAULT}candidate = \"pg2\"\n"), 8, 13),
            (
                &fault_with("pause", "leader", "direction = \"both\"\n"),
                8,
                13,
            ),
            (&fault_with("postgres-crash", "etcd1", ""), 7, 10),
            (
                &fault_with("switchover", "leader", "candidate = \"etcd1\"\n"),
                8,
                13,
            ),
            (
                &fault_with("switchover", "leader", "candidate = \"leader\"\n"),
                8,
                13,
            ),
            (&fault_with("switchover", "replica", ""), 7, 10),
        ];
        for (text, line, column) in cases {
            let err = parse(Path::new("scenarios/bad.toml"), text).unwrap_err();
            assert_eq!(
                (err.line(), err.column()),
                (Some(line), Some(column)),
                "{err}"
            );
            assert!(
                matches!(err.kind(), ScenarioErrorKind::Invalid { .. }),
                "{err}"
            );
        }
    }

    /// `text` without its line number `index` (modulo the number of lines).
    fn delete_line(text: &str, index: usize) -> String {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let index = index % lines.len();
        lines
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != index)
            .map(|(_, line)| *line)
            .collect()
    }

    fn check_position(text: &str, err: &ScenarioError) -> std::result::Result<(), TestCaseError> {
        if let Some(position) = err.position() {
            let lines: Vec<&str> = text.split('\n').collect();
            prop_assert!(position.line >= 1 && position.line <= lines.len(), "{err}");
            let width = lines[position.line - 1].chars().count();
            prop_assert!(
                position.column >= 1 && position.column <= width + 1,
                "{err}"
            );
        }
        Ok(())
    }

    fn parse_checked(text: &str) -> std::result::Result<(), TestCaseError> {
        match parse(Path::new("scenarios/fuzz.toml"), text) {
            Ok(_) => Ok(()),
            Err(err) => check_position(text, &err),
        }
    }

    proptest! {
        #[test]
        fn random_strings_never_panic(text in "\\PC*") {
            parse_checked(&text)?;
        }

        #[test]
        fn toml_like_strings_never_panic(
            text in "([a-z_]{1,8} = (\"[0-9a-z <=]{0,6}\"|[0-9-]{1,4}|true)\n|\\[[a-z.\\[\\]]{1,18}\\]\n){0,12}"
        ) {
            parse_checked(&text)?;
        }

        #[test]
        fn byte_flips_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
            let mut bytes = shipped_text().into_bytes();
            for (index, byte) in flips {
                let i = index.index(bytes.len());
                bytes[i] = byte;
            }
            parse_checked(&String::from_utf8_lossy(&bytes))?;
        }

        #[test]
        fn truncations_never_panic(cut in any::<prop::sample::Index>()) {
            let text = shipped_text();
            let mut cut = cut.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            parse_checked(&text[..cut])?;
        }

        #[test]
        fn deleted_lines_never_panic(line in any::<usize>()) {
            parse_checked(&delete_line(&shipped_text(), line))?;
        }

        #[test]
        fn syntax_errors_point_inside_the_text(
            cut in any::<prop::sample::Index>(),
            junk in "[\\[\\]=\"{}#\n a-z0-9.]{1,4}",
        ) {
            let text = shipped_text();
            let mut cut = cut.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let text = format!("{}{junk}{}", &text[..cut], &text[cut..]);
            if let Err(err) = parse(Path::new("scenarios/fuzz.toml"), &text) {
                if matches!(err.kind(), ScenarioErrorKind::Syntax { .. }) {
                    prop_assert!(err.position().is_some(), "{err}");
                }
                check_position(&text, &err)?;
            }
        }
    }
}
