use super::At;
use super::observed::{ProxySample, ReplicationSample};
use super::role::{LeaderKeyRecord, ProbeRecord, RecordedAs, RoleSample, RoleView};
use super::step::StepEvent;
use crate::scenario::ReadEndpoint;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Everything recorded during one run, in one list. Events are kept sorted by `Event::at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Wall-clock time of the run's start (RFC 3339, UTC, to the millisecond): the only
    /// wall-clock time stored.
    pub started_wall: String,
    /// The cadence the probes (Patroni, etcd, HAProxy, PostgreSQL) were started at; `None` in
    /// histories recorded before it was kept, which were all probed every 100 ms (see
    /// [`History::probe_interval`]). Absent rather than filled in, so that an older history
    /// serialises to the same bytes (its digest in the run history still matches).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub probe_interval: Option<Duration>,
    pub events: Vec<Event>,
}

/// The probe cadence by default, and that of every run recorded before the cadence was.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_millis(100);

impl Default for History {
    fn default() -> Self {
        History::new(String::new())
    }
}

impl History {
    /// An empty history, its probe cadence not recorded (set `probe_interval`).
    pub fn new(started_wall: String) -> Self {
        History {
            started_wall,
            probe_interval: None,
            events: Vec::new(),
        }
    }

    /// The cadence the probes were started at: as recorded, else 100 ms (every run recorded
    /// before the cadence was used that).
    pub fn probe_interval(&self) -> Duration {
        self.probe_interval.unwrap_or(DEFAULT_PROBE_INTERVAL)
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

    pub fn reads(&self) -> impl Iterator<Item = &ReadOp> {
        self.events.iter().filter_map(|e| match e {
            Event::Read(r) => Some(r),
            _ => None,
        })
    }

    pub fn faults(&self) -> impl Iterator<Item = &FaultEvent> {
        self.events.iter().filter_map(|e| match e {
            Event::Fault(f) => Some(f),
            _ => None,
        })
    }

    /// The steps of the scenario, as they ran.
    pub fn steps(&self) -> impl Iterator<Item = &StepEvent> {
        self.events.iter().filter_map(|e| match e {
            Event::Step(s) => Some(s),
            _ => None,
        })
    }

    /// The observations people wrote down during a game day, in order.
    pub fn notes(&self) -> impl Iterator<Item = &NoteEvent> {
        self.events.iter().filter_map(|e| match e {
            Event::Note(n) => Some(n),
            _ => None,
        })
    }

    /// Every answer of every role source.
    pub fn role_samples(&self) -> impl Iterator<Item = &RoleSample> {
        self.events.iter().filter_map(|e| match e {
            Event::Role(r) => Some(r),
            _ => None,
        })
    }

    /// The role samples in which a node answered about itself (Patroni's `GET /patroni`).
    pub fn self_reports(&self) -> impl Iterator<Item = &RoleSample> {
        self.role_samples()
            .filter(|r| r.view == RoleView::SelfReport)
    }

    /// The role samples in which an authority named the leader (etcd's leader key).
    pub fn authority_reports(&self) -> impl Iterator<Item = &RoleSample> {
        self.role_samples()
            .filter(|r| r.view == RoleView::Authority)
    }

    /// The role samples in which a node said whether it holds the virtual IP.
    pub fn address_reports(&self) -> impl Iterator<Item = &RoleSample> {
        self.role_samples().filter(|r| r.view == RoleView::Address)
    }

    pub fn proxy_samples(&self) -> impl Iterator<Item = &ProxySample> {
        self.events.iter().filter_map(|e| match e {
            Event::Proxy(p) => Some(p),
            _ => None,
        })
    }

    pub fn replication_samples(&self) -> impl Iterator<Item = &ReplicationSample> {
        self.events.iter().filter_map(|e| match e {
            Event::Replication(r) => Some(r),
            _ => None,
        })
    }

    /// Every pooler's samples, in order.
    pub fn pool_samples(&self) -> impl Iterator<Item = &super::PoolSample> {
        self.events.iter().filter_map(|e| match e {
            Event::Pool(p) => Some(p),
            _ => None,
        })
    }

    /// What nodes announced on their own (a Sentinel's events), in the history's order.
    pub fn announcements(&self) -> impl Iterator<Item = &super::Announcement> {
        self.events.iter().filter_map(|e| match e {
            Event::Announcement(a) => Some(a),
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

/// One event of the history, written in run.json as an object tagged by `type`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "StoredEvent")]
pub enum Event {
    Write(WriteOp),
    Fault(FaultEvent),
    /// One answer of a role source (`type` `role`; in formats 1–2, `probe` or `leader_key`).
    Role(RoleSample),
    Proxy(ProxySample),
    Replication(ReplicationSample),
    ReadBack(ReadBack),
    Read(ReadOp),
    Pool(super::PoolSample),
    /// A step of the scenario (format 4).
    Step(StepEvent),
    /// A person's observation during a game day (format 5).
    Note(NoteEvent),
    /// A node's own event, as it announced it (a Sentinel's; format 10).
    Announcement(super::Announcement),
}

/// An event as run.json holds it: formats 1–2 recorded role answers as `probe` (Patroni's view
/// of a node) and `leader_key` (an etcd member's answer); both load as role samples.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StoredEvent {
    Write(WriteOp),
    Fault(FaultEvent),
    Role(RoleSample),
    Probe(ProbeRecord),
    LeaderKey(LeaderKeyRecord),
    Proxy(ProxySample),
    Replication(ReplicationSample),
    ReadBack(ReadBack),
    Read(ReadOp),
    Pool(super::PoolSample),
    Step(StepEvent),
    Note(NoteEvent),
    Announcement(super::Announcement),
}

impl From<StoredEvent> for Event {
    fn from(stored: StoredEvent) -> Event {
        match stored {
            StoredEvent::Write(w) => Event::Write(w),
            StoredEvent::Fault(f) => Event::Fault(f),
            StoredEvent::Role(r) => Event::Role(RoleSample {
                recorded_as: RecordedAs::Role,
                ..r
            }),
            StoredEvent::Probe(p) => Event::Role(p.into()),
            StoredEvent::LeaderKey(k) => Event::Role(k.into()),
            StoredEvent::Proxy(p) => Event::Proxy(p),
            StoredEvent::Replication(r) => Event::Replication(r),
            StoredEvent::ReadBack(r) => Event::ReadBack(r),
            StoredEvent::Read(r) => Event::Read(r),
            StoredEvent::Pool(p) => Event::Pool(p),
            StoredEvent::Step(s) => Event::Step(s),
            StoredEvent::Note(n) => Event::Note(n),
            StoredEvent::Announcement(a) => Event::Announcement(a),
        }
    }
}

/// An event written: a role sample in the layout it was recorded in (see [`RecordedAs`]).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WrittenEvent<'a> {
    Write(&'a WriteOp),
    Fault(&'a FaultEvent),
    Role(&'a RoleSample),
    Probe(ProbeRecord<&'a str, &'a [String]>),
    LeaderKey(LeaderKeyRecord<&'a str>),
    Proxy(&'a ProxySample),
    Replication(&'a ReplicationSample),
    ReadBack(&'a ReadBack),
    Read(&'a ReadOp),
    Pool(&'a super::PoolSample),
    Step(&'a StepEvent),
    Note(&'a NoteEvent),
    Announcement(&'a super::Announcement),
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Event::Write(w) => WrittenEvent::Write(w),
            Event::Fault(f) => WrittenEvent::Fault(f),
            Event::Role(r) => match r.recorded_as {
                RecordedAs::Role => WrittenEvent::Role(r),
                RecordedAs::Probe => WrittenEvent::Probe(r.as_probe()),
                RecordedAs::LeaderKey => WrittenEvent::LeaderKey(r.as_leader_key()),
            },
            Event::Proxy(p) => WrittenEvent::Proxy(p),
            Event::Replication(r) => WrittenEvent::Replication(r),
            Event::ReadBack(r) => WrittenEvent::ReadBack(r),
            Event::Read(r) => WrittenEvent::Read(r),
            Event::Pool(p) => WrittenEvent::Pool(p),
            Event::Step(s) => WrittenEvent::Step(s),
            Event::Note(n) => WrittenEvent::Note(n),
            Event::Announcement(a) => WrittenEvent::Announcement(a),
        }
        .serialize(serializer)
    }
}

impl Event {
    /// The instant the event is ordered by: an operation's (write's or read's) invoke, a fault
    /// action's start, a step's start, a probe's send, a read-back's start.
    pub fn at(&self) -> At {
        match self {
            Event::Write(w) => w.invoke,
            Event::Fault(f) => f.at,
            Event::Role(r) => r.sent,
            Event::Proxy(p) => p.sent,
            Event::Replication(r) => r.sent,
            Event::ReadBack(r) => r.at,
            Event::Read(r) => r.invoke,
            Event::Pool(p) => p.sent,
            Event::Step(s) => s.started,
            Event::Note(n) => n.at,
            Event::Announcement(a) => a.at,
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
    /// It may or may not have happened: timeout or connection lost after the statement was sent,
    /// or the server shutting down after it was sent.
    Unknown,
    /// The harness never sent it: no slot to open a connection within the connect timeout (its
    /// own cap on connections being opened at once). Not a failure of the system under test.
    NotSent,
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
    /// Through an application tier: the application server that answered (format 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Through an application tier: the HTTP status of the answer, if one came (format 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What went wrong, for fail and unknown writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What went wrong, classified where it happened (fail and unknown writes). `None` in
    /// histories recorded before writes were classified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
}

impl WriteOp {
    /// Whether the harness never sent this attempt (its own connection cap): outcome `not_sent`,
    /// or, in histories recorded before that outcome existed, `fail` with the kind
    /// `too_many_connecting`. Such an attempt is no evidence about the system under test.
    pub fn not_sent(&self) -> bool {
        self.outcome == Outcome::NotSent || self.error_kind == Some(ErrorKind::TooManyConnecting)
    }
}

/// One read attempt: is the latest write acknowledged before it was invoked visible on the node
/// that served it?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadOp {
    pub invoke: At,
    pub complete: At,
    /// `ok`: the SELECT returned its row. `fail`: it did not (no connection, an error, or no
    /// answer within the timeout). A read changes nothing, so whether it reached the server
    /// does not matter: the reader never records `unknown`, and only `ok` reads are judged.
    pub outcome: Outcome,
    /// The endpoint the read went through.
    pub through: ReadEndpoint,
    /// The highest sequence number among the writes acknowledged before the read was invoked:
    /// the writer publishes a sequence number once its `ok` write's complete instant is taken,
    /// and the reader looks it up just before taking the read's invoke instant, so that write's
    /// `complete` is at or before this read's `invoke`. `None`: no write had been acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// The node that served the read, as it names itself (ok reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Whether that node was in recovery (a replica): `pg_is_in_recovery()` (ok reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_recovery: Option<bool>,
    /// Whether the row of `expected_seq` was there (ok reads with an `expected_seq` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// Through a cache (format 7): how it served the answer: `hit` (fresh), `stale` (past its
    /// ttl, within grace), `miss` (fetched), `pass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    /// Through a cache (format 7): the age of the object served, on a hit.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub age: Option<Duration>,
    /// What went wrong, for reads that did not end `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a write did not end `ok`, classified by the writer from the error's structure (the I/O
