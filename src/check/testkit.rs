//! Builders of small hand-made histories, and a generator of synthetic failover histories with
//! known (planted) truth, for the checkers' tests.

use super::latency::LatencyStats;
use crate::history::{
    At, ErrorKind, Event, FaultAction, FaultEvent, History, Outcome, ReadBack, ReadOp, Role,
    RoleSample, WriteOp,
};
use crate::scenario::ReadEndpoint;
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
        via: None,
        status: None,
        seq,
        invoke,
        complete,
        outcome,
        node: None,
        timeline: None,
        error: None,
        error_kind: None,
    }
}

pub fn ok(seq: u64, invoke: At, complete: At, node: &str, timeline: u32) -> Event {
    Event::Write(WriteOp {
        node: Some(node.to_string()),
        timeline: Some(timeline),
        ..write(seq, invoke, complete, Outcome::Ok)
    })
}

/// `ok` writes on `node` (timeline `timeline`) invoked every 100 ms from `from` up to and
/// including `from` + 5 s ([`STABLE`](super::rto::STABLE)), each taking 2 ms, numbered from
/// `seq`: they confirm a recovery invoked at or before `from`.
pub fn steady(seq: u64, from: At, node: &str, timeline: u32) -> Vec<Event> {
    let steps = super::rto::STABLE.as_millis() as u64 / 100;
    (0..=steps)
        .map(|k| {
            let invoke = from.plus(Duration::from_millis(100 * k));
            ok(
                seq + k,
                invoke,
                invoke.plus(Duration::from_millis(2)),
                node,
                timeline,
            )
        })
        .collect()
}

pub fn failed(seq: u64, invoke: At, complete: At) -> Event {
    not_ok(seq, invoke, complete, ErrorKind::ConnectRefused)
}

pub fn unknown(seq: u64, invoke: At, complete: At) -> Event {
    not_ok(seq, invoke, complete, ErrorKind::WriteTimeout)
}

/// A write that failed with `kind`; its outcome (`fail`, `unknown` or `not_sent`) is the
/// kind's.
pub fn not_ok(seq: u64, invoke: At, complete: At, kind: ErrorKind) -> Event {
    Event::Write(WriteOp {
        error: Some(kind.name().replace('_', " ")),
        error_kind: Some(kind),
        ..write(seq, invoke, complete, kind.outcome())
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
        scheduled_at: None,
        by_hand: false,
    })
}

/// An injection of a fault the scenario scheduled at `scheduled` (its `at`).
pub fn inject_scheduled(fault: usize, node: &str, at: At, scheduled: Duration) -> Event {
    match inject(fault, node, at) {
        Event::Fault(f) => Event::Fault(FaultEvent {
            scheduled_at: Some(scheduled),
            ..f
        }),
        _ => unreachable!(),
    }
}

