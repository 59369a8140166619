use super::Acknowledged;
use super::schedule::on_schedule;
use super::sessions::Sessions;
use crate::history::{At, Clock, Event, Outcome, ReadOp};
use crate::scenario::{ReadEndpoint, Workload};
use crate::topology::{Cluster, pg_error_text};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The SELECT returns, from the server that answered it, its node name (`firedrill.node`),
/// whether it is in recovery (a replica), and whether the row of sequence number `$1` is there
/// (false when `$1` is NULL: no write to look for).
const SELECT: &str = "SELECT current_setting('firedrill.node'), pg_is_in_recovery(), \
     EXISTS(SELECT 1 FROM firedrill_writes WHERE seq = $1)";

/// What an ok read saw: the node, whether it was in recovery, whether the row was there.
type Seen = (String, bool, bool);

/// Starts reads at `spec.read_rate` per second on a fixed schedule from the run's start until
/// `until`, each concurrently, through `spec.read_through`, with at most `spec.readers`
/// connections kept open. Each looks for the highest sequence number in `acked` at its invoke
/// instant. Waits for the last reads to finish. Does nothing without readers.
pub async fn run_reads(
    cluster: Arc<Cluster>,
    spec: Workload,
    clock: Clock,
    until: At,
    events: UnboundedSender<Event>,
    acked: Arc<Acknowledged>,
) {
    if spec.readers == 0 || spec.read_rate == 0 {
        return;
    }
    let period = Duration::from_secs(1) / spec.read_rate;
    // Their own sessions and connection slots: reads never hold up the writers'.
    let sessions = Arc::new(Sessions::new(SELECT, spec.readers, spec.connect_timeout));
    on_schedule(clock, period, until, &events, |_| {
        let read = Read {
            cluster: cluster.clone(),
            spec: spec.clone(),
            sessions: sessions.clone(),
            acked: acked.clone(),
            clock,
        };
        async move { Event::Read(read.run().await) }
    })
    .await;
}

struct Read {
    cluster: Arc<Cluster>,
    spec: Workload,
    sessions: Arc<Sessions>,
    acked: Arc<Acknowledged>,
    clock: Clock,
}

impl Read {
    async fn run(self) -> ReadOp {
        // Looked up before the invoke instant is taken: the expected write was acknowledged at
        // or before it.
        let expected = self.acked.highest();
        let invoke = self.clock.now();
        let result = self.select(expected).await;
        self.op(invoke, expected, result)
    }

    async fn select(&self, expected: Option<u64>) -> Result<Seen, String> {
        let endpoint = || match self.spec.read_through {
            ReadEndpoint::Primary => Ok(self
                .cluster
                .pg_config(self.cluster.endpoint(), self.spec.connect_timeout)),
            ReadEndpoint::Replica => self
                .cluster
                .replica_endpoint_config(self.spec.connect_timeout)
                .ok_or_else(|| "haproxy has no replica endpoint".to_string()),
        };
        let session = self
            .sessions
            .take(endpoint)
            .await
            .map_err(|(_, error)| error)?;
        let seq = expected.map(|s| i64::try_from(s).expect("sequence numbers fit i64"));
        let answer = tokio::time::timeout(
            self.spec.write_timeout,
            session.client.query_one(&session.statement, &[&seq]),
        )
        .await;
        match answer {
            Ok(Ok(row)) => {
                let seen = (row.get(0), row.get(1), row.get(2));
                self.sessions.give_back(session);
                Ok(seen)
            }
            Ok(Err(e)) if e.as_db_error().is_some() => Err(pg_error_text(&e)),
            Ok(Err(e)) => Err(format!("connection lost: {e}")),
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(self.spec.write_timeout)
            )),
        }
    }

    /// The read's record: what an ok read saw, or what went wrong (`fail`).
    fn op(&self, invoke: At, expected: Option<u64>, result: Result<Seen, String>) -> ReadOp {
        let complete = self.clock.now();
        let (outcome, seen, error) = match result {
            Ok(seen) => (Outcome::Ok, Some(seen), None),
            Err(error) => (Outcome::Fail, None, Some(error)),
        };
        ReadOp {
            invoke,
            complete,
            outcome,
            through: self.spec.read_through,
            expected_seq: expected,
            node: seen.as_ref().map(|(node, _, _)| node.clone()),
            in_recovery: seen.as_ref().map(|&(_, in_recovery, _)| in_recovery),
            visible: seen.and_then(|(_, _, visible)| expected.map(|_| visible)),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_reads_the_prepared_table_and_names_the_node() {
        assert!(SELECT.contains(&format!("FROM {} ", super::super::TABLE)));
        assert!(SELECT.contains(crate::topology::THIS_NODE_SQL));
        assert!(SELECT.contains("pg_is_in_recovery()"));
    }
}
