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
    let mount = kept_at(&volume_name(container, index));
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

/// The local driver's options for a disk's volume: a tmpfs of the disk's size.
pub(super) fn volume_options(disk: &Disk) -> [(&'static str, String); 3] {
    [
        ("type", "tmpfs".into()),
        ("device", "tmpfs".into()),
        // Every user may create its directory in it (PostgreSQL wants its own data directory
        // 0700, which Patroni makes).
        ("o", format!("size={},mode=1777", disk.size)),
    ]
}

/// Where the keeper mounts the volume `volume`.
pub(super) fn kept_at(volume: &str) -> String {
    format!("/disks/{volume}")
}

/// The keeper's command: it only holds the disks mounted.
pub(super) const KEEPER_CMD: [&str; 2] = ["sleep", "infinity"];

/// A disk's name within the run: the node's `index`th own disk (`pg1-disk0`), or the shared
/// disk's name (`pgbackrest-repo`).
pub(super) fn disk_name(node: &str, index: usize, disk: &Disk) -> String {
    match disk.shared {
        Some(name) => name.to_owned(),
        None => format!("{node}-disk{index}"),
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
            // `<run>-pg1-disk0`, the same as `volume_name(container, i)`
            let volume = labels.container(&disk_name(&spec.name, i, disk));
            binds
                .entry(container.clone())
                .or_default()
                .push(format!("{volume}:{}", disk.path));
            let keeper_bind = format!("{volume}:{}", kept_at(&volume));
            if kept.contains(&keeper_bind) {
                // a shared disk made for an earlier node
                continue;
            }
            docker
                .create_volume(VolumeCreateRequest {
                    name: Some(volume.clone()),
                    driver: Some("local".into()),
                    driver_opts: Some(
                        volume_options(disk)
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    ),
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
        cmd: Some(KEEPER_CMD.iter().map(|&a| a.to_owned()).collect()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disk_named_in_the_run_is_the_volume_a_fault_wipes() {
        let labels = RunLabels {
            run_id: "fd-1234".into(),
            scenario: "s".into(),
        };
        let own = Disk {
            path: "/data".into(),
            size: 1 << 20,
            shared: None,
        };
        assert_eq!(
            labels.container(&disk_name("pg2", 1, &own)),
            volume_name(&labels.container("pg2"), 1)
        );
        let shared = Disk {
            shared: Some("pgbackrest-repo"),
            ..own
        };
        assert_eq!(disk_name("pg2", 1, &shared), "pgbackrest-repo");
        assert_eq!(
            volume_options(&shared)[2],
            ("o", "size=1048576,mode=1777".to_owned())
        );
    }
}
