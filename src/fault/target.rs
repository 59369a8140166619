//! Targets are resolved when a fault fires, from what the cluster says at that instant. Random
//! choices come from the run's seeded generator, so `--seed N` repeats them.

use super::FaultError;
use super::PartitionPeers;
use crate::scenario::{Group, Pick, Target};
use crate::topology::{Cluster, Node};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use std::sync::Mutex;
use std::time::Duration;

/// How long a role-defined target may take to resolve.
const RESOLVE_WITHIN: Duration = Duration::from_secs(5);

pub struct Resolver<'a> {
    cluster: &'a Cluster,
    groups: &'a [Group],
    rng: Mutex<StdRng>,
}

impl<'a> Resolver<'a> {
    pub fn new(cluster: &'a Cluster, groups: &'a [Group], seed: u64) -> Self {
        Resolver {
            cluster,
            groups,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// The nodes a target names now. A target defined by roles (leader, replica) is asked again
    /// for up to `RESOLVE_WITHIN` while no node answers as it: a probe round can time out on a
    /// stalled host, and that must not be mistaken for a cluster without a leader.
    pub async fn resolve(&self, target: &Target) -> Result<Vec<Node>, FaultError> {
        let by_role = matches!(target, Target::Leader | Target::Replica(_));
        let deadline = tokio::time::Instant::now() + RESOLVE_WITHIN;
        loop {
            match self.resolve_now(target).await {
                Err(e) if by_role && tokio::time::Instant::now() < deadline => {
                    tracing::debug!("retrying target resolution: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                result => return result,
            }
        }
    }

    async fn resolve_now(&self, target: &Target) -> Result<Vec<Node>, FaultError> {
        let fail = |reason: String| FaultError::Target {
            target: target.to_string(),
            reason,
        };
        let nodes = match target {
            Target::Leader => vec![
                self.roles()
                    .await
                    .leader
                    .ok_or_else(|| fail("no node reports itself leader".into()))?,
            ],
            Target::Replica(pick) => {
                let roles = self.roles().await;
                let replicas = roles.replicas;
                if replicas.is_empty() {
                    return Err(fail("no node reports itself replica".into()));
                }
                match pick {
                    Pick::All => replicas,
                    Pick::Random => vec![self.choose(&replicas)],
                    Pick::MostLagging | Pick::LeastLagging => {
                        let leader = roles
                            .leader
                            .ok_or_else(|| fail("no leader to measure lag from".into()))?;
                        let lags = lag_bytes(self.cluster, &leader)
                            .await
                            .map_err(|e| fail(format!("cannot read replication lag: {e}")))?;
                        let lag_of = |n: &Node| {
                            lags.iter()
                                .find(|(name, _)| *name == n.name)
                                .map(|(_, lag)| *lag)
                                // Not streaming at all: the furthest behind.
                                .unwrap_or(i64::MAX)
                        };
                        let chosen = if *pick == Pick::MostLagging {
                            replicas.iter().max_by_key(|n| lag_of(n))
                        } else {
                            replicas.iter().min_by_key(|n| lag_of(n))
                        };
                        vec![chosen.expect("replicas is not empty").clone()]
                    }
                }
            }
            Target::Node(name) => vec![
                self.cluster
                    .node(name)
                    .cloned()
                    .ok_or_else(|| fail("no such node in this run".into()))?,
            ],
            Target::Kind { kind, random } => {
                let of_kind: Vec<Node> = self
                    .cluster
                    .nodes
                    .iter()
                    .filter(|n| n.kind.name() == kind)
                    .cloned()
                    .collect();
                if of_kind.is_empty() {
                    return Err(fail(format!("no {kind} node in this run")));
                }
                if *random {
                    vec![self.choose(&of_kind)]
                } else {
                    of_kind
                }
            }
            Target::Group(name) => {
                let group = self
                    .groups
                    .iter()
                    .find(|g| &g.name == name)
                    .ok_or_else(|| fail("no such group".into()))?;
                group
                    .nodes
                    .iter()
                    .map(|n| {
                        self.cluster
                            .node(n)
                            .cloned()
                            .ok_or_else(|| fail(format!("group member {n} is not in this run")))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(nodes)
    }

    /// A target that must name exactly one node.
    pub async fn resolve_one(&self, target: &Target) -> Result<Node, FaultError> {
        let mut nodes = self.resolve(target).await?;
        match nodes.len() {
            1 => Ok(nodes.remove(0)),
            n => Err(FaultError::Target {
                target: target.to_string(),
                reason: format!("expected one node, got {n}"),
            }),
        }
    }

    /// The other side of a partition: every node not among `targets`, or what the selectors
    /// name (less the targets themselves).
    pub async fn peers(
        &self,
        from: &PartitionPeers,
        targets: &[Node],
    ) -> Result<Vec<Node>, FaultError> {
        let mut peers: Vec<Node> = match from {
            PartitionPeers::All => self.cluster.nodes.clone(),
            PartitionPeers::Of(selectors) => {
                let mut all = Vec::new();
                for s in selectors {
                    all.extend(self.resolve(s).await?);
                }
                all
            }
        };
        peers.retain(|p| targets.iter().all(|t| t.name != p.name));
        peers.sort_by(|a, b| a.name.cmp(&b.name));
        peers.dedup_by(|a, b| a.name == b.name);
        if peers.is_empty() {
            return Err(FaultError::Target {
                target: "partition peers".into(),
                reason: "the other side of the partition is empty".into(),
            });
        }
        Ok(peers)
    }

    fn choose(&self, nodes: &[Node]) -> Node {
        let mut rng = self.rng.lock().expect("rng lock");
        nodes.choose(&mut *rng).expect("nodes is not empty").clone()
    }

    /// Every node's role, as the role service answers now.
    async fn roles(&self) -> Roles {
        let roles = self.cluster.roles(Duration::from_secs(1)).await;
        Roles {
            leader: roles.leader().cloned(),
            replicas: roles.replicas().cloned().collect(),
        }
    }
}

#[derive(Default)]
struct Roles {
    leader: Option<Node>,
    replicas: Vec<Node>,
}

/// Replay lag in bytes of each replica streaming from `leader`, by member name
/// (`pg_stat_replication.application_name` is the Patroni member name).
pub async fn lag_bytes(cluster: &Cluster, leader: &Node) -> Result<Vec<(String, i64)>, String> {
    let client = cluster
        .connect(leader, Duration::from_secs(1))
        .await
        .map_err(|e| e.to_string())?;
    let rows = client
        .query(
            "SELECT application_name, \
             coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint \
             FROM pg_stat_replication",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
