//! Replication lag from the nodes' own positions, for a stack whose servers keep no
//! `pg_stat_replication` (Redis: each server's `ROLE` offset, a master's of what it wrote, a
//! replica's of what it processed from its master). Two nodes' answers are taken up to a probe
//! period apart: each replica's answer is set against the leader's answer sent nearest to it
//! (the same probe round), and what the leader wrote between the two is the lag's error; a
//! replica that answered ahead of that leader answer counts as caught up (0).

use crate::history::{At, Role, RoleSample};
use std::collections::BTreeMap;

/// `node`'s latest answer received before `t` as a replica with a position.
fn replica_before<'a>(probes: &[&'a RoleSample], node: &str, t: At) -> Option<&'a RoleSample> {
    probes
        .iter()
        .rev()
        .copied()
        .filter(|p| p.received < t && p.asked == node && p.role == Some(Role::Replica))
        .find(|p| p.position.is_some())
}

/// `leader`'s position in its answer as leader, received before `t`, sent nearest to
/// `replica`'s answer.
fn written_near(probes: &[&RoleSample], leader: &str, replica: &RoleSample, t: At) -> Option<u64> {
    probes
        .iter()
        .filter(|p| p.received < t && p.asked == leader && p.role == Some(Role::Leader))
        .filter(|p| p.position.is_some())
        .min_by_key(|p| p.sent.0.abs_diff(replica.sent.0))
        .and_then(|p| p.position)
}

/// `replica`'s lag behind `leader` from that pair of answers.
fn lag(probes: &[&RoleSample], leader: &str, replica: &RoleSample, t: At) -> Option<u64> {
    let written = written_near(probes, leader, replica, t)?;
    Some(written.saturating_sub(replica.position?))
}

/// **Replica lag at injection** from positions: for every other node whose latest answer
/// before `F` was as a replica with a position, the leader's position in its answer as leader
/// received before `F` and sent nearest to that one, minus the replica's. Empty if there is no
/// leader at `F` or it answered no position.
///
/// `probes` must be ordered by received instant.
pub(crate) fn lag_at_injection(
    probes: &[&RoleSample],
    leader: Option<&str>,
    f: At,
) -> BTreeMap<String, u64> {
    let Some(leader) = leader else {
        return BTreeMap::new();
    };
    let mut decided = std::collections::BTreeSet::new();
    let mut lags = BTreeMap::new();
    for p in probes
        .iter()
        .rev()
        .filter(|p| p.received < f && p.asked != leader)
    {
        // the node's latest answer decides: a replica with a position, or nothing to count
        if !decided.insert(p.asked.as_str()) {
            continue;
        }
        if p.role == Some(Role::Replica)
            && let Some(lag) = lag(probes, leader, p, f)
        {
            lags.insert(p.asked.clone(), lag);
        }
    }
    lags
}

/// **Lag at failover** from positions: the new leader's latest answer as a replica with a
/// position received before `elected` (the instant it was first seen leading), set against the
/// old leader's answer as leader sent nearest to it: the old leader's position minus the new
/// one's. `None` if either is missing.
///
/// `probes` must be ordered by received instant.
pub(crate) fn lag_at_failover(
    probes: &[&RoleSample],
    old_leader: &str,
    new_leader: &str,
    elected: At,
) -> Option<u64> {
    let replica = replica_before(probes, new_leader, elected)?;
    lag(probes, old_leader, replica, elected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::leader;
    use crate::check::testkit::*;
    use crate::history::Event;

    fn at(node: &str, sent: At, role: Role, position: u64) -> Event {
        match probe(node, sent, At(sent.0 + MS), Some(role)) {
            Event::Role(p) => Event::Role(RoleSample {
                position: Some(position),
                ..p
            }),
            _ => unreachable!(),
        }
    }

    #[test]
    fn lags_are_the_leader_s_last_position_minus_each_replica_s() {
        let h = history(vec![
            at("redis1", ms(0), Role::Leader, 1000),
            at("redis2", ms(10), Role::Replica, 900),
            at("redis3", ms(20), Role::Replica, 1000),
            at("redis1", ms(100), Role::Leader, 1500),
            at("redis2", ms(110), Role::Replica, 1400),
            // answered ahead of the leader's earlier answer: caught up
            at("redis3", ms(120), Role::Replica, 1600),
            // after F: not counted
            at("redis2", ms(300), Role::Replica, 1500),
        ]);
        let probes = leader::ordered(&h);
        let lags = lag_at_injection(&probes, Some("redis1"), ms(200));
        assert_eq!(
            lags,
            BTreeMap::from([("redis2".into(), 100), ("redis3".into(), 0)])
        );
        assert_eq!(
            lag_at_failover(&probes, "redis1", "redis2", ms(200)),
            Some(100)
        );
        assert_eq!(
            lag_at_failover(&probes, "redis1", "redis2", ms(50)),
            Some(100)
        );
        assert_eq!(lag_at_failover(&probes, "redis1", "redis2", ms(1)), None);
        assert!(lag_at_injection(&probes, None, ms(200)).is_empty());
        assert!(lag_at_injection(&probes, Some("redis2"), ms(200)).is_empty());
    }

    /// A replica answering in an earlier probe round than the leader's latest is set against
    /// the leader's answer of its own round, not against what the leader wrote since.
    #[test]
    fn each_replica_answer_is_set_against_the_leader_s_answer_of_its_round() {
        let h = history(vec![
            at("redis1", ms(0), Role::Leader, 1000),
            at("redis2", ms(2), Role::Replica, 990),
            at("redis1", ms(100), Role::Leader, 1500),
            // redis2 did not answer in the second round
            probe("redis3", ms(102), ms(103), Some(Role::Replica)),
        ]);
        let probes = leader::ordered(&h);
        let lags = lag_at_injection(&probes, Some("redis1"), ms(200));
        assert_eq!(lags, BTreeMap::from([("redis2".into(), 10)]));
        assert_eq!(
            lag_at_failover(&probes, "redis1", "redis2", ms(200)),
            Some(10)
        );
    }

    #[test]
    fn a_node_whose_last_answer_was_not_a_replica_s_has_no_lag() {
        let h = history(vec![
            at("redis1", ms(0), Role::Leader, 1000),
            at("redis2", ms(10), Role::Replica, 900),
            probe("redis2", ms(20), ms(21), None),
        ]);
        let probes = leader::ordered(&h);
        assert!(lag_at_injection(&probes, Some("redis1"), ms(100)).is_empty());
    }
}