/// error kind in its source chain, the server's SQLSTATE), not from its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// `fail`: the connection was refused (`ECONNREFUSED`).
    ConnectRefused,
    /// `fail`: no connection within the connect timeout.
    ConnectTimeout,
    /// `fail`: any other error while connecting or preparing the INSERT (reset, closed by the
    /// proxy, refused by the server during its start-up...).
    ConnectFailed,
    /// `not_sent`: no permit to open a connection within the connect timeout: too many were
    /// already being opened by the harness itself. The write was never sent.
    TooManyConnecting,
    /// `fail`: the server refused the write as read-only (SQLSTATE 25006): it was not the
    /// leader, or no longer.
    ReadOnly,
    /// `fail`: the server answered the statement with another error (its SQLSTATE is in the
    /// write's `error`).
    ServerError,
    /// `unknown`: the server answered the statement, after it was sent, with SQLSTATE 57P01
    /// (admin_shutdown), 57P02 (crash_shutdown) or 57P03 (cannot_connect_now): it was shutting
    /// down, possibly while the commit waited for a synchronous standby, when the row may
    /// already be committed.
    ServerShutdown,
    /// `unknown`: the connection broke after the statement was sent.
    ConnectionLost,
    /// `unknown`: no answer within the write timeout.
    WriteTimeout,
    /// `fail`: an application server answered that it did not commit the write (`"committed":
    /// false`: no database connection, or the database refused it before COMMIT).
    HttpRefused,
    /// `fail`: the proxy in front of the application servers answered itself that no server
    /// took the request (HAProxy's 503): it reached no application.
    HttpNoServer,
    /// `unknown`: an answer after the request was sent that does not say whether it committed:
    /// the proxy's 502 or 504 (the server broke off or did not answer in time), an application
    /// server's `"committed": null` (its connection broke during COMMIT), or an answer outside
    /// the contract.
    HttpUnknown,
}

