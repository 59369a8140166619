//! A connection pooler's own figures (pgBouncer's `SHOW POOLS` and `SHOW SERVERS` on its admin
//! console), sampled on the run's clock beside the other sources.

use super::At;
use serde::{Deserialize, Serialize};

/// One answer of one pooler, held at some instant in `[sent, received]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolSample {
    /// The pooler asked (`pgbouncer1`).
    pub pooler: String,
    /// The database node its server connections go to (`pg1`).
    pub server: String,
    pub sent: At,
    pub received: At,
    /// Server connections the pool may hold (`pool_size` of `SHOW DATABASES`).
    #[serde(default)]
    pub pool_size: u64,
    /// The pools serving the workload's database, as `SHOW POOLS` lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<PoolStat>,
    /// Server connections open now by state (`SHOW SERVERS`): where each points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerConnection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One pool (database and user) of `SHOW POOLS`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolStat {
    pub database: String,
    pub user: String,
    /// Clients linked to a server connection or idle with none needed.
    pub cl_active: u64,
    /// Clients that sent a query and wait for a server connection.
    pub cl_waiting: u64,
    /// Server connections linked to a client.
    pub sv_active: u64,
    /// Server connections unused and usable at once.
    pub sv_idle: u64,
    /// Server connections idle for longer than `server_check_delay`, to be checked first.
    pub sv_used: u64,
    /// Server connections being checked or reset.
    pub sv_tested: u64,
    /// Server connections logging in.
    pub sv_login: u64,
    /// How long the oldest waiting client has waited, in microseconds.
    pub maxwait_us: u64,
}

impl PoolStat {
    /// Server connections open, in any state.
    pub fn servers_open(&self) -> u64 {
        self.sv_active + self.sv_idle + self.sv_used + self.sv_tested + self.sv_login
    }
}

/// One server connection of `SHOW SERVERS`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConnection {
    pub database: String,
    /// pgBouncer's word: `active`, `idle`, `used`, `tested`, `new`.
    pub state: String,
    /// The address it is connected to.
    pub addr: String,
    pub port: u16,
}

impl PoolSample {
    /// Server connections in use (linked to a client) over all pools.
    pub fn active(&self) -> u64 {
        self.pools.iter().map(|p| p.sv_active).sum()
    }

    /// Clients waiting for a server connection over all pools.
    pub fn waiting(&self) -> u64 {
        self.pools.iter().map(|p| p.cl_waiting).sum()
    }

    /// Server connections open, in any state, over all pools.
    pub fn servers_open(&self) -> u64 {
        self.pools.iter().map(PoolStat::servers_open).sum()
    }

    /// The longest a client has waited, in microseconds.
    pub fn maxwait_us(&self) -> u64 {
        self.pools.iter().map(|p| p.maxwait_us).max().unwrap_or(0)
    }
}
