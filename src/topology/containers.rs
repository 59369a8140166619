//! Containers: creating and starting a node's container with its host ports and files, and
//! asking the engine about it later.

use super::{Cluster, FixedPort, Node, NodeSpec, TopologyError};
use crate::engine::{EngineError, RunLabels};
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, UploadToContainerOptions,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

impl Cluster {
    /// The node's address on the run's network now (a restarted container may get a new one).
    pub async fn current_ip(&self, node: &Node) -> Result<String, EngineError> {
        Ok(self
            .inspect(node)
            .await?
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|n| n.get(&self.network).and_then(|e| e.ip_address.clone()))
            .filter(|ip| !ip.is_empty())
            .unwrap_or_else(|| node.ip.clone()))
    }

    /// The name of the node of `kind` at address `ip` on the run's network: by the address each
    /// started with, else (a restarted container) by asking the engine for each one's address
    /// now. `None`: no such node.
    pub async fn name_at(&self, ip: &str, kind: super::NodeKind) -> Option<String> {
        if let Some(node) = self.nodes_of(kind).find(|n| n.ip == ip) {
            return Some(node.name.clone());
        }
        for node in self.nodes_of(kind) {
            if self.current_ip(node).await.is_ok_and(|now| now == ip) {
                return Some(node.name.clone());
            }
        }
        None
    }

    async fn inspect(
        &self,
        node: &Node,
    ) -> Result<bollard::models::ContainerInspectResponse, EngineError> {
        self.docker
            .inspect_container(&node.container, None)
            .await
            .map_err(EngineError::call(format!(
                "inspect container {}",
                node.container
            )))
    }

    /// Writes `files` into the node's container (running or not), replacing what was there: a
    /// configuration rendered anew before the node starts again.
    pub async fn write_files(&self, node: &Node, files: &[super::FileSpec]) -> Result<(), String> {
        let archive = tar_of(files).map_err(|e| e.to_string())?;
        self.docker
            .upload_to_container(
                &node.container,
                Some(UploadToContainerOptions {
                    path: "/".into(),
                    ..Default::default()
                }),
                bollard::body_full(archive.into()),
            )
            .await
            .map_err(|e| format!("copy files into {}: {e}", node.name))
    }

    /// Whether the node's container runs; if it has stopped, its exit code.
    pub async fn exited(&self, node: &Node) -> Result<Option<i64>, EngineError> {
        let state = self.inspect(node).await?.state.unwrap_or_default();
        Ok(match state.running {
            Some(true) => None,
            _ => Some(state.exit_code.unwrap_or(-1)),
        })
    }

    /// What the node's processes wrote since `since` (Unix seconds), each line as written.
    pub async fn log_since(&self, node: &Node, since: i64) -> String {
        self.log(
            node,
            bollard::query_parameters::LogsOptions {
                stdout: true,
                stderr: true,
                since: since as i32,
                ..Default::default()
            },
        )
        .await
    }

    /// What the node's processes wrote, as `options` select it.
    pub(super) async fn log(
        &self,
        node: &Node,
        options: bollard::query_parameters::LogsOptions,
    ) -> String {
        use futures_util::StreamExt;
        let chunks: Vec<_> = self
            .docker
            .logs(&node.container, Some(options))
            .filter_map(|c| async move { c.ok() })
            .collect()
            .await;
        chunks
            .into_iter()
            .map(|c| String::from_utf8_lossy(&c.into_bytes()).into_owned())
            .collect()
    }
}

/// Every node's /tmp: a tmpfs, and its mount options (see `create_and_start`).
pub(super) const TMP: (&str, &str) = ("/tmp", "rw,nosuid,nodev,mode=1777,size=64m");

/// How many times a node's container is created with fresh host ports when another process
/// took one of the ports firedrill chose for it, between the choice and the container's start.
const PORT_ATTEMPTS: u32 = 5;

