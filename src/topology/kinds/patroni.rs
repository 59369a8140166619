//! PostgreSQL nodes run by Patroni: configuration, and the role probe on its REST API.

use super::super::http_error::http_error_text;
use super::super::kind::{Kind, Naming, Render, RoleReport};
use super::super::{
    Cluster, Disk, FileSpec, Health, Node, NodeSpec, Secret, SecretEnv, Secrets, SecretsAt, Serves,
};
use super::etcd;
use super::patroni_own::{self, OwnSettings, RawOwn, RawTags};
use super::pgbackrest::{self, PgbackrestSettings};
use crate::client::Protocol;
use crate::history::Role;
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

pub const PG_PORT: u16 = 5432;
pub const REST_PORT: u16 = 8008;
pub const SCOPE: &str = "firedrill";
/// Patroni 3.0.4 from PyPI, not Debian bookworm's 3.0.2: with etcd3, 3.0.2 writes the leader key
/// without a condition whenever its lease changed and its view of the key (a watch cache) names
/// itself. An old primary cut off with its etcd member, demoted, and reconnected after the heal
/// before that member had caught up took the key back from the new leader and promoted itself,
/// and the new leader's acknowledged writes were lost (patroni-network-split in CI, 2026-11-29;
/// a leader frozen past ttl did the same). Fixed upstream in 3.0.3 (the key is put in a
/// transaction that compares it first); 3.0.4 is that series' last release.
pub const PATRONI: crate::image::Wheel = crate::image::Wheel {
    name: "patroni",
    version: "3.0.4",
    sha256: "f43f7adcd0b498dd58888cbd4d123a30312e8ddc66bdbf9f400999af2d8d8655",
};

/// Patroni's leader key in etcd (its default namespace `/service`): holds the leader's name.
pub const LEADER_KEY: &str = "/service/firedrill/leader";
/// Every key Patroni keeps for the cluster (leader, members, config, `initialize`...): what a
/// lost cluster loses, so that a restored node bootstraps anew.
pub const CLUSTER_KEYS: &str = "/service/firedrill/";
/// A custom PostgreSQL setting holding the node's name: `current_setting('firedrill.node')`.
pub const NODE_SETTING: &str = "firedrill.node";
/// SQL naming the server that runs it.
pub const THIS_NODE_SQL: &str = "current_setting('firedrill.node')";
const CONFIG_PATH: &str = "/etc/firedrill/patroni.yml";
/// On the node's in-memory disk: bring-up and base backups at memory speed, and no disk stalls
/// in the measurements. (Data on the host's disk showed multi-second write stalls on the new
/// leader after failover on this machine.)
pub const DATA_MOUNT: &str = "/data";
pub const DATA_DIR: &str = "/data/pg";
/// Room for the data directory, WAL included: what a disk-full fault fills.
pub const DISK_SIZE: u64 = 1 << 30;

/// PostgreSQL nodes run by Patroni. Durations are whole seconds (Patroni takes integers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatroniSettings {
    /// Number of PostgreSQL nodes (1..=9), named pg1, pg2, ...
    pub nodes: usize,
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub loop_wait: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_timeout: Duration,
    /// Bytes a replica may lag and still be promoted.
    pub maximum_lag_on_failover: u64,
    pub synchronous_mode: bool,
    /// With `synchronous_mode`: the leader stops accepting writes while no synchronous
    /// replica is connected, rather than going on alone (Patroni's `synchronous_mode_strict`).
    #[serde(default)]
    pub synchronous_mode_strict: bool,
    /// The scenario's own Patroni and PostgreSQL settings (none in records before them).
    #[serde(flatten, default)]
    pub own: OwnSettings,
}

impl Settings for PatroniSettings {
    const KIND: &'static str = "patroni";
}

/// The settings of `topology`'s Patroni nodes, if it has any.
pub fn settings(topology: &Topology) -> Option<&PatroniSettings> {
    topology.settings::<PatroniSettings>()
}

