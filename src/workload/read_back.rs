use crate::client::Client;
use crate::history::{Clock, ReadBack};
use crate::topology::{Cluster, Node, RoleReport};
use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

#[derive(Debug, Error)]
#[error("no writable leader to read back from within {} (the [bounds] recovery bound): last error: {last_error}", humantime::format_duration(*.waited))]
pub struct ReadBackError {
    pub waited: Duration,
    pub last_error: String,
}

/// After recovery: reads every sequence number from the leader, directly (not through the
/// client endpoint, which may be what the drill found routing wrongly). The leader is the one
/// node reporting itself leader, and the client must confirm it takes writes (PostgreSQL: not
/// in recovery). With several (a split brain that never resolved) in a stack whose clients
/// connect to a virtual IP, it is the one answering there: the data clients see.
/// Retries for at most `within` (the recovery bound); each attempt (find the leader, connect,
/// read every row) may take at most `read_within` (the read-back bound), so that a leader that
/// hangs mid-read cannot hold the drill.
pub async fn read_back(
    client: &dyn Client,
    cluster: &Cluster,
    clock: Clock,
    within: Duration,
    read_within: Duration,
) -> Result<ReadBack, ReadBackError> {
    let deadline = Instant::now() + within;
    loop {
        let at = clock.now();
        // Bounded as a whole: a leader that hangs mid-read must not hold the drill (and its
        // teardown) forever.
        let attempt = tokio::time::timeout(read_within, read_once(client, cluster)).await;
        let last_error = match attempt {
            Ok(Ok((node, present))) => return Ok(ReadBack { at, node, present }),
            Ok(Err(e)) => e,
            Err(_) => format!(
                "no read-back within {} (the [bounds] read_back bound)",
                humantime::format_duration(read_within)
            ),
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

async fn read_once(client: &dyn Client, cluster: &Cluster) -> Result<(String, Vec<u64>), String> {
    let roles = cluster.roles(Duration::from_secs(1)).await;
    let leaders: Vec<&Node> = roles
        .reports
        .iter()
        .filter(|(_, report)| report.as_ref().is_some_and(RoleReport::leads))
        .map(|(n, _)| n)
        .collect();
    let leader = match leaders.as_slice() {
        [one] => *one,
        [] => return Err("no node reports itself leader".into()),
        many => {
            let names: Vec<&str> = many.iter().map(|n| n.name.as_str()).collect();
            // With a virtual IP, clients reach one of them: what they see is what counts
            // (the other's writes are lost to them).
            match at_virtual_ip(cluster, many).await {
                Some(node) => node,
                None => {
                    return Err(format!(
                        "several nodes report themselves leader: {}",
                        names.join(", ")
                    ));
                }
            }
        }
    };
    let stored = client
        .read_back(
            &cluster
                .endpoint_of(leader, Duration::from_secs(1))
                .map_err(|e| e.to_string())?,
        )
        .await?;
    Ok((stored.node, stored.present))
}

/// Which of `leaders` answers at the cluster's virtual IP, if it has one.
async fn at_virtual_ip<'a>(cluster: &Cluster, leaders: &[&'a Node]) -> Option<&'a Node> {
    cluster.client_entry.virtual_ip()?;
    let name = cluster
        .serving_at_virtual_ip(Duration::from_secs(1))
        .await
        .ok()?;
    leaders.iter().copied().find(|n| n.name == name)
}
