//! The timeline chart of a run, as inline SVG: write outcomes over time, fault windows, each
//! fault's outage (the RTO span), each Patroni node's role as the probes saw it and the
//! scenario's steps, on the run's one clock.
//!
//! The chart is computed first ([`Timeline::of`]) and drawn second ([`Timeline::svg`]). Its size
//! is bounded whatever the run's length: time is cut into at most [`MAX_BUCKETS`] buckets (100 ms,
//! the probes' cadence, or coarser for long runs) and consecutive equal buckets are drawn as one
//! mark.

use super::escape::Esc;
use super::rows::fmt_duration;
use crate::history::{At, Event, FaultAction, Outcome, Role, source_label};
use crate::record::RunRecord;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// At most this many time buckets, whatever the run's length.
pub const MAX_BUCKETS: u64 = 800;

/// Bucket sizes, finest first: the first that fits the run in [`MAX_BUCKETS`] is taken.
const BUCKETS_MS: &[u64] = &[
    100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
    600_000, 1_800_000, 3_600_000,
];

/// Axis tick steps in milliseconds, finest first: the first giving at most [`MAX_TICKS`] ticks.
const TICKS_MS: &[u64] = &[
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];
const MAX_TICKS: u64 = 12;

/// What a node's lane shows in one stretch of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LaneState {
    /// Patroni reported the replica role.
    Replica,
    /// Patroni reported another state (starting, demoting, PostgreSQL stopped...).
    Other,
    /// Patroni did not answer the probe.
    NoAnswer,
    /// Patroni reported the leader role.
    Leader,
}

impl LaneState {
    fn of(role: Option<Role>) -> Self {
        match role {
            Some(Role::Leader) => LaneState::Leader,
            Some(Role::Replica) => LaneState::Replica,
            Some(Role::Other) => LaneState::Other,
            None => LaneState::NoAnswer,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LaneState::Leader => "leader",
            LaneState::Replica => "replica",
            LaneState::Other => "other",
            LaneState::NoAnswer => "no answer",
        }
    }

    fn class(self) -> &'static str {
        match self {
            LaneState::Leader => "leader",
            LaneState::Replica => "replica",
            LaneState::Other => "other",
            LaneState::NoAnswer => "noanswer",
        }
    }
}

/// Consecutive buckets with the same write counts: `[first, first + len)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRun {
    pub first: u64,
    pub len: u64,
    pub ok: u64,
    pub fail: u64,
    pub unknown: u64,
}

impl WriteRun {
    fn total(&self) -> u64 {
        self.ok + self.fail + self.unknown
    }
}

/// A fault from its injection to its heal, or to the end of the chart if it was never healed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultWindow {
    /// The fault's index in the scenario's schedule.
    pub fault: usize,
    pub label: String,
    pub from: At,
    /// The heal's instant; `None`: never healed, the window runs to the chart's end.
    pub healed: Option<At>,
    /// A person healed it (`firedrill heal`, or `down`).
    pub healed_by_hand: bool,
}

/// A note a person wrote during a game day, numbered from 1 in order, at its instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteMark {
    pub number: usize,
    pub at: At,
    pub text: String,
}

/// An arbiter's event that marks a phase of a failover (a Sentinel's `+odown`,
/// `+switch-master`, `+tilt`...), in the events' lane at its instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventMark {
    pub at: At,
    pub from: String,
    pub name: String,
    pub about: Option<String>,
}

/// The events the lane marks: the phases of a failover and what stops one (TILT); the others
/// (hellos, every replica's reconfiguration) stay in run.json.
const MARKED_EVENTS: &[&str] = &[
    "+sdown",
    "-sdown",
    "+odown",
    "-odown",
    "+elected-leader",
    "+promoted-slave",
    "+switch-master",
    "+failover-end",
    "+convert-to-slave",
    "+tilt",
    "-tilt",
];

impl EventMark {
    /// `sentinel2 +odown redis1 at t+12.203s`, for its tooltip and the chart's description.
    fn describe(&self) -> String {
        match &self.about {
            Some(about) => format!("{} {} {about} at {}", self.from, self.name, self.at),
            None => format!("{} {} at {}", self.from, self.name, self.at),
        }
    }

    /// Its colour: the master thought down (amber), the failover's decisions (purple), the new
    /// master in place (green), an arbiter in TILT (red), an alarm withdrawn (grey).
    fn colour(&self) -> &'static str {
        match self.name.as_str() {
            "+sdown" | "+odown" => UNKNOWN,
            "+elected-leader" | "+promoted-slave" => FAULT,
            "+switch-master" | "+failover-end" | "+convert-to-slave" => STEP_DONE,
            "+tilt" => FAIL,
            _ => "#969696",
        }
    }
}

impl NoteMark {
    /// `note 1 at t+12.345s: app showed 502s`, for its tooltip and the chart's description.
    fn describe(&self) -> String {
        format!("note {} at {}: {}", self.number, self.at, self.text)
    }
}

/// A fault's outage: the end of the last ok write before it to the end of the first ok write
/// after which writes kept succeeding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutageSpan {
    pub fault: usize,
    pub from: At,
    /// `None`: writes never recovered, or their recovery was not confirmed (`unconfirmed`);
    /// the span runs to the chart's end, or to the unconfirmed recovery.
    pub recovered: Option<At>,
    /// The end of the first ok write after the outage when the recovery was not confirmed (the
    /// writes ended less than 5 s after it): the span runs there, drawn dashed, and the RTO is
    /// not measured.
    pub unconfirmed: Option<At>,
    pub rto: Option<Duration>,
}

impl OutageSpan {
    /// "RTO 2.100s", "RTO unconfirmed" or "writes never recovered".
    fn value(&self) -> String {
        match (self.recovered, self.rto, self.unconfirmed) {
            (Some(_), Some(rto), _) => format!("RTO {}", fmt_duration(rto)),
            (_, _, Some(_)) => "RTO unconfirmed".to_string(),
            _ => "writes never recovered".to_string(),
        }
    }

    /// The value with, for an unconfirmed recovery, why.
    fn explained(&self) -> String {
        match (self.rto, self.unconfirmed) {
            (None, Some(_)) => format!(
                "{} (the writes ended less than {} after the recovery)",
                self.value(),
                super::rows::stable_words()
            ),
            _ => self.value(),
        }
    }

    /// Where the span ends: the recovery, confirmed or not; `None`: the chart's end.
    fn to(&self) -> Option<At> {
        self.recovered.or(self.unconfirmed)
    }
}

/// One stretch of a node's lane: buckets `[first, end)` in one state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub first: u64,
    pub end: u64,
    pub state: LaneState,
}

/// Where an outage is drawn.
#[derive(Clone, Debug, PartialEq)]
struct OutageMark {
    x1: f64,
    x2: f64,
    text: String,
    anchor: &'static str,
    tx: f64,
    /// The label sits above the span's line, inside the span.
    above: bool,
    row: usize,
}

/// One node's lane, from its self reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLane {
    pub node: String,
    pub segments: Vec<Segment>,
}

/// One stretch of the virtual IP's lane: buckets `[first, end)` in which the same nodes said
/// they held it (none, one, or several: two holders is a split brain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolderSegment {
    pub first: u64,
    pub end: u64,
    pub holders: Vec<String>,
}

impl HolderSegment {
    fn name(&self) -> String {
        match self.holders.as_slice() {
            [] => "no holder".to_owned(),
            [one] => one.clone(),
            [_, _] => format!("{} (two holders)", self.holders.join(" + ")),
            several => format!("{} ({} holders)", several.join(" + "), several.len()),
        }
    }

    fn fill(&self) -> &'static str {
        match self.holders.len() {
            0 => NO_HOLDER,
            1 => state_fill(LaneState::Leader),
            _ => FAIL,
        }
    }
}

/// Who held the virtual IP over the run, from each node's own answers on holding it (the pair
/// stack): a node holds it in a bucket if any of its answers there said so (the most telling,
/// as on the role lanes), a bucket without a report keeps the one before up to the node's last
/// report, and a report without an answer counts the node no holder.
fn holder_lane(record: &RunRecord, buckets: u64, index: impl Fn(At) -> u64) -> Vec<HolderSegment> {
    let mut per_node: BTreeMap<(String, u64, String), Vec<Option<bool>>> = BTreeMap::new();
    // any holding answer in a bucket counts, so the reports' order does not matter
    for r in record.history.address_reports() {
        let lane = per_node
            .entry(natural_key(&r.asked))
            .or_insert_with(|| vec![None; buckets as usize]);
        // a node that does not answer (killed, paused) is not counted a holder: only its own
        // answer says it holds the address
        let slot = &mut lane[index(r.sent) as usize];
        *slot = Some(slot.unwrap_or(false) || r.is_leader());
    }
    let last: Vec<usize> = per_node
        .values()
        .map(|states| states.iter().rposition(Option::is_some).unwrap_or(0))
        .collect();
    let mut held: Vec<Option<bool>> = vec![None; per_node.len()];
    let mut segments: Vec<HolderSegment> = Vec::new();
    let mut seen = false;
    for i in 0..buckets {
        for (k, states) in per_node.values().enumerate() {
            if let Some(state) = states[i as usize] {
                held[k] = Some(state);
                seen = true;
            } else if i as usize > last[k] {
                // the carried state stops at the node's last report
                held[k] = None;
            }
        }
        // before the first report and after every node's last, the lane shows nothing
        if !seen || held.iter().all(Option::is_none) {
            continue;
        }
        let holders: Vec<String> = per_node
            .keys()
            .zip(&held)
            .filter(|(_, h)| **h == Some(true))
            .map(|((_, _, node), _)| node.clone())
            .collect();
        match segments.last_mut() {
            Some(last) if last.holders == holders => last.end = i + 1,
            _ => segments.push(HolderSegment {
                first: i,
                end: i + 1,
                holders,
            }),
        }
    }
    segments
}

/// What a pooler's lane shows in one stretch of time: the most server connections active
/// (linked to a client) any answer sent in it reported, against the pool size, and the most
/// clients waiting; or that no answer came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolUse {
    Answered {
        active: u64,
        /// 0: not reported.
        pool_size: u64,
        waiting: u64,
    },
    NoAnswer,
}

impl PoolUse {
    /// The runbook's alert condition: over 90 % of a known pool size in use.
    fn saturated(self) -> bool {
        matches!(self, PoolUse::Answered { active, pool_size, .. }
            if crate::check::over_alert(active, pool_size))
    }

    /// The more telling of two answers in one bucket: the most in use and the most waiting;
    /// any answer over none.
    fn max(self, other: PoolUse) -> PoolUse {
        match (self, other) {
            (
                PoolUse::Answered {
                    active: a1,
                    pool_size: s1,
                    waiting: w1,
                },
                PoolUse::Answered {
                    active: a2,
                    pool_size: s2,
                    waiting: w2,
                },
            ) => PoolUse::Answered {
                active: a1.max(a2),
                pool_size: s1.max(s2),
                waiting: w1.max(w2),
            },
            (PoolUse::NoAnswer, other) | (other, PoolUse::NoAnswer) => other,
        }
    }
}

