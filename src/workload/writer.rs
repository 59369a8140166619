use crate::history::{At, Clock, Event, Outcome, WriteOp};
use crate::scenario::Workload;
use crate::topology::Cluster;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio_postgres::{Client, NoTls, Statement};

/// The INSERT returns, from the server that accepted it, its node name (`firedrill.node`) and
/// its current timeline (the first 8 hex digits of the current WAL file's name).
const INSERT: &str = "INSERT INTO firedrill_writes (seq) VALUES ($1) \
     RETURNING current_setting('firedrill.node'), \
     ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";

/// At most this many connections are being opened at once. During an outage every attempt
/// needs a new connection; unbounded, a stall of the host piles up hundreds of them, and the
/// herd that lands when the leader answers again prolongs the very outage being measured.
/// Permits free up every connect timeout or sooner, so attempts keep starting all along.
const MAX_CONNECTING: usize = 32;

/// An open connection with its prepared INSERT.
struct Conn {
    client: Client,
    insert: Statement,
}

/// Starts write attempts at `spec.rate` per second on a fixed schedule from `from` until
/// `until` (run instants), each concurrently, so that an attempt is in flight at every instant
/// of an outage: the recovery edge is then known to within one period. Waits for the last
/// attempts to finish. Sequence numbers start at `first_seq`.
pub async fn run_writes(
    cluster: Arc<Cluster>,
    spec: Workload,
    clock: Clock,
    until: At,
    events: UnboundedSender<Event>,
    first_seq: u64,
) {
    let period = Duration::from_secs(1) / spec.rate.max(1);
    let pool: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
    let connecting = Arc::new(Semaphore::new(MAX_CONNECTING));
    let mut in_flight = JoinSet::new();
    let mut seq = first_seq;
    let mut next = At::default();
    while next < until {
        tokio::time::sleep_until(clock.instant(next)).await;
        let attempt = Attempt {
            cluster: cluster.clone(),
            spec: spec.clone(),
            pool: pool.clone(),
            connecting: connecting.clone(),
            clock,
            seq,
        };
        let events = events.clone();
        in_flight.spawn(async move {
            let _ = events.send(Event::Write(attempt.run().await));
        });
        // Reap finished attempts as we go so the set stays small.
        while in_flight.try_join_next().is_some() {}
        seq += 1;
        next = next.plus(period);
    }
    while in_flight.join_next().await.is_some() {}
}

struct Attempt {
    cluster: Arc<Cluster>,
    spec: Workload,
    pool: Arc<Mutex<Vec<Conn>>>,
    connecting: Arc<Semaphore>,
    clock: Clock,
    seq: u64,
}

impl Attempt {
    async fn run(self) -> WriteOp {
        let invoke = self.clock.now();
        let idle = self.pool.lock().expect("pool lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => match self.connect().await {
                Ok(conn) => conn,
                Err(error) => return self.op(invoke, Outcome::Fail, Some(error), None),
            },
        };
        let seq = i64::try_from(self.seq).expect("sequence numbers fit i64");
        let result = tokio::time::timeout(
            self.spec.write_timeout,
            conn.client.query_one(&conn.insert, &[&seq]),
        )
        .await;
        match result {
            Ok(Ok(row)) => {
                let node: String = row.get(0);
                let timeline: i32 = row.get(1);
                let mut pool = self.pool.lock().expect("pool lock");
                if pool.len() < self.spec.writers {
                    pool.push(conn);
                }
                drop(pool);
                self.op(
                    invoke,
                    Outcome::Ok,
                    None,
                    Some((node, u32::try_from(timeline).unwrap_or(0))),
                )
            }
            // The server answered with an error: the statement did not commit.
            Ok(Err(e)) if e.as_db_error().is_some() => {
                self.op(invoke, Outcome::Fail, Some(db_error(&e)), None)
            }
            // The connection broke after the statement was sent: it may have committed.
            Ok(Err(e)) => self.op(
                invoke,
                Outcome::Unknown,
                Some(format!("connection lost: {e}")),
                None,
            ),
            Err(_) => self.op(
                invoke,
                Outcome::Unknown,
                Some(format!(
                    "no answer within {}",
                    humantime::format_duration(self.spec.write_timeout)
                )),
                None,
            ),
        }
    }

    async fn connect(&self) -> Result<Conn, String> {
        // Waiting for a permit counts against the connect timeout: the attempt fails, it was
        // certainly not executed.
        let _permit = tokio::time::timeout(self.spec.connect_timeout, self.connecting.acquire())
            .await
            .map_err(|_| format!("connect: {MAX_CONNECTING} connections already being opened"))?
            .expect("the semaphore is never closed");
        let config = self
            .cluster
            .pg_config(self.cluster.endpoint(), self.spec.connect_timeout);
        let connecting = async {
            let (client, connection) = config
                .connect(NoTls)
                .await
                .map_err(|e| format!("connect: {}", source_text(&e)))?;
            tokio::spawn(connection);
            let insert = client
                .prepare(INSERT)
                .await
                .map_err(|e| format!("prepare: {}", source_text(&e)))?;
            Ok::<_, String>(Conn { client, insert })
        };
        // The connect timeout covers the TCP connection; bound the handshake and prepare too.
        tokio::time::timeout(self.spec.connect_timeout * 2, connecting)
            .await
            .unwrap_or_else(|_| Err("connect: timeout".into()))
    }

    fn op(
        &self,
        invoke: At,
        outcome: Outcome,
        error: Option<String>,
        accepted: Option<(String, u32)>,
    ) -> WriteOp {
        let (node, timeline) = accepted.unzip();
        WriteOp {
            seq: self.seq,
            invoke,
            complete: self.clock.now(),
            outcome,
            node,
            timeline,
            error,
        }
    }
}

fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// tokio-postgres wraps the interesting part ("connection refused") in its source chain.
fn source_text(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn insert_targets_the_prepared_table_and_names_the_node() {
        assert!(super::INSERT.contains(&format!("INTO {} ", super::super::TABLE)));
        assert!(super::INSERT.contains(crate::topology::THIS_NODE_SQL));
    }
}
