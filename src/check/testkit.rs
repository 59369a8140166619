//! Builders of small hand-made histories, and a generator of synthetic failover histories with
//! known (planted) truth, for the checkers' tests.

use crate::history::{
    At, Event, FaultAction, FaultEvent, History, Outcome, ProbeSample, ReadBack, Role, WriteOp,
};

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
        done: at.plus(std::time::Duration::from_millis(20)),
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
        error: role.is_none().then(|| "connection refused".to_string()),
    })
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
}

impl Failover {
    pub fn build(&self) -> Planted {
        let mut j = Jitter::new(self.seed);
        let fault = ms(self.fault);
        let elected = ms(self.fault + self.election);
        let recovered = ms(self.fault + self.election + self.recovery);
        let end = ms(self.end);
        let pg1_leader_until = match self.double_leader_for {
            Some(d) => elected.plus(std::time::Duration::from_millis(d)),
            None => fault,
        };
        let mut events = Vec::new();
        let mut new_leader_seen: Option<At> = None;
        for (i, node) in ["pg1", "pg2", "pg3"].into_iter().enumerate() {
            let mut t = i as u64 * self.probe_period * MS / 3;
            while At(t) < end {
                let sent = At(t + j.range(0, MS));
                let received = At(sent.0 + j.range(MS / 10, 5 * MS));
                let role = match node {
                    "pg1" if sent < pg1_leader_until => Some(Role::Leader),
                    "pg1" => None,
                    "pg2" if sent < fault => Some(Role::Replica),
                    "pg2" if sent < elected => Some(Role::Other),
                    "pg2" => Some(Role::Leader),
                    _ => Some(Role::Replica),
                };
                if node == "pg2" && role == Some(Role::Leader) {
                    new_leader_seen = Some(new_leader_seen.map_or(received, |s| s.min(received)));
                }
                events.push(probe(node, sent, received, role));
                t += self.probe_period * MS;
            }
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
        })
}
