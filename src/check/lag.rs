//! Replication lag in bytes, from the WAL positions the probes of each node's manager (Patroni)
//! report: written, on a leader; received, on a replica.

use super::leader::probed_nodes;
use crate::history::{At, ProbeSample, Role};
use std::collections::BTreeMap;

/// The `wal` of `node`'s latest sample (by received instant) that reports `role` and a `wal`
/// and was received before `t`.
///
/// `probes` must be ordered by received instant.
fn wal_before(probes: &[&ProbeSample], node: &str, role: Role, t: At) -> Option<u64> {
    probes
        .iter()
        .rev()
        .filter(|p| p.received < t && p.node == node && p.role == Some(role))
        .find_map(|p| p.wal)
}

/// **Replication lag at injection**: for every node other than `leader` (the leader at `F`),
/// the leader's `wal` in its latest sample reporting the leader role with a `wal` received
/// before `F`, minus that node's `wal` in its latest sample reporting the replica role with a
/// `wal` received before `F`, or zero if the replica was ahead. Nodes come from every probe
/// sample of the history; only those with both values are listed. Empty if there is no leader
/// at `F` or no leader sample with a `wal` before `F`.
///
/// `probes` must be ordered by received instant.
pub(crate) fn lag_at_injection(
    probes: &[&ProbeSample],
    leader: Option<&str>,
    f: At,
) -> BTreeMap<String, u64> {
    let Some(leader) = leader else {
        return BTreeMap::new();
    };
    let Some(written) = wal_before(probes, leader, Role::Leader, f) else {
        return BTreeMap::new();
    };
    probed_nodes(probes)
        .into_iter()
        .filter(|&n| n != leader)
        .filter_map(|n| {
            let received = wal_before(probes, n, Role::Replica, f)?;
            Some((n.to_string(), written.saturating_sub(received)))
        })
        .collect()
}

/// **Lag at failover**: with `elected` the `received` instant of the probe sample that showed
/// `new_leader` leading (the election's), `old_leader`'s `wal` in its latest sample reporting
/// the leader role with a `wal` received before `elected`, minus `new_leader`'s `wal` in its
/// latest sample reporting the replica role with a `wal` received before `elected`, or zero if
/// the new leader was ahead. `None` if either sample is missing.
///
/// `probes` must be ordered by received instant.
pub(crate) fn lag_at_failover(
    probes: &[&ProbeSample],
    old_leader: &str,
    new_leader: &str,
    elected: At,
) -> Option<u64> {
    let written = wal_before(probes, old_leader, Role::Leader, elected)?;
    let received = wal_before(probes, new_leader, Role::Replica, elected)?;
    Some(written.saturating_sub(received))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::leader::{election, leader_at, ordered};
    use crate::check::rto::Window;
    use crate::check::testkit::*;
    use proptest::prelude::*;

    #[test]
    fn lag_uses_the_latest_samples_received_before_f() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, Some(1_000), &[]),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, Some(900), &[]),
            probe_wal("pg3", ms(0), ms(1), Role::Replica, Some(990), &[]),
            probe_wal("pg1", ms(50), ms(51), Role::Leader, Some(5_000), &[]),
            // no wal: skipped for the one before
            probe_wal("pg1", ms(60), ms(61), Role::Leader, None, &[]),
            probe_wal("pg2", ms(50), ms(52), Role::Replica, Some(4_000), &[]),
            // ahead of the leader's sample: zero, not negative
            probe_wal("pg3", ms(55), ms(56), Role::Replica, Some(5_100), &[]),
            // received at F: too late
            probe_wal("pg2", ms(95), ms(100), Role::Replica, Some(4_999), &[]),
            // not a replica: not counted
            probe_wal("pg4", ms(50), ms(51), Role::Other, Some(10), &[]),
            probe("pg5", ms(50), ms(51), None),
        ]);
        let probes = ordered(&h);
        let leader = leader_at(&probes, ms(100));
        assert_eq!(leader.as_deref(), Some("pg1"));
        let lag = lag_at_injection(&probes, leader.as_deref(), ms(100));
        assert_eq!(
            lag,
            BTreeMap::from([("pg2".to_string(), 1_000), ("pg3".to_string(), 0)])
        );
        assert!(lag_at_injection(&probes, None, ms(100)).is_empty());
        assert!(
            lag_at_injection(&probes, Some("pg1"), ms(1)).is_empty(),
            "no leader wal received before"
        );
    }

    #[test]
    fn a_leader_reporting_as_replica_is_not_read_as_written_wal() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, Some(1_000), &[]),
            probe_wal("pg1", ms(10), ms(11), Role::Replica, Some(10), &[]),
            probe_wal("pg2", ms(10), ms(11), Role::Replica, Some(600), &[]),
        ]);
        let probes = ordered(&h);
        assert_eq!(
            lag_at_injection(&probes, Some("pg1"), ms(100)),
            BTreeMap::from([("pg2".to_string(), 400)])
        );
    }

    #[test]
    fn failover_lag_is_read_before_the_election_sample() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, Some(1_000), &[]),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, Some(800), &[]),
            probe_wal("pg1", ms(90), ms(91), Role::Leader, Some(2_000), &[]),
            probe_wal("pg2", ms(150), ms(151), Role::Replica, Some(1_500), &[]),
            probe_wal("pg2", ms(200), ms(210), Role::Leader, Some(1_600), &[]),
            probe_wal("pg2", ms(205), ms(209), Role::Replica, Some(1_900), &[]),
        ]);
        let probes = ordered(&h);
        let w = Window {
            start: ms(100),
            end: None,
        };
        let e = election(&probes, w, "pg1").unwrap();
        assert_eq!(e.seen, ms(210));
        assert_eq!(lag_at_failover(&probes, "pg1", "pg2", e.seen), Some(100));
        assert_eq!(lag_at_failover(&probes, "pg1", "pg2", ms(200)), Some(500));
        assert_eq!(lag_at_failover(&probes, "pg1", "pg3", e.seen), None);
        assert_eq!(lag_at_failover(&probes, "pg1", "pg2", ms(1)), None);
        assert_eq!(
            lag_at_failover(&probes, "pg2", "pg1", e.seen),
            None,
            "pg2 led with a wal only at the election sample, pg1 was never a replica"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn planted_lags_are_recovered_exactly(f in replication_strategy()) {
            let planted = f.build();
            let probes = ordered(&planted.history);
            let leader = leader_at(&probes, planted.fault);
            prop_assert_eq!(leader.as_deref(), Some("pg1"));
            prop_assert_eq!(
                lag_at_injection(&probes, leader.as_deref(), planted.fault),
                planted.lag_at_injection.clone()
            );
            let w = Window { start: planted.fault, end: None };
            let e = election(&probes, w, "pg1").unwrap();
            prop_assert_eq!(e.seen, planted.new_leader_seen);
            prop_assert_eq!(
                lag_at_failover(&probes, "pg1", &e.new_leader, e.seen),
                planted.lag_at_failover
            );
        }
    }
}
