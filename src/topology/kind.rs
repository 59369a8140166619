//! What a node kind provides, behind one trait: each kind is one file under `kinds/`, registered
//! by one line in `kinds/mod.rs`. Everything else (node names, selectors, the image's packages,
//! versions, containers, role probes) asks the registry.

use super::{Cluster, Node, NodeSpec, SecretsAt, Serves};
use crate::client::Protocol;
use crate::history::{Clock, Event, Role, Routing};
use crate::scenario::{KindSettings, SettingsError, SettingsInput, Topology};
use futures_util::future::BoxFuture;
use std::time::Duration;

/// A component of a stack: etcd, Patroni (PostgreSQL), HAProxy, pgBouncer...
pub trait Kind: Sync + Send + 'static {
    /// Its name in scenario files (`target = "etcd"`), run.json and messages.
    fn name(&self) -> &'static str;
    /// How its nodes are named.
    fn naming(&self) -> Naming;
    /// Reads and checks its settings (`[topology.NAME]`, its name as the key) from the scenario,
    /// with their defaults; `Ok(None)`: the topology runs none of it (an optional kind whose
    /// table is absent).
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError>;
    /// Its settings as run.json holds them (`crate::scenario::read_json`).
    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error>;
    /// How many nodes of it `topology` has (0: the topology has none), and the scenario setting
    /// that says so, for messages (`topology.patroni.nodes`).
    fn count(&self, topology: &Topology) -> usize;
    fn count_setting(&self) -> &'static str;
    /// Why `topology` has none of it, for messages: `[topology.NAME] is not set` unless the
    /// kind says otherwise.
    fn absent_because(&self, _topology: &Topology) -> String {
        format!("[topology.{}] is not set", self.name())
    }
    /// Its nodes and their settings in words, for the reports (`3 etcd`, `HAProxy (patroni-rest
    /// check, inter 2s, fall 3, rise 2)`); `None` when the topology has none of it.
    fn describe(&self, topology: &Topology) -> Option<String>;
    /// The Debian packages the base image needs for it.
    fn packages(&self) -> &'static [&'static str];
    /// Python packages the base image takes from PyPI for it, pinned, where Debian's version
    /// would not do (their dependencies are among `packages`).
    fn wheels(&self) -> &'static [crate::image::Wheel] {
        &[]
    }
    /// Components whose version a running node of this kind tells, and the command that prints
    /// it (first line kept): the run's fingerprint.
    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])];
    /// Whether its nodes keep their data on a disk of their own (what a disk-full fault fills).
    fn has_disk(&self) -> bool;
    /// Its nodes' containers: configuration files, command, ports, disks.
    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec>;
    /// What clients connect to on its nodes, if anything (a database server, a pooler, a proxy).
    fn serves(&self) -> Option<Serves> {
        None
    }
    /// The database server its nodes run, if any: asked for its own view of replication
    /// (PostgreSQL's `pg_stat_replication`), apart from any role source. A pooler or proxy that
    /// merely speaks the protocol runs none.
    fn database(&self) -> Option<Protocol> {
        None
    }
    /// What one of its nodes says of its own role now, if the kind is a role source. `None`: it
    /// offers none.
    fn self_report<'a>(
        &self,
        _cluster: &'a Cluster,
        _node: &'a Node,
        _timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<RoleReport, String>>> {
        None
    }
    /// One sample of the kind's own figures (a pooler's pools), stamped on `clock`, if the kind
    /// has figures of its own to show. Probed beside the role sources all through the drill.
    fn sample<'a>(
        &self,
        _cluster: &'a Cluster,
        _node: &'a Node,
        _clock: Clock,
    ) -> Option<BoxFuture<'a, Event>> {
        None
    }
    /// Listens, until `stop`, to the events one of its nodes announces on its own (a
    /// Sentinel's Pub/Sub), sending each as it arrives, stamped on `clock`, and connecting
    /// again when the connection breaks; `None`: the kind announces none.
    fn announcements<'a>(
        &self,
        _cluster: &'a Cluster,
        _node: &'a Node,
        _listen: Listen,
    ) -> Option<BoxFuture<'a, ()>> {
        None
    }
    /// The servers one of its nodes routes clients to and whether it counts each up, if the kind
    /// is a proxy that tells (HAProxy's stats page): the proxy's view of who leads, and of the
    /// application servers in front of the database.
    fn routing<'a>(
        &self,
        _cluster: &'a Cluster,
        _node: &'a Node,
        _timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<Routing, String>>> {
        None
    }
    /// Which node one of its nodes names as the leader now (a store or arbiter: `Ok(None)`, it
    /// names nobody), if the kind is such an authority.
    fn names_leader<'a>(
        &self,
        _cluster: &'a Cluster,
        _node: &'a Node,
        _timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<Option<String>, String>>> {
        None
    }
}

