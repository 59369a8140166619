use super::{
    Node, NodeKind, NodeSpec, PatroniStatus, Secrets, disks, etcd, haproxy, patroni, ready,
};
use crate::engine::{self, EngineError, RunLabels};
use crate::history::ProxyServer;
use crate::progress::Progress;
use crate::scenario::Scenario;
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkCreateRequest, NetworkingConfig,
    PortBinding,
};
use bollard::query_parameters::{CreateContainerOptions, UploadToContainerOptions};
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TopologyError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("failed to start node {node}: {message}")]
    Node { node: String, message: String },
    #[error("cluster not ready after {}: reached {reached}; still waiting for {waiting}", humantime::format_duration(*.waited))]
    NotReady {
        waited: Duration,
        reached: String,
        waiting: String,
    },
    #[error("failed to {action}: {message}")]
    Database { action: String, message: String },
}

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
    /// How long bring-up took, from the first container created to ready.
    pub bring_up: Duration,
    /// The leader when the cluster became ready.
    pub initial_leader: String,
    /// The sha256 of every configuration file rendered for the nodes, by `node:path`.
    pub config_digests: BTreeMap<String, String>,
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
        let step = format!(
            "bringing up {} etcd, {} patroni, 1 haproxy",
            scenario.topology.etcd.members, scenario.topology.patroni.nodes
        );
        progress.begin(&step);
        let run_id = labels.run_id.clone();
        let secrets = Secrets::generate();
        docker
            .create_network(NetworkCreateRequest {
                name: run_id.clone(),
                driver: Some("bridge".into()),
                labels: Some(labels.to_map()),
                ..Default::default()
            })
            .await
            .map_err(EngineError::call(format!("create network {run_id}")))?;

        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(4)
            .build()
            .map_err(|e| TopologyError::Node {
                node: "harness".into(),
                message: e.to_string(),
            })?;
        let topo = &scenario.topology;
        // Each group may resolve the names of the previous ones. pg1 starts alone and
        // bootstraps the cluster before the other nodes start, so every run begins with the
        // same leader: a seed then repeats a run's choices, and a proxy configured for one
        // fixed primary (the tcp check) starts out right.
        let mut pg = patroni::specs(&topo.patroni, topo.etcd.members, &secrets);
        let pg_rest = pg.split_off(1);
        let groups: Vec<Vec<NodeSpec>> = vec![
            etcd::specs(topo.etcd.members, &run_id),
            pg,
            pg_rest,
            vec![haproxy::spec(&topo.haproxy, topo.patroni.nodes)],
        ];
        let all: Vec<&NodeSpec> = groups.iter().flatten().collect();
        let config_digests = all
            .iter()
            .flat_map(|spec| {
                spec.files.iter().map(|f| {
                    (
                        format!("{}:{}", spec.name, f.path),
                        hex::encode(Sha256::digest(f.contents.as_bytes())),
                    )
                })
            })
            .collect();
        let disks = disks::create(docker, &all, image, labels).await?;
        let deadline = started + ready_within;
        let mut nodes: Vec<Node> = Vec::new();
        for group in groups.iter().filter(|g| !g.is_empty()) {
            let started_group = try_join_all(group.iter().map(|spec| {
                let binds = disks
                    .get(&labels.container(&spec.name))
                    .cloned()
                    .unwrap_or_default();
                start_node(docker, spec, image, labels, binds)
            }))
            .await?;
            let bootstraps = group[0].name == patroni::name(1) && topo.patroni.nodes > 1;
            let first = started_group[0].clone();
            nodes.extend(started_group);
            if bootstraps {
                ready::wait_bootstrapped(&http, &first, deadline, started, ready_within, progress)
                    .await?;
            }
        }
        progress.note(format!(
            "{} containers started in {:.1}s",
            nodes.len(),
            started.elapsed().as_secs_f64()
        ));

        let mut cluster = Cluster {
            run_id,
            network: labels.run_id.clone(),
            image: image.to_string(),
            nodes,
            secrets,
            docker: docker.clone(),
            http,
            bring_up: Duration::ZERO,
            initial_leader: String::new(),
            config_digests,
        };
        cluster.initial_leader =
            ready::wait_ready(&cluster, ready_within, started, progress).await?;
        cluster.bring_up = started.elapsed();
        progress.end(&step, cluster.bring_up);
        Ok(cluster)
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn nodes_of(&self, kind: NodeKind) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.kind == kind)
    }

    /// The node's address on the run's network now (a restarted container may get a new one).
    pub async fn current_ip(&self, node: &Node) -> Result<String, EngineError> {
        let inspect = self
            .docker
            .inspect_container(&node.container, None)
            .await
            .map_err(EngineError::call(format!(
                "inspect container {}",
                node.container
            )))?;
        Ok(inspect
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|n| n.get(&self.network).and_then(|e| e.ip_address.clone()))
            .filter(|ip| !ip.is_empty())
            .unwrap_or_else(|| node.ip.clone()))
    }

    /// Connection settings for the superuser through a node's published PostgreSQL port
    /// (HAProxy's for the client endpoint).
    pub fn pg_config(&self, node: &Node, connect_timeout: Duration) -> tokio_postgres::Config {
        self.config_at(node, patroni::PG_PORT, connect_timeout)
            .expect("postgres nodes and haproxy publish 5432")
    }

    /// Connection settings for the superuser through HAProxy's replica endpoint (round-robin
    /// over the nodes that answer Patroni's `OPTIONS /replica`); `None` when the proxy has none
    /// (a `tcp` check knows no roles).
    pub fn replica_endpoint_config(
        &self,
        connect_timeout: Duration,
    ) -> Option<tokio_postgres::Config> {
        self.config_at(self.endpoint(), haproxy::REPLICA_PORT, connect_timeout)
    }

    /// Connection settings through the port a container port is published on, if it is.
    fn config_at(
        &self,
        node: &Node,
        container_port: u16,
        connect_timeout: Duration,
    ) -> Option<tokio_postgres::Config> {
        let port = node.ports.get(&container_port).copied()?;
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(port)
            .user("postgres")
            .password(&self.secrets.superuser)
            .dbname("postgres")
            .application_name("firedrill")
            .connect_timeout(connect_timeout);
        Some(config)
    }

    /// A superuser session on a node (or the client endpoint), its connection driven in the
    /// background.
    pub async fn connect(
        &self,
        node: &Node,
        timeout: Duration,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self
            .pg_config(node, timeout)
            .connect(tokio_postgres::NoTls)
            .await?;
        tokio::spawn(connection);
        Ok(client)
    }

    /// The client endpoint: HAProxy.
    pub fn endpoint(&self) -> &Node {
        self.node(haproxy::NAME)
            .expect("every topology has haproxy")
    }

    /// Every Patroni node with what its REST API says of it now (`None`: no answer within 1 s).
    pub async fn patroni_statuses(&self) -> Vec<(&Node, Option<PatroniStatus>)> {
        let nodes: Vec<&Node> = self.nodes_of(NodeKind::Patroni).collect();
        let probes = nodes.iter().map(|n| async {
            let addr = n.host_addr(patroni::REST_PORT)?;
            patroni::probe_patroni(&self.http, &addr, Duration::from_secs(1))
                .await
                .ok()
        });
        let statuses = futures_util::future::join_all(probes).await;
        nodes.into_iter().zip(statuses).collect()
    }

    /// Who holds Patroni's leader key, as the etcd `member` answers (`Ok(None)`: nobody).
    pub async fn leader_key_holder(
        &self,
        member: &Node,
        timeout: Duration,
    ) -> Result<Option<String>, String> {
        let addr = member
            .host_addr(etcd::CLIENT_PORT)
            .ok_or("no published client port")?;
        etcd::key_value(&self.http, &addr, patroni::LEADER_KEY, timeout).await
    }

    /// HAProxy's view of the servers behind the client endpoint, in configuration order.
    pub async fn proxy_servers(&self, timeout: Duration) -> Result<Vec<ProxyServer>, String> {
        let addr = self
            .endpoint()
            .host_addr(haproxy::STATS_PORT)
            .ok_or("no published stats port")?;
        haproxy::probe_stats(&self.http, &addr, timeout).await
    }

    /// The last lines each node's processes wrote (Patroni, PostgreSQL, etcd, HAProxy), by node:
    /// what the system itself said during the drill, kept beside the measurements.
    pub async fn logs(&self, tail: usize) -> BTreeMap<String, String> {
        let fetches = self.nodes.iter().map(|node| async move {
            let options = bollard::query_parameters::LogsOptions {
                stdout: true,
                stderr: true,
                tail: tail.to_string(),
                ..Default::default()
            };
            let chunks: Vec<_> = self
                .docker
                .logs(&node.container, Some(options))
                .filter_map(|c| async move { c.ok() })
                .collect()
                .await;
            let mut text: String = chunks
                .into_iter()
                .map(|c| String::from_utf8_lossy(&c.into_bytes()).into_owned())
                .collect();
            // Logs land in run.json: never let a password through.
            for secret in self.secrets.all() {
                text = text.replace(secret, "<redacted>");
            }
            (node.name.clone(), text)
        });
        futures_util::future::join_all(fetches)
            .await
            .into_iter()
            .collect()
    }

    /// The component versions, read from the running containers (first running node of each
    /// kind answers).
    pub async fn versions(&self) -> BTreeMap<String, String> {
        let wanted: [(&str, NodeKind, &[&str]); 4] = [
            ("postgresql", NodeKind::Patroni, patroni::PG_VERSION_CMD),
            ("patroni", NodeKind::Patroni, patroni::VERSION_CMD),
            ("etcd", NodeKind::Etcd, etcd::VERSION_CMD),
            ("haproxy", NodeKind::Haproxy, haproxy::VERSION_CMD),
        ];
        let mut versions = BTreeMap::new();
        for (component, kind, cmd) in wanted {
            for node in self.nodes_of(kind) {
                if let Ok(out) = engine::exec(&self.docker, &node.container, None, cmd).await
                    && out.success()
                {
                    let first = out.stdout.lines().next().unwrap_or("").trim().to_string();
                    versions.insert(component.to_string(), first);
                    break;
                }
            }
        }
        versions
    }
}

