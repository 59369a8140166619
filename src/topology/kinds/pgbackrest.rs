//! pgBackRest: WAL archiving and backups of the PostgreSQL nodes into one repository on a disk
//! of the run that every database node mounts (`[topology.pgbackrest]`). It runs no container
//! of its own: its commands run inside the database nodes (archive-push from PostgreSQL's
//! `archive_command`, stanza-create, check and backup on the leader), so the kind has settings
//! and files but no nodes.

use super::super::kind::{Kind, Naming, Render};
use super::super::{Cluster, Disk, FileSpec, Node, NodeSpec};
use crate::engine;
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

/// The stanza: pgBackRest's name for the cluster it backs up.
pub const STANZA: &str = "firedrill";
/// Where every database node mounts the shared repository.
pub const REPO_PATH: &str = "/var/lib/pgbackrest";
/// pgBackRest's default configuration file, so that a command typed by hand in a node finds it.
pub const CONFIG_PATH: &str = "/etc/pgbackrest/pgbackrest.conf";
/// Where pgBackRest logs each command (`<stanza>-<command>.log`), on the node's own disk.
pub const LOG_PATH: &str = "/var/log/pgbackrest";
/// The shared disk's name in the run.
const REPO_DISK: &str = "pgbackrest-repo";

/// `[topology.pgbackrest]`: a repository, archiving, and how backups are made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PgbackrestSettings {
    /// The repository disk's size in bytes (in memory, like the data disks).
    pub repo_size: u64,
    /// How backups and archived WAL are compressed (`compress-type`).
    pub compress_type: Compress,
    /// Processes a backup or restore uses (`process-max`).
    pub process_max: u32,
    /// PostgreSQL's `archive_timeout`: the longest a written change waits before its WAL
    /// segment is switched and archived. The restore target must lie before the newest archived
    /// WAL, so this bounds how close to a loss a target can be reached.
    #[serde(with = "humantime_serde")]
    pub archive_timeout: Duration,
    /// A full backup at bring-up, before the workload starts (the runbook's starting point);
    /// `false`: the stanza is created and checked, and the scenario's own `backup` steps are
    /// the only backups (a control whose target precedes every backup).
    #[serde(default = "yes")]
    pub initial_backup: bool,
}

fn yes() -> bool {
    true
}

/// pgBackRest's `compress-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compress {
    None,
    Gz,
    Lz4,
    Zst,
    Bz2,
}

impl Compress {
    const ALL: &'static [Compress] = &[
        Compress::None,
        Compress::Gz,
        Compress::Lz4,
        Compress::Zst,
        Compress::Bz2,
    ];

    /// The name in scenario files and pgbackrest.conf.
    pub fn name(self) -> &'static str {
        match self {
            Compress::None => "none",
            Compress::Gz => "gz",
            Compress::Lz4 => "lz4",
            Compress::Zst => "zst",
            Compress::Bz2 => "bz2",
        }
    }
}

impl Settings for PgbackrestSettings {
    const KIND: &'static str = "pgbackrest";
}

/// The backup settings of `topology`, if it backs up.
pub fn settings(topology: &Topology) -> Option<&PgbackrestSettings> {
    topology.settings::<PgbackrestSettings>()
}

/// `[topology.pgbackrest]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawPgbackrest {
    repo_size: Option<Spanned<String>>,
    compress_type: Option<Spanned<String>>,
    process_max: Option<Spanned<i64>>,
    archive_timeout: Option<Spanned<RawDuration>>,
    initial_backup: Option<Spanned<bool>>,
}

/// A 2 GB repository, lz4 (fast, as a drill wants), two processes (the machine's cores), WAL
/// archived at least every 5 s.
fn check(
    input: &SettingsInput<'_>,
    raw: &RawPgbackrest,
) -> Result<PgbackrestSettings, SettingsError> {
    let compress: Vec<(&str, Compress)> = Compress::ALL.iter().map(|&c| (c.name(), c)).collect();
    let repo_size = match &raw.repo_size {
        None => 2 << 30,
        Some(size) => {
            let bytes = crate::scenario::parse_size(size.get_ref()).ok_or_else(|| {
                input.invalid(
                    size.span(),
                    "repo_size",
                    format!(
                        "expected {}, found {:?}",
                        crate::scenario::SIZE_EXPECTED,
                        size.get_ref()
                    ),
                )
            })?;
            if !(64 << 20..=64 << 30).contains(&bytes) {
                return Err(input.invalid(
                    size.span(),
                    "repo_size",
                    format!("expected from 64MB to 64GB, found {:?}", size.get_ref()),
                ));
            }
            bytes
        }
    };
    Ok(PgbackrestSettings {
        repo_size,
        compress_type: input.choice(
            raw.compress_type.as_ref(),
            "compress_type",
            Compress::Lz4,
            &compress,
            "compression",
        )?,
        process_max: input.int(raw.process_max.as_ref(), "process_max", (2, 1, 32))? as u32,
        archive_timeout: input.duration(
            raw.archive_timeout.as_ref(),
            "archive_timeout",
            Duration::from_secs(5),
            Duration::from_secs(1),
        )?,
        initial_backup: raw
            .initial_backup
            .as_ref()
            .is_none_or(|given| *given.get_ref()),
    })
}

