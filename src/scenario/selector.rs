//! Target selectors as scenario files write them (`leader`, `replica:most-lagging`, `pg2`,
//! `etcd:random`, `group:minority`...), and the nodes a topology has, by name.

use super::model::{Group, Pick, Target, Topology};

use crate::topology::{KINDS, NodeKind, stacks};

/// The kind name validation refers to (the stack-specific fault kinds' targets).
pub(super) const PATRONI: &str = "patroni";

/// The prefix of a group selector: `group:NAME`.
const GROUP: &str = "group:";

/// The nodes of a topology, as the kind registry names them (`pg1..pgN`, `etcd1..etcdM`,
/// `haproxy`...): each kind of the scenario's stack with how many nodes it has.
#[derive(Clone, Debug)]
pub(super) struct Nodes {
    /// In the stack's listing order; kinds the topology has none of are left out.
    kinds: Vec<(NodeKind, usize)>,
    /// For each kind the topology has none of, what would give it some.
    absent: Vec<(NodeKind, String)>,
}

impl Nodes {
    pub fn new(topology: &Topology) -> Self {
        let listed: &[NodeKind] = match stacks::named(&topology.stack) {
            Some(stack) => stack.kinds(),
            None => KINDS,
        };
        Nodes {
            kinds: listed
                .iter()
                .map(|&kind| (kind, kind.kind().count(topology)))
                .filter(|&(_, count)| count > 0)
                .collect(),
            absent: KINDS
                .iter()
                .filter(|k| k.kind().count(topology) == 0)
                .map(|&k| (k, k.kind().absent_because(topology)))
                .collect(),
        }
    }

    /// The kind of node `name`, if the topology has such a node.
    pub fn kind_of(&self, name: &str) -> Option<&'static str> {
        self.kinds
            .iter()
            .find(|(kind, count)| {
                kind.kind()
                    .naming()
                    .index(name)
                    .is_some_and(|i| i <= *count)
            })
            .map(|(kind, _)| kind.name())
    }

    /// Whether the topology has nodes of the kind named `kind`.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.kinds.iter().any(|(k, _)| k.name() == kind)
    }

    /// Every node of `kind`, in order; none for a kind the topology does not have.
    pub fn of_kind(&self, kind: &str) -> Vec<String> {
        self.kinds
            .iter()
            .find(|(k, _)| k.name() == kind)
            .map(|(k, count)| k.kind().naming().names(*count))
            .unwrap_or_default()
    }

    /// When `name` names a kind the topology has none of (`pgbouncer`, `pgbouncer1` without
    /// `[topology.pgbouncer]`), says so; when it is a node name of a kind (`pg7`, `etcd5`)
    /// numbered past what the topology has, what it has instead: `no node "pg7" in the topology, which has pg1..pg3
    /// (topology.patroni.nodes = 3)`.
    pub fn missing(&self, name: &str) -> Option<String> {
        // A registered kind this topology has none of: by its name, or one of its node names.
        let absent = KINDS.iter().filter(|k| !self.has_kind(k.name())).find(|k| {
            let kind = k.name();
            name == kind
                || name.strip_suffix(":random") == Some(kind)
                || k.kind().naming().index(name).is_some()
        });
        if let Some(kind) = absent {
            if let crate::topology::Naming::Inside(host) = kind.kind().naming() {
                return Some(format!(
                    "{} has no nodes of its own (it runs inside the {host} nodes)",
                    kind.name()
                ));
            }
            let because = self.absent.iter().find(|(k, _)| k == kind).map_or_else(
                || format!("[topology.{}] is not set", kind.name()),
                |(_, b)| b.clone(),
            );
            return Some(format!(
                "the topology has no {} node ({because})",
                kind.name()
            ));
        }
        self.kinds
            .iter()
            .filter(|(kind, _)| {
                matches!(kind.kind().naming(), crate::topology::Naming::Numbered(_))
            })
            .find(|(kind, count)| kind.kind().naming().index(name).is_some_and(|i| i > *count))
            .map(|(kind, count)| {
                format!(
                    "no node {name:?} in the topology, which has {} ({} = {count})",
                    kind.kind().naming().span(*count),
                    kind.kind().count_setting()
                )
            })
    }

    /// The nodes of the kind named `kind`, compactly: `pg1`, `pg1, pg2`, `pg1..pg3`.
    pub fn names_of(&self, kind: &str) -> String {
        self.kinds
            .iter()
            .find(|(k, _)| k.name() == kind)
            .map(|(k, count)| k.kind().naming().span(*count))
            .unwrap_or_default()
    }

    /// The Patroni nodes, compactly.
    pub fn patroni_names(&self) -> String {
        self.names_of(PATRONI)
    }

    /// Every node, compactly: `pg1..pg3, etcd1..etcd3, haproxy`.
    pub fn summary(&self) -> String {
        self.kinds
            .iter()
            .map(|(kind, count)| kind.kind().naming().span(*count))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The names of the kinds the topology has, in registry order (`etcd, patroni, haproxy`).
    pub fn kind_names(&self) -> Vec<&'static str> {
        KINDS
            .iter()
            .filter(|k| self.has_kind(k.name()))
            .map(|k| k.name())
            .collect()
    }

    /// The names of the kinds whose nodes have a data disk of their own.
    pub fn kinds_with_disk(&self) -> Vec<&'static str> {
        self.kinds
            .iter()
            .filter(|(k, _)| k.kind().has_disk())
            .map(|(k, _)| k.name())
            .collect()
    }
}