/// Where announcements go, and until when.
#[derive(Clone)]
pub struct Listen {
    pub clock: Clock,
    pub events: tokio::sync::mpsc::UnboundedSender<Event>,
    pub stop: tokio_util::sync::CancellationToken,
}

/// How a kind's nodes are named: `pg1..pgN` (numbered, from 1) or one node named as the kind;
/// or a kind with no nodes of its own, whose commands run inside the nodes of another kind
/// (pgBackRest inside the PostgreSQL nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    Numbered(&'static str),
    Single(&'static str),
    Inside(&'static str),
}

impl Naming {
    /// The name of node `i` (from 1) of the kind.
    pub fn name(self, i: usize) -> String {
        match self {
            Naming::Numbered(prefix) => format!("{prefix}{i}"),
            Naming::Single(name) => name.to_owned(),
            Naming::Inside(_) => String::new(),
        }
    }

    /// The names of `count` nodes.
    pub fn names(self, count: usize) -> Vec<String> {
        match self {
            Naming::Inside(_) => Vec::new(),
            _ => (1..=count).map(|i| self.name(i)).collect(),
        }
    }

    /// `count` nodes, compactly: `pg1`, `pg1, pg2`, `pg1..pg3`, `haproxy`.
    pub fn span(self, count: usize) -> String {
        match (self, count) {
            (_, 0) | (Naming::Inside(_), _) => String::new(),
            (Naming::Single(name), _) => name.to_owned(),
            (Naming::Numbered(p), 1) => format!("{p}1"),
            (Naming::Numbered(p), 2) => format!("{p}1, {p}2"),
            (Naming::Numbered(p), n) => format!("{p}1..{p}{n}"),
        }
    }

    /// Which node `name` is, counting from 1, if it is named as this kind names nodes (however
    /// many the topology has): `pg7` is 7, `pg07` and `pg0` are none.
    pub fn index(self, name: &str) -> Option<usize> {
        match self {
            Naming::Single(single) => (name == single).then_some(1),
            Naming::Inside(_) => None,
            Naming::Numbered(prefix) => {
                let digits = name.strip_prefix(prefix)?;
                let plain = !digits.is_empty()
                    && !digits.starts_with('0')
                    && digits.bytes().all(|b| b.is_ascii_digit());
                plain.then(|| digits.parse().ok()).flatten()
            }
        }
    }
}

/// What a kind renders its nodes from: the whole topology (a proxy needs to know the nodes it
/// routes to), the run's secrets (or where the nodes read them) and id.
pub struct Render<'a> {
    pub topology: &'a Topology,
    /// Where the nodes find the secrets: in their files (a drill) or their environment (a
    /// compose export).
    pub secrets: SecretsAt<'a>,
    pub run_id: &'a str,
    /// The virtual IP on the run's network, where the stack's clients connect to one and the
    /// network exists (a drill); `None` in an export, whose network the compose tool makes.
    pub virtual_ip: Option<&'a str>,
}

/// What a node said of its own role.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleReport {
    pub role: Role,
    /// The source's own word for the state ("running", "starting", "stopped"...).
    pub state: String,
    /// Which history of the data it is on (PostgreSQL: the timeline).
    pub epoch: Option<u32>,
    /// Its position in that history in bytes: written by a leader, received by a replica.
    pub position: Option<u64>,
    /// The position a replica has applied.
    pub replayed: Option<u64>,
    /// On a leader: the replicas streaming from it.
    pub streaming: Vec<String>,
}

impl RoleReport {
    /// A leader that serves.
    pub fn leads(&self) -> bool {
        self.role == Role::Leader
    }

    /// A replica that serves (PostgreSQL accepting connections), not one still starting.
    pub fn serves_as_replica(&self) -> bool {
        self.role == Role::Replica && self.state == "running"
    }
}
