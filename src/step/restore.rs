//! restore: the runbook's test 4 after a lost cluster. One node bootstraps a new cluster from
//! the run's pgBackRest repository, to the target an earlier `target` step marked (its time, or
//! its named restore point): Patroni's custom bootstrap runs `pgbackrest restore`, PostgreSQL
//! replays archived WAL up to the target and promotes, Patroni takes the leader key. Then the
//! other PostgreSQL nodes start again and clone themselves from the new leader.
//!
//! The step is done when the restored node leads. It fails, with what the system said, when
//! pgBackRest refuses (no backup set can reach the target), when PostgreSQL cannot reach the
//! target (WAL missing from the archive), or when recovery pauses at the target instead of
//! promoting: a restore that did not complete, never downtime that never ends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Action, Context, Done, StepError, TargetMark};
use crate::fault::{Key, KeyForm};
use crate::scenario::{KeyError, StepInput, Topology};
use crate::topology::kinds::pgbackrest::{self, Restore, RestoreTo};
use crate::topology::kinds::{PATRONI, patroni};
use crate::topology::{FileSpec, Node, RoleReport};

pub struct RestoreCluster;

/// Which node restores, and whether recovery promotes at the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreParams {
    pub node: String,
    pub target_action: TargetAction,
}

/// What recovery does at the target (PostgreSQL's `recovery_target_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetAction {
    Promote,
    Pause,
}

impl TargetAction {
    fn name(self) -> &'static str {
        match self {
            TargetAction::Promote => "promote",
            TargetAction::Pause => "pause",
        }
    }
}

/// How often the restoring node is looked at.
const POLL: Duration = Duration::from_millis(200);

