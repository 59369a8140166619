use super::ticker::every;
use crate::history::{Clock, Event, RoleSample};
use crate::topology::{Cluster, NodeKind, PATRONI_REST_PORT, probe_patroni};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Asks every Patroni node for its role (`GET /patroni`) every `interval` until `stop`.
pub async fn probe_roles(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    every(interval, stop, |in_flight| {
        for node in cluster.nodes_of(NodeKind::Patroni) {
            let Some(addr) = node.host_addr(PATRONI_REST_PORT) else {
                continue;
            };
            let (http, name, events) = (cluster.http.clone(), node.name.clone(), events.clone());
            in_flight.spawn(async move {
                let sent = clock.now();
                let status = probe_patroni(&http, &addr, Duration::from_secs(1)).await;
                let received = clock.now();
                let empty = RoleSample::self_report("patroni", &name, sent, received);
                let sample = match status {
                    Ok(s) => RoleSample {
                        role: Some(s.role),
                        epoch: s.timeline.map(u64::from),
                        state: Some(s.state),
                        position: s.wal,
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
