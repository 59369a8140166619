//! Time to full redundancy: how long after a fault until a leader streams WAL to every node that
//! is expected back.

use super::leader::{is_leader, probed_nodes};
use super::rto::Window;
use crate::history::{At, FaultAction, FaultEvent, RoleSample};
use std::collections::BTreeSet;
use std::time::Duration;

/// Full redundancy after one fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Redundancy {
    /// From `F` to the `received` instant of the first sample showing full redundancy; `None`
    /// if no sample showed it.
    pub time: Option<Duration>,
    /// When not reached: the expected nodes that the last sample considered (see
    /// [`full_redundancy`]) did not list as streaming. Empty if it was reached, or if no sample
    /// of a leader was considered.
    pub not_streaming: Vec<String>,
    /// When not reached because the leader had no node left to stream to: the nodes left down
    /// (the pair after its old primary was fenced). Empty otherwise.
    pub nothing_to_stream_to: Vec<String>,
}

/// The instant this injection was healed: the `at` of the first heal event of the same fault
/// index at or after the injection's `at`. `None` if the history holds none.
pub(crate) fn healed_at(faults: &[&FaultEvent], injection: &FaultEvent) -> Option<At> {
    faults
        .iter()
        .filter(|f| {
            f.action == FaultAction::Heal && f.fault == injection.fault && f.at >= injection.at
        })
        .map(|f| f.at)
        .min()
}

/// The instant an incident (injections that started together) was healed: the latest of its
/// injections' heals ([`healed_at`]) that the history holds. `None` if it holds none.
pub(crate) fn incident_healed_at(faults: &[&FaultEvent], incident: &[&FaultEvent]) -> Option<At> {
    incident.iter().filter_map(|i| healed_at(faults, i)).max()
}

/// The nodes an injection hit: `nodes` when it names several, else `node`.
pub(crate) fn hit(f: &FaultEvent) -> impl Iterator<Item = &str> {
    let single = f.nodes.is_empty().then_some(f.node.as_str());
    f.nodes.iter().map(String::as_str).chain(single)
}

/// The nodes left down as of instant `f`: every node hit by an injection at or before `f` that
/// has no heal event of the same fault index at or after it in the history.
pub(crate) fn left_down<'a>(faults: &[&'a FaultEvent], f: At) -> BTreeSet<&'a str> {
    faults
        .iter()
        .filter(|i| i.action == FaultAction::Inject && i.at <= f)
        .filter(|i| healed_at(faults, i).is_none())
        .flat_map(|i| hit(i))
        .collect()
}

