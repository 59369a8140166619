//! Split brain: two nodes acting as the leader at once, seen in the probes or in the writes.

use super::rto::Window;
use super::writes::is_ok;
use crate::history::{At, ReplicationSample, Role, RoleSample, WriteOp, source_label};
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
/// - **two primaries (PostgreSQL)**: the same, from each node's PostgreSQL asked directly
///   whether it is in recovery: node A answered as a primary in two samples with no other
///   sample of A between them (an answer in recovery or no answer ends the run), and another
///   node B answered as a primary in a sample sent after the first was received and received
///   before the second was sent. It does not depend on Patroni answering;
/// - **two virtual IP holders**: the same, from each node's answer on whether it holds the
///   stack's virtual IP (its own interface): two nodes held the address clients connect to;
/// - **two writers on one timeline**: two different nodes accepted ok writes on the same
///   PostgreSQL timeline;
/// - **stale leader**: an ok write on timeline `t` was invoked after an ok write on a higher
///   timeline had completed: a node kept accepting writes after a newer leader had;
/// - **write on a replica**: node X accepted an ok write `w`, X reported the replica role in a
///   sample received before `w` was invoked and in another sent after `w` completed, and no
///   sample of X between those two reported the leader role;
/// - **write while another node led**: node X accepted an ok write `w`, and another node Y
///   reported the leader role in a sample `y1` received before `w` was invoked and in a sample
///   `y2` sent after `w` completed, with no sample of Y between them (by sent instant) reporting
///   anything else or not answering: Y led throughout `w`. This catches an old leader whose
///   manager no longer answers (frozen, cut off), so it never reports a replica role, while its
///   PostgreSQL still accepts writes after another node was promoted.
///
/// A *role answer* is a self report (Patroni's) that reported a role, or a PostgreSQL sample that
/// answered whether it is in recovery: the two role sources the rules above read. Finding no
/// split brain is a measurement only if the probes saw roles throughout: with faults, some role
/// answer sent inside each fault's window (from its injection `F` to the next injection, or the
/// end of the history); without faults, some role answer in the history. Otherwise only the
/// rules on writes alone could fire where the probes were blind: a detection still stands, but
/// finding none is no evidence of no split brain, and it is not measured, naming the first fault
/// whose window had no role answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitBrain {
    pub detected: bool,
    /// What was seen, in lower case, one message per finding: at most ten, then
    /// "... and N more". Every rule that fired has at least one message shown.
    pub evidence: Vec<String>,
    /// Why "not detected" is not a measurement: no role was observed in the history ("no role
    /// probes in the history"), or none inside some fault's window (naming the fault). `None`
    /// when split brain was detected, or roles were observed in every window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<String>,
}

/// `faults`: each fault's window with its description ("fault 1 (crash of pg1)"), in order.
#[cfg(test)]
pub(crate) fn split_brain(
    writes: &[&WriteOp],
    probes: &[&RoleSample],
    primaries: &[&ReplicationSample],
    faults: &[(String, Window)],
) -> SplitBrain {
    split_brain_with_addresses(writes, probes, primaries, &[], faults)
}

/// [`split_brain`], with the nodes' answers on holding the virtual IP (`addresses`): two
/// holders at once are a split brain as well (rule "two virtual IP holders").
pub(crate) fn split_brain_with_addresses(
    writes: &[&WriteOp],
    probes: &[&RoleSample],
    primaries: &[&ReplicationSample],
    addresses: &[&RoleSample],
    faults: &[(String, Window)],
) -> SplitBrain {
    let found = vec![
        double_leader(probes),
        two_primaries(primaries),
        two_address_holders(addresses),
        shared_timeline(writes),
        stale_timeline(writes),
        non_leader_writes(writes, probes),
        writes_while_another_led(writes, probes),
    ];
    let detected = found.iter().any(|f| !f.is_empty());
    SplitBrain {
        detected,
        evidence: bounded(found),
        not_measured: (!detected)
            .then(|| {
                no_role_observed(probes, primaries)
                    .or_else(|| blind_window(probes, primaries, faults))
            })
            .flatten(),
    }
}