impl ErrorKind {
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::ConnectRefused,
        ErrorKind::ConnectTimeout,
        ErrorKind::ConnectFailed,
        ErrorKind::TooManyConnecting,
        ErrorKind::ReadOnly,
        ErrorKind::ServerError,
        ErrorKind::ServerShutdown,
        ErrorKind::ConnectionLost,
        ErrorKind::WriteTimeout,
        ErrorKind::HttpRefused,
        ErrorKind::HttpNoServer,
        ErrorKind::HttpUnknown,
    ];

    /// The name written in run.json and reports ("connect_refused").
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::ConnectFailed => "connect_failed",
            ErrorKind::TooManyConnecting => "too_many_connecting",
            ErrorKind::ReadOnly => "read_only",
            ErrorKind::ServerError => "server_error",
            ErrorKind::ServerShutdown => "server_shutdown",
            ErrorKind::ConnectionLost => "connection_lost",
            ErrorKind::WriteTimeout => "write_timeout",
            ErrorKind::HttpRefused => "http_refused",
            ErrorKind::HttpNoServer => "http_no_server",
            ErrorKind::HttpUnknown => "http_unknown",
        }
    }

    /// The outcome a write with this error has (the outcome rule of the PostgreSQL client):
    /// `not_sent` if the harness never sent it, `unknown` if the statement was sent and may
    /// have been executed, else `fail`.
    pub fn outcome(self) -> Outcome {
        match self {
            ErrorKind::TooManyConnecting => Outcome::NotSent,
            ErrorKind::ConnectionLost
            | ErrorKind::WriteTimeout
            | ErrorKind::ServerShutdown
            | ErrorKind::HttpUnknown => Outcome::Unknown,
            ErrorKind::HttpRefused
            | ErrorKind::HttpNoServer
            | ErrorKind::ConnectRefused
            | ErrorKind::ConnectTimeout
            | ErrorKind::ConnectFailed
            | ErrorKind::ReadOnly
            | ErrorKind::ServerError => Outcome::Fail,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
    /// The fault's `at` in the scenario: when its injection was scheduled, from the workload's
    /// start. Faults scheduled at the same instant start together, as one incident, though they
    /// are injected one after the other. `None` in histories recorded before it was.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub scheduled_at: Option<std::time::Duration>,
    /// Injected or healed by a person during a game day (`firedrill inject`, `heal`, or the heal
    /// of what was in effect at `down`), not by the scenario's schedule (format 5).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_hand: bool,
}

/// A person's observation during a game day (`firedrill note "TEXT"`), stamped on the run's
/// clock when the session received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEvent {
    pub at: At,
    pub text: String,
}