/// **Time to full redundancy** of the incident `incident` (the injections that started
/// together, the first at `F`), whose window is `window`.
///
/// - *Expected nodes*: every node that appears in a probe sample of the history (answered or
///   not: the Patroni nodes), except the nodes left down: those hit (`node`, or every one of
///   `nodes`) by an injection at or before the incident's last injection that has no heal event
///   of the same fault index later in the history. A node that a later fault will leave down is still expected: it was
///   up within this window.
/// - *Full redundancy*: a probe sample in which a node reports the leader role and lists as
///   `streaming` (`pg_stat_replication` state `streaming`) every expected node other than
///   itself, and streams to some node unless none was left down: a leader streaming to nobody
///   while every other node is left down (a pair whose old primary was fenced) has no
///   redundancy, and that is not reached (`nothing_to_stream_to` names the nodes left down). A
///   topology of one node is as redundant as it was built.
/// - Time = from `F` to the `received` instant of the first such sample, by received instant,
///   among the samples sent at or after `F`, at or after the incident's heal (the latest of
///   its injections' heals, each the `at` of the first heal event of the same fault index at
///   or after the injection) if the history holds one, at or
///   after `elected` (the `received` instant of the sample that first showed a new leader) if
///   the fault brought one (the old leader's view before a switchover is not redundancy
///   regained), and before the window's end. `None` if there is no such sample: full redundancy was not seen
///   within the window.
///
/// `probes` must be ordered by received instant; `faults` is every fault event of the history.
pub(crate) fn full_redundancy(
    probes: &[&RoleSample],
    faults: &[&FaultEvent],
    incident: &[&FaultEvent],
    window: Window,
    elected: Option<At>,
) -> Redundancy {
    let from = incident_healed_at(faults, incident)
        .into_iter()
        .chain(elected)
        .fold(window.start, At::max);
    let last_injection = incident.iter().map(|i| i.at).fold(window.start, At::max);
    let down = left_down(faults, last_injection);
    let probed = probed_nodes(probes);
    let left_down: Vec<String> = probed
        .iter()
        .filter(|n| down.contains(*n))
        .map(|n| n.to_string())
        .collect();
    let expected: Vec<&str> = probed.into_iter().filter(|n| !down.contains(n)).collect();
    let mut not_streaming = Vec::new();
    let mut nothing_to_stream_to = Vec::new();
    let leaders = probes
        .iter()
        .filter(|p| p.sent >= from && window.before_end(p.sent) && is_leader(p));
    for p in leaders {
        // the leader itself may be a node a one-off fault hit (a postgres-crash it came back
        // from): it is no peer left down
        let peers_down: Vec<String> = left_down
            .iter()
            .filter(|n| **n != p.asked)
            .cloned()
            .collect();
        let alone = expected.iter().all(|&n| n == p.asked) && p.streaming.is_empty();
        if alone && !peers_down.is_empty() {
            not_streaming.clear();
            nothing_to_stream_to = peers_down;
            continue;
        }
        nothing_to_stream_to.clear();
        not_streaming = expected
            .iter()
            .filter(|&&n| n != p.asked && !p.streaming.iter().any(|s| s == n))
            .map(|n| n.to_string())
            .collect();
        if not_streaming.is_empty() {
            return Redundancy {
                time: Some(p.received.since(window.start)),
                not_streaming,
                nothing_to_stream_to,
            };
        }
    }
    Redundancy {
        time: None,
        not_streaming,
        nothing_to_stream_to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::leader::ordered;
    use crate::check::testkit::*;
    use crate::history::{History, Role};
    use proptest::prelude::*;

    fn fault_events(h: &History) -> Vec<&FaultEvent> {
        h.faults().collect()
    }

    fn measure_first(h: &History, window: Window, elected: Option<At>) -> Redundancy {
        let probes = ordered(h);
        let faults = fault_events(h);
        let injection = faults
            .iter()
            .find(|f| f.action == FaultAction::Inject)
            .unwrap();
        full_redundancy(&probes, &faults, &[injection], window, elected)
    }

    fn from(start: At) -> Window {
        Window { start, end: None }
    }

    #[test]
    fn after_a_switchover_only_the_new_leaders_view_counts() {
        // A switchover has no heal; the old leader still lists both replicas after F.
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2", "pg3"]),
            inject(0, "pg1", ms(100)),
            probe_wal("pg1", ms(110), ms(111), Role::Leader, None, &["pg2", "pg3"]),
            probe_wal("pg2", ms(300), ms(302), Role::Leader, None, &["pg3"]),
            probe_wal("pg2", ms(600), ms(605), Role::Leader, None, &["pg3", "pg1"]),
        ]);
        let probes = ordered(&h);
        let faults = fault_events(&h);
        let injection = faults[0];
        let without = full_redundancy(&probes, &faults, &[injection], from(ms(100)), None);
        assert_eq!(without.time, Some(Duration::from_millis(11)));
        let elected = full_redundancy(&probes, &faults, &[injection], from(ms(100)), Some(ms(302)));
        assert_eq!(elected.time, Some(Duration::from_millis(505)));
    }

    #[test]
    fn a_leader_with_every_other_node_left_down_has_no_redundancy_to_regain() {
        // The pair: db1 crashed and fenced (never healed), db2 promoted with no one to stream to.
        let h = history(vec![
            probe_wal("db1", ms(0), ms(1), Role::Leader, None, &["db2"]),
            inject(0, "db1", ms(100)),
            probe("db1", ms(150), ms(151), None),
            probe_wal("db2", ms(200), ms(201), Role::Replica, None, &[]),
            probe_wal("db2", ms(600), ms(601), Role::Leader, None, &[]),
            probe_wal("db2", ms(700), ms(701), Role::Leader, None, &[]),
        ]);
        let r = measure_first(&h, from(ms(100)), Some(ms(601)));
        assert_eq!(r.time, None);
        assert!(r.not_streaming.is_empty());
        assert_eq!(r.nothing_to_stream_to, ["db1"]);
        // Three nodes, one left down: the other replica is still expected, and reached.
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2", "pg3"]),
            inject(0, "pg1", ms(100)),
            probe_wal("pg2", ms(600), ms(601), Role::Leader, None, &["pg3"]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, Some(Duration::from_millis(501)));
        assert!(r.nothing_to_stream_to.is_empty());
        // One node, hit by a one-off fault it came back from (no heal): its own crash leaves no
        // peer down, and it is as redundant as it was built.
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &[]),
            inject(0, "pg1", ms(100)),
            probe_wal("pg1", ms(300), ms(301), Role::Leader, None, &[]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, Some(Duration::from_millis(201)));
        assert!(r.nothing_to_stream_to.is_empty());
        // One node by design, nothing left down: as redundant as it was built.
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &[]),
            inject(0, "pg1", ms(100)),
            heal(0, "pg1", ms(200)),
            probe_wal("pg1", ms(300), ms(301), Role::Leader, None, &[]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, Some(Duration::from_millis(201)));
    }

    #[test]
    fn first_leader_sample_listing_every_other_node_after_the_heal() {
        let h = history(vec![
            // full redundancy before F: not counted
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2", "pg3"]),
            inject(0, "pg1", ms(100)),
            probe("pg1", ms(150), ms(151), None),
            probe_wal("pg2", ms(200), ms(201), Role::Leader, None, &["pg3"]),
            heal(0, "pg1", ms(300)),
            // sent before the heal: not counted even though complete
            probe_wal("pg2", ms(290), ms(310), Role::Leader, None, &["pg3", "pg1"]),
            probe_wal("pg1", ms(320), ms(321), Role::Replica, None, &[]),
            probe_wal("pg2", ms(400), ms(401), Role::Leader, None, &["pg3"]),
            // a replica's list is not a leader's
            probe_wal(
                "pg3",
                ms(450),
                ms(451),
                Role::Replica,
                None,
                &["pg1", "pg2"],
            ),
            probe_wal("pg2", ms(500), ms(502), Role::Leader, None, &["pg1", "pg3"]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, Some(Duration::from_millis(402)));
        assert!(r.not_streaming.is_empty());

        let bounded = Window {
            start: ms(100),
            end: Some(ms(500)),
        };
        let r = measure_first(&h, bounded, None);
        assert_eq!(r.time, None);
        assert_eq!(
            r.not_streaming,
            ["pg1"],
            "the last leader sample lacked pg1"
        );
    }

    #[test]
    fn a_node_never_healed_is_not_expected() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2", "pg3"]),
            probe_wal("pg3", ms(10), ms(11), Role::Replica, None, &[]),
            inject(0, "pg1", ms(100)),
            probe("pg1", ms(150), ms(151), None),
            probe_wal("pg2", ms(200), ms(201), Role::Leader, None, &[]),
            probe_wal("pg2", ms(300), ms(305), Role::Leader, None, &["pg3"]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, Some(Duration::from_millis(205)));
    }

    #[test]
    fn every_node_of_a_multi_node_injection_is_left_down() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2", "pg3"]),
            inject_many(0, &["pg2", "pg3"], ms(100)),
            probe("pg2", ms(110), ms(111), None),
            probe("pg3", ms(110), ms(111), None),
            probe_wal("pg1", ms(200), ms(201), Role::Leader, None, &[]),
        ]);
        // both replicas left down: the leader has no one to stream to
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, None);
        assert_eq!(r.nothing_to_stream_to, ["pg2", "pg3"]);
        let faults = fault_events(&h);
        assert_eq!(left_down(&faults, ms(100)), BTreeSet::from(["pg2", "pg3"]));
        assert!(left_down(&faults, ms(99)).is_empty(), "not yet injected");
    }

    #[test]
    fn a_node_a_later_fault_leaves_down_is_still_expected() {
        let h = history(vec![
            inject(0, "etcd1", ms(100)),
            heal(0, "etcd1", ms(200)),
            probe_wal("pg1", ms(250), ms(251), Role::Leader, None, &["pg2"]),
            inject(1, "pg3", ms(300)),
            probe_wal("pg1", ms(350), ms(351), Role::Leader, None, &["pg2"]),
            probe("pg3", ms(360), ms(361), None),
        ]);
        let window = Window {
            start: ms(100),
            end: Some(ms(300)),
        };
        let r = measure_first(&h, window, None);
        assert_eq!(r.time, None, "pg3 was up and not streaming before fault 1");
        assert_eq!(r.not_streaming, ["pg3"]);
        let probes = ordered(&h);
        let faults = fault_events(&h);
        let second = faults.iter().find(|f| f.fault == 1).unwrap();
        let r = full_redundancy(&probes, &faults, &[second], from(ms(300)), None);
        assert_eq!(r.time, Some(Duration::from_millis(51)));
    }

    #[test]
    fn a_fault_outside_the_replication_set_counts_from_its_heal() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2"]),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, None, &[]),
            inject(0, "etcd1", ms(100)),
            probe_wal("pg1", ms(150), ms(151), Role::Leader, None, &["pg2"]),
            heal(0, "etcd1", ms(1000)),
            probe_wal("pg1", ms(1050), ms(1053), Role::Leader, None, &["pg2"]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(r.time, Some(Duration::from_millis(953)));
    }

    #[test]
    fn no_leader_sample_is_not_reached_with_nothing_named() {
        let h = history(vec![
            inject(0, "pg1", ms(100)),
            probe("pg1", ms(150), ms(151), None),
            probe_wal("pg2", ms(150), ms(151), Role::Replica, None, &[]),
        ]);
        let r = measure_first(&h, from(ms(100)), None);
        assert_eq!(
            r,
            Redundancy {
                time: None,
                not_streaming: vec![],
                nothing_to_stream_to: vec![],
            }
        );
    }

    #[test]
    fn healed_at_is_the_first_heal_of_the_same_fault_after_the_injection() {
        let h = history(vec![
            heal(0, "pg1", ms(50)),
            inject(0, "pg1", ms(100)),
            heal(1, "pg1", ms(150)),
            heal(0, "pg1", ms(300)),
            heal(0, "pg1", ms(200)),
        ]);
        let faults = fault_events(&h);
        let injection = faults
            .iter()
            .find(|f| f.action == FaultAction::Inject)
            .unwrap();
        assert_eq!(healed_at(&faults, injection), Some(ms(200)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn planted_full_redundancy_is_timed_exactly(f in replication_strategy()) {
            let planted = f.build();
            let elected = Some(planted.new_leader_seen);
            let r = measure_first(&planted.history, from(planted.fault), elected);
            let seen = planted.full_redundancy_seen.expect("planted within the run");
            prop_assert_eq!(r.time, Some(seen.since(planted.fault)));
            prop_assert!(r.not_streaming.is_empty());

            // the window ends just before the first sample showing it: not reached
            let probes = ordered(&planted.history);
            let first = probes
                .iter()
                .filter(|p| p.received == seen)
                .map(|p| p.sent)
                .min()
                .unwrap();
            let cut = Window { start: planted.fault, end: Some(first) };
            let r = measure_first(&planted.history, cut, elected);
            prop_assert_eq!(r.time, None);
        }
    }
}