/// Why a string is not a target selector.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SelectorError {
    /// Not a selector at all.
    Unknown,
    /// `group:NAME` for a group that `[groups]` does not define.
    UndefinedGroup(String),
}

/// The target `text` selects in a run of `nodes` with `groups`.
///
/// `haproxy` is both a node name and a kind with one node; it reads as the node.
pub(super) fn parse(text: &str, nodes: &Nodes, groups: &[Group]) -> Result<Target, SelectorError> {
    let target = match text {
        "leader" | "primary" => Target::Leader,
        "replica" | "replica:random" => Target::Replica(Pick::Random),
        "replica:all" => Target::Replica(Pick::All),
        "replica:most-lagging" => Target::Replica(Pick::MostLagging),
        "replica:least-lagging" => Target::Replica(Pick::LeastLagging),
        node if nodes.kind_of(node).is_some() => Target::Node(node.to_owned()),
        kind if nodes.has_kind(kind) => Target::Kind {
            kind: kind.to_owned(),
            random: false,
        },
        other => {
            if let Some(name) = other.strip_prefix(GROUP) {
                if !groups.iter().any(|group| group.name == name) {
                    return Err(SelectorError::UndefinedGroup(name.to_owned()));
                }
                Target::Group(name.to_owned())
            } else if let Some(kind) = other
                .strip_suffix(":random")
                .filter(|kind| nodes.has_kind(kind))
            {
                Target::Kind {
                    kind: kind.to_owned(),
                    random: true,
                }
            } else {
                return Err(SelectorError::Unknown);
            }
        }
    };
    Ok(target)
}

/// The accepted forms, for messages about a string that is not a selector.
pub(super) fn forms(nodes: &Nodes) -> String {
    format!(
        "leader, primary, replica[:random|:all|:most-lagging|:least-lagging], a node ({}), a \
         kind ({}) with an optional :random, or group:NAME",
        nodes.summary(),
        nodes.kind_names().join(", ")
    )
}

/// The selector closest to `text`, to suggest in place of a misspelt one. Numbered node names
/// are left out: `pg4` is not a typo of `pg1`, and messages list them anyway.
pub(super) fn suggest(text: &str, nodes: &Nodes, groups: &[Group]) -> Option<String> {
    let mut known: Vec<String> = [
        "leader",
        "primary",
        "replica",
        "replica:random",
        "replica:all",
        "replica:most-lagging",
        "replica:least-lagging",
    ]
    .map(str::to_owned)
    .to_vec();
    for kind in nodes.kind_names() {
        known.push(kind.to_owned());
        known.push(format!("{kind}:random"));
    }
    known.extend(groups.iter().map(|group| format!("{GROUP}{}", group.name)));
    super::error::suggest(text, known.iter().map(String::as_str)).map(str::to_owned)
}

/// What an undefined group's message says is expected.
pub(super) fn defined_groups(groups: &[Group]) -> String {
    if groups.is_empty() {
        "a group defined in [groups] (the file defines none)".to_owned()
    } else {
        let names: Vec<&str> = groups.iter().map(|group| group.name.as_str()).collect();
        format!("a group defined in [groups] ({})", names.join(", "))
    }
}

