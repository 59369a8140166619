//! Everything measured from one history, and how each objective's value is read from it.

use super::arbiter;
use super::cache::{self, CacheMeasurements, FaultWindow};
use super::lag;
use super::latency::{self, WriteLatency};
use super::leader;
use super::loss::{self, FailedCommitted, LostWrites, UnknownWrites};
use super::offsets;
use super::pool::{self, PoolMeasurements};
use super::promotion;
use super::proxy;
use super::reads::{self, Reads};
use super::redundancy;
use super::restore::{self, Accounted, BackupTaken, NO_RESTORE, RestoreMeasurements};
use super::rto::{self, UnconfirmedRecovery, Window};
use super::split_brain::{self, SplitBrain};
use super::tier::{self, FaultOnServer, TierMeasurements};
use super::verdict::MeasuredValue;
use super::writes::{self, WriteCounts};
use crate::history::{At, ErrorKind, FaultAction, FaultEvent, History};
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
    /// `None` (not measured) if some fault's RTO was not: no write was attempted in its window,
    /// writes never recovered, or their recovery was not confirmed ([`Measurements::value`]
    /// says which). Without faults: the downtime measured as if a fault had been injected at the
    /// run's start (zero if every write succeeded; not measured if no write was attempted).
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
    /// Acknowledged writes lost; `None` if the history holds no read-back. With a done
    /// `restore` step after a `target` step, the writes the restore accounts for (completed
    /// at or after the target window's start, not acknowledged on the restored timeline) are
    /// left out, of the count and of the RPO: the restore judges them against its target
    /// (see [`RestoreMeasurements`]).
    pub lost_writes: Option<LostWrites>,
    pub unknown_writes: UnknownWrites,
    /// **Failed writes found committed**: writes recorded `fail` (or not sent) whose sequence
    /// number is in the final read-back (see [`FailedCommitted`]); a run problem when any.
    /// `None` if the history holds no read-back (and in measurements recorded before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_committed: Option<FailedCommitted>,
    /// **Throttled outside an outage**: write attempts the harness never sent (its own
    /// connection cap, `writes.not_sent`) invoked outside every outage, that is before every
    /// fault's outage start or after its recovery (the end of its recovery write, confirmed or
    /// not, or later while an attempt invoked during the outage is still going: it holds a
    /// connection slot; an outage that never recovered lasts to the end). Without faults, the outage is the
    /// downtime measured from the run's start. Throttling while the system answered means the
    /// harness could not send its own load: a run problem when any. An attempt not sent while
    /// a sent one invoked before it was still going when it gave up is not counted: that one
    /// held a connection slot through its whole wait, the system (or the host) slow to answer
    /// (format 7). `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled_outside_outages: Option<Throttled>,
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
    /// The history holds no role source: no self report (a node's manager about itself) and
    /// no PostgreSQL asked directly. The measurements of the role and proxy families are then
    /// not applicable (see [`Measurements::not_applicable`]), never 0. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_role_source: bool,
    /// What the connection poolers' own figures showed (see [`PoolMeasurements`]); `None` when
    /// the history holds no pool sample: the pool measurements are then not applicable. Absent
    /// then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolMeasurements>,
    /// The last `restore` step checked against its target (see [`RestoreMeasurements`]);
    /// `None` when the history holds no restore step: the restore measurements are then not
    /// applicable. Absent then, so a run without one keeps its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreMeasurements>,
    /// Every `backup` step that was done: its duration and size. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<BackupTaken>,
    /// What the application tier showed (see [`TierMeasurements`]); `None` without one: the
    /// tier's measurements are then not applicable. Absent then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<TierMeasurements>,
    /// What reads through a cache saw (see [`CacheMeasurements`]); `None` without such reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheMeasurements>,
}

/// Why a role measurement does not apply.
pub const NO_ROLE_SOURCE: &str = "no role source in this stack";

/// Why a pool measurement does not apply.
pub const NO_POOLER: &str = "no connection pooler in this stack";

/// Write attempts the harness never sent outside every outage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttled {
    pub count: u64,
    /// The invoke instant of the first of them.
    pub first: At,
}

