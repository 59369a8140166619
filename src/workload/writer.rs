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
            // The statement was sent: what the error means depends on its SQLSTATE, if any.
            Ok(Err(e)) => {
                let kind = sent_error_kind(e.code().map(|c| c.code()));
                let text = if e.as_db_error().is_some() {
                    pg_error_text(&e)
                } else {
                    format!("connection lost: {e}")
                };
                self.op(invoke, Err((kind, text)))
            }
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

/// The kind of an error that ended a write after its INSERT was sent (an autocommit statement:
/// its COMMIT goes with it), from the server's SQLSTATE (`None`: no answer from the server, the
/// connection broke). With [`ErrorKind::outcome`] this is the outcome rule for a sent write;
/// errors before it was sent are classified by the sessions and are all `fail` (or `not_sent`).
///
/// - no SQLSTATE: the connection broke: `connection_lost` (`unknown`);
/// - 25006: the server is read-only: `read_only` (`fail`);
/// - 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: the server was
///   going down, perhaps while the commit waited for a synchronous standby (the row is then
///   committed locally): `server_shutdown` (`unknown`);
/// - any other: `server_error` (`fail`).
fn sent_error_kind(sqlstate: Option<&str>) -> ErrorKind {
    match sqlstate {
        None => ErrorKind::ConnectionLost,
        Some("25006") => ErrorKind::ReadOnly,
        Some("57P01" | "57P02" | "57P03") => ErrorKind::ServerShutdown,
        Some(_) => ErrorKind::ServerError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_after_the_insert_was_sent_are_unknown_when_it_may_have_committed() {
        use crate::history::Outcome;
        use tokio_postgres::error::SqlState;
        let outcome = |state: Option<&SqlState>| sent_error_kind(state.map(SqlState::code));
        assert_eq!(outcome(None), ErrorKind::ConnectionLost);
        assert_eq!(
            outcome(Some(&SqlState::READ_ONLY_SQL_TRANSACTION)),
            ErrorKind::ReadOnly
        );
        for state in [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ] {
            let kind = outcome(Some(&state));
            assert_eq!(kind, ErrorKind::ServerShutdown, "{}", state.code());
            assert_eq!(kind.outcome(), Outcome::Unknown, "{}", state.code());
        }
        let kind = outcome(Some(&SqlState::UNIQUE_VIOLATION));
        assert_eq!(
            (kind, kind.outcome()),
            (ErrorKind::ServerError, Outcome::Fail)
        );
        assert_eq!(outcome(None).outcome(), Outcome::Unknown);
        assert_eq!(ErrorKind::ReadOnly.outcome(), Outcome::Fail);
    }

    #[test]
    fn insert_targets_the_prepared_table_and_names_the_node() {
        assert!(INSERT.contains(&format!("INTO {} ", super::super::TABLE)));
        assert!(INSERT.contains(crate::topology::THIS_NODE_SQL));
    }
}
