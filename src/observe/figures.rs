use super::ticker::every;
use crate::history::{Clock, Event};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The slowest cadence of the kinds' own figures: each sample opens a session on the node's
/// admin interface, so they are not taken faster than this even when roles are.
const AT_MOST_EVERY: Duration = Duration::from_millis(250);

/// Samples every node whose kind has figures of its own (a pooler's pools) every `interval`
/// (at most every 250 ms) until `stop`.
pub async fn probe_figures(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    let sampled: Vec<_> = cluster
        .nodes
        .iter()
        .filter(|n| n.kind.kind().sample(&cluster, n, clock).is_some())
        .cloned()
        .collect();
    if sampled.is_empty() {
        return;
    }
    every(interval.max(AT_MOST_EVERY), stop, |in_flight| {
        for node in &sampled {
            let (cluster, node, events) = (cluster.clone(), node.clone(), events.clone());
            in_flight.spawn(async move {
                if let Some(sample) = node.kind.kind().sample(&cluster, &node, clock) {
                    let _ = events.send(sample.await);
                }
            });
        }
    })
    .await;
}
