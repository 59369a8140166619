//! Where the workload's clients connect, from the running cluster: the one place the workload
//! knows the cluster's layout.

use crate::client::{Client, Endpoint, Http, Protocol};
use crate::scenario::{Endpoint as Through, ReadEndpoint, Topology};
use crate::topology::Cluster;
use crate::topology::kinds::{VARNISH, app, varnish};
use std::sync::Arc;
use std::time::Duration;

/// Where reads go: the client endpoint, or the proxy's replica endpoint if it has one.
pub(super) fn read_endpoint(
    cluster: &Cluster,
    through: ReadEndpoint,
    connect_timeout: Duration,
) -> Result<Endpoint, String> {
    match through {
        ReadEndpoint::Primary => cluster.primary_endpoint(connect_timeout),
        ReadEndpoint::Replica => cluster.replica_endpoint(connect_timeout),
        ReadEndpoint::Cache => {
            let cache = cluster
                .nodes_of(VARNISH)
                .next()
                .ok_or("the run has no cache node")?;
            cluster.endpoint_at(cache, varnish::PORT, connect_timeout)
        }
    }
    .map_err(|e| e.to_string())
}

/// The client the reads go through: the database's own (`database`), or HTTP through the cache
/// asking the application tier for its latest write.
pub fn read_client(
    through: ReadEndpoint,
    topology: &Topology,
    database: Arc<dyn Client>,
) -> Arc<dyn Client> {
    match (through, app::settings(topology)) {
        (ReadEndpoint::Cache, Some(tier)) => Arc::new(Http::through_cache(&tier.latest_path)),
        (ReadEndpoint::Cache, None) => Arc::new(Http::through_cache(app::LATEST_PATH)),
        (ReadEndpoint::Primary | ReadEndpoint::Replica, _) => database,
    }
}

/// Where writes go: the client endpoint (the database's protocol), or the application tier's
/// HTTP endpoint in front of it.
pub(super) fn write_endpoint(
    cluster: &Cluster,
    through: Through,
    connect_timeout: Duration,
) -> Result<Endpoint, String> {
    match through {
        Through::Haproxy => cluster.primary_endpoint(connect_timeout),
        Through::App => cluster.tier_endpoint(connect_timeout),
    }
    .map_err(|e| e.to_string())
}

/// The client the writes go through: the database's own (`database`), or HTTP to the
/// application tier at its servers' paths.
pub fn write_client(
    through: Through,
    topology: &Topology,
    database: Arc<dyn Client>,
) -> Arc<dyn Client> {
    match (through, app::settings(topology)) {
        (Through::App, Some(tier)) => Arc::new(Http::new(&tier.write_path, &tier.read_path)),
        (Through::App, None) => Protocol::Http.client(),
        (Through::Haproxy, _) => database,
    }
}
