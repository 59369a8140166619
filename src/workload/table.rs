use crate::topology::{Cluster, TopologyError};
use std::time::Duration;

/// The table every write goes to: one row per sequence number.
pub const TABLE: &str = "firedrill_writes";

/// How long creating the table may keep failing (a stalled host) before the drill gives up.
const PREPARE_WITHIN: Duration = Duration::from_secs(15);

/// Creates the writes table through the client endpoint (it replicates to every node),
/// retrying for a bounded time.
pub async fn prepare(cluster: &Cluster) -> Result<(), TopologyError> {
    let deadline = tokio::time::Instant::now() + PREPARE_WITHIN;
    loop {
        match create(cluster).await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("retrying table creation: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                return Err(TopologyError::Database {
                    action: format!("create table {TABLE}"),
                    message: e.to_string(),
                });
            }
        }
    }
}

async fn create(cluster: &Cluster) -> Result<(), tokio_postgres::Error> {
    let client = cluster
        .connect(cluster.endpoint(), Duration::from_secs(2))
        .await?;
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (seq bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())"
        ))
        .await
}
