//! Split brain: two nodes acting as the leader at once, seen in the probes or in the writes.

use super::writes::is_ok;
use crate::history::{ProbeSample, Role, WriteOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many evidence messages are kept, then one "... and N more".
const MAX_EVIDENCE: usize = 10;

/// Whether split brain was detected, and why.
///
/// Split brain is detected when any of these holds:
///
/// - **two leaders (probes)**: node A reported the leader role in two samples `a1` and `a2`, with
///   no sample of A between them reporting anything else (or not answering), and another node B
///   reported the leader role in a sample `b` with `a1.received < b.sent` and
///   `b.received < a2.sent`: A reported leader before and after B did, without a break;
/// - **two writers on one timeline**: two different nodes accepted ok writes on the same
///   PostgreSQL timeline;
/// - **stale leader**: an ok write on timeline `t` was invoked after an ok write on a higher
///   timeline had completed: a node kept accepting writes after a newer leader had;
/// - **write on a replica**: node X accepted an ok write `w`, X reported the replica role in a
///   sample received before `w` was invoked and in another sent after `w` completed, and no
///   sample of X between those two reported the leader role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitBrain {
    pub detected: bool,
    /// What was seen, in lower case, one message per finding: at most ten, then
    /// "... and N more". Every rule that fired has at least one message shown.
    pub evidence: Vec<String>,
}

pub(crate) fn split_brain(writes: &[&WriteOp], probes: &[&ProbeSample]) -> SplitBrain {
    let found = vec![
        double_leader(probes),
        shared_timeline(writes),
        stale_timeline(writes),
        non_leader_writes(writes, probes),
    ];
    SplitBrain {
        detected: found.iter().any(|f| !f.is_empty()),
        evidence: bounded(found),
    }
}

/// Keeps at most `MAX_EVIDENCE` messages, shared out so every non-empty group shows one, then
/// says how many were left out.
fn bounded(groups: Vec<Vec<String>>) -> Vec<String> {
    let total: usize = groups.iter().map(Vec::len).sum();
    let mut take = vec![0; groups.len()];
    let mut budget = total.min(MAX_EVIDENCE);
    while budget > 0 {
        for (n, g) in take.iter_mut().zip(&groups) {
            if budget > 0 && *n < g.len() {
                *n += 1;
                budget -= 1;
            }
        }
    }
    let shown: usize = take.iter().sum();
    let mut out: Vec<String> = groups
        .into_iter()
        .zip(take)
        .flat_map(|(g, n)| g.into_iter().take(n))
        .collect();
    if total > shown {
        out.push(format!("... and {} more", total - shown));
    }
    out
}

fn is_leader(p: &ProbeSample) -> bool {
    p.role == Some(Role::Leader)
}

fn node_of(w: &WriteOp) -> &str {
    w.node.as_deref().unwrap_or("an unnamed node")
}

/// Probe samples per node, each list ordered by sent instant.
fn per_node<'a>(probes: &[&'a ProbeSample]) -> BTreeMap<&'a str, Vec<&'a ProbeSample>> {
    let mut map: BTreeMap<&str, Vec<&ProbeSample>> = BTreeMap::new();
    for p in probes {
        map.entry(p.node.as_str()).or_default().push(p);
    }
    for samples in map.values_mut() {
        samples.sort_by_key(|p| (p.sent, p.received));
    }
    map
}

