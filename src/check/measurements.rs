//! Everything measured from one history, and how each objective's value is read from it.

use super::lag;
use super::latency::{self, WriteLatency};
use super::leader;
use super::loss::{self, LostWrites, UnknownWrites};
use super::proxy;
use super::reads::{self, Reads};
use super::redundancy;
use super::rto::{self, UnconfirmedRecovery, Window};
use super::split_brain::{self, SplitBrain};
use super::verdict::MeasuredValue;
use super::writes::{self, WriteCounts};
use crate::history::{At, ErrorKind, FaultAction, History};
use crate::scenario::Measure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The measurements of one run. Durations are written as humantime strings in JSON
/// ("8s 512ms 345us"), instants as nanoseconds since the run's start.
///
/// Let `F` be the instant a fault's injection began. Each fault is measured within its window:
/// from its `F` to the `F` of the next fault injected after it, or to the end of the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub writes: WriteCounts,
    /// One entry per fault injection, in the order they were injected.
    pub faults: Vec<FaultMeasurements>,
    /// **RTO (write downtime)**, the worst over the faults (see [`FaultMeasurements::rto`]).
    /// `None` (not measured) if after some fault writes never recovered, or their recovery was
    /// not confirmed. Without faults: zero if every write succeeded, else the downtime measured
    /// as if a fault had been injected at the run's start.
    #[serde(default, with = "humantime_serde")]
    pub rto: Option<Duration>,
    /// When the RTO is not measured because a recovery was not confirmed (see
    /// [`FaultMeasurements::unconfirmed_recovery`]): that recovery, of the first fault whose RTO
    /// was not measured (without faults, of the downtime measured from the run's start).
    /// `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed_recovery: Option<UnconfirmedRecovery>,
    /// **Detection time**, the worst over the faults where one was measured.
    #[serde(default, with = "humantime_serde")]
    pub detection_time: Option<Duration>,
    /// **Leader election time**, the worst over the faults where one was measured.
    #[serde(default, with = "humantime_serde")]
    pub leader_election_time: Option<Duration>,
    /// **Proxy switch time**, the worst over the faults where it was measured (see
    /// [`FaultMeasurements::proxy_switch_time`]).
    #[serde(default, with = "humantime_serde")]
    pub proxy_switch_time: Option<Duration>,
    /// **Old leader out of rotation**, the worst over the faults where it was measured (see
    /// [`FaultMeasurements::old_leader_out_time`]). Absent from files written before it.
    #[serde(default, with = "humantime_serde")]
    pub old_leader_out_time: Option<Duration>,
    /// **Promotion time**, the worst over the faults where one was measured (see
    /// [`FaultMeasurements::promotion_time`]). As for the lag at failover, an objective on it is
    /// not measured if some failover's promotion was not seen.
    #[serde(default, with = "humantime_serde")]
    pub promotion_time: Option<Duration>,
    /// **RTO resolution**, the worst over the faults where it was measured (see
    /// [`FaultMeasurements::rto_resolution`]); `None` if writes stopped and recovered after no
    /// fault. Without faults: that of the downtime measured from the run's start.
    #[serde(default, with = "humantime_serde")]
    pub rto_resolution: Option<Duration>,
    /// **Time to full redundancy**, the worst over the faults where it was reached (see
    /// [`FaultMeasurements::time_to_full_redundancy`]); `None` if it was reached after none.
    /// A fault after which it was not reached keeps its own `None`, and an objective on this
    /// measurement is then not measured (it fails, naming the fault): the worst of the others
    /// would understate it.
    #[serde(default, with = "humantime_serde")]
    pub time_to_full_redundancy: Option<Duration>,
    /// **Lag at failover** in bytes, the worst over the faults where it was measured (see
    /// [`FaultMeasurements::lag_at_failover`]); `None` if no fault was followed by a failover
    /// with both WAL positions probed. As for the time to full redundancy, an objective on it is
    /// not measured if some failover's lag was not.
    #[serde(default)]
    pub lag_at_failover: Option<u64>,
    /// **Leader changes**: how many times the leader changed during the run, `leaders.len() - 1`
    /// (zero when no leader was seen).
    #[serde(default)]
    pub leader_changes: u64,
    /// Acknowledged writes lost; `None` if the history holds no read-back.
    pub lost_writes: Option<LostWrites>,
    pub unknown_writes: UnknownWrites,
    pub split_brain: SplitBrain,
    /// The leaders the probes saw, in order, each listed again only when the leader changed.
    pub leaders: Vec<String>,
    /// Acknowledged writes per accepting node.
    pub writes_per_node: BTreeMap<String, u64>,
    /// **Errors by kind**: every non-ok (`fail` or `unknown`) write of the run, counted by the
    /// kind the writer classified it as (kinds with no write left out). Writes recorded without
    /// a kind (older histories) are not counted.
    #[serde(default)]
    pub errors_by_kind: BTreeMap<ErrorKind, u64>,
    /// What the readers saw: stale reads on replicas and on a primary, max staleness (see
    /// [`Reads`]); `None` if the history holds no read (no readers).
    #[serde(default)]
    pub reads: Option<Reads>,
}