/// Creates and starts a node's container, its ports published on 127.0.0.1: on the host ports
/// the scenario fixed, and on ports chosen here (none of `fixed`) for the others. Host ports are
/// chosen here, not by the engine, so that a container restarted by a fault keeps them; a chosen
/// port another process takes before the start is chosen again (`PORT_ATTEMPTS` times in all),
/// the container removed and created anew, with the same name and labels.
pub(super) async fn start_node(
    docker: &Docker,
    spec: &NodeSpec,
    image: &str,
    labels: &RunLabels,
    binds: Vec<String>,
    fixed: &BTreeSet<u16>,
) -> Result<Node, TopologyError> {
    let container = labels.container(&spec.name);
    let fail = |message: String| TopologyError::Node {
        node: spec.name.clone(),
        message,
    };
    let mut attempt = 1;
    loop {
        fixed_ports_free(spec)?;
        let host_ports =
            host_ports(spec, fixed).map_err(|e| fail(format!("find a free port: {e}")))?;
        let error = match create_and_start(docker, spec, image, labels, &binds, &host_ports).await {
            Ok(()) => break,
            Err(error) => error,
        };
        if !port_taken(&error) {
            return Err(fail(error));
        }
        remove_container(docker, &container).await.map_err(|e| {
            fail(format!(
                "remove container after its host port was taken: {e}"
            ))
        })?;
        if let Some(taken) = spec
            .fixed_ports
            .iter()
            .find(|f| names_host_port(&error, f.host) || port_in_use(f.host))
        {
            return Err(port_in_use_error(spec, taken));
        }
        if attempt == PORT_ATTEMPTS {
            return Err(TopologyError::PortsTaken {
                node: spec.name.clone(),
                attempts: attempt,
                message: error,
            });
        }
        tracing::warn!(
            node = %spec.name,
            attempt,
            "a host port chosen for the node was taken before its container started; choosing \
             again: {error}"
        );
        attempt += 1;
    }
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
    let ports = published_ports(settings.ports);
    Ok(Node {
        name: spec.name.clone(),
        kind: spec.kind,
        container,
        ip,
        ports,
    })
}