impl Action for RestoreCluster {
    type Params = RestoreParams;
    const NAME: &'static str = super::RESTORE;
    const SUMMARY: &'static str = "a node bootstraps a new cluster from the repository, to the \
         last `target` step (its time, or its restore point), then the other PostgreSQL nodes \
         clone it: `node` (pg1 by default), `target_action` promote (default) or pause";
    const KEYS: &'static [Key] = &[
        Key {
            name: "node",
            form: KeyForm::Text,
        },
        Key {
            name: "target_action",
            form: KeyForm::Text,
        },
    ];

    fn params(input: &mut StepInput<'_>) -> Result<RestoreParams, KeyError> {
        let node = match input.text("node") {
            None => patroni::name(1),
            Some(node) => {
                if input.kind_of(node.get_ref()) != Some(PATRONI.name()) {
                    return Err(input.invalid(
                        node.span(),
                        "node",
                        format!(
                            "expected a PostgreSQL node to restore on ({}), found {:?}",
                            input.patroni_names(),
                            node.get_ref()
                        ),
                    ));
                }
                node.into_inner()
            }
        };
        let target_action = match input.text("target_action") {
            None => TargetAction::Promote,
            Some(action) => match action.get_ref().as_str() {
                "promote" => TargetAction::Promote,
                "pause" => TargetAction::Pause,
                other => {
                    return Err(input.invalid(
                        action.span(),
                        "target_action",
                        format!("unknown target action {other:?}, expected one of: promote, pause"),
                    ));
                }
            },
        };
        Ok(RestoreParams {
            node,
            target_action,
        })
    }

    fn lacks(topology: &Topology) -> Option<String> {
        pgbackrest::settings(topology).is_none().then(|| {
            "a restore needs a repository to restore from: [topology.pgbackrest] is not set"
                .to_owned()
        })
    }

    async fn run(ctx: Context<'_>, params: &RestoreParams) -> Result<Done, StepError> {
        let cluster = ctx.cluster;
        let mark = ctx
            .earlier
            .iter()
            .rev()
            .find_map(TargetMark::of)
            .ok_or_else(|| StepError::failed("no target was marked before the restore"))?;
        let restore = Restore {
            to: match &mark.restore_point {
                Some(name) => RestoreTo::Name(name.clone()),
                None => RestoreTo::Time(pg_time(&mark.target_time)?),
            },
            promote: params.target_action == TargetAction::Promote,
        };
        let node = cluster
            .node(&params.node)
            .cloned()
            .ok_or_else(|| StepError::Harness(format!("no node {}", params.node)))?;
        ctx.ensure_owned(&node).await?;
        let config =
            patroni::render_restore_config(&node.name, ctx.topology, &cluster.secrets, &restore)
                .ok_or_else(|| StepError::Harness("no Patroni or pgBackRest settings".into()))?;
        cluster
            .write_files(
                &node,
                &[FileSpec {
                    path: patroni::CONFIG_FILE.into(),
                    contents: config,
                    mode: 0o644,
                }],
            )
            .await
            .map_err(StepError::Harness)?;
        let since = unix_now();
        let started = ctx.clock.now();
        cluster
            .docker
            .start_container(&node.container, None)
            .await
            .map_err(|e| StepError::Harness(format!("start {}: {e}", node.name)))?;

        let report = wait_led(ctx, &node, since).await?;
        let led = ctx.clock.now();
        let log = cluster.log_since(&node, since).await;
        let facts = RestoreLog::read(&log);

        // The others clone the new leader: empty data, the cluster initialized in the store.
        let others: Vec<Node> = cluster
            .nodes_of(PATRONI)
            .filter(|n| n.name != node.name)
            .cloned()
            .collect();
        for other in &others {
            ctx.ensure_owned(other).await?;
            cluster
                .docker
                .start_container(&other.container, None)
                .await
                .map_err(|e| StepError::Harness(format!("start {}: {e}", other.name)))?;
        }

        let mut detail = format!(
            "{} restored {} to {} and leads on timeline {}",
            node.name,
            facts.backup_set.as_deref().unwrap_or("a backup set"),
            describe(&restore.to),
            report.epoch.map_or("?".into(), |t| t.to_string()),
        );
        if let Some(last) = &facts.last_completed {
            detail.push_str(&format!("; last transaction applied at {last}"));
        }
        let rejoining: Vec<&str> = others.iter().map(|n| n.name.as_str()).collect();
        if !rejoining.is_empty() {
            detail.push_str(&format!("; {} started to rejoin", rejoining.join(", ")));
        }
        Ok(Done::new(detail)
            .during(started, led)
            .value("node", &node.name)
            .value("target_type", restore_type(&restore.to))
            .value("target", target_text(&restore.to))
            .value("target_step_time", &mark.target_time)
            .value("target_action", params.target_action.name())
            .value("backup_set", &facts.backup_set)
            .value("restore_command_ms", facts.restore_ms)
            .value("stopped_before", &facts.stopped_before)
            .value("last_completed", &facts.last_completed)
            .value("target_reached_time", &facts.target_reached_time)
            .value("promoted_time", &facts.promoted_time)
            .value("timeline", report.epoch)
            .value("rejoining", &rejoining))
    }

    fn schedule_note(params: &RestoreParams) -> String {
        match params.target_action {
            TargetAction::Promote => format!(" on {}", params.node),
            TargetAction::Pause => format!(" on {}, pausing at the target", params.node),
        }
    }
}