/// `[topology.patroni]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawPatroni {
    nodes: Option<Spanned<i64>>,
    ttl: Option<Spanned<RawDuration>>,
    loop_wait: Option<Spanned<RawDuration>>,
    retry_timeout: Option<Spanned<RawDuration>>,
    maximum_lag_on_failover: Option<Spanned<i64>>,
    synchronous_mode: Option<Spanned<bool>>,
    synchronous_mode_strict: Option<Spanned<bool>>,
    failsafe_mode: Option<Spanned<bool>>,
    primary_start_timeout: Option<Spanned<RawDuration>>,
    synchronous_node_count: Option<Spanned<i64>>,
    use_slots: Option<Spanned<bool>>,
    use_pg_rewind: Option<Spanned<bool>>,
    /// PostgreSQL parameters: name → value.
    parameters: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    /// Node name → its tags.
    tags: Option<BTreeMap<Spanned<String>, Spanned<RawTags>>>,
}

/// Patroni's own defaults (ttl 30 s, loop_wait 10 s, retry_timeout 10 s, 1 MB of lag) and three
/// nodes; loop_wait below ttl, strict only with synchronous_mode.
fn check(input: &SettingsInput<'_>, raw: &RawPatroni) -> Result<PatroniSettings, SettingsError> {
    let nodes = input.count(
        raw.nodes.as_ref(),
        "nodes",
        (3, 1, 9),
        "a drill needs at least one Patroni node",
    )? as usize;
    let ttl = seconds(input, raw.ttl.as_ref(), "ttl", 30)?;
    let loop_wait = seconds(input, raw.loop_wait.as_ref(), "loop_wait", 10)?;
    let retry_timeout = seconds(input, raw.retry_timeout.as_ref(), "retry_timeout", 10)?;
    if loop_wait >= ttl {
        let ttl_text = humantime::format_duration(ttl);
        let loop_wait_text = humantime::format_duration(loop_wait);
        return Err(match (raw.loop_wait.as_ref(), raw.ttl.as_ref()) {
            (Some(given), _) => input.invalid(
                given.span(),
                "loop_wait",
                format!("expected less than ttl ({ttl_text}), found {loop_wait_text}"),
            ),
            // Only the ttl was given, and it is not above the default loop_wait.
            (None, given) => input.invalid(
                given.map_or(0..0, Spanned::span),
                "ttl",
                format!(
                    "expected more than loop_wait ({loop_wait_text}, the default), found \
                     {ttl_text}"
                ),
            ),
        });
    }
    let maximum_lag_on_failover = input.int(
        raw.maximum_lag_on_failover.as_ref(),
        "maximum_lag_on_failover",
        (1_048_576, 0, i64::MAX),
    )? as u64;
    let synchronous_mode = raw
        .synchronous_mode
        .as_ref()
        .is_some_and(|mode| *mode.get_ref());
    let synchronous_mode_strict = match raw.synchronous_mode_strict.as_ref() {
        Some(strict) if *strict.get_ref() && !synchronous_mode => {
            return Err(input.invalid(
                strict.span(),
                "synchronous_mode_strict",
                "expected synchronous_mode = true beside it: strict applies to synchronous \
                 replication only",
            ));
        }
        strict => strict.is_some_and(|s| *s.get_ref()),
    };
    let own = RawOwn {
        failsafe_mode: raw.failsafe_mode.as_ref(),
        primary_start_timeout: raw.primary_start_timeout.as_ref(),
        synchronous_node_count: raw.synchronous_node_count.as_ref(),
        use_slots: raw.use_slots.as_ref(),
        use_pg_rewind: raw.use_pg_rewind.as_ref(),
        parameters: raw.parameters.as_ref(),
        tags: raw.tags.as_ref(),
    };
    Ok(PatroniSettings {
        nodes,
        ttl,
        loop_wait,
        retry_timeout,
        maximum_lag_on_failover,
        synchronous_mode,
        synchronous_mode_strict,
        own: patroni_own::check(input, &own, nodes, synchronous_mode)?,
    })
}

/// A Patroni setting: whole seconds (Patroni takes integers), at least one.
fn seconds(
    input: &SettingsInput<'_>,
    value: Option<&Spanned<RawDuration>>,
    name: &str,
    default_secs: u64,
) -> Result<Duration, SettingsError> {
    let duration = input.duration(
        value,
        name,
        Duration::from_secs(default_secs),
        Duration::ZERO,
    )?;
    if let Some(value) = value.filter(|_| duration.subsec_nanos() != 0) {
        return Err(input.invalid(
            value.span(),
            name,
            format!(
                "expected whole seconds, Patroni takes integers, found {:?}",
                value.get_ref().0
            ),
        ));
    }
    input.duration(
        value,
        name,
        Duration::from_secs(default_secs),
        Duration::from_secs(1),
    )
}

