use super::Acknowledged;
use super::endpoints::read_endpoint;
use super::schedule::on_schedule;
use super::sessions::Sessions;
use crate::client::{Client, Seen};
use crate::history::{At, Clock, Event, Outcome, ReadOp};
use crate::scenario::Workload;
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Starts reads at `spec.read_rate` per second on a fixed schedule from the run's start until
/// `stop` is cancelled, each concurrently, through `spec.read_through`, with at most `spec.readers`
/// connections kept open. Each looks for the highest sequence number in `acked` at its invoke
/// instant. Waits for the last reads to finish. Does nothing without readers.
pub async fn run_reads(
    client: Arc<dyn Client>,
    cluster: Arc<Cluster>,
    spec: Workload,
    clock: Clock,
    stop: CancellationToken,
    events: UnboundedSender<Event>,
    acked: Arc<Acknowledged>,
) {
    if spec.readers == 0 || spec.read_rate == 0 {
        return;
    }
    let period = Duration::from_secs(1) / spec.read_rate;
    // Their own sessions and connection slots: reads never hold up the writers'.
    let sessions = Arc::new(Sessions::new(client, spec.readers, spec.connect_timeout));
    on_schedule(clock, period, &stop, &events, |_| {
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
        let endpoint = || {
            read_endpoint(
                &self.cluster,
                self.spec.read_through,
                self.spec.connect_timeout,
            )
        };
        let mut connection = self.sessions.take(endpoint).await.map_err(|f| f.text)?;
        let answer =
            tokio::time::timeout(self.spec.write_timeout, connection.read_latest(expected)).await;
        match answer {
            Ok(Ok(seen)) => {
                self.sessions.give_back(connection);
                Ok(seen)
            }
            Ok(Err(failure)) => Err(failure.text),
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
            node: seen.as_ref().map(|s| s.node.clone()),
            in_recovery: seen.as_ref().map(|s| s.replica),
            cache: seen.as_ref().and_then(|s| s.cache.clone()),
            age: seen.as_ref().and_then(|s| s.age),
            visible: seen.and_then(|s| expected.map(|_| s.visible)),
            error,
        }
    }
}
