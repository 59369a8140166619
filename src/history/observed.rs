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
    /// The application servers behind the proxy's HTTP endpoint, with an application tier
    /// (format 7), in configuration order (app1 first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier: Vec<TierServer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a proxy's stats page says: the database servers behind its client endpoint and the
/// application servers behind its HTTP endpoint (none without an application tier).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Routing {
    pub servers: Vec<ProxyServer>,
    pub tier: Vec<TierServer>,
}

/// One application server in HAProxy's view: its status and the counters HAProxy keeps for it
/// since HAProxy started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierServer {
    pub name: String,
    /// HAProxy's words, as for [`ProxyServer::status`].
    pub status: String,
    /// The last health check's result (`L7OK`, `L7STS` for a status other than 200, `L4CON`
    /// refused, `L4TOUT` no answer...).
    pub check: String,
    /// Requests HAProxy assigned to it (`stot`), whether or not it answered.
    pub sessions_total: u64,
    /// Requests taken away from it to another server after its connection failed (`wredis`).
    pub redispatched: u64,
    /// Connection attempts to it retried (`wretr`).
    pub retried: u64,
    /// Connection attempts to it that failed (`econ`).
    pub connect_errors: u64,
    /// Responses from it that broke off or timed out (`eresp`).
    pub response_errors: u64,
}

impl TierServer {
    /// Whether HAProxy would hand it a new request (see [`ProxyServer::is_up`]).
    pub fn is_up(&self) -> bool {
        self.status.starts_with("UP")
    }
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

    /// The application server `name` in this sample, if the proxy has one.
    pub fn tier_server(&self, name: &str) -> Option<&TierServer> {
        self.tier.iter().find(|s| s.name == name)
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
