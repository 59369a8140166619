//! Samples of the stack's other sources of truth, beside the role sources (`RoleSample`):
//! HAProxy's view of its servers, and each primary's replication as PostgreSQL itself reports
//! it. Each holds at some instant in `[sent, received]`.

use super::At;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// HAProxy's view of the servers behind the client endpoint, from its stats page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxySample {
    pub sent: At,
    pub received: At,
    /// In configuration order (pg1 first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ProxyServer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxyServer {
    pub name: String,
    /// HAProxy's words: `UP`, `DOWN`, `UP 1/2` (up, failing checks), `DOWN 1/2` (down, passing
    /// checks), `MAINT`, ...
    pub status: String,
    /// Sessions open to the server now.
    pub sessions: u64,
}

impl ProxyServer {
    /// Whether HAProxy would hand it a new connection: its status is UP (even while checks
    /// start failing, `UP 1/3`).
    pub fn is_up(&self) -> bool {
        self.status.starts_with("UP")
    }
}

impl ProxySample {
    pub fn server(&self, name: &str) -> Option<&ProxyServer> {
        self.servers.iter().find(|s| s.name == name)
    }
}

/// What a node's PostgreSQL said of itself, asked directly (not through Patroni): whether it is
/// in recovery and, for a primary, its WAL position and its `pg_stat_replication`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationSample {
    pub node: String,
    pub sent: At,
    pub received: At,
    /// `pg_is_in_recovery()`; `None` when the node did not answer (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_recovery: Option<bool>,
    /// A primary's `pg_current_wal_lsn()` in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ReplicationSample {
    /// Whether the node answered as a primary (not in recovery).
    pub fn is_primary(&self) -> bool {
        self.in_recovery == Some(false)
    }
}

/// One row of a primary's `pg_stat_replication`. Positions are in bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicaStat {
    /// `application_name`: the replica's node name.
    pub name: String,
    /// `streaming`, `catchup`, `startup`, ...
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<u64>,
    /// `replay_lag`: how long ago the WAL the replica last replayed was flushed on the primary
    /// (PostgreSQL's own measure; empty while the replica is idle and caught up).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub replay_lag: Option<Duration>,
}