/// A heal of a fault the scenario scheduled at `scheduled`.
pub fn heal_scheduled(fault: usize, node: &str, at: At, scheduled: Duration) -> Event {
    match heal(fault, node, at) {
        Event::Fault(f) => Event::Fault(FaultEvent {
            scheduled_at: Some(scheduled),
            ..f
        }),
        _ => unreachable!(),
    }
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

/// A sample of HAProxy's stats: the servers in `up` UP, the others of pg1..pg3 DOWN.
pub fn proxy(sent: At, received: At, up: &[&str]) -> Event {
    Event::Proxy(crate::history::ProxySample {
        tier: vec![],
        sent,
        received,
        servers: ["pg1", "pg2", "pg3"]
            .iter()
            .map(|n| crate::history::ProxyServer {
                name: n.to_string(),
                status: if up.contains(n) { "UP" } else { "DOWN" }.to_string(),
                sessions: 0,
            })
            .collect(),
        error: None,
    })
}

/// A pooler's answer: one pool of `pool_size` with `active` server connections active (linked
/// to a client), nothing else; no `SHOW SERVERS` rows (see [`with_servers`]).
pub fn pool_sample(
    pooler: &str,
    server: &str,
    sent: At,
    received: At,
    pool_size: u64,
    active: u64,
) -> crate::history::PoolSample {
    crate::history::PoolSample {
        pooler: pooler.to_string(),
        server: server.to_string(),
        sent,
        received,
        pool_size,
        pools: vec![crate::history::PoolStat {
            database: "postgres".into(),
            user: "postgres".into(),
            sv_active: active,
            ..Default::default()
        }],
        servers: Vec::new(),
        error: None,
    }
}

/// The sample with `n` more `SHOW SERVERS` rows in `state`, pointing at its server node.
pub fn with_servers(
    mut sample: crate::history::PoolSample,
    n: u64,
    state: &str,
) -> crate::history::PoolSample {
    for _ in 0..n {
        sample.servers.push(crate::history::ServerConnection {
            database: "postgres".into(),
            state: state.to_string(),
            addr: format!("{}.addr", sample.server),
            port: 5432,
        });
    }
    sample
}

/// Patroni's answer about `node` (`None`: no answer).
pub fn probe(node: &str, sent: At, received: At, role: Option<Role>) -> Event {
    Event::Role(RoleSample {
        role,
        error: role.is_none().then(|| "connection refused".to_string()),
        ..RoleSample::self_report("patroni", node, sent, received)
    })
}

/// A node's PostgreSQL asked directly whether it is in recovery (`None`: no answer).
pub fn pg_role(node: &str, sent: At, received: At, in_recovery: Option<bool>) -> Event {
    Event::Replication(crate::history::ReplicationSample {
        node: node.to_string(),
        sent,
        received,
        in_recovery,
        wal: None,
        replicas: Vec::new(),
        error: in_recovery.is_none().then(|| "timeout".to_string()),
    })
}

/// A node's PostgreSQL answering as a primary at WAL position `wal`, its `pg_stat_replication`
/// listing each `(replica, flush)` (sent up to `flush` as well).
pub fn primary_at(node: &str, sent: At, received: At, wal: u64, rows: &[(&str, u64)]) -> Event {
    Event::Replication(crate::history::ReplicationSample {
        node: node.to_string(),
        sent,
        received,
        in_recovery: Some(false),
        wal: Some(wal),
        replicas: rows
            .iter()
            .map(|&(name, flush)| crate::history::ReplicaStat {
                name: name.to_string(),
                state: "streaming".into(),
                sent: Some(flush),
                flush: Some(flush),
                replay: Some(flush),
                replay_lag: None,
            })
            .collect(),
        error: None,
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
    Event::Role(RoleSample {
        position: wal,
        streaming: streaming.iter().map(|s| s.to_string()).collect(),
        ..match probe(node, sent, received, Some(role)) {
            Event::Role(p) => p,
            _ => unreachable!(),
        }
    })
}

/// pg1's answer as a primary in a planted replication (see [`Replication`]), its position
/// `wal` (`r.wal` when `constant`).
fn pg1_replication(r: &Replication, sent: At, received: At, wal: u64, constant: bool) -> Event {
    let row = |name: &str, behind: u64| {
        // before `C` the rows are off by one byte more, to catch a stale sample
        let flush = wal.saturating_sub(behind + u64::from(!constant));
        crate::history::ReplicaStat {
            name: name.to_string(),
            state: "streaming".into(),
            sent: Some(flush + (wal - flush) / 2),
            flush: Some(flush),
            replay: Some(flush),
            replay_lag: None,
        }
    };
    Event::Replication(crate::history::ReplicationSample {
        node: "pg1".into(),
        sent,
        received,
        in_recovery: Some(false),
        wal: Some(wal),
        replicas: vec![row("pg2", r.behind[0]), row("pg3", r.behind[1])],
        error: None,
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

/// An `ok` read through the replica endpoint, served by `node` (`in_recovery`), looking for
/// `expected` (`visible`: whether it saw it; `None` without an expected write).
pub fn read(
    invoke: At,
    complete: At,
    expected: Option<u64>,
    node: &str,
    in_recovery: bool,
    visible: bool,
) -> Event {
    Event::Read(ReadOp {
        cache: None,
        age: None,
        invoke,
        complete,
        outcome: Outcome::Ok,
        through: ReadEndpoint::Replica,
        expected_seq: expected,
        node: Some(node.to_string()),
        in_recovery: Some(in_recovery),
        visible: expected.map(|_| visible),
        error: None,
    })
}

/// A read that failed (no connection).
pub fn failed_read(invoke: At, complete: At) -> Event {
    Event::Read(ReadOp {
        cache: None,
        age: None,
        invoke,
        complete,
        outcome: Outcome::Fail,
        through: ReadEndpoint::Replica,
        expected_seq: None,
        node: None,
        in_recovery: None,
        visible: None,
        error: Some("connect: connection refused".to_string()),
    })
}

/// The truth planted by [`plant_reads`].
#[derive(Clone, Debug)]
pub struct PlantedReads {
    pub history: History,
    pub total: u64,
    pub failed: u64,
    /// Ok reads that saw their expected write.
    pub fresh: u64,
    /// Ok reads served by pg3 in recovery that did not see their expected write.
    pub stale_on_replica: u64,
    /// Ok reads served by pg2 out of recovery that did not see their expected write: (invoke,
    /// expected sequence number), by invoke.
    pub stale_on_primary: Vec<(At, u64)>,
    /// The largest read invoke − expected write complete over the stale reads.
    pub max_staleness: Option<Duration>,
}

/// `history` with reads added every `period` ms (plus up to 1 ms of jitter) from the start to
/// its last write's invoke. Each expects the highest sequence number among the `ok` writes
/// completed at or before its invoke, as the reader does. About a sixth fail; of the ok reads
/// with an expected write, half see it (served by pg3, a replica), a third do not on pg3 (in
/// recovery), a sixth do not on pg2 (not in recovery).
pub fn plant_reads(history: History, seed: u64, period: u64) -> PlantedReads {
    let mut j = Jitter::new(seed);
    let acked: Vec<(At, u64)> = history
        .writes()
        .filter(|w| w.outcome == Outcome::Ok)
        .map(|w| (w.complete, w.seq))
        .collect();
    let end = history.writes().map(|w| w.invoke).max().unwrap_or_default();
    let mut p = PlantedReads {
        history,
        total: 0,
        failed: 0,
        fresh: 0,
        stale_on_replica: 0,
        stale_on_primary: Vec::new(),
        max_staleness: None,
    };
    let mut events = Vec::new();
    let mut t = 0;
    while At(t) < end {
        let invoke = At(t + j.range(0, MS - 1));
        let complete = At(invoke.0 + j.range(MS / 10, 5 * MS));
        t += period * MS;
        p.total += 1;
        if j.next().is_multiple_of(6) {
            p.failed += 1;
            events.push(failed_read(invoke, complete));
            continue;
        }
        let expected = acked
            .iter()
            .filter(|(done, _)| *done <= invoke)
            .max_by_key(|(_, seq)| *seq)
            .copied();
        let Some((acked_at, seq)) = expected else {
            events.push(read(invoke, complete, None, "pg3", true, false));
            continue;
        };
        let staleness = invoke.since(acked_at);
        match j.range(0, 5) {
            0..=2 => {
                p.fresh += 1;
                events.push(read(invoke, complete, Some(seq), "pg3", true, true));
                continue;
            }
            3 | 4 => {
                p.stale_on_replica += 1;
                events.push(read(invoke, complete, Some(seq), "pg3", true, false));
            }
            _ => {
                p.stale_on_primary.push((invoke, seq));
                events.push(read(invoke, complete, Some(seq), "pg2", false, false));
            }
        }
        p.max_staleness = p.max_staleness.max(Some(staleness));
    }
    p.history.extend(events);
    p
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
/// leader from `fault + election` on: on timeline 1 at first, on timeline 2 once its promotion
/// finished, from `fault + election + promotion` (sent) on; pg3 is a replica throughout
/// (timeline 1). Writes are attempted every 10 ms: ok on pg1 before the fault, failed or unknown
/// (each with a planted error kind) until `fault + election + recovery`, ok on pg2 (timeline 2)
/// after. Probes of each node are sent every `probe_period`.
///
/// Ok writes' latencies are planted per phase: the writes before the fault, the first ok write
/// after the outage (the recovery: alone in the *during* phase, as the next write is invoked
/// after it completed), and the writes after it. Within the first and last phase they are a
/// shuffle of `1 ms + k·step` for `k` in `0..n` (`step = 4 ms / n`), so that the `p`-th
/// percentile is `1 ms + (⌈p·n/100⌉ − 1)·step` whatever the order.
#[derive(Clone, Debug)]
pub struct Failover {
    pub seed: u64,
    pub fault: u64,
    pub election: u64,
    /// From the election to pg2's first sample on timeline 2 (sent).
    pub promotion: u64,
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
/// - pg1, while it leads, also answers as a primary with its `pg_stat_replication` (a
///   `replication` sample, sent and received with its Patroni probe): position `wal` from `C`
///   on, pg2 and pg3 flushed at `wal - behind[0]` and `wal - behind[1]` (sent halfway); other
///   positions before `C`. It gives no answer while down. pg2's Patroni position after the fault
///   (`behind_at_election`) is not what the lags are read from.
/// - pg1 is down (no answer) from the fault until it is healed at `elected + heal_after`, a
///   replica after (timeline 2); never healed when `heal_after` is `None` (then no heal event).
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

/// An unbroken run of one node's leader samples (at least two) in a synthetic history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderRun {
    pub node: String,
    /// The `received` instant of its first sample.
    pub first_received: At,
    /// The `sent` instant of its last sample.
    pub last_sent: At,
}

impl LeaderRun {
    /// Whether the node reported leader before `invoke` and again after `complete`, without a
    /// break.
    pub fn covers(&self, invoke: At, complete: At) -> bool {
        self.first_received < invoke && complete < self.last_sent
    }
}

/// The truth planted in a synthetic failover.
#[derive(Clone, Debug)]
pub struct Planted {
    pub history: History,
    pub fault: At,
    /// The first probe sample (by received instant) in which pg2 reports leader.
    pub new_leader_seen: At,
    /// The first probe sample (by received instant) in which pg2 reports leader on timeline 2.
    pub promoted_seen: At,
    /// The end of the last ok write before the fault.
    pub last_ok_before: At,
    /// The first non-ok write invoked at or after the fault.
    pub first_bad_complete: At,
    /// The end of the first ok write after the outage.
    pub first_ok_after: At,
    /// The wider of the gaps between the invokes around the outage's edges: the last ok write
    /// and the first bad one, the last bad write and the first ok one after.
    pub rto_resolution: Duration,
    pub ok_seqs: Vec<u64>,
    pub unknown_seqs: Vec<u64>,
    pub next_seq: u64,
    /// Non-ok writes by their planted kind.
    pub errors_by_kind: BTreeMap<ErrorKind, u64>,
    /// Ok writes per accepting node.
    pub writes_per_node: BTreeMap<String, u64>,
    /// The planted latencies of the ok writes before the fault, of the recovery write, and of
    /// the ok writes after it.
    pub latency_before: Option<LatencyStats>,
    pub latency_during: Option<LatencyStats>,
    pub latency_after: Option<LatencyStats>,
    /// Every node's unbroken runs of leader samples.
    pub leader_runs: Vec<LeaderRun>,
    /// pg2's ok writes while pg1 kept reporting leader (with `double_leader_for`): invoked after
    /// pg1's first leader report was received, completed before its last was sent. Ascending.
    pub writes_while_deposed_led: Vec<u64>,
    /// With `replication`: each replica's lag in bytes at the fault (`behind`).
    pub lag_at_injection: BTreeMap<String, u64>,
    /// With `replication`: `behind[0]`, pg2's lag in pg1's last answer as a primary.
    pub lag_at_failover: Option<u64>,
    /// With `replication`: the `received` instant of the first sample (by received) in which
    /// pg2 leads and lists every node expected back as streaming, among those sent at or after
    /// `new_leader_seen` (the old leader's view is not redundancy regained).
    pub full_redundancy_seen: Option<At>,
}

/// The statistics of `n` latencies `base + k·step` for `k` in `0..n` (nanoseconds), in any
/// order: the `p`-th nearest-rank percentile is the one at rank `⌈p·n/100⌉`.
pub fn spaced_stats(n: u64, base: u64, step: u64) -> Option<LatencyStats> {
    let at = |rank: u64| Duration::from_nanos(base + (rank - 1) * step);
    (n > 0).then(|| LatencyStats {
        count: n,
        p50: at((50 * n).div_ceil(100)),
        p95: at((95 * n).div_ceil(100)),
        p99: at((99 * n).div_ceil(100)),
        max: at(n),
    })
}

/// A probe sample reporting `timeline`; other events unchanged.
pub fn with_timeline(event: Event, timeline: Option<u32>) -> Event {
    match event {
        Event::Role(p) => Event::Role(RoleSample {
            epoch: timeline.map(u64::from),
            ..p
        }),
        other => other,
    }
}

/// Which part of a synthetic failover a write slot falls in.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Before,
    Bad,
    After,
}

impl Failover {
    pub fn build(&self) -> Planted {
        let mut j = Jitter::new(self.seed);
        let fault = ms(self.fault);
        let elected = ms(self.fault + self.election);
        let promoted = ms(self.fault + self.election + self.promotion);
        let recovered = ms(self.fault + self.election + self.recovery);
        let end = ms(self.end);
        let pg1_leader_until = match self.double_leader_for {
            Some(d) => elected.plus(Duration::from_millis(d)),
            None => fault,
        };
        let mut events = Vec::new();
        let mut new_leader_seen: Option<At> = None;
        let mut promoted_seen: Option<At> = None;
        let mut full_redundancy_seen: Option<At> = None;
        let mut leader_runs = Vec::new();
        let r = self.replication.as_ref();
        let healed = r
            .and_then(|r| r.heal_after)
            .map(|h| ms(self.fault + self.election + h));
        let constant_from = ms(self.fault.saturating_sub(3 * self.probe_period));
        for (i, node) in ["pg1", "pg2", "pg3"].into_iter().enumerate() {
            let mut t = i as u64 * self.probe_period * MS / 3;
            // the current run of leader samples: first received, last sent, length
            let mut run: Option<(At, At, usize)> = None;
            let mut close = |run: &mut Option<(At, At, usize)>| {
                if let Some((first_received, last_sent, n)) = run.take()
                    && n >= 2
                {
                    leader_runs.push(LeaderRun {
                        node: node.to_string(),
                        first_received,
                        last_sent,
                    });
                }
            };
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
                let timeline = match (node, role) {
                    (_, None) => None,
                    ("pg2", Some(Role::Leader)) if sent >= promoted => Some(2),
                    ("pg1", Some(Role::Replica)) => Some(2),
                    _ => Some(1),
                };
                if node == "pg2" && role == Some(Role::Leader) {
                    new_leader_seen = Some(new_leader_seen.map_or(received, |s| s.min(received)));
                    if timeline == Some(2) {
                        promoted_seen = Some(promoted_seen.map_or(received, |s| s.min(received)));
                    }
                }
                if role == Some(Role::Leader) {
                    let (first, _, n) = run.unwrap_or((received, sent, 0));
                    run = Some((first, sent, n + 1));
                } else {
                    close(&mut run);
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
                                // counted from the first sighting of pg2 leading (received)
                                if sent >= ms(r.full_from(self.fault + self.election))
                                    && new_leader_seen.is_some_and(|seen| sent >= seen)
                                {
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
                        if (node, role) == ("pg1", Role::Leader) {
                            events.push(pg1_replication(r, sent, received, wal, constant));
                        }
                        probe_wal(node, sent, received, role, Some(wal), &streaming)
                    }
                    (Some(_), None) if node == "pg1" => {
                        events.push(pg_role(node, sent, received, None));
                        probe(node, sent, received, role)
                    }
                    _ => probe(node, sent, received, role),
                };
                events.push(with_timeline(event, timeline));
                t += self.probe_period * MS;
            }
            close(&mut run);
        }
        if let Some(h) = healed {
            events.push(heal(0, "pg1", h));
        }

        // The write slots first, then their planted latencies and outcomes.
        let mut slots = Vec::new();
        let mut t = 0;
        while At(t) < end {
            let invoke = At(t + j.range(0, 2 * MS));
            let slot = if invoke < fault {
                Slot::Before
            } else if invoke < recovered {
                Slot::Bad
            } else {
                Slot::After
            };
            slots.push((invoke, slot));
            t += 10 * MS;
        }
        let count = |want: Slot| slots.iter().filter(|(_, s)| *s == want).count() as u64;
        // the after slots but the first, which is the recovery
        let (n_before, n_after) = (count(Slot::Before), count(Slot::After).saturating_sub(1));
        let mut shuffled = |n: u64| {
            let mut ranks: Vec<u64> = (0..n).collect();
            for k in (1..ranks.len()).rev() {
                ranks.swap(k, j.range(0, k as u64) as usize);
            }
            ranks.into_iter()
        };
        let step = |n: u64| 4 * MS / n.max(1);
        let mut before_ranks = shuffled(n_before);
        let mut after_ranks = shuffled(n_after);
        let during_latency = j.range(MS, 5 * MS);

        let mut seq = 0;
        let mut ok_seqs = Vec::new();
        let mut unknown_seqs = Vec::new();
        let mut errors_by_kind = BTreeMap::new();
        let mut writes_per_node = BTreeMap::new();
        let (mut last_ok_before, mut first_bad, mut last_bad_invoke) = (None, None, None);
        let mut first_ok_after: Option<(At, At)> = None;
        let mut pg2_writes = Vec::new();
        for (invoke, slot) in slots {
            seq += 1;
            match slot {
                Slot::Before | Slot::After => {
                    let (node, timeline) = if slot == Slot::Before {
                        ("pg1", 1)
                    } else {
                        ("pg2", 2)
                    };
                    let latency = match slot {
                        Slot::Before => MS + before_ranks.next().unwrap() * step(n_before),
                        _ if first_ok_after.is_none() => during_latency,
                        _ => MS + after_ranks.next().unwrap() * step(n_after),
                    };
                    let complete = At(invoke.0 + latency);
                    events.push(ok(seq, invoke, complete, node, timeline));
                    ok_seqs.push(seq);
                    *writes_per_node.entry(node.to_string()).or_insert(0) += 1;
                    if slot == Slot::Before {
                        last_ok_before = Some((invoke, complete));
                    } else {
                        first_ok_after.get_or_insert((invoke, complete));
                        pg2_writes.push((seq, invoke, complete));
                    }
                }
                Slot::Bad => {
                    let (kind, complete) = if j.next().is_multiple_of(3) {
                        let kinds = [ErrorKind::ConnectionLost, ErrorKind::WriteTimeout];
                        unknown_seqs.push(seq);
                        let kind = kinds[j.range(0, 1) as usize];
                        (kind, At(invoke.0 + j.range(50 * MS, 500 * MS)))
                    } else {
                        let kinds = [
                            ErrorKind::ConnectRefused,
                            ErrorKind::ConnectTimeout,
                            ErrorKind::ConnectFailed,
                            // not `too_many_connecting`: that one is not sent, no failure
                            ErrorKind::ConnectRefused,
                            ErrorKind::ReadOnly,
                            ErrorKind::ServerError,
                        ];
                        let kind = kinds[j.range(0, 5) as usize];
                        (kind, At(invoke.0 + j.range(MS, 3 * MS)))
                    };
                    events.push(not_ok(seq, invoke, complete, kind));
                    *errors_by_kind.entry(kind).or_insert(0) += 1;
                    first_bad.get_or_insert((invoke, complete));
                    last_bad_invoke = Some(invoke);
                }
            }
        }
        events.push(inject(0, "pg1", fault));
        let (last_ok_before_invoke, last_ok_before) =
            last_ok_before.expect("ok writes before the fault");
        let (first_bad_invoke, first_bad_complete) =
            first_bad.expect("failed writes after the fault");
        let last_bad_invoke = last_bad_invoke.expect("failed writes after the fault");
        let (first_ok_after_invoke, first_ok_after) =
            first_ok_after.expect("ok writes after recovery");
        let writes_while_deposed_led = leader_runs
            .iter()
            .filter(|run| run.node == "pg1")
            .flat_map(|run| {
                pg2_writes
                    .iter()
                    .filter(|(_, i, c)| run.covers(*i, *c))
                    .map(|(seq, _, _)| *seq)
            })
            .collect();
        Planted {
            history: history(events),
            fault,
            new_leader_seen: new_leader_seen.expect("pg2 becomes leader before the end"),
            promoted_seen: promoted_seen.expect("pg2 promoted before the end"),
            last_ok_before,
            first_bad_complete,
            first_ok_after,
            rto_resolution: first_bad_invoke
                .since(last_ok_before_invoke)
                .max(first_ok_after_invoke.since(last_bad_invoke)),
            ok_seqs,
            unknown_seqs,
            next_seq: seq + 1,
            errors_by_kind,
            writes_per_node,
            latency_before: spaced_stats(n_before, MS, step(n_before)),
            latency_during: spaced_stats(1, during_latency, 0),
            latency_after: spaced_stats(n_after, MS, step(n_after)),
            leader_runs,
            writes_while_deposed_led,
            lag_at_injection: r
                .map(|r| {
                    BTreeMap::from([
                        ("pg2".to_string(), r.behind[0]),
                        ("pg3".to_string(), r.behind[1]),
                    ])
                })
                .unwrap_or_default(),
            // pg1 is down from the fault: its last answer as a primary, before the fault, is
            // the one the new leader's lag at failover is read from
            lag_at_failover: r.map(|r| r.behind[0]),
            full_redundancy_seen,
        }
    }
}

/// Parameters of a synthetic failover for property tests: every instant lies on a boundary that
/// leaves at least one probe and one write on each side, and the writes go on for more than
/// [`STABLE`](super::rto::STABLE) after the recovery, which confirms it.
pub fn failover_strategy() -> impl proptest::strategy::Strategy<Value = Failover> {
    use proptest::prelude::*;
    (
        any::<u64>(),
        300u64..2_000,
        50u64..3_000,
        0u64..1_000,
        0u64..1_000,
        20u64..150,
    )
        .prop_map(
            |(seed, fault, election, promotion, recovery, probe_period)| Failover {
                seed,
                fault,
                election,
                promotion,
                recovery,
                end: fault + election + recovery.max(promotion) + 3 * probe_period + 5_200,
                probe_period,
                double_leader_for: None,
                replication: None,
            },
        )
}

/// A synthetic failover with WAL positions, replication streams and pg1 restarted (or left
/// down): see [`Replication`].
pub fn replication_strategy() -> impl proptest::strategy::Strategy<Value = Failover> {
    use proptest::prelude::*;
    let lag = 0u64..(16 << 20);
    (
        (any::<u64>(), 300u64..2_000, 0u64..3_000, 20u64..150),
        (0u64..(1 << 40), [lag.clone(), lag.clone()], lag),
        (
            proptest::option::of(0u64..2_000),
            0u64..2_000,
            0u64..2_000,
            0u64..1_000,
        ),
    )
        .prop_map(
            |(
                (seed, fault, election, probe_period),
                (wal, behind, behind_at_election),
                (heal_after, pg3_streams_after, pg1_streams_after, promotion),
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
                    promotion,
                    recovery: 100,
                    end: full.max(fault + election + 100.max(promotion)) + 3 * probe_period + 200,
                    probe_period,
                    double_leader_for: None,
                    replication: Some(replication),
                }
            },
        )
}
