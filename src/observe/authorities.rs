use super::ticker::every;
use crate::history::{Clock, Event, RoleSample};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Asks every node whose kind is an authority on who leads (a store holding a leader key, such
/// as etcd for Patroni; an arbiter) which node it names, every `interval` until `stop`: the
/// authority's own record, beside what each node says of itself.
pub async fn probe_authorities(
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