/// Rule "two leaders (probes)": one message per unbroken run of leader samples of a node and
/// other node that reported leader inside it.
fn double_leader(probes: &[&ProbeSample]) -> Vec<String> {
    let nodes = per_node(probes);
    let mut out = Vec::new();
    for (a, samples) in &nodes {
        let runs = samples
            .split(|p| !is_leader(p))
            .filter(|run| run.len() >= 2);
        for run in runs {
            let first_received = run.iter().map(|p| p.received).min().unwrap_or_default();
            let last_sent = run.iter().map(|p| p.sent).max().unwrap_or_default();
            for (b, others) in nodes.iter().filter(|(b, _)| *b != a) {
                let inside: Vec<&&ProbeSample> = others
                    .iter()
                    .filter(|p| is_leader(p) && first_received < p.sent && p.received < last_sent)
                    .collect();
                let Some(bs) = inside.first() else {
                    continue;
                };
                let a1 = run
                    .iter()
                    .filter(|p| p.received < bs.sent)
                    .map(|p| p.received)
                    .max()
                    .unwrap_or_default();
                let a2 = run
                    .iter()
                    .filter(|p| p.sent > bs.received)
                    .map(|p| p.sent)
                    .min()
                    .unwrap_or_default();
                let mut msg = format!(
                    "{a} and {b} both reported leader: {a} at {a1} and {a2}, {b} at {}",
                    bs.sent
                );
                if inside.len() > 1 {
                    msg.push_str(&format!(" ({} samples of {b} in between)", inside.len()));
                }
                out.push(msg);
            }
        }
    }
    out
}

/// "pg1 and pg2", "pg1, pg2 and pg3".
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Rule "two writers on one timeline": one message per timeline, naming each node's first write.
fn shared_timeline(writes: &[&WriteOp]) -> Vec<String> {
    let mut by_timeline: BTreeMap<u32, BTreeMap<&str, &WriteOp>> = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        if let (Some(tl), Some(node)) = (w.timeline, w.node.as_deref()) {
            let first = by_timeline.entry(tl).or_default().entry(node).or_insert(w);
            if (w.invoke, w.seq) < (first.invoke, first.seq) {
                *first = w;
            }
        }
    }
    by_timeline
        .iter()
        .filter(|(_, nodes)| nodes.len() >= 2)
        .map(|(tl, nodes)| {
            let names: Vec<&str> = nodes.keys().copied().collect();
            let firsts: Vec<String> = nodes
                .iter()
                .map(|(node, w)| format!("seq {} on {node} at {}", w.seq, w.complete))
                .collect();
            format!(
                "{} {} accepted writes on timeline {tl}: {}",
                join_and(&names),
                if names.len() == 2 { "both" } else { "all" },
                firsts.join(", ")
            )
        })
        .collect()
}

/// Rule "stale leader": one message per timeline that accepted writes after a higher one had.
fn stale_timeline(writes: &[&WriteOp]) -> Vec<String> {
    // the first write to complete on each timeline
    let mut earliest: BTreeMap<u32, &WriteOp> = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        if let Some(tl) = w.timeline {
            let e = earliest.entry(tl).or_insert(w);
            if w.complete < e.complete {
                *e = w;
            }
        }
    }
    // for each timeline, the first write to complete on any higher timeline
    let mut newer: BTreeMap<u32, &WriteOp> = BTreeMap::new();
    let mut best: Option<&WriteOp> = None;
    for (&tl, &w) in earliest.iter().rev() {
        if let Some(b) = best {
            newer.insert(tl, b);
        }
        if best.is_none_or(|b| w.complete < b.complete) {
            best = Some(w);
        }
    }
    let mut stale: BTreeMap<u32, Vec<&WriteOp>> = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        if let Some(tl) = w.timeline
            && let Some(n) = newer.get(&tl)
            && w.invoke > n.complete
        {
            stale.entry(tl).or_default().push(w);
        }
    }
    stale
        .iter()
        .map(|(tl, ws)| {
            let (w, n) = (ws[0], newer[tl]);
            let mut msg = format!(
                "{} accepted seq {} on timeline {tl}, invoked at {}, after {} had acknowledged \
                 seq {} on timeline {} at {}",
                node_of(w),
                w.seq,
                w.invoke,
                node_of(n),
                n.seq,
                n.timeline.unwrap_or_default(),
                n.complete
            );
            if ws.len() > 1 {
                msg.push_str(&format!(" ({} such writes on timeline {tl})", ws.len()));
            }
            msg
        })
        .collect()
}

