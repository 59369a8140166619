use crate::topology::{Cluster, TopologyError};

/// The table every write goes to: one row per sequence number.
pub const TABLE: &str = "firedrill_writes";

/// Creates the writes table through the client endpoint (it replicates to every node).
pub async fn prepare(cluster: &Cluster) -> Result<(), TopologyError> {
    let fail = |e: tokio_postgres::Error| TopologyError::Database {
        action: format!("create table {TABLE}"),
        message: e.to_string(),
    };
    let (client, connection) = cluster
        .pg_config(cluster.endpoint(), std::time::Duration::from_secs(2))
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(fail)?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (seq bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())"
        ))
        .await
        .map_err(fail)
}
