//! postgres-crash: SIGKILL of the PostgreSQL postmaster only; Patroni stays up and decides
//! what happens next (restart in place, or fail over).

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, on_each};
use crate::engine;
use crate::scenario::{FaultInput, KeyError};
use crate::topology::kinds::PATRONI;
use crate::topology::{Cluster, Node};

pub struct PostgresCrash;

impl Verb for PostgresCrash {
    type Params = NoKeys;
    const NAME: &'static str = "postgres-crash";
    const SUMMARY: &'static str = "SIGKILL of the PostgreSQL postmaster only; Patroni stays up";
    const HEALING: Healing = Healing::OneOff {
        why: "patroni restarts postgresql itself",
    };
    const TARGETS: Targets = Targets::Kinds(&["patroni"]);

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    fn expected_targets(input: &FaultInput<'_>) -> String {
        patroni_nodes_for(Self::NAME, input)
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets).await
    }

    /// Never called: a one-off has no duration, so nothing to heal.
    async fn heal(_: &Cluster, _: &[Node]) -> Result<Option<String>, FaultError> {
        Ok(None)
    }
}

/// What a verb acting on Patroni nodes expects of its target, in messages.
pub(super) fn patroni_nodes_for(name: &str, input: &FaultInput<'_>) -> String {
    format!(
        "patroni nodes for a {name} (leader, replica[:...], {}, patroni, patroni:random or a \
         group of pg nodes)",
        input.patroni_names()
    )
}

/// The postmaster's pid is the first line of `postmaster.pid` in the data directory.
const KILL_POSTMASTER: &str = "pid=$(head -n1 /data/pg/postmaster.pid) \
     && kill -KILL \"$pid\" && echo \"$pid\"";

pub async fn inject(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        let fail = FaultError::action("kill the postmaster", &node.name);
        if node.kind != PATRONI {
            return Err(fail("not a PostgreSQL node".into()));
        }
        let out = engine::exec(
            &cluster.docker,
            &node.container,
            Some("postgres"),
            &["sh", "-c", KILL_POSTMASTER],
        )
        .await
        .map_err(|e| FaultError::action("kill the postmaster", &node.name)(e.to_string()))?;
        if out.success() {
            Ok(())
        } else {
            Err(fail(
                format!("{}{}", out.stdout, out.stderr).trim().to_string(),
            ))
        }
    })
    .await?;
    Ok(Some(format!(
        "SIGKILL to the postmaster of {}",
        names(nodes)
    )))
}
