//! partition: the target nodes cut off from their peers with iptables inside the containers
//! (they run with NET_ADMIN); the host's firewall is never touched. Rules go into chains of
//! firedrill's own, so healing is flushing them.

use super::{FaultError, names, on_each};
use crate::engine;
use crate::scenario::Direction;
use crate::topology::{Cluster, Node};

const CHAIN_IN: &str = "FIREDRILL-IN";
const CHAIN_OUT: &str = "FIREDRILL-OUT";

/// Creates the chains and hooks them in once; safe to run again.
fn setup_script() -> String {
    format!(
        "iptables -N {CHAIN_IN} 2>/dev/null; iptables -N {CHAIN_OUT} 2>/dev/null; \
         iptables -C INPUT -j {CHAIN_IN} 2>/dev/null || iptables -I INPUT -j {CHAIN_IN}; \
         iptables -C OUTPUT -j {CHAIN_OUT} 2>/dev/null || iptables -I OUTPUT -j {CHAIN_OUT}"
    )
}

/// The rules that drop traffic between one node and `peer_ips`.
pub fn rules(peer_ips: &[String], direction: Direction) -> Vec<String> {
    let mut rules = Vec::new();
    for ip in peer_ips {
        if matches!(direction, Direction::Both | Direction::Outgoing) {
            rules.push(format!("iptables -A {CHAIN_OUT} -d {ip} -j DROP"));
        }
        if matches!(direction, Direction::Both | Direction::Incoming) {
            rules.push(format!("iptables -A {CHAIN_IN} -s {ip} -j DROP"));
        }
    }
    rules
}

async fn run_as_root(
    cluster: &Cluster,
    node: &Node,
    action: &str,
    script: &str,
) -> Result<(), FaultError> {
    let out = engine::exec(
        &cluster.docker,
        &node.container,
        Some("root"),
        &["sh", "-c", script],
    )
    .await
    .map_err(|e| FaultError::action(action, &node.name)(e.to_string()))?;
    if out.success() {
        Ok(())
    } else {
        Err(FaultError::action(action, &node.name)(
            format!("{}{}", out.stdout, out.stderr).trim().to_string(),
        ))
    }
}

/// Every node must be able to run iptables, or a partition would silently do nothing.
pub async fn preflight(cluster: &Cluster) -> Result<(), FaultError> {
    on_each(&cluster.nodes, |node| async move {
        run_as_root(cluster, node, "set up iptables", &setup_script())
            .await
            .map_err(|e| FaultError::Unsupported {
                kind: "partition".into(),
                reason: format!(
                    "iptables does not work inside the containers (they need NET_ADMIN and a kernel with netfilter): {e}"
                ),
            })
    })
    .await
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
    let script = format!(
        "{}; {}",
        setup_script(),
        rules(&peer_ips, direction).join(" && ")
    );
    on_each(nodes, |node| {
        run_as_root(cluster, node, "add iptables rules", &script)
    })
    .await?;
    let what = match direction {
        Direction::Both => "cut off from",
        Direction::Outgoing => "cannot send to",
        Direction::Incoming => "cannot receive from",
    };
    Ok(Some(format!("{} {what} {}", names(nodes), names(peers))))
}

pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    let script = format!("iptables -F {CHAIN_IN} && iptables -F {CHAIN_OUT}");
    on_each(nodes, |node| {
        run_as_root(cluster, node, "remove iptables rules", &script)
    })
    .await?;
    Ok(Some(format!("connectivity of {} restored", names(nodes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_the_direction() {
        let ips = vec!["10.0.0.2".to_string()];
        assert_eq!(
            rules(&ips, Direction::Outgoing),
            vec!["iptables -A FIREDRILL-OUT -d 10.0.0.2 -j DROP"]
        );
        assert_eq!(
            rules(&ips, Direction::Incoming),
            vec!["iptables -A FIREDRILL-IN -s 10.0.0.2 -j DROP"]
        );
        assert_eq!(rules(&ips, Direction::Both).len(), 2);
    }
}
