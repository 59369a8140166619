use super::At;
use serde::{Deserialize, Serialize};

/// Everything recorded during one run, in one list. Events are kept sorted by `Event::at`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Wall-clock time of the run's start (RFC 3339, UTC): the only wall-clock time stored.
    pub started_wall: String,
    pub events: Vec<Event>,
}

impl History {
    pub fn new(started_wall: String) -> Self {
        History {
            started_wall,
            events: Vec::new(),
        }
    }

    /// Appends events and keeps the list ordered by instant (stable for equal instants).
    pub fn extend(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
        self.events.sort_by_key(Event::at);
    }

    pub fn writes(&self) -> impl Iterator<Item = &WriteOp> {
        self.events.iter().filter_map(|e| match e {
            Event::Write(w) => Some(w),
            _ => None,
        })
    }

    pub fn faults(&self) -> impl Iterator<Item = &FaultEvent> {
        self.events.iter().filter_map(|e| match e {
            Event::Fault(f) => Some(f),
            _ => None,
        })
    }

    pub fn probes(&self) -> impl Iterator<Item = &ProbeSample> {
        self.events.iter().filter_map(|e| match e {
            Event::Probe(p) => Some(p),
            _ => None,
        })
    }

    /// The last read-back of the written rows, if one was made.
    pub fn read_back(&self) -> Option<&ReadBack> {
        self.events.iter().rev().find_map(|e| match e {
            Event::ReadBack(r) => Some(r),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Write(WriteOp),
    Fault(FaultEvent),
    Probe(ProbeSample),
    ReadBack(ReadBack),
}

impl Event {
    /// The instant the event is ordered by: an operation's invoke, a fault action's start, a
    /// probe's send, a read-back's start.
    pub fn at(&self) -> At {
        match self {
            Event::Write(w) => w.invoke,
            Event::Fault(f) => f.at,
            Event::Probe(p) => p.sent,
            Event::ReadBack(r) => r.at,
        }
    }
}

/// Outcome of a client operation (Jepsen's model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server acknowledged it: the INSERT returned its row.
    Ok,
    /// It certainly did not happen: no connection, or the server answered with an error.
    Fail,
    /// It may or may not have happened: timeout or connection lost after the statement was sent.
    Unknown,
}

/// One write attempt: an INSERT of a unique sequence number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WriteOp {
    pub seq: u64,
    pub invoke: At,
    pub complete: At,
    pub outcome: Outcome,
    /// The node that accepted the write, as returned by the INSERT itself (ok writes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The PostgreSQL timeline the accepting node was on (ok writes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<u32>,
    /// What went wrong, for fail and unknown writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    Inject,
    Heal,
}

/// A fault injected or healed. `at` is the instant the action began (for an injection, the
/// instant `F` of the measurement definitions); `done` the instant it returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultEvent {
    /// Index of the fault in the scenario's schedule.
    pub fault: usize,
    pub action: FaultAction,
    /// The fault kind's name as written in scenario files ("crash", ...).
    pub kind: String,
    /// The node the target resolved to when the fault fired (the first, if several).
    pub node: String,
    /// Every node the fault hit, when it hit more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    pub at: At,
    pub done: At,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A node's role as its manager (Patroni) reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leader,
    Replica,
    /// Any other state (initialising, demoting, stopped PostgreSQL...).
    Other,
}

/// One probe of one node's manager. `role` is `None` when the node did not answer.
/// The state it reports held at some instant in `[sent, received]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeSample {
    pub node: String,
    pub sent: At,
    pub received: At,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<u32>,
    /// The manager's own words for the state ("running", "starting", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// WAL position in bytes: written, on a leader; received, on a replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal: Option<u64>,
    /// WAL position a replica has replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed: Option<u64>,
    /// On a leader: the replicas streaming from it (pg_stat_replication state `streaming`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streaming: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The final read of every written sequence number from the leader, after recovery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadBack {
    pub at: At,
    /// The node the rows were read from.
    pub node: String,
    /// Every sequence number present in the table, ascending.
    pub present: Vec<u64>,
}