/// The pgBackRest kind.
pub struct Pgbackrest;

impl Kind for Pgbackrest {
    fn name(&self) -> &'static str {
        "pgbackrest"
    }

    fn naming(&self) -> Naming {
        Naming::Inside("patroni")
    }

    /// Optional: no backups without a `[topology.pgbackrest]` table.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        match input.table::<RawPgbackrest>()? {
            None => Ok(None),
            Some(raw) => Ok(Some(Box::new(check(input, &raw)?))),
        }
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<PgbackrestSettings>(value)
    }

    /// Its commands run inside the database nodes: none of its own.
    fn count(&self, _topology: &Topology) -> usize {
        0
    }

    fn count_setting(&self) -> &'static str {
        "topology.pgbackrest"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let s = settings(topology)?;
        Some(format!(
            "pgBackRest (repository {}, {} compression, archive_timeout {})",
            crate::scenario::format_size(s.repo_size),
            s.compress_type.name(),
            humantime::format_duration(s.archive_timeout),
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["pgbackrest"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[]
    }

    fn has_disk(&self) -> bool {
        false
    }

    fn specs(&self, _render: &Render<'_>) -> Vec<NodeSpec> {
        Vec::new()
    }
}

/// What a database node of a topology that backs up carries: pgBackRest's configuration file
/// and the shared repository disk.
pub fn node_files(settings: &PgbackrestSettings, data_dir: &str) -> (FileSpec, Disk) {
    (
        FileSpec {
            path: CONFIG_PATH.into(),
            contents: render_config(settings, data_dir),
            mode: 0o644,
        },
        Disk {
            path: REPO_PATH.into(),
            size: settings.repo_size,
            shared: Some(REPO_DISK),
        },
    )
}

/// PostgreSQL's parameters that archive every WAL segment into the repository.
pub fn archive_parameters(settings: &PgbackrestSettings) -> serde_json::Value {
    serde_json::json!({
        "archive_mode": "on",
        "archive_command": format!("pgbackrest --stanza={STANZA} archive-push %p"),
        "archive_timeout": settings.archive_timeout.as_secs(),
    })
}

/// How a node fetches WAL from the repository (recovery and replicas catching up).
pub fn restore_command() -> String {
    format!("pgbackrest --stanza={STANZA} archive-get %f \"%p\"")
}

/// pgbackrest.conf: the repository on the shared disk, the local data directory, logs with
/// timestamps at detail level in the log file (each command's own log is evidence).
pub fn render_config(settings: &PgbackrestSettings, data_dir: &str) -> String {
    format!(
        "[global]\n\
         repo1-path={REPO_PATH}\n\
         repo1-retention-full=4\n\
         log-path={LOG_PATH}\n\
         log-level-console=info\n\
         log-level-file=detail\n\
         log-timestamp=y\n\
         start-fast=y\n\
         compress-type={compress}\n\
         process-max={process_max}\n\
         \n\
         [{STANZA}]\n\
         pg1-path={data_dir}\n\
         pg1-socket-path=/tmp\n\
         pg1-port={port}\n\
         pg1-user=postgres\n",
        compress = settings.compress_type.name(),
        process_max = settings.process_max,
        port = super::patroni::PG_PORT,
    )
}

/// Where a restore recovers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreTo {
    /// A time, as PostgreSQL and pgBackRest read it (`2026-11-28 11:33:41.571982+00`).
    Time(String),
    /// A named restore point (`pg_create_restore_point`).
    Name(String),
}

/// A point-in-time restore as a bootstrapping node runs it: pgBackRest restores the newest
/// backup set that can reach the target, then PostgreSQL replays archived WAL up to it and
/// promotes (or pauses there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restore {
    pub to: RestoreTo,
    /// Promote at the target (a new timeline, writable); `false`: pause there, read-only.
    pub promote: bool,
}

