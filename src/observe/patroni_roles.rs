use super::ticker::every;
use crate::history::{Clock, Event, ProbeSample};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Asks every node that reports its own role (Patroni: `GET /patroni`) every `interval` until
/// `stop`.
pub async fn probe_roles(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    every(interval, stop, |in_flight| {
        for node in cluster.self_reporting() {
            let (cluster, node, events) = (cluster.clone(), node.clone(), events.clone());
            in_flight.spawn(async move {
                let name = node.name.clone();
                let sent = clock.now();
                let status = cluster
                    .self_report(&node, Duration::from_secs(1))
                    .await
                    .unwrap_or_else(|| Err("the node's kind reports no role".into()));
                let received = clock.now();
                let sample = match status {
                    Ok(s) => ProbeSample {
                        node: name,
                        sent,
                        received,
                        role: Some(s.role),
                        timeline: s.epoch,
                        state: Some(s.state),
                        wal: s.position,
                        replayed: s.replayed,
                        streaming: s.streaming,
                        error: None,
                    },
                    Err(error) => ProbeSample {
                        node: name,
                        sent,
                        received,
                        role: None,
                        timeline: None,
                        state: None,
                        wal: None,
                        replayed: None,
                        streaming: Vec::new(),
                        error: Some(error),
                    },
                };
                let _ = events.send(Event::Probe(sample));
            });
        }
    })
    .await;
}