/// One stretch of a pooler's lane: buckets `[first, end)` showing one use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSegment {
    pub first: u64,
    pub end: u64,
    pub pool_use: PoolUse,
}

/// One pooler's lane, from its samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolLane {
    pub pooler: String,
    /// The node its server connections go to.
    pub server: String,
    pub segments: Vec<PoolSegment>,
}

/// A step of the scenario: when it was due, when it ran, how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepMark {
    pub step: usize,
    pub action: String,
    pub due: At,
    pub started: At,
    pub ended: At,
    /// Why it failed; `None`: done.
    pub failed: Option<String>,
}

impl StepMark {
    /// `1 target: done`, the label drawn beside it.
    fn label(&self) -> String {
        let outcome = if self.failed.is_some() {
            "failed"
        } else {
            "done"
        };
        format!("{} {}: {outcome}", self.step, self.action)
    }

    /// Everything about it, for its tooltip and the chart's description.
    fn describe(&self) -> String {
        let mut text = format!(
            "step {} {}: {}",
            self.step,
            self.action,
            match &self.failed {
                None => "done".to_string(),
                Some(reason) => format!("failed ({reason})"),
            }
        );
        text.push_str(&format!(
            ", due at {}, ran from {} to {} ({})",
            self.due,
            self.started,
            self.ended,
            fmt_duration(self.ended.since(self.started))
        ));
        text
    }
}

/// The restore's phases, each ended at an instant: the restore lane, from the cluster's loss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreLane {
    /// The restored node.
    pub node: String,
    /// The cluster lost (the lose-cluster step's start): the first phase's start.
    pub lost: At,
    /// Each phase measured and the instant it ended, in order of instant (a phase whose
    /// evidence is missing is left out, and the next one starts where the last shown ended).
    pub phases: Vec<(At, &'static str)>,
}

impl RestoreLane {
    /// From the record's restore measurements; `None` when no restore completed (the steps'
    /// lane shows a failed one) or no phase was measured.
    fn of(record: &RunRecord) -> Option<RestoreLane> {
        let r = record.measurements.restore.as_ref()?;
        let lost = r.lost_at?;
        if !r.completed {
            return None;
        }
        let p = &r.phases;
        let after = |d: Option<Duration>| d.map(|d| lost.plus(d));
        let files = match (p.restore_began, p.restore_command) {
            (Some(began), Some(took)) => Some(lost.plus(began + took)),
            _ => None,
        };
        let mut phases: Vec<(At, &'static str)> = [
            (after(p.restore_began), "cluster lost, restore started"),
            (files, "files restored (pgBackRest)"),
            (after(p.target_reached), "WAL replayed to the target"),
            (after(p.promoted), "promoted"),
            (after(p.leader_key), "leader key held"),
            (after(p.proxy_routing), "HAProxy routes to it"),
            (after(r.restore_time), "first write acknowledged"),
            (after(p.full_redundancy), "every replica streaming"),
        ]
        .into_iter()
        .filter_map(|(at, name)| Some((at?, name)))
        .collect();
        // stable: phases at one instant keep their order above
        phases.sort_by_key(|(at, _)| *at);
        (!phases.is_empty()).then(|| RestoreLane {
            node: r.node.clone().unwrap_or_else(|| "the restored node".into()),
            lost,
            phases,
        })
    }

    /// Each phase's span, numbered from 1: (number, from, to, name).
    fn spans(&self) -> impl Iterator<Item = (usize, At, At, &'static str)> + '_ {
        let starts = std::iter::once(self.lost).chain(self.phases.iter().map(|(at, _)| *at));
        starts
            .zip(&self.phases)
            .enumerate()
            .map(|(k, (from, (to, name)))| (k + 1, from, *to, *name))
    }

    /// The lane's key, for the chart's caption: each phase's number, name and length.
    pub fn key(&self) -> String {
        let phases: Vec<String> = self
            .spans()
            .map(|(n, from, to, name)| format!("{n} {name} ({})", fmt_duration(to.since(from))))
            .collect();
        format!(
            "Restore lane: the restore on {}, each phase a bar from the end of the one before \
             (the first from the cluster's loss) to its own end, numbered below: {}.",
            self.node,
            phases.join("; ")
        )
    }

    /// One per phase, for its tooltip and the chart's description.
    fn describe(&self) -> Vec<String> {
        self.spans()
            .map(|(n, from, to, name)| {
                format!(
                    "restore phase {n} on {}: {name}, from {from} to {to} ({})",
                    self.node,
                    fmt_duration(to.since(from))
                )
            })
            .collect()
    }
}

/// The chart's content, computed from a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub bucket: Duration,
    /// Number of buckets: the chart spans `buckets * bucket` from the workload's start.
    pub buckets: u64,
    pub writes: Vec<WriteRun>,
    pub faults: Vec<FaultWindow>,
    pub outages: Vec<OutageSpan>,
    pub nodes: Vec<NodeLane>,
    /// The sources of the lanes' self reports (`patroni`), in order of first appearance.
    pub role_sources: Vec<String>,
    /// One lane per pooler sampled, below the nodes' lanes; none without poolers.
    pub pools: Vec<PoolLane>,
    /// The scenario's steps, in a lane of their own at the bottom; none without steps.
    pub steps: Vec<StepMark>,
    /// The restore's phases, in a lane below the steps'; none without a completed restore.
    pub restore: Option<RestoreLane>,
    /// The notes of a game day, marked along the top; none in a scripted run.
    pub notes: Vec<NoteMark>,
    /// Who held the virtual IP, in a lane below the nodes'; empty without one.
    pub holders: Vec<HolderSegment>,
    /// The arbiters' events marking a failover's phases (Sentinel's), in a lane below the
    /// virtual IP's; empty without arbiters.
    pub events: Vec<EventMark>,
}

/// The latest instant the history mentions.
fn last_instant(record: &RunRecord) -> At {
    record
        .history
        .events
        .iter()
        .map(|e| match e {
            Event::Write(w) => w.complete.max(w.invoke),
            Event::Read(r) => r.complete.max(r.invoke),
            Event::Fault(f) => f.done.max(f.at),
            Event::Role(r) => r.received.max(r.sent),
            Event::Proxy(p) => p.received.max(p.sent),
            Event::Replication(r) => r.received.max(r.sent),
            Event::Pool(p) => p.received.max(p.sent),
            Event::ReadBack(r) => r.at,
            Event::Step(s) => s.ended.max(s.started),
            Event::Note(n) => n.at,
            Event::Announcement(a) => a.at,
        })
        .max()
        .unwrap_or(At(0))
}

/// Each pooler's lane: per bucket, the most telling use its samples sent in it showed (see
/// [`PoolUse::max`]); a bucket without a sample between two that have one keeps the use before
/// it, up to the pooler's last sample.
fn pool_lanes(record: &RunRecord, buckets: u64, index: impl Fn(At) -> u64) -> Vec<PoolLane> {
    // by natural name: the server node and the use per bucket
    type Uses = (String, Vec<Option<PoolUse>>);
    let mut per_pooler: BTreeMap<(String, u64, String), Uses> = BTreeMap::new();
    for p in record.history.pool_samples() {
        let (_, lane) = per_pooler
            .entry(natural_key(&p.pooler))
            .or_insert_with(|| (p.server.clone(), vec![None; buckets as usize]));
        let pool_use = match &p.error {
            Some(_) => PoolUse::NoAnswer,
            None => PoolUse::Answered {
                active: p.active(),
                pool_size: p.pool_size,
                waiting: p.waiting(),
            },
        };
        let slot = &mut lane[index(p.sent) as usize];
        *slot = Some(slot.map_or(pool_use, |u| u.max(pool_use)));
    }
    per_pooler
        .into_iter()
        .map(|((_, _, pooler), (server, uses))| {
            let last = uses.iter().rposition(Option::is_some).unwrap_or(0) as u64;
            let mut segments: Vec<PoolSegment> = Vec::new();
            for (i, u) in uses.iter().enumerate().take(last as usize + 1) {
                let i = i as u64;
                match (u, segments.last_mut()) {
                    (Some(u), Some(seg)) if seg.pool_use == *u => seg.end = i + 1,
                    (None, Some(seg)) => seg.end = i + 1,
                    (Some(u), _) => segments.push(PoolSegment {
                        first: i,
                        end: i + 1,
                        pool_use: *u,
                    }),
                    (None, None) => {}
                }
            }
            PoolLane {
                pooler,
                server,
                segments,
            }
        })
        .collect()
}

/// Node names in natural order: `pg2` before `pg10`.
fn natural_key(name: &str) -> (String, u64, String) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = name.split_at(name.len() - digits);
    (
        stem.to_string(),
        number.parse().unwrap_or(0),
        name.to_string(),
    )
}

