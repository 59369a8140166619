//! Evidence kept beside the measurements: what the nodes' processes wrote, and the versions
//! and packages that make the run's fingerprint.

use super::kinds::KINDS;
use super::{Cluster, Naming, Node, NodeKind};
use crate::engine;
use crate::scenario::Topology;
use std::collections::BTreeMap;

impl Cluster {
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
            let mut text = self.log(node, options).await;
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

    /// The component versions of the kinds `topology` runs, read from the running containers
    /// (the first running node of each kind answers; a kind with no nodes of its own, such as
    /// keepalived or pgBackRest, from the nodes it runs inside), as each kind names them.
    pub async fn versions(&self, topology: &Topology) -> BTreeMap<String, String> {
        let mut versions = BTreeMap::new();
        for kind in KINDS {
            if !topology.kinds.iter().any(|s| s.kind() == kind.name()) {
                continue;
            }
            let hosts: Vec<&Node> = match kind.kind().naming() {
                Naming::Inside(host) => NodeKind::named(host)
                    .map(|host| self.nodes_of(host).collect())
                    .unwrap_or_default(),
                _ => self.nodes_of(*kind).collect(),
            };
            for &(component, cmd) in kind.kind().versions() {
                for node in &hosts {
                    if let Ok(out) = engine::exec(&self.docker, &node.container, None, cmd).await
                        && out.success()
                    {
                        let first = out.stdout.lines().next().unwrap_or("").trim().to_string();
                        versions.insert(component.to_string(), first);
                        break;
                    }
                }
            }
        }
        versions
    }

    /// The packages installed in the image, as Debian's package database of a running node
    /// lists them (`name` → `version`), with those pinned from PyPI (`pypi:name`); empty if no
    /// node answers or the image has no `dpkg-query`.
    pub async fn packages(&self) -> BTreeMap<String, String> {
        const LIST: &[&str] = &["dpkg-query", "-W", "-f=${Package}=${Version}\\n"];
        const PYPI: &[&str] = &["python3", "-c", crate::image::LIST_PYPI_PACKAGES];
        for node in &self.nodes {
            if let Ok(out) = engine::exec(&self.docker, &node.container, None, LIST).await
                && out.success()
            {
                let mut packages = crate::image::parse_packages(&out.stdout);
                // the packages pinned from PyPI, as the image's label lists them (none in an
                // image without python3)
                if let Ok(out) = engine::exec(&self.docker, &node.container, None, PYPI).await
                    && out.success()
                {
                    packages.extend(crate::image::parse_packages(&out.stdout));
                }
                return packages;
            }
        }
        BTreeMap::new()
    }
}