impl NoteEvent {
    /// The action item a note names: its text after `action:`, if it starts so.
    pub fn action_item(&self) -> Option<&str> {
        let text = self.text.trim_start();
        let prefix = text.get(..7)?;
        prefix
            .eq_ignore_ascii_case("action:")
            .then(|| text[7..].trim())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_starting_with_action_is_an_action_item() {
        let note = |text: &str| NoteEvent {
            at: At(1),
            text: text.into(),
        };
        assert_eq!(
            note("action: alert on replication lag").action_item(),
            Some("alert on replication lag")
        );
        assert_eq!(
            note("  Action:page the DBA").action_item(),
            Some("page the DBA")
        );
        assert_eq!(note("app showed 502s").action_item(), None);
        assert_eq!(note("act").action_item(), None);
        assert_eq!(note("actioné").action_item(), None);
    }

    #[test]
    fn error_kinds_are_snake_case_and_optional_in_json() {
        for &kind in ErrorKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
        // a write recorded before kinds were
        let old = r#"{"seq":3,"invoke":10,"complete":20,"outcome":"fail","error":"connect: x"}"#;
        let w: WriteOp = serde_json::from_str(old).unwrap();
        assert_eq!(w.error_kind, None);
        assert!(!serde_json::to_string(&w).unwrap().contains("error_kind"));
        let w = WriteOp {
            error_kind: Some(ErrorKind::ReadOnly),
            ..w
        };
        let json = serde_json::to_string(&w).unwrap();
        assert!(json.contains(r#""error_kind":"read_only""#), "{json}");
        assert_eq!(serde_json::from_str::<WriteOp>(&json).unwrap(), w);
    }

    #[test]
    fn outcome_rule_of_each_kind() {
        use Outcome::*;
        let rule: Vec<(ErrorKind, Outcome)> =
            ErrorKind::ALL.iter().map(|&k| (k, k.outcome())).collect();
        assert_eq!(
            rule,
            [
                (ErrorKind::ConnectRefused, Fail),
                (ErrorKind::ConnectTimeout, Fail),
                (ErrorKind::ConnectFailed, Fail),
                (ErrorKind::TooManyConnecting, NotSent),
                (ErrorKind::ReadOnly, Fail),
                (ErrorKind::ServerError, Fail),
                (ErrorKind::ServerShutdown, Unknown),
                (ErrorKind::ConnectionLost, Unknown),
                (ErrorKind::WriteTimeout, Unknown),
                (ErrorKind::HttpRefused, Fail),
                (ErrorKind::HttpNoServer, Fail),
                (ErrorKind::HttpUnknown, Unknown),
            ]
        );
    }

    #[test]
    fn throttled_writes_are_not_sent_in_new_and_old_histories() {
        let new = r#"{"seq":3,"invoke":10,"complete":20,"outcome":"not_sent","error":"connect: 32 connections already being opened","error_kind":"too_many_connecting"}"#;
        let w: WriteOp = serde_json::from_str(new).unwrap();
        assert_eq!(w.outcome, Outcome::NotSent);
        assert!(w.not_sent());
        assert_eq!(serde_json::to_string(&w).unwrap(), new);
        // recorded before `not_sent` existed: `fail` of that kind, read the same way
        let old = new.replace("\"not_sent\"", "\"fail\"");
        let w: WriteOp = serde_json::from_str(&old).unwrap();
        assert!(w.not_sent());
        let w = WriteOp {
            error_kind: Some(ErrorKind::ConnectTimeout),
            ..w
        };
        assert!(!w.not_sent());
    }

    #[test]
    fn histories_recorded_before_the_probe_cadence_load_with_the_cadence_they_had() {
        let text = r#"{"started_wall":"x","events":[]}"#;
        let old: History = serde_json::from_str(text).unwrap();
        assert_eq!(old.probe_interval(), Duration::from_millis(100));
        // the same bytes again: the run history's digest of it still holds
        assert_eq!(serde_json::to_string(&old).unwrap(), text);
        let mut h = History::new("x".into());
        h.probe_interval = Some(Duration::from_millis(250));
        assert_eq!(h.probe_interval(), Duration::from_millis(250));
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.contains(r#""probe_interval":"250ms""#), "{json}");
        assert_eq!(serde_json::from_str::<History>(&json).unwrap(), h);
    }

    #[test]
    fn reads_are_tagged_events_ordered_by_invoke_and_old_tags_are_unchanged() {
        let read = ReadOp {
            cache: None,
            age: None,
            invoke: At(30),
            complete: At(35),
            outcome: Outcome::Ok,
            through: ReadEndpoint::Replica,
            expected_seq: Some(7),
            node: Some("pg2".into()),
            in_recovery: Some(true),
            visible: Some(false),
            error: None,
        };
        let event = Event::Read(read.clone());
        assert_eq!(event.at(), At(30));
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"type":"read","invoke":30,"complete":35,"outcome":"ok","through":"replica","expected_seq":7,"node":"pg2","in_recovery":true,"visible":false}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
        // a failed read, before any write was acknowledged: only what is known is written
        let failed = r#"{"type":"read","invoke":40,"complete":41,"outcome":"fail","through":"primary","error":"connect: refused"}"#;
        let Event::Read(r) = serde_json::from_str::<Event>(failed).unwrap() else {
            panic!("not a read");
        };
        assert_eq!((r.expected_seq, r.node, r.visible), (None, None, None));
        assert_eq!(r.through, ReadEndpoint::Primary);

        let write = r#"{"type":"write","seq":3,"invoke":10,"complete":20,"outcome":"ok","node":"pg1","timeline":1}"#;
        let read_back = r#"{"type":"read_back","at":50,"node":"pg1","present":[3]}"#;
        let mut h = History::new("2024-01-01T00:00:00Z".into());
        h.extend([
            serde_json::from_str::<Event>(read_back).unwrap(),
            event,
            serde_json::from_str::<Event>(write).unwrap(),
        ]);
        assert_eq!(h.writes().count(), 1);
        assert!(h.read_back().is_some());
        assert_eq!(h.reads().collect::<Vec<_>>(), [&read]);
        let ats: Vec<At> = h.events.iter().map(Event::at).collect();
        assert_eq!(ats, [At(10), At(30), At(50)]);
    }
}
