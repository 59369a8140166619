//! HAProxy in front of the Patroni nodes, routing to whichever answers Patroni's `/primary`.

use super::{FileSpec, NodeKind, NodeSpec, patroni};
use crate::scenario::{Haproxy, HaproxyCheck};

pub const NAME: &str = "haproxy";
pub const PG_PORT: u16 = 5432;
const CONFIG_PATH: &str = "/etc/firedrill/haproxy.cfg";

pub fn spec(spec: &Haproxy, pg_nodes: usize) -> NodeSpec {
    NodeSpec {
        name: NAME.into(),
        kind: NodeKind::Haproxy,
        cmd: vec![
            "haproxy".into(),
            "-W".into(),
            "-db".into(),
            "-f".into(),
            CONFIG_PATH.into(),
        ],
        user: None,
        files: vec![FileSpec {
            path: CONFIG_PATH.into(),
            contents: render_config(spec, pg_nodes),
            mode: 0o644,
        }],
        ports: vec![PG_PORT],
        cap_add: vec!["NET_ADMIN".into()],
        disks: vec![],
    }
}

/// `timeout connect 3s` and `timeout check 3s`: a health check passes if Patroni accepts and
/// answers within 3 s, so a host stall of a second or two (CPU steal on a shared machine, seen
/// here at 20-50 %) does not take the new leader out of rotation after a failover. Clients give
/// up sooner on their own timeouts.
pub fn render_config(spec: &Haproxy, pg_nodes: usize) -> String {
    let check = match spec.check {
        HaproxyCheck::PatroniRest => {
            "    option httpchk OPTIONS /primary\n    http-check expect status 200\n"
        }
    };
    let servers: String = (1..=pg_nodes)
        .map(|i| {
            let name = patroni::name(i);
            format!(
                "    server {name} {name}:{} check port {} init-addr last,libc,none\n",
                patroni::PG_PORT,
                patroni::REST_PORT
            )
        })
        .collect();
    format!(
        "global\n    maxconn 2000\n\n\
         defaults\n    mode tcp\n    timeout connect 3s\n    timeout client 30m\n    timeout server 30m\n    timeout check 3s\n\n\
         listen primary\n    bind *:{PG_PORT}\n{check}    default-server inter {inter}ms fall {fall} rise {rise} on-marked-down shutdown-sessions\n{servers}",
        inter = spec.inter.as_millis(),
        fall = spec.fall,
        rise = spec.rise,
    )
}

pub const VERSION_CMD: &[&str] = &["haproxy", "-v"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn routes_every_node_through_the_patroni_check() {
        let cfg = render_config(
            &Haproxy {
                check: HaproxyCheck::PatroniRest,
                inter: Duration::from_secs(1),
                fall: 3,
                rise: 2,
            },
            3,
        );
        assert!(cfg.contains("option httpchk OPTIONS /primary"));
        assert!(cfg.contains("inter 1000ms fall 3 rise 2"));
        for n in ["pg1", "pg2", "pg3"] {
            assert!(cfg.contains(&format!("server {n} {n}:5432 check port 8008")));
        }
    }
}
