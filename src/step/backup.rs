//! backup: a pgBackRest backup of the cluster, taken on the leader into the run's repository
//! (`[topology.pgbackrest]`), as an operator's scheduled backup is: full, differential (what
//! changed since the last full) or incremental (since the last backup of any type).

use serde::{Deserialize, Serialize};

use super::target::leader;
use super::{Action, Context, Done, StepError};
use crate::fault::{Key, KeyForm};
use crate::scenario::{KeyError, StepInput, Topology};
use crate::topology::kinds::pgbackrest;

pub struct Backup;

/// pgBackRest's backup types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupType {
    Full,
    Diff,
    Incr,
}

impl BackupType {
    const ALL: &'static [BackupType] = &[BackupType::Full, BackupType::Diff, BackupType::Incr];

    /// The name in scenario files and pgBackRest's `--type`.
    pub fn name(self) -> &'static str {
        match self {
            BackupType::Full => "full",
            BackupType::Diff => "diff",
            BackupType::Incr => "incr",
        }
    }
}

/// Which type of backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupParams {
    #[serde(rename = "type")]
    pub kind: BackupType,
}

impl Action for Backup {
    type Params = BackupParams;
    const NAME: &'static str = "backup";
    const SUMMARY: &'static str = "a pgBackRest backup on the leader into the run's repository: \
         `type` full, diff or incr (pgBackRest's default, incr)";
    const KEYS: &'static [Key] = &[Key {
        name: "type",
        form: KeyForm::Text,
    }];

    fn params(input: &mut StepInput<'_>) -> Result<BackupParams, KeyError> {
        let Some(given) = input.text("type") else {
            return Ok(BackupParams {
                kind: BackupType::Incr,
            });
        };
        match BackupType::ALL.iter().find(|t| t.name() == given.get_ref()) {
            Some(&kind) => Ok(BackupParams { kind }),
            None => Err(input.invalid(
                given.span(),
                "type",
                format!(
                    "unknown backup type {:?}, expected one of: full, diff, incr",
                    given.get_ref()
                ),
            )),
        }
    }

    fn lacks(topology: &Topology) -> Option<String> {
        pgbackrest::settings(topology).is_none().then(|| {
            "a backup needs a repository to back up into: [topology.pgbackrest] is not set"
                .to_owned()
        })
    }

    async fn run(ctx: Context<'_>, params: &BackupParams) -> Result<Done, StepError> {
        let node = leader(ctx.cluster).await?;
        ctx.ensure_owned(&node).await?;
        let started = ctx.clock.now();
        let set = pgbackrest::backup(ctx.cluster, &node, params.kind.name(), ctx.bound)
            .await
            .map_err(StepError::failed)?;
        let ended = ctx.clock.now();
        let detail = format!(
            "{} backup {} on {}: {:.1} MB, {:.1} MB added to the repository",
            set.kind,
            set.label,
            node.name,
            mb(set.size),
            mb(set.repository_delta)
        );
        Ok(Done::new(detail)
            .during(started, ended)
            .value("node", &node.name)
            .value("label", &set.label)
            .value("type", &set.kind)
            .value("size", set.size)
            .value("repository_delta", set.repository_delta)
            .value("started_unix", set.started_unix)
            .value("stopped_unix", set.stopped_unix)
            .value("lsn_start", &set.lsn_start)
            .value("lsn_stop", &set.lsn_stop))
    }

    fn schedule_note(params: &BackupParams) -> String {
        format!(" ({})", params.kind.name())
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}
