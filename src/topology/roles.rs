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

    /// Whether the client endpoint's kind tells which servers it routes to.
    pub fn has_routing(&self) -> bool {
        self.endpoint()
            .is_ok_and(|n| n.kind.kind().routing(self, n, Duration::ZERO).is_some())
    }

    /// The proxy's view of the servers behind the client endpoint, in configuration order;
    /// `None` when the client endpoint's kind tells none (or the cluster has no endpoint).
    pub async fn routing(&self, timeout: Duration) -> Option<Result<Routing, String>> {
        let proxy = self.endpoint().ok()?;
        Some(proxy.kind.kind().routing(self, proxy, timeout)?.await)
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