/// Creates the node's container with its ports published on `host_ports` (container port →
/// host port), copies its files in and starts it. The error names the step that failed.
async fn create_and_start(
    docker: &Docker,
    spec: &NodeSpec,
    image: &str,
    labels: &RunLabels,
    binds: &[String],
    host_ports: &BTreeMap<u16, u16>,
) -> Result<(), String> {
    let container = labels.container(&spec.name);
    let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = host_ports
        .iter()
        .map(|(container_port, host_port)| {
            (
                format!("{container_port}/tcp"),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(host_port.to_string()),
                }]),
            )
        })
        .collect();
    let body = ContainerCreateBody {
        image: Some(spec.image.as_deref().unwrap_or(image).to_string()),
        hostname: Some(spec.name.clone()),
        // none: the image's own command
        cmd: (!spec.cmd.is_empty()).then(|| spec.cmd.clone()),
        env: (!spec.env.is_empty())
            .then(|| spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        user: spec.user.clone(),
        labels: Some(labels.to_map()),
        exposed_ports: Some(spec.ports.iter().map(|p| format!("{p}/tcp")).collect()),
        host_config: Some(HostConfig {
            network_mode: Some(labels.run_id.clone()),
            port_bindings: Some(port_bindings),
            binds: Some(binds.to_vec()),
            cap_add: Some(spec.cap_add.clone()),
            // An init as PID 1 reaps the children Patroni and PostgreSQL leave behind.
            init: Some(true),
            // A restarted node finds an empty /tmp, as a rebooted machine does. A container's
            // own /tmp outlives a kill, and with it PostgreSQL's socket lock file: in the new
            // container the PID it names may be alive again (PIDs start over), and PostgreSQL
            // then refuses to start ("lock file \"/tmp/.s.PGSQL.5432.lock\" already exists").
            tmpfs: Some(HashMap::from([(TMP.0.to_owned(), TMP.1.to_owned())])),
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
        .map_err(|e| format!("create container: {e}"))?;
    if !spec.files.is_empty() {
        let archive = tar_of(&spec.files).map_err(|e| e.to_string())?;
        docker
            .upload_to_container(
                &container,
                Some(UploadToContainerOptions {
                    path: "/".into(),
                    ..Default::default()
                }),
                bollard::body_full(archive.into()),
            )
            .await
            .map_err(|e| format!("copy configuration: {e}"))?;
    }
    docker
        .start_container(&container, None)
        .await
        .map_err(|e| format!("start container: {e}"))
}

/// Removes a container that never ran, if it was created at all.
async fn remove_container(docker: &Docker, container: &str) -> Result<(), bollard::errors::Error> {
    match docker
        .remove_container(
            container,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await
    {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        result => result,
    }
}

/// The host port of each of the spec's ports: the fixed one, or one chosen now, none of
/// `fixed` (another node's fixed port) and no two the same.
fn host_ports(spec: &NodeSpec, fixed: &BTreeSet<u16>) -> std::io::Result<BTreeMap<u16, u16>> {
    let mut chosen = BTreeMap::new();
    for &port in &spec.ports {
        let host_port = match spec.fixed_host_port(port) {
            Some(fixed_port) => fixed_port.host,
            None => {
                let mut tries = 0;
                loop {
                    let candidate = free_local_port()?;
                    tries += 1;
                    let clash = fixed.contains(&candidate)
                        || spec.fixed_ports.iter().any(|f| f.host == candidate)
                        || chosen.values().any(|&h| h == candidate);
                    if !clash {
                        break candidate;
                    }
                    if tries == 100 {
                        return Err(std::io::Error::other(
                            "the kernel kept offering ports already taken for the run",
                        ));
                    }
                }
            }
        };
        chosen.insert(port, host_port);
    }
    Ok(chosen)
}

/// Fails with `PortInUse` if another process holds one of the spec's fixed host ports.
pub(super) fn fixed_ports_free(spec: &NodeSpec) -> Result<(), TopologyError> {
    match spec.fixed_ports.iter().find(|f| port_in_use(f.host)) {
        Some(taken) => Err(port_in_use_error(spec, taken)),
        None => Ok(()),
    }
}

fn port_in_use_error(spec: &NodeSpec, taken: &FixedPort) -> TopologyError {
    TopologyError::PortInUse {
        node: spec.name.clone(),
        port: taken.host,
        setting: taken.setting.to_owned(),
    }
}

/// Whether another socket holds `port` on 127.0.0.1 now (a bind there fails with "address in
/// use"). Any other failure (a privileged port, say) is left for the engine, which binds as
/// root, to meet.
fn port_in_use(port: u16) -> bool {
    matches!(
        std::net::TcpListener::bind(("127.0.0.1", port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}

/// Whether an engine error says a host port was taken: by another container ("Bind for
/// 127.0.0.1:N failed: port is already allocated") or by another process ("listen tcp4
/// 127.0.0.1:N: bind: address already in use").
fn port_taken(engine_error: &str) -> bool {
    let text = engine_error.to_lowercase();
    ["port is already allocated", "address already in use"]
        .iter()
        .any(|sign| text.contains(sign))
}

/// Each published TCP port of a container, as the engine's inspection lists it: container port
/// → host port (the first binding).
pub(super) fn published_ports(ports: Option<bollard::models::PortMap>) -> BTreeMap<u16, u16> {
    let mut published = BTreeMap::new();
    for (key, bindings) in ports.unwrap_or_default() {
        let container_port = key.trim_end_matches("/tcp").parse::<u16>().ok();
        let host_port = bindings
            .unwrap_or_default()
            .into_iter()
            .filter_map(|b| b.host_port?.parse::<u16>().ok())
            .next();
        if let (Some(c), Some(h)) = (container_port, host_port) {
            published.insert(c, h);
        }
    }
    published
}

/// Whether an engine error names host port `port` on 127.0.0.1.
fn names_host_port(engine_error: &str, port: u16) -> bool {
    let address = format!("127.0.0.1:{port}");
    engine_error.match_indices(&address).any(|(at, _)| {
        !engine_error[at + address.len()..].starts_with(|c: char| c.is_ascii_digit())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::kinds::haproxy::{self, HaproxyCheck, HaproxySettings};
    use std::time::Duration;

    /// Docker's own words when a published port cannot be bound.
    const ALLOCATED: &str = "Docker responded with status code 500: driver failed programming \
                             external connectivity on endpoint fd-1234-haproxy \
                             (0123456789abcdef): Bind for 127.0.0.1:15432 failed: port is \
                             already allocated";
    const IN_USE: &str = "Docker responded with status code 500: driver failed programming \
                          external connectivity on endpoint fd-1234-pg1 (0123456789abcdef): \
                          Error starting userland proxy: listen tcp4 127.0.0.1:41234: bind: \
                          address already in use";

    #[test]
    fn tells_a_taken_port_from_other_engine_errors() {
        assert!(port_taken(ALLOCATED));
        assert!(port_taken(IN_USE));
        assert!(port_taken(&format!(
            "start container: {}",
            IN_USE.to_uppercase()
        )));
        for other in [
            "Docker responded with status code 404: No such image: firedrill-base:abc",
            "Docker responded with status code 409: Conflict. The container name \
             \"/fd-1234-pg1\" is already in use by container \"0123\"",
            "Docker responded with status code 500: failed to create endpoint fd-1234-pg1 on \
             network fd-1234: network is unreachable",
            "",
        ] {
            assert!(!port_taken(other), "{other}");
        }
    }

    #[test]
    fn finds_which_host_port_an_engine_error_names() {
        assert!(names_host_port(ALLOCATED, 15432));
        assert!(!names_host_port(ALLOCATED, 1543));
        assert!(!names_host_port(ALLOCATED, 5432));
        assert!(names_host_port(IN_USE, 41234));
        assert!(!names_host_port(IN_USE, 15432));
        assert!(names_host_port("listen tcp4 127.0.0.1:80", 80));
    }

    fn haproxy(port: Option<u16>) -> NodeSpec {
        haproxy::spec(
            &HaproxySettings {
                check: HaproxyCheck::PatroniRest,
                inter: Duration::from_secs(2),
                fall: 3,
                rise: 2,
                port,
            },
            3,
            false,
        )
    }

    #[test]
    fn a_fixed_port_held_by_another_process_is_named_with_its_setting() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        assert!(port_in_use(port));
        let err = fixed_ports_free(&haproxy(Some(port))).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "haproxy: host port {port} ([topology.haproxy] port) is already in use by \
                 another process; choose another port or leave it unset"
            )
        );
        assert!(
            matches!(&err, TopologyError::PortInUse { node, port: p, setting }
                if node == "haproxy" && *p == port && setting == "[topology.haproxy] port"),
            "{err:?}"
        );
        // nothing fixed, nothing to hold
        assert!(fixed_ports_free(&haproxy(None)).is_ok());
        drop(holder);
        assert!(!port_in_use(port));
        assert!(fixed_ports_free(&haproxy(Some(port))).is_ok());
    }

    #[test]
    fn chosen_ports_avoid_the_fixed_ones_and_each_other() {
        let spec = haproxy(Some(15432));
        let fixed = BTreeSet::from([15432]);
        for _ in 0..20 {
            let ports = host_ports(&spec, &fixed).unwrap();
            assert_eq!(
                ports.keys().copied().collect::<Vec<_>>(),
                [haproxy::REPLICA_PORT, haproxy::PG_PORT, haproxy::STATS_PORT]
            );
            assert_eq!(ports[&haproxy::PG_PORT], 15432);
            let chosen = [ports[&haproxy::REPLICA_PORT], ports[&haproxy::STATS_PORT]];
            assert_ne!(chosen[0], chosen[1]);
            assert!(chosen.iter().all(|p| *p != 15432 && *p != 0));
        }
        // without a fixed port, every port is chosen
        let ports = host_ports(&haproxy(None), &BTreeSet::new()).unwrap();
        assert_eq!(ports.len(), 3);
        assert!(ports.values().all(|&p| p != 0));
    }

    #[test]
    fn ports_taken_every_time_says_so() {
        let err = TopologyError::PortsTaken {
            node: "pg2".into(),
            attempts: PORT_ATTEMPTS,
            message: format!("start container: {IN_USE}"),
        };
        assert_eq!(
            err.to_string(),
            format!(
                "failed to start node pg2: another process took a host port chosen for it \
                 before its container started, 5 times in a row (each time with fresh ports); \
                 last: start container: {IN_USE}"
            )
        );
    }
}
