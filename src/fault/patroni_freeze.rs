//! patroni-freeze: the Patroni daemon stopped with SIGSTOP while PostgreSQL keeps running, as a
//! hung HA agent looks. Nothing fences the node (no watchdog): its PostgreSQL stays a primary
//! and accepts every write that reaches it, while its leader key expires and another node is
//! promoted. Healed by SIGCONT: Patroni resumes, finds another leader and demotes the node.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, on_each, run_as_root};
use crate::scenario::{FaultInput, KeyError};
use crate::topology::kinds::PATRONI;
use crate::topology::{Cluster, Node};

pub struct PatroniFreeze;

impl Verb for PatroniFreeze {
    type Params = NoKeys;
    const NAME: &'static str = "patroni-freeze";
    const SUMMARY: &'static str = "the Patroni daemon frozen (SIGSTOP) while PostgreSQL keeps \
         running, no watchdog; healed by thawing it (SIGCONT)";
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::Kinds(&["patroni"]);

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    fn expected_targets(input: &FaultInput<'_>) -> String {
        super::postgres_crash::patroni_nodes_for(Self::NAME, input)
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets).await
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        heal(cluster, nodes).await
    }
}

/// Stops every process named `patroni` and proves it: each must then be in state T (stopped).
const FREEZE: &str = "pids=$(pgrep -x patroni) || { echo 'no patroni process'; exit 1; }; \
     kill -STOP $pids; \
     for p in $pids; do case $(ps -o stat= -p $p) in T*) ;; *) echo \"patroni $p not stopped\"; exit 1;; esac; done; \
     echo $pids";
const THAW: &str = "pids=$(pgrep -x patroni) || { echo 'no patroni process'; exit 1; }; \
     kill -CONT $pids; echo $pids";

pub async fn inject(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        if node.kind != PATRONI {
            return Err(FaultError::action("freeze patroni", &node.name)(
                "not a Patroni node".into(),
            ));
        }
        run_as_root(cluster, node, "freeze patroni", FREEZE)
            .await
            .map(|_| ())
    })
    .await?;
    Ok(Some(format!(
        "SIGSTOP to the Patroni daemon of {}; PostgreSQL left running",
        names(nodes)
    )))
}

pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        run_as_root(cluster, node, "thaw patroni", THAW)
            .await
            .map(|_| ())
    })
    .await?;
    Ok(Some(format!(
        "SIGCONT to the Patroni daemon of {}",
        names(nodes)
    )))
}
