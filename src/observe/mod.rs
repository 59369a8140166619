//! Probes: samples of the stack's state on the run's clock, recorded into the history. Each
//! source in its own file, every one asking the topology's registry which nodes offer it:
//! what nodes say of their own role (Patroni's REST API), which node an authority names (the
//! leader key in etcd), the proxy's view of its servers (HAProxy's stats), each database
//! server's replication as it reports it (PostgreSQL), the figures of kinds that have their
//! own (a pooler's pools), and what nodes announce as it happens (a Sentinel's events). A new kind that offers one of these is probed without a change
//! here.

mod addresses;
mod announcements;
mod authorities;
mod figures;
mod proxy;
mod replication;
mod self_reports;
mod ticker;

pub use addresses::probe_addresses;
pub use announcements::listen_announcements;
pub use authorities::probe_authorities;
pub use figures::probe_figures;
pub use proxy::probe_proxy;
pub use replication::probe_replication;
pub use self_reports::probe_self_reports;

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
        probe_self_reports(
            cluster.clone(),
            clock,
            interval,
            events.clone(),
            stop.clone()
        ),
        probe_authorities(
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
        probe_addresses(
            cluster.clone(),
            clock,
            interval,
            events.clone(),
            stop.clone()
        ),
        listen_announcements(cluster.clone(), clock, events.clone(), stop.clone()),
        probe_replication(cluster, clock, interval, events, stop),
    );
}
