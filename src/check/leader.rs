//! Who led, from the role sources' self reports (each node's manager answering about itself:
//! Patroni), and how long a new leader took. A self report is about the node asked.

use super::rto::Window;
use crate::history::{At, History, RoleSample};
use std::collections::BTreeSet;
use std::time::Duration;

/// The history's self reports ordered by received instant (then sent instant).
pub(crate) fn ordered(history: &History) -> Vec<&RoleSample> {
    let mut probes: Vec<&RoleSample> = history.self_reports().collect();
    probes.sort_by_key(|p| (p.received, p.sent));
    probes
}

/// The nodes' answers on holding the virtual IP, ordered as [`ordered`] orders self reports:
/// the functions here read them as well, the holder as the leader.
pub(crate) fn ordered_addresses(history: &History) -> Vec<&RoleSample> {
    let mut answers: Vec<&RoleSample> = history.address_reports().collect();
    answers.sort_by_key(|p| (p.received, p.sent));
    answers
}

pub(crate) fn is_leader(p: &RoleSample) -> bool {
    p.is_leader()
}

/// The nodes of the replication set: every node that appears in a probe sample of the history,
/// answered or not (self reports ask each node's manager, so these are its nodes).
pub(crate) fn probed_nodes<'a>(probes: &[&'a RoleSample]) -> BTreeSet<&'a str> {
    probes.iter().map(|p| p.asked.as_str()).collect()
}

/// The leader at instant `f`: the node of the latest probe sample reporting the leader role that
/// was received before `f`. `None` if no sample had reported a leader by then.
///
/// `probes` must be ordered by received instant.
pub(crate) fn leader_at(probes: &[&RoleSample], f: At) -> Option<String> {
    probes
        .iter()
        .rev()
        .filter(|p| p.received < f)
        .find(|p| is_leader(p))
        .map(|p| p.asked.clone())
}

/// A different leader seen after a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Election {
    /// From `F` to the `received` instant of the first sample reporting the new leader.
    pub time: Duration,
    /// That sample's `received` instant.
    pub seen: At,
    pub new_leader: String,
}

/// **Leader election time**: from `F` to the `received` instant of the first probe sample (by
/// received instant) sent at or after `F` and before the window's end in which a node other
/// than `old_leader` (the leader at `F`) reports the leader role. `None` if no such sample.
///
/// `probes` must be ordered by received instant.
pub(crate) fn election(
    probes: &[&RoleSample],
    window: Window,
    old_leader: &str,
) -> Option<Election> {
    probes
        .iter()
        .filter(|p| p.sent >= window.start && window.before_end(p.sent))
        .find(|p| is_leader(p) && p.asked != old_leader)
        .map(|p| Election {
            time: p.received.since(window.start),
            seen: p.received,
            new_leader: p.asked.clone(),
        })
}

/// The timeline of `node` as leader at instant `f`: the `timeline` of its latest probe sample
/// (by received instant) that reports the leader role with a timeline and was received before
/// `f`. `None` if there is no such sample.
///
/// `probes` must be ordered by received instant.
pub(crate) fn leader_timeline_at(probes: &[&RoleSample], node: &str, f: At) -> Option<u64> {
    probes
        .iter()
        .rev()
        .filter(|p| p.received < f && p.asked == node && is_leader(p))
        .find_map(|p| p.epoch)
}

/// A new leader seen on a higher timeline after a fault: its promotion finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Promotion {
    /// From `F` to the `received` instant of the first sample showing it.
    pub time: Duration,
    /// That sample's node.
    pub node: String,
    /// That sample's timeline (`None`: the source keeps none).
    pub timeline: Option<u64>,
}

/// **Promotion time**: from `F` to the `received` instant of the first probe sample (by
/// received instant) sent at or after `F` and before the window's end in which a node other
/// than `old_leader` reports the leader role with a timeline greater than `old_timeline` (the
/// old leader's timeline at `F`, from [`leader_timeline_at`]). Patroni reports the timeline of
/// the current WAL file, so a higher timeline means PostgreSQL finished promoting, not only that
/// Patroni took the leader key. `None` if no such sample, or if `old_timeline` is unknown.
///
/// `probes` must be ordered by received instant.
pub(crate) fn promotion(
    probes: &[&RoleSample],
    window: Window,
    old_leader: &str,
    old_timeline: Option<u64>,
) -> Option<Promotion> {
    let old_timeline = old_timeline?;
    probes
        .iter()
        .filter(|p| p.sent >= window.start && window.before_end(p.sent))
        .filter(|p| is_leader(p) && p.asked != old_leader)
        .find_map(|p| {
            let timeline = p.epoch.filter(|&t| t > old_timeline)?;
            Some(Promotion {
                time: p.received.since(window.start),
                node: p.asked.clone(),
                timeline: Some(timeline),
            })
        })
}

/// Whether the role source keeps generations: some leader answer carries an epoch
/// (PostgreSQL's timeline). Redis's `ROLE` has none.
pub(crate) fn has_epochs(probes: &[&RoleSample]) -> bool {
    probes.iter().any(|p| is_leader(p) && p.epoch.is_some())
}

/// **Promotion time** where the role source keeps no generations (Redis): a replica answers
/// as the leader only once promoted (`REPLICAOF NO ONE`), so the promotion is the first
/// answer, sent at or after `F` and before the window's end, in which a node other than
/// `old_leader` is the leader: from `F` to its `received` instant.
///
/// `probes` must be ordered by received instant.
pub(crate) fn promotion_without_epochs(
    probes: &[&RoleSample],
    window: Window,
    old_leader: &str,
) -> Option<Promotion> {
    election(probes, window, old_leader).map(|e| Promotion {
        time: e.time,
        node: e.new_leader,
        timeline: None,
    })
}

