//! The node kinds, one file each, and the registry every other part asks: a new kind is a new
//! file here plus one line in `KINDS`.

pub mod etcd;
pub mod haproxy;
pub mod patroni;

use super::NodeKind;

pub const ETCD: NodeKind = NodeKind::of(&etcd::Etcd);
pub const PATRONI: NodeKind = NodeKind::of(&patroni::Patroni);
pub const HAPROXY: NodeKind = NodeKind::of(&haproxy::Haproxy);

/// Every kind, in the order nodes are listed (`pg1..pg3, etcd1..etcd3, haproxy` lists them by
/// `LISTED`).
pub const KINDS: &[NodeKind] = &[ETCD, PATRONI, HAPROXY];

/// The order node summaries list kinds in: the database nodes first.
pub const LISTED: &[NodeKind] = &[PATRONI, ETCD, HAPROXY];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_kind_is_registered_once_with_its_own_names() {
        let names: BTreeSet<&str> = KINDS.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), KINDS.len());
        let listed: BTreeSet<&str> = LISTED.iter().map(|k| k.name()).collect();
        assert_eq!(listed, names);
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
    fn kinds_travel_in_run_json_by_name() {
        let json = serde_json::to_string(&[ETCD, PATRONI, HAPROXY]).unwrap();
        assert_eq!(json, r#"["etcd","patroni","haproxy"]"#);
        let back: Vec<NodeKind> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [ETCD, PATRONI, HAPROXY]);
        let err = serde_json::from_str::<NodeKind>(r#""zookeeper""#).unwrap_err();
        assert!(
            err.to_string().contains("unknown node kind \"zookeeper\""),
            "{err}"
        );
    }
}
