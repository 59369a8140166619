//! disk-full: the node's data disk (a size-limited tmpfs holding the data directory, WAL
//! included) filled until a write gets ENOSPC; healed by deleting the filler. Refuses any path
//! that is not such a disk: filling the container's root would fill the host's disk.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, on_each, run_as_root};
use crate::engine;
use crate::scenario::{FaultInput, KeyError, format_size};
use crate::topology::{Cluster, Node};

pub struct DiskFull;

impl Verb for DiskFull {
    type Params = NoKeys;
    const NAME: &'static str = "disk-full";
    const SUMMARY: &'static str =
        "the node's data disk (WAL included) filled until writes get ENOSPC; healed by freeing it";
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::WithDisk;

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets).await
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        heal(cluster, nodes).await
    }
}

const DISK: &str = "/data";
const FILLER: &str = "/data/firedrill-disk-full";

fn fill_script() -> String {
    format!(
        "set -e; \
         [ \"$(stat -f -c %T {DISK})\" = tmpfs ] || \
           {{ echo '{DISK} is not a size-limited disk of the node; refusing to fill it' >&2; exit 1; }}; \
         free=$(df -B1 --output=avail {DISK} | tail -1); \
         fallocate -l \"$free\" {FILLER} 2>/dev/null || true; \
         dd if=/dev/zero of={FILLER}.tail bs=4096 2>/dev/null || true; \
         df -B1 --output=size,avail {DISK} | tail -1"
    )
}

pub async fn inject(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    let reports = futures_util::future::try_join_all(nodes.iter().map(|node| async move {
        let out = run_as_root(cluster, node, "fill the disk", &fill_script()).await?;
        let mut numbers = out.split_whitespace().filter_map(|n| n.parse::<u64>().ok());
        let (size, free) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
        // The proof it took: the database's own user cannot write a page.
        let probe = engine::exec(
            &cluster.docker,
            &node.container,
            Some("postgres"),
            &[
                "sh",
                "-c",
                &format!(
                    "dd if=/dev/zero of={DISK}/firedrill-probe bs=8192 count=1 2>&1; \
                     rm -f {DISK}/firedrill-probe"
                ),
            ],
        )
        .await
        .map_err(|e| FaultError::action("try a write", &node.name)(e.to_string()))?;
        if !probe.stdout.contains("No space left on device") {
            return Err(FaultError::action("fill the disk", &node.name)(format!(
                "{DISK} still takes writes after filling ({} free): {}",
                format_size(free),
                probe.stdout.trim()
            )));
        }
        Ok::<_, FaultError>(format!(
            "{}: {DISK} full ({} of {}), a write gets ENOSPC",
            node.name,
            format_size(size.saturating_sub(free)),
            format_size(size)
        ))
    }))
    .await?;
    Ok(Some(reports.join("; ")))
}

pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        run_as_root(
            cluster,
            node,
            "free the disk",
            &format!("rm -f {FILLER} {FILLER}.tail"),
        )
        .await
        .map(|_| ())
    })
    .await?;
    Ok(Some(format!("freed the disk of {}", names(nodes))))
}
