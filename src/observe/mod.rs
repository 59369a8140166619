//! Probes: samples of the stack's state on the run's clock, recorded into the history. Each
//! source in its own file: Patroni's view of each node, the leader key in etcd, HAProxy's view
//! of its servers, each primary's replication as PostgreSQL reports it, and the figures of
//! kinds that have their own (a pooler's pools).

mod figures;
mod leader_key;
mod patroni_roles;
mod proxy;
mod replication;
mod ticker;

pub use figures::probe_figures;
pub use leader_key::probe_leader_key;
pub use patroni_roles::probe_roles;
pub use proxy::probe_proxy;
pub use replication::probe_replication;

use crate::history::{Clock, Event};
use crate::topology::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Runs every probe every `interval` until `stop`.
pub async fn probe_all(
    cluster: Arc<Cluster>,
    clock: Clock,
    interval: Duration,
    events: UnboundedSender<Event>,
    stop: CancellationToken,
) {
    tokio::join!(
        probe_roles(
            cluster.clone(),
            clock,
            interval,
            events.clone(),
            stop.clone()
        ),
        probe_leader_key(
            cluster.clone(),
            clock,
            interval,
            events.clone(),
            stop.clone()
        ),
        probe_proxy(
            cluster.clone(),
            clock,
            interval,
            events.clone(),
            stop.clone()
        ),
        probe_figures(
            cluster.clone(),
            clock,
            interval,
            events.clone(),
            stop.clone()
        ),
        probe_replication(cluster, clock, interval, events, stop),
    );
}
