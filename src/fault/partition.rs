//! partition: the target nodes cut off from their peers (every other node, or a chosen set),
//! both ways or one way, with iptables inside the containers.

use super::iptables::{self, Rule};
use super::{FaultError, Fire, Healing, Key, KeyForm, Requirement, Resolver, Targets, Verb, names};
use crate::scenario::{FaultInput, KeyError, RawSelectors, Target};
use crate::topology::{Cluster, Node};
use serde::{Deserialize, Serialize};
use toml::Spanned;

pub struct Partition;

/// A partition's other side and which way it cuts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionParams {
    /// The other side: every other node of the run, or the nodes these selectors name.
    pub from: PartitionPeers,
    pub direction: Direction,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionPeers {
    /// Every other node of the run.
    All,
    /// The nodes these selectors resolve to (when the fault fires).
    Of(Vec<Target>),
}

/// Which traffic a partition drops, seen from the target nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Nothing passes either way.
    Both,
    /// The targets' packets to the peers are dropped (the runbook's `iptables -A OUTPUT`).
    Outgoing,
    /// The peers' packets to the targets are dropped.
    Incoming,
}

impl Verb for Partition {
    type Params = PartitionParams;
    const NAME: &'static str = "partition";
    const SUMMARY: &'static str = "the targets cut off from their peers (every other node, or `from`), both ways or one \
         way (`direction`), with iptables";
    const KEYS: &'static [Key] = &[
        Key {
            name: "from",
            form: KeyForm::Selectors,
        },
        Key {
            name: "direction",
            form: KeyForm::Text,
        },
    ];
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::AnyKind;
    const REQUIRES: &'static [Requirement] = &[Requirement::Iptables];

    fn params(input: &mut FaultInput<'_>) -> Result<PartitionParams, KeyError> {
        let from = match input.selectors("from") {
            Some(from) => peers(from, input)?,
            None => PartitionPeers::All,
        };
        let direction = match input.text("direction") {
            Some(direction) => parse_direction(&direction, input)?,
            None => Direction::Both,
        };
        Ok(PartitionParams { from, direction })
    }

    async fn involve(
        resolver: &Resolver<'_>,
        targets: &[Node],
        params: &PartitionParams,
    ) -> Result<Vec<Node>, FaultError> {
        resolver.peers(&params.from, targets).await
    }

    async fn inject(
        fire: Fire<'_>,
        params: &PartitionParams,
    ) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets, fire.involved, params.direction).await
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        heal(cluster, nodes).await
    }
}

fn peers(from: Spanned<RawSelectors>, input: &FaultInput<'_>) -> Result<PartitionPeers, KeyError> {
    let key = "from";
    let span = from.span();
    match from.into_inner() {
        RawSelectors::One(text) if text == "all" => Ok(PartitionPeers::All),
        RawSelectors::One(text) => {
            let expected = ("selector", "\"all\", or one or an array of: ");
            let target = input.select(&text, span, key, expected)?;
            Ok(PartitionPeers::Of(vec![target]))
        }
        RawSelectors::Many(items) if items.is_empty() => Err(input.invalid(
            span,
            key,
            "expected at least one target selector, found an empty array (partition from \
             every other node with from = \"all\")",
        )),
        RawSelectors::Many(items) => items
            .iter()
            .map(|item| {
                if item.get_ref() == "all" {
                    return Err(input.invalid(
                        item.span(),
                        key,
                        "expected target selectors in the array, \"all\" stands alone: \
                         from = \"all\"",
                    ));
                }
                input.select(item.get_ref(), item.span(), key, ("selector", ""))
            })
            .collect::<Result<Vec<Target>, KeyError>>()
            .map(PartitionPeers::Of),
    }
}

fn parse_direction(
    direction: &Spanned<String>,
    input: &FaultInput<'_>,
) -> Result<Direction, KeyError> {
    match direction.get_ref().as_str() {
        "both" => Ok(Direction::Both),
        "outgoing" => Ok(Direction::Outgoing),
        "incoming" => Ok(Direction::Incoming),
        other => Err(input.invalid(
            direction.span(),
            "direction",
            format!("unknown direction {other:?}, expected one of: both, outgoing, incoming"),
        )),
    }
}

/// The rules that drop traffic between one node and `peer_ips`.
fn rules(peer_ips: &[String], direction: Direction) -> Vec<Rule<'_>> {
    let mut rules = Vec::new();
    for ip in peer_ips {
        if matches!(direction, Direction::Both | Direction::Outgoing) {
            rules.push(Rule::To { ip, port: None });
        }
        if matches!(direction, Direction::Both | Direction::Incoming) {
            rules.push(Rule::From { ip, port: None });
        }
    }
    rules
}

pub async fn inject(
    cluster: &Cluster,
    nodes: &[Node],
    peers: &[Node],
    direction: Direction,
) -> Result<Option<String>, FaultError> {
    let mut peer_ips = Vec::new();
    for peer in peers {
        peer_ips.push(
            cluster
                .current_ip(peer)
                .await
                .map_err(|e| FaultError::action("find the address", &peer.name)(e.to_string()))?,
        );
    }
    iptables::add(cluster, nodes, &rules(&peer_ips, direction)).await?;
    let what = match direction {
        Direction::Both => "cut off from",
        Direction::Outgoing => "cannot send to",
        Direction::Incoming => "cannot receive from",
    };
    Ok(Some(format!("{} {what} {}", names(nodes), names(peers))))
}

pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    iptables::flush(cluster, nodes).await?;
    Ok(Some(format!("connectivity of {} restored", names(nodes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_the_direction() {
        let ips = vec!["10.0.0.2".to_string()];
        let commands = |d| -> Vec<String> { rules(&ips, d).iter().map(Rule::command).collect() };
        assert_eq!(
            commands(Direction::Outgoing),
            vec!["iptables -A FIREDRILL-OUT -d 10.0.0.2 -j DROP"]
        );
        assert_eq!(
            commands(Direction::Incoming),
            vec!["iptables -A FIREDRILL-IN -s 10.0.0.2 -j DROP"]
        );
        assert_eq!(commands(Direction::Both).len(), 2);
    }
}