/// The Patroni kind: a PostgreSQL server run by Patroni.
pub struct Patroni;

const NAMING: Naming = Naming::Numbered("pg");

impl Kind for Patroni {
    fn name(&self) -> &'static str {
        "patroni"
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// Always there: the patroni stack's database nodes, with Patroni's defaults when the table
    /// is absent.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        let raw = input.table::<RawPatroni>()?.unwrap_or_default();
        Ok(Some(Box::new(check(input, &raw)?)))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<PatroniSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |s| s.nodes)
    }

    fn count_setting(&self) -> &'static str {
        "topology.patroni.nodes"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        use humantime::format_duration;
        let p = settings(topology)?;
        Some(format!(
            "{} Patroni/PostgreSQL (ttl {}, loop_wait {}, retry_timeout {}, \
             maximum_lag_on_failover {} B, synchronous_mode {}{})",
            p.nodes,
            format_duration(p.ttl),
            format_duration(p.loop_wait),
            format_duration(p.retry_timeout),
            p.maximum_lag_on_failover,
            p.synchronous_mode,
            if p.synchronous_mode_strict {
                ", strict"
            } else {
                ""
            },
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        // Patroni itself is PATRONI's wheel; these are what Debian's patroni package depends on.
        &[
            "postgresql-15",
            "python3-cdiff",
            "python3-click",
            "python3-dateutil",
            "python3-etcd",
            "python3-prettytable",
            "python3-psutil",
            "python3-psycopg2",
            "python3-urllib3",
            "python3-yaml",
        ]
    }

    fn wheels(&self) -> &'static [crate::image::Wheel] {
        &[PATRONI]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("postgresql", PG_VERSION_CMD), ("patroni", VERSION_CMD)]
    }

    fn has_disk(&self) -> bool {
        true
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let Some(settings) = settings(render.topology) else {
            return Vec::new();
        };
        let etcd_members = super::ETCD.kind().count(render.topology);
        let backups = pgbackrest::settings(render.topology);
        specs(settings, etcd_members, render.secrets, backups)
    }

    fn serves(&self) -> Option<Serves> {
        Some(Serves {
            protocol: Protocol::Postgres,
            port: PG_PORT,
            replicas: None,
            tier: None,
        })
    }

    fn database(&self) -> Option<Protocol> {
        Some(Protocol::Postgres)
    }

    /// Patroni's REST API: `GET /patroni`.
    fn self_report<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<RoleReport, String>>> {
        Some(Box::pin(async move {
            let addr = node.host_addr(REST_PORT).ok_or("no published REST port")?;
            probe_patroni(&cluster.http, &addr, timeout).await
        }))
    }
}

pub fn name(i: usize) -> String {
    NAMING.name(i)
}

/// The variables Patroni reads the passwords from when its configuration file has none
/// (Patroni's own: they take precedence over the file).
const PASSWORD_ENV: [SecretEnv; 3] = [
    SecretEnv {
        var: "PATRONI_SUPERUSER_PASSWORD",
        secret: Secret::Superuser,
    },
    SecretEnv {
        var: "PATRONI_REPLICATION_PASSWORD",
        secret: Secret::Replication,
    },
    SecretEnv {
        var: "PATRONI_REWIND_PASSWORD",
        secret: Secret::Rewind,
    },
];

/// PostgreSQL runs (Patroni's `GET /health` answers 200), asked from inside the container. A
/// replica cloning its leader takes a while: failures count after a minute.
fn health() -> Health {
    Health {
        command: format!("curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:{REST_PORT}/health"),
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
        retries: 3,
        start_period: Duration::from_secs(60),
    }
}

