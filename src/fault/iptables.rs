//! iptables inside the containers (they run with NET_ADMIN); the host's firewall is never
//! touched. Rules go into chains of firedrill's own, hooked in once, so healing is flushing them.

use super::{FaultError, on_each, run_as_root};
use crate::topology::{Cluster, Node};

const CHAIN_IN: &str = "FIREDRILL-IN";
const CHAIN_OUT: &str = "FIREDRILL-OUT";

/// Which traffic with a peer address a rule drops, seen from the node it is added on.
pub enum Rule<'a> {
    /// Packets to `ip` (optionally to one TCP port of it).
    To { ip: &'a str, port: Option<u16> },
    /// Packets from `ip` (optionally from one TCP port of it).
    From { ip: &'a str, port: Option<u16> },
    /// TCP connections to `ip`'s `port` refused at once (a reset), so a client retries on its
    /// own schedule instead of hanging in the kernel's retransmission backoff.
    RefuseTo { ip: &'a str, port: u16 },
}

impl Rule<'_> {
    pub fn command(&self) -> String {
        let port = |flag: &str, port: Option<u16>| {
            port.map(|p| format!(" -p tcp --{flag} {p}"))
                .unwrap_or_default()
        };
        match self {
            Rule::To { ip, port: p } => {
                format!(
                    "iptables -A {CHAIN_OUT} -d {ip}{} -j DROP",
                    port("dport", *p)
                )
            }
            Rule::From { ip, port: p } => {
                format!(
                    "iptables -A {CHAIN_IN} -s {ip}{} -j DROP",
                    port("sport", *p)
                )
            }
            Rule::RefuseTo { ip, port: p } => format!(
                "iptables -A {CHAIN_OUT} -d {ip}{} -j REJECT --reject-with tcp-reset",
                port("dport", Some(*p))
            ),
        }
    }
}

/// Creates the chains and hooks them in once; safe to run again.
fn setup_script() -> String {
    format!(
        "iptables -N {CHAIN_IN} 2>/dev/null; iptables -N {CHAIN_OUT} 2>/dev/null; \
         iptables -C INPUT -j {CHAIN_IN} 2>/dev/null || iptables -I INPUT -j {CHAIN_IN}; \
         iptables -C OUTPUT -j {CHAIN_OUT} 2>/dev/null || iptables -I OUTPUT -j {CHAIN_OUT}"
    )
}

/// Every node must be able to run iptables, or a network fault would silently do nothing.
pub async fn preflight(cluster: &Cluster, kind: &str) -> Result<(), FaultError> {
    on_each(&cluster.nodes, |node| async move {
        run_as_root(cluster, node, "set up iptables", &setup_script())
            .await
            .map(|_| ())
            .map_err(|e| FaultError::Unsupported {
                kind: kind.into(),
                reason: format!(
                    "iptables does not work inside the containers (they need NET_ADMIN and a kernel with netfilter): {e}"
                ),
            })
    })
    .await
}

/// Adds `rules` on each of `nodes`.
pub async fn add(cluster: &Cluster, nodes: &[Node], rules: &[Rule<'_>]) -> Result<(), FaultError> {
    let commands: Vec<String> = rules.iter().map(Rule::command).collect();
    let script = format!("{}; {}", setup_script(), commands.join(" && "));
    on_each(nodes, |node| {
        let script = &script;
        async move {
            run_as_root(cluster, node, "add iptables rules", script)
                .await
                .map(|_| ())
        }
    })
    .await
}

/// Removes every rule firedrill added on each of `nodes`.
pub async fn flush(cluster: &Cluster, nodes: &[Node]) -> Result<(), FaultError> {
    let script = format!("iptables -F {CHAIN_IN} && iptables -F {CHAIN_OUT}");
    on_each(nodes, |node| {
        let script = &script;
        async move {
            run_as_root(cluster, node, "remove iptables rules", script)
                .await
                .map(|_| ())
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_drop_by_address_and_port() {
        let to = Rule::To {
            ip: "10.0.0.2",
            port: None,
        };
        assert_eq!(
            to.command(),
            "iptables -A FIREDRILL-OUT -d 10.0.0.2 -j DROP"
        );
        let from = Rule::From {
            ip: "10.0.0.2",
            port: Some(5432),
        };
        assert_eq!(
            from.command(),
            "iptables -A FIREDRILL-IN -s 10.0.0.2 -p tcp --sport 5432 -j DROP"
        );
        let refuse = Rule::RefuseTo {
            ip: "10.0.0.2",
            port: 5432,
        };
        assert_eq!(
            refuse.command(),
            "iptables -A FIREDRILL-OUT -d 10.0.0.2 -p tcp --dport 5432 -j REJECT --reject-with tcp-reset"
        );
    }
}