impl Restore {
    fn kind_and_target(&self) -> (&'static str, &str) {
        match &self.to {
            RestoreTo::Time(time) => ("time", time),
            RestoreTo::Name(name) => ("name", name),
        }
    }

    fn action(&self) -> &'static str {
        if self.promote { "promote" } else { "pause" }
    }

    /// The restore command, as Patroni runs it (split as a shell would: the target is quoted).
    /// The type and target choose the backup set; the recovery settings come from
    /// [`Restore::recovery_conf`].
    pub fn command(&self) -> String {
        let (kind, target) = self.kind_and_target();
        format!(
            "pgbackrest --stanza={STANZA} --type={kind} \"--target={target}\" --target-action={} restore",
            self.action()
        )
    }

    /// The recovery settings Patroni writes for the first start, in place of pgBackRest's: with
    /// Patroni's own, a paused recovery really stays paused (with pgBackRest's, Patroni turns
    /// hot standby off for the first start and a pause becomes a shutdown).
    pub fn recovery_conf(&self) -> serde_json::Value {
        let (kind, target) = self.kind_and_target();
        serde_json::json!({
            "restore_command": restore_command(),
            format!("recovery_target_{kind}"): target,
            "recovery_target_action": self.action(),
        })
    }
}

/// One backup set in the repository, as `pgbackrest info` tells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSet {
    /// pgBackRest's label (`20261128-113448F`).
    pub label: String,
    /// `full`, `diff` or `incr`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the backup started and stopped, by the database node's clock (Unix seconds:
    /// pgBackRest keeps whole seconds).
    pub started_unix: u64,
    pub stopped_unix: u64,
    /// The database's size, and what the set added to the repository, in bytes.
    pub size: u64,
    pub repository_delta: u64,
    /// The WAL positions the backup needs, from start to stop.
    pub lsn_start: String,
    pub lsn_stop: String,
}

/// Runs `pgbackrest --stanza=firedrill ARGS` as postgres on `node`, for at most `within`. Its
/// console output on success; on failure what it said, as an error.
pub async fn command(
    cluster: &Cluster,
    node: &Node,
    args: &[&str],
    within: Duration,
) -> Result<String, String> {
    let stanza = format!("--stanza={STANZA}");
    let cmd: Vec<&str> = ["pgbackrest", stanza.as_str()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let what = format!("pgbackrest {} on {}", args.join(" "), node.name);
    let out = engine::exec_within(
        &cluster.docker,
        &node.container,
        Some("postgres"),
        &cmd,
        (within, &what),
    )
    .await?;
    if out.success() {
        return Ok(out.stdout);
    }
    let said = format!("{}\n{}", out.stdout, out.stderr);
    Err(format!(
        "{what} failed (exit {}): {}",
        out.exit_code.map_or("unknown".into(), |c| c.to_string()),
        what_failed(&said)
    ))
}

/// A backup of `kind` (`full`, `diff`, `incr`) taken on `node`; the new set.
pub async fn backup(
    cluster: &Cluster,
    node: &Node,
    kind: &str,
    within: Duration,
) -> Result<BackupSet, String> {
    let type_arg = format!("--type={kind}");
    command(cluster, node, &[type_arg.as_str(), "backup"], within).await?;
    let sets = info(cluster, node, within).await?;
    sets.into_iter().next_back().ok_or_else(|| {
        format!(
            "pgbackrest info on {} lists no backup after a backup",
            node.name
        )
    })
}

/// Every backup set of the stanza, oldest first.
pub async fn info(
    cluster: &Cluster,
    node: &Node,
    within: Duration,
) -> Result<Vec<BackupSet>, String> {
    let json = command(cluster, node, &["--output=json", "info"], within).await?;
    parse_info(&json).map_err(|e| format!("pgbackrest info on {}: {e}", node.name))
}

/// The backup sets of `pgbackrest --output=json info` (one stanza).
pub fn parse_info(json: &str) -> Result<Vec<BackupSet>, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let sets = value[0]["backup"]
        .as_array()
        .ok_or("no backup list in its answer")?;
    sets.iter()
        .map(|set| {
            let text = |v: &serde_json::Value, what: &str| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("a backup set without {what}"))
            };
            let number = |v: &serde_json::Value, what: &str| {
                v.as_u64()
                    .ok_or_else(|| format!("a backup set without {what}"))
            };
            Ok(BackupSet {
                label: text(&set["label"], "label")?,
                kind: text(&set["type"], "type")?,
                started_unix: number(&set["timestamp"]["start"], "timestamp.start")?,
                stopped_unix: number(&set["timestamp"]["stop"], "timestamp.stop")?,
                size: number(&set["info"]["size"], "info.size")?,
                repository_delta: number(
                    &set["info"]["repository"]["delta"],
                    "info.repository.delta",
                )?,
                lsn_start: text(&set["lsn"]["start"], "lsn.start")?,
                lsn_stop: text(&set["lsn"]["stop"], "lsn.stop")?,
            })
        })
        .collect()
}