/// `backups`: the topology backs up with pgBackRest; each node then carries its configuration
/// and mounts the shared repository. With `SecretsAt::Env` the configuration holds no password
/// and Patroni reads them from its environment.
fn specs(
    spec: &PatroniSettings,
    etcd_members: usize,
    secrets: SecretsAt<'_>,
    backups: Option<&PgbackrestSettings>,
) -> Vec<NodeSpec> {
    (1..=spec.nodes)
        .map(|i| {
            let me = name(i);
            let mut files = vec![FileSpec {
                path: CONFIG_PATH.into(),
                contents: render_config(
                    &me,
                    bootstraps(&me),
                    spec,
                    etcd_members,
                    secrets.in_files(),
                    backups,
                ),
                mode: 0o644,
            }];
            let mut disks = vec![Disk {
                path: DATA_MOUNT.into(),
                size: DISK_SIZE,
                shared: None,
            }];
            if let Some(backups) = backups {
                let (file, disk) = pgbackrest::node_files(backups, DATA_DIR);
                files.push(file);
                disks.push(disk);
            }
            NodeSpec {
                name: me.clone(),
                kind: super::PATRONI,
                image: None,
                cmd: once_etcd_serves(
                    &etcd::client_hosts(etcd_members),
                    vec!["patroni".into(), CONFIG_PATH.into()],
                ),
                user: Some("postgres".into()),
                files,
                ports: vec![PG_PORT, REST_PORT],
                fixed_ports: vec![],
                cap_add: vec!["NET_ADMIN".into()],
                disks,
                secret_env: match secrets {
                    SecretsAt::Files(_) => vec![],
                    SecretsAt::Env => PASSWORD_ENV.to_vec(),
                },
                env: vec![],
                health: Some(health()),
            }
        })
        .collect()
}

/// `patroni` started once an etcd member serves. Patroni asks etcd for its members as it
/// starts and, when none answers yet, logs "waiting on etcd" and asks again 5 s later: 5 s of
/// a bring-up whenever its first question came before etcd's first election (seen: asked 12 ms
/// before etcd was ready, answered 5.2 s later). A node with data (restarted) does not wait,
/// nor does any node more than 10 s, after which Patroni's own retries take over.
fn once_etcd_serves(hosts: &[String], patroni: Vec<String>) -> Vec<String> {
    if hosts.is_empty() {
        return patroni;
    }
    let script = format!(
        "[ -d {DATA_DIR} ] || for _ in $(seq 200); do for h in {}; do \
         curl -fsS --max-time 1 \"http://$h/health\" 2>/dev/null | grep -q '\"health\":\"true\"' \
         && break 2; done; sleep 0.05; done; exec \"$@\"",
        hosts.join(" ")
    );
    ["sh".into(), "-c".into(), script, "patroni-start".into()]
        .into_iter()
        .chain(patroni)
        .collect()
}

/// The node that initializes the cluster at bring-up (the first): every run begins with the
/// same leader, so a seed repeats a run's choices.
pub fn bootstraps(node: &str) -> bool {
    node == name(1)
}

