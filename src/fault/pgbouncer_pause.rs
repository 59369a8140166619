//! pgbouncer-pause: pgBouncer's `PAUSE` on the pooler's admin console, as operators script a
//! planned switchover (PAUSE, switchover, RESUME): queries in flight finish, the pooler closes
//! its server connections, and new queries wait in the pooler instead of failing. Healed by
//! `RESUME`.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, on_each};
use crate::scenario::{FaultInput, KeyError};
use crate::topology::kinds::pgbouncer;
use crate::topology::{Cluster, Node};
use std::time::Duration;

pub struct PgbouncerPause;

impl Verb for PgbouncerPause {
    type Params = NoKeys;
    const NAME: &'static str = "pgbouncer-pause";
    const SUMMARY: &'static str = "pgBouncer's PAUSE: queries in flight finish, new ones wait in \
         the pooler; healed by RESUME";
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::Kinds(&["pgbouncer"]);

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        admin_on_each(fire.cluster, fire.targets, "PAUSE", "pause the pooler").await?;
        Ok(Some(format!(
            "PAUSE on {}: queries wait in the pooler",
            names(fire.targets)
        )))
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        admin_on_each(cluster, nodes, "RESUME", "resume the pooler").await?;
        Ok(Some(format!("RESUME on {}", names(nodes))))
    }
}

/// How long `PAUSE` may wait for the queries in flight (a query stuck on a frozen server would
/// hold it for ever), and `RESUME` take.
const ADMIN_WITHIN: Duration = Duration::from_secs(20);

async fn admin_on_each(
    cluster: &Cluster,
    nodes: &[Node],
    command: &'static str,
    action: &'static str,
) -> Result<(), FaultError> {
    on_each(nodes, |node| async move {
        pgbouncer::admin(cluster, node, command, ADMIN_WITHIN)
            .await
            .map_err(FaultError::action(action, &node.name))
    })
    .await
}
