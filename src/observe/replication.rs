use super::ticker::every;
use crate::client::Protocol;
use crate::history::{Clock, Event, ReplicaStat, ReplicationSample};
use crate::topology::{Cluster, Node, SessionError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::sync::mpsc::UnboundedSender;
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(1);

/// Nothing for a node in recovery; its WAL position for a primary.
const PRIMARY_WAL: &str = "SELECT CASE WHEN pg_is_in_recovery() THEN NULL \
     ELSE (pg_current_wal_lsn() - '0/0')::bigint END";
const REPLICAS: &str = "SELECT application_name, state, (sent_lsn - '0/0')::bigint, \
     (flush_lsn - '0/0')::bigint, (replay_lsn - '0/0')::bigint, \
     extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication ORDER BY application_name";

/// Asks every node that runs a PostgreSQL server (its kind's `database`), over a connection of
/// its own, whether it is in recovery, and a primary for its WAL position and
/// `pg_stat_replication`, every `interval` until `stop`. The database's own answer does not
/// depend on any role source: a primary whose Patroni hangs is still seen as one. A node still
/// answering the previous tick is skipped.
pub async fn probe_replication(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    let sessions: Vec<(Node, Arc<Mutex<Option<Client>>>)> = cluster
        .nodes
        .iter()
        .filter(|n| n.kind.kind().database() == Some(Protocol::Postgres))
        .map(|n| (n.clone(), Arc::new(Mutex::new(None))))
        .collect();
    every(interval, stop, |in_flight| {
        for (node, session) in &sessions {
            let Ok(mut client) = session.clone().try_lock_owned() else {
                continue;
            };
            let (cluster, node, events) = (cluster.clone(), node.clone(), events.clone());
            in_flight.spawn(async move {
                let sent = clock.now();
                let answer =
                    tokio::time::timeout(TIMEOUT * 2, sample(&cluster, &node, &mut client)).await;
                let mut sample = ReplicationSample {
                    node: node.name,
                    sent,
                    received: clock.now(),
                    in_recovery: None,
                    wal: None,
                    replicas: Vec::new(),
                    error: None,
                };
                match answer {
                    Ok(Ok(Some((wal, replicas)))) => {
                        sample.in_recovery = Some(false);
                        sample.wal = Some(wal);
                        sample.replicas = replicas;
                    }
                    Ok(Ok(None)) => sample.in_recovery = Some(true),
                    // Reconnect next time: the session may be broken.
                    Ok(Err(e)) => {
                        *client = None;
                        sample.error = Some(e.text());
                    }
                    Err(_) => {
                        *client = None;
                        sample.error = Some("timeout".into());
                    }
                }
                let _ = events.send(Event::Replication(sample));
            });
        }
    })
    .await;
}

/// The node's WAL position and replicas if it is a primary, `None` if it is in recovery.
async fn sample(
    cluster: &Cluster,
    node: &Node,
    client: &mut Option<Client>,
) -> Result<Option<(u64, Vec<ReplicaStat>)>, SessionError> {
    let db = match client {
        Some(db) => db,
        None => client.insert(cluster.connect(node, TIMEOUT).await?),
    };
    let wal: Option<i64> = db.query_one(PRIMARY_WAL, &[]).await?.get(0);
    let Some(wal) = wal else {
        return Ok(None);
    };
    let bytes = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    let replicas = db
        .query(REPLICAS, &[])
        .await?
        .iter()
        .map(|row| ReplicaStat {
            name: row.get::<_, Option<String>>(0).unwrap_or_default(),
            state: row.get::<_, Option<String>>(1).unwrap_or_default(),
            sent: bytes(row.get(2)),
            flush: bytes(row.get(3)),
            replay: bytes(row.get(4)),
            replay_lag: row
                .get::<_, Option<f64>>(5)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64),
        })
        .collect();
    Ok(Some((u64::try_from(wal).unwrap_or(0), replicas)))
}