/// The leaders the probes saw, in the order of the samples' received instants, each listed again
/// only when the leader changed (pg1, pg2, pg1 after a switch back).
pub(crate) fn leaders(probes: &[&RoleSample]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for p in probes.iter().filter(|p| is_leader(p)) {
        if seen.last() != Some(&p.asked) {
            seen.push(p.asked.clone());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::history::{Event, Role};
    use proptest::prelude::*;

    #[test]
    fn leader_at_uses_samples_received_before_f() {
        let h = history(vec![
            probe("pg1", ms(0), ms(2), Some(Role::Leader)),
            probe("pg2", ms(50), ms(52), Some(Role::Replica)),
            probe("pg2", ms(99), ms(101), Some(Role::Leader)),
        ]);
        let probes = ordered(&h);
        assert_eq!(leader_at(&probes, ms(100)), Some("pg1".to_string()));
        assert_eq!(leader_at(&probes, ms(102)), Some("pg2".to_string()));
        assert_eq!(leader_at(&probes, ms(1)), None);
    }

    #[test]
    fn election_is_the_first_other_leader_sample_sent_after_f() {
        let h = history(vec![
            probe("pg1", ms(0), ms(2), Some(Role::Leader)),
            // sent before F: not counted
            probe("pg2", ms(95), ms(130), Some(Role::Leader)),
            probe("pg1", ms(110), ms(111), Some(Role::Leader)),
            probe("pg3", ms(140), ms(160), Some(Role::Replica)),
            probe("pg2", ms(150), ms(153), Some(Role::Leader)),
            probe("pg3", ms(151), ms(152), Some(Role::Leader)),
        ]);
        let probes = ordered(&h);
        let w = Window {
            start: ms(100),
            end: None,
        };
        let e = election(&probes, w, "pg1").unwrap();
        assert_eq!(e.new_leader, "pg3");
        assert_eq!(e.time, Duration::from_millis(52));
        assert_eq!(e.seen, ms(152));
        let bounded = Window {
            start: ms(100),
            end: Some(ms(150)),
        };
        assert_eq!(election(&probes, bounded, "pg1"), None);
        assert_eq!(leaders(&probes), ["pg1", "pg2", "pg3", "pg2"]);
    }

    fn leader_on(node: &str, sent: At, received: At, timeline: Option<u32>) -> Event {
        match probe(node, sent, received, Some(Role::Leader)) {
            Event::Role(p) => Event::Role(RoleSample {
                epoch: timeline.map(u64::from),
                ..p
            }),
            _ => unreachable!(),
        }
    }

    #[test]
    fn promotion_is_the_first_other_leader_on_a_higher_timeline() {
        let h = history(vec![
            leader_on("pg1", ms(0), ms(2), Some(3)),
            leader_on("pg1", ms(50), ms(52), Some(4)),
            // no timeline: the one before counts
            leader_on("pg1", ms(90), ms(91), None),
            // F = 100 ms
            // the old leader on a higher timeline is not a promotion
            leader_on("pg1", ms(110), ms(111), Some(5)),
            // leader, but not yet promoted: the old timeline
            leader_on("pg2", ms(120), ms(122), Some(4)),
            leader_on("pg2", ms(130), ms(131), None),
            // sent before F: not counted
            leader_on("pg3", ms(99), ms(140), Some(5)),
            leader_on("pg2", ms(150), ms(155), Some(5)),
            leader_on("pg3", ms(151), ms(153), Some(5)),
        ]);
        let probes = ordered(&h);
        assert_eq!(leader_timeline_at(&probes, "pg1", ms(100)), Some(4));
        assert_eq!(leader_timeline_at(&probes, "pg1", ms(2)), None);
        assert_eq!(leader_timeline_at(&probes, "pg2", ms(100)), None);
        let w = Window {
            start: ms(100),
            end: None,
        };
        let p = promotion(&probes, w, "pg1", Some(4)).unwrap();
        assert_eq!(p.node, "pg3");
        assert_eq!(p.time, Duration::from_millis(53));
        assert_eq!(p.timeline, Some(5));
        assert_eq!(promotion(&probes, w, "pg1", None), None);
        let bounded = Window {
            start: ms(100),
            end: Some(ms(151)),
        };
        assert_eq!(
            promotion(&probes, bounded, "pg1", Some(4)).map(|p| p.node),
            Some("pg2".to_string())
        );
        // the election came earlier, on the old timeline
        let e = election(&probes, w, "pg1").unwrap();
        assert_eq!((e.new_leader.as_str(), e.seen), ("pg2", ms(122)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn planted_leader_change_is_timed_exactly(f in failover_strategy()) {
            let planted = f.build();
            let probes = ordered(&planted.history);
            let old = leader_at(&probes, planted.fault);
            prop_assert_eq!(old.as_deref(), Some("pg1"));
            let w = Window { start: planted.fault, end: None };
            let e = election(&probes, w, "pg1").unwrap();
            prop_assert_eq!(e.new_leader, "pg2");
            prop_assert_eq!(e.time, planted.new_leader_seen.since(planted.fault));
            prop_assert_eq!(e.seen, planted.new_leader_seen);
            prop_assert_eq!(leaders(&probes), ["pg1", "pg2"]);
            let old_timeline = leader_timeline_at(&probes, "pg1", planted.fault);
            prop_assert_eq!(old_timeline, Some(1));
            let p = promotion(&probes, w, "pg1", old_timeline).unwrap();
            prop_assert_eq!(p.node, "pg2");
            prop_assert_eq!(p.timeline, Some(2));
            prop_assert_eq!(p.time, planted.promoted_seen.since(planted.fault));
        }
    }
}