async fn start_node(
    docker: &Docker,
    spec: &NodeSpec,
    image: &str,
    labels: &RunLabels,
    binds: Vec<String>,
) -> Result<Node, TopologyError> {
    let container = labels.container(&spec.name);
    let fail = |message: String| TopologyError::Node {
        node: spec.name.clone(),
        message,
    };
    // Host ports are chosen here, not by the engine, so that a container restarted by a fault
    // keeps them.
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.ports {
        let host_port = free_local_port().map_err(|e| fail(format!("find a free port: {e}")))?;
        port_bindings.insert(
            format!("{p}/tcp"),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(host_port.to_string()),
            }]),
        );
    }
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        hostname: Some(spec.name.clone()),
        cmd: Some(spec.cmd.clone()),
        user: spec.user.clone(),
        labels: Some(labels.to_map()),
        exposed_ports: Some(spec.ports.iter().map(|p| format!("{p}/tcp")).collect()),
        host_config: Some(HostConfig {
            network_mode: Some(labels.run_id.clone()),
            port_bindings: Some(port_bindings),
            binds: Some(binds),
            cap_add: Some(spec.cap_add.clone()),
            // An init as PID 1 reaps the children Patroni and PostgreSQL leave behind.
            init: Some(true),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                labels.run_id.clone(),
                EndpointSettings {
                    aliases: Some(vec![spec.name.clone()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(container.clone()),
                ..Default::default()
            }),
            body,
        )
        .await
        .map_err(|e| fail(format!("create container: {e}")))?;
    if !spec.files.is_empty() {
        docker
            .upload_to_container(
                &container,
                Some(UploadToContainerOptions {
                    path: "/".into(),
                    ..Default::default()
                }),
                bollard::body_full(tar_of(&spec.files).map_err(|e| fail(e.to_string()))?.into()),
            )
            .await
            .map_err(|e| fail(format!("copy configuration: {e}")))?;
    }
    docker
        .start_container(&container, None)
        .await
        .map_err(|e| fail(format!("start container: {e}")))?;
    let inspect = docker
        .inspect_container(&container, None)
        .await
        .map_err(|e| fail(format!("inspect container: {e}")))?;
    let settings = inspect.network_settings.unwrap_or_default();
    let ip = settings
        .networks
        .as_ref()
        .and_then(|n| n.get(&labels.run_id))
        .and_then(|e| e.ip_address.clone())
        .filter(|ip| !ip.is_empty())
        .ok_or_else(|| fail("container has no address on the run's network".into()))?;
    let mut ports = BTreeMap::new();
    for (key, bindings) in settings.ports.unwrap_or_default() {
        let container_port = key.trim_end_matches("/tcp").parse::<u16>().ok();
        let host_port = bindings
            .unwrap_or_default()
            .into_iter()
            .filter_map(|b| b.host_port?.parse::<u16>().ok())
            .next();
        if let (Some(c), Some(h)) = (container_port, host_port) {
            ports.insert(c, h);
        }
    }
    Ok(Node {
        name: spec.name.clone(),
        kind: spec.kind,
        container,
        ip,
        ports,
    })
}

/// A port on 127.0.0.1 nothing listens on now (the kernel's choice of an ephemeral port).
fn free_local_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A tar archive of files, their directories created by the engine on extraction.
fn tar_of(files: &[super::FileSpec]) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.contents.len() as u64);
        header.set_mode(file.mode);
        header.set_mtime(0);
        header.set_cksum();
        archive.append_data(
            &mut header,
            file.path.trim_start_matches('/'),
            file.contents.as_bytes(),
        )?;
    }
    archive.into_inner()
}