impl Timeline {
    pub fn of(record: &RunRecord) -> Timeline {
        let end = last_instant(record);
        let bucket_ms = BUCKETS_MS
            .iter()
            .copied()
            .find(|&ms| end.0.div_ceil(ms * 1_000_000) <= MAX_BUCKETS)
            .unwrap_or(*BUCKETS_MS.last().unwrap_or(&100));
        let bucket_ns = bucket_ms * 1_000_000;
        // at least one bucket; an instant exactly at the end falls in the last one
        let buckets = end.0.div_ceil(bucket_ns).max(1);
        let index = |at: At| (at.0 / bucket_ns).min(buckets - 1);

        let mut counts = vec![[0u64; 3]; buckets as usize];
        // attempts the harness never sent are not the system's answers: not plotted
        for w in record.history.writes().filter(|w| !w.not_sent()) {
            let slot = match w.outcome {
                Outcome::Ok => 0,
                Outcome::Fail => 1,
                Outcome::Unknown => 2,
                Outcome::NotSent => continue,
            };
            counts[index(w.invoke) as usize][slot] += 1;
        }
        let mut writes: Vec<WriteRun> = Vec::new();
        for (i, c) in counts.iter().enumerate() {
            if c.iter().all(|&n| n == 0) {
                continue;
            }
            match writes.last_mut() {
                Some(run)
                    if run.first + run.len == i as u64 && [run.ok, run.fail, run.unknown] == *c =>
                {
                    run.len += 1
                }
                _ => writes.push(WriteRun {
                    first: i as u64,
                    len: 1,
                    ok: c[0],
                    fail: c[1],
                    unknown: c[2],
                }),
            }
        }

        let fault_events: Vec<_> = record.history.faults().collect();
        let faults = fault_events
            .iter()
            .filter(|f| f.action == FaultAction::Inject)
            .map(|f| {
                let heal = fault_events
                    .iter()
                    .find(|h| h.action == FaultAction::Heal && h.fault == f.fault && h.at >= f.at);
                let nodes = if f.nodes.is_empty() {
                    f.node.clone()
                } else {
                    f.nodes.join(", ")
                };
                FaultWindow {
                    fault: f.fault,
                    label: format!(
                        "fault {}: {} of {nodes}{}",
                        f.fault + 1,
                        f.kind,
                        if f.by_hand { " by hand" } else { "" }
                    ),
                    from: f.at,
                    healed: heal.map(|h| h.at),
                    healed_by_hand: heal.is_some_and(|h| h.by_hand),
                }
            })
            .collect();

        let outages = record
            .measurements
            .faults
            .iter()
            .filter_map(|f| {
                Some(OutageSpan {
                    fault: f.fault,
                    from: f.outage_start?,
                    recovered: f.recovered_at,
                    unconfirmed: f.unconfirmed_recovery.map(|u| u.recovered_at),
                    rto: f.rto,
                })
            })
            .collect();

        // each bucket of a node: the most telling state any of its probes sent in it reported
        // (leader, then no answer, then other, then replica); a bucket without a probe between
        // two that have one keeps the state before it
        let mut per_node: BTreeMap<(String, u64, String), Vec<Option<LaneState>>> = BTreeMap::new();
        let mut role_sources: Vec<String> = Vec::new();
        for p in record.history.self_reports() {
            if !role_sources.contains(&p.source) {
                role_sources.push(p.source.clone());
            }
            let lane = per_node
                .entry(natural_key(&p.asked))
                .or_insert_with(|| vec![None; buckets as usize]);
            let slot = &mut lane[index(p.sent) as usize];
            let state = LaneState::of(p.role);
            *slot = Some(slot.map_or(state, |s| s.max(state)));
        }
        let nodes = per_node
            .into_iter()
            .map(|((_, _, node), states)| {
                let mut segments: Vec<Segment> = Vec::new();
                for (i, state) in states.iter().enumerate() {
                    let i = i as u64;
                    match (state, segments.last_mut()) {
                        (Some(s), Some(last)) if last.state == *s => last.end = i + 1,
                        (None, Some(last)) => last.end = i + 1,
                        (Some(s), _) => segments.push(Segment {
                            first: i,
                            end: i + 1,
                            state: *s,
                        }),
                        (None, None) => {}
                    }
                }
                // the carried state stops at the node's last probe
                let last_probed = states.iter().rposition(Option::is_some).map(|i| i as u64);
                if let (Some(last), Some(seg)) = (last_probed, segments.last_mut()) {
                    seg.end = last + 1;
                }
                NodeLane { node, segments }
            })
            .collect();

        Timeline {
            bucket: Duration::from_millis(bucket_ms),
            buckets,
            writes,
            faults,
            outages,
            nodes,
            role_sources,
            pools: pool_lanes(record, buckets, index),
            holders: holder_lane(record, buckets, index),
            steps: record
                .history
                .steps()
                .map(|s| StepMark {
                    step: s.step,
                    action: s.action.clone(),
                    due: s.at,
                    started: s.started,
                    ended: s.ended,
                    failed: s.failure().map(str::to_owned),
                })
                .collect(),
            restore: RestoreLane::of(record),
            events: record
                .history
                .announcements()
                .filter(|a| MARKED_EVENTS.contains(&a.name.as_str()))
                // a Sentinel's alarms about itself or another Sentinel are not the failover's
                .filter(|a| a.about_role.as_deref() != Some("sentinel"))
                .map(|a| EventMark {
                    at: a.at,
                    from: a.from.clone(),
                    name: a.name.clone(),
                    about: a.about.clone(),
                })
                .collect(),
            notes: record
                .history
                .notes()
                .enumerate()
                .map(|(k, n)| NoteMark {
                    number: k + 1,
                    at: n.at,
                    text: n.text.clone(),
                })
                .collect(),
        }
    }

    /// What the lanes show: "Patroni role", from the sources of their self reports; "role"
    /// when there is none.
    pub fn role_title(&self) -> String {
        let labels: Vec<&str> = self.role_sources.iter().map(|s| source_label(s)).collect();
        match labels.join("/") {
            none if none.is_empty() => "role".to_string(),
            sources => format!("{sources} role"),
        }
    }

    /// The bucket's length in words: `100 ms`, `15 s`.
    pub fn bucket_label(&self) -> String {
        match self.bucket.as_millis() {
            ms if ms < 1_000 => format!("{ms} ms"),
            ms => format!("{} s", ms / 1_000),
        }
    }

    fn bucket_ns(&self) -> u64 {
        self.bucket.as_nanos() as u64
    }

    /// The chart's end, from the workload's start.
    pub fn end(&self) -> At {
        At(self.buckets * self.bucket_ns())
    }
}

// Geometry, in SVG user units.
const WIDTH: f64 = 960.0;
const LEFT: f64 = 104.0;
const RIGHT: f64 = 24.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;
const TOP: f64 = 6.0;
const LABEL_ROW: f64 = 14.0;
const WRITES_H: f64 = 56.0;
const RTO_H: f64 = 24.0;
const NODE_H: f64 = 16.0;
const NODE_GAP: f64 = 6.0;
const POOL_H: f64 = 20.0;
const STEP_H: f64 = 16.0;
/// A row of step labels below the steps' lane.
const STEP_LABEL_ROW: f64 = 13.0;
/// The row of note marks along the top, in a game day.
const NOTE_ROW: f64 = 16.0;
const AXIS_H: f64 = 24.0;
const LEGEND_ROW: f64 = 18.0;

/// Colours: each series differs from its neighbours in lightness too, so the chart reads in
/// grey (printed) and for colour-blind readers; text labels say the same again.
const OK: &str = "#a6dba0";
const FAIL: &str = "#a50f15";
const UNKNOWN: &str = "#fd8d3c";
const FAULT: &str = "#6a3d9a";
const FAULT_OPACITY: f64 = 0.16;
/// `FAULT` at `FAULT_OPACITY` over white, for the legend.
const FAULT_SWATCH: &str = "#e7e0ef";
const RTO: &str = "#111111";
/// A pooler's lane: server connections in use, in use over the alert's 90 %, clients waiting.
const POOL_USE: &str = "#4292c6";
const POOL_SATURATED: &str = "#a50f15";
const POOL_WAITING: &str = "#fd8d3c";
/// A step that completed, one that failed (the failed writes' colour).
const STEP_DONE: &str = "#238b45";
const STEP_FAILED: &str = FAIL;
/// The restore's phases, alternating: light and dark blue, apart in lightness too.
const RESTORE_PHASE: [&str; 2] = ["#9ecae1", "#3182bd"];
/// A note's mark and its line down the chart: dark teal, apart from the faults' purple and the
/// leader's navy.
const NOTE: &str = "#01665e";
/// The virtual IP's lane where nobody holds it.
const NO_HOLDER: &str = "#f0f0f0";

fn state_fill(state: LaneState) -> &'static str {
    match state {
        LaneState::Leader => "#08306b",
        LaneState::NoAnswer => "#d94801",
        LaneState::Other => "#969696",
        LaneState::Replica => "#c6dbef",
    }
}

/// Text drawn on a lane segment of this state: light on the dark ones.
fn state_text(state: LaneState) -> &'static str {
    match state {
        LaneState::Leader | LaneState::NoAnswer => "#ffffff",
        LaneState::Other | LaneState::Replica => "#000000",
    }
}

/// `12.5s`, `10s`, `0.1s`: an axis label or a short instant.
fn secs(ns: u64) -> String {
    let ms = ns / 1_000_000;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        let text = format!("{:.3}", ms as f64 / 1000.0);
        format!("{}s", text.trim_end_matches('0'))
    }
}

impl Timeline {
    fn x(&self, at: At) -> f64 {
        let end = self.end().0.max(1) as f64;
        LEFT + PLOT * (at.0.min(self.end().0) as f64 / end)
    }

    fn bucket_x(&self, bucket: u64) -> f64 {
        self.x(At(bucket * self.bucket_ns()))
    }

    fn label_rows(&self) -> usize {
        self.faults.len().clamp(1, 2)
    }

    /// Rows of step labels: two when there are several, so that neighbours do not overlap.
    fn step_label_rows(&self) -> usize {
        self.steps.len().min(2)
    }

    /// The height of the steps' lane with its labels; 0 without steps.
    fn steps_height(&self) -> f64 {
        if self.steps.is_empty() {
            return 0.0;
        }
        STEP_H + STEP_LABEL_ROW * self.step_label_rows() as f64 + NODE_GAP
    }

    /// The height of the restore's lane with its two rows of phase numbers; 0 without it.
    fn restore_height(&self) -> f64 {
        match self.restore {
            None => 0.0,
            Some(_) => STEP_H + STEP_LABEL_ROW * 2.0 + NODE_GAP,
        }
    }

    /// The height of the virtual IP's lane; 0 without one.
    fn holders_height(&self) -> f64 {
        if self.holders.is_empty() {
            0.0
        } else {
            NODE_H + NODE_GAP
        }
    }

    /// The height of the events' lane; 0 without arbiters' events.
    fn events_height(&self) -> f64 {
        if self.events.is_empty() {
            0.0
        } else {
            NODE_H + NODE_GAP
        }
    }

    /// The height of the notes' row; 0 without notes.
    fn notes_height(&self) -> f64 {
        if self.notes.is_empty() { 0.0 } else { NOTE_ROW }
    }

