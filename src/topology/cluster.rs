//! The running cluster: its bring-up (the stack's plan, group by group, then its readiness)
//! and its nodes by name and kind. Containers, endpoints, roles and evidence live beside it,
//! one file each.

use super::containers::{fixed_ports_free, start_node};
use super::kind::Render;
use super::kinds::pgbackrest::BackupSet;
use super::stacks::{self, ClientEndpoint, ReadyBound, Stack};
use super::{Node, NodeKind, NodeSpec, Secrets, SecretsAt, TopologyError, disks, ready};
use crate::client::Protocol;
use crate::engine::{EngineError, RunLabels};
use crate::progress::{DrillEvent, Progress, Step};
use crate::scenario::Scenario;
use bollard::Docker;
use bollard::models::NetworkCreateRequest;
use futures_util::future::try_join_all;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// A running topology: the run's network and its nodes, and what is needed to reach them.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub run_id: String,
    pub network: String,
    pub image: String,
    pub nodes: Vec<Node>,
    pub secrets: Secrets,
    pub docker: Docker,
    pub http: reqwest::Client,
    /// How long bring-up took, from the first container's creation (after the network and the
    /// disks) to ready.
    pub bring_up: Duration,
    /// The leader when the cluster became ready.
    pub initial_leader: String,
    /// The sha256 of every configuration file rendered for the nodes, by `node:path`.
    pub config_digests: BTreeMap<String, String>,
    /// Where the stack's clients connect: through a node, or to the virtual IP.
    pub client_entry: ClientEntry,
    /// The key in the store naming the leader (Patroni's leader key in etcd), if the stack
    /// keeps one: what an authority kind reads.
    pub leader_key: Option<String>,
    /// The protocol the stack's clients speak.
    pub protocol: Protocol,
    /// The backup taken at bring-up, when the topology backs up.
    pub initial_backup: Option<BackupSet>,
}

impl Cluster {
    /// Creates the run's network and every node's container, starts them, and waits until the
    /// cluster is ready: etcd healthy, one Patroni leader, every replica streaming from it,
    /// HAProxy routing to it. Objects carry the run's labels; on error the caller removes them
    /// by label (`engine::remove_run`).
    pub async fn up(
        docker: &Docker,
        scenario: &Scenario,
        image: &str,
        labels: &RunLabels,
        ready_within: Duration,
        progress: &Progress,
    ) -> Result<Cluster, TopologyError> {
        let started = Instant::now();
        let stack = stacks::named(&scenario.topology.stack).ok_or_else(|| TopologyError::Node {
            node: "harness".into(),
            message: format!("no stack named {:?}", scenario.topology.stack),
        })?;
        let run_id = labels.run_id.clone();
        let secrets = Secrets::generate();
        // The network first: the nodes are rendered knowing its virtual IP, if the stack has one.
        docker
            .create_network(NetworkCreateRequest {
                name: run_id.clone(),
                driver: Some("bridge".into()),
                labels: Some(labels.to_map()),
                ..Default::default()
            })
            .await
            .map_err(EngineError::call(format!("create network {run_id}")))?;
        let client_entry = client_entry(docker, &run_id, stack.client_endpoint()).await?;
        let groups = stack.plan(&Render {
            topology: &scenario.topology,
            secrets: SecretsAt::Files(&secrets),
            run_id: &run_id,
            virtual_ip: client_entry.virtual_ip(),
        });
        let step = Step::BringUp {
            nodes: counts(stack, &groups),
        };
        progress.send(DrillEvent::Began { step: step.clone() });

        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(4)
            .build()
            .map_err(|e| TopologyError::Node {
                node: "harness".into(),
                message: e.to_string(),
            })?;
        let all: Vec<&NodeSpec> = groups.iter().flat_map(|g| &g.specs).collect();
        let config_digests = config_digests(all.iter().copied());
        // A fixed port another process holds fails the drill before any disk or container is
        // created; the ports firedrill chooses for the run stay clear of the fixed ones.
        let fixed: BTreeSet<u16> = all
            .iter()
            .flat_map(|spec| spec.fixed_ports.iter().map(|f| f.host))
            .collect();
        for spec in &all {
            fixed_ports_free(spec)?;
        }
        let disks = disks::create(docker, &all, image, labels).await?;
        let bound = ReadyBound {
            started,
            within: ready_within,
        };
        let mut cluster = Cluster {
            run_id,
            network: labels.run_id.clone(),
            image: image.to_string(),
            nodes: Vec::new(),
            secrets,
            docker: docker.clone(),
            http,
            bring_up: Duration::ZERO,
            initial_leader: String::new(),
            config_digests,
            client_entry,
            leader_key: stack.leader_key().map(str::to_owned),
            protocol: stack.protocol(),
            initial_backup: None,
        };
        // Bring-up is timed from here, as documented: the first container's creation, after
        // the network and the disks (the bound above still covers those).
        let first_container = Instant::now();
        // The node that bootstraps the stack, waited for once every container has started.
        let mut bootstrapping = None;
        for group in &groups {
            let started_group = try_join_all(group.specs.iter().map(|spec| {
                let binds = disks
                    .get(&labels.container(&spec.name))
                    .cloned()
                    .unwrap_or_default();
                start_node(docker, spec, image, labels, binds, &fixed)
            }))
            .await?;
            if group.bootstraps {
                bootstrapping = bootstrapping.or_else(|| started_group.first().cloned());
            }
            cluster.nodes.extend(started_group);
        }
        if let (ClientEntry::Node(endpoint), Err(_)) = (&cluster.client_entry, cluster.endpoint()) {
            return Err(TopologyError::Node {
                node: endpoint.clone(),
                message: format!(
                    "the {} stack's client endpoint is not among its nodes",
                    stack.name()
                ),
            });
        }
        progress.send(DrillEvent::ContainersStarted {
            count: cluster.nodes.len(),
            took: first_container.elapsed(),
        });
        if let Some(first) = bootstrapping {
            ready::wait_bootstrapped(&cluster, &first, bound, progress).await?;
        }
        let ready = stack
            .ready(&cluster, &scenario.topology, bound, progress)
            .await?;
        cluster.initial_leader = ready.leader;
        cluster.initial_backup = ready.backup;
        cluster.bring_up = first_container.elapsed();
        progress.send(DrillEvent::Ended {
            step,
            took: cluster.bring_up,
        });
        Ok(cluster)
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn nodes_of(&self, kind: NodeKind) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.kind == kind)
    }
}

