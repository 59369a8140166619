use super::ticker::every;
use crate::history::{Clock, Event, ProxySample};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Reads HAProxy's view of its servers (its stats page) every `interval` until `stop`.
pub async fn probe_proxy(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    every(interval, stop, |in_flight| {
        let (cluster, events) = (cluster.clone(), events.clone());
        in_flight.spawn(async move {
            let sent = clock.now();
            let answer = cluster.proxy_servers(Duration::from_secs(1)).await;
            let received = clock.now();
            let (servers, error) = match answer {
                Ok(servers) => (servers, None),
                Err(e) => (Vec::new(), Some(e)),
            };
            let _ = events.send(Event::Proxy(ProxySample {
                sent,
                received,
                servers,
                error,
            }));
        });
    })
    .await;
}
