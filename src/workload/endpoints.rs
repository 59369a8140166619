//! Where the workload's clients connect, from the running cluster: the one place the workload
//! knows the cluster's layout.

use crate::client::Endpoint;
use crate::scenario::ReadEndpoint;
use crate::topology::Cluster;
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
    }
    .map_err(|e| e.to_string())
}
