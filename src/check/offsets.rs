//! Replication lag from the nodes' own positions, for a stack whose servers keep no
//! `pg_stat_replication` (Redis: each server's `ROLE` offset, a master's of what it wrote, a
//! replica's of what it processed from its master). Two nodes' answers are taken up to a probe
//! period apart, so a lag here is known only to within what the leader wrote in that period;
//! a replica that answered ahead of the leader's earlier answer counts as caught up (0).

use crate::history::{At, Role, RoleSample};
use std::collections::BTreeMap;

/// `node`'s latest answer received before `t` in `role` with a position.
fn position_before(probes: &[&RoleSample], node: &str, role: Role, t: At) -> Option<u64> {
    probes
        .iter()
        .rev()
        .filter(|p| p.received < t && p.asked == node && p.role == Some(role))
        .find_map(|p| p.position)
}

/// **Replica lag at injection** from positions: for every other node whose latest answer
/// before `F` was as a replica with a position, the leader's position in its latest answer
/// as leader before `F` minus the replica's. Empty if there is no leader at `F` or it answered
/// no position.
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
    let Some(written) = position_before(probes, leader, Role::Leader, f) else {
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
        if let (Some(Role::Replica), Some(processed)) = (p.role, p.position) {
            lags.insert(p.asked.clone(), written.saturating_sub(processed));
        }
    }
    lags
}

/// **Lag at failover** from positions: the old leader's position in its latest answer as
/// leader before `elected` (the instant the new leader was first seen), minus the new leader's
/// in its latest answer as a replica before then. `None` if either is missing.
///
/// `probes` must be ordered by received instant.
pub(crate) fn lag_at_failover(
    probes: &[&RoleSample],
    old_leader: &str,
    new_leader: &str,
    elected: At,
) -> Option<u64> {
    let written = position_before(probes, old_leader, Role::Leader, elected)?;
    let processed = position_before(probes, new_leader, Role::Replica, elected)?;
    Some(written.saturating_sub(processed))
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