/// What one incident did to the writes and the leadership. An incident is one fault, or several
/// faults the scenario scheduled at the same instant (they start together, though they are
/// injected one after the other): it is measured once, from `F`, the first injection's start,
/// over its window, to the next incident's `F` or the end of the history. `fault`, `kind`,
/// `node` and `injected_at` are those of its first injection; `same_incident` lists the others.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultMeasurements {
    /// The fault's index in the scenario's schedule (the first injected of the incident).
    pub fault: usize,
    /// The fault kind ("crash", ...).
    pub kind: String,
    /// The node the fault hit.
    pub node: String,
    /// `F`: the instant the injection began (the first of the incident).
    pub injected_at: At,
    /// The other faults of the incident, in injection order; empty for a fault alone (and in
    /// records made before incidents).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_incident: Vec<IncidentFault>,
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
    pub old_timeline: Option<u64>,
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
    pub promoted_timeline: Option<u64>,
    /// **Virtual IP moved**, in a stack with one: from `F` to the `received` instant of the
    /// first answer on holding it (by received instant), sent at or after `F` and before the
    /// window's end, in which a node other than its holder at `F` (the node of the latest
    /// answer holding it received before `F`) holds it. `None` if no such answer, or nobody
    /// held it at `F`. (Format 8 on.)
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub address_moved_time: Option<Duration>,
    /// The node that answer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_holder: Option<String>,
    /// Where arbiters fail over (Redis Sentinel), from their own announcements (format 10 on):
    /// **subjectively down**, from `F` to the arrival of the first `+sdown` of the old leader as
    /// a master from any arbiter in the window (`down-after-milliseconds` passed for one);
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub subjective_down_time: Option<Duration>,
    /// **objectively down**: the same for `+odown` (a quorum agreed);
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub objective_down_time: Option<Duration>,
    /// **arbiter election**: the same for `+elected-leader` (a majority voted for the arbiter
    /// that fails over), which `arbiter_elected` names;
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub arbiter_election_time: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arbiter_elected: Option<String>,
    /// **clients told the new master**: from `F` to the `received` instant of the first answer,
    /// sent in the window, of an arbiter clients ask (Sentinel's `get-master-addr-by-name`)
    /// naming another node than the old leader.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub clients_told_time: Option<Duration>,
    /// **Decision time**, with an operator's promotion: from `F` to the earliest instant, in
    /// the window, at which a completed `promote` step decided to promote (after its wait for
    /// the primary to be unreachable, if it had one). `None` without such a step. (Format 8
    /// on.)
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub decision_time: Option<Duration>,
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
    /// The `at` of this incident's heal: the latest, over its faults, of the first heal event of
    /// the same fault index at or after that fault's injection. `None` if the history holds none
    /// (the incident was never healed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healed_at: Option<At>,
    /// **Time to full redundancy**: from `F` to the `received` instant of the first probe
    /// sample (by received instant), sent at or after `F`, at or after `healed_at` if there is
    /// one, and before the window's end, in which a node reporting the leader role lists as
    /// `streaming` (`pg_stat_replication` state `streaming`) every *expected* node other than
    /// itself. Expected nodes: every node that appears in a probe sample of the history, except
    /// the nodes left down: those hit (`node`, or each of `nodes`) by an injection at or before
    /// `F` with no heal event of the same fault index after it. `None` if no such sample, or if
    /// every node but the leader was left down (format 9: no redundancy to regain).
    #[serde(default, with = "humantime_serde")]
    pub time_to_full_redundancy: Option<Duration>,
    /// When full redundancy was not reached: the expected nodes the last leader sample
    /// considered did not list as streaming (empty if no leader sample was considered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_streaming: Vec<String>,
    /// When full redundancy was not reached because the leader had no node left to stream to:
    /// the nodes left down (format 9; absent before, and whenever empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nothing_to_stream_to: Vec<String>,
    /// **RTO (write downtime)**: from the end of the last ok write before the outage
    /// (`outage_start`) to the end of the first ok write after which every write attempt in the
    /// window succeeded (`recovered_at`).
    ///
    /// `None` (not measured) if no write was invoked in the window (`no_writes_in_window`).
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
    /// No write was invoked in the window (at or after `F`, before the window's end): the RTO,
    /// the detection time and the latency during the fault are not measured. Absent (false)
    /// in run.json otherwise, and in records made before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_writes_in_window: bool,
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

/// A fault injected together with an incident's first (scheduled at the same instant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFault {
    /// Its index in the scenario's schedule.
    pub fault: usize,
    pub kind: String,
    /// The node it hit (the first, if several).
    pub node: String,
    /// Every node it hit, when it hit more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// The instant its injection began (at or after the incident's `F`).
    pub injected_at: At,
}

impl FaultMeasurements {
    /// "fault 1", or "faults 1+2" for an incident of several faults: numbered from 1, as the
    /// reports number faults.
    pub fn name(&self) -> String {
        if self.same_incident.is_empty() {
            format!("fault {}", self.fault + 1)
        } else {
            let numbers: Vec<String> = std::iter::once(self.fault)
                .chain(self.same_incident.iter().map(|f| f.fault))
                .map(|n| (n + 1).to_string())
                .collect();
            format!("faults {}", numbers.join("+"))
        }
    }

    /// "fault 1 (crash of pg1)", "faults 1+2 (partition of etcd1, partition of pg1)".
    pub fn label(&self) -> String {
        let what: Vec<String> = std::iter::once((&self.kind, &self.node))
            .chain(self.same_incident.iter().map(|f| (&f.kind, &f.node)))
            .map(|(kind, node)| format!("{kind} of {node}"))
            .collect();
        format!("{} ({})", self.name(), what.join(", "))
    }

    /// Whether the incident hit `node` (any of its faults).
    pub fn hit(&self, node: &str) -> bool {
        self.node == node
            || self
                .same_incident
                .iter()
                .any(|f| f.node == node || f.nodes.iter().any(|n| n == node))
    }

    /// Whether the fault made any write fail or time out.
    pub fn writes_stopped(&self) -> bool {
        self.outage_start.is_some()
    }

    /// "fault 1 (crash of pg1)", or "faults 1+2 (...)" for an incident: as the reports name it.
    pub(crate) fn describe(&self) -> String {
        self.label()
    }

    /// Why the write-path measurements of this fault were not taken, when no write was attempted
    /// in its window.
    fn no_writes_reason(&self) -> String {
        format!(
            "no write was attempted in the window of {}",
            self.describe()
        )
    }

    /// Why full redundancy was not reached after this fault, in a few words ("pg3 not
    /// streaming"); `None` if it was reached.
    pub fn redundancy_gap(&self) -> Option<String> {
        if self.time_to_full_redundancy.is_some() {
            return None;
        }
        if !self.nothing_to_stream_to.is_empty() {
            return Some(format!(
                "no node left to stream to: {} left down",
                self.nothing_to_stream_to.join(", ")
            ));
        }
        Some(match (self.not_streaming.as_slice(), self.healed_at) {
            ([], Some(_)) => "no leader probed after the heal, within the fault's window".into(),
            ([], None) => "no leader probed after the fault, within its window".into(),
            (nodes, _) => format!("{} not streaming from the leader", nodes.join(", ")),
        })
    }
}

