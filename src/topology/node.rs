use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kinds of node a topology is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Etcd,
    Patroni,
    Haproxy,
}

impl NodeKind {
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Etcd => "etcd",
            NodeKind::Patroni => "patroni",
            NodeKind::Haproxy => "haproxy",
        }
    }
}

/// A file placed in a container before it starts.
#[derive(Clone, Debug)]
pub struct FileSpec {
    pub path: String,
    pub contents: String,
    pub mode: u32,
}

/// Everything needed to create one node's container, rendered by its kind.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// The node's name: its host name and network alias (pg1, etcd2, haproxy).
    pub name: String,
    pub kind: NodeKind,
    pub cmd: Vec<String>,
    pub user: Option<String>,
    pub files: Vec<FileSpec>,
    /// Container ports published on 127.0.0.1, each on a host port firedrill chooses for the
    /// run unless `fixed_ports` names it.
    pub ports: Vec<u16>,
    /// Container ports (among `ports`) the scenario publishes on a host port of its own
    /// choosing, known in advance.
    pub fixed_ports: Vec<FixedPort>,
    /// Linux capabilities added (NET_ADMIN for iptables faults).
    pub cap_add: Vec<String>,
    /// The node's disks: in memory, size-limited, kept across restarts (see `disks`).
    pub disks: Vec<super::Disk>,
}

impl NodeSpec {
    /// The host port the scenario fixed for `container_port`, if it did.
    pub fn fixed_host_port(&self, container_port: u16) -> Option<&FixedPort> {
        self.fixed_ports
            .iter()
            .find(|fixed| fixed.container == container_port)
    }
}

/// A container port published on a host port the scenario chose (`[topology.haproxy] port`),
/// not one firedrill picks for the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedPort {
    /// The container port, one of `NodeSpec::ports`.
    pub container: u16,
    /// The port on 127.0.0.1.
    pub host: u16,
    /// The scenario setting that fixed it, for messages (`[topology.haproxy] port`).
    pub setting: &'static str,
}

/// A node whose container has been started.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// The container's name in the engine.
    pub container: String,
    /// The node's address on the run's private network when it started (a restart may change
    /// it: see `Cluster::current_ip`).
    pub ip: String,
    /// Container port → port published on 127.0.0.1.
    pub ports: BTreeMap<u16, u16>,
}

impl Node {
    /// The host address of a container port, e.g. `127.0.0.1:49153`.
    pub fn host_addr(&self, container_port: u16) -> Option<String> {
        self.ports
            .get(&container_port)
            .map(|p| format!("127.0.0.1:{p}"))
    }
}