/// Patroni's configuration. Rendered as JSON, which is YAML too: no template to get wrong.
/// Without `secrets` it names the users but holds no password (Patroni then reads them from
/// `PASSWORD_ENV`). Only a node that `may_bootstrap` carries the `bootstrap` section: Patroni
/// never initializes a new cluster on a node without one, it waits for a leader and clones it,
/// so the other nodes can start beside the bootstrapping one without racing it.
pub fn render_config(
    me: &str,
    may_bootstrap: bool,
    spec: &PatroniSettings,
    etcd_members: usize,
    secrets: Option<&Secrets>,
    backups: Option<&PgbackrestSettings>,
) -> String {
    let user = |name: &str, password: fn(&Secrets) -> &str| match secrets {
        Some(secrets) => json!({ "username": name, "password": password(secrets) }),
        None => json!({ "username": name }),
    };
    let mut config = json!({
        "scope": SCOPE,
        "name": me,
        "restapi": {
            "listen": format!("0.0.0.0:{REST_PORT}"),
            "connect_address": format!("{me}:{REST_PORT}"),
        },
        "etcd3": { "hosts": etcd::client_hosts(etcd_members) },
        "bootstrap": {
            "dcs": {
                "ttl": spec.ttl.as_secs(),
                "loop_wait": spec.loop_wait.as_secs(),
                "retry_timeout": spec.retry_timeout.as_secs(),
                "maximum_lag_on_failover": spec.maximum_lag_on_failover,
                "synchronous_mode": spec.synchronous_mode,
                "synchronous_mode_strict": spec.synchronous_mode_strict,
                "postgresql": {
                    "use_pg_rewind": true,
                    "use_slots": true,
                    "parameters": {
                        "wal_level": "replica",
                        "hot_standby": "on",
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "wal_log_hints": "on",
                        "max_connections": 200,
                    },
                },
            },
            // initdb's closing fsync of every file guards against a machine crash during
            // bootstrap, which a drill never rehearses; it costs seconds of bring-up on disk.
            "initdb": [{ "encoding": "UTF8" }, "data-checksums", "no-sync"],
            "post_bootstrap": replica_slots(me, spec.nodes),
        },
        "postgresql": {
            "listen": format!("0.0.0.0:{PG_PORT}"),
            "connect_address": format!("{me}:{PG_PORT}"),
            "data_dir": DATA_DIR,
            "bin_dir": "/usr/lib/postgresql/15/bin",
            "pgpass": "/tmp/pgpass",
            // A replica clones with an immediate checkpoint on the leader (as Patroni's own
            // documentation shows), not a spread one: with the default, each clone at bring-up
            // or rejoin waits about a second for a checkpoint of a handful of pages.
            "basebackup": [{ "checkpoint": "fast" }],
            "authentication": {
                "superuser": user("postgres", |s| &s.superuser),
                "replication": user("replicator", |s| &s.replication),
                "rewind": user("rewinder", |s| &s.rewind),
            },
            // md5, not SCRAM: a reconnect storm of the harness's own clients must not cost
            // 4096 PBKDF2 rounds per connection on either side.
            "parameters": {
                // Each server names itself, so a write can return which node accepted it even
                // after a restart has given the container a new address.
                NODE_SETTING: me,
                "unix_socket_directories": "/tmp",
                "password_encryption": "md5",
            },
            "pg_hba": [
                "local all all trust",
                "host replication replicator all md5",
                "host all all all md5",
            ],
        },
    });
    patroni_own::apply(&mut config, me, &spec.own);
    if spec.own.use_slots == Some(false) {
        // no slots made at bootstrap that nobody would use or drop: they would keep WAL forever
        if let Some(bootstrap) = config["bootstrap"].as_object_mut() {
            bootstrap.remove("post_bootstrap");
        }
    }
    if let Some(backups) = backups {
        with_archiving(&mut config, backups);
    }
    if !may_bootstrap && let Some(config) = config.as_object_mut() {
        config.remove("bootstrap");
    }
    serde_json::to_string_pretty(&config).expect("a json value always serialises")
}

/// Patroni's `post_bootstrap` command (it appends the connection URL): the other members'
/// replication slots, created before the leader's first loop would (`use_slots`). A replica
/// cloned with a fast checkpoint starts streaming within a second of the bootstrap, asks for
/// its slot, and when it is not there yet retries only after `wal_retrieve_retry_interval`
/// (5 s). Idempotent, as a restore's bootstrap may find slots already there.
fn replica_slots(me: &str, nodes: usize) -> String {
    let others = (1..=nodes)
        .map(name)
        .filter(|other| other != me)
        .map(|other| format!("'{other}'"))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "/usr/lib/postgresql/15/bin/psql -qAt -c \"SELECT pg_create_physical_replication_slot(s, \
         true) FROM unnest(ARRAY[{others}]::text[]) AS s WHERE s NOT IN (SELECT slot_name FROM \
         pg_replication_slots)\""
    )
}

/// Archiving into pgBackRest's repository, set in each node's own parameters (not the DCS's,
/// so that a node restored from a backup archives before it has read the DCS), WAL fetched
/// from the repository during recovery, and 1 MB WAL segments: `archive_timeout` switches to
/// a new segment however little was written, and 16 MB ones would fill the in-memory data disk
/// between checkpoints.
fn with_archiving(config: &mut serde_json::Value, backups: &PgbackrestSettings) {
    let postgresql = &mut config["postgresql"];
    if let (Some(parameters), Some(archive)) = (
        postgresql["parameters"].as_object_mut(),
        pgbackrest::archive_parameters(backups).as_object(),
    ) {
        parameters.extend(archive.clone());
    }
    postgresql["recovery_conf"] = json!({ "restore_command": pgbackrest::restore_command() });
    if let Some(initdb) = config["bootstrap"]["initdb"].as_array_mut() {
        initdb.push(json!({ "wal-segsize": "1" }));
    }
}

