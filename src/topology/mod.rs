//! The topology: node kinds (one file each: packages, configuration, readiness, role probe),
//! the containers they run in, and the cluster that brings them up and hands out handles.

mod cluster;
mod disks;
mod http_error;
pub mod kind;
pub mod kinds;
mod node;
mod ready;
mod roles;
mod secrets;
pub mod stacks;

pub use cluster::{Cluster, TopologyError};
pub use disks::Disk;
pub use kind::{Kind, Naming, RoleReport};
pub use kinds::KINDS;
pub use kinds::patroni::{PG_PORT, REST_PORT as PATRONI_REST_PORT, THIS_NODE_SQL};
pub use node::{FileSpec, FixedPort, Node, NodeKind, NodeSpec};
pub use roles::Roles;
// The PostgreSQL client owns its error rule; probes and faults use its text.
pub use crate::client::pg_error_text;
pub use secrets::Secrets;
