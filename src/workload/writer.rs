use super::Acknowledged;
use super::schedule::on_schedule;
use super::sessions::Sessions;
use crate::client::{Accepted, Client, Failure};
use crate::history::{At, Clock, ErrorKind, Event, Outcome, WriteOp};
use crate::scenario::Workload;
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Starts write attempts at `spec.rate` per second on a fixed schedule from the run's start until
/// `stop` is cancelled, each concurrently, so that an attempt is in flight at every instant
/// of an outage: the recovery edge is then known to within one period. Waits for the last
/// attempts to finish. Sequence numbers start at `first_seq`. Each acknowledged write is
/// recorded in `acked` once its complete instant is taken, for the readers.
#[allow(clippy::too_many_arguments)]
pub async fn run_writes(
    client: Arc<dyn Client>,
    cluster: Arc<Cluster>,
    spec: Workload,
    clock: Clock,
    stop: CancellationToken,
    events: UnboundedSender<Event>,
    first_seq: u64,
    acked: Arc<Acknowledged>,
) {
    let period = Duration::from_secs(1) / spec.rate.max(1);
    let sessions = Arc::new(Sessions::new(client, spec.writers, spec.connect_timeout));
    on_schedule(clock, period, &stop, &events, |k| {
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
            super::endpoints::write_endpoint(
                &self.cluster,
                self.spec.through,
                self.spec.connect_timeout,
            )
        };
        let mut connection = match self.sessions.take(endpoint).await {
            Ok(connection) => connection,
            Err(failure) => return self.op(invoke, Err(failure)),
        };
        let result =
            tokio::time::timeout(self.spec.write_timeout, connection.write(self.seq)).await;
        match result {
            Ok(Ok(accepted)) => {
                self.sessions.give_back(connection);
                let op = self.op(invoke, Ok(accepted));
                // After the complete instant was taken: a read that expects this write is
                // invoked after it was acknowledged.
                self.acked.record(self.seq);
                op
            }
            // The write was sent: the client's rule said what its error means.
            Ok(Err(failure)) => self.op(invoke, Err(failure)),
            Err(_) => self.op(
                invoke,
                Err(Failure::new(
                    ErrorKind::WriteTimeout,
                    format!(
                        "no answer within {}",
                        humantime::format_duration(self.spec.write_timeout)
                    ),
                )),
            ),
        }
    }

    /// The write's record: accepted by a node in an epoch (`ok`), or the failure's kind and
    /// text (the outcome is the kind's).
    fn op(&self, invoke: At, result: Result<Accepted, Failure>) -> WriteOp {
        let status = match &result {
            Ok(accepted) => accepted.status,
            Err(failure) => failure.status,
        };
        let (outcome, accepted, failure) = match result {
            Ok(accepted) => (Outcome::Ok, Some(accepted), None),
            Err(failure) => (failure.kind.outcome(), None, Some(failure)),
        };
        WriteOp {
            seq: self.seq,
            invoke,
            complete: self.clock.now(),
            outcome,
            node: accepted.as_ref().map(|a| a.node.clone()),
            via: accepted.as_ref().and_then(|a| a.via.clone()),
            status,
            // The history records the epoch as a PostgreSQL-sized timeline.
            timeline: accepted
                .and_then(|a| a.epoch)
                .map(|e| u32::try_from(e).unwrap_or(u32::MAX)),
            error_kind: failure.as_ref().map(|f| f.kind),
            error: failure.map(|f| f.text),
        }
    }
}
