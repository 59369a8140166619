//! archive-fail: WAL archiving fails from the instant of the fault, as with a full or
//! misconfigured repository: the run's pgBackRest archive is made read-only, so every
//! `archive-push` of a new WAL segment is refused (PostgreSQL keeps the segment and retries),
//! while what is already archived stays readable. Healed by making it writable again, when the
//! retries catch up. The repository is shared: whichever PostgreSQL node is targeted, archiving
//! fails for the whole cluster.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, run_as_root};
use crate::scenario::{FaultInput, KeyError};
use crate::topology::kinds::pgbackrest::REPO_PATH;
use crate::topology::{Cluster, Node};

pub struct ArchiveFail;

/// Where pgBackRest keeps archived WAL in the repository.
fn archive_dir() -> String {
    format!("{REPO_PATH}/archive")
}

impl Verb for ArchiveFail {
    type Params = NoKeys;
    const NAME: &'static str = "archive-fail";
    const SUMMARY: &'static str = "WAL archiving into the pgBackRest repository fails (the \
         archive made read-only, for the whole cluster); healed by making it writable again";
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::Kinds(&["patroni"]);

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        let dir = archive_dir();
        // A topology without backups has no archive: refuse rather than do nothing.
        let script = format!(
            "test -d '{dir}' || {{ echo 'no pgBackRest archive at {dir} ([topology.pgbackrest] is not set?)' >&2; exit 1; }}; \
             chmod -R a-w '{dir}'"
        );
        for node in fire.targets {
            run_as_root(
                fire.cluster,
                node,
                "make the WAL archive read-only",
                &script,
            )
            .await?;
        }
        Ok(Some(format!(
            "made the WAL archive read-only through {}: archive-push refused from now on",
            names(fire.targets)
        )))
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        let script = format!("chmod -R u+w '{}'", archive_dir());
        for node in nodes {
            run_as_root(cluster, node, "make the WAL archive writable", &script).await?;
        }
        Ok(Some("made the WAL archive writable again".into()))
    }
}
