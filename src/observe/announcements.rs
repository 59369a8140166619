//! Listens to what nodes announce on their own (a Sentinel's events), all through the drill:
//! every node whose kind announces anything, each on a connection of its own.

use crate::history::{Clock, Event};
use crate::topology::{Cluster, Listen};
use futures_util::future::join_all;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Listens to every announcing node until `stop`.
pub async fn listen_announcements(
    cluster: Arc<Cluster>,
    clock: Clock,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    let listen = Listen {
        clock,
        events,
        stop,
    };
    let listeners = cluster
        .nodes
        .iter()
        .filter_map(|n| n.kind.kind().announcements(&cluster, n, listen.clone()));
    join_all(listeners).await;
}