/// The nodes `target` hits whenever it fires, if that is known before the run: a node, a
/// group's members, every node of a kind. `None` for targets resolved at fire time (the leader,
/// replicas, one node of a kind at random).
pub(super) fn static_nodes(
    target: &Target,
    nodes: &Nodes,
    groups: &[Group],
) -> Option<Vec<String>> {
    match target {
        Target::Node(name) => Some(vec![name.clone()]),
        Target::Group(name) => groups
            .iter()
            .find(|group| &group.name == name)
            .map(|group| group.nodes.clone()),
        Target::Kind {
            kind,
            random: false,
        } => Some(nodes.of_kind(kind)),
        Target::Leader | Target::Replica(_) | Target::Kind { random: true, .. } => None,
    }
}

/// Why `target` may hit a node of a kind not in `kinds`, or `None`.
pub(super) fn outside_kinds(
    target: &Target,
    nodes: &Nodes,
    groups: &[Group],
    kinds: &[&str],
) -> Option<String> {
    let outside = |kind: Option<&str>| kind.is_none_or(|k| !kinds.contains(&k));
    match target {
        Target::Leader | Target::Replica(_) => outside(Some(PATRONI)).then(String::new),
        Target::Node(name) => outside(nodes.kind_of(name)).then(String::new),
        Target::Kind { kind, .. } => outside(Some(kind)).then(String::new),
        Target::Group(name) => groups
            .iter()
            .filter(|group| &group.name == name)
            .flat_map(|group| &group.nodes)
            .find(|node| outside(nodes.kind_of(node)))
            .map(|node| {
                format!(
                    ", whose member {node:?} is not a {} node",
                    kinds.join(" or ")
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::kinds::etcd::EtcdSettings;
    use crate::topology::kinds::haproxy::{HaproxyCheck, HaproxySettings};
    use crate::topology::kinds::patroni::PatroniSettings;
    use std::time::Duration;

    fn nodes(patroni: usize, etcd: usize) -> Nodes {
        Nodes::new(&Topology {
            stack: "patroni".into(),
            kinds: vec![
                Box::new(EtcdSettings { members: etcd }),
                Box::new(PatroniSettings {
                    nodes: patroni,
                    ttl: Duration::from_secs(30),
                    loop_wait: Duration::from_secs(10),
                    retry_timeout: Duration::from_secs(10),
                    maximum_lag_on_failover: 0,
                    synchronous_mode: false,
                    synchronous_mode_strict: false,
                    own: Default::default(),
                }),
                Box::new(HaproxySettings {
                    check: HaproxyCheck::PatroniRest,
                    inter: Duration::from_secs(2),
                    fall: 3,
                    rise: 2,
                    port: None,
                }),
            ],
        })
    }

    fn groups() -> Vec<Group> {
        vec![
            Group {
                name: "minority".into(),
                nodes: vec!["pg1".into(), "etcd1".into()],
            },
            Group {
                name: "dbs".into(),
                nodes: vec!["pg2".into(), "pg3".into()],
            },
        ]
    }

    #[test]
    fn node_names_follow_the_topology() {
        let nodes = nodes(3, 2);
        assert_eq!(nodes.of_kind(PATRONI), ["pg1", "pg2", "pg3"]);
        assert_eq!(nodes.of_kind("etcd"), ["etcd1", "etcd2"]);
        assert_eq!(nodes.of_kind("haproxy"), ["haproxy"]);
        assert_eq!(nodes.kind_of("pg3"), Some(PATRONI));
        assert_eq!(nodes.kind_of("etcd2"), Some("etcd"));
        assert_eq!(nodes.kind_of("haproxy"), Some("haproxy"));
        for name in [
            "pg4", "pg0", "pg01", "pg", "pg+1", "etcd3", "etcd", "patroni", "PG1",
        ] {
            assert_eq!(nodes.kind_of(name), None, "{name}");
        }
        assert_eq!(nodes.summary(), "pg1..pg3, etcd1, etcd2, haproxy");
        assert_eq!(self::nodes(1, 9).summary(), "pg1, etcd1..etcd9, haproxy");
        assert_eq!(nodes.patroni_names(), "pg1..pg3");
    }

    #[test]
    fn parses_every_selector_form() {
        let nodes = nodes(3, 3);
        let groups = groups();
        let kind = |kind: &str, random| Target::Kind {
            kind: kind.into(),
            random,
        };
        let cases = [
            ("leader", Target::Leader),
            ("primary", Target::Leader),
            ("replica", Target::Replica(Pick::Random)),
            ("replica:random", Target::Replica(Pick::Random)),
            ("replica:all", Target::Replica(Pick::All)),
            ("replica:most-lagging", Target::Replica(Pick::MostLagging)),
            ("replica:least-lagging", Target::Replica(Pick::LeastLagging)),
            ("pg1", Target::Node("pg1".into())),
            ("pg3", Target::Node("pg3".into())),
            ("etcd2", Target::Node("etcd2".into())),
            ("haproxy", Target::Node("haproxy".into())),
            ("etcd", kind("etcd", false)),
            ("patroni", kind("patroni", false)),
            ("etcd:random", kind("etcd", true)),
            ("patroni:random", kind("patroni", true)),
            ("haproxy:random", kind("haproxy", true)),
            ("group:minority", Target::Group("minority".into())),
            ("group:dbs", Target::Group("dbs".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text, &nodes, &groups), Ok(expected.clone()), "{text}");
            // Every target reads back from how it displays, except the aliases.
            assert_eq!(
                parse(&expected.to_string(), &nodes, &groups),
                Ok(expected),
                "{text}"
            );
        }
        for text in [
            "",
            "Leader",
            "pg4",
            "etcd0",
            "replica:",
            "replica:none",
            "pg1:random",
            "random",
            ":random",
            "group",
            "all",
            " leader",
        ] {
            assert_eq!(
                parse(text, &nodes, &groups),
                Err(SelectorError::Unknown),
                "{text:?}"
            );
        }
        assert_eq!(
            parse("group:majority", &nodes, &groups),
            Err(SelectorError::UndefinedGroup("majority".into()))
        );
        assert_eq!(
            parse("group:", &nodes, &groups),
            Err(SelectorError::UndefinedGroup(String::new()))
        );
    }

    #[test]
    fn suggests_close_selectors() {
        let groups = groups();
        let suggest = |text| suggest(text, &nodes(3, 3), &groups);
        assert_eq!(suggest("replicas").as_deref(), Some("replica"));
        assert_eq!(
            suggest("replica:most_lagging").as_deref(),
            Some("replica:most-lagging")
        );
        assert_eq!(suggest("group:minorty").as_deref(), Some("group:minority"));
        assert_eq!(suggest("pg4"), None);
        assert_eq!(suggest("haproy").as_deref(), Some("haproxy"));
        assert_eq!(suggest("etcd:randm").as_deref(), Some("etcd:random"));
        assert_eq!(suggest("somewhere"), None);
    }

    #[test]
    fn static_nodes_are_known_for_nodes_groups_and_whole_kinds() {
        let nodes = nodes(2, 3);
        let groups = groups();
        let of = |text: &str| static_nodes(&parse(text, &nodes, &groups).unwrap(), &nodes, &groups);
        assert_eq!(of("pg2"), Some(vec!["pg2".to_owned()]));
        assert_eq!(
            of("group:minority"),
            Some(vec!["pg1".to_owned(), "etcd1".to_owned()])
        );
        assert_eq!(
            of("etcd"),
            Some(vec![
                "etcd1".to_owned(),
                "etcd2".to_owned(),
                "etcd3".to_owned()
            ])
        );
        assert_eq!(
            of("patroni"),
            Some(vec!["pg1".to_owned(), "pg2".to_owned()])
        );
        for dynamic in ["leader", "replica", "replica:all", "etcd:random"] {
            assert_eq!(of(dynamic), None, "{dynamic}");
        }
    }

    #[test]
    fn patroni_only_targets() {
        let nodes = nodes(3, 3);
        let groups = groups();
        let why = |text: &str| {
            outside_kinds(
                &parse(text, &nodes, &groups).unwrap(),
                &nodes,
                &groups,
                &[PATRONI],
            )
        };
        for text in [
            "leader",
            "replica",
            "replica:all",
            "pg2",
            "patroni",
            "patroni:random",
            "group:dbs",
        ] {
            assert_eq!(why(text), None, "{text}");
        }
        for text in ["etcd1", "haproxy", "etcd", "etcd:random", "haproxy:random"] {
            assert_eq!(why(text), Some(String::new()), "{text}");
        }
        assert_eq!(
            why("group:minority"),
            Some(", whose member \"etcd1\" is not a patroni node".to_owned())
        );
    }
}
