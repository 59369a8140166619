use crate::client::Client;
use crate::topology::{Cluster, TopologyError};
use std::time::Duration;

/// How long creating the schema may keep failing (a stalled host) before the drill gives up.
const PREPARE_WITHIN: Duration = Duration::from_secs(15);

/// Creates what the writes go to through the client endpoint (it replicates to every node),
/// retrying for a bounded time.
pub async fn prepare(client: &dyn Client, cluster: &Cluster) -> Result<(), TopologyError> {
    let deadline = tokio::time::Instant::now() + PREPARE_WITHIN;
    let endpoint = cluster
        .primary_endpoint(Duration::from_secs(2))
        .map_err(|e| TopologyError::Database {
            action: format!("create {}", client.schema()),
            message: e.to_string(),
        })?;
    loop {
        match client.prepare(&endpoint).await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("retrying the creation of the {}: {e}", client.schema());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                return Err(TopologyError::Database {
                    action: format!("create {}", client.schema()),
                    message: e,
                });
            }
        }
    }
}