/// The configuration of a node that bootstraps a new cluster by restoring a backup
/// (Patroni's custom bootstrap, run only while the store holds no `initialize` key for the
/// cluster): the node's own configuration with `restore` as its bootstrap method.
pub fn render_restore_config(
    me: &str,
    topology: &Topology,
    secrets: &Secrets,
    restore: &pgbackrest::Restore,
) -> Option<String> {
    let spec = settings(topology)?;
    let backups = pgbackrest::settings(topology)?;
    let etcd_members = super::ETCD.kind().count(topology);
    let rendered = render_config(me, true, spec, etcd_members, Some(secrets), Some(backups));
    let mut config: serde_json::Value = serde_json::from_str(&rendered).ok()?;
    config["bootstrap"]["method"] = json!("pgbackrest");
    config["bootstrap"]["pgbackrest"] = json!({
        "command": restore.command(),
        // Patroni's recovery settings replace pgBackRest's (see `Restore::recovery_conf`).
        "keep_existing_recovery_conf": false,
        "recovery_conf": restore.recovery_conf(),
        // Otherwise Patroni appends --scope and --datadir, which pgBackRest does not take.
        "no_params": true,
    });
    serde_json::to_string_pretty(&config).ok()
}

/// Where a node's configuration file is.
pub const CONFIG_FILE: &str = CONFIG_PATH;

/// Asks a node's Patroni for its role (`GET /patroni`).
pub async fn probe_patroni(
    http: &reqwest::Client,
    rest_addr: &str,
    timeout: Duration,
) -> Result<RoleReport, String> {
    status(http, rest_addr, timeout).await.map(|s| s.report)
}

/// What a node's Patroni says of it (`GET /patroni`).
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub report: RoleReport,
    /// Replay paused (`xlog.paused`): a recovery that stopped at its target without promoting.
    pub paused: bool,
}

/// Asks a node's Patroni for its status (`GET /patroni`).
pub async fn status(
    http: &reqwest::Client,
    rest_addr: &str,
    timeout: Duration,
) -> Result<Status, String> {
    let response = http
        .get(format!("http://{rest_addr}/patroni"))
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| http_error_text(&e))?;
    // Patroni answers 503 for a node that is not running but still returns its status body.
    let body: serde_json::Value = response.json().await.map_err(|e| http_error_text(&e))?;
    let role = match body["role"].as_str().unwrap_or("") {
        "master" | "primary" if body["state"] == "running" => Role::Leader,
        "replica" | "standby_leader" | "sync_standby" => Role::Replica,
        _ => Role::Other,
    };
    let report = RoleReport {
        role,
        state: body["state"].as_str().unwrap_or("unknown").to_string(),
        epoch: body["timeline"]
            .as_u64()
            .and_then(|t| u32::try_from(t).ok()),
        position: body["xlog"]["location"]
            .as_u64()
            .or_else(|| body["xlog"]["received_location"].as_u64()),
        replayed: body["xlog"]["replayed_location"].as_u64(),
        streaming: body["replication"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["state"] == "streaming")
            .filter_map(|r| r["application_name"].as_str().map(str::to_string))
            // A base backup cloning a new replica streams too; it is no replica yet.
            .filter(|name| name != "pg_basebackup")
            .collect(),
    };
    Ok(Status {
        report,
        paused: body["xlog"]["paused"].as_bool().unwrap_or(false),
    })
}

pub const VERSION_CMD: &[&str] = &["patroni", "--version"];
pub const PG_VERSION_CMD: &[&str] = &["postgres", "--version"];

#[cfg(test)]
mod tests {
    use super::*;

    /// The drills' usual timings (ttl 10 s, loop_wait 2 s, retry_timeout 3 s, 1 MiB lag).
    fn settings(nodes: usize, synchronous: bool) -> PatroniSettings {
        PatroniSettings {
            nodes,
            ttl: Duration::from_secs(10),
            loop_wait: Duration::from_secs(2),
            retry_timeout: Duration::from_secs(3),
            maximum_lag_on_failover: 1 << 20,
            synchronous_mode: synchronous,
            synchronous_mode_strict: synchronous,
            own: OwnSettings::default(),
        }
    }