/// What a failed pgBackRest command said that matters: its `ERROR:` lines and the hints after
/// them, or, when it printed no error line, its last three lines; joined by " / ".
fn what_failed(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let told: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("ERROR:") || l.starts_with("HINT:"))
        .collect();
    match told.iter().any(|l| l.starts_with("ERROR:")) {
        true => told.join(" / "),
        false => lines[lines.len().saturating_sub(3)..].join(" / "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PgbackrestSettings {
        PgbackrestSettings {
            repo_size: 2 << 30,
            compress_type: Compress::Lz4,
            process_max: 2,
            archive_timeout: Duration::from_secs(5),
            initial_backup: true,
        }
    }

    #[test]
    fn the_configuration_names_the_shared_repository_and_the_local_data() {
        let config = render_config(&settings(), "/data/pg");
        for line in [
            "repo1-path=/var/lib/pgbackrest\n",
            "compress-type=lz4\n",
            "process-max=2\n",
            "[firedrill]\npg1-path=/data/pg\n",
            "pg1-socket-path=/tmp\n",
        ] {
            assert!(config.contains(line), "{line:?} in\n{config}");
        }
        let (file, disk) = node_files(&settings(), "/data/pg");
        assert_eq!(file.path, CONFIG_PATH);
        assert_eq!(disk.shared, Some("pgbackrest-repo"));
        assert_eq!(disk.path, REPO_PATH);
    }

    #[test]
    fn reads_the_backup_sets_of_an_info_answer() {
        let json = r#"[{"archive":[],"backup":[
            {"label":"20261128-112831F","type":"full","timestamp":{"start":1795865311,"stop":1795865314},
             "info":{"size":23316005,"delta":23316005,"repository":{"size":4575873,"delta":4575873}},
             "lsn":{"start":"0/6000028","stop":"0/6000138"}},
            {"label":"20261128-112831F_20261128-112857D","type":"diff","timestamp":{"start":1795865337,"stop":1795865339},
             "info":{"size":23316005,"delta":81920,"repository":{"size":4575873,"delta":12345}},
             "lsn":{"start":"0/9000028","stop":"0/9000100"}}],
            "name":"firedrill"}]"#;
        let sets = parse_info(json).unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].label, "20261128-112831F");
        assert_eq!(
            (sets[0].started_unix, sets[0].stopped_unix),
            (1795865311, 1795865314)
        );
        assert_eq!(sets[1].kind, "diff");
        assert_eq!(sets[1].repository_delta, 12345);
        assert_eq!(sets[1].lsn_stop, "0/9000100");
        assert!(parse_info("[{}]").unwrap_err().contains("no backup list"));
        let no_label = r#"[{"backup":[{"type":"full"}]}]"#;
        assert!(parse_info(no_label).unwrap_err().contains("without label"));
    }

    #[test]
    fn archiving_pushes_every_segment_to_the_stanza() {
        let params = archive_parameters(&settings());
        assert_eq!(params["archive_mode"], "on");
        assert_eq!(
            params["archive_command"],
            "pgbackrest --stanza=firedrill archive-push %p"
        );
        assert_eq!(params["archive_timeout"], 5);
        assert_eq!(
            restore_command(),
            "pgbackrest --stanza=firedrill archive-get %f \"%p\""
        );
    }

    #[test]
    fn a_failure_is_told_by_its_error_and_hints() {
        let check = "2026-11-28 14:43:17.151 P00   INFO: check command begin 2.47\n\
            ERROR: [082]: WAL segment 000000010000000000000004 was not archived before the 20000ms timeout\n\
            \x20      HINT: check the archive_command to ensure that all options are correct.\n\
            \x20      HINT: check the PostgreSQL server log for errors.\n\
            2026-11-28 14:43:37.151 P00   INFO: check command end: aborted with exception [082]\n";
        assert_eq!(
            what_failed(check),
            "ERROR: [082]: WAL segment 000000010000000000000004 was not archived before the \
             20000ms timeout / HINT: check the archive_command to ensure that all options are \
             correct. / HINT: check the PostgreSQL server log for errors."
        );
        assert_eq!(
            what_failed("one\n\ntwo\nthree\nfour\n"),
            "two / three / four"
        );
    }
}