/// Waits until `node` leads; fails when its container stops (pgBackRest refused, PostgreSQL
/// could not reach the target: Patroni gives up and exits) or when recovery pauses at the
/// target, with what the node said.
async fn wait_led(ctx: Context<'_>, node: &Node, since: i64) -> Result<RoleReport, StepError> {
    let cluster = ctx.cluster;
    let rest = node
        .host_addr(patroni::REST_PORT)
        .ok_or_else(|| StepError::Harness(format!("{} publishes no REST port", node.name)))?;
    loop {
        if let Some(code) = cluster.exited(node).await? {
            let log = cluster.log_since(node, since).await;
            return Err(StepError::failed(format!(
                "{} stopped (exit {code}) without leading: {}",
                node.name,
                RestoreLog::read(&log).why_not()
            )));
        }
        if let Ok(status) = patroni::status(&cluster.http, &rest, Duration::from_secs(1)).await {
            if status.paused {
                let log = cluster.log_since(node, since).await;
                let reached = RestoreLog::read(&log)
                    .last_completed
                    .map(|t| format!(" (last transaction applied at {t})"))
                    .unwrap_or_default();
                return Err(StepError::failed(format!(
                    "recovery paused at the target on {}{reached}: read-only, not promoted, no \
                     leader; the restore did not complete",
                    node.name
                )));
            }
            if status.report.leads() {
                return Ok(status.report);
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// What the restoring node's log says of the restore, each line as PostgreSQL, pgBackRest and
/// Patroni wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreLog {
    /// `repo1: restore backup set 20261128-113333F, recovery will start at …`.
    pub backup_set: Option<String>,
    /// `restore command end: completed successfully (647ms)`.
    pub restore_ms: Option<u64>,
    /// pgBackRest's error (`ERROR: [075]: unable to find backup set with stop time less than …`).
    pub pgbackrest_error: Option<String>,
    /// `recovery stopping before commit of transaction 1329, time 2026-11-28 11:33:41.587342+00`:
    /// the first transaction not applied, and its commit time.
    pub stopped_before: Option<String>,
    /// `last completed transaction was at log time 2026-11-28 11:33:41.56558+00`.
    pub last_completed: Option<String>,
    /// PostgreSQL's own FATAL (`recovery ended before configured recovery target was reached`).
    pub fatal: Option<String>,
    /// `shutdown at recovery target`: a pause that became a shutdown.
    pub shut_down_at_target: bool,
    /// When PostgreSQL logged reaching the target (`recovery stopping …`) and finishing its
    /// promotion (`archive recovery complete`), RFC 3339: its log's own timestamps, on the
    /// host's clock like every container's.
    pub target_reached_time: Option<String>,
    pub promoted_time: Option<String>,
}

impl RestoreLog {
    pub fn read(log: &str) -> RestoreLog {
        let mut facts = RestoreLog::default();
        // Every FATAL with the PID that wrote it: clients refused while the server starts (the
        // probes, the workload, Patroni) write FATAL lines too, some about recovery ("the
        // database system is in recovery mode"); the restore's own is the startup process's,
        // whose PID the postmaster names when it exits.
        let mut fatals: Vec<(Option<&str>, &str)> = Vec::new();
        let mut startup_pid = None;
        for line in log.lines() {
            if let Some(rest) = after(line, "restore backup set ") {
                facts.backup_set = rest.split(',').next().map(str::to_owned);
            }
            if let Some(rest) = after(line, "restore command end: completed successfully (") {
                facts.restore_ms = rest.strip_suffix("ms)").and_then(|n| n.parse().ok());
            }
            if let Some(rest) = after(line, "ERROR: [") {
                facts.pgbackrest_error = Some(format!("ERROR: [{rest}"));
            }
            if let Some(rest) = after(line, "recovery stopping before ") {
                facts.stopped_before = Some(rest.to_owned());
            }
            if line.contains("LOG:  recovery stopping ") {
                facts.target_reached_time = log_time(line);
            }
            if line.contains("LOG:  archive recovery complete") {
                facts.promoted_time = log_time(line);
            }
            if let Some(rest) = after(line, "last completed transaction was at log time ") {
                facts.last_completed = Some(rest.to_owned());
            }
            if let Some(rest) = after(line, "FATAL:  ") {
                fatals.push((log_pid(line), rest));
            }
            if let Some(rest) = after(line, "startup process (PID ") {
                startup_pid = rest.split(')').next();
            }
            if line.contains("shutdown at recovery target") {
                facts.shut_down_at_target = true;
            }
        }
        let startup_fatal = startup_pid.and_then(|pid| {
            fatals
                .iter()
                .rev()
                .find(|(by, _)| *by == Some(pid))
                .map(|(_, fatal)| *fatal)
        });
        // Without the exit line (a log cut short), the last FATAL about recovery that is not a
        // refused client's, else the last that is not a refused client's.
        let own = || {
            let own: Vec<&str> = fatals
                .iter()
                .map(|(_, fatal)| *fatal)
                .filter(|fatal| !CLIENT_FATALS.iter().any(|noise| fatal.starts_with(noise)))
                .collect();
            own.iter()
                .rev()
                .find(|fatal| fatal.contains("recovery"))
                .or(own.last())
                .copied()
        };
        facts.fatal = startup_fatal.or_else(own).map(str::to_owned);
        facts
    }

    /// Why a restore that stopped did not lead, as the node said it.
    pub fn why_not(&self) -> String {
        if let Some(error) = &self.pgbackrest_error {
            return format!("pgBackRest refused: {error}");
        }
        if self.shut_down_at_target {
            return "PostgreSQL shut down at the recovery target instead of promoting".into();
        }
        if let Some(fatal) = &self.fatal {
            let reached = self
                .last_completed
                .as_ref()
                .map(|t| format!(" (last transaction applied at {t})"))
                .unwrap_or_default();
            return format!("PostgreSQL: {fatal}{reached}");
        }
        "the log names no reason".into()
    }
}

/// The timestamp PostgreSQL's default `log_line_prefix` starts a line with (`2026-11-28
/// 11:34:00.636 UTC [58] LOG: …`), as RFC 3339.
fn log_time(line: &str) -> Option<String> {
    let stamp = line.get(..27)?;
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.3f UTC").ok()?;
    Some(
        time.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
    )
}

/// The PID in PostgreSQL's default `log_line_prefix` (`… UTC [56] FATAL: …`).
fn log_pid(line: &str) -> Option<&str> {
    let rest = after(line, " UTC [")?;
    rest.split(']').next()
}

/// FATAL lines PostgreSQL writes for refused clients, not for its own failure.
const CLIENT_FATALS: &[&str] = &[
    "the database system is starting up",
    "the database system is in recovery mode",
    "the database system is not accepting connections",
    "the database system is shutting down",
    "the database system is not yet accepting connections",
    "no pg_hba.conf entry",
    "password authentication failed",
    "terminating connection",
];

/// What follows `needle` in `line`, trimmed.
fn after<'a>(line: &'a str, needle: &str) -> Option<&'a str> {
    line.find(needle)
        .map(|at| line[at + needle.len()..].trim_end())
}

/// An RFC 3339 time (`2026-11-28T12:03:04.072669+00:00`) as PostgreSQL and pgBackRest both
/// read a target (`2026-11-28 12:03:04.072669+00`).
fn pg_time(rfc3339: &str) -> Result<String, StepError> {
    let time = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map_err(|e| StepError::Harness(format!("target time {rfc3339:?}: {e}")))?;
    Ok(time
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%d %H:%M:%S%.6f+00")
        .to_string())
}

fn restore_type(to: &RestoreTo) -> &'static str {
    match to {
        RestoreTo::Time(_) => "time",
        RestoreTo::Name(_) => "name",
    }
}

