//! Replication lag in bytes, from the leader's own `pg_stat_replication` (the `replication`
//! samples: the leader's PostgreSQL asked directly), so that the leader's position and each
//! replica's come from one sample of one node, not from two nodes' Patroni answers taken up to
//! a probe period apart.

use crate::history::{At, History, ReplicaStat, ReplicationSample};
use std::collections::{BTreeMap, BTreeSet};

/// The history's replication samples ordered by received instant (then sent instant).
pub(crate) fn ordered(history: &History) -> Vec<&ReplicationSample> {
    let mut samples: Vec<&ReplicationSample> = history.replication_samples().collect();
    samples.sort_by_key(|s| (s.received, s.sent));
    samples
}

/// `leader`'s samples received before `t` in which it answered as a primary with its WAL
/// position, latest first.
fn primary_samples_before<'a>(
    samples: &'a [&'a ReplicationSample],
    leader: &'a str,
    t: At,
) -> impl Iterator<Item = &'a ReplicationSample> + 'a {
    samples
        .iter()
        .rev()
        .copied()
        .filter(move |s| s.received < t && s.node == leader && s.is_primary() && s.wal.is_some())
}

/// The lag of `replica` behind `leader` before `t`, in bytes: in `leader`'s latest sample
/// received before `t` in which it answered as a primary with its WAL position, the leader's
/// position minus the `flush` position of `replica`'s row. The leader's position is the later of
/// its `pg_current_wal_lsn()` and the row's `sent`: the probe reads the former just before
/// `pg_stat_replication`, so WAL written in between can already be sent. If that sample does
/// not list `replica` (with a flush position), the row is the one of `leader`'s latest earlier
/// primary sample that did: a replica not connected has flushed nothing from the leader since
/// (its lag is then counted up to the leader's latest position). `None` if no sample of the
/// leader lists it, or if its flush is past the leader's position (which positions that only
/// move forward rule out; not measured rather than shown as zero).
fn lag_behind(samples: &[&ReplicationSample], leader: &str, replica: &str, t: At) -> Option<u64> {
    let mut primary = primary_samples_before(samples, leader, t);
    let latest = primary.next()?;
    let row = |s: &ReplicationSample| -> Option<ReplicaStat> {
        s.replicas
            .iter()
            .find(|r| r.name == replica && r.flush.is_some())
            .cloned()
    };
    let row = row(latest).or_else(|| primary.find_map(row))?;
    let position = latest.wal?.max(row.sent.unwrap_or(0));
    position.checked_sub(row.flush?)
}

/// **Replication lag at injection**: for every node that `leader` (the leader at `F`) listed
/// in `pg_stat_replication` in a sample received before `F`, other than itself, its lag behind
/// the leader before `F` (see [`lag_behind`]): the leader's position in its latest primary
/// sample received before `F`, minus the replica's flush position in that sample, or in the
/// latest earlier one listing it if it was no longer connected. Empty if there is no leader at
/// `F` or no sample of it as a primary before `F`.
///
/// `samples` must be ordered by received instant.
pub(crate) fn lag_at_injection(
    samples: &[&ReplicationSample],
    leader: Option<&str>,
    f: At,
) -> BTreeMap<String, u64> {
    let Some(leader) = leader else {
        return BTreeMap::new();
    };
    let listed: BTreeSet<&str> = primary_samples_before(samples, leader, f)
        .flat_map(|s| s.replicas.iter().map(|r| r.name.as_str()))
        .filter(|&n| n != leader)
        .collect();
    listed
        .into_iter()
        .filter_map(|n| Some((n.to_string(), lag_behind(samples, leader, n, f)?)))
        .collect()
}

