use super::ticker::every;
use crate::history::{Clock, Event, ProxySample, Routing};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Reads the proxy's view of its servers (HAProxy: its stats page) every `interval` until
/// `stop`, if the cluster has a proxy that tells one (the client endpoint, or the one in front
/// of the application tier): a stack without such a proxy has no proxy samples.
pub async fn probe_proxy(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    if !cluster.has_routing() {
        return;
    }
    every(interval, stop, |in_flight| {
        let (cluster, events) = (cluster.clone(), events.clone());
        in_flight.spawn(async move {
            let sent = clock.now();
            let Some(answer) = cluster.routing(Duration::from_secs(1)).await else {
                return;
            };
            let received = clock.now();
            let (routing, error) = match answer {
                Ok(routing) => (routing, None),
                Err(e) => (Routing::default(), Some(e)),
            };
            let _ = events.send(Event::Proxy(ProxySample {
                sent,
                received,
                servers: routing.servers,
                tier: routing.tier,
                error,
            }));
        });
    })
    .await;
}