/// What one fault did to the writes and the leadership.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultMeasurements {
    /// The fault's index in the scenario's schedule.
    pub fault: usize,
    /// The fault kind ("crash", ...).
    pub kind: String,
    /// The node the fault hit.
    pub node: String,
    /// `F`: the instant the injection began.
    pub injected_at: At,
    /// **Detection time**: from `F` to the `complete` instant of the first non-ok (`fail` or
    /// `unknown`) write, by invoke instant, invoked at or after `F` and before the window's end.
    /// `None` if no such write: the clients never saw the fault.
    #[serde(default, with = "humantime_serde")]
    pub detection_time: Option<Duration>,
    /// The leader at `F`: the node of the latest probe sample reporting the leader role received
    /// before `F`, or, if there is none, the node the fault hit.
    pub old_leader: String,
    /// **Leader election time**: from `F` to the `received` instant of the first probe sample
    /// (by received instant), sent at or after `F` and before the window's end, in which a node
    /// other than `old_leader` reports the leader role. `None` if no such sample.
    #[serde(default, with = "humantime_serde")]
    pub leader_election_time: Option<Duration>,
    /// The node that sample named.
    pub new_leader: Option<String>,
    /// **Proxy switch time**, when a new leader was elected: from `F` to the `received`
    /// instant of the first sample of HAProxy's stats (by received instant), sent at or after
    /// `F` and before the window's end, in which `new_leader`'s server is UP and no server other
    /// than `new_leader`'s and `old_leader`'s is UP: the endpoint routes new connections to the
    /// new leader (and, until it is out of rotation, possibly still to the old one). A replica
    /// UP (a proxy blind to roles) is not a switch. `None` without an election, or if the proxy
    /// was not seen switching. (Files written before `old_leader_out_time` existed stored here
    /// the first sample with `new_leader` the only server UP; `analyze` recomputes it.)
    #[serde(default, with = "humantime_serde")]
    pub proxy_switch_time: Option<Duration>,
    /// **Old leader out of rotation**, when a new leader was elected: from `F` to the
    /// `received` instant of the first sample of HAProxy's stats (by received instant), sent at
    /// or after `F` and before the window's end, listing `old_leader`'s server with a status
    /// other than UP (`DOWN`, `MAINT`, ...; `UP 1/3`, failing checks, is still UP and still
    /// handed new connections). `None` without an election, or if no such sample.
    #[serde(default, with = "humantime_serde")]
    pub old_leader_out_time: Option<Duration>,
    /// The old leader's timeline at `F`: the `timeline` of its latest sample reporting the
    /// leader role with a timeline, received before `F`. `None` if no such sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_timeline: Option<u32>,
    /// **Promotion time**: from `F` to the `received` instant of the first probe sample (by
    /// received instant), sent at or after `F` and before the window's end, in which a node
    /// other than `old_leader` reports the leader role with a timeline greater than
    /// `old_timeline`: PostgreSQL on the new leader finished promoting (Patroni reports the
    /// timeline of the current WAL file). `None` if no such sample, or `old_timeline` is `None`.
    #[serde(default, with = "humantime_serde")]
    pub promotion_time: Option<Duration>,
    /// The node and the timeline of that sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_timeline: Option<u32>,
    /// **Replication lag at injection**, in bytes, for every node the leader at `F` (the node
    /// of the latest probe sample reporting the leader role received before `F`) listed in its
    /// `pg_stat_replication` in a `replication` sample received before `F`: from that leader's
    /// latest such sample in which it answered as a primary, its position (the later of its
    /// `wal` and the node's `sent`) minus the node's `flush`. A node that sample does not list
    /// (not connected) is read from the leader's latest earlier sample listing it: its flush
    /// then, against the leader's latest position. Never clamped: a flush past the position
    /// leaves the node out. Empty when there is no leader at `F` or no such sample.
    #[serde(default)]
    pub replica_lag_at_injection: BTreeMap<String, u64>,
    /// **Lag at failover**, in bytes, when a new leader was elected: with `E` the `received`
    /// instant of the probe sample that showed `new_leader` leading (the one that times the
    /// election), `new_leader`'s lag as above, read from `old_leader`'s latest `replication`
    /// sample received before `E` in which it answered as a primary: the WAL the old leader
    /// had written that the new leader had not flushed. `None` without an election, or if no
    /// such sample of the old leader lists the new leader.
    #[serde(default)]
    pub lag_at_failover: Option<u64>,
    /// The `at` of this fault's heal: the first heal event of the same fault index at or after
    /// `F`. `None` if the history holds none (the fault was never healed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healed_at: Option<At>,
    /// **Time to full redundancy**: from `F` to the `received` instant of the first probe
    /// sample (by received instant), sent at or after `F`, at or after `healed_at` if there is
    /// one, and before the window's end, in which a node reporting the leader role lists as
    /// `streaming` (`pg_stat_replication` state `streaming`) every *expected* node other than
    /// itself. Expected nodes: every node that appears in a probe sample of the history, except
    /// the nodes left down: those hit (`node`, or each of `nodes`) by an injection at or before
    /// `F` with no heal event of the same fault index after it. `None` if no such sample.
    #[serde(default, with = "humantime_serde")]
    pub time_to_full_redundancy: Option<Duration>,
    /// When full redundancy was not reached: the expected nodes the last leader sample
    /// considered did not list as streaming (empty if no leader sample was considered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_streaming: Vec<String>,
    /// **RTO (write downtime)**: from the end of the last ok write before the outage
    /// (`outage_start`) to the end of the first ok write after which every write attempt in the
    /// window succeeded (`recovered_at`).
    ///
    /// The outage's writes are the non-ok writes invoked before the window's end and completed
    /// at or after `F`; if there is none, writes never stopped and the RTO is zero. The outage
    /// starts at the latest `complete` of an ok write invoked before the first of them (by
    /// invoke) and completed no later than it did, or at `F` if there is none. Recovery is the
    /// first ok write (by invoke) invoked after the last of them (by invoke), where a failure
    /// more than 5 s (`rto::STABLE`) after such a recovery is a separate interruption
    /// (`failed_after_recovery`), not part of the outage. `None` (not measured) if no ok write
    /// follows (writes never recovered), or if the recovery was not confirmed: no write of the
    /// history was invoked 5 s or more after the recovery write was (the run's writes ended
    /// before 5 s of successful writes were seen; see `unconfirmed_recovery`).
    #[serde(default, with = "humantime_serde")]
    pub rto: Option<Duration>,
    /// Whether writes kept, or came back to, succeeding, confirmed as above (`rto` is measured).
    pub recovered: bool,
    /// The end of the last ok write before the outage; `None` if writes never stopped.
    pub outage_start: Option<At>,
    /// The end of the first ok write after the outage; `None` if writes never stopped, never
    /// recovered, or their recovery was not confirmed.
    pub recovered_at: Option<At>,
    /// Writes came back, but the recovery was not confirmed (see `rto`): where the recovery
    /// would be, and the last write's invoke. `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed_recovery: Option<UnconfirmedRecovery>,
    /// Writes that failed after the recovery, once writes had kept succeeding for 5 s
    /// (`rto::STABLE`): separate interruptions, not counted in the RTO.
    #[serde(default)]
    pub failed_after_recovery: u64,
    /// **RTO resolution**: how precisely the outage's edges are known, from the cadence of the
    /// write attempts: the larger of (the `invoke` of the outage's first non-ok write − the
    /// `invoke` of the last ok write invoked before it, or − `F` if there is none) and (the
    /// `invoke` of the recovery write − the `invoke` of the last non-ok write invoked before
    /// it). `None` when writes never stopped (the RTO is exactly zero), never recovered, or their
    /// recovery was not confirmed.
    #[serde(default, with = "humantime_serde")]
    pub rto_resolution: Option<Duration>,
    /// **Errors by kind**: the non-ok writes invoked at or after `F` and before the window's
    /// end, counted by the kind the writer classified them as.
    #[serde(default)]
    pub errors_by_kind: BTreeMap<ErrorKind, u64>,
    /// **Write latency** (`complete − invoke` of ok writes) before, during and after the fault:
    /// see [`WriteLatency`].
    #[serde(default)]
    pub write_latency: WriteLatency,
}

impl FaultMeasurements {
    /// Whether the fault made any write fail or time out.
    pub fn writes_stopped(&self) -> bool {
        self.outage_start.is_some()
    }

    /// "fault 1 (crash of pg1)": numbered from 1, as the reports number faults.
    fn describe(&self) -> String {
        format!("fault {} ({} of {})", self.fault + 1, self.kind, self.node)
    }

    /// Why full redundancy was not reached after this fault, in a few words ("pg3 not
    /// streaming"); `None` if it was reached.
    pub fn redundancy_gap(&self) -> Option<String> {
        if self.time_to_full_redundancy.is_some() {
            return None;
        }
        Some(match (self.not_streaming.as_slice(), self.healed_at) {
            ([], Some(_)) => "no leader probed after the heal, within the fault's window".into(),
            ([], None) => "no leader probed after the fault, within its window".into(),
            (nodes, _) => format!("{} not streaming from the leader", nodes.join(", ")),
        })
    }
}

