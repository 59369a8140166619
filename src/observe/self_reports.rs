use super::ticker::every;
use crate::history::{Clock, Event, RoleSample};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Asks every node whose kind reports its own role (Patroni's REST API, say) what it is now,
/// every `interval` until `stop`: one role sample per node, named by the kind as its source.
pub async fn probe_self_reports(
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
                let empty = RoleSample::self_report(node.kind.name(), &name, sent, received);
                let sample = match status {
                    Ok(s) => RoleSample {
                        role: Some(s.role),
                        epoch: s.epoch.map(u64::from),
                        state: Some(s.state),
                        position: s.position,
                        replayed: s.replayed,
                        streaming: s.streaming,
                        ..empty
                    },
                    Err(error) => RoleSample {
                        error: Some(error),
                        ..empty
                    },
                };
                let _ = events.send(Event::Role(sample));
            });
        }
    })
    .await;
}
