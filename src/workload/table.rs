use crate::client::Client;
use crate::topology::{Cluster, TopologyError};
use std::time::Duration;

/// How long creating the schema may keep failing (a stalled host) before the drill gives up.
const PREPARE_WITHIN: Duration = Duration::from_secs(15);

/// Creates what the writes go to through the client endpoint, then waits until every replica
/// has replayed it: a read through the replicas at the first instant of the workload would
/// otherwise find no table (seen: the first read of a drill failed with `relation
/// "firedrill_writes" does not exist`). Each step retries until a shared, bounded deadline.
pub async fn prepare(client: &dyn Client, cluster: &Cluster) -> Result<(), TopologyError> {
    let deadline = tokio::time::Instant::now() + PREPARE_WITHIN;
    let create = format!("create {}", client.schema());
    let endpoint = cluster
        .primary_endpoint(Duration::from_secs(2))
        .map_err(|e| database_error(&create, e.to_string()))?;
    retry(&create, deadline, Duration::from_millis(200), || {
        client.prepare(&endpoint)
    })
    .await?;
    let roles = cluster.roles(Duration::from_secs(1)).await;
    for replica in roles.replicas() {
        let find = format!("find the {} on {}", client.schema(), replica.name);
        let endpoint = cluster
            .endpoint_of(replica, Duration::from_secs(2))
            .map_err(|e| database_error(&find, e.to_string()))?;
        retry(&find, deadline, Duration::from_millis(20), || async {
            let mut connection = client.connect(&endpoint).await.map_err(|e| e.text)?;
            connection
                .read_latest(None)
                .await
                .map(|_| ())
                .map_err(|e| e.text)
        })
        .await?;
    }
    Ok(())
}

/// `attempt` until it succeeds, `pause` apart; its last error once `deadline` has passed.
async fn retry<F, Fut>(
    action: &str,
    deadline: tokio::time::Instant,
    pause: Duration,
    mut attempt: F,
) -> Result<(), TopologyError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    loop {
        match attempt().await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("retrying to {action}: {e}");
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(database_error(action, e)),
        }
    }
}

fn database_error(action: &str, message: String) -> TopologyError {
    TopologyError::Database {
        action: action.to_owned(),
        message,
    }
}
