use super::ticker::every;
use crate::history::{Clock, Event, RoleSample};
use crate::topology::{Cluster, NodeKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Asks every etcd member who holds Patroni's leader key every `interval` until `stop`: the
/// store's own record of who leads, beside what each node says of itself.
pub async fn probe_leader_key(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    every(interval, stop, |in_flight| {
        for member in cluster.nodes_of(NodeKind::Etcd) {
            let (cluster, member, events) = (cluster.clone(), member.clone(), events.clone());
            in_flight.spawn(async move {
                let sent = clock.now();
                let answer = cluster
                    .leader_key_holder(&member, Duration::from_secs(1))
                    .await;
                let received = clock.now();
                let (holder, error) = match answer {
                    Ok(holder) => (holder, None),
                    Err(e) => (None, Some(e)),
                };
                let _ = events.send(Event::Role(RoleSample {
                    error,
                    ..RoleSample::authority("etcd", &member.name, sent, received, holder)
                }));
            });
        }
    })
    .await;
}