/// Computes every measurement from the history.
pub fn measure(history: &History) -> Measurements {
    let writes = writes::ordered(history);
    let probes = leader::ordered(history);
    let proxy_samples = proxy::ordered(history);
    let replication = lag::ordered(history);
    let fault_events: Vec<_> = history.faults().collect();
    let injections: Vec<_> = fault_events
        .iter()
        .copied()
        .filter(|f| f.action == FaultAction::Inject)
        .collect();
    let starts: Vec<At> = injections.iter().map(|f| f.at).collect();
    let windows = Window::of_faults(&starts);

    // the end of each fault's *during* phase: the next fault's *before* starts there
    let outages: Vec<rto::Outage> = windows.iter().map(|&w| rto::outage(&writes, w)).collect();
    let during_until: Vec<Option<At>> = injections
        .iter()
        .zip(&windows)
        .zip(&outages)
        .map(|((f, &w), o)| latency::during_until(w, o, redundancy::healed_at(&fault_events, f)))
        .collect();
    let before_from = |window: Window| {
        windows
            .iter()
            .zip(&during_until)
            .filter(|(w, _)| w.end == Some(window.start))
            .filter_map(|(_, &d)| d)
            .max()
            .unwrap_or(At(0))
    };

    let faults: Vec<FaultMeasurements> = injections
        .iter()
        .zip(&windows)
        .zip(outages.iter().zip(&during_until))
        .map(|((f, &window), (outage, &during_until))| {
            let leader_at_f = leader::leader_at(&probes, f.at);
            let replica_lag_at_injection =
                lag::lag_at_injection(&replication, leader_at_f.as_deref(), f.at);
            let old_leader = leader_at_f.unwrap_or_else(|| f.node.clone());
            let election = leader::election(&probes, window, &old_leader);
            let proxy_switch_time = election.as_ref().and_then(|e| {
                proxy::switch_time(&proxy_samples, window, &old_leader, &e.new_leader)
            });
            let old_leader_out_time = election
                .as_ref()
                .and_then(|_| proxy::old_leader_out_time(&proxy_samples, window, &old_leader));
            let old_timeline = leader::leader_timeline_at(&probes, &old_leader, f.at);
            let promotion = leader::promotion(&probes, window, &old_leader, old_timeline);
            let lag_at_failover = election.as_ref().and_then(|e| {
                lag::lag_at_failover(&replication, &old_leader, &e.new_leader, e.seen)
            });
            let redundancy = redundancy::full_redundancy(
                &probes,
                &fault_events,
                f,
                window,
                election.as_ref().map(|e| e.seen),
            );
            FaultMeasurements {
                fault: f.fault,
                kind: f.kind.clone(),
                node: f.node.clone(),
                injected_at: f.at,
                detection_time: rto::detection_time(&writes, window),
                old_leader,
                leader_election_time: election.as_ref().map(|e| e.time),
                new_leader: election.map(|e| e.new_leader),
                proxy_switch_time,
                old_leader_out_time,
                old_timeline,
                promotion_time: promotion.as_ref().map(|p| p.time),
                promoted_timeline: promotion.as_ref().map(|p| p.timeline),
                promoted: promotion.map(|p| p.node),
                replica_lag_at_injection,
                lag_at_failover,
                healed_at: redundancy::healed_at(&fault_events, f),
                time_to_full_redundancy: redundancy.time,
                not_streaming: redundancy.not_streaming,
                rto: outage.rto,
                recovered: outage.rto.is_some(),
                outage_start: outage.start,
                recovered_at: outage.recovered_at,
                unconfirmed_recovery: outage.unconfirmed,
                failed_after_recovery: outage.failed_after_recovery,
                rto_resolution: outage.resolution,
                errors_by_kind: writes::errors_by_kind(&writes, window),
                write_latency: latency::write_latency(
                    &writes,
                    window,
                    before_from(window),
                    during_until,
                ),
            }
        })
        .collect();

    let counts = writes::counts(&writes);
    let (rto, rto_resolution, unconfirmed_recovery) = if faults.is_empty() {
        let whole = rto::outage(&writes, Window::WHOLE);
        (whole.rto, whole.resolution, whole.unconfirmed)
    } else {
        (
            faults
                .iter()
                .map(|f| f.rto)
                .try_fold(Duration::ZERO, |worst, r| r.map(|r| worst.max(r))),
            faults.iter().filter_map(|f| f.rto_resolution).max(),
            faults
                .iter()
                .find(|f| f.rto.is_none())
                .and_then(|f| f.unconfirmed_recovery),
        )
    };
    let read_back = history.read_back();
    let leaders = leader::leaders(&probes);
    Measurements {
        writes: counts,
        rto,
        unconfirmed_recovery,
        detection_time: faults.iter().filter_map(|f| f.detection_time).max(),
        leader_election_time: faults.iter().filter_map(|f| f.leader_election_time).max(),
        proxy_switch_time: faults.iter().filter_map(|f| f.proxy_switch_time).max(),
        old_leader_out_time: faults.iter().filter_map(|f| f.old_leader_out_time).max(),
        promotion_time: faults.iter().filter_map(|f| f.promotion_time).max(),
        rto_resolution,
        time_to_full_redundancy: faults
            .iter()
            .filter_map(|f| f.time_to_full_redundancy)
            .max(),
        lag_at_failover: faults.iter().filter_map(|f| f.lag_at_failover).max(),
        leader_changes: leaders.len().saturating_sub(1) as u64,
        lost_writes: loss::lost_writes(&writes, read_back, &starts),
        unknown_writes: loss::unknown_writes(&writes, read_back),
        split_brain: split_brain::split_brain(
            &writes,
            &probes,
            &history.replication_samples().collect::<Vec<_>>(),
        ),
        leaders,
        writes_per_node: writes::per_node(&writes),
        errors_by_kind: writes::errors_by_kind(&writes, Window::WHOLE),
        reads: reads::reads(&history.reads().collect::<Vec<_>>(), &writes),
        faults,
    }
}

