//! The topology: node kinds (one file each: packages, configuration, readiness, role probe),
//! the containers they run in, and the cluster that brings them up and hands out handles.

mod cluster;
mod disks;
mod etcd;
mod haproxy;
mod http_error;
mod node;
mod patroni;
mod ready;
mod secrets;

pub use cluster::{Cluster, TopologyError};
pub use disks::Disk;
pub use node::{FileSpec, FixedPort, Node, NodeKind, NodeSpec};
pub use patroni::{
    PG_PORT, PatroniStatus, REST_PORT as PATRONI_REST_PORT, THIS_NODE_SQL, probe_patroni,
};
// The PostgreSQL client owns its error rule; probes and faults use its text.
pub use crate::client::pg_error_text;
pub use secrets::Secrets;