    /// The chart as an `<svg>` element for inline use in HTML (no `xmlns` needed there).
    pub fn svg(&self) -> String {
        let mut s = String::new();
        let notes_y = TOP;
        let labels_y = notes_y + self.notes_height();
        let writes_y = labels_y + LABEL_ROW * self.label_rows() as f64 + 4.0;
        let rto_y = writes_y + WRITES_H + 4.0;
        let marks = self.outage_marks();
        let rto_rows = marks.iter().map(|m| m.row + 1).max().unwrap_or(1);
        let nodes_y = rto_y + RTO_H * rto_rows as f64 + 4.0;
        let holders_y = nodes_y + (NODE_H + NODE_GAP) * self.nodes.len() as f64;
        let events_y = holders_y + self.holders_height();
        let pools_y = events_y + self.events_height();
        let steps_y = pools_y + (POOL_H + NODE_GAP) * self.pools.len() as f64;
        let restore_y = steps_y + self.steps_height();
        let plot_bottom = restore_y + self.restore_height();
        let axis_y = plot_bottom;
        let legend_y = axis_y + AXIS_H + 4.0;
        let legend_rows = 2.0
            + f64::from(u8::from(!self.holders.is_empty()))
            + f64::from(u8::from(!self.events.is_empty()))
            + f64::from(u8::from(!self.pools.is_empty()))
            + f64::from(u8::from(!self.steps.is_empty()))
            + f64::from(u8::from(self.restore.is_some()))
            + f64::from(u8::from(!self.notes.is_empty()));
        let height = legend_y + legend_rows * LEGEND_ROW + 4.0;

        let _ = writeln!(
            s,
            "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" role=\"img\" \
             aria-labelledby=\"timeline-title timeline-desc\" font-family=\"system-ui, sans-serif\" \
             font-size=\"11\">"
        );
        let _ = writeln!(
            s,
            "<title id=\"timeline-title\">Timeline of the run, t+0s to t+{}</title>",
            secs(self.end().0)
        );
        let _ = writeln!(
            s,
            "<desc id=\"timeline-desc\">{}</desc>",
            Esc(&self.describe())
        );

        // axis grid first, under everything
        let tick = TICKS_MS
            .iter()
            .map(|ms| ms * 1_000_000)
            .find(|&ns| self.end().0 / ns <= MAX_TICKS)
            .unwrap_or(86_400_000_000_000);
        let _ = writeln!(s, "<g class=\"axis\" aria-hidden=\"true\">");
        let mut t = 0;
        while t <= self.end().0 {
            let x = self.x(At(t));
            let _ = writeln!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{writes_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#dddddd\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                axis_y + 4.0,
                axis_y + 16.0,
                secs(t)
            );
            t += tick;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">run time</text></g>",
            LEFT - 16.0,
            axis_y + 16.0
        );

        // lane labels
        let _ = writeln!(s, "<g class=\"lane-labels\" text-anchor=\"end\">");
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">writes</text><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555555\">per {}</text>",
            LEFT - 8.0,
            writes_y + WRITES_H / 2.0 - 4.0,
            LEFT - 8.0,
            writes_y + WRITES_H / 2.0 + 9.0,
            self.bucket_label(),
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">write outage</text>",
            LEFT - 8.0,
            rto_y + RTO_H / 2.0 + 4.0
        );
        for (k, lane) in self.nodes.iter().enumerate() {
            let y = nodes_y + (NODE_H + NODE_GAP) * k as f64;
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LEFT - 8.0,
                y + NODE_H / 2.0 + 4.0,
                Esc(&lane.node)
            );
        }
        if !self.holders.is_empty() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">virtual IP</text>",
                LEFT - 8.0,
                holders_y + NODE_H / 2.0 + 4.0,
            );
        }
        if !self.events.is_empty() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">Sentinel events</text>",
                LEFT - 8.0,
                events_y + NODE_H / 2.0 + 4.0,
            );
        }
        for (k, lane) in self.pools.iter().enumerate() {
            let y = pools_y + (POOL_H + NODE_GAP) * k as f64;
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LEFT - 8.0,
                y + POOL_H / 2.0 + 4.0,
                Esc(&lane.pooler)
            );
        }
        if !self.steps.is_empty() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">steps</text>",
                LEFT - 8.0,
                steps_y + STEP_H / 2.0 + 4.0,
            );
        }
        if self.restore.is_some() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">restore</text>",
                LEFT - 8.0,
                restore_y + STEP_H / 2.0 + 4.0,
            );
        }
        let _ = writeln!(s, "</g>");

        // the faults' shading and edges under the lanes, so that they hide no data
        self.draw_fault_windows(&mut s, labels_y, nodes_y - 2.0);
        self.draw_fault_edges(&mut s, labels_y, plot_bottom);
        self.draw_writes(&mut s, writes_y);
        self.draw_nodes(&mut s, nodes_y);
        self.draw_holders(&mut s, holders_y);
        self.draw_events(&mut s, events_y);
        self.draw_pools(&mut s, pools_y);
        self.draw_steps(&mut s, steps_y);
        self.draw_restore(&mut s, restore_y);
        self.draw_outages(&mut s, &marks, rto_y);
        self.draw_notes(&mut s, notes_y, plot_bottom);
        self.draw_legend(&mut s, legend_y);
        s.push_str("</svg>\n");
        s
    }

    /// The chart in words, for screen readers (the SVG's `<desc>`).
    fn describe(&self) -> String {
        let mut text = format!(
            "Write attempts per {} by outcome (ok, failed, unknown)",
            self.bucket_label()
        );
        for f in &self.faults {
            text.push_str(&format!(
                "; {} from {}{}",
                f.label,
                f.from,
                match (f.healed, f.healed_by_hand) {
                    (None, _) => ", never healed".to_string(),
                    (Some(h), false) => format!(" to {h}"),
                    (Some(h), true) => format!(" to {h} (healed by hand)"),
                }
            ));
        }
        for o in &self.outages {
            text.push_str(&format!(
                "; fault {} write outage from {}{}",
                o.fault + 1,
                o.from,
                match (o.recovered, o.rto, o.unconfirmed) {
                    (Some(r), Some(rto), _) => format!(" to {r} (RTO {})", fmt_duration(rto)),
                    (_, _, Some(u)) => format!(
                        " to {u} (recovery unconfirmed: the writes ended less than {} after it)",
                        super::rows::stable_words()
                    ),
                    _ => ", writes never recovered".to_string(),
                }
            ));
        }
        if !self.nodes.is_empty() {
            text.push_str(&format!(
                "; {} of {} as probed",
                self.role_title(),
                self.nodes
                    .iter()
                    .map(|n| n.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.holders.is_empty() {
            let stretches: Vec<String> = self
                .holders
                .iter()
                .map(|h| format!("{} from {}", h.name(), At(h.first * self.bucket_ns())))
                .collect();
            text.push_str(&format!(
                "; the virtual IP's holder: {}",
                stretches.join(", ")
            ));
        }
        if !self.pools.is_empty() {
            text.push_str(&format!(
                "; pool use of {} (server connections active against the pool size, clients \
                 waiting)",
                self.pools
                    .iter()
                    .map(|p| p.pooler.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for step in &self.steps {
            text.push_str(&format!("; {}", step.describe()));
        }
        for phase in self.restore.iter().flat_map(RestoreLane::describe) {
            text.push_str(&format!("; {phase}"));
        }
        // the first of each kind of event: the phases, not every Sentinel's copy of them
        let mut told = std::collections::BTreeSet::new();
        for mark in &self.events {
            if told.insert(mark.name.as_str()) {
                text.push_str(&format!("; first {}", mark.describe()));
            }
        }
        for note in &self.notes {
            text.push_str(&format!("; {}", note.describe()));
        }
        text.push('.');
        text
    }

    /// Each note of a game day: a numbered mark in the top row at its instant and a dotted
    /// line from it down the chart, its text in its tooltip. Drawn over the lanes, so that a
    /// note is seen against what the lanes showed then.
    fn draw_notes(&self, s: &mut String, y: f64, bottom: f64) {
        for note in &self.notes {
            let x = self.x(note.at);
            let number = note.number.to_string();
            // wide enough for its number, centred on the instant
            let w = 6.0 * number.len() as f64 + 6.0;
            let _ = writeln!(
                s,
                "<g class=\"note\" data-note=\"{}\"><title>{}</title>\
                 <line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"{NOTE}\" stroke-width=\"1\" stroke-dasharray=\"1 2\"/>\
                 <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"{NOTE}\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#ffffff\" text-anchor=\"middle\" font-size=\"10\" font-weight=\"bold\">{number}</text></g>",
                note.number,
                Esc(&note.describe()),
                y + NOTE_ROW - 3.0,
                x - w / 2.0,
                y,
                NOTE_ROW - 3.0,
                y + NOTE_ROW - 6.0,
            );
        }
    }

    /// The steps' lane: each step a bar from its start to its end (at least 2 units wide, so
    /// that a step of a few milliseconds shows), green when done, red when failed, with a thin
    /// line from when it was due when it started late, and its label below it.
    fn draw_steps(&self, s: &mut String, y: f64) {
        if self.steps.is_empty() {
            return;
        }
        let _ = writeln!(
            s,
            "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{PLOT}\" height=\"{STEP_H}\" fill=\"#f4f4f4\"/>"
        );
        let rows = self.step_label_rows();
        for (k, step) in self.steps.iter().enumerate() {
            let x1 = self.x(step.started);
            let w = (self.x(step.ended) - x1).max(2.0);
            let (class, fill) = match step.failed {
                None => ("done", STEP_DONE),
                Some(_) => ("failed", STEP_FAILED),
            };
            let mid = y + STEP_H / 2.0;
            let late = if step.started.since(step.due) >= self.bucket {
                format!(
                    "<line x1=\"{:.1}\" y1=\"{mid:.1}\" x2=\"{x1:.1}\" y2=\"{mid:.1}\" stroke=\"{fill}\" stroke-dasharray=\"2 2\"/>",
                    self.x(step.due)
                )
            } else {
                String::new()
            };
            // labels near the right edge end at their step, so that they stay in the chart
            let label_y = y + STEP_H + STEP_LABEL_ROW * (k % rows) as f64 + 10.0;
            let (anchor, lx) = if x1 > LEFT + PLOT * 0.75 {
                ("end", x1 + w)
            } else {
                ("start", x1)
            };
            let _ = writeln!(
                s,
                "<g class=\"step\" data-step=\"{}\"><title>{}</title>{late}\
                 <rect class=\"{class}\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>\
                 <text x=\"{lx:.1}\" y=\"{label_y:.1}\" fill=\"{fill}\" text-anchor=\"{anchor}\" font-size=\"10\">{}</text></g>",
                step.step,
                Esc(&step.describe()),
                y + 2.0,
                STEP_H - 4.0,
                Esc(&step.label()),
            );
        }
    }

    /// The restore's lane: each phase a bar from the end of the one before (the first from the
    /// cluster's loss) to its own end, in two alternating shades so that neighbours part, its
    /// number below it (two rows: phases a few milliseconds apart would overlap in one), its
    /// name and span in its tooltip.
    fn draw_restore(&self, s: &mut String, y: f64) {
        let Some(lane) = &self.restore else {
            return;
        };
        let _ = writeln!(
            s,
            "<g class=\"restore-lane\" data-node=\"{}\">\
             <rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{PLOT}\" height=\"{STEP_H}\" fill=\"#f4f4f4\"/>",
            Esc(&lane.node)
        );
        for ((n, from, to, _), describe) in lane.spans().zip(lane.describe()) {
            let x1 = self.x(from);
            let w = (self.x(to) - x1).max(1.0);
            let fill = RESTORE_PHASE[n % 2];
            let label_y = y + STEP_H + STEP_LABEL_ROW * ((n - 1) % 2) as f64 + 10.0;
            let _ = writeln!(
                s,
                "<g class=\"restore-phase\" data-phase=\"{n}\"><title>{}</title>\
                 <rect x=\"{x1:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>\
                 <line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{RTO}\"/>\
                 <text x=\"{:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\" font-size=\"10\">{n}</text></g>",
                Esc(&describe),
                y + 2.0,
                STEP_H - 4.0,
                x1 + w,
                x1 + w,
                y + STEP_H,
                x1 + w,
            );
        }
        let _ = writeln!(s, "</g>");
    }

    /// Each pooler's lane: a bar per stretch, as high as the share of the pool in use (dark
    /// red over the alert's 90 %), a dashed line at 90 %, an orange band on top while clients
    /// waited, the lane's full height in the no-answer colour where the pooler did not answer.
    fn draw_pools(&self, s: &mut String, y0: f64) {
        for (k, lane) in self.pools.iter().enumerate() {
            let y = y0 + (POOL_H + NODE_GAP) * k as f64;
            let _ = writeln!(
                s,
                "<g class=\"pool-lane\" data-pooler=\"{}\">",
                Esc(&lane.pooler)
            );
            let _ = writeln!(
                s,
                "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{PLOT}\" height=\"{POOL_H}\" fill=\"#f4f4f4\"/>"
            );
            for seg in &lane.segments {
                let x = self.bucket_x(seg.first);
                let w = self.bucket_x(seg.end) - x;
                let (from, to) = (
                    At(seg.first * self.bucket_ns()),
                    At(seg.end * self.bucket_ns()),
                );
                let PoolUse::Answered {
                    active,
                    pool_size,
                    waiting,
                } = seg.pool_use
                else {
                    let _ = writeln!(
                        s,
                        "<g><title>{} ({}): no answer from {from} to {to}</title><rect class=\"noanswer\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{POOL_H}\" fill=\"{}\"/></g>",
                        Esc(&lane.pooler),
                        Esc(&lane.server),
                        state_fill(LaneState::NoAnswer),
                    );
                    continue;
                };
                let in_use = match pool_size {
                    0 => format!("{active} server connections active (pool size not reported)"),
                    size => format!("{active} of {size} server connections active"),
                };
                let _ = write!(
                    s,
                    "<g><title>{} ({}): {in_use}, {waiting} client{} waiting, from {from} to {to}</title>",
                    Esc(&lane.pooler),
                    Esc(&lane.server),
                    if waiting == 1 { "" } else { "s" },
                );
                // without a pool size the share is unknown: a bar of full height would claim
                // the pool full, so none is drawn (the title says the count)
                if pool_size > 0 && active > 0 {
                    let h = POOL_H * (active.min(pool_size) as f64 / pool_size as f64);
                    let (class, fill) = if seg.pool_use.saturated() {
                        ("saturated", POOL_SATURATED)
                    } else {
                        ("in-use", POOL_USE)
                    };
                    let _ = write!(
                        s,
                        "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"/>",
                        y + POOL_H - h
                    );
                }
                if waiting > 0 {
                    let _ = write!(
                        s,
                        "<rect class=\"waiting\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"4\" fill=\"{POOL_WAITING}\"/>"
                    );
                }
                let _ = writeln!(s, "</g>");
            }
            // the alert's threshold: 90 % of the pool
            let ty = y + POOL_H * (1.0 - 0.9);
            let _ = writeln!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#555555\" stroke-width=\"0.5\" stroke-dasharray=\"2 2\" aria-hidden=\"true\"/>",
                LEFT + PLOT
            );
            let _ = writeln!(s, "</g>");
        }
    }

    fn draw_writes(&self, s: &mut String, y: f64) {
        let max = self.writes.iter().map(WriteRun::total).max().unwrap_or(0);
        let _ = writeln!(s, "<g class=\"writes\">");
        let _ = writeln!(
            s,
            "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{PLOT}\" height=\"{WRITES_H}\" fill=\"none\" stroke=\"#bbbbbb\"/>"
        );
        if max > 0 {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555555\" text-anchor=\"end\">full height: {max}</text>",
                LEFT - 8.0,
                y + WRITES_H / 2.0 + 22.0
            );
        }
        let scale = WRITES_H / max.max(1) as f64;
        for run in &self.writes {
            let x = self.bucket_x(run.first);
            let w = self.bucket_x(run.first + run.len) - x;
            let _ = write!(
                s,
                "<g><title>{} to {}: {} ok, {} failed, {} unknown{}</title>",
                At(run.first * self.bucket_ns()),
                At((run.first + run.len) * self.bucket_ns()),
                run.ok,
                run.fail,
                run.unknown,
                if run.len > 1 {
                    format!(" in each {}", self.bucket_label())
                } else {
                    String::new()
                }
            );
            let mut bottom = y + WRITES_H;
            for (count, fill) in [(run.ok, OK), (run.unknown, UNKNOWN), (run.fail, FAIL)] {
                if count == 0 {
                    continue;
                }
                let h = count as f64 * scale;
                bottom -= h;
                let _ = write!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{bottom:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"/>"
                );
            }
            let _ = writeln!(s, "</g>");
        }
        let _ = writeln!(s, "</g>");
    }

    fn draw_nodes(&self, s: &mut String, y0: f64) {
        for (k, lane) in self.nodes.iter().enumerate() {
            let y = y0 + (NODE_H + NODE_GAP) * k as f64;
            let _ = writeln!(
                s,
                "<g class=\"node-lane\" data-node=\"{}\">",
                Esc(&lane.node)
            );
            let _ = writeln!(
                s,
                "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{PLOT}\" height=\"{NODE_H}\" fill=\"#f4f4f4\"/>"
            );
            for seg in &lane.segments {
                let x = self.bucket_x(seg.first);
                let w = self.bucket_x(seg.end) - x;
                let _ = write!(
                    s,
                    "<g><title>{}: {} from {} to {}</title><rect class=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{NODE_H}\" fill=\"{}\"/>",
                    Esc(&lane.node),
                    seg.state.name(),
                    At(seg.first * self.bucket_ns()),
                    At(seg.end * self.bucket_ns()),
                    seg.state.class(),
                    state_fill(seg.state),
                );
                // the state in words where it fits
                let name = seg.state.name();
                if w >= 7.0 * name.len() as f64 + 6.0 {
                    let _ = write!(
                        s,
                        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\" font-size=\"10\" aria-hidden=\"true\">{name}</text>",
                        x + 3.0,
                        y + NODE_H / 2.0 + 3.5,
                        state_text(seg.state)
                    );
                }
                let _ = writeln!(s, "</g>");
            }
            let _ = writeln!(s, "</g>");
        }
    }

    /// The virtual IP's lane: its holder by stretch, named where it fits; two holders in the
    /// failed writes' red.
    fn draw_holders(&self, s: &mut String, y: f64) {
        if self.holders.is_empty() {
            return;
        }
        let _ = writeln!(s, "<g class=\"holder-lane\">");
        for seg in &self.holders {
            let x = self.bucket_x(seg.first);
            let w = self.bucket_x(seg.end) - x;
            let name = seg.name();
            let _ = write!(
                s,
                "<g><title>virtual IP: {} from {} to {}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{NODE_H}\" fill=\"{}\"/>",
                Esc(&name),
                At(seg.first * self.bucket_ns()),
                At(seg.end * self.bucket_ns()),
                seg.fill(),
            );
            if w >= 7.0 * name.len() as f64 + 6.0 {
                let text = if seg.holders.is_empty() {
                    "#000000"
                } else {
                    "#ffffff"
                };
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{text}\" font-size=\"10\" aria-hidden=\"true\">{}</text>",
                    x + 3.0,
                    y + NODE_H / 2.0 + 3.5,
                    Esc(&name)
                );
            }
            let _ = writeln!(s, "</g>");
        }
        let _ = writeln!(s, "</g>");
    }

    /// The arbiters' events: a tick at each one's instant, coloured by what it marks, what it
    /// was in its tooltip.
    fn draw_events(&self, s: &mut String, y: f64) {
        if self.events.is_empty() {
            return;
        }
        let _ = writeln!(s, "<g class=\"event-lane\">");
        for mark in &self.events {
            let x = self.x(mark.at);
            let _ = writeln!(
                s,
                "<g><title>{}</title><rect x=\"{:.1}\" y=\"{y:.1}\" width=\"3\" height=\"{NODE_H}\" fill=\"{}\"/></g>",
                Esc(&mark.describe()),
                x - 1.5,
                mark.colour(),
            );
        }
        let _ = writeln!(s, "</g>");
    }

    /// Each fault window shaded behind the writes and the outage lanes (the role lanes keep
    /// their colours): the group tests and readers find a fault by.
    fn draw_fault_windows(&self, s: &mut String, top: f64, bottom: f64) {
        for f in &self.faults {
            let x1 = self.x(f.from);
            let x2 = self.x(f.healed.unwrap_or(self.end()));
            let _ = writeln!(
                s,
                "<g class=\"fault-window\" data-fault=\"{}\"><title>{}: injected at {}, {}</title>\
                 <rect x=\"{x1:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{FAULT}\" fill-opacity=\"{FAULT_OPACITY}\"/></g>",
                f.fault + 1,
                Esc(&f.label),
                f.from,
                match (f.healed, f.healed_by_hand) {
                    (None, _) => "never healed".to_string(),
                    (Some(h), false) => format!("healed at {h}"),
                    (Some(h), true) => format!("healed by hand at {h}"),
                },
                (x2 - x1).max(1.0),
                bottom - top,
            );
        }
    }

    /// Each fault's edges across every lane (injection solid, heal dashed) and its label.
    fn draw_fault_edges(&self, s: &mut String, labels_y: f64, bottom: f64) {
        let rows = self.label_rows();
        for (k, f) in self.faults.iter().enumerate() {
            let x1 = self.x(f.from);
            let x2 = self.x(f.healed.unwrap_or(self.end()));
            let label_y = labels_y + LABEL_ROW * (k % rows) as f64 + 10.0;
            // keep the label inside the chart: anchored at the window's start, or at its end
            // near the right edge
            let (anchor, lx) = if x1 > LEFT + PLOT * 0.75 {
                ("end", x2.min(LEFT + PLOT))
            } else {
                ("start", x1 + 3.0)
            };
            let _ = writeln!(
                s,
                "<g class=\"fault-edges\" aria-hidden=\"true\">\
                 <line x1=\"{x1:.1}\" y1=\"{labels_y:.1}\" x2=\"{x1:.1}\" y2=\"{bottom:.1}\" stroke=\"{FAULT}\" stroke-width=\"1.5\"/>{}\
                 <text x=\"{lx:.1}\" y=\"{label_y:.1}\" fill=\"{FAULT}\" text-anchor=\"{anchor}\" font-weight=\"bold\">{}{}</text></g>",
                match f.healed {
                    Some(_) => format!(
                        "<line x1=\"{x2:.1}\" y1=\"{labels_y:.1}\" x2=\"{x2:.1}\" y2=\"{bottom:.1}\" stroke=\"{FAULT}\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/>"
                    ),
                    None => String::new(),
                },
                Esc(&f.label),
                if f.healed.is_none() {
                    " (never healed)"
                } else {
                    ""
                },
            );
        }
    }

    /// Where each outage's mark goes: its span, its label and its row (outages whose marks or
    /// labels would overlap get rows of their own).
    fn outage_marks(&self) -> Vec<OutageMark> {
        let mut row_ends: Vec<f64> = Vec::new();
        self.outages
            .iter()
            .map(|o| {
                let x1 = self.x(o.from);
                let x2 = self.x(o.to().unwrap_or(self.end())).max(x1 + 1.0);
                let value = o.value();
                let text = if self.faults.len() > 1 {
                    format!("fault {}: {value}", o.fault + 1)
                } else {
                    value
                };
                // the label after the span where it fits inside the chart, else above the
                // span's line where it is wide enough, else before it
                let width = 6.5 * text.chars().count() as f64;
                let (anchor, tx, above, lo, hi) = if x2 + 4.0 + width <= LEFT + PLOT + RIGHT {
                    ("start", x2 + 4.0, false, x1, x2 + 4.0 + width)
                } else if x2 - x1 >= width + 8.0 {
                    ("start", x1 + 4.0, true, x1, x2)
                } else {
                    ("end", x1 - 4.0, false, x1 - 4.0 - width, x2)
                };
                let row = match row_ends.iter().position(|&end| end + 6.0 < lo) {
                    Some(row) => {
                        row_ends[row] = hi;
                        row
                    }
                    None => {
                        row_ends.push(hi);
                        row_ends.len() - 1
                    }
                };
                OutageMark {
                    x1,
                    x2,
                    text,
                    anchor,
                    tx,
                    above,
                    row,
                }
            })
            .collect()
    }

    fn draw_outages(&self, s: &mut String, marks: &[OutageMark], y: f64) {
        for (o, m) in self.outages.iter().zip(marks) {
            let (x1, x2, tx, anchor, text) = (m.x1, m.x2, m.tx, m.anchor, &m.text);
            let mid = y + RTO_H * m.row as f64 + RTO_H / 2.0 + 3.0;
            let _ = writeln!(
                s,
                "<g class=\"rto\" data-fault=\"{}\"><title>fault {}: {}, writes down from {}{}</title>\
                 <line x1=\"{x1:.1}\" y1=\"{mid:.1}\" x2=\"{x2:.1}\" y2=\"{mid:.1}\" stroke=\"{RTO}\" stroke-width=\"2\"{}/>\
                 <line x1=\"{x1:.1}\" y1=\"{:.1}\" x2=\"{x1:.1}\" y2=\"{:.1}\" stroke=\"{RTO}\" stroke-width=\"2\"/>{}\
                 <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-weight=\"bold\">{text}</text></g>",
                o.fault + 1,
                o.fault + 1,
                o.explained(),
                o.from,
                o.to().map_or_else(String::new, |r| format!(" to {r}")),
                if o.recovered.is_none() {
                    " stroke-dasharray=\"4 3\""
                } else {
                    ""
                },
                mid - 6.0,
                mid + 6.0,
                match o.recovered {
                    Some(_) => format!(
                        "<line x1=\"{x2:.1}\" y1=\"{:.1}\" x2=\"{x2:.1}\" y2=\"{:.1}\" stroke=\"{RTO}\" stroke-width=\"2\"/>",
                        mid - 6.0,
                        mid + 6.0
                    ),
                    None => String::new(),
                },
                if m.above { mid - 4.0 } else { mid + 4.0 },
            );
        }
    }

    fn draw_legend(&self, s: &mut String, y: f64) {
        let _ = writeln!(s, "<g class=\"legend\">");
        let mut row = |y: f64, title: &str, items: &[(&str, &str)]| {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{title}</text>",
                LEFT - 8.0,
                y + 10.0
            );
            let mut x = LEFT;
            for (fill, name) in items {
                let _ = write!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"12\" height=\"12\" fill=\"{fill}\" stroke=\"#555555\" stroke-width=\"0.5\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\">{name}</text>",
                    x + 16.0,
                    y + 10.0
                );
                x += 16.0 + 7.0 * name.len() as f64 + 14.0;
            }
            let _ = writeln!(s);
        };
        row(
            y,
            "writes",
            &[
                (OK, "ok"),
                (UNKNOWN, "unknown"),
                (FAIL, "failed"),
                (
                    FAULT_SWATCH,
                    "fault window (solid edge: injected, dashed: healed)",
                ),
            ],
        );
        row(
            y + LEGEND_ROW,
            &Esc(&self.role_title()).to_string(),
            &[
                (state_fill(LaneState::Leader), "leader"),
                (state_fill(LaneState::Replica), "replica"),
                (state_fill(LaneState::Other), "other state"),
                (state_fill(LaneState::NoAnswer), "no answer"),
            ],
        );
        // the optional rows, each below the one before
        let mut next = y + 2.0 * LEGEND_ROW;
        if !self.holders.is_empty() {
            row(
                next,
                "virtual IP",
                &[
                    (state_fill(LaneState::Leader), "held by the node named"),
                    (NO_HOLDER, "no holder"),
                    (FAIL, "two holders or more"),
                ],
            );
            next += LEGEND_ROW;
        }
        if !self.pools.is_empty() {
            row(
                next,
                "pool use",
                &[
                    (
                        POOL_USE,
                        "server connections active (height: share of the pool)",
                    ),
                    (POOL_SATURATED, "over 90 % (alert)"),
                    (POOL_WAITING, "clients waiting"),
                    (state_fill(LaneState::NoAnswer), "no answer"),
                ],
            );
            next += LEGEND_ROW;
        }
        if !self.steps.is_empty() {
            row(
                next,
                "steps",
                &[
                    (STEP_DONE, "done (bar: started to ended)"),
                    (STEP_FAILED, "failed"),
                ],
            );
            next += LEGEND_ROW;
        }
        if self.restore.is_some() {
            row(
                next,
                "restore",
                &[
                    (
                        RESTORE_PHASE[1],
                        "a phase, numbered (the caption names each)",
                    ),
                    (RESTORE_PHASE[0], "the next phase"),
                ],
            );
            next += LEGEND_ROW;
        }
        if !self.events.is_empty() {
            row(
                next,
                "Sentinel events",
                &[
                    (UNKNOWN, "down (+sdown, +odown)"),
                    (FAULT, "decided (+elected-leader, +promoted-slave)"),
                    (STEP_DONE, "new master in place (+switch-master...)"),
                    (FAIL, "TILT"),
                ],
            );
            next += LEGEND_ROW;
        }
        if !self.notes.is_empty() {
            row(
                next,
                "notes",
                &[(
                    NOTE,
                    "a note written during the game day, numbered (dotted: its instant)",
                )],
            );
        }
        // the RTO mark, drawn as it is in the chart
        let x = LEFT + 680.0;
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{RTO}\" stroke-width=\"2\"/>\
             <line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{RTO}\" stroke-width=\"2\"/>\
             <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{RTO}\" stroke-width=\"2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">write outage (RTO)</text></g>",
            y + 6.0,
            x + 24.0,
            y + 6.0,
            y,
            y + 12.0,
            x + 24.0,
            y,
            x + 24.0,
            y + 12.0,
            x + 30.0,
            y + 10.0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::measure;
    use crate::check::testkit::*;
    use crate::history::Event;
    use crate::report::sample_record;

    /// The sample record with this history, measured again.
    fn record_of(events: Vec<Event>) -> RunRecord {
        let history = history(events);
        RunRecord {
            measurements: measure(&history),
            history,
            ..sample_record()
        }
    }

    /// Writes every 100 ms from `from` to `to` (exclusive), ok on `node` or failed.
    fn writes(seq: &mut u64, from: u64, to: u64, node: Option<&str>) -> Vec<Event> {
        (from..to)
            .step_by(100)
            .map(|t| {
                *seq += 1;
                match node {
                    Some(n) => ok(*seq, ms(t), ms(t + 5), n, 1),
                    None => failed(*seq, ms(t), ms(t + 5)),
                }
            })
            .collect()
    }

    /// Two faults: pg1 crashed at 1 s and healed at 4 s (writes down from 1 s to 3 s), then
    /// pg2 crashed at 6 s and never healed (writes never recovered, attempted up to 8 s: 5 s
    /// after the first recovery, which confirms it); three nodes probed, one of them named pg10.
    fn two_faults() -> RunRecord {
        let mut seq = 0;
        let mut events = Vec::new();
        events.extend(writes(&mut seq, 0, 1_000, Some("pg1")));
        events.extend(writes(&mut seq, 1_000, 3_000, None));
        events.extend(writes(&mut seq, 3_000, 6_000, Some("pg2")));
        events.extend(writes(&mut seq, 6_000, 8_001, None));
        events.push(inject(0, "pg1", ms(1_000)));
        events.push(heal(0, "pg1", ms(4_000)));
        events.push(inject(1, "pg2", ms(6_000)));
        for t in (0..8_000).step_by(100) {
            let (r1, r2) = match t {
                ..1_000 => (Some(Role::Leader), Some(Role::Replica)),
                1_000..2_500 => (None, Some(Role::Replica)),
                2_500..4_000 => (None, Some(Role::Leader)),
                4_000..6_000 => (Some(Role::Replica), Some(Role::Leader)),
                _ => (Some(Role::Other), None),
            };
            events.push(probe("pg1", ms(t), ms(t + 2), r1));
            events.push(probe("pg2", ms(t), ms(t + 2), r2));
            events.push(probe("pg10", ms(t), ms(t + 2), Some(Role::Replica)));
        }
        record_of(events)
    }

    #[test]
    fn the_sentinels_phases_are_marked_in_a_lane_of_their_own() {
        use crate::history::Announcement;
        let said = |from: &str, t: u64, name: &str, about: Option<(&str, &str)>| {
            Event::Announcement(Announcement {
                source: "sentinel".into(),
                from: from.into(),
                at: ms(t),
                name: name.into(),
                text: String::new(),
                about: about.map(|(n, _)| n.into()),
                about_role: about.map(|(_, r)| r.into()),
            })
        };
        let mut seq = 0;
        let mut events = writes(&mut seq, 0, 8_000, Some("redis1"));
        events.extend([
            said("sentinel1", 2_100, "+sdown", Some(("redis1", "master"))),
            said("sentinel2", 2_150, "+sdown", Some(("redis1", "master"))),
            said("sentinel1", 2_200, "+odown", Some(("redis1", "master"))),
            // not a phase: kept in run.json, not marked
            said("sentinel1", 2_210, "+new-epoch", None),
            // about a Sentinel: not the failover's
            said(
                "sentinel2",
                2_220,
                "+sdown",
                Some(("sentinel3", "sentinel")),
            ),
            said(
                "sentinel1",
                3_300,
                "+switch-master",
                Some(("redis2", "master")),
            ),
            said("sentinel3", 6_000, "+tilt", None),
        ]);
        let chart = Timeline::of(&record_of(events));
        let marked: Vec<(&str, &str)> = chart
            .events
            .iter()
            .map(|m| (m.from.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            marked,
            [
                ("sentinel1", "+sdown"),
                ("sentinel2", "+sdown"),
                ("sentinel1", "+odown"),
                ("sentinel1", "+switch-master"),
                ("sentinel3", "+tilt")
            ]
        );
        let svg = chart.svg();
        assert!(svg.contains(">Sentinel events</text>"), "{svg}");
        assert!(
            svg.contains("<title>sentinel1 +switch-master redis2 at t+3.300s</title>"),
            "{svg}"
        );
        assert!(svg.contains(&format!("fill=\"{FAIL}\"/></g>")), "{svg}");
        // the description names each kind's first, not every Sentinel's copy
        assert!(
            svg.contains("; first sentinel1 +sdown redis1 at t+2.100s; first sentinel1 +odown"),
            "{svg}"
        );
        assert!(!svg.contains("first sentinel2 +sdown"), "{svg}");
    }

    #[test]
    fn a_lane_of_the_virtual_ip_s_holder_shows_two_holders_in_red() {
        use crate::history::RoleSample;
        let at = |node: &str, t: u64, holds: Result<bool, String>| {
            Event::Role(RoleSample::address(
                "vip",
                node,
                (ms(t), ms(t + 2)),
                holds,
                "172.18.255.254",
            ))
        };
        let mut seq = 0;
        let mut events = writes(&mut seq, 0, 8_000, Some("db1"));
        for t in (0..8_000).step_by(500) {
            // db1 holds it throughout but for 3 s to 4 s, when it did not answer; db2 from 5 s
            let db1 = if (3_000..4_000).contains(&t) {
                Err("timed out".into())
            } else {
                Ok(true)
            };
            events.push(at("db1", t, db1));
            events.push(at("db2", t, Ok(t >= 5_000)));
        }
        let chart = Timeline::of(&record_of(events));
        let seen: Vec<(u64, u64, Vec<&str>)> = chart
            .holders
            .iter()
            .map(|h| {
                (
                    h.first,
                    h.end,
                    h.holders.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (0, 30, vec!["db1"]),
                (30, 40, vec![]),
                (40, 50, vec!["db1"]),
                // to the last reports' bucket, as the role lanes
                (50, 76, vec!["db1", "db2"])
            ],
            "{:?}",
            chart.holders
        );
        let svg = chart.svg();
        assert!(svg.contains(">virtual IP</text>"), "{svg}");
        assert!(
            svg.contains("virtual IP: db1 + db2 (two holders) from t+5.000s"),
            "{svg}"
        );
        assert!(svg.contains(&format!("fill=\"{FAIL}\"/><text")), "{svg}");
        assert!(svg.contains(
            "holder: db1 from t+0.000s, no holder from t+3.000s, db1 from t+4.000s, \
             db1 + db2 (two holders) from t+5.000s"
        ));
        // a stack without a virtual IP has no such lane
        let plain = Timeline::of(&sample_record());
        assert!(plain.holders.is_empty() && !plain.svg().contains("virtual IP"));
    }

    #[test]
    fn sample_chart() {
        insta::assert_snapshot!(Timeline::of(&sample_record()).svg());
    }

    #[test]
    fn a_window_per_fault_an_rto_mark_per_outage_and_a_lane_per_node() {
        let record = two_faults();
        let chart = Timeline::of(&record);
        assert_eq!(chart.bucket, Duration::from_millis(100));
        assert_eq!(
            chart.faults,
            [
                FaultWindow {
                    fault: 0,
                    label: "fault 1: crash of pg1".into(),
                    from: ms(1_000),
                    healed: Some(ms(4_000)),
                    healed_by_hand: false,
                },
                FaultWindow {
                    fault: 1,
                    label: "fault 2: crash of pg2".into(),
                    from: ms(6_000),
                    healed: None,
                    healed_by_hand: false,
                },
            ]
        );
        assert_eq!(chart.outages.len(), 2);
        assert_eq!(
            (chart.outages[0].from, chart.outages[0].recovered),
            (ms(905), Some(ms(3_005)))
        );
        assert_eq!(chart.outages[0].rto, Some(Duration::from_millis(2_100)));
        assert_eq!(chart.outages[1].recovered, None);
        let names: Vec<&str> = chart.nodes.iter().map(|n| n.node.as_str()).collect();
        assert_eq!(names, ["pg1", "pg2", "pg10"]);
        let pg1: Vec<(u64, u64, LaneState)> = chart.nodes[0]
            .segments
            .iter()
            .map(|s| (s.first, s.end, s.state))
            .collect();
        assert_eq!(
            pg1,
            [
                (0, 10, LaneState::Leader),
                (10, 40, LaneState::NoAnswer),
                (40, 60, LaneState::Replica),
                (60, 80, LaneState::Other),
            ]
        );

        let svg = chart.svg();
        assert_eq!(svg.matches("<g class=\"fault-window\"").count(), 2);
        assert_eq!(svg.matches("<g class=\"rto\"").count(), 2);
        assert_eq!(svg.matches("<g class=\"node-lane\"").count(), 3);
        assert!(svg.contains(">fault 1: RTO 2.100s</text>"), "{svg}");
        assert!(
            svg.contains(">fault 2: writes never recovered</text>"),
            "{svg}"
        );
        assert!(
            svg.contains(">fault 2: crash of pg2 (never healed)</text>"),
            "{svg}"
        );
        for tick in ["0s", "1s", "4s", "8s"] {
            assert!(svg.contains(&format!(">{tick}</text>")), "no tick {tick}");
        }
        // the never-healed window runs to the chart's end
        let end = format!("{:.1}", LEFT + PLOT);
        let unhealed = svg.split("data-fault=\"2\"").nth(1).unwrap();
        let x1 = chart.x(ms(6_000));
        assert!(
            unhealed.contains(&format!("width=\"{:.1}\"", LEFT + PLOT - x1)),
            "window not to {end}: {unhealed}"
        );
    }

    #[test]
    fn overlapping_outages_get_rows_of_their_own() {
        let mut chart = Timeline::of(&two_faults());
        let rows = |chart: &Timeline| -> Vec<usize> {
            chart.outage_marks().iter().map(|m| m.row).collect()
        };
        assert_eq!(rows(&chart), [0, 0]);
        // fault 2's outage inside fault 1's: a second row, and the chart grows by one
        let height = |svg: &str| -> f64 {
            let view = svg.split("viewBox=\"0 0 960 ").nth(1).unwrap();
            view[..view.find('"').unwrap()].parse().unwrap()
        };
        let before = height(&chart.svg());
        chart.outages[1].from = ms(1_500);
        chart.outages[1].recovered = Some(ms(2_000));
        chart.outages[1].rto = Some(Duration::from_millis(500));
        assert_eq!(rows(&chart), [0, 1]);
        let svg = chart.svg();
        assert_eq!(height(&svg), before + RTO_H);
        assert!(svg.contains(">fault 1: RTO 2.100s</text>"), "{svg}");
        assert!(svg.contains(">fault 2: RTO 0.500s</text>"), "{svg}");
    }

    #[test]
    fn an_unconfirmed_recovery_is_drawn_dashed_up_to_it_without_an_rto() {
        // writes down from 1 s to 3 s, then ok for 2 s only: the run ended before 5 s of them
        let mut seq = 0;
        let mut events = writes(&mut seq, 0, 1_000, Some("pg1"));
        events.extend(writes(&mut seq, 1_000, 3_000, None));
        events.extend(writes(&mut seq, 3_000, 5_000, Some("pg2")));
        events.push(inject(0, "pg1", ms(1_000)));
        let chart = Timeline::of(&record_of(events));
        assert_eq!(
            chart.outages,
            [OutageSpan {
                fault: 0,
                from: ms(905),
                recovered: None,
                unconfirmed: Some(ms(3_005)),
                rto: None,
            }]
        );
        let svg = chart.svg();
        assert!(
            svg.contains(
                "fault 1 write outage from t+0.905s to t+3.005s (recovery unconfirmed: the writes \
                 ended less than 5 s after it)"
            ),
            "{svg}"
        );
        let mark = svg.split("<g class=\"rto\"").nth(1).unwrap();
        let mark = &mark[..mark.find("</g>").unwrap()];
        assert!(
            mark.contains(
                "<title>fault 1: RTO unconfirmed (the writes ended less than 5 s after the \
                 recovery), writes down from t+0.905s to t+3.005s</title>"
            ),
            "{mark}"
        );
        assert!(mark.contains(">RTO unconfirmed</text>"), "{mark}");
        // dashed, to the recovery, with no closing tick: two lines only
        assert!(mark.contains("stroke-dasharray=\"4 3\""), "{mark}");
        assert_eq!(mark.matches("<line ").count(), 2, "{mark}");
        let x2 = format!("x2=\"{:.1}\"", chart.x(ms(3_005)));
        assert!(mark.contains(&x2), "{mark}");
    }

    #[test]
    fn no_outage_no_rto_mark() {
        let mut seq = 0;
        let mut events = writes(&mut seq, 0, 2_000, Some("pg1"));
        events.push(inject(0, "pg2", ms(500)));
        let chart = Timeline::of(&record_of(events));
        assert!(chart.outages.is_empty());
        assert_eq!(chart.faults.len(), 1);
        assert!(chart.nodes.is_empty());
        let svg = chart.svg();
        assert_eq!(svg.matches("<g class=\"rto\"").count(), 0);
        // 20 buckets with the same counts are one mark
        assert_eq!(chart.writes.len(), 1);
        assert_eq!((chart.writes[0].first, chart.writes[0].len), (0, 20));
    }

    #[test]
    fn a_bucket_shows_its_most_telling_state_and_gaps_keep_the_state_before() {
        let events = vec![
            probe("pg1", ms(0), ms(1), Some(Role::Replica)),
            probe("pg1", ms(50), ms(51), Some(Role::Leader)),
            // no probe from 100 ms to 400 ms: still leader
            probe("pg1", ms(400), ms(401), Some(Role::Leader)),
            probe("pg1", ms(500), ms(501), Some(Role::Replica)),
            probe("pg1", ms(550), ms(551), None),
            probe("pg2", ms(1_000), ms(1_001), Some(Role::Replica)),
        ];
        let chart = Timeline::of(&record_of(events));
        let pg1: Vec<(u64, u64, LaneState)> = chart.nodes[0]
            .segments
            .iter()
            .map(|s| (s.first, s.end, s.state))
            .collect();
        // the lane stops at pg1's last probe, not at the chart's end
        assert_eq!(
            pg1,
            [(0, 5, LaneState::Leader), (5, 6, LaneState::NoAnswer)]
        );
    }

    #[test]
    fn long_runs_are_drawn_in_bounded_size() {
        // two hours of a write every 100 ms and three nodes probed every 100 ms, made so that
        // no two neighbouring 10 s buckets look alike (the worst case for merging marks):
        // each bucket's failures differ, each node's role changes every bucket
        let hours2 = 2 * 3_600 * 1_000;
        let roles = [
            Some(Role::Leader),
            None,
            Some(Role::Other),
            Some(Role::Replica),
        ];
        let mut events = Vec::new();
        for (k, t) in (0..hours2).step_by(100).enumerate() {
            let (k, bucket) = (k as u64, t / 10_000);
            events.push(if t % 10_000 < 100 * (bucket % 7) {
                failed(k, ms(t), ms(t + 5))
            } else {
                ok(k, ms(t), ms(t + 5), "pg1", 1)
            });
            for (n, node) in ["pg1", "pg2", "pg3"].into_iter().enumerate() {
                let role = roles[(bucket as usize + n) % 4];
                events.push(probe(node, ms(t), ms(t + 1), role));
            }
        }
        let mut record = sample_record();
        record.history = history(events);
        record.measurements.faults.clear();
        let chart = Timeline::of(&record);
        assert!(chart.buckets <= MAX_BUCKETS, "{}", chart.buckets);
        assert_eq!(chart.bucket, Duration::from_secs(10));
        assert_eq!(chart.buckets, 720);
        assert!(chart.writes.len() > 600, "{}", chart.writes.len());
        assert!(chart.nodes.iter().all(|n| n.segments.len() == 720));
        let svg = chart.svg();
        assert!(svg.len() < 600_000, "{} bytes", svg.len());
        // ticks every 10 minutes
        assert!(svg.contains(">600s</text>") && svg.contains(">7200s</text>"));
    }

    #[test]
    fn a_lane_per_pooler_with_its_use_against_the_pool_and_clients_waiting() {
        let record = crate::report::rows::pool_record();
        let chart = Timeline::of(&record);
        let names: Vec<(&str, &str)> = chart
            .pools
            .iter()
            .map(|p| (p.pooler.as_str(), p.server.as_str()))
            .collect();
        assert_eq!(names, [("pgbouncer1", "pg1"), ("pgbouncer2", "pg2")]);
        let lane = |k: usize| -> Vec<(u64, u64, PoolUse)> {
            chart.pools[k]
                .segments
                .iter()
                .map(|s| (s.first, s.end, s.pool_use))
                .collect()
        };
        let used = |active, waiting| PoolUse::Answered {
            active,
            pool_size: 10,
            waiting,
        };
        // 100 ms buckets, a sample every 250 ms: gaps keep the use before them
        assert_eq!(
            lane(0),
            [
                (0, 10, used(0, 0)),
                (10, 12, PoolUse::NoAnswer),
                (12, 78, used(0, 0)),
            ]
        );
        assert_eq!(
            lane(1),
            [
                (0, 20, used(0, 0)),
                (20, 25, used(3, 0)),
                (25, 50, used(10, 6)),
                (50, 78, used(3, 0)),
            ]
        );
        assert!(used(10, 0).saturated() && !used(9, 0).saturated());
        let svg = chart.svg();
        assert_eq!(svg.matches("<g class=\"pool-lane\"").count(), 2);
        assert_eq!(svg.matches("<rect class=\"saturated\"").count(), 1);
        assert_eq!(svg.matches("<rect class=\"waiting\"").count(), 1);
        assert!(svg.contains(">pool use</text>"), "{svg}");
        insta::assert_snapshot!(svg);

        // none without poolers: the chart is drawn as before
        assert!(Timeline::of(&sample_record()).pools.is_empty());
    }

    #[test]
    fn the_real_pgbouncer_runs_lanes() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pgbouncer/run.json");
        let record = crate::store::load(&file).unwrap();
        let chart = Timeline::of(&record);
        let names: Vec<&str> = chart.pools.iter().map(|p| p.pooler.as_str()).collect();
        assert_eq!(names, ["pgbouncer1", "pgbouncer2", "pgbouncer3"]);
        // pgbouncer1's client waits from the crash (t+10 s) to the end: one band from there
        let waiting: Vec<u64> = chart.pools[0]
            .segments
            .iter()
            .filter(|s| matches!(s.pool_use, PoolUse::Answered { waiting, .. } if waiting > 0))
            .map(|s| s.first)
            .collect();
        assert_eq!(waiting.first(), Some(&102));
        let svg = chart.svg();
        let lanes: String = svg
            .lines()
            .skip_while(|l| !l.starts_with("<g class=\"pool-lane\""))
            .take_while(|l| {
                !l.starts_with("<g class=\"fault-edges\"") && !l.starts_with("<g class=\"rto\"")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        insta::assert_snapshot!(lanes);
    }

    #[test]
    fn a_lane_of_steps_with_a_done_and_a_failed_one() {
        let record = crate::report::steps_record();
        let chart = Timeline::of(&record);
        let marks: Vec<(usize, At, At, bool)> = chart
            .steps
            .iter()
            .map(|m| (m.step, m.started, m.ended, m.failed.is_some()))
            .collect();
        assert_eq!(
            marks,
            [
                (1, At(1_000_210_000), At(2_004_000_000), true),
                (2, At(3_001_500_000), At(3_004_200_000), false),
            ]
        );
        let svg = chart.svg();
        assert_eq!(svg.matches("<g class=\"step\"").count(), 2);
        assert!(svg.contains(">1 target: failed</text>"), "{svg}");
        assert!(svg.contains(">2 target: done</text>"), "{svg}");
        assert!(svg.contains(">steps</text>"), "{svg}");
        // a step of 3 ms is still seen
        let done = svg.split("data-step=\"2\"").nth(1).unwrap();
        assert!(done.contains("width=\"2.0\""), "{done}");
        insta::assert_snapshot!(svg);

        // without steps, no lane: the chart is drawn as before
        let plain = Timeline::of(&sample_record()).svg();
        assert!(!plain.contains(">steps</text>"));
    }

    #[test]
    fn a_lane_of_restore_phases_from_the_loss_to_full_redundancy() {
        let record = crate::report::restore_record(true);
        let chart = Timeline::of(&record);
        let lane = chart
            .restore
            .as_ref()
            .expect("a completed restore has a lane");
        assert_eq!(lane.node, "pg1");
        assert_eq!(
            lane.lost,
            At(20_000_000_000),
            "the lose-cluster step's start"
        );
        let spans: Vec<(usize, At, At, &str)> = lane.spans().collect();
        assert_eq!(spans.len(), 8, "{spans:?}");
        // contiguous, in order, from the loss
        assert_eq!(spans[0].1, lane.lost);
        for pair in spans.windows(2) {
            assert_eq!(pair[0].2, pair[1].1, "{pair:?}");
            assert!(pair[0].1 <= pair[0].2, "{pair:?}");
        }
        assert_eq!(spans[1].3, "files restored (pgBackRest)");
        assert_eq!(spans.last().map(|s| s.3), Some("every replica streaming"));
        let svg = chart.svg();
        assert!(svg.contains(">restore</text>"), "{svg}");
        assert_eq!(svg.matches("<g class=\"restore-phase\"").count(), 8);
        assert!(
            chart
                .describe()
                .contains("restore phase 3 on pg1: WAL replayed to the target"),
            "{}",
            chart.describe()
        );
        let lane_svg: String = svg
            .lines()
            .skip_while(|l| !l.starts_with("<g class=\"restore-lane\""))
            .take_while(|l| !l.starts_with("<g class=\"legend\""))
            .map(|l| format!("{l}\n"))
            .collect();
        insta::assert_snapshot!(lane_svg);

        // a failed restore: the steps' lane shows it; no phases to draw
        let failed = Timeline::of(&crate::report::restore_record(false));
        assert_eq!(failed.restore, None);
        assert!(!failed.svg().contains("restore-lane"));
    }

    #[test]
    fn a_mark_per_note_of_a_game_day_and_its_fault_labelled_by_hand() {
        let record = crate::report::gameday_record();
        let chart = Timeline::of(&record);
        assert_eq!(
            chart.notes,
            [
                NoteMark {
                    number: 1,
                    at: At(12_345_000_000),
                    text: "app showed 502s".into(),
                },
                NoteMark {
                    number: 2,
                    at: At(25_500_000_000),
                    text: "action: alert on replication lag".into(),
                },
            ]
        );
        assert_eq!(
            chart.faults,
            [FaultWindow {
                fault: 0,
                label: "fault 1: crash of pg1 by hand".into(),
                from: ms(10_000),
                healed: Some(ms(20_000)),
                healed_by_hand: true,
            }]
        );
        let svg = chart.svg();
        assert_eq!(svg.matches("<g class=\"note\"").count(), 2);
        let mark = svg.split("data-note=\"1\"").nth(1).unwrap();
        let mark = &mark[..mark.find("</g>").unwrap()];
        assert!(
            mark.contains("<title>note 1 at t+12.345s: app showed 502s</title>"),
            "{mark}"
        );
        // at its instant, dotted down the chart, its number in the top row
        let x = format!("x1=\"{:.1}\"", chart.x(At(12_345_000_000)));
        assert!(mark.contains(&x), "{mark}");
        assert!(mark.contains("stroke-dasharray=\"1 2\""), "{mark}");
        assert!(mark.contains(">1</text>"), "{mark}");
        assert!(
            chart
                .describe()
                .contains("; note 2 at t+25.500s: action: alert on replication lag."),
            "{}",
            chart.describe()
        );
        assert!(
            chart.describe().contains(
                "fault 1: crash of pg1 by hand from t+10.000s to t+20.000s (healed by hand)"
            ),
            "{}",
            chart.describe()
        );
        assert!(
            svg.contains(">fault 1: crash of pg1 by hand</text>"),
            "{svg}"
        );
        assert!(svg.contains(">notes</text>"), "{svg}");
        let notes_svg: String = svg
            .lines()
            .filter(|l| l.starts_with("<g class=\"note\""))
            .map(|l| format!("{l}\n"))
            .collect();
        insta::assert_snapshot!(notes_svg);

        // without notes, no row for them: the chart is drawn as before
        let plain = Timeline::of(&sample_record());
        assert!(plain.notes.is_empty());
        assert!(!plain.svg().contains("class=\"note\""));
    }

    #[test]
    fn a_step_delayed_by_the_one_before_shows_when_it_was_due() {
        let mut record = crate::report::steps_record();
        for event in &mut record.history.events {
            if let Event::Step(s) = event
                && s.step == 2
            {
                // due at 1.5 s, step 1 running until 2.004 s
                s.at = At(1_500_000_000);
                s.started = At(2_004_100_000);
            }
        }
        let svg = Timeline::of(&record).svg();
        let late = svg.split("data-step=\"2\"").nth(1).unwrap();
        let late = &late[..late.find("</g>").unwrap()];
        assert!(late.contains("stroke-dasharray=\"2 2\""), "{late}");
        assert!(
            late.contains("due at t+1.500s, ran from t+2.004s"),
            "{late}"
        );
    }

    #[test]
    fn names_in_the_chart_are_escaped() {
        let events = vec![
            probe("<script>x</script>", ms(0), ms(1), Some(Role::Leader)),
            inject(0, "pg\"1", ms(10)),
        ];
        let svg = Timeline::of(&record_of(events)).svg();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(svg.contains("crash of pg&quot;1"));
    }
}