/// **Lag at failover**: with `elected` the `received` instant of the probe sample that showed
/// `new_leader` leading (the election's), `new_leader`'s lag behind `old_leader` before
/// `elected` (see [`lag_behind`]): the WAL the old leader had written, as it last answered as a
/// primary, that the promoted replica had not flushed. `None` if no such sample lists it.
///
/// `samples` must be ordered by received instant.
pub(crate) fn lag_at_failover(
    samples: &[&ReplicationSample],
    old_leader: &str,
    new_leader: &str,
    elected: At,
) -> Option<u64> {
    lag_behind(samples, old_leader, new_leader, elected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::leader::{self, election, leader_at};
    use crate::check::rto::Window;
    use crate::check::testkit::*;
    use crate::history::{Event, Role};
    use proptest::prelude::*;

    /// A primary's answer: its WAL position and `(replica, sent, flush)` rows.
    fn primary(node: &str, sent: At, wal: u64, rows: &[(&str, u64, u64)]) -> Event {
        Event::Replication(ReplicationSample {
            node: node.to_string(),
            sent,
            received: At(sent.0 + MS),
            in_recovery: Some(false),
            wal: Some(wal),
            replicas: rows
                .iter()
                .map(|&(name, sent, flush)| ReplicaStat {
                    name: name.to_string(),
                    state: "streaming".into(),
                    sent: Some(sent),
                    flush: Some(flush),
                    replay: Some(flush),
                    replay_lag: None,
                })
                .collect(),
            error: None,
        })
    }

    #[test]
    fn lag_at_injection_reads_one_sample_of_the_leader() {
        let h = history(vec![
            primary(
                "pg1",
                ms(0),
                1_000,
                &[("pg2", 1_000, 900), ("pg3", 1_000, 990)],
            ),
            // the latest answer as a primary before F: pg3 no longer listed
            primary("pg1", ms(50), 5_000, &[("pg2", 5_000, 4_000)]),
            // not answers as a primary: skipped
            pg_role("pg1", ms(60), ms(61), None),
            pg_role("pg1", ms(70), ms(71), Some(true)),
            // another primary's view (a split brain) is not the leader's
            primary("pg2", ms(70), 9_000, &[("pg3", 9_000, 10)]),
            // received at F: too late
            primary(
                "pg1",
                ms(99),
                6_000,
                &[("pg2", 6_000, 5_999), ("pg3", 6_000, 5_999)],
            ),
        ]);
        let samples = ordered(&h);
        assert_eq!(
            lag_at_injection(&samples, Some("pg1"), ms(100)),
            // pg3: not connected since its flush at 990, behind the leader's 5000 by 4010
            BTreeMap::from([("pg2".to_string(), 1_000), ("pg3".to_string(), 4_010)])
        );
        assert!(lag_at_injection(&samples, None, ms(100)).is_empty());
        assert!(lag_at_injection(&samples, Some("pg1"), ms(1)).is_empty());
        assert!(
            lag_at_injection(&samples, Some("pg3"), ms(100)).is_empty(),
            "pg3 never answered as a primary"
        );
    }

    #[test]
    fn wal_sent_after_the_position_was_read_is_not_a_negative_lag() {
        // pg_current_wal_lsn() is read just before pg_stat_replication: the row's sent (and
        // flush) may be past it. The leader's position is then the sent one, not clamped.
        let h = history(vec![primary(
            "pg1",
            ms(0),
            1_000,
            &[("pg2", 1_200, 1_150), ("pg3", 1_000, 1_000)],
        )]);
        let samples = ordered(&h);
        assert_eq!(
            lag_at_injection(&samples, Some("pg1"), ms(100)),
            BTreeMap::from([("pg2".to_string(), 50), ("pg3".to_string(), 0)])
        );
        // a flush past every position the leader reported: not measured, not zero
        let h = history(vec![primary("pg1", ms(0), 1_000, &[("pg2", 1_000, 1_001)])]);
        assert!(lag_at_injection(&ordered(&h), Some("pg1"), ms(100)).is_empty());
    }

    #[test]
    fn failover_lag_is_the_old_leaders_last_answer_before_the_election() {
        let h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            primary("pg1", ms(0), 1_000, &[("pg2", 1_000, 800)]),
            primary("pg1", ms(90), 2_000, &[("pg2", 1_900, 1_500)]),
            // pg1 is gone after F (100 ms); pg2 answers as a primary once promoted
            pg_role("pg1", ms(150), ms(151), None),
            probe("pg2", ms(200), ms(210), Some(Role::Leader)),
            primary("pg2", ms(205), 2_600, &[]),
        ]);
        let probes = leader::ordered(&h);
        let samples = ordered(&h);
        let w = Window {
            start: ms(100),
            end: None,
        };
        let e = election(&probes, w, "pg1").unwrap();
        assert_eq!(e.seen, ms(210));
        assert_eq!(lag_at_failover(&samples, "pg1", "pg2", e.seen), Some(500));
        assert_eq!(lag_at_failover(&samples, "pg1", "pg2", ms(50)), Some(200));
        assert_eq!(lag_at_failover(&samples, "pg1", "pg3", e.seen), None);
        assert_eq!(lag_at_failover(&samples, "pg1", "pg2", ms(1)), None);
        assert_eq!(lag_at_failover(&samples, "pg2", "pg1", e.seen), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn planted_lags_are_recovered_exactly(f in replication_strategy()) {
            let planted = f.build();
            let probes = leader::ordered(&planted.history);
            let samples = ordered(&planted.history);
            let leader = leader_at(&probes, planted.fault);
            prop_assert_eq!(leader.as_deref(), Some("pg1"));
            prop_assert_eq!(
                lag_at_injection(&samples, leader.as_deref(), planted.fault),
                planted.lag_at_injection.clone()
            );
            let w = Window { start: planted.fault, end: None };
            let e = election(&probes, w, "pg1").unwrap();
            prop_assert_eq!(e.seen, planted.new_leader_seen);
            prop_assert_eq!(
                lag_at_failover(&samples, "pg1", &e.new_leader, e.seen),
                planted.lag_at_failover
            );
        }
    }
}
