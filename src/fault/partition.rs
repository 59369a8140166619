//! partition: the target nodes cut off from their peers (every other node, or a chosen set),
//! both ways or one way, with iptables inside the containers.

use super::iptables::{self, Rule};
use super::{FaultError, names};
use crate::scenario::Direction;
use crate::topology::{Cluster, Node};

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