/// The first fault whose window holds no role answer (by sent instant), said as why split brain
/// is not measured.
fn blind_window(
    probes: &[&RoleSample],
    primaries: &[&ReplicationSample],
    faults: &[(String, Window)],
) -> Option<String> {
    let inside = |w: &Window, sent: At| sent >= w.start && w.before_end(sent);
    faults.iter().find_map(|(fault, w)| {
        let sampled = probes.iter().filter(|p| inside(w, p.sent)).count()
            + primaries.iter().filter(|r| inside(w, r.sent)).count();
        let answered = probes.iter().any(|p| inside(w, p.sent) && p.role.is_some())
            || primaries
                .iter()
                .any(|r| inside(w, r.sent) && r.in_recovery.is_some());
        if answered {
            return None;
        }
        let span = match w.end {
            Some(end) => format!("from {} to {end}", w.start),
            None => format!("from {} to the end of the run", w.start),
        };
        Some(match sampled {
            0 => format!("no role probe sent after {fault}, {span}"),
            n => format!("no role probe answered after {fault}: {n} sent {span}, all unanswered"),
        })
    })
}

/// Why no role was observed, if none was: no sample of either kind, or none answered.
fn no_role_observed(probes: &[&RoleSample], primaries: &[&ReplicationSample]) -> Option<String> {
    if probes.iter().any(|p| p.role.is_some()) || primaries.iter().any(|r| r.in_recovery.is_some())
    {
        return None;
    }
    if probes.is_empty() && primaries.is_empty() {
        return Some("no role probes in the history".to_string());
    }
    // each self-reporting source by name, then PostgreSQL asked directly
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for p in probes {
        let label = source_label(&p.source);
        match counts.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => counts.push((label, 1)),
        }
    }
    counts.push(("PostgreSQL", primaries.len()));
    let counts: Vec<String> = counts.iter().map(|(l, n)| format!("{n} of {l}")).collect();
    Some(format!(
        "no role probe answered ({}, all unanswered)",
        counts.join(", ")
    ))
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

fn is_leader(p: &RoleSample) -> bool {
    p.role == Some(Role::Leader)
}

fn node_of(w: &WriteOp) -> &str {
    w.node.as_deref().unwrap_or("an unnamed node")
}

/// Probe samples per node, each list ordered by sent instant.
fn per_node<'a>(probes: &[&'a RoleSample]) -> BTreeMap<&'a str, Vec<&'a RoleSample>> {
    let mut map: BTreeMap<&str, Vec<&RoleSample>> = BTreeMap::new();
    for p in probes {
        map.entry(p.asked.as_str()).or_default().push(p);
    }
    for samples in map.values_mut() {
        samples.sort_by_key(|p| (p.sent, p.received));
    }
    map
}

/// One source's word on whether a node leads, at some instant in `[sent, received]`.
struct Claim<'a> {
    node: &'a str,
    sent: At,
    received: At,
    leads: bool,
}

/// Each role sample as a claim: its node leads when it reported the leader role (held the
/// virtual IP, for an address sample).
fn role_claims<'a>(samples: &[&'a RoleSample]) -> Vec<Claim<'a>> {
    samples
        .iter()
        .map(|p| Claim {
            node: &p.asked,
            sent: p.sent,
            received: p.received,
            leads: is_leader(p),
        })
        .collect()
}

/// Rule "two leaders (probes)": one message per unbroken run of leader samples of a node and
/// other node that reported leader inside it.
fn double_leader(probes: &[&RoleSample]) -> Vec<String> {
    double_claims(&role_claims(probes), "reported leader")
}

/// Rule "two virtual IP holders": as "two leaders", from each node's answer on holding the
/// virtual IP (a sample in which it does not, or did not answer, ends a run): two nodes
/// holding the address clients connect to.
fn two_address_holders(samples: &[&RoleSample]) -> Vec<String> {
    double_claims(&role_claims(samples), "held the virtual IP")
}

/// Rule "two primaries (PostgreSQL)": as "two leaders", from each node's PostgreSQL asked
/// directly whether it is in recovery (a sample that is not a primary's, or not answered, ends
/// a run).
fn two_primaries(samples: &[&ReplicationSample]) -> Vec<String> {
    let claims: Vec<Claim> = samples
        .iter()
        .map(|r| Claim {
            node: &r.node,
            sent: r.sent,
            received: r.received,
            leads: r.is_primary(),
        })
        .collect();
    double_claims(&claims, "answered as primary (PostgreSQL)")
}

