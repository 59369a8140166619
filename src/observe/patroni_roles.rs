use super::ticker::every;
use crate::history::{Clock, Event, ProbeSample};
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
                let sample = match status {
                    Ok(s) => ProbeSample {
                        node: name,
                        sent,
                        received,
                        role: Some(s.role),
                        timeline: s.timeline,
                        state: Some(s.state),
                        wal: s.wal,
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
