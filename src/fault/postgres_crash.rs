//! postgres-crash: SIGKILL of the PostgreSQL postmaster only; Patroni stays up and decides
//! what happens next (restart in place, or fail over).

use super::{FaultError, names, on_each};
use crate::engine;
use crate::topology::kinds::PATRONI;
use crate::topology::{Cluster, Node};

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
