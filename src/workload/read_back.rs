use super::TABLE;
use crate::history::{Clock, ReadBack};
use crate::topology::{Cluster, THIS_NODE_SQL};
use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

#[derive(Debug, Error)]
#[error("no writable leader reachable through the client endpoint within {}: last error: {last_error}", humantime::format_duration(*.waited))]
pub struct ReadBackError {
    pub waited: Duration,
    pub last_error: String,
}

/// After recovery: reads every sequence number from the leader, through the client endpoint.
/// Retries until a node that is not in recovery answers, for at most `within`.
pub async fn read_back(
    cluster: &Cluster,
    clock: Clock,
    within: Duration,
) -> Result<ReadBack, ReadBackError> {
    let deadline = Instant::now() + within;
    loop {
        let at = clock.now();
        let last_error = match read_once(cluster).await {
            Ok((node, present)) => return Ok(ReadBack { at, node, present }),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(ReadBackError {
                waited: within,
                last_error,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn read_once(cluster: &Cluster) -> Result<(String, Vec<u64>), String> {
    let client = cluster
        .connect(cluster.endpoint(), Duration::from_secs(1))
        .await
        .map_err(|e| e.to_string())?;
    let row = client
        .query_one(&format!("SELECT {THIS_NODE_SQL}, pg_is_in_recovery()"), &[])
        .await
        .map_err(|e| e.to_string())?;
    let node: String = row.get(0);
    if row.get::<_, bool>(1) {
        return Err(format!("{node} is in recovery"));
    }
    let rows = client
        .query(&format!("SELECT seq FROM {TABLE} ORDER BY seq"), &[])
        .await
        .map_err(|e| e.to_string())?;
    let present = rows
        .iter()
        .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
        .collect();
    Ok((node, present))
}
