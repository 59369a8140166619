//! Builders of small hand-made histories, and a generator of synthetic failover histories with
//! known (planted) truth, for the checkers' tests.

use crate::history::{
    At, Event, FaultAction, FaultEvent, History, Outcome, ProbeSample, ReadBack, Role, WriteOp,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub const MS: u64 = 1_000_000;

pub fn ms(v: u64) -> At {
    At(v * MS)
}

pub fn history(events: Vec<Event>) -> History {
    let mut h = History::new("2024-01-01T00:00:00Z".to_string());
    h.extend(events);
    h
}

pub fn write(seq: u64, invoke: At, complete: At, outcome: Outcome) -> WriteOp {
    WriteOp {
        seq,
        invoke,
        complete,
        outcome,
        node: None,
        timeline: None,
        error: None,
    }
}

pub fn ok(seq: u64, invoke: At, complete: At, node: &str, timeline: u32) -> Event {
    Event::Write(WriteOp {
        node: Some(node.to_string()),
        timeline: Some(timeline),
        ..write(seq, invoke, complete, Outcome::Ok)
    })
}

pub fn failed(seq: u64, invoke: At, complete: At) -> Event {
    Event::Write(WriteOp {
        error: Some("connection refused".to_string()),
        ..write(seq, invoke, complete, Outcome::Fail)
    })
}

pub fn unknown(seq: u64, invoke: At, complete: At) -> Event {
    Event::Write(WriteOp {
        error: Some("timed out".to_string()),
        ..write(seq, invoke, complete, Outcome::Unknown)
    })
}

pub fn inject(fault: usize, node: &str, at: At) -> Event {
    Event::Fault(FaultEvent {
        fault,
        action: FaultAction::Inject,
        kind: "crash".to_string(),
        node: node.to_string(),
        nodes: Vec::new(),
        at,
        done: at.plus(Duration::from_millis(20)),
        detail: None,
    })
}

pub fn heal(fault: usize, node: &str, at: At) -> Event {
    Event::Fault(FaultEvent {
        action: FaultAction::Heal,
        ..match inject(fault, node, at) {
            Event::Fault(f) => f,
            _ => unreachable!(),
        }
    })
}

pub fn probe(node: &str, sent: At, received: At, role: Option<Role>) -> Event {
    Event::Probe(ProbeSample {
        node: node.to_string(),
        sent,
        received,
        role,
        timeline: None,
        state: None,
        wal: None,
        replayed: None,
        streaming: Vec::new(),
        error: role.is_none().then(|| "connection refused".to_string()),
    })
}

/// A probe answered with `role`, WAL position `wal` and, on a leader, the replicas it lists as
/// `streaming`.
pub fn probe_wal(
    node: &str,
    sent: At,
    received: At,
    role: Role,
    wal: Option<u64>,
    streaming: &[&str],
) -> Event {
    Event::Probe(ProbeSample {
        wal,
        streaming: streaming.iter().map(|s| s.to_string()).collect(),
        ..match probe(node, sent, received, Some(role)) {
            Event::Probe(p) => p,
            _ => unreachable!(),
        }
    })
}

/// An injection that hit several nodes (`nodes`), the first of them as `node`.
pub fn inject_many(fault: usize, nodes: &[&str], at: At) -> Event {
    match inject(fault, nodes[0], at) {
        Event::Fault(f) => Event::Fault(FaultEvent {
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            ..f
        }),
        _ => unreachable!(),
    }
}

pub fn read_back(at: At, present: Vec<u64>) -> Event {
    Event::ReadBack(ReadBack {
        at,
        node: "pg2".to_string(),
        present,
    })
}

/// A small deterministic generator (splitmix64) for jitter in synthetic histories.
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Self {
        Jitter(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// What a synthetic failover looks like, in milliseconds from the run's start.
///
/// pg1 leads on timeline 1 until it is crashed at `fault`; pg2 reports `other` from then, and
/// leader from `fault + election` on; pg3 is a replica throughout. Writes are attempted every
/// 10 ms: ok on pg1 before the fault, failed or unknown until `fault + election + recovery`, ok on
/// pg2 (timeline 2) after. Probes of each node are sent every `probe_period`.
#[derive(Clone, Debug)]
pub struct Failover {
    pub seed: u64,
    pub fault: u64,
    pub election: u64,
    pub recovery: u64,
    pub end: u64,
    pub probe_period: u64,
    /// Planted fault: pg1 keeps reporting leader this long after pg2 became leader.
    pub double_leader_for: Option<u64>,
    /// WAL positions, replication streams and pg1's restart; `None`: probes carry none of them
    /// and pg1 stays down.
    pub replication: Option<Replication>,
}

/// WAL positions (bytes) and replication streams planted in a synthetic failover (instants in
/// milliseconds). Let `C` be `fault - 3 * probe_period` (or 0): from `C` on, each node reports
/// a constant position, and every node has a sample sent in `[C, fault)` and received before the
/// fault; samples sent before `C` report other positions (to catch a checker that reads an
/// earlier sample than the latest).
///
/// - pg1, leader until the fault: `wal` from `C` on; it lists pg2 and pg3 as streaming.
/// - pg2 and pg3, replicas: `wal - behind[0]` and `wal - behind[1]` from `C` until the fault;
///   after it pg3 reports other positions, and pg2 stays a replica at `wal - behind_at_election`
///   until the election (which comes more than a probe period after the fault, so one such
///   sample is seen), then leads at other positions. pg2 as leader lists pg3 as streaming from
///   `elected + pg3_streams_after` (sent) on, and pg1 from `heal + pg1_streams_after` on.
/// - pg1 is down (no answer) from the fault until it is healed at `elected + heal_after`, a
///   replica after; never healed when `heal_after` is `None` (then no heal event).
#[derive(Clone, Debug)]
pub struct Replication {
    pub wal: u64,
    pub behind: [u64; 2],
    pub behind_at_election: u64,
    pub heal_after: Option<u64>,
    pub pg3_streams_after: u64,
    pub pg1_streams_after: u64,
}

impl Replication {
    /// The instant (ms) from which pg2, as leader, lists every node expected back as streaming.
    pub fn full_from(&self, elected: u64) -> u64 {
        let pg3 = elected + self.pg3_streams_after;
        match self.heal_after {
            Some(h) => pg3.max(elected + h + self.pg1_streams_after),
            None => pg3,
        }
    }
}

/// The truth planted in a synthetic failover.
#[derive(Clone, Debug)]
pub struct Planted {
    pub history: History,
    pub fault: At,
    /// The first probe sample (by received instant) in which pg2 reports leader.
    pub new_leader_seen: At,
    /// The end of the last ok write before the fault.
    pub last_ok_before: At,
    /// The first non-ok write invoked at or after the fault.
    pub first_bad_complete: At,
    /// The end of the first ok write after the outage.
    pub first_ok_after: At,
    pub ok_seqs: Vec<u64>,
    pub unknown_seqs: Vec<u64>,
    pub next_seq: u64,
    /// With `replication`: each replica's lag in bytes at the fault (`behind`).
    pub lag_at_injection: BTreeMap<String, u64>,
    /// With `replication`: `behind_at_election`.
    pub lag_at_failover: Option<u64>,
    /// With `replication`: the `received` instant of the first sample (by received) in which
    /// pg2 leads and lists every node expected back as streaming.
    pub full_redundancy_seen: Option<At>,
}

impl Failover {
    pub fn build(&self) -> Planted {
        let mut j = Jitter::new(self.seed);
        let fault = ms(self.fault);
        let elected = ms(self.fault + self.election);
        let recovered = ms(self.fault + self.election + self.recovery);
        let end = ms(self.end);
        let pg1_leader_until = match self.double_leader_for {
            Some(d) => elected.plus(Duration::from_millis(d)),
            None => fault,
        };
        let mut events = Vec::new();
        let mut new_leader_seen: Option<At> = None;
        let mut full_redundancy_seen: Option<At> = None;
        let r = self.replication.as_ref();
        let healed = r
            .and_then(|r| r.heal_after)
            .map(|h| ms(self.fault + self.election + h));
        let constant_from = ms(self.fault.saturating_sub(3 * self.probe_period));
        for (i, node) in ["pg1", "pg2", "pg3"].into_iter().enumerate() {
            let mut t = i as u64 * self.probe_period * MS / 3;
            while At(t) < end {
                let sent = At(t + j.range(0, MS));
                let received = At(sent.0 + j.range(MS / 10, 5 * MS));
                let role = match node {
                    "pg1" if sent < pg1_leader_until => Some(Role::Leader),
                    "pg1" if healed.is_some_and(|h| sent >= h) => Some(Role::Replica),
                    "pg1" => None,
                    "pg2" if sent < fault => Some(Role::Replica),
                    "pg2" if sent < elected && r.is_some() => Some(Role::Replica),
                    "pg2" if sent < elected => Some(Role::Other),
                    "pg2" => Some(Role::Leader),
                    _ => Some(Role::Replica),
                };
                if node == "pg2" && role == Some(Role::Leader) {
                    new_leader_seen = Some(new_leader_seen.map_or(received, |s| s.min(received)));
                }
                let event = match (r, role) {
                    (Some(r), Some(role)) => {
                        let mut other = |current: u64| match j.range(0, 2 * r.wal) {
                            v if v == current => v + 1,
                            v => v,
                        };
                        let constant = sent >= constant_from;
                        let (wal, streaming): (u64, Vec<&str>) = match (node, role) {
                            ("pg1", Role::Leader) if constant => (r.wal, vec!["pg2", "pg3"]),
                            ("pg1", Role::Leader) => (other(r.wal), vec!["pg2", "pg3"]),
                            ("pg2", Role::Leader) => {
                                let mut streaming = Vec::new();
                                if sent >= elected.plus(Duration::from_millis(r.pg3_streams_after))
                                {
                                    streaming.push("pg3");
                                }
                                if healed.is_some_and(|h| {
                                    sent >= h.plus(Duration::from_millis(r.pg1_streams_after))
                                }) {
                                    streaming.push("pg1");
                                }
                                if sent >= ms(r.full_from(self.fault + self.election)) {
                                    full_redundancy_seen = Some(
                                        full_redundancy_seen.map_or(received, |s| s.min(received)),
                                    );
                                }
                                (r.wal + 1 + j.range(0, 1 << 20), streaming)
                            }
                            ("pg2", _) if sent >= fault => (r.wal - r.behind_at_election, vec![]),
                            ("pg2", _) if constant => (r.wal - r.behind[0], vec![]),
                            ("pg3", _) if constant && sent < fault => (r.wal - r.behind[1], vec![]),
                            ("pg2", _) => (other(r.wal - r.behind[0]), vec![]),
                            ("pg3", _) => (other(r.wal - r.behind[1]), vec![]),
                            _ => (other(r.wal), vec![]),
                        };
                        probe_wal(node, sent, received, role, Some(wal), &streaming)
                    }
                    _ => probe(node, sent, received, role),
                };
                events.push(event);
                t += self.probe_period * MS;
            }
        }
        if let Some(h) = healed {
            events.push(heal(0, "pg1", h));
        }
        let mut seq = 0;
        let mut ok_seqs = Vec::new();
        let mut unknown_seqs = Vec::new();
        let mut last_ok_before = None;
        let mut first_bad_complete = None;
        let mut first_ok_after = None;
        let mut t = 0;
        while At(t) < end {
            seq += 1;
            let invoke = At(t + j.range(0, 2 * MS));
            if invoke < fault {
                let complete = At(invoke.0 + j.range(MS, 5 * MS));
                events.push(ok(seq, invoke, complete, "pg1", 1));
                ok_seqs.push(seq);
                last_ok_before = Some(complete);
            } else if invoke < recovered {
                let (event, complete) = if j.next().is_multiple_of(3) {
                    let complete = At(invoke.0 + j.range(50 * MS, 500 * MS));
                    unknown_seqs.push(seq);
                    (unknown(seq, invoke, complete), complete)
                } else {
                    let complete = At(invoke.0 + j.range(MS, 3 * MS));
                    (failed(seq, invoke, complete), complete)
                };
                events.push(event);
                first_bad_complete.get_or_insert(complete);
            } else {
                let complete = At(invoke.0 + j.range(MS, 5 * MS));
                events.push(ok(seq, invoke, complete, "pg2", 2));
                ok_seqs.push(seq);
                first_ok_after.get_or_insert(complete);
            }
            t += 10 * MS;
        }
        events.push(inject(0, "pg1", fault));
        Planted {
            history: history(events),
            fault,
            new_leader_seen: new_leader_seen.expect("pg2 becomes leader before the end"),
            last_ok_before: last_ok_before.expect("ok writes before the fault"),
            first_bad_complete: first_bad_complete.expect("failed writes after the fault"),
            first_ok_after: first_ok_after.expect("ok writes after recovery"),
            ok_seqs,
            unknown_seqs,
            next_seq: seq + 1,
            lag_at_injection: r
                .map(|r| {
                    BTreeMap::from([
                        ("pg2".to_string(), r.behind[0]),
                        ("pg3".to_string(), r.behind[1]),
                    ])
                })
                .unwrap_or_default(),
            lag_at_failover: r.map(|r| r.behind_at_election),
            full_redundancy_seen,
        }
    }
}

/// Parameters of a synthetic failover for property tests: every instant lies on a boundary that
/// leaves at least one probe and one write on each side.
pub fn failover_strategy() -> impl proptest::strategy::Strategy<Value = Failover> {
    use proptest::prelude::*;
    (
        any::<u64>(),
        300u64..2_000,
        50u64..3_000,
        0u64..1_000,
        20u64..150,
    )
        .prop_map(|(seed, fault, election, recovery, probe_period)| Failover {
            seed,
            fault,
            election,
            recovery,
            end: fault + election + recovery + 3 * probe_period + 200,
            probe_period,
            double_leader_for: None,
            replication: None,
        })
}

/// A synthetic failover with WAL positions, replication streams and pg1 restarted (or left
/// down): see [`Replication`].
pub fn replication_strategy() -> impl proptest::strategy::Strategy<Value = Failover> {
    use proptest::prelude::*;
    let lag = 0u64..(16 << 20);
    (
        (any::<u64>(), 300u64..2_000, 0u64..3_000, 20u64..150),
        (0u64..(1 << 40), [lag.clone(), lag.clone()], lag),
        (proptest::option::of(0u64..2_000), 0u64..2_000, 0u64..2_000),
    )
        .prop_map(
            |(
                (seed, fault, election, probe_period),
                (wal, behind, behind_at_election),
                (heal_after, pg3_streams_after, pg1_streams_after),
            )| {
                let replication = Replication {
                    wal: wal + (32 << 20),
                    behind,
                    behind_at_election,
                    heal_after,
                    pg3_streams_after,
                    pg1_streams_after,
                };
                // more than a probe period, so that pg2 is seen as a replica after the fault
                let election = probe_period + 10 + election;
                let full = replication.full_from(fault + election);
                Failover {
                    seed,
                    fault,
                    election,
                    recovery: 100,
                    end: full.max(fault + election + 100) + 3 * probe_period + 200,
                    probe_period,
                    double_leader_for: None,
                    replication: Some(replication),
                }
            },
        )
}