/// The injections grouped into incidents, in injection order: injections of faults the scenario
/// scheduled at the same instant (the same `scheduled_at`) form one incident, though they are
/// injected one after the other; the first injected comes first. An injection recorded without
/// `scheduled_at` (histories from before it was recorded) is an incident of its own.
fn incidents<'a>(injections: &[&'a FaultEvent]) -> Vec<Vec<&'a FaultEvent>> {
    let mut incidents: Vec<Vec<&FaultEvent>> = Vec::new();
    for &i in injections {
        let together = i.scheduled_at.and_then(|s| {
            incidents
                .iter_mut()
                .find(|inc| inc[0].scheduled_at == Some(s))
        });
        match together {
            Some(incident) => incident.push(i),
            None => incidents.push(vec![i]),
        }
    }
    incidents
}

/// Computes every measurement from the history.
pub fn measure(history: &History) -> Measurements {
    let writes = writes::ordered(history);
    let probes = leader::ordered(history);
    let epochs = leader::has_epochs(&probes);
    let announcements = arbiter::ordered(history.announcements());
    let authorities: Vec<&crate::history::RoleSample> = history.authority_reports().collect();
    let addresses = leader::ordered_addresses(history);
    let proxy_samples = proxy::ordered(history);
    let replication = lag::ordered(history);
    let fault_events: Vec<_> = history.faults().collect();
    let injections: Vec<_> = fault_events
        .iter()
        .copied()
        .filter(|f| f.action == FaultAction::Inject)
        .collect();
    let incidents = incidents(&injections);
    let starts: Vec<At> = incidents.iter().map(|i| i[0].at).collect();
    let windows = Window::of_faults(&starts);

    // the end of each incident's *during* phase: the next incident's *before* starts there
    let outages: Vec<rto::Outage> = windows.iter().map(|&w| rto::outage(&writes, w)).collect();
    let healed: Vec<Option<At>> = incidents
        .iter()
        .map(|i| redundancy::incident_healed_at(&fault_events, i))
        .collect();
    let during_until: Vec<Option<At>> = windows
        .iter()
        .zip(&outages)
        .zip(&healed)
        .map(|((&w, o), &h)| latency::during_until(w, o, h))
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

    let faults: Vec<FaultMeasurements> = incidents
        .iter()
        .zip(&windows)
        .zip(outages.iter().zip(&during_until))
        .zip(&healed)
        .map(
            |(((incident, &window), (outage, &during_until)), &healed_at)| {
                // measured once, from the first injection's F
                let f = incident[0];
                let leader_at_f = leader::leader_at(&probes, f.at);
                // PostgreSQL's own view when recorded, else the nodes' positions (Redis)
                let replica_lag_at_injection = if replication.is_empty() {
                    offsets::lag_at_injection(&probes, leader_at_f.as_deref(), f.at)
                } else {
                    lag::lag_at_injection(&replication, leader_at_f.as_deref(), f.at)
                };
                let old_leader = leader_at_f.unwrap_or_else(|| f.node.clone());
                let election = leader::election(&probes, window, &old_leader);
                let proxy_switch_time = election.as_ref().and_then(|e| {
                    proxy::switch_time(&proxy_samples, window, &old_leader, &e.new_leader)
                });
                let old_leader_out_time = election
                    .as_ref()
                    .and_then(|_| proxy::old_leader_out_time(&proxy_samples, window, &old_leader));
                let old_timeline = leader::leader_timeline_at(&probes, &old_leader, f.at);
                let promotion = if epochs {
                    leader::promotion(&probes, window, &old_leader, old_timeline)
                } else {
                    leader::promotion_without_epochs(&probes, window, &old_leader)
                };
                // the virtual IP: who held it at F, and the first other holder seen after
                let address_move = leader::leader_at(&addresses, f.at)
                    .and_then(|holder| leader::election(&addresses, window, &holder));
                let phase =
                    |name: &str| arbiter::announced(&announcements, window, name, &old_leader);
                let elected = phase("+elected-leader");
                let (sdown, odown) = (phase("+sdown"), phase("+odown"));
                let told = arbiter::clients_told(&authorities, window, &old_leader);
                let lag_at_failover = election.as_ref().and_then(|e| {
                    if replication.is_empty() {
                        offsets::lag_at_failover(&probes, &old_leader, &e.new_leader, e.seen)
                    } else {
                        lag::lag_at_failover(&replication, &old_leader, &e.new_leader, e.seen)
                    }
                });
                let redundancy = redundancy::full_redundancy(
                    &probes,
                    &fault_events,
                    incident,
                    window,
                    election.as_ref().map(|e| e.seen),
                );
                FaultMeasurements {
                    fault: f.fault,
                    kind: f.kind.clone(),
                    node: f.node.clone(),
                    injected_at: f.at,
                    same_incident: incident[1..]
                        .iter()
                        .map(|g| IncidentFault {
                            fault: g.fault,
                            kind: g.kind.clone(),
                            node: g.node.clone(),
                            nodes: g.nodes.clone(),
                            injected_at: g.at,
                        })
                        .collect(),
                    detection_time: rto::detection_time(&writes, window),
                    old_leader,
                    leader_election_time: election.as_ref().map(|e| e.time),
                    new_leader: election.map(|e| e.new_leader),
                    proxy_switch_time,
                    old_leader_out_time,
                    old_timeline,
                    promotion_time: promotion.as_ref().map(|p| p.time),
                    promoted_timeline: promotion.as_ref().and_then(|p| p.timeline),
                    promoted: promotion.map(|p| p.node),
                    address_moved_time: address_move.as_ref().map(|m| m.time),
                    address_holder: address_move.map(|m| m.new_leader),
                    decision_time: promotion::decision_time(history, window),
                    subjective_down_time: sdown.map(|p| p.time),
                    objective_down_time: odown.map(|p| p.time),
                    arbiter_election_time: elected.as_ref().map(|p| p.time),
                    arbiter_elected: elected.map(|p| p.by),
                    clients_told_time: told.map(|p| p.time),
                    replica_lag_at_injection,
                    lag_at_failover,
                    healed_at,
                    time_to_full_redundancy: redundancy.time,
                    not_streaming: redundancy.not_streaming,
                    nothing_to_stream_to: redundancy.nothing_to_stream_to,
                    rto: outage.rto,
                    recovered: outage.rto.is_some(),
                    no_writes_in_window: outage.no_writes,
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
            },
        )
        .collect();

    let counts = writes::counts(history.writes());
    let whole = faults
        .is_empty()
        .then(|| rto::outage(&writes, Window::WHOLE));
    let throttled_outside_outages = throttled_outside(
        &writes::not_sent(history),
        whole.as_ref().map_or(&outages[..], std::slice::from_ref),
        &writes,
    );
    let (rto, rto_resolution, unconfirmed_recovery) = if let Some(whole) = whole {
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
    // a done restore accounts for the writes after its target: not lost, discarded by design
    let accounted = Accounted::of(history);
    let judged: Vec<&crate::history::WriteOp> = writes
        .iter()
        .copied()
        .filter(|w| !accounted.is_some_and(|a| a.covers(w)))
        .collect();
    let leaders = leader::leaders(&probes);
    let no_role_source = probes.is_empty() && replication.is_empty();
    // every node each incident's injections hit (a fault on a kind hits all of its nodes)
    let on_servers: Vec<FaultOnServer<'_>> = faults
        .iter()
        .zip(&windows)
        .zip(&incidents)
        .flat_map(|((f, w), incident)| {
            incident
                .iter()
                .flat_map(|i| match i.nodes.is_empty() {
                    true => std::slice::from_ref(&i.node),
                    false => i.nodes.as_slice(),
                })
                .map(move |node| FaultOnServer {
                    fault: f.fault,
                    node,
                    injected_at: f.injected_at,
                    healed_at: f.healed_at,
                    window_end: w.end,
                })
        })
        .collect();
    let tier = tier::tier(&writes, &proxy_samples, &on_servers);
    let fault_windows: Vec<FaultWindow> = faults
        .iter()
        .zip(&windows)
        .map(|(f, w)| FaultWindow {
            fault: f.fault,
            injected_at: f.injected_at,
            healed_at: f.healed_at,
            window_end: w.end,
        })
        .collect();
    let cache = cache::cache(&history.reads().collect::<Vec<_>>(), &fault_windows);
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
        lost_writes: loss::lost_writes(&judged, read_back, &starts),
        unknown_writes: loss::unknown_writes(&writes, read_back),
        failed_committed: loss::failed_committed(history.writes(), read_back),
        throttled_outside_outages,
        split_brain: split_brain::split_brain_with_addresses(
            &writes,
            &probes,
            &history.replication_samples().collect::<Vec<_>>(),
            &addresses,
            &faults
                .iter()
                .zip(&windows)
                .map(|(f, &w)| (f.describe(), w))
                .collect::<Vec<_>>(),
        ),
        leaders,
        writes_per_node: writes::per_node(&writes),
        errors_by_kind: writes::errors_by_kind(&writes, Window::WHOLE),
        // reads through a cache are the cache's measurements: stale within its ttl by design,
        // they say nothing of the database's nodes
        reads: reads::reads(
            &history
                .reads()
                .filter(|r| r.through != crate::scenario::ReadEndpoint::Cache)
                .collect::<Vec<_>>(),
            &writes,
        ),
        faults,
        no_role_source,
        // stale server connections need to know who led: a self report
        pool: pool::pool(history, !probes.is_empty()),
        restore: restore::restore(history, &writes),
        backups: restore::backups(history),
        tier,
        cache,
    }
}

/// The not-sent attempts invoked outside every outage (see
/// [`Measurements::throttled_outside_outages`]). `not_sent` ordered by invoke instant; `sent`
/// every attempt sent. An outage's span lasts until the last attempt invoked inside it ended:
/// those attempts hold the harness's connection slots until they end (a connect to a node that
/// went away waits out its timeout), so an attempt not sent meanwhile was crowded out by the
/// outage, not by the harness. Likewise an attempt not sent while a sent attempt invoked before
/// it was still going when it gave up: that one held a slot through its whole wait, the system
/// (or the host) slow to answer rather than failing, which the write latencies report.
fn throttled_outside(
    not_sent: &[&crate::history::WriteOp],
    outages: &[rto::Outage],
    sent: &[&crate::history::WriteOp],
) -> Option<Throttled> {
    let spans: Vec<(At, Option<At>)> = outages
        .iter()
        .filter_map(|o| {
            let end = o.recovered_at.or(o.unconfirmed.map(|u| u.recovered_at));
            let start = o.start?;
            let end = end.map(|end| {
                sent.iter()
                    .filter(|w| w.invoke >= start && w.invoke <= end)
                    .map(|w| w.complete)
                    .fold(end, At::max)
            });
            Some((start, end))
        })
        .collect();
    let inside = |t: At| {
        spans
            .iter()
            .any(|&(start, end)| t >= start && end.is_none_or(|e| t <= e))
    };
    // the latest complete among the sent attempts invoked up to each instant
    let mut by_invoke: Vec<(At, At)> = sent.iter().map(|w| (w.invoke, w.complete)).collect();
    by_invoke.sort();
    let mut latest = At(0);
    let reach: Vec<(At, At)> = by_invoke
        .into_iter()
        .map(|(invoke, complete)| {
            latest = latest.max(complete);
            (invoke, latest)
        })
        .collect();
    let crowded_out_by_slow = |w: &crate::history::WriteOp| {
        let before = reach.partition_point(|&(invoke, _)| invoke < w.invoke);
        before > 0 && reach[before - 1].1 >= w.complete
    };
    let outside: Vec<At> = not_sent
        .iter()
        .filter(|w| !inside(w.invoke) && !crowded_out_by_slow(w))
        .map(|w| w.invoke)
        .collect();
    outside.first().map(|&first| Throttled {
        count: outside.len() as u64,
        first,
    })
}

impl Measurements {
    /// What the measurements show went wrong with the run itself, one line each, for the
    /// record's `problems` (a run with a problem never passes): failed writes found committed
    /// (the outcome rule misjudged them), and write attempts the harness throttled outside any
    /// outage (it could not send its own load).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(f) = self.failed_committed.as_ref().filter(|f| f.count > 0) {
            let seqs: Vec<String> = f.seqs.iter().take(10).map(u64::to_string).collect();
            let more = f.seqs.len().saturating_sub(10);
            problems.push(format!(
                "{} write{} recorded as failed found committed in the read-back (seq {}{}): \
                 the outcome rule misjudged them, so the counts and outage edges built on them \
                 are in doubt",
                f.count,
                if f.count == 1 { "" } else { "s" },
                seqs.join(", "),
                if more > 0 {
                    format!(", ... {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if let Some(t) = &self.throttled_outside_outages {
            problems.push(format!(
                "the harness did not send {} write attempt{} outside any outage (its own cap on \
                 connections being opened), the first invoked at {}: it could not send the \
                 scenario's load",
                t.count,
                if t.count == 1 { "" } else { "s" },
                t.first
            ));
        }
        problems
    }

    /// Why `measure` does not apply to this run, if it does not: it needs a role source and the
    /// history holds none. A measurement that does not apply is neither 0 nor "not measured".
    /// A split brain the writes alone show (two writers on one timeline) is detected all the
    /// same: a detection stands.
    pub fn not_applicable(&self, measure: Measure) -> Option<&'static str> {
        let family = measure.family();
        if family.needs_pooler() && self.pool.is_none() {
            return Some(NO_POOLER);
        }
        if family.needs_restore_step() && self.restore.is_none() {
            return Some(NO_RESTORE);
        }
        let detected = measure == Measure::SplitBrain && self.split_brain.detected;
        (self.no_role_source && family.needs_role_source() && !detected).then_some(NO_ROLE_SOURCE)
    }

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
            Measure::DetectionTime => {
                // the worst of the others would understate it
                if let Some(f) = self.faults.iter().find(|f| f.no_writes_in_window) {
                    return Err(f.no_writes_reason());
                }
                self.detection_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| self.per_fault_reason("no write failed after any fault"))
            }
            Measure::LeaderElectionTime => {
                // A fault that hit the leader with no election after it would otherwise drop
                // out of the worst, understating it.
                if let Some(f) = self
                    .faults
                    .iter()
                    .find(|f| f.hit(&f.old_leader) && f.leader_election_time.is_none())
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
            Measure::FailedWrites => {
                if self.writes.total == 0 {
                    Err("no write was sent".to_string())
                } else {
                    Ok(MeasuredValue::Count(self.writes.fail))
                }
            }
            Measure::LeaderChanges => {
                if self.leaders.is_empty() {
                    Err("no probe saw a leader".to_string())
                } else {
                    Ok(MeasuredValue::Count(self.leader_changes))
                }
            }
            Measure::PoolPeakUse
            | Measure::PoolSaturatedTime
            | Measure::ClientsWaiting
            | Measure::ClientMaxWait
            | Measure::StaleServerConnections => self.pool_value(measure),
            Measure::RestoreCompleted
            | Measure::RestoreTime
            | Measure::LostBeforeTarget
            | Measure::PresentAfterTarget
            | Measure::RestoreRpo
            | Measure::RestoreRedundancyTime => match &self.restore {
                None => Err(NO_RESTORE.to_string()),
                Some(r) => r.value(measure),
            },
        }
    }

    /// The value of a pool measurement (see [`PoolMeasurements`]), or why it was not measured.
    fn pool_value(&self, measure: Measure) -> Result<MeasuredValue, String> {
        let Some(p) = &self.pool else {
            return Err(NO_POOLER.to_string());
        };
        let unanswered = || "no pooler answered".to_string();
        match measure {
            Measure::PoolPeakUse => p
                .peak_active
                .map(MeasuredValue::Count)
                .ok_or_else(unanswered),
            Measure::PoolSaturatedTime => {
                p.saturated_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| match p.answered() {
                        true => "no pooler reported its pool size".to_string(),
                        false => unanswered(),
                    })
            }
            Measure::ClientsWaiting => p
                .clients_waiting
                .map(MeasuredValue::Count)
                .ok_or_else(unanswered),
            Measure::ClientMaxWait => p
                .client_max_wait
                .map(MeasuredValue::Duration)
                .ok_or_else(unanswered),
            _ => p
                .stale_connections()
                .map(MeasuredValue::Count)
                .ok_or_else(|| "no role source said who led".to_string()),
        }
    }

    /// Why the RTO was not measured: after the first fault whose RTO was not, writes never
    /// recovered, or their recovery was not confirmed (and when).
    fn rto_not_measured(&self) -> String {
        match self.faults.iter().find(|f| f.rto.is_none()) {
            Some(f) if f.no_writes_in_window => f.no_writes_reason(),
            Some(f) => match &f.unconfirmed_recovery {
                Some(u) => format!(
                    "recovery after {} unconfirmed: {}",
                    f.describe(),
                    u.describe()
                ),
                None => format!("writes never recovered after {}", f.describe()),
            },
            None if self.faults.is_empty() && self.writes.total == 0 => {
                "no write was attempted".to_string()
            }
            None => match &self.unconfirmed_recovery {
                Some(u) => format!("recovery unconfirmed: {}", u.describe()),
                None => "writes never recovered".to_string(),
            },
        }
    }

    /// What RPO measures, in the words every report and the README use (see
    /// [`LostWrites::rpo`], which computes it).
    pub const RPO_DEFINITION: &'static str = "the longest span of acknowledged writes lost to \
         one incident (a fault, or faults scheduled together): lost writes are grouped by the \
         first incident whose F is at or after their invoke (those invoked after every incident \
         form one more group, without an F); a group spans from its oldest write's invoke to \
         the later of its incident's F and its newest write's complete";

    /// **RPO** as an objective judges it: the lost writes' RPO (see [`LostWrites::rpo`]), zero
    /// when no acknowledged write was lost; `None` without a read-back (nothing was judged).
    pub fn rpo(&self) -> Option<Duration> {
        self.lost_writes
            .as_ref()
            .map(|l| l.rpo.unwrap_or(Duration::ZERO))
    }

    /// Whether writes never stopped: writes were attempted in every fault's window (or at all,
    /// when no fault was injected) and none failed or timed out. The RTO is then zero, and
    /// reported so. Without a write attempted, nothing shows they went on.
    pub fn writes_never_stopped(&self) -> bool {
        if self.faults.is_empty() {
            self.writes.total > 0 && self.writes.not_ok() == 0
        } else {
            self.faults
                .iter()
                .all(|f| !f.writes_stopped() && !f.no_writes_in_window)
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

    /// pg1 leads and takes writes every 10 ms; crashed at 1 s, writes fail until pg2 takes
    /// them at 2 s, for 6 s more. Probes every 100 ms. Sequence numbers from 1.
    fn crash_at_one_second() -> Vec<Event> {
        let mut events = vec![inject(0, "pg1", ms(1_000))];
        for k in 0..80u64 {
            let leader = if k < 10 { "pg1" } else { "pg2" };
            events.push(probe(
                leader,
                ms(100 * k),
                ms(100 * k + 2),
                Some(Role::Leader),
            ));
        }
        for k in 0..800u64 {
            let t = 10 * k + 3;
            events.push(match t {
                0..1_000 => ok(k + 1, ms(t), ms(t + 2), "pg1", 1),
                1_000..2_000 => failed(k + 1, ms(t), ms(t + 1)),
                _ => ok(k + 1, ms(t), ms(t + 2), "pg2", 2),
            });
        }
        events
    }

    /// A write attempt the harness throttled (never sent), invoked at `at` ms.
    fn throttled(seq: u64, at: u64) -> Event {
        not_ok(seq, ms(at), ms(at + 500), ErrorKind::TooManyConnecting)
    }

    #[test]
    fn writes_never_sent_inside_the_outage_change_no_measurement() {
        let base = measure(&history(crash_at_one_second()));
        let mut events = crash_at_one_second();
        // throttled all through the outage, from just after F (before the first failed write
        // was invoked) to just before the recovery write
        events.extend((0..100).map(|k| throttled(10_000 + k, 1_001 + 10 * k)));
        let m = measure(&history(events));
        assert_eq!(m.writes.not_sent, 100);
        assert_eq!(
            m.writes,
            WriteCounts {
                not_sent: 100,
                ..base.writes
            }
        );
        assert_eq!(m.writes.fail, 100, "only the failures of the system");
        assert_eq!(m.rto, base.rto);
        assert_eq!(m.rto, Some(Duration::from_millis(1_010)));
        assert_eq!(m.detection_time, base.detection_time);
        assert_eq!(m.rto_resolution, base.rto_resolution);
        assert_eq!(m.errors_by_kind, base.errors_by_kind);
        assert!(!m.errors_by_kind.contains_key(&ErrorKind::TooManyConnecting));
        assert_eq!(m.faults[0].errors_by_kind, base.faults[0].errors_by_kind);
        assert_eq!(m.faults[0].write_latency, base.faults[0].write_latency);
        assert_eq!(
            (m.faults[0].outage_start, m.faults[0].recovered_at),
            (base.faults[0].outage_start, base.faults[0].recovered_at)
        );
        assert_eq!(m.throttled_outside_outages, None);
        assert!(m.problems().is_empty());

        // alone at F, a throttled attempt would have been the detection and the outage start
        let mut events = crash_at_one_second();
        events.retain(|e| !matches!(e, Event::Write(w) if w.seq == 101));
        let without = measure(&history(events.clone()));
        events.push(throttled(10_000, 1_001));
        let m = measure(&history(events));
        assert_eq!(m.detection_time, without.detection_time);
        assert_eq!(m.rto, without.rto);
    }

    /// Seen in CI (patroni-graceful-stop): attempts invoked late in the outage were still
    /// connecting when the recovery write ended, holding the harness's connection slots; two
    /// attempts just after the recovery found none free. The outage crowded them out.
    #[test]
    fn writes_not_sent_while_the_outage_s_attempts_still_run_are_the_outage_s() {
        let mut events = crash_at_one_second();
        let base = measure(&history(events.clone()));
        let recovered = base.faults[0].recovered_at.expect("recovered");
        // invoked inside the outage, connecting until 600 ms after its recovery
        events.push(not_ok(
            20_000,
            ms(1_990),
            recovered.plus(Duration::from_millis(600)),
            ErrorKind::ConnectTimeout,
        ));
        events.push(throttled(20_001, recovered.0 / 1_000_000 + 100));
        let m = measure(&history(events.clone()));
        assert_eq!(m.throttled_outside_outages, None, "{:?}", m.problems());
        // once it ended, a throttled attempt is the harness's again
        events.push(throttled(20_002, recovered.0 / 1_000_000 + 700));
        let m = measure(&history(events));
        assert_eq!(
            m.throttled_outside_outages.map(|t| t.count),
            Some(1),
            "{:?}",
            m.problems()
        );
    }

    #[test]
    fn writes_never_sent_outside_an_outage_are_a_run_problem() {
        let base = measure(&history(crash_at_one_second()));
        let mut events = crash_at_one_second();
        events.extend([
            throttled(10_000, 500),
            throttled(10_001, 1_500),
            throttled(10_002, 4_000),
        ]);
        let m = measure(&history(events));
        assert_eq!(m.writes.not_sent, 3);
        assert_eq!(m.rto, base.rto);
        assert_eq!(
            m.throttled_outside_outages,
            Some(Throttled {
                count: 2,
                first: ms(500)
            })
        );
        assert_eq!(
            m.problems(),
            [
                "the harness did not send 2 write attempts outside any outage (its own cap on \
              connections being opened), the first invoked at t+0.500s: it could not send the \
              scenario's load"
            ]
        );

        // without faults: throttled while every write succeeded
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            throttled(2, 5),
            ok(3, ms(10), ms(12), "pg1", 1),
        ]);
        let m = measure(&h);
        assert_eq!(m.rto, Some(Duration::ZERO));
        assert_eq!(
            m.throttled_outside_outages,
            Some(Throttled {
                count: 1,
                first: ms(5)
            })
        );
        // an outage that never recovered lasts to the end
        let mut events = crash_at_one_second();
        events.retain(|e| !matches!(e, Event::Write(w) if w.invoke >= ms(2_000)));
        events.push(throttled(10_000, 7_000));
        assert_eq!(measure(&history(events)).throttled_outside_outages, None);
    }

    #[test]
    fn writes_never_sent_while_sent_ones_were_slow_to_answer_are_no_run_problem() {
        // every write succeeded, but one sent at 5 ms took 1.2 s: it held a connection slot
        // through the whole wait (500 ms) of the attempt not sent at 100 ms
        let slow = |at: u64| {
            history(vec![
                ok(1, ms(0), ms(2), "pg1", 1),
                ok(2, ms(5), ms(1_205), "pg1", 1),
                throttled(3, at),
                ok(4, ms(2_000), ms(2_002), "pg1", 1),
            ])
        };
        let m = measure(&slow(100));
        assert_eq!(m.writes.not_sent, 1);
        assert_eq!(m.throttled_outside_outages, None, "{:?}", m.problems());
        // one not sent after the slow write had ended (or whose wait outlasted it) still is
        let m = measure(&slow(900));
        assert_eq!(
            m.throttled_outside_outages,
            Some(Throttled {
                count: 1,
                first: ms(900)
            })
        );
    }

    #[test]
    fn failed_writes_found_committed_are_measured_and_a_run_problem() {
        let mut h = history(crash_at_one_second());
        assert_eq!(measure(&h).failed_committed, None, "no read-back");
        let committed: Vec<u64> = h
            .writes()
            .filter(|w| w.outcome == crate::history::Outcome::Ok || [105, 107].contains(&w.seq))
            .map(|w| w.seq)
            .collect();
        h.extend([read_back(ms(9_000), committed)]);
        let m = measure(&h);
        assert_eq!(
            m.failed_committed,
            Some(FailedCommitted {
                count: 2,
                seqs: vec![105, 107]
            })
        );
        assert_eq!(
            m.problems(),
            [
                "2 writes recorded as failed found committed in the read-back (seq 105, 107): the \
              outcome rule misjudged them, so the counts and outage edges built on them are in \
              doubt"
            ]
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["failed_committed"]["count"], 2);
        assert_eq!(json["writes"]["not_sent"], 0);
        assert!(json.get("throttled_outside_outages").is_none());
    }

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
    fn no_write_attempted_leaves_the_rto_not_measured() {
        // neither faults nor writes
        let m = measure(&history(vec![]));
        assert_eq!(m.rto, None);
        assert!(!m.writes_never_stopped());
        assert_eq!(
            m.value(Measure::Rto),
            Err("no write was attempted".to_string())
        );

        // fault 1's window holds writes; fault 2 came after the writes ended
        let mut events = vec![inject(0, "pg1", ms(5))];
        events.extend(steady(1, ms(10), "pg1", 1));
        events.push(inject(1, "pg2", ms(60_000)));
        let m = measure(&history(events));
        let (f0, f1) = (&m.faults[0], &m.faults[1]);
        assert_eq!(f0.rto, Some(Duration::ZERO));
        assert!(!f0.no_writes_in_window);
        assert_eq!(f1.rto, None, "not 0s: no write shows writes went on");
        assert!(f1.no_writes_in_window && !f1.recovered);
        assert_eq!(f1.detection_time, None);
        assert_eq!(f1.write_latency.during, None);
        assert_eq!(m.rto, None);
        assert!(!m.writes_never_stopped());
        let why = "no write was attempted in the window of fault 2 (crash of pg2)";
        assert_eq!(m.value(Measure::Rto), Err(why.to_string()));
        assert_eq!(m.value(Measure::DetectionTime), Err(why.to_string()));

        // the flag survives run.json, and is left out when false
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["faults"][1]["no_writes_in_window"], true);
        assert_eq!(json["faults"][0].get("no_writes_in_window"), None);
        assert_eq!(serde_json::from_value::<Measurements>(json).unwrap(), m);
    }

    /// Two faults the scenario scheduled at 10 s (`scheduled`: `None` as recorded before
    /// `scheduled_at`), injected 4 ms apart: etcd1 cut off, then the leader pg1. Writes every
    /// 10 ms to 20 s fail from 10.01 s to 12 s; pg2 leads from 11 s; both healed at 15 s.
    fn split_in_two_injections(scheduled: Option<Duration>) -> History {
        let inject_at = |f, node: &str, at| match scheduled {
            Some(s) => inject_scheduled(f, node, at, s),
            None => inject(f, node, at),
        };
        let heal_at = |f, node: &str, at| match scheduled {
            Some(s) => heal_scheduled(f, node, at, s),
            None => heal(f, node, at),
        };
        let mut events = vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, None, &["pg2", "pg3"]),
            inject_at(0, "etcd1", ms(10_000)),
            inject_at(1, "pg1", ms(10_004)),
            probe_wal("pg2", ms(11_000), ms(11_002), Role::Leader, None, &["pg3"]),
            heal_at(0, "etcd1", ms(15_000)),
            heal_at(1, "pg1", ms(15_003)),
            probe_wal(
                "pg2",
                ms(16_000),
                ms(16_002),
                Role::Leader,
                None,
                &["pg1", "pg3"],
            ),
        ];
        for k in 0..2_000u64 {
            let t = 10 * k;
            if (10_010..12_000).contains(&t) {
                events.push(failed(k, ms(t), ms(t + 1)));
            } else {
                let node = if t < 10_000 { "pg1" } else { "pg2" };
                events.push(ok(k, ms(t), ms(t + 1), node, 1));
            }
        }
        history(events)
    }

    #[test]
    fn faults_scheduled_together_are_one_incident_measured_once() {
        let m = measure(&split_in_two_injections(Some(Duration::from_secs(10))));
        assert_eq!(m.faults.len(), 1, "one incident");
        let f = &m.faults[0];
        assert_eq!(
            (f.fault, f.node.as_str(), f.injected_at),
            (0, "etcd1", ms(10_000))
        );
        assert_eq!(
            f.same_incident,
            [IncidentFault {
                fault: 1,
                kind: "crash".into(),
                node: "pg1".into(),
                nodes: Vec::new(),
                injected_at: ms(10_004),
            }]
        );
        assert_eq!(f.label(), "faults 1+2 (crash of etcd1, crash of pg1)");
        // measured from the first injection's F, over the window to the end
        assert_eq!(f.rto, Some(Duration::from_millis(2_000)));
        assert_eq!(f.detection_time, Some(Duration::from_millis(11)));
        assert_eq!(f.old_leader, "pg1");
        assert_eq!(f.leader_election_time, Some(Duration::from_millis(1_002)));
        assert_eq!(f.new_leader.as_deref(), Some("pg2"));
        assert_eq!(f.healed_at, Some(ms(15_003)), "the later heal");
        assert_eq!(
            f.time_to_full_redundancy,
            Some(Duration::from_millis(6_002))
        );
        assert_eq!(m.rto, Some(Duration::from_millis(2_000)));
        assert_eq!(
            m.value(Measure::LeaderElectionTime),
            Ok(MeasuredValue::Duration(Duration::from_millis(1_002)))
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["faults"][0]["same_incident"][0]["fault"], 1);
        assert_eq!(serde_json::from_value::<Measurements>(json).unwrap(), m);

        // recorded before scheduled_at: per injection, as those runs were measured
        let m = measure(&split_in_two_injections(None));
        assert_eq!(m.faults.len(), 2);
        assert!(m.faults[0].same_incident.is_empty());
        assert_eq!(m.faults[0].label(), "fault 1 (crash of etcd1)");
        // a 4 ms window with one ok write: what such runs reported, and still do
        assert_eq!(m.faults[0].rto, Some(Duration::ZERO));
        assert_eq!(m.faults[0].leader_election_time, None);
        assert_eq!(m.faults[1].rto, Some(Duration::from_millis(2_000)));
    }

    #[test]
    fn faults_scheduled_apart_are_separate_incidents() {
        let mut h = split_in_two_injections(Some(Duration::from_secs(10)));
        for e in &mut h.events {
            if let Event::Fault(f) = e
                && f.fault == 1
            {
                f.scheduled_at = Some(Duration::from_millis(10_004));
            }
        }
        let m = measure(&h);
        assert_eq!(m.faults.len(), 2);
        assert_eq!(m.faults[1].label(), "fault 2 (crash of pg1)");
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
    fn failed_writes_count_only_certain_failures() {
        let m = measure(&history(vec![
            ok(1, ms(0), ms(1), "pg1", 1),
            failed(2, ms(10), ms(11)),
            failed(3, ms(20), ms(21)),
            unknown(4, ms(30), ms(31)),
            not_ok(5, ms(40), ms(41), ErrorKind::TooManyConnecting),
        ]));
        // the unknown write may have run; the one never sent is the harness's own
        assert_eq!(m.value(Measure::FailedWrites), Ok(MeasuredValue::Count(2)));
        assert_eq!(
            measure(&history(vec![])).value(Measure::FailedWrites),
            Err("no write was sent".to_string())
        );
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
        events.retain(|e| !matches!(e, Event::Role(p) if p.asked == "pg2" && p.epoch == Some(2)));
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
