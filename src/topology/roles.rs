//! The role service: who leads, asked of every role source the stack's kinds offer (what a node
//! says of itself, what an authority names, what the proxy routes to). Readiness, fault targets,
//! the read-back and the probes all ask here; nobody asks Patroni (or any other source)
//! directly.

use super::kind::RoleReport;
use super::{Cluster, Node};
use crate::history::Routing;
use std::time::Duration;

/// What every node with a self-report source said of itself, asked at once.
#[derive(Clone, Debug)]
pub struct Roles {
    /// Each node asked, with its answer (`None`: no answer within the timeout, or an error).
    pub reports: Vec<(Node, Option<RoleReport>)>,
}

impl Roles {
    /// How many nodes were asked.
    pub fn asked(&self) -> usize {
        self.reports.len()
    }

    /// The one node reporting itself leader; none when no node does or several do (two
    /// leaders are no leader to aim at).
    pub fn leader(&self) -> Option<&Node> {
        let mut leaders = self
            .reports
            .iter()
            .filter(|(_, r)| r.as_ref().is_some_and(RoleReport::leads));
        match (leaders.next(), leaders.next()) {
            (Some((node, _)), None) => Some(node),
            _ => None,
        }
    }

    /// The nodes reporting themselves replicas, in whatever state.
    pub fn replicas(&self) -> impl Iterator<Item = &Node> {
        self.reports
            .iter()
            .filter(|(_, r)| {
                r.as_ref()
                    .is_some_and(|r| r.role == crate::history::Role::Replica)
            })
            .map(|(node, _)| node)
    }

    /// The replicas that serve (running, not starting).
    pub fn serving_replicas(&self) -> impl Iterator<Item = &Node> {
        self.reports
            .iter()
            .filter(|(_, r)| r.as_ref().is_some_and(RoleReport::serves_as_replica))
            .map(|(node, _)| node)
    }
}

impl Cluster {
    /// The nodes whose kind reports its own role.
    pub fn self_reporting(&self) -> impl Iterator<Item = &Node> {
        let probe = Duration::ZERO;
        self.nodes.iter().filter(move |n| {
            // A kind offers a source iff it hands out a probe for a node.
            n.kind.kind().self_report(self, n, probe).is_some()
        })
    }

    /// The nodes whose kind names the leader (a store or arbiter).
    pub fn authorities(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| {
            n.kind
                .kind()
                .names_leader(self, n, Duration::ZERO)
                .is_some()
        })
    }

    /// What `node` says of its own role now; `None` when its kind offers no such source.
    pub async fn self_report(
        &self,
        node: &Node,
        timeout: Duration,
    ) -> Option<Result<RoleReport, String>> {
        Some(node.kind.kind().self_report(self, node, timeout)?.await)
    }

    /// Which node the authority `node` names as leader now; `None` when its kind names none.
    pub async fn named_leader(
        &self,
        node: &Node,
        timeout: Duration,
    ) -> Option<Result<Option<String>, String>> {
        Some(node.kind.kind().names_leader(self, node, timeout)?.await)
    }

    /// The proxy that tells which servers it routes to: the client endpoint (HAProxy in the
    /// Patroni stack) or, where clients reach the database at a virtual IP, the one in front
    /// of the application tier. `None`: the cluster has no such proxy.
    pub fn proxy(&self) -> Option<&Node> {
        let routes = |n: &&Node| n.kind.kind().routing(self, n, Duration::ZERO).is_some();
        self.endpoint()
            .ok()
            .filter(routes)
            .or_else(|| self.nodes.iter().find(routes))
    }

    /// Whether the cluster has a proxy that tells which servers it routes to.
    pub fn has_routing(&self) -> bool {
        self.proxy().is_some()
    }

    /// The proxy's view of the servers behind it, in configuration order: the database servers
    /// behind the client endpoint (none where clients connect to a virtual IP) and the
    /// application servers; `None` when the cluster has no such proxy.
    pub async fn routing(&self, timeout: Duration) -> Option<Result<Routing, String>> {
        let proxy = self.proxy()?;
        Some(proxy.kind.kind().routing(self, proxy, timeout)?.await)
    }

    /// The nodes that may hold the virtual IP: those running a database server.
    pub fn address_candidates(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(|n| n.kind.kind().database().is_some())
    }

    /// Whether `node` holds the virtual IP now, from its own interface (`ip -4 addr` inside
    /// it); `None` when the stack has no virtual IP.
    pub async fn holds_virtual_ip(
        &self,
        node: &Node,
        timeout: Duration,
    ) -> Option<Result<bool, String>> {
        let address = self.client_entry.virtual_ip()?;
        let what = format!("list the addresses of {}", node.name);
        let answer = crate::engine::exec_within(
            &self.docker,
            &node.container,
            Some("root"),
            &["ip", "-4", "-o", "addr", "show", "dev", "eth0"],
            (timeout, &what),
        )
        .await
        .and_then(|out| match out.success() {
            true => Ok(lists_address(&out.stdout, address)),
            false => Err(format!("{what}: {}", out.stderr.trim())),
        });
        Some(answer)
    }

    /// The nodes holding the virtual IP now, each asked at once; an error when one did not
    /// answer (or the stack has no virtual IP).
    pub async fn address_holders(&self, timeout: Duration) -> Result<Vec<String>, String> {
        let nodes: Vec<&Node> = self.address_candidates().collect();
        let answers =
            futures_util::future::join_all(nodes.iter().map(|n| self.holds_virtual_ip(n, timeout)))
                .await;
        let mut holders = Vec::new();
        for (node, answer) in nodes.iter().zip(answers) {
            match answer {
                None => return Err("the stack has no virtual IP".into()),
                Some(Err(e)) => return Err(e),
                Some(Ok(true)) => holders.push(node.name.clone()),
                Some(Ok(false)) => {}
            }
        }
        Ok(holders)
    }

    /// Every self-reporting node's role, asked at once, each answer bounded by `timeout`.
    pub async fn roles(&self, timeout: Duration) -> Roles {
        let nodes: Vec<&Node> = self.self_reporting().collect();
        let answers = futures_util::future::join_all(
            nodes
                .iter()
                .map(|n| async move { self.self_report(n, timeout).await.and_then(Result::ok) }),
        )
        .await;
        Roles {
            reports: nodes.into_iter().cloned().zip(answers).collect(),
        }
    }
}

/// Whether `ip -4 -o addr` output lists `address` (`... inet 172.18.255.254/16 ...`).
pub fn lists_address(output: &str, address: &str) -> bool {
    output
        .split_whitespace()
        .any(|word| word.split('/').next() == Some(address) && word.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_when_ip_lists_it_with_its_prefix() {
        let out = "52: eth0    inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0\n\
                   52: eth0    inet 172.18.255.254/16 scope global secondary eth0\n";
        assert!(lists_address(out, "172.18.255.254"));
        assert!(lists_address(out, "172.18.0.2"));
        assert!(!lists_address(out, "172.18.0.25"));
        // the broadcast address is no address of the node
        assert!(!lists_address(out, "172.18.255.255"));
    }
}