fn target_text(to: &RestoreTo) -> &str {
    match to {
        RestoreTo::Time(text) | RestoreTo::Name(text) => text,
    }
}

fn describe(to: &RestoreTo) -> String {
    match to {
        RestoreTo::Time(time) => format!("the target time {time}"),
        RestoreTo::Name(name) => format!("the restore point {name:?}"),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_that_led_tells_its_set_its_duration_and_the_point_reached() {
        let log = "\
2026-11-28 11:33:59,326 INFO: Running custom bootstrap script: pgbackrest --stanza=firedrill restore
2026-11-28 11:33:59.369 P00   INFO: repo1: restore backup set 20261128-113333F, recovery will start at 2026-11-28 11:33:33
2026-11-28 11:34:00.002 P00   INFO: restore command end: completed successfully (647ms)
2026-11-28 11:34:00.636 UTC [58] LOG:  recovery stopping before commit of transaction 1329, time 2026-11-28 11:33:41.587342+00
2026-11-28 11:34:00.636 UTC [58] LOG:  last completed transaction was at log time 2026-11-28 11:33:41.56558+00
2026-11-28 11:34:00.709 UTC [58] LOG:  archive recovery complete
";
        let facts = RestoreLog::read(log);
        assert_eq!(facts.backup_set.as_deref(), Some("20261128-113333F"));
        assert_eq!(facts.restore_ms, Some(647));
        assert_eq!(
            facts.stopped_before.as_deref(),
            Some("commit of transaction 1329, time 2026-11-28 11:33:41.587342+00")
        );
        assert_eq!(
            facts.last_completed.as_deref(),
            Some("2026-11-28 11:33:41.56558+00")
        );
        assert_eq!(facts.pgbackrest_error, None);
        assert_eq!(
            facts.target_reached_time.as_deref(),
            Some("2026-11-28T11:34:00.636+00:00")
        );
        assert_eq!(
            facts.promoted_time.as_deref(),
            Some("2026-11-28T11:34:00.709+00:00")
        );
    }

    #[test]
    fn a_restore_that_stopped_says_why_in_the_system_s_words() {
        let refused = RestoreLog::read(
            "ERROR: [075]: unable to find backup set with stop time less than '2026-11-28 11:38:45.045702+00'\n\
             2026-11-28 11:39:14.506 P00   INFO: restore command end: aborted with exception [075]\n",
        );
        assert_eq!(
            refused.why_not(),
            "pgBackRest refused: ERROR: [075]: unable to find backup set with stop time less \
             than '2026-11-28 11:38:45.045702+00'"
        );
        // Clients refused during the startup write FATAL lines before and after the restore's.
        let unreached = RestoreLog::read(
            "2026-11-28 11:41:21.100 UTC [60] FATAL:  the database system is starting up\n\
             2026-11-28 11:41:21.174 UTC [56] LOG:  last completed transaction was at log time 2026-11-28 11:40:38.240016+00\n\
             2026-11-28 11:41:21.174 UTC [56] FATAL:  recovery ended before configured recovery target was reached\n\
             2026-11-28 11:41:21.176 UTC [50] LOG:  startup process (PID 56) exited with exit code 1\n\
             2026-11-28 11:41:21.180 UTC [61] FATAL:  no pg_hba.conf entry for host \"172.24.0.2\"\n\
             2026-11-28 11:41:21.181 UTC [62] FATAL:  the database system is in recovery mode\n\
             2026-11-28 11:41:21.182 UTC [63] FATAL:  sorry, too many clients already\n",
        );
        assert_eq!(
            unreached.why_not(),
            "PostgreSQL: recovery ended before configured recovery target was reached (last \
             transaction applied at 2026-11-28 11:40:38.240016+00)"
        );
        // Without the postmaster's exit line, refused clients' FATALs still do not win.
        let cut = RestoreLog::read(
            "2026-11-28 11:41:21.174 UTC [56] FATAL:  recovery ended before configured recovery target was reached\n\
             2026-11-28 11:41:21.181 UTC [62] FATAL:  the database system is in recovery mode\n",
        );
        assert_eq!(
            cut.fatal.as_deref(),
            Some("recovery ended before configured recovery target was reached")
        );
        let shut = RestoreLog::read("LOG:  shutdown at recovery target\n");
        assert!(shut.why_not().contains("shut down at the recovery target"));
        assert_eq!(RestoreLog::read("").why_not(), "the log names no reason");
    }

    #[test]
    fn targets_are_written_as_postgresql_reads_them() {
        assert_eq!(
            pg_time("2026-11-28T12:03:04.072669+00:00").unwrap(),
            "2026-11-28 12:03:04.072669+00"
        );
        assert_eq!(
            pg_time("2026-11-28T13:03:04.5+01:00").unwrap(),
            "2026-11-28 12:03:04.500000+00"
        );
        let restore = Restore {
            to: RestoreTo::Time("2026-11-28 12:03:04.072669+00".into()),
            promote: true,
        };
        assert_eq!(
            restore.command(),
            "pgbackrest --stanza=firedrill --type=time \"--target=2026-11-28 12:03:04.072669+00\" \
             --target-action=promote restore"
        );
        let conf = restore.recovery_conf();
        assert_eq!(
            conf["recovery_target_time"],
            "2026-11-28 12:03:04.072669+00"
        );
        assert_eq!(conf["recovery_target_action"], "promote");
        let paused = Restore {
            to: RestoreTo::Name("before-loss".into()),
            promote: false,
        };
        assert!(
            paused
                .command()
                .contains("--type=name \"--target=before-loss\"")
        );
        assert_eq!(
            paused.recovery_conf()["recovery_target_name"],
            "before-loss"
        );
        assert_eq!(paused.recovery_conf()["recovery_target_action"], "pause");
    }
}
