//! The node kinds, one file each, and the registry every other part asks: a new kind is a new
//! file here plus one line in `KINDS`.

pub mod app;
pub mod etcd;
pub mod haproxy;
pub mod keepalived;
pub mod patroni;
pub mod patroni_own;
pub mod pgbackrest;
pub mod pgbouncer;
pub mod postgres;
pub mod redis;
pub mod sentinel;
pub mod varnish;

use super::NodeKind;

pub const ETCD: NodeKind = NodeKind::of(&etcd::Etcd);
pub const PATRONI: NodeKind = NodeKind::of(&patroni::Patroni);
pub const HAPROXY: NodeKind = NodeKind::of(&haproxy::Haproxy);
pub const PGBOUNCER: NodeKind = NodeKind::of(&pgbouncer::Pgbouncer);
pub const PGBACKREST: NodeKind = NodeKind::of(&pgbackrest::Pgbackrest);
pub const APP: NodeKind = NodeKind::of(&app::App);
pub const VARNISH: NodeKind = NodeKind::of(&varnish::Varnish);
pub const POSTGRES: NodeKind = NodeKind::of(&postgres::Postgres);
pub const KEEPALIVED: NodeKind = NodeKind::of(&keepalived::Keepalived);
pub const REDIS: NodeKind = NodeKind::of(&redis::Redis);
pub const SENTINEL: NodeKind = NodeKind::of(&sentinel::Sentinel);

/// Every kind.
pub const KINDS: &[NodeKind] = &[
    ETCD, PATRONI, HAPROXY, PGBOUNCER, PGBACKREST, APP, VARNISH, POSTGRES, KEEPALIVED, REDIS,
    SENTINEL,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_kind_is_registered_once_with_its_own_names() {
        let names: BTreeSet<&str> = KINDS.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), KINDS.len());
        for kind in KINDS {
            assert_eq!(NodeKind::named(kind.name()), Some(*kind));
            assert!(!kind.kind().packages().is_empty(), "{}", kind.name());
            // No two kinds can claim one node name.
            for other in KINDS.iter().filter(|o| *o != kind) {
                let first = kind.kind().naming().name(1);
                assert_eq!(other.kind().naming().index(&first), None, "{first}");
            }
        }
    }

    #[test]
    fn clients_reach_servers_poolers_and_the_proxy_and_only_servers_replicate() {
        use crate::client::Protocol;
        let serving: Vec<_> = KINDS
            .iter()
            .filter_map(|k| Some((k.name(), k.kind().serves()?)))
            .map(|(name, s)| (name, s.protocol, s.port, s.replicas))
            .collect();
        assert_eq!(
            serving,
            [
                ("patroni", Protocol::Postgres, 5432, None),
                (
                    "haproxy",
                    Protocol::Postgres,
                    5432,
                    Some(haproxy::REPLICA_PORT)
                ),
                ("pgbouncer", Protocol::Postgres, 6432, None),
                ("postgres", Protocol::Postgres, 5432, None),
                ("redis", Protocol::Redis, 6379, None),
            ]
        );
        let databases: Vec<_> = KINDS
            .iter()
            .filter(|k| k.kind().database().is_some())
            .map(|k| k.name())
            .collect();
        assert_eq!(databases, ["patroni", "postgres"]);
    }

    #[test]
    fn kinds_travel_in_run_json_by_name() {
        let json = serde_json::to_string(&[ETCD, PATRONI, HAPROXY, PGBOUNCER]).unwrap();
        assert_eq!(json, r#"["etcd","patroni","haproxy","pgbouncer"]"#);
        let back: Vec<NodeKind> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [ETCD, PATRONI, HAPROXY, PGBOUNCER]);
        let err = serde_json::from_str::<NodeKind>(r#""zookeeper""#).unwrap_err();
        assert!(
            err.to_string().contains("unknown node kind \"zookeeper\""),
            "{err}"
        );
    }
}
