//! The topology: node kinds (one file each: packages, configuration, readiness, role probe),
//! the stacks that combine them, and the cluster that brings a stack up: its containers, the
//! endpoints clients reach the nodes on, the role service, and the evidence kept of the run.

mod cluster;
pub mod compose;
mod containers;
mod disks;
mod endpoints;
mod error;
mod evidence;
mod http_error;
pub mod kind;
pub mod kinds;
mod node;
mod ready;
mod roles;
mod secrets;
pub mod stacks;

pub use cluster::{ClientEntry, Cluster};
pub use disks::Disk;
pub use endpoints::{EndpointError, Serves, SessionError};
pub use error::TopologyError;
pub use kind::{Kind, Listen, Naming, RoleReport};
pub use kinds::KINDS;
pub use kinds::patroni::{PG_PORT, REST_PORT as PATRONI_REST_PORT, THIS_NODE_SQL};
pub use node::{FileSpec, FixedPort, Health, Node, NodeKind, NodeSpec, SecretEnv};
pub use roles::{Roles, lists_address};
// The PostgreSQL client owns its error rule; probes and faults use its text.
pub use crate::client::pg_error_text;
pub use secrets::{Secret, Secrets, SecretsAt};