    /// Patroni starts once an etcd member's health endpoint says so, asking every member in
    /// turn: run with a stand-in `curl` that answers healthy on its third call.
    #[test]
    fn patroni_starts_once_an_etcd_member_serves() {
        let cmd = once_etcd_serves(
            &["etcd1:2379".into(), "etcd2:2379".into()],
            vec!["echo".into(), "started".into()],
        );
        assert_eq!(cmd[..2], ["sh", "-c"]);
        assert!(cmd[2].starts_with("[ -d /data/pg ] ||"), "{}", cmd[2]);
        let bin = tempfile::tempdir().unwrap();
        let calls = bin.path().join("calls");
        let curl = bin.path().join("curl");
        std::fs::write(
            &curl,
            format!(
                "#!/bin/sh\necho \"$4\" >> {0}\n[ $(wc -l < {0}) -ge 3 ] && echo '{{\"health\":\"true\"}}'\nexit 0\n",
                calls.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&curl, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let path = format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap()
        );
        let out = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .env("PATH", path)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n");
        let asked = std::fs::read_to_string(&calls).unwrap();
        assert_eq!(
            asked.lines().collect::<Vec<_>>(),
            [
                "http://etcd1:2379/health",
                "http://etcd2:2379/health",
                "http://etcd1:2379/health"
            ]
        );
        assert_eq!(once_etcd_serves(&[], vec!["patroni".into()]), ["patroni"]);
    }

    #[test]
    fn config_carries_the_scenario_timings_and_is_valid_json() {
        let spec = settings(3, true);
        let secrets = Secrets::generate();
        let text = render_config("pg1", true, &spec, 3, Some(&secrets), None);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["name"], "pg1");
        assert_eq!(v["bootstrap"]["dcs"]["ttl"], 10);
        assert_eq!(v["bootstrap"]["dcs"]["loop_wait"], 2);
        assert_eq!(v["bootstrap"]["dcs"]["retry_timeout"], 3);
        assert_eq!(v["bootstrap"]["dcs"]["synchronous_mode"], true);
        assert_eq!(v["bootstrap"]["dcs"]["synchronous_mode_strict"], true);
        assert_eq!(
            v["etcd3"]["hosts"],
            json!(["etcd1:2379", "etcd2:2379", "etcd3:2379"])
        );
        assert_eq!(
            v["postgresql"]["authentication"]["superuser"]["password"],
            secrets.superuser.as_str()
        );
    }

    /// Only the first node may initialize the cluster: the others start beside it and wait
    /// for its leadership to clone it.
    #[test]
    fn only_the_first_node_can_bootstrap() {
        let secrets = Secrets::generate();
        let with_bootstrap: Vec<String> =
            specs(&settings(3, false), 3, SecretsAt::Files(&secrets), None)
                .iter()
                .filter(|spec| {
                    let v: serde_json::Value =
                        serde_json::from_str(&spec.files[0].contents).unwrap();
                    v.get("bootstrap").is_some()
                })
                .map(|spec| spec.name.clone())
                .collect();
        assert_eq!(with_bootstrap, ["pg1"]);
    }

    /// The bootstrap creates the other members' slots, only theirs and only when missing, and
    /// replicas clone with a fast checkpoint.
    #[test]
    fn the_bootstrap_creates_the_replicas_slots_and_clones_checkpoint_fast() {
        let spec = settings(3, false);
        let v: serde_json::Value =
            serde_json::from_str(&render_config("pg1", true, &spec, 3, None, None)).unwrap();
        let command = v["bootstrap"]["post_bootstrap"].as_str().unwrap();
        assert!(
            command.starts_with("/usr/lib/postgresql/15/bin/psql "),
            "{command}"
        );
        assert!(command.contains("ARRAY['pg2','pg3']::text[]"), "{command}");
        assert!(command.contains("NOT IN (SELECT slot_name FROM pg_replication_slots)"));
        assert_eq!(
            v["postgresql"]["basebackup"],
            json!([{ "checkpoint": "fast" }])
        );
        // A single node has no replica: an empty list, still valid SQL.
        assert!(replica_slots("pg1", 1).contains("ARRAY[]::text[]"));
    }
}
