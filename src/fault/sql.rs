//! SQL the faults ask of a node, through its published port.

use super::FaultError;
use crate::topology::{Cluster, Node, SessionError};
use std::time::Duration;

/// A WAL position in bytes, read with `lsn_expression` (e.g. `pg_current_wal_lsn()`).
pub async fn wal_position(
    cluster: &Cluster,
    node: &Node,
    lsn_expression: &str,
) -> Result<u64, FaultError> {
    let fail = |e: SessionError| {
        let mut text = e.text();
        if e.is_closed() {
            // Through a published port the engine's proxy accepts a connection even when nothing
            // listens in the container, then closes it: usually a server not (yet) up.
            text.push_str(" (is its PostgreSQL running and accepting connections?)");
        }
        FaultError::action("read the WAL position", &node.name)(text)
    };
    let client = cluster
        .connect(node, Duration::from_secs(2))
        .await
        .map_err(fail)?;
    let row = client
        .query_one(
            &format!("SELECT pg_wal_lsn_diff({lsn_expression}, '0/0')::bigint"),
            &[],
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let position: Option<i64> = row.get(0);
    Ok(position.unwrap_or(0).max(0) as u64)
}