/// Node A claimed to lead in two claims `a1`, `a2` with no other claim of A between them, and
/// another node B claimed to lead in a claim `b` with `a1.received < b.sent` and
/// `b.received < a2.sent`: one message per unbroken run of A's claims and such node B.
fn double_claims(claims: &[Claim], says: &str) -> Vec<String> {
    let mut nodes: BTreeMap<&str, Vec<&Claim>> = BTreeMap::new();
    for c in claims {
        nodes.entry(c.node).or_default().push(c);
    }
    for list in nodes.values_mut() {
        list.sort_by_key(|c| (c.sent, c.received));
    }
    let mut out = Vec::new();
    for (a, samples) in &nodes {
        let runs = samples.split(|c| !c.leads).filter(|run| run.len() >= 2);
        for run in runs {
            let first_received = run.iter().map(|c| c.received).min().unwrap_or_default();
            let last_sent = run.iter().map(|c| c.sent).max().unwrap_or_default();
            for (b, others) in nodes.iter().filter(|(b, _)| *b != a) {
                let inside: Vec<&&Claim> = others
                    .iter()
                    .filter(|c| c.leads && first_received < c.sent && c.received < last_sent)
                    .collect();
                let Some(bs) = inside.first() else {
                    continue;
                };
                let a1 = run
                    .iter()
                    .filter(|c| c.received < bs.sent)
                    .map(|c| c.received)
                    .max()
                    .unwrap_or_default();
                let a2 = run
                    .iter()
                    .filter(|c| c.sent > bs.received)
                    .map(|c| c.sent)
                    .min()
                    .unwrap_or_default();
                let mut msg = format!(
                    "{a} and {b} both {says}: {a} at {a1} and {a2}, {b} at {}",
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

/// Rule "write while another node led": one message per accepting node and leading node,
/// naming the first such write (by invoke instant).
fn writes_while_another_led(writes: &[&WriteOp], probes: &[&RoleSample]) -> Vec<String> {
    /// An unbroken run of leader samples of one node, ordered by sent instant.
    struct Run<'a> {
        node: &'a str,
        samples: &'a [&'a RoleSample],
        /// The earliest received instant and the latest sent instant of its samples.
        first_received: At,
        last_sent: At,
    }
    let nodes = per_node(probes);
    let runs: Vec<Run> = nodes
        .iter()
        .flat_map(|(node, samples)| {
            samples
                .split(|p| !is_leader(p))
                .filter(|run| run.len() >= 2)
                .map(|run| Run {
                    node,
                    samples: run,
                    first_received: run.iter().map(|p| p.received).min().unwrap_or_default(),
                    last_sent: run.iter().map(|p| p.sent).max().unwrap_or_default(),
                })
        })
        .collect();
    type Finding<'a> = (&'a WriteOp, &'a RoleSample, &'a RoleSample);
    let mut found: BTreeMap<(&str, &str), Vec<Finding>> = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        let Some(x) = w.node.as_deref() else {
            continue;
        };
        let covering = runs
            .iter()
            .filter(|r| r.node != x && r.first_received < w.invoke && w.complete < r.last_sent);
        for r in covering {
            // the latest report received before the write, the first sent after it
            let y1 = r
                .samples
                .iter()
                .filter(|p| p.received < w.invoke)
                .max_by_key(|p| p.received);
            let y2 = r
                .samples
                .iter()
                .filter(|p| p.sent > w.complete)
                .min_by_key(|p| p.sent);
            if let (Some(y1), Some(y2)) = (y1, y2) {
                found.entry((x, r.node)).or_default().push((w, y1, y2));
            }
        }
    }
    found
        .iter()
        .map(|((x, y), ws)| {
            let (w, y1, y2) = ws[0];
            let mut msg = format!(
                "{x} accepted seq {} (invoked at {}, acknowledged at {}) while {y} reported \
                 leader at {} and {}, with no other report of {y} between",
                w.seq, w.invoke, w.complete, y1.received, y2.sent
            );
            if ws.len() > 1 {
                msg.push_str(&format!(" ({} such writes on {x} while {y} led)", ws.len()));
            }
            msg
        })
        .collect()
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
fn non_leader_writes(writes: &[&WriteOp], probes: &[&RoleSample]) -> Vec<String> {
    struct NodeRoles<'a> {
        /// Replica samples ordered by received instant.
        replica_by_received: Vec<&'a RoleSample>,
        /// Replica samples ordered by sent instant.
        replica_by_sent: Vec<&'a RoleSample>,
        /// Leader samples ordered by sent instant, with the latest received instant so far.
        leader_by_sent: Vec<(&'a RoleSample, crate::history::At)>,
    }
    let mut roles: BTreeMap<&str, NodeRoles> = BTreeMap::new();
    for (node, samples) in per_node(probes) {
        let replica: Vec<&RoleSample> = samples
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
    let mut found: BTreeMap<&str, Vec<(&WriteOp, &RoleSample, &RoleSample)>> = BTreeMap::new();
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
        while_another_led: Vec<String>,
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
            while_another_led: writes_while_another_led(&w, &p),
            all: split_brain(&w, &p, &[], &[]),
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

    /// pg1 leads on timeline 1 until it freezes at 1 s: its Patroni stops answering, its
    /// PostgreSQL (behind the proxy) does not. pg2 leads from 2 s.
    fn frozen_old_leader() -> Vec<Event> {
        let mut events = Vec::new();
        for k in 0..40u64 {
            let t = 100 * k;
            let pg1 = (t < 1000).then_some(Role::Leader);
            let pg2 = if t < 2000 {
                Role::Replica
            } else {
                Role::Leader
            };
            events.push(probe("pg1", ms(t), ms(t + 3), pg1));
            events.push(probe("pg2", ms(t + 50), ms(t + 53), Some(pg2)));
        }
        events
    }

    #[test]
    fn write_by_a_frozen_old_leader_while_another_led_is_detected() {
        let mut events = frozen_old_leader();
        events.extend([
            ok(1, ms(900), ms(902), "pg1", 1),
            // in flight when pg2's first leader report arrived: not counted
            ok(2, ms(2052), ms(2060), "pg1", 1),
            ok(3, ms(2100), ms(2104), "pg1", 1),
            ok(4, ms(2200), ms(2204), "pg1", 1),
        ]);
        let f = find(&history(events));
        assert_eq!(
            f.while_another_led,
            [
                "pg1 accepted seq 3 (invoked at t+2.100s, acknowledged at t+2.104s) while pg2 \
              reported leader at t+2.053s and t+2.150s, with no other report of pg2 between \
              (2 such writes on pg1 while pg2 led)"
            ]
        );
        assert!(nothing_but(&f, &f.while_another_led), "{:?}", f.all);
    }

    #[test]
    fn a_break_in_the_other_leaders_reports_clears_a_write() {
        let mut events = frozen_old_leader();
        events.extend([ok(3, ms(2100), ms(2104), "pg1", 1)]);
        // pg2 did not answer once between its reports around the write
        events.retain(|e| !matches!(e, Event::Role(p) if p.asked == "pg2" && p.sent == ms(2150)));
        events.push(probe("pg2", ms(2150), ms(2153), None));
        assert!(!find(&history(events.clone())).all.detected);
        // nor does a write by the leader itself
        let mut events = frozen_old_leader();
        events.extend([ok(3, ms(2100), ms(2104), "pg2", 2)]);
        assert!(!find(&history(events)).all.detected);
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

    /// The nodes other than `node` that the planted history shows leading throughout
    /// `[invoke, complete]`.
    fn other_leaders(planted: &Planted, node: &str, invoke: At, complete: At) -> Vec<String> {
        planted
            .leader_runs
            .iter()
            .filter(|r| r.node != node && r.covers(invoke, complete))
            .map(|r| r.node.clone())
            .collect()
    }

    /// The leading nodes named by "write while another node led" messages about `node`.
    fn leaders_named(messages: &[String], node: &str) -> Vec<String> {
        messages
            .iter()
            .filter(|m| m.starts_with(&format!("{node} accepted seq ")))
            .filter_map(|m| {
                let rest = &m[m.find(" while ")? + 7..];
                Some(rest[..rest.find(' ')?].to_string())
            })
            .collect()
    }

    fn nothing_but(found: &Found, rule: &[String]) -> bool {
        let total = found.double_leader.len()
            + found.shared_timeline.len()
            + found.stale_timeline.len()
            + found.non_leader.len()
            + found.while_another_led.len();
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
            // pg2 inside pg1's run, and pg1 inside pg2's
            prop_assert!(!found.double_leader.is_empty());
            prop_assert!(found.double_leader[0].starts_with("pg1 and pg2 both reported leader"));
            // pg2's writes while pg1 still reported leader, and only those
            let led = &planted.writes_while_deposed_led;
            match led.first() {
                None => prop_assert!(found.while_another_led.is_empty()),
                Some(first) => {
                    prop_assert_eq!(found.while_another_led.len(), 1);
                    let msg = &found.while_another_led[0];
                    let prefix = format!("pg2 accepted seq {first} (");
                    prop_assert!(msg.starts_with(&prefix), "{}", msg);
                    prop_assert!(msg.contains("while pg1 reported leader"), "{}", msg);
                    let count = format!("({} such writes on pg2 while pg1 led)", led.len());
                    prop_assert_eq!(msg.ends_with(&count), led.len() > 1, "{}", msg);
                }
            }
            prop_assert!(found.shared_timeline.is_empty() && found.stale_timeline.is_empty());
            prop_assert!(found.non_leader.is_empty());
        }

        #[test]
        fn planted_write_by_a_frozen_old_leader_is_detected(
            f in failover_strategy(),
            late in 1u64..20,
        ) {
            // pg1 stops answering probes at the fault, but accepts a write on its old timeline
            // after pg2's first leader report arrived
            let planted = f.build();
            let mut h = planted.history.clone();
            let at = planted.new_leader_seen.plus(std::time::Duration::from_millis(late));
            let done = at.plus(std::time::Duration::from_millis(2));
            h.extend([ok(planted.next_seq, at, done, "pg1", 1)]);
            let found = find(&h);
            prop_assert_eq!(found.while_another_led.len(), 1);
            let prefix = format!("pg1 accepted seq {} (", planted.next_seq);
            prop_assert!(found.while_another_led[0].starts_with(&prefix));
            prop_assert!(found.while_another_led[0].contains("while pg2 reported leader"));
            // it is also a stale leader once pg2 had acknowledged a write on timeline 2
            prop_assert_eq!(found.stale_timeline.len(), usize::from(at > planted.first_ok_after));
            prop_assert!(found.double_leader.is_empty() && found.shared_timeline.is_empty());
            prop_assert!(found.non_leader.is_empty());
        }

        #[test]
        fn planted_stale_write_is_detected(f in failover_strategy(), late in 10u64..200) {
            let planted = f.build();
            let mut h = planted.history.clone();
            let at = planted.first_ok_after.plus(std::time::Duration::from_millis(late));
            let done = at.plus(std::time::Duration::from_millis(2));
            h.extend([ok(planted.next_seq, at, done, "pg1", 1)]);
            let found = find(&h);
            prop_assert_eq!(found.stale_timeline.len(), 1);
            // pg2 led throughout it, unless it came before pg2's first leader report
            prop_assert_eq!(
                other_leaders(&planted, "pg1", at, done),
                leaders_named(&found.while_another_led, "pg1")
            );
            prop_assert!(found.double_leader.is_empty() && found.shared_timeline.is_empty());
            prop_assert!(found.non_leader.is_empty());
        }

        #[test]
        fn planted_second_writer_on_a_timeline_is_detected(f in failover_strategy()) {
            // pg3 is a replica throughout: its write is also a write on a replica
            let planted = f.build();
            let mut h = planted.history.clone();
            let at = planted.first_ok_after;
            let done = at.plus(std::time::Duration::from_millis(2));
            h.extend([ok(planted.next_seq, at, done, "pg3", 2)]);
            let found = find(&h);
            prop_assert_eq!(found.shared_timeline.len(), 1);
            prop_assert_eq!(found.non_leader.len(), 1);
            // and, unless it came before pg2's first leader report, while pg2 led
            prop_assert_eq!(
                other_leaders(&planted, "pg3", at, done),
                leaders_named(&found.while_another_led, "pg3")
            );
            prop_assert!(found.double_leader.is_empty() && found.stale_timeline.is_empty());
        }

        #[test]
        fn planted_write_on_a_replica_is_detected(f in failover_strategy(), frac in 0.0f64..1.0) {
            let planted = f.build();
            let mut h = planted.history.clone();
            // anywhere strictly inside pg3's replica reports
            let end = planted.first_ok_after.0 + 100 * MS;
            let at = At(200 * MS + ((end - 200 * MS) as f64 * frac) as u64);
            let done = at.plus(std::time::Duration::from_millis(3));
            h.extend([Event::Write(crate::history::WriteOp {
                node: Some("pg3".to_string()),
                ..write(planted.next_seq, at, done, crate::history::Outcome::Ok)
            })]);
            let found = find(&h);
            prop_assert_eq!(found.non_leader.len(), 1);
            // pg1 before the fault or pg2 after the election led throughout it, or neither
            prop_assert_eq!(
                other_leaders(&planted, "pg3", at, done),
                leaders_named(&found.while_another_led, "pg3")
            );
            prop_assert!(found.double_leader.is_empty() && found.stale_timeline.is_empty());
            prop_assert!(found.shared_timeline.is_empty());
        }
    }

    fn primary(node: &str, sent: u64, in_recovery: Option<bool>) -> ReplicationSample {
        ReplicationSample {
            node: node.to_string(),
            sent: crate::check::testkit::ms(sent),
            received: crate::check::testkit::ms(sent + 2),
            in_recovery,
            wal: None,
            replicas: Vec::new(),
            error: in_recovery.is_none().then(|| "timeout".to_string()),
        }
    }

    #[test]
    fn without_a_role_observed_no_split_brain_is_not_measured() {
        let none = split_brain(&[], &[], &[], &[]);
        assert!(!none.detected);
        assert_eq!(
            none.not_measured.as_deref(),
            Some("no role probes in the history")
        );
        let unanswered = primary("pg1", 0, None);
        let found = split_brain(&[], &[], &[&unanswered], &[]);
        assert_eq!(
            found.not_measured.as_deref(),
            Some("no role probe answered (1 of PostgreSQL, all unanswered)")
        );
        // each self-reporting source named as reports name it
        let silent = sample("pg2", ms(0), ms(1), None);
        let found = split_brain(&[], &[&silent], &[&unanswered], &[]);
        assert_eq!(
            found.not_measured.as_deref(),
            Some("no role probe answered (1 of Patroni, 1 of PostgreSQL, all unanswered)")
        );
        let answered = primary("pg1", 100, Some(true));
        let found = split_brain(&[], &[], &[&unanswered, &answered], &[]);
        assert_eq!(found, SplitBrain::default());

        // serialized only when set; a split_brain recorded before it loads as measured
        let json = serde_json::to_value(&none).unwrap();
        assert_eq!(json["not_measured"], "no role probes in the history");
        let old: SplitBrain = serde_json::from_str(r#"{"detected":false,"evidence":[]}"#).unwrap();
        assert_eq!(old, SplitBrain::default());
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"detected":false,"evidence":[]}"#
        );
    }

    #[test]
    fn two_primaries_at_once_are_split_brain() {
        let samples = [
            primary("pg1", 0, Some(false)),
            primary("pg1", 100, Some(false)),
            primary("pg2", 150, Some(false)),
            primary("pg1", 200, Some(false)),
        ];
        let refs: Vec<_> = samples.iter().collect();
        let found = two_primaries(&refs);
        assert_eq!(
            found,
            [
                "pg1 and pg2 both answered as primary (PostgreSQL): pg1 at t+0.102s and t+0.200s, pg2 at t+0.150s"
            ]
        );
        assert!(split_brain(&[], &[], &refs, &[]).detected);
    }

    fn sample(node: &str, sent: At, received: At, role: Option<Role>) -> RoleSample {
        match probe(node, sent, received, role) {
            Event::Role(p) => p,
            _ => unreachable!("a probe"),
        }
    }

    fn windows(starts: &[u64]) -> Vec<(String, Window)> {
        let starts: Vec<At> = starts
            .iter()
            .map(|&s| crate::check::testkit::ms(s))
            .collect();
        Window::of_faults(&starts)
            .into_iter()
            .enumerate()
            .map(|(k, w)| (format!("fault {} (crash of pg1)", k + 1), w))
            .collect()
    }

    #[test]
    fn a_fault_window_where_the_probes_were_blind_is_not_measured() {
        use crate::check::testkit::ms;
        // roles answered before the first fault and after the second, none in between
        let mut probes = [
            sample("pg1", ms(0), ms(1), Some(Role::Leader)),
            sample("pg1", ms(1_000), ms(1_001), None),
            sample("pg2", ms(1_500), ms(1_501), None),
            sample("pg2", ms(2_500), ms(2_501), Some(Role::Leader)),
        ];
        let refs: Vec<&RoleSample> = probes.iter().collect();
        let faults = windows(&[900, 2_000]);
        let found = split_brain(&[], &refs, &[], &faults);
        assert!(!found.detected);
        assert_eq!(
            found.not_measured.as_deref(),
            Some(
                "no role probe answered after fault 1 (crash of pg1): 2 sent from t+0.900s to \
                 t+2.000s, all unanswered"
            )
        );
        // any role answer inside each window, from either source, measures it
        let answered = primary("pg3", 1_200, Some(true));
        let found = split_brain(&[], &refs, &[&answered], &faults);
        assert_eq!(found, SplitBrain::default());
        probes[2].role = Some(Role::Leader);
        let refs: Vec<&RoleSample> = probes.iter().collect();
        assert_eq!(split_brain(&[], &refs, &[], &faults), SplitBrain::default());
        // the last window, with nothing sent in it
        let faults = windows(&[900, 3_000]);
        assert_eq!(
            split_brain(&[], &refs, &[], &faults)
                .not_measured
                .as_deref(),
            Some(
                "no role probe sent after fault 2 (crash of pg1), from t+3.000s to the end of the run"
            )
        );
        // without faults: any role answer in the run
        assert_eq!(split_brain(&[], &refs, &[], &[]), SplitBrain::default());
    }

    #[test]
    fn a_primary_that_went_away_before_the_promotion_is_not_split_brain() {
        for gap in [None, Some(true)] {
            let samples = [
                primary("pg1", 0, Some(false)),
                primary("pg1", 100, gap),
                primary("pg2", 150, Some(false)),
                primary("pg1", 200, Some(false)),
            ];
            let refs: Vec<_> = samples.iter().collect();
            assert!(two_primaries(&refs).is_empty(), "{gap:?}");
        }
    }

    proptest! {
        /// Probes answer every 100 ms except during a planted blind span: split brain is not
        /// measured exactly when the blind span covers a whole fault window.
        #[test]
        fn blind_probes_over_a_whole_window_are_not_measured(
            starts in prop::collection::btree_set(1u64..60, 1..4),
            blind_from in 0u64..60,
            blind_len in 0u64..30,
        ) {
            use crate::check::testkit::ms;
            let starts: Vec<u64> = starts.into_iter().map(|s| s * 100 + 30).collect();
            let blind = |k: u64| (blind_from..blind_from + blind_len).contains(&k);
            let probes: Vec<RoleSample> = (0..70u64)
                .map(|k| {
                    let role = (!blind(k)).then_some(Role::Leader);
                    sample("pg1", ms(k * 100), ms(k * 100 + 2), role)
                })
                .collect();
            let refs: Vec<&RoleSample> = probes.iter().collect();
            let faults = windows(&starts);
            // the ticks sent inside each window; the history's probes end at tick 69
            let blind_window = faults.iter().position(|(_, w)| {
                (0..70u64)
                    .filter(|k| ms(k * 100) >= w.start && w.before_end(ms(k * 100)))
                    .all(blind)
            });
            let found = split_brain(&[], &refs, &[], &faults);
            prop_assert_eq!(found.not_measured.is_some(), blind_window.is_some());
            if let Some(k) = blind_window {
                let named = format!("after fault {} ", k + 1);
                prop_assert!(found.not_measured.unwrap().contains(&named));
            }
        }

        /// Planted: pg1 is primary on ticks [0, a_end), pg2 from tick b_start on, every 100 ms;
        /// they overlap (split brain) exactly when pg2 became primary on a tick strictly inside
        /// pg1's run, not on its first or last tick.
        #[test]
        fn two_primaries_are_found_exactly_when_planted(a_end in 1u64..30, b_start in 0u64..40) {
            let samples: Vec<ReplicationSample> = (0..40)
                .flat_map(|k| {
                    [
                        primary("pg1", k * 100, Some(k >= a_end)),
                        primary("pg2", k * 100 + 50, Some(k < b_start)),
                    ]
                })
                .collect();
            let refs: Vec<_> = samples.iter().collect();
            // pg2's first primary sample is sent at b_start·100 + 50; pg1's run has a sample
            // sent after that one is received iff b_start + 1 < a_end.
            let planted = b_start + 1 < a_end;
            prop_assert_eq!(!two_primaries(&refs).is_empty(), planted);
        }
    }
}