impl Measurements {
    /// The value an objective on `measure` is judged against, or why it could not be measured.
    pub fn value(&self, measure: Measure) -> Result<MeasuredValue, String> {
        match measure {
            Measure::Rto => self
                .rto
                .map(MeasuredValue::Duration)
                .ok_or_else(|| self.rto_not_measured()),
            Measure::LostWrites => self
                .lost_writes
                .as_ref()
                .map(|l| MeasuredValue::Count(l.count))
                .ok_or_else(|| "no read-back after recovery".to_string()),
            Measure::SplitBrain => match &self.split_brain.not_measured {
                Some(why) if !self.split_brain.detected => Err(why.clone()),
                _ => Ok(MeasuredValue::Bool(self.split_brain.detected)),
            },
            Measure::DetectionTime => self
                .detection_time
                .map(MeasuredValue::Duration)
                .ok_or_else(|| self.per_fault_reason("no write failed after any fault")),
            Measure::LeaderElectionTime => {
                // A fault that hit the leader with no election after it would otherwise drop
                // out of the worst, understating it.
                if let Some(f) = self
                    .faults
                    .iter()
                    .find(|f| f.node == f.old_leader && f.leader_election_time.is_none())
                    .filter(|_| self.leader_election_time.is_some())
                {
                    return Err(format!(
                        "no probe saw a different leader after {}",
                        f.describe()
                    ));
                }
                self.leader_election_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| {
                        self.per_fault_reason("no probe saw a different leader after any fault")
                    })
            }
            Measure::ProxySwitchTime => {
                self.at_every_failover(
                    |f| f.proxy_switch_time.is_some(),
                    |f| {
                        format!(
                            "haproxy was not seen routing to {} (up, with no replica up) after {}",
                            f.new_leader.as_deref().unwrap_or_default(),
                            f.describe()
                        )
                    },
                )?;
                self.proxy_switch_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| "no failover happened".to_string())
            }
            Measure::OldLeaderOutTime => {
                self.at_every_failover(
                    |f| f.old_leader_out_time.is_some(),
                    |f| {
                        format!(
                            "haproxy was not seen taking {} out of rotation after {}",
                            f.old_leader,
                            f.describe()
                        )
                    },
                )?;
                self.old_leader_out_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| "no failover happened".to_string())
            }
            Measure::TimeToFullRedundancy => {
                if let Some(f) = self
                    .faults
                    .iter()
                    .find(|f| f.time_to_full_redundancy.is_none())
                {
                    let gap = f.redundancy_gap().unwrap_or_default();
                    return Err(format!(
                        "full redundancy not reached after {}: {gap}",
                        f.describe()
                    ));
                }
                self.time_to_full_redundancy
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| self.per_fault_reason("full redundancy never reached"))
            }
            Measure::LagAtFailover => {
                self.at_every_failover(
                    |f| f.lag_at_failover.is_some(),
                    |f| {
                        format!(
                            "{} was not seen as a primary listing {} in pg_stat_replication \
                             before the election after {}",
                            f.old_leader,
                            f.new_leader.as_deref().unwrap_or_default(),
                            f.describe()
                        )
                    },
                )?;
                self.lag_at_failover
                    .map(MeasuredValue::Bytes)
                    .ok_or_else(|| "no failover happened".to_string())
            }
            Measure::PromotionTime => {
                self.at_every_failover(
                    |f| f.promotion_time.is_some(),
                    |f| match f.old_timeline {
                        None => format!(
                            "no timeline probed for {} as leader before {}",
                            f.old_leader,
                            f.describe()
                        ),
                        Some(t) => format!(
                            "no new leader probed on a timeline above {t} after {}",
                            f.describe()
                        ),
                    },
                )?;
                self.promotion_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| "no failover happened".to_string())
            }
            Measure::Rpo => self
                .rpo()
                .map(MeasuredValue::Duration)
                .ok_or_else(|| "no read-back after recovery".to_string()),
            Measure::StaleReads => match &self.reads {
                None => Err("no readers".to_string()),
                Some(r) if r.judged == 0 => Err(format!(
                    "no read was judged: {} of {} failed, the others found no acknowledged write \
                     to look for",
                    r.failed, r.total
                )),
                Some(r) => Ok(MeasuredValue::Count(r.stale)),
            },
            Measure::LeaderChanges => {
                if self.leaders.is_empty() {
                    Err("no probe saw a leader".to_string())
                } else {
                    Ok(MeasuredValue::Count(self.leader_changes))
                }
            }
        }
    }

    /// Why the RTO was not measured: after the first fault whose RTO was not, writes never
    /// recovered, or their recovery was not confirmed (and when).
    fn rto_not_measured(&self) -> String {
        match self.faults.iter().find(|f| f.rto.is_none()) {
            Some(f) => match &f.unconfirmed_recovery {
                Some(u) => format!(
                    "recovery after {} unconfirmed: {}",
                    f.describe(),
                    u.describe()
                ),
                None => format!("writes never recovered after {}", f.describe()),
            },
            None => match &self.unconfirmed_recovery {
                Some(u) => format!("recovery unconfirmed: {}", u.describe()),
                None => "writes never recovered".to_string(),
            },
        }
    }

    /// What RPO measures, in the words every report and the README use (see
    /// [`LostWrites::rpo`], which computes it).
    pub const RPO_DEFINITION: &'static str = "the longest span of acknowledged writes lost to \
         one fault: lost writes are grouped by the first fault injected at or after their \
         invoke (those invoked after every fault form one more group, without an F); a group \
         spans from its oldest write's invoke to the later of its fault's F and its newest \
         write's complete";

    /// **RPO** as an objective judges it: the lost writes' RPO (see [`LostWrites::rpo`]), zero
    /// when no acknowledged write was lost; `None` without a read-back (nothing was judged).
    pub fn rpo(&self) -> Option<Duration> {
        self.lost_writes
            .as_ref()
            .map(|l| l.rpo.unwrap_or(Duration::ZERO))
    }

    /// Whether writes never stopped: no write failed or timed out within any fault's window (or
    /// at all, when no fault was injected). The RTO is then zero, and reported so.
    pub fn writes_never_stopped(&self) -> bool {
        if self.faults.is_empty() {
            self.writes.not_ok() == 0
        } else {
            self.faults.iter().all(|f| !f.writes_stopped())
        }
    }

    /// For a measurement taken at each failover (a fault followed by a new leader): `Ok` if
    /// every failover has it; else why not, for the first failover without it, or because there
    /// was no failover. The worst of the others would understate it.
    fn at_every_failover(
        &self,
        measured: impl Fn(&FaultMeasurements) -> bool,
        why_not: impl Fn(&FaultMeasurements) -> String,
    ) -> Result<(), String> {
        let mut failovers = self
            .faults
            .iter()
            .filter(|f| f.new_leader.is_some())
            .peekable();
        if failovers.peek().is_none() {
            return Err(self.per_fault_reason("no failover happened"));
        }
        match failovers.find(|f| !measured(f)) {
            Some(f) => Err(why_not(f)),
            None => Ok(()),
        }
    }

    fn per_fault_reason(&self, reason: &str) -> String {
        if self.faults.is_empty() {
            "no fault injected".to_string()
        } else {
            reason.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::history::{Event, Role};
    use proptest::prelude::*;

    #[test]
    fn no_faults_and_no_failures_is_zero_rto() {
        let h = history(
            (0..10)
                .map(|k| ok(k, ms(10 * k), ms(10 * k + 2), "pg1", 1))
                .collect(),
        );
        let m = measure(&h);
        assert_eq!(m.rto, Some(Duration::ZERO));
        assert!(m.writes_never_stopped());
        assert_eq!(
            m.value(Measure::Rto),
            Ok(MeasuredValue::Duration(Duration::ZERO))
        );
        assert_eq!(
            m.value(Measure::DetectionTime),
            Err("no fault injected".to_string())
        );
        assert_eq!(
            m.value(Measure::LeaderElectionTime),
            Err("no fault injected".to_string())
        );
        assert_eq!(
            m.value(Measure::LostWrites),
            Err("no read-back after recovery".to_string())
        );
        assert_eq!(
            m.value(Measure::SplitBrain),
            Err("no role probes in the history".to_string())
        );
    }

    #[test]
    fn no_faults_with_failures_measures_from_the_start() {
        let events = vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(10), ms(11)),
            ok(3, ms(20), ms(25), "pg1", 1),
        ];
        let mut h = history(events.clone());
        h.extend(steady(4, ms(30), "pg1", 1));
        let m = measure(&h);
        assert_eq!(m.rto, Some(Duration::from_millis(23)));
        assert_eq!(m.unconfirmed_recovery, None);
        assert!(!m.writes_never_stopped());

        // the writes end at the recovery: not confirmed, not measured
        let m = measure(&history(events));
        assert_eq!(m.rto, None);
        assert_eq!(m.rto_resolution, None);
        assert_eq!(
            m.unconfirmed_recovery,
            Some(UnconfirmedRecovery {
                recovered_at: ms(25),
                last_write: ms(20),
            })
        );
        assert_eq!(
            m.value(Measure::Rto),
            Err(
                "recovery unconfirmed: writes recovered at t+0.025s, but the last write was \
                 attempted 0.000s later, before 5s of successful writes confirmed it"
                    .to_string()
            )
        );
    }

    #[test]
    fn a_recovery_the_run_ended_too_soon_to_confirm_is_not_measured() {
        // fault 1 recovers at 300 ms and is confirmed by the writes after fault 2; fault 2's
        // recovery at 1.5 s is followed by 4.5 s of writes only
        let mut h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(100)),
            failed(2, ms(110), ms(111)),
            ok(3, ms(300), ms(302), "pg2", 2),
            inject(1, "pg2", ms(1000)),
            failed(4, ms(1010), ms(1050)),
            ok(5, ms(1500), ms(1501), "pg3", 3),
        ]);
        h.extend((0..45).map(|k| ok(6 + k, ms(1_600 + 100 * k), ms(1_602 + 100 * k), "pg3", 3)));
        let m = measure(&h);
        let (f0, f1) = (&m.faults[0], &m.faults[1]);
        assert_eq!(f0.rto, Some(Duration::from_millis(300)));
        assert!(f0.recovered);
        assert_eq!(f0.unconfirmed_recovery, None);
        assert_eq!(f1.rto, None);
        assert!(!f1.recovered);
        assert_eq!(f1.outage_start, Some(ms(302)));
        assert_eq!(f1.recovered_at, None);
        assert_eq!(f1.rto_resolution, None);
        let u = UnconfirmedRecovery {
            recovered_at: ms(1_501),
            last_write: ms(6_000),
        };
        assert_eq!(f1.unconfirmed_recovery, Some(u));
        assert_eq!(m.rto, None);
        assert_eq!(m.unconfirmed_recovery, Some(u));
        assert_eq!(m.rto_resolution, f0.rto_resolution);
        assert_eq!(
            m.value(Measure::Rto),
            Err(
                "recovery after fault 2 (crash of pg2) unconfirmed: writes recovered at \
                 t+1.501s, but the last write was attempted 4.499s later, before 5s of \
                 successful writes confirmed it"
                    .to_string()
            )
        );
        // the unconfirmed recovery still ends the during phase of the write latency
        assert_eq!(f1.write_latency.during_until, Some(ms(1_501)));
        assert_eq!(f1.write_latency.after.unwrap().count, 45);

        // it survives run.json; a run.json written before it loads with none
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(
            json["unconfirmed_recovery"],
            serde_json::json!({"recovered_at": 1_501_000_000u64, "last_write": 6_000_000_000u64})
        );
        assert_eq!(json["faults"][0].get("unconfirmed_recovery"), None);
        let back: Measurements = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, m);
        let mut old = json;
        old.as_object_mut().unwrap().remove("unconfirmed_recovery");
        old["faults"][1]
            .as_object_mut()
            .unwrap()
            .remove("unconfirmed_recovery");
        let old: Measurements = serde_json::from_value(old).unwrap();
        assert_eq!(old.unconfirmed_recovery, None);
        assert_eq!(old.faults[1].unconfirmed_recovery, None);
    }

    #[test]
    fn never_recovered_is_not_measured() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            failed(2, ms(10), ms(11)),
            heal(0, "pg1", ms(15)),
            failed(3, ms(20), ms(21)),
        ]);
        let m = measure(&h);
        assert_eq!(m.faults.len(), 1, "heal events are not faults");
        assert!(!m.faults[0].recovered);
        assert_eq!(m.rto, None);
        assert_eq!(
            m.value(Measure::Rto),
            Err("writes never recovered after fault 1 (crash of pg1)".to_string())
        );
        assert_eq!(m.faults[0].detection_time, Some(Duration::from_millis(6)));
        assert_eq!(m.faults[0].old_leader, "pg1", "no probes: the fault's node");
        assert_eq!(
            m.value(Measure::LeaderElectionTime),
            Err("no probe saw a different leader after any fault".to_string())
        );
    }

    #[test]
    fn worst_fault_sets_the_overall_values() {
        let mut h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(100)),
            failed(2, ms(110), ms(111)),
            probe("pg2", ms(200), ms(203), Some(Role::Leader)),
            ok(3, ms(300), ms(302), "pg2", 2),
            inject(1, "pg2", ms(1000)),
            failed(4, ms(1010), ms(1050)),
            probe("pg3", ms(1100), ms(1101), Some(Role::Leader)),
            ok(5, ms(1500), ms(1501), "pg3", 3),
        ]);
        h.extend(steady(6, ms(1600), "pg3", 3));
        let m = measure(&h);
        assert_eq!(m.faults[0].rto, Some(Duration::from_millis(300)));
        assert_eq!(m.faults[1].rto, Some(Duration::from_millis(1199)));
        assert_eq!(m.rto, Some(Duration::from_millis(1199)));
        assert_eq!(m.faults[0].new_leader.as_deref(), Some("pg2"));
        assert_eq!(m.faults[1].old_leader, "pg2");
        assert_eq!(m.faults[1].new_leader.as_deref(), Some("pg3"));
        assert_eq!(m.leader_election_time, Some(Duration::from_millis(103)));
        assert_eq!(m.detection_time, Some(Duration::from_millis(50)));
        assert_eq!(m.leaders, ["pg1", "pg2", "pg3"]);
        assert_eq!(m.writes_per_node.len(), 3);
    }

    #[test]
    fn a_leader_fault_without_an_election_leaves_the_election_time_unmeasured() {
        // The second crash of the leader saw no new leader: the worst over the first alone
        // would understate the election time.
        let h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            inject(0, "pg1", ms(100)),
            probe("pg2", ms(200), ms(203), Some(Role::Leader)),
            inject(1, "pg2", ms(1000)),
            probe("pg3", ms(1100), ms(1101), Some(Role::Replica)),
        ]);
        let m = measure(&h);
        assert_eq!(m.leader_election_time, Some(Duration::from_millis(103)));
        assert_eq!(
            m.value(Measure::LeaderElectionTime),
            Err("no probe saw a different leader after fault 2 (crash of pg2)".to_string())
        );
    }

    #[test]
    fn replication_measurements_per_fault_and_overall() {
        let h = history(vec![
            probe_wal(
                "pg1",
                ms(0),
                ms(1),
                Role::Leader,
                Some(10_000),
                &["pg2", "pg3"],
            ),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, Some(9_000), &[]),
            probe_wal("pg3", ms(0), ms(1), Role::Replica, Some(10_000), &[]),
            primary_at(
                "pg1",
                ms(0),
                ms(1),
                10_000,
                &[("pg2", 9_000), ("pg3", 10_000)],
            ),
            // received at F: not read at injection, read for the failover
            primary_at("pg1", ms(99), ms(100), 10_000, &[("pg2", 9_500)]),
            inject(0, "pg1", ms(100)),
            probe("pg1", ms(150), ms(151), None),
            probe_wal("pg2", ms(150), ms(151), Role::Replica, Some(9_500), &[]),
            probe_wal("pg2", ms(200), ms(203), Role::Leader, Some(9_600), &["pg3"]),
            heal(0, "pg1", ms(300)),
            probe_wal("pg1", ms(310), ms(311), Role::Replica, Some(9_600), &[]),
            probe_wal(
                "pg2",
                ms(400),
                ms(404),
                Role::Leader,
                Some(9_700),
                &["pg1", "pg3"],
            ),
            primary_at(
                "pg2",
                ms(400),
                ms(404),
                9_700,
                &[("pg1", 9_600), ("pg3", 9_700)],
            ),
            // a replica crashed for good: no failover, pg3 not expected back
            inject(1, "pg3", ms(1000)),
            probe_wal(
                "pg2",
                ms(1100),
                ms(1102),
                Role::Leader,
                Some(9_800),
                &["pg1"],
            ),
        ]);
        let m = measure(&h);
        let (f0, f1) = (&m.faults[0], &m.faults[1]);
        assert_eq!(
            f0.replica_lag_at_injection,
            BTreeMap::from([("pg2".to_string(), 1_000), ("pg3".to_string(), 0)])
        );
        assert_eq!(f0.lag_at_failover, Some(500));
        assert_eq!(f0.healed_at, Some(ms(300)));
        assert_eq!(f0.time_to_full_redundancy, Some(Duration::from_millis(304)));
        assert_eq!(f0.redundancy_gap(), None);
        assert_eq!(
            f1.replica_lag_at_injection,
            BTreeMap::from([("pg1".to_string(), 100), ("pg3".to_string(), 0)]),
            "from pg2's pg_stat_replication alone, not pg3's own (older, higher) position"
        );
        assert_eq!(f1.new_leader, None);
        assert_eq!(f1.lag_at_failover, None);
        assert_eq!(f1.healed_at, None);
        assert_eq!(f1.time_to_full_redundancy, Some(Duration::from_millis(102)));
        assert_eq!(m.time_to_full_redundancy, Some(Duration::from_millis(304)));
        assert_eq!(m.lag_at_failover, Some(500));
        assert_eq!(m.leader_changes, 1);
        assert_eq!(
            m.value(Measure::TimeToFullRedundancy),
            Ok(MeasuredValue::Duration(Duration::from_millis(304)))
        );
        assert_eq!(
            m.value(Measure::LagAtFailover),
            Ok(MeasuredValue::Bytes(500))
        );
        assert_eq!(m.value(Measure::LeaderChanges), Ok(MeasuredValue::Count(1)));
    }

    #[test]
    fn replication_measurements_not_taken_say_why() {
        let m = measure(&history(vec![]));
        assert_eq!(m.leader_changes, 0);
        assert_eq!(
            m.value(Measure::LeaderChanges),
            Err("no probe saw a leader".to_string())
        );
        assert_eq!(
            m.value(Measure::TimeToFullRedundancy),
            Err("no fault injected".to_string())
        );
        assert_eq!(
            m.value(Measure::LagAtFailover),
            Err("no fault injected".to_string())
        );

        // a replica crashed and restarted, never streaming again; no failover
        let h = history(vec![
            probe_wal(
                "pg1",
                ms(0),
                ms(1),
                Role::Leader,
                Some(100),
                &["pg2", "pg3"],
            ),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, Some(100), &[]),
            probe_wal("pg3", ms(0), ms(1), Role::Replica, Some(100), &[]),
            inject(0, "pg3", ms(100)),
            heal(0, "pg3", ms(200)),
            probe_wal("pg1", ms(300), ms(301), Role::Leader, Some(200), &["pg2"]),
        ]);
        let m = measure(&h);
        assert_eq!(m.faults[0].time_to_full_redundancy, None);
        assert_eq!(m.faults[0].not_streaming, ["pg3"]);
        assert_eq!(m.time_to_full_redundancy, None);
        assert_eq!(
            m.value(Measure::TimeToFullRedundancy),
            Err(
                "full redundancy not reached after fault 1 (crash of pg3): pg3 not streaming \
                 from the leader"
                    .to_string()
            )
        );
        assert_eq!(
            m.value(Measure::LagAtFailover),
            Err("no failover happened".to_string())
        );
        assert_eq!(m.value(Measure::LeaderChanges), Ok(MeasuredValue::Count(0)));

        // a failover without WAL positions, and no leader probed after the heal
        let h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            inject(0, "pg1", ms(100)),
            probe("pg2", ms(200), ms(201), Some(Role::Leader)),
            heal(0, "pg1", ms(300)),
            probe("pg1", ms(400), ms(401), Some(Role::Replica)),
        ]);
        let m = measure(&h);
        assert_eq!(m.faults[0].new_leader.as_deref(), Some("pg2"));
        assert_eq!(m.faults[0].lag_at_failover, None);
        assert!(m.faults[0].replica_lag_at_injection.is_empty());
        assert_eq!(
            m.value(Measure::LagAtFailover),
            Err(
                "pg1 was not seen as a primary listing pg2 in pg_stat_replication before the \
                 election after fault 1 (crash of pg1)"
                    .to_string()
            )
        );
        assert_eq!(
            m.value(Measure::TimeToFullRedundancy),
            Err(
                "full redundancy not reached after fault 1 (crash of pg1): no leader probed \
                 after the heal, within the fault's window"
                    .to_string()
            )
        );
    }

    #[test]
    fn overall_values_are_the_worst_measured_but_objectives_need_every_fault() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, Some(1_000), &["pg2"]),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, Some(900), &[]),
            primary_at("pg1", ms(0), ms(1), 1_000, &[("pg2", 900)]),
            inject(0, "pg1", ms(100)),
            probe_wal("pg2", ms(200), ms(201), Role::Leader, Some(1_000), &[]),
            heal(0, "pg1", ms(300)),
            probe_wal("pg1", ms(400), ms(401), Role::Replica, Some(1_000), &[]),
            probe_wal("pg2", ms(500), ms(502), Role::Leader, Some(1_300), &["pg1"]),
            primary_at("pg2", ms(500), ms(502), 1_300, &[("pg1", 1_000)]),
            // a second failover: pg2 last listed pg1 at 1000
            inject(1, "pg2", ms(1000)),
            probe_wal("pg1", ms(1100), ms(1101), Role::Leader, Some(1_300), &[]),
            // pg2 restarted, never streaming again
            heal(1, "pg2", ms(1200)),
            probe_wal("pg1", ms(1300), ms(1301), Role::Leader, Some(1_400), &[]),
        ]);
        let m = measure(&h);
        assert_eq!(m.faults[0].lag_at_failover, Some(100));
        assert_eq!(m.faults[1].lag_at_failover, Some(300));
        assert_eq!(m.lag_at_failover, Some(300));
        assert_eq!(m.leaders, ["pg1", "pg2", "pg1"]);
        assert_eq!(m.leader_changes, 2);
        assert_eq!(
            m.faults[0].time_to_full_redundancy,
            Some(Duration::from_millis(402))
        );
        assert_eq!(m.faults[1].time_to_full_redundancy, None);
        assert_eq!(m.faults[1].not_streaming, ["pg2"]);
        assert_eq!(m.time_to_full_redundancy, Some(Duration::from_millis(402)));
        assert_eq!(
            m.value(Measure::TimeToFullRedundancy),
            Err(
                "full redundancy not reached after fault 2 (crash of pg2): pg2 not streaming \
                 from the leader"
                    .to_string()
            )
        );
        assert_eq!(
            m.value(Measure::LagAtFailover),
            Ok(MeasuredValue::Bytes(300))
        );
    }

    fn leader_tl(node: &str, sent: u64, timeline: u32) -> Event {
        with_timeline(
            probe(node, ms(sent), ms(sent + 1), Some(Role::Leader)),
            Some(timeline),
        )
    }

    /// pg1 leads on timeline 1 and is crashed at 100 ms; pg2 leads at 200 ms, promoted at
    /// 300 ms; pg2 is crashed at 1000 ms, pg3 leads at 1100 ms, promoted at 1500 ms. Writes every
    /// 10 ms up to 7 s fail from 100 to 400 ms and from 1000 to 1600 ms (a 20 ms gap at 1300 ms):
    /// both recoveries are confirmed by 5 s of writes after them.
    fn two_failovers() -> Vec<Event> {
        let mut events = vec![
            leader_tl("pg1", 0, 1),
            inject(0, "pg1", ms(100)),
            leader_tl("pg2", 200, 1),
            leader_tl("pg2", 300, 2),
            heal(0, "pg1", ms(700)),
            inject(1, "pg2", ms(1000)),
            leader_tl("pg3", 1100, 2),
            leader_tl("pg3", 1500, 3),
        ];
        for k in 0..700u64 {
            let t = 10 * k;
            if (100..400).contains(&t) || ((1000..1600).contains(&t) && t != 1300 && t != 1310) {
                let kind = if t < 1000 {
                    ErrorKind::ConnectRefused
                } else {
                    ErrorKind::ReadOnly
                };
                events.push(not_ok(k, ms(t), ms(t + 1), kind));
            } else {
                // latency: 1 ms before 1 s, 2 ms after
                let lat = 1 + u64::from(t >= 1000);
                let (node, tl) = if t < 1000 { ("pg2", 2) } else { ("pg3", 3) };
                let (node, tl) = if t < 100 { ("pg1", 1) } else { (node, tl) };
                events.push(ok(k, ms(t), ms(t + lat), node, tl));
            }
        }
        events
    }

    #[test]
    fn promotion_resolution_errors_and_latency_per_fault() {
        let m = measure(&history(two_failovers()));
        let (f0, f1) = (&m.faults[0], &m.faults[1]);
        assert_eq!(f0.old_timeline, Some(1));
        assert_eq!(f0.leader_election_time, Some(Duration::from_millis(101)));
        assert_eq!(f0.promotion_time, Some(Duration::from_millis(201)));
        assert_eq!(f0.promoted.as_deref(), Some("pg2"));
        assert_eq!(f1.old_timeline, Some(2));
        assert_eq!(f1.promotion_time, Some(Duration::from_millis(501)));
        assert_eq!(f1.promoted_timeline, Some(3));
        assert_eq!(m.promotion_time, Some(Duration::from_millis(501)));
        assert_eq!(
            m.value(Measure::PromotionTime),
            Ok(MeasuredValue::Duration(Duration::from_millis(501)))
        );

        // writes every 10 ms: both edges of the first outage known to 10 ms; the second
        // outage's ok writes at 1.3 s are a flap, its edges are known to 10 ms too
        assert_eq!(f0.rto_resolution, Some(Duration::from_millis(10)));
        assert_eq!(f1.rto_resolution, Some(Duration::from_millis(10)));
        assert_eq!(f1.recovered_at, Some(ms(1602)));
        assert_eq!(m.rto_resolution, Some(Duration::from_millis(10)));

        assert_eq!(
            f0.errors_by_kind,
            BTreeMap::from([(ErrorKind::ConnectRefused, 30)])
        );
        assert_eq!(
            f1.errors_by_kind,
            BTreeMap::from([(ErrorKind::ReadOnly, 58)])
        );
        assert_eq!(
            m.errors_by_kind,
            BTreeMap::from([(ErrorKind::ConnectRefused, 30), (ErrorKind::ReadOnly, 58)])
        );

        // fault 0: before [0, 100), during [100, 401), after [401, 1000)
        let l0 = &f0.write_latency;
        assert_eq!((l0.before_from, l0.during_until), (At(0), Some(ms(401))));
        assert_eq!(l0.before.unwrap().count, 10);
        assert_eq!(l0.during.unwrap().count, 1, "the recovery write at 400 ms");
        assert_eq!(l0.after.unwrap().count, 59);
        // fault 1: before from fault 0's recovery, during [1000, 1602), after to the end
        let l1 = &f1.write_latency;
        assert_eq!((l1.before_from, l1.during_until), (ms(401), Some(ms(1602))));
        assert_eq!(l1.before.unwrap().count, 59);
        assert_eq!(l1.before.unwrap().max, Duration::from_millis(1));
        let during = l1.during.unwrap();
        assert_eq!((during.count, during.max), (3, Duration::from_millis(2)));
        assert_eq!(l1.after.unwrap().count, 539);
    }

    #[test]
    fn promotion_and_rpo_not_measured_say_why() {
        let m = measure(&history(vec![]));
        assert_eq!(
            m.value(Measure::PromotionTime),
            Err("no fault injected".to_string())
        );
        assert_eq!(
            m.value(Measure::Rpo),
            Err("no read-back after recovery".to_string())
        );

        // a replica crashed: no failover
        let h = history(vec![
            leader_tl("pg1", 0, 1),
            inject(0, "pg3", ms(100)),
            leader_tl("pg1", 200, 1),
        ]);
        assert_eq!(
            measure(&h).value(Measure::PromotionTime),
            Err("no failover happened".to_string())
        );

        // a failover without timelines before F
        let h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            inject(0, "pg1", ms(100)),
            leader_tl("pg2", 200, 2),
        ]);
        let m = measure(&h);
        assert_eq!(m.faults[0].old_timeline, None);
        assert_eq!(m.faults[0].promotion_time, None);
        assert_eq!(
            m.value(Measure::PromotionTime),
            Err("no timeline probed for pg1 as leader before fault 1 (crash of pg1)".to_string())
        );

        // a new leader never seen on a higher timeline; a later fault promoted fine
        let mut events = two_failovers();
        events
            .retain(|e| !matches!(e, Event::Probe(p) if p.node == "pg2" && p.timeline == Some(2)));
        let m = measure(&history(events));
        assert_eq!(m.faults[0].promotion_time, None);
        // pg2's last timeline as leader was 1: pg3 on timeline 2 is a promotion
        assert_eq!(m.faults[1].old_timeline, Some(1));
        assert_eq!(m.promotion_time, Some(Duration::from_millis(101)));
        assert_eq!(
            m.value(Measure::PromotionTime),
            Err(
                "no new leader probed on a timeline above 1 after fault 1 (crash of pg1)"
                    .to_string()
            )
        );

        // RPO: zero when nothing was lost, the lost writes' RPO otherwise
        let mut h = history(two_failovers());
        let all: Vec<u64> = h
            .writes()
            .filter(|w| w.outcome == crate::history::Outcome::Ok)
            .map(|w| w.seq)
            .collect();
        h.extend([read_back(ms(8_000), all.clone())]);
        let m = measure(&h);
        assert_eq!(
            m.value(Measure::Rpo),
            Ok(MeasuredValue::Duration(Duration::ZERO))
        );
        let mut h = history(two_failovers());
        // seq 5 (invoked at 50 ms) is lost: 50 ms before the first fault
        h.extend([read_back(
            ms(8_000),
            all.into_iter().filter(|&s| s != 5).collect(),
        )]);
        let m = measure(&h);
        assert_eq!(m.lost_writes.as_ref().unwrap().seqs, [5]);
        assert_eq!(
            m.value(Measure::Rpo),
            Ok(MeasuredValue::Duration(Duration::from_millis(50)))
        );
    }

    #[test]
    fn proxy_switch_and_old_leader_out_are_measured_per_failover() {
        let mut events = two_failovers();
        events.extend([
            // fault 1 (F = 100 ms): pg2 UP beside pg1 at 450 ms, pg1 out at 650 ms
            proxy(ms(150), ms(151), &["pg1"]),
            proxy(ms(450), ms(452), &["pg1", "pg2"]),
            proxy(ms(650), ms(653), &["pg2"]),
            // fault 2 (F = 1 s): a replica (pg1) UP beside pg3 is not a switch
            proxy(ms(1_200), ms(1_201), &["pg1", "pg3"]),
            proxy(ms(1_300), ms(1_304), &["pg1"]),
        ]);
        let m = measure(&history(events.clone()));
        let (f0, f1) = (&m.faults[0], &m.faults[1]);
        assert_eq!(f0.proxy_switch_time, Some(Duration::from_millis(352)));
        assert_eq!(f0.old_leader_out_time, Some(Duration::from_millis(553)));
        assert_eq!(f1.proxy_switch_time, None);
        assert_eq!(f1.old_leader_out_time, Some(Duration::from_millis(201)));
        assert_eq!(m.old_leader_out_time, Some(Duration::from_millis(553)));
        assert_eq!(
            m.value(Measure::ProxySwitchTime),
            Err(
                "haproxy was not seen routing to pg3 (up, with no replica up) after fault 2 \
                 (crash of pg2)"
                    .to_string()
            )
        );
        assert_eq!(
            m.value(Measure::OldLeaderOutTime),
            Ok(MeasuredValue::Duration(Duration::from_millis(553)))
        );

        events.push(proxy(ms(1_400), ms(1_405), &["pg3"]));
        let m = measure(&history(events));
        assert_eq!(
            m.value(Measure::ProxySwitchTime),
            Ok(MeasuredValue::Duration(Duration::from_millis(405)))
        );
    }

    #[test]
    fn measurements_recorded_before_the_new_ones_still_load() {
        let m = measure(&history(two_failovers()));
        let mut json = serde_json::to_value(&m).unwrap();
        let top = json.as_object_mut().unwrap();
        for key in [
            "promotion_time",
            "rto_resolution",
            "errors_by_kind",
            "reads",
            "old_leader_out_time",
        ] {
            assert!(top.remove(key).is_some(), "{key}");
        }
        for f in top["faults"].as_array_mut().unwrap() {
            let f = f.as_object_mut().unwrap();
            for key in [
                "old_timeline",
                "promotion_time",
                "promoted",
                "promoted_timeline",
                "rto_resolution",
                "errors_by_kind",
                "write_latency",
                "old_leader_out_time",
            ] {
                assert!(f.remove(key).is_some(), "{key}");
            }
        }
        let old: Measurements = serde_json::from_value(json).unwrap();
        assert_eq!(old.promotion_time, None);
        assert!(old.errors_by_kind.is_empty());
        assert_eq!(old.reads, None);
        assert_eq!(old.faults[1].write_latency, WriteLatency::default());
        assert_eq!(old.faults[1].rto, m.faults[1].rto);
    }

    #[test]
    fn stale_reads_are_judged_only_with_readers_that_looked_for_a_write() {
        let m = measure(&history(two_failovers()));
        assert_eq!(m.reads, None);
        assert_eq!(m.value(Measure::StaleReads), Err("no readers".to_string()));
        let verdict = crate::check::judge(
            &[crate::scenario::Objective {
                measure: Measure::StaleReads,
                bound: crate::scenario::Bound::Count {
                    cmp: crate::scenario::Cmp::Eq,
                    value: 0,
                },
            }],
            &m,
        );
        assert!(!verdict.passed);
        assert_eq!(
            verdict.objectives[0].note.as_deref(),
            Some("not measured: no readers")
        );

        // reads, but none with a write to look for
        let mut events = two_failovers();
        events.push(read(ms(0), ms(1), None, "pg2", true, false));
        events.push(failed_read(ms(5), ms(6)));
        let m = measure(&history(events));
        assert_eq!(
            m.value(Measure::StaleReads),
            Err(
                "no read was judged: 1 of 2 failed, the others found no acknowledged write to \
                 look for"
                    .to_string()
            )
        );

        // seq 9 (invoked at 90 ms) completed at 91 ms; pg2 was promoted at 300 ms
        let mut events = two_failovers();
        events.extend([
            read(ms(95), ms(96), Some(9), "pg2", true, true),
            read(ms(150), ms(151), Some(9), "pg3", true, false),
            read(ms(305), ms(306), Some(9), "pg2", false, false),
        ]);
        let m = measure(&history(events));
        let r = m.reads.as_ref().unwrap();
        assert_eq!((r.stale_on_replica, r.stale_on_primary), (1, 1));
        assert_eq!(r.max_staleness, Some(Duration::from_millis(214)));
        assert_eq!(m.value(Measure::StaleReads), Ok(MeasuredValue::Count(2)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn planted_reads_are_measured_exactly(
            f in failover_strategy(),
            seed in any::<u64>(),
            period in 3u64..40,
        ) {
            let planted = plant_reads(f.build().history, seed, period);
            let m = measure(&planted.history);
            let r = m.reads.clone().unwrap();
            let on_primary = planted.stale_on_primary.len() as u64;
            prop_assert_eq!(r.stale, planted.stale_on_replica + on_primary);
            prop_assert_eq!(r.stale_on_primary, on_primary);
            prop_assert_eq!(r.max_staleness, planted.max_staleness);
            prop_assert_eq!(
                m.value(Measure::StaleReads),
                Ok(MeasuredValue::Count(planted.stale_on_replica + on_primary))
            );
            // the reads change no write measurement
            let without = measure(&f.build().history);
            prop_assert_eq!(&m.writes, &without.writes);
            prop_assert_eq!(m.rto, without.rto);
            let json = serde_json::to_string(&m).unwrap();
            let back: Measurements = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, m);
        }

        #[test]
        fn planted_replication_is_measured_exactly(f in replication_strategy()) {
            let planted = f.build();
            let m = measure(&planted.history);
            let fm = &m.faults[0];
            prop_assert_eq!(&fm.replica_lag_at_injection, &planted.lag_at_injection);
            prop_assert_eq!(fm.lag_at_failover, planted.lag_at_failover);
            prop_assert_eq!(m.lag_at_failover, planted.lag_at_failover);
            let healed = f.replication.as_ref().unwrap().heal_after.is_some();
            prop_assert_eq!(fm.healed_at.is_some(), healed);
            let full = planted.full_redundancy_seen.map(|s| s.since(planted.fault));
            prop_assert_eq!(fm.time_to_full_redundancy, full);
            prop_assert_eq!(m.time_to_full_redundancy, full);
            prop_assert_eq!(
                m.value(Measure::TimeToFullRedundancy),
                Ok(MeasuredValue::Duration(full.unwrap()))
            );
            prop_assert_eq!(
                m.value(Measure::LagAtFailover),
                Ok(MeasuredValue::Bytes(planted.lag_at_failover.unwrap()))
            );
            prop_assert_eq!(m.leader_changes, 1);

            let json = serde_json::to_string(&m).unwrap();
            let back: Measurements = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, m);
        }

        #[test]
        fn planted_failover_is_measured_exactly(f in failover_strategy(), lost in 0usize..4) {
            let planted = f.build();
            let mut h = planted.history.clone();
            // the last `lost` acknowledged writes before the fault are missing from the read-back
            let before: Vec<u64> = planted
                .ok_seqs
                .iter()
                .copied()
                .filter(|&s| h.writes().any(|w| w.seq == s && w.node.as_deref() == Some("pg1")))
                .collect();
            let lost_seqs: Vec<u64> = before[before.len().saturating_sub(lost)..].to_vec();
            let present: Vec<u64> = planted
                .ok_seqs
                .iter()
                .copied()
                .filter(|s| !lost_seqs.contains(s))
                .chain(planted.unknown_seqs.iter().copied().step_by(2))
                .collect();
            h.extend([read_back(ms(f.end + 1_000), present)]);
            let m = measure(&h);

            let fm = &m.faults[0];
            prop_assert_eq!(fm.injected_at, planted.fault);
            prop_assert_eq!(fm.old_leader.as_str(), "pg1");
            prop_assert_eq!(fm.new_leader.as_deref(), Some("pg2"));
            prop_assert_eq!(
                m.leader_election_time,
                Some(planted.new_leader_seen.since(planted.fault))
            );
            prop_assert_eq!(
                m.detection_time,
                Some(planted.first_bad_complete.since(planted.fault))
            );
            prop_assert_eq!(fm.outage_start, Some(planted.last_ok_before));
            prop_assert_eq!(fm.recovered_at, Some(planted.first_ok_after));
            prop_assert_eq!(
                m.rto,
                Some(planted.first_ok_after.since(planted.last_ok_before))
            );
            prop_assert_eq!(fm.rto_resolution, Some(planted.rto_resolution));
            prop_assert_eq!(m.rto_resolution, Some(planted.rto_resolution));
            prop_assert_eq!(fm.old_timeline, Some(1));
            prop_assert_eq!(
                fm.promotion_time,
                Some(planted.promoted_seen.since(planted.fault))
            );
            prop_assert_eq!((fm.promoted.as_deref(), fm.promoted_timeline), (Some("pg2"), Some(2)));
            prop_assert_eq!(
                m.value(Measure::PromotionTime),
                Ok(MeasuredValue::Duration(planted.promoted_seen.since(planted.fault)))
            );
            prop_assert!(!m.split_brain.detected);
            prop_assert_eq!(m.leaders.clone(), ["pg1", "pg2"]);
            prop_assert_eq!(m.leader_changes, 1);
            prop_assert_eq!(&m.writes_per_node, &planted.writes_per_node);
            prop_assert_eq!(&m.errors_by_kind, &planted.errors_by_kind);
            prop_assert_eq!(&fm.errors_by_kind, &planted.errors_by_kind);
            let l = &fm.write_latency;
            prop_assert_eq!(l.before_from, At(0));
            prop_assert_eq!(l.during_until, Some(planted.first_ok_after));
            prop_assert_eq!(l.before, planted.latency_before);
            prop_assert_eq!(l.during, planted.latency_during);
            prop_assert_eq!(l.after, planted.latency_after);

            let lw = m.lost_writes.clone().unwrap();
            prop_assert_eq!(&lw.seqs, &lost_seqs);
            let lost_ops: Vec<_> = h.writes().filter(|w| lost_seqs.contains(&w.seq)).collect();
            let expected_rpo = lost_ops.iter().map(|w| w.invoke).min().map(|oldest| {
                let newest = lost_ops.iter().map(|w| w.complete).max().unwrap();
                planted.fault.max(newest).since(oldest)
            });
            prop_assert_eq!(lw.rpo, expected_rpo);
            prop_assert_eq!(
                m.value(Measure::Rpo),
                Ok(MeasuredValue::Duration(expected_rpo.unwrap_or(Duration::ZERO)))
            );
            let unknown_present: Vec<u64> =
                planted.unknown_seqs.iter().copied().step_by(2).collect();
            let unknown_absent: Vec<u64> =
                planted.unknown_seqs.iter().copied().skip(1).step_by(2).collect();
            prop_assert_eq!(&m.unknown_writes.present, &unknown_present);
            prop_assert_eq!(&m.unknown_writes.absent, &unknown_absent);

            let json = serde_json::to_string(&m).unwrap();
            let back: Measurements = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, m);
        }
    }
}
