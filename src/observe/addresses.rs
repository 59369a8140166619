use crate::history::{At, Clock, Event, RoleSample};
use crate::topology::{Cluster, Node};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The source's name in the history: the address as the node's own interface lists it.
pub const SOURCE: &str = "vip";

/// What the watcher prints after each listing of the node's addresses.
const END_OF_LISTING: &str = ".";

/// Watches, on every node that may hold the stack's virtual IP, whether it does, from its own
/// interface, until `stop`: two holders at once are a split brain, the holder changing is the
/// address moving. Nothing when the stack has no virtual IP.
///
/// One long-running command per node lists its addresses every `interval` (an `exec` per
/// sample costs the engine more than a loaded host gives it in time); each listing is one
/// sample, held at some instant between the end of the listing before it and its own end. A
/// paused node lists nothing (no sample); a stopped one ends its watcher, which is started
/// again every `interval` (each failed start an unanswered sample).
pub async fn probe_addresses(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    let Some(address) = cluster.client_entry.virtual_ip().map(str::to_owned) else {
        return;
    };
    let watchers = cluster.address_candidates().map(|node| {
        watch(
            &cluster,
            node.clone(),
            &address,
            (clock, interval),
            &events,
            &stop,
        )
    });
    futures_util::future::join_all(watchers.collect::<Vec<_>>()).await;
}

async fn watch(
    cluster: &Cluster,
    node: Node,
    address: &str,
    (clock, interval): (Clock, Duration),
    events: &UnboundedSender<Event>,
    stop: &CancellationToken,
) {
    let script = format!(
        "while :; do ip -4 -o addr show dev eth0; echo {END_OF_LISTING}; sleep {:.3}; done",
        interval.as_secs_f64()
    );
    let send = |sent: At, answer: Result<bool, String>| {
        let sample = RoleSample::address(SOURCE, &node.name, (sent, clock.now()), answer, address);
        let _ = events.send(Event::Role(sample));
    };
    while !stop.is_cancelled() {
        let mut sent = clock.now();
        let started = crate::engine::exec_lines(
            &cluster.docker,
            &node.container,
            Some("root"),
            &["sh", "-c", &script],
        )
        .await;
        let ended = match started {
            Err(e) => format!("watch the addresses of {}: {e}", node.name),
            Ok(mut lines) => {
                let mut listing = String::new();
                loop {
                    let line = tokio::select! {
                        _ = stop.cancelled() => return,
                        line = lines.next() => line,
                    };
                    match line {
                        Some(Ok(line)) if line.trim() == END_OF_LISTING => {
                            send(sent, Ok(crate::topology::lists_address(&listing, address)));
                            listing.clear();
                            sent = clock.now();
                        }
                        Some(Ok(line)) => {
                            listing.push_str(&line);
                            listing.push('\n');
                        }
                        Some(Err(e)) => {
                            break format!("watching the addresses of {}: {e}", node.name);
                        }
                        None => {
                            break format!(
                                "the watcher of {}'s addresses ended (stopped?)",
                                node.name
                            );
                        }
                    }
                }
            }
        };
        send(sent, Err(ended));
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
