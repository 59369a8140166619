use super::ticker::every;
use crate::history::{Clock, Event, RoleSample};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The source's name in the history: the address as the node's own interface lists it.
pub const SOURCE: &str = "vip";

/// Asks every node that may hold the stack's virtual IP whether it does, from its own
/// interface (`ip -4 addr` inside it), every `interval` until `stop`: two holders at once are
/// a split brain, the holder changing is the address moving. Nothing when the stack has no
/// virtual IP.
pub async fn probe_addresses(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    let Some((address, _)) = cluster.virtual_ip.clone() else {
        return;
    };
    every(interval, stop, |in_flight| {
        for node in cluster.address_candidates() {
            let (cluster, node, events) = (cluster.clone(), node.clone(), events.clone());
            let address = address.clone();
            in_flight.spawn(async move {
                let sent = clock.now();
                let answer = cluster
                    .holds_virtual_ip(&node, Duration::from_secs(1))
                    .await
                    .unwrap_or_else(|| Err("the stack has no virtual IP".into()));
                let received = clock.now();
                let sample =
                    RoleSample::address(SOURCE, &node.name, (sent, received), answer, &address);
                let _ = events.send(Event::Role(sample));
            });
        }
    })
    .await;
}
