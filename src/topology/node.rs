use super::kind::Kind;
use super::kinds::KINDS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node's kind: a handle on its entry in the registry (`kinds::KINDS`). Compared, hashed and
/// ordered by registry position; written in run.json as its name.
#[derive(Clone, Copy)]
pub struct NodeKind(&'static dyn Kind);

impl NodeKind {
    pub const fn of(kind: &'static dyn Kind) -> Self {
        NodeKind(kind)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// What the kind provides.
    pub fn kind(self) -> &'static dyn Kind {
        self.0
    }

    /// The registered kind of this name.
    pub fn named(name: &str) -> Option<NodeKind> {
        KINDS.iter().copied().find(|k| k.name() == name)
    }

    /// Its place in the registry: the order kinds are listed in.
    fn position(self) -> usize {
        KINDS
            .iter()
            .position(|k| k.name() == self.name())
            .unwrap_or(usize::MAX)
    }
}

impl PartialEq for NodeKind {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for NodeKind {}

impl std::hash::Hash for NodeKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl PartialOrd for NodeKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NodeKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.position(), self.name()).cmp(&(other.position(), other.name()))
    }
}

impl std::fmt::Debug for NodeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for NodeKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        NodeKind::named(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown node kind {name:?}")))
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
    /// The node's own image, when not the run's (an application tier's own server).
    pub image: Option<String>,
    /// Its command; empty: the image's own.
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
    /// The secrets the node reads from its environment, when its files carry none (rendered
    /// with [`SecretsAt::Env`](super::SecretsAt), as a compose export is); empty when the
    /// files hold them (a drill).
    pub secret_env: Vec<SecretEnv>,
    /// Plain environment variables of its program, by name (an own image's configuration).
    pub env: Vec<(String, String)>,
    /// How the node tells, from inside its container, that it serves: a compose export's
    /// health check. A drill waits on the stack's own readiness conditions instead.
    pub health: Option<Health>,
}

/// An environment variable of a node holding one of the secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretEnv {
    /// The variable the node's program reads (`PATRONI_SUPERUSER_PASSWORD`).
    pub var: &'static str,
    pub secret: super::Secret,
}

/// A health check run inside the node's container: a shell command that exits 0 when the node
/// serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub command: String,
    /// How often it runs, and how long one run may take.
    pub interval: std::time::Duration,
    pub timeout: std::time::Duration,
    /// Failed runs in a row before the node counts as unhealthy.
    pub retries: u32,
    /// After the start, failed runs do not count for this long (bootstrap, a base backup).
    pub start_period: std::time::Duration,
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
