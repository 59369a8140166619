use super::ticker::every;
use crate::history::{Clock, Event, RoleSample};
use crate::topology::Cluster;
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
        for member in cluster.authorities() {
            let (cluster, member, events) = (cluster.clone(), member.clone(), events.clone());
            in_flight.spawn(async move {
                let sent = clock.now();
                let answer = cluster
                    .named_leader(&member, Duration::from_secs(1))
                    .await
                    .unwrap_or_else(|| Err("the node's kind names no leader".into()));
                let received = clock.now();
                let (holder, error) = match answer {
                    Ok(holder) => (holder, None),
                    Err(e) => (None, Some(e)),
                };
                let _ = events.send(Event::Role(RoleSample {
                    error,
                    ..RoleSample::authority(
                        member.kind.name(),
                        &member.name,
                        sent,
                        received,
                        holder,
                    )
                }));
            });
        }
    })
    .await;
}
