//! Node disks: size-limited, in-memory volumes that outlive a node's container, as a machine's
//! disk outlives its crash.
//!
//! A tmpfs is fast and size-limited (a disk-full fault fills it for real), but the engine
//! unmounts a tmpfs volume, losing its contents, when the last container using it stops. One
//! idle container of the run, the disk keeper, mounts every disk for the whole run, so a node
//! restarted by a fault finds its data again (and an old leader rejoins with pg_rewind, not a
//! new base backup).

use super::NodeSpec;
use super::TopologyError;
use crate::engine::{EngineError, RunLabels};
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, VolumeCreateRequest};
use bollard::query_parameters::CreateContainerOptions;
use std::collections::HashMap;

/// A disk of a node: mounted at `path`, holding at most `size` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk {
    pub path: String,
    pub size: u64,
    /// `Some(name)`: one disk of the run that every node naming it mounts (a backup
    /// repository the database nodes share); `None`: the node's own.
    pub shared: Option<&'static str>,
}

/// The container holding every disk of run `run_id` mounted.
fn keeper(run_id: &str) -> String {
    format!("{run_id}-disks")
}

/// Empties the node's own `index`th disk, as a destroyed machine's disk is: every file gone,
/// the disk itself kept (so the node can start again on an empty one). Returns how many bytes
/// it held.
async fn wipe(docker: &Docker, run_id: &str, container: &str, index: usize) -> Result<u64, String> {
    let mount = format!("/disks/{}", volume_name(container, index));
    // `du` first, for the record; then every entry, hidden ones included.
    let script = format!(
        "set -e; cd '{mount}'; du -sb . | cut -f1; find . -mindepth 1 -maxdepth 1 -exec rm -rf {{}} +"
    );
    let out = crate::engine::exec(
        docker,
        &keeper(run_id),
        Some("root"),
        &["sh", "-c", &script],
    )
    .await
    .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(format!(
            "wiping {mount} failed: {}",
            format!("{}{}", out.stdout, out.stderr).trim()
        ));
    }
    Ok(out.stdout.trim().parse().unwrap_or(0))
}

impl super::Cluster {
    /// Empties `node`'s own `index`th disk (see [`wipe`]); how many bytes it held.
    pub async fn wipe_disk(&self, node: &super::Node, index: usize) -> Result<u64, String> {
        wipe(&self.docker, &self.run_id, &node.container, index).await
    }
}

/// The engine volume holding a node's `index`th disk.
pub fn volume_name(container: &str, index: usize) -> String {
    format!("{container}-disk{index}")
}

/// Creates every disk of `specs` and the keeper holding them mounted. Returns the bind of each
/// disk, by container name, for the nodes' own containers.
pub async fn create(
    docker: &Docker,
    specs: &[&NodeSpec],
    image: &str,
    labels: &RunLabels,
) -> Result<HashMap<String, Vec<String>>, TopologyError> {
    let fail = |message: String| TopologyError::Node {
        node: "disk keeper".into(),
        message,
    };
    let mut binds: HashMap<String, Vec<String>> = HashMap::new();
    let mut kept = Vec::new();
    for spec in specs {
        let container = labels.container(&spec.name);
        for (i, disk) in spec.disks.iter().enumerate() {
            let volume = match disk.shared {
                Some(name) => labels.container(name),
                None => volume_name(&container, i),
            };
            binds
                .entry(container.clone())
                .or_default()
                .push(format!("{volume}:{}", disk.path));
            let keeper_bind = format!("{volume}:/disks/{volume}");
            if kept.contains(&keeper_bind) {
                // a shared disk made for an earlier node
                continue;
            }
            docker
                .create_volume(VolumeCreateRequest {
                    name: Some(volume.clone()),
                    driver: Some("local".into()),
                    driver_opts: Some(HashMap::from([
                        ("type".into(), "tmpfs".into()),
                        ("device".into(), "tmpfs".into()),
                        // Every user may create its directory in it (PostgreSQL wants its own
                        // data directory 0700, which Patroni makes).
                        ("o".into(), format!("size={},mode=1777", disk.size)),
                    ])),
                    labels: Some(labels.to_map()),
                    ..Default::default()
                })
                .await
                .map_err(|e| fail(format!("create volume {volume}: {e}")))?;
            kept.push(keeper_bind);
        }
    }
    if kept.is_empty() {
        return Ok(binds);
    }
    let keeper = keeper(&labels.run_id);
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        labels: Some(labels.to_map()),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            binds: Some(kept),
            init: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(keeper.clone()),
                ..Default::default()
            }),
            body,
        )
        .await
        .map_err(EngineError::call(format!("create container {keeper}")))?;
    docker
        .start_container(&keeper, None)
        .await
        .map_err(EngineError::call(format!("start container {keeper}")))?;
    Ok(binds)
}