/// Where a cluster's clients connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEntry {
    /// Through this node's client port, published on the host (HAProxy in the Patroni stack).
    Node(String),
    /// To the virtual IP on the run's network (its last usable address), at this port, over
    /// the Docker bridge.
    VirtualIp { address: String, port: u16 },
    /// To the primary the arbiters of this kind name (Sentinels), asked through their
    /// published `port` for `service`.
    Discovery {
        arbiter: NodeKind,
        port: u16,
        service: String,
    },
}

impl ClientEntry {
    /// The virtual IP's address, if clients connect to one.
    pub fn virtual_ip(&self) -> Option<&str> {
        match self {
            ClientEntry::VirtualIp { address, .. } => Some(address),
            ClientEntry::Node(_) | ClientEntry::Discovery { .. } => None,
        }
    }
}

/// Where the stack's clients connect on `network`: its client endpoint node, or the virtual IP
/// (the subnet's last usable address, as the nodes compute it from their own).
pub(super) async fn client_entry(
    docker: &Docker,
    network: &str,
    endpoint: ClientEndpoint,
) -> Result<ClientEntry, TopologyError> {
    let port = match endpoint {
        ClientEndpoint::Node(name) => return Ok(ClientEntry::Node(name.to_owned())),
        ClientEndpoint::VirtualIp { port } => port,
        ClientEndpoint::Discovery {
            arbiter,
            port,
            service,
        } => {
            let arbiter = NodeKind::named(arbiter).ok_or_else(|| TopologyError::Node {
                node: "harness".into(),
                message: format!("no node kind named {arbiter:?}"),
            })?;
            return Ok(ClientEntry::Discovery {
                arbiter,
                port,
                service: service.to_owned(),
            });
        }
    };
    let inspected = docker
        .inspect_network(
            network,
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await
        .map_err(EngineError::call(format!("inspect network {network}")))?;
    let subnets: Vec<String> = inspected
        .ipam
        .and_then(|ipam| ipam.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|config| config.subnet)
        .collect();
    subnets
        .iter()
        .find_map(|subnet| super::kinds::keepalived::virtual_ip(subnet))
        .map(|ip| ClientEntry::VirtualIp {
            address: ip.to_string(),
            port,
        })
        .ok_or_else(|| TopologyError::Node {
            node: "harness".into(),
            message: format!(
                "network {network} has no IPv4 subnet with room for a virtual IP (its subnets: \
                 {})",
                subnets.join(", ")
            ),
        })
}

/// The sha256 of every configuration file rendered for `specs`, by `node:path`: the record's
/// `environment.config_digests`.
pub(super) fn config_digests<'a>(
    specs: impl Iterator<Item = &'a NodeSpec>,
) -> BTreeMap<String, String> {
    specs
        .flat_map(|spec| {
            spec.files.iter().map(|f| {
                (
                    format!("{}:{}", spec.name, f.path),
                    hex::encode(Sha256::digest(f.contents.as_bytes())),
                )
            })
        })
        .collect()
}

/// What a plan brings up, kind by kind in registry order: `3 etcd, 3 patroni, 1 haproxy`.
fn counts(stack: &dyn Stack, groups: &[stacks::StartGroup]) -> Vec<(String, usize)> {
    let mut listed: Vec<NodeKind> = stack.kinds().to_vec();
    listed.sort();
    listed
        .iter()
        .map(|kind| {
            let n = groups
                .iter()
                .flat_map(|g| &g.specs)
                .filter(|spec| spec.kind == *kind)
                .count();
            (kind, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| (kind.name().to_owned(), n))
        .collect()
}