/// Rule "write on a replica": one message per node, naming its first such write.
fn non_leader_writes(writes: &[&WriteOp], probes: &[&ProbeSample]) -> Vec<String> {
    struct NodeRoles<'a> {
        /// Replica samples ordered by received instant.
        replica_by_received: Vec<&'a ProbeSample>,
        /// Replica samples ordered by sent instant.
        replica_by_sent: Vec<&'a ProbeSample>,
        /// Leader samples ordered by sent instant, with the latest received instant so far.
        leader_by_sent: Vec<(&'a ProbeSample, crate::history::At)>,
    }
    let mut roles: BTreeMap<&str, NodeRoles> = BTreeMap::new();
    for (node, samples) in per_node(probes) {
        let replica: Vec<&ProbeSample> = samples
            .iter()
            .copied()
            .filter(|p| p.role == Some(Role::Replica))
            .collect();
        let mut replica_by_received = replica.clone();
        replica_by_received.sort_by_key(|p| (p.received, p.sent));
        let mut latest = crate::history::At(0);
        let leader_by_sent = samples
            .iter()
            .copied()
            .filter(|p| is_leader(p))
            .map(|p| {
                latest = latest.max(p.received);
                (p, latest)
            })
            .collect();
        roles.insert(
            node,
            NodeRoles {
                replica_by_received,
                replica_by_sent: replica,
                leader_by_sent,
            },
        );
    }
    let mut found: BTreeMap<&str, Vec<(&WriteOp, &ProbeSample, &ProbeSample)>> = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        let Some(node) = w.node.as_deref() else {
            continue;
        };
        let Some(r) = roles.get(node) else {
            continue;
        };
        let before = r
            .replica_by_received
            .partition_point(|p| p.received < w.invoke);
        let after = r.replica_by_sent.partition_point(|p| p.sent <= w.complete);
        let (Some(r1), Some(r2)) = (
            before.checked_sub(1).map(|i| r.replica_by_received[i]),
            r.replica_by_sent.get(after).copied(),
        ) else {
            continue;
        };
        let leaders_sent_before = r
            .leader_by_sent
            .partition_point(|(p, _)| p.sent < r2.received);
        let leader_between = leaders_sent_before
            .checked_sub(1)
            .is_some_and(|i| r.leader_by_sent[i].1 > r1.sent);
        if !leader_between {
            found.entry(node).or_default().push((w, r1, r2));
        }
    }
    found
        .iter()
        .map(|(node, ws)| {
            let (w, r1, r2) = ws[0];
            let mut msg = format!(
                "{node} accepted seq {} (invoked at {}, acknowledged at {}) while reporting \
                 replica at {} and {}, with no leader report between",
                w.seq, w.invoke, w.complete, r1.received, r2.sent
            );
            if ws.len() > 1 {
                msg.push_str(&format!(" ({} such writes on {node})", ws.len()));
            }
            msg
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::check::{leader, writes};
    use crate::history::{Event, History};
    use proptest::prelude::*;

    struct Found {
        double_leader: Vec<String>,
        shared_timeline: Vec<String>,
        stale_timeline: Vec<String>,
        non_leader: Vec<String>,
        all: SplitBrain,
    }

    fn find(h: &History) -> Found {
        let w = writes::ordered(h);
        let p = leader::ordered(h);
        Found {
            double_leader: double_leader(&p),
            shared_timeline: shared_timeline(&w),
            stale_timeline: stale_timeline(&w),
            non_leader: non_leader_writes(&w, &p),
            all: split_brain(&w, &p),
        }
    }

    /// pg1 leads, is crashed at 1 s; pg2 leads from 2 s; pg1 comes back as a replica at 4 s, then
    /// a switchover makes it leader again at 6 s. Writes follow the leader.
    fn clean_failover_and_switch_back() -> Vec<Event> {
        let mut events = Vec::new();
        for k in 0..80u64 {
            let t = 100 * k;
            let (pg1, pg2) = match t {
                0..1000 => (Some(Role::Leader), Some(Role::Replica)),
                1000..2000 => (None, Some(Role::Other)),
                2000..4000 => (None, Some(Role::Leader)),
                4000..6000 => (Some(Role::Replica), Some(Role::Leader)),
                _ => (Some(Role::Leader), Some(Role::Replica)),
            };
            events.push(probe("pg1", ms(t), ms(t + 3), pg1));
            events.push(probe("pg2", ms(t + 50), ms(t + 53), pg2));
            events.push(probe("pg3", ms(t + 70), ms(t + 72), Some(Role::Replica)));
        }
        for k in 0..800u64 {
            let t = 10 * k;
            let (i, c) = (ms(t + 1), ms(t + 4));
            events.push(match t {
                0..1000 => ok(k, i, c, "pg1", 1),
                1000..2100 => failed(k, i, c),
                2100..6000 => ok(k, i, c, "pg2", 2),
                6000..6100 => failed(k, i, c),
                _ => ok(k, i, c, "pg1", 3),
            });
        }
        events
    }

    #[test]
    fn clean_failover_and_switch_back_is_not_split_brain() {
        let f = find(&history(clean_failover_and_switch_back()));
        assert_eq!(f.all, SplitBrain::default());
    }

    #[test]
    fn leader_reporting_around_another_leader_is_detected() {
        let h = history(vec![
            probe("pg1", ms(10_000), ms(10_200), Some(Role::Leader)),
            probe("pg2", ms(10_300), ms(10_350), Some(Role::Leader)),
            probe("pg1", ms(10_400), ms(10_450), Some(Role::Leader)),
        ]);
        let f = find(&h);
        assert_eq!(
            f.double_leader,
            ["pg1 and pg2 both reported leader: pg1 at t+10.200s and t+10.400s, pg2 at t+10.300s"]
        );
        assert!(f.all.detected);
        assert_eq!(f.all.evidence, f.double_leader);
    }

    #[test]
    fn overlapping_probe_windows_are_not_two_leaders() {
        // pg2's sample overlaps pg1's last one: the change may have happened in between
        let h = history(vec![
            probe("pg1", ms(0), ms(10), Some(Role::Leader)),
            probe("pg1", ms(100), ms(140), Some(Role::Leader)),
            probe("pg2", ms(120), ms(130), Some(Role::Leader)),
            probe("pg1", ms(200), ms(210), None),
        ]);
        assert!(!find(&h).all.detected);
    }

    #[test]
    fn two_nodes_on_one_timeline_are_detected() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 2),
            ok(2, ms(10), ms(12), "pg2", 2),
            ok(3, ms(20), ms(22), "pg3", 2),
        ]);
        let f = find(&h);
        assert_eq!(
            f.shared_timeline,
            [
                "pg1, pg2 and pg3 all accepted writes on timeline 2: seq 1 on pg1 at t+0.002s, \
              seq 2 on pg2 at t+0.012s, seq 3 on pg3 at t+0.022s"
            ]
        );
        assert!(f.stale_timeline.is_empty());
        assert!(f.all.detected);
    }

    #[test]
    fn write_on_an_older_timeline_after_a_newer_one_is_detected() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(100), ms(104), "pg2", 2),
            // in flight while pg2 took over: not stale
            ok(3, ms(103), ms(110), "pg1", 1),
            ok(4, ms(120), ms(122), "pg1", 1),
            ok(5, ms(130), ms(132), "pg1", 1),
        ]);
        let f = find(&h);
        assert_eq!(
            f.stale_timeline,
            [
                "pg1 accepted seq 4 on timeline 1, invoked at t+0.120s, after pg2 had acknowledged \
              seq 2 on timeline 2 at t+0.104s (2 such writes on timeline 1)"
            ]
        );
        assert!(f.shared_timeline.is_empty());
        assert!(f.all.detected);
    }

    #[test]
    fn write_accepted_by_a_replica_is_detected() {
        let mut h = history(vec![
            probe("pg3", ms(0), ms(5), Some(Role::Replica)),
            probe("pg3", ms(100), ms(105), Some(Role::Replica)),
            Event::Write(crate::history::WriteOp {
                node: Some("pg3".to_string()),
                ..write(7, ms(50), ms(60), crate::history::Outcome::Ok)
            }),
        ]);
        let f = find(&h);
        assert_eq!(
            f.non_leader,
            [
                "pg3 accepted seq 7 (invoked at t+0.050s, acknowledged at t+0.060s) while \
              reporting replica at t+0.005s and t+0.100s, with no leader report between"
            ]
        );
        assert!(f.all.detected);

        // a leader report between the two replica reports clears it
        h.extend([probe("pg3", ms(70), ms(72), Some(Role::Leader))]);
        assert!(!find(&h).all.detected);
    }

    #[test]
    fn write_on_a_node_promoted_since_its_last_replica_report_is_not_detected() {
        let h = history(vec![
            probe("pg2", ms(0), ms(5), Some(Role::Replica)),
            ok(1, ms(50), ms(60), "pg2", 2),
            probe("pg2", ms(100), ms(105), Some(Role::Leader)),
        ]);
        assert!(!find(&h).all.detected);
    }

    #[test]
    fn evidence_is_bounded_and_every_rule_shows() {
        let groups = vec![
            (0..20).map(|i| format!("a{i}")).collect(),
            vec!["b0".to_string()],
            vec![],
            (0..3).map(|i| format!("d{i}")).collect(),
        ];
        let out = bounded(groups);
        assert_eq!(out.len(), MAX_EVIDENCE + 1);
        assert!(out.contains(&"b0".to_string()));
        assert!(out.contains(&"d0".to_string()));
        assert_eq!(out.last().unwrap(), "... and 14 more");
        assert_eq!(bounded(vec![vec!["x".to_string()]]), ["x"]);
    }

    fn nothing_but(found: &Found, rule: &[String]) -> bool {
        let total = found.double_leader.len()
            + found.shared_timeline.len()
            + found.stale_timeline.len()
            + found.non_leader.len();
        !rule.is_empty() && total == rule.len() && found.all.detected
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn clean_failover_is_not_split_brain(f in failover_strategy()) {
            let planted = f.build();
            let found = find(&planted.history);
            prop_assert_eq!(found.all, SplitBrain::default());
        }

        #[test]
        fn planted_double_leader_is_detected(f in failover_strategy(), extra in 0u64..500) {
            let f = Failover { double_leader_for: Some(2 * f.probe_period + 10 + extra), ..f };
            let planted = f.build();
            let found = find(&planted.history);
            prop_assert!(nothing_but(&found, &found.double_leader), "{:?}", found.all);
            prop_assert!(found.double_leader[0].starts_with("pg1 and pg2 both reported leader"));
        }

        #[test]
        fn planted_stale_write_is_detected(f in failover_strategy(), late in 10u64..200) {
            let planted = f.build();
            let mut h = planted.history.clone();
            let at = planted.first_ok_after.plus(std::time::Duration::from_millis(late));
            h.extend([ok(planted.next_seq, at, at.plus(std::time::Duration::from_millis(2)), "pg1", 1)]);
            let found = find(&h);
            prop_assert!(nothing_but(&found, &found.stale_timeline), "{:?}", found.all);
        }

        #[test]
        fn planted_second_writer_on_a_timeline_is_detected(f in failover_strategy()) {
            // pg3 is a replica throughout: its write is also a write on a replica
            let planted = f.build();
            let mut h = planted.history.clone();
            let at = planted.first_ok_after;
            h.extend([ok(planted.next_seq, at, at.plus(std::time::Duration::from_millis(2)), "pg3", 2)]);
            let found = find(&h);
            prop_assert_eq!(found.shared_timeline.len(), 1);
            prop_assert_eq!(found.non_leader.len(), 1);
            prop_assert!(found.double_leader.is_empty() && found.stale_timeline.is_empty());
        }

        #[test]
        fn planted_write_on_a_replica_is_detected(f in failover_strategy(), frac in 0.0f64..1.0) {
            let planted = f.build();
            let mut h = planted.history.clone();
            // anywhere strictly inside pg3's replica reports
            let end = planted.first_ok_after.0 + 100 * MS;
            let at = crate::history::At(200 * MS + ((end - 200 * MS) as f64 * frac) as u64);
            h.extend([Event::Write(crate::history::WriteOp {
                node: Some("pg3".to_string()),
                ..write(planted.next_seq, at, at.plus(std::time::Duration::from_millis(3)), crate::history::Outcome::Ok)
            })]);
            let found = find(&h);
            prop_assert!(nothing_but(&found, &found.non_leader), "{:?}", found.all);
        }
    }
}
