use super::Acknowledged;
use super::schedule::on_schedule;
use super::sessions::Sessions;
use crate::history::{At, Clock, ErrorKind, Event, Outcome, WriteOp};
use crate::scenario::Workload;
use crate::topology::{Cluster, pg_error_text};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The INSERT returns, from the server that accepted it, its node name (`firedrill.node`) and
/// its current timeline (the first 8 hex digits of the current WAL file's name).
const INSERT: &str = "INSERT INTO firedrill_writes (seq) VALUES ($1) \
     RETURNING current_setting('firedrill.node'), \
     ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";

/// Starts write attempts at `spec.rate` per second on a fixed schedule from `from` until
/// `until` (run instants), each concurrently, so that an attempt is in flight at every instant
/// of an outage: the recovery edge is then known to within one period. Waits for the last
/// attempts to finish. Sequence numbers start at `first_seq`. Each acknowledged write is
/// recorded in `acked` once its complete instant is taken, for the readers.
pub async fn run_writes(
    cluster: Arc<Cluster>,
    spec: Workload,
    clock: Clock,
    until: At,
    events: UnboundedSender<Event>,
    first_seq: u64,
    acked: Arc<Acknowledged>,
) {
    let period = Duration::from_secs(1) / spec.rate.max(1);
    let sessions = Arc::new(Sessions::new(INSERT, spec.writers, spec.connect_timeout));
    on_schedule(clock, period, until, &events, |k| {
        let attempt = Attempt {
            cluster: cluster.clone(),
            spec: spec.clone(),
            sessions: sessions.clone(),
            acked: acked.clone(),
            clock,
            seq: first_seq + k,
        };
        async move { Event::Write(attempt.run().await) }
    })
    .await;
}

struct Attempt {
    cluster: Arc<Cluster>,
    spec: Workload,
    sessions: Arc<Sessions>,
    acked: Arc<Acknowledged>,
    clock: Clock,
    seq: u64,
}

impl Attempt {
    async fn run(self) -> WriteOp {
        let invoke = self.clock.now();
        let endpoint = || {
            Ok(self
                .cluster
                .pg_config(self.cluster.endpoint(), self.spec.connect_timeout))
        };
        let session = match self.sessions.take(endpoint).await {
            Ok(session) => session,
            Err(error) => return self.op(invoke, Err(error)),
        };
        let seq = i64::try_from(self.seq).expect("sequence numbers fit i64");
        let result = tokio::time::timeout(
            self.spec.write_timeout,
            session.client.query_one(&session.statement, &[&seq]),
        )
        .await;
        match result {
            Ok(Ok(row)) => {
                let node: String = row.get(0);
                let timeline: i32 = row.get(1);
                self.sessions.give_back(session);
                let op = self.op(invoke, Ok((node, u32::try_from(timeline).unwrap_or(0))));
                // After the complete instant was taken: a read that expects this write is
                // invoked after it was acknowledged.
                self.acked.record(self.seq);
                op
            }
            // The server answered with an error: the statement did not commit.
            Ok(Err(e)) if e.as_db_error().is_some() => {
                self.op(invoke, Err((server_error_kind(&e), pg_error_text(&e))))
            }
            // The connection broke after the statement was sent: it may have committed.
            Ok(Err(e)) => self.op(
                invoke,
                Err((ErrorKind::ConnectionLost, format!("connection lost: {e}"))),
            ),
            Err(_) => self.op(
                invoke,
                Err((
                    ErrorKind::WriteTimeout,
                    format!(
                        "no answer within {}",
                        humantime::format_duration(self.spec.write_timeout)
                    ),
                )),
            ),
        }
    }

    /// The write's record: accepted by a node on a timeline (`ok`), or the error's kind and
    /// text (the outcome is the kind's).
    fn op(&self, invoke: At, result: Result<(String, u32), (ErrorKind, String)>) -> WriteOp {
        let (outcome, accepted, error) = match result {
            Ok(accepted) => (Outcome::Ok, Some(accepted), None),
            Err((kind, text)) => (kind.outcome(), None, Some((kind, text))),
        };
        let (node, timeline) = accepted.unzip();
        let (error_kind, error) = error.unzip();
        WriteOp {
            seq: self.seq,
            invoke,
            complete: self.clock.now(),
            outcome,
            node,
            timeline,
            error,
            error_kind,
        }
    }
}

/// The kind of an error the server answered a statement with, from its SQLSTATE.
fn server_error_kind(e: &tokio_postgres::Error) -> ErrorKind {
    if e.code() == Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION) {
        ErrorKind::ReadOnly
    } else {
        ErrorKind::ServerError
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_targets_the_prepared_table_and_names_the_node() {
        assert!(INSERT.contains(&format!("INTO {} ", super::super::TABLE)));
        assert!(INSERT.contains(crate::topology::THIS_NODE_SQL));
    }
}
