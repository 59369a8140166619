//! Everything measured from one history, and how each objective's value is read from it.

use super::lag;
use super::leader;
use super::loss::{self, LostWrites, UnknownWrites};
use super::redundancy;
use super::rto::{self, Window};
use super::split_brain::{self, SplitBrain};
use super::verdict::MeasuredValue;
use super::writes::{self, WriteCounts};
use crate::history::{At, FaultAction, History};
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
    /// `None` if writes never recovered after some fault. Without faults: zero if every write
    /// succeeded, else the downtime measured as if a fault had been injected at the run's start.
    #[serde(default, with = "humantime_serde")]
    pub rto: Option<Duration>,
    /// **Detection time**, the worst over the faults where one was measured.
    #[serde(default, with = "humantime_serde")]
    pub detection_time: Option<Duration>,
    /// **Leader election time**, the worst over the faults where one was measured.
    #[serde(default, with = "humantime_serde")]
    pub leader_election_time: Option<Duration>,
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
    /// **Replication lag at injection**, in bytes, for every node other than the leader at `F`
    /// (the node of the latest sample reporting the leader role received before `F`): that
    /// leader's `wal` (written) in its latest sample reporting the leader role with a `wal`
    /// received before `F`, minus the node's `wal` (received) in its latest sample reporting the
    /// replica role with a `wal` received before `F`, or zero if the replica was ahead. Only
    /// nodes with both values are listed; empty when no sample had reported a leader by `F`.
    #[serde(default)]
    pub replica_lag_at_injection: BTreeMap<String, u64>,
    /// **Lag at failover**, in bytes, when a new leader was elected: with `E` the `received`
    /// instant of the sample that showed `new_leader` leading (the one that times the
    /// election), `old_leader`'s `wal` (written) in its latest sample reporting the leader role
    /// with a `wal` received before `E`, minus `new_leader`'s `wal` (received) in its latest
    /// sample reporting the replica role with a `wal` received before `E`, or zero if it was
    /// ahead. `None` without an election, or if either sample is missing.
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
    /// (`failed_after_recovery`), not part of the outage. `None` if no ok write follows: writes
    /// never recovered.
    #[serde(default, with = "humantime_serde")]
    pub rto: Option<Duration>,
    /// Whether writes kept, or came back to, succeeding.
    pub recovered: bool,
    /// The end of the last ok write before the outage; `None` if writes never stopped.
    pub outage_start: Option<At>,
    /// The end of the first ok write after the outage; `None` if writes never stopped or never
    /// recovered.
    pub recovered_at: Option<At>,
    /// Writes that failed after the recovery, once writes had kept succeeding for 5 s
    /// (`rto::STABLE`): separate interruptions, not counted in the RTO.
    #[serde(default)]
    pub failed_after_recovery: u64,
}

impl FaultMeasurements {
    /// Whether the fault made any write fail or time out.
    pub fn writes_stopped(&self) -> bool {
        self.outage_start.is_some()
    }

    fn describe(&self) -> String {
        format!("fault {} ({} of {})", self.fault, self.kind, self.node)
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
    let fault_events: Vec<_> = history.faults().collect();
    let injections: Vec<_> = fault_events
        .iter()
        .copied()
        .filter(|f| f.action == FaultAction::Inject)
        .collect();
    let starts: Vec<At> = injections.iter().map(|f| f.at).collect();
    let windows = Window::of_faults(&starts);

    let faults: Vec<FaultMeasurements> = injections
        .iter()
        .zip(&windows)
        .map(|(f, &window)| {
            let leader_at_f = leader::leader_at(&probes, f.at);
            let replica_lag_at_injection =
                lag::lag_at_injection(&probes, leader_at_f.as_deref(), f.at);
            let old_leader = leader_at_f.unwrap_or_else(|| f.node.clone());
            let election = leader::election(&probes, window, &old_leader);
            let lag_at_failover = election
                .as_ref()
                .and_then(|e| lag::lag_at_failover(&probes, &old_leader, &e.new_leader, e.seen));
            let redundancy = redundancy::full_redundancy(
                &probes,
                &fault_events,
                f,
                window,
                election.as_ref().map(|e| e.seen),
            );
            let outage = rto::outage(&writes, window);
            FaultMeasurements {
                fault: f.fault,
                kind: f.kind.clone(),
                node: f.node.clone(),
                injected_at: f.at,
                detection_time: rto::detection_time(&writes, window),
                old_leader,
                leader_election_time: election.as_ref().map(|e| e.time),
                new_leader: election.map(|e| e.new_leader),
                replica_lag_at_injection,
                lag_at_failover,
                healed_at: redundancy::healed_at(&fault_events, f),
                time_to_full_redundancy: redundancy.time,
                not_streaming: redundancy.not_streaming,
                rto: outage.rto,
                recovered: outage.rto.is_some(),
                outage_start: outage.start,
                recovered_at: outage.recovered_at,
                failed_after_recovery: outage.failed_after_recovery,
            }
        })
        .collect();

    let counts = writes::counts(&writes);
    let rto = if faults.is_empty() {
        rto::outage(&writes, Window::WHOLE).rto
    } else {
        faults
            .iter()
            .map(|f| f.rto)
            .try_fold(Duration::ZERO, |worst, r| r.map(|r| worst.max(r)))
    };
    let read_back = history.read_back();
    let leaders = leader::leaders(&probes);
    Measurements {
        writes: counts,
        rto,
        detection_time: faults.iter().filter_map(|f| f.detection_time).max(),
        leader_election_time: faults.iter().filter_map(|f| f.leader_election_time).max(),
        time_to_full_redundancy: faults
            .iter()
            .filter_map(|f| f.time_to_full_redundancy)
            .max(),
        lag_at_failover: faults.iter().filter_map(|f| f.lag_at_failover).max(),
        leader_changes: leaders.len().saturating_sub(1) as u64,
        lost_writes: loss::lost_writes(&writes, read_back, &starts),
        unknown_writes: loss::unknown_writes(&writes, read_back),
        split_brain: split_brain::split_brain(&writes, &probes),
        leaders,
        writes_per_node: writes::per_node(&writes),
        faults,
    }
}

impl Measurements {
    /// The value an objective on `measure` is judged against, or why it could not be measured.
    pub fn value(&self, measure: Measure) -> Result<MeasuredValue, String> {
        match measure {
            Measure::Rto => self.rto.map(MeasuredValue::Duration).ok_or_else(|| {
                match self.faults.iter().find(|f| !f.recovered) {
                    Some(f) => format!("writes never recovered after {}", f.describe()),
                    None => "writes never recovered".to_string(),
                }
            }),
            Measure::LostWrites => self
                .lost_writes
                .as_ref()
                .map(|l| MeasuredValue::Count(l.count))
                .ok_or_else(|| "no read-back after recovery".to_string()),
            Measure::SplitBrain => Ok(MeasuredValue::Bool(self.split_brain.detected)),
            Measure::DetectionTime => self
                .detection_time
                .map(MeasuredValue::Duration)
                .ok_or_else(|| self.per_fault_reason("no write failed after any fault")),
            Measure::LeaderElectionTime => self
                .leader_election_time
                .map(MeasuredValue::Duration)
                .ok_or_else(|| {
                    self.per_fault_reason("no probe saw a different leader after any fault")
                }),
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
                let failovers: Vec<&FaultMeasurements> = self
                    .faults
                    .iter()
                    .filter(|f| f.new_leader.is_some())
                    .collect();
                if failovers.is_empty() {
                    return Err(self.per_fault_reason("no failover happened"));
                }
                if let Some(f) = failovers.iter().find(|f| f.lag_at_failover.is_none()) {
                    return Err(format!(
                        "no WAL positions probed before the election after {} ({} as leader, \
                         {} as replica)",
                        f.describe(),
                        f.old_leader,
                        f.new_leader.as_deref().unwrap_or_default()
                    ));
                }
                self.lag_at_failover
                    .map(MeasuredValue::Bytes)
                    .ok_or_else(|| "no failover happened".to_string())
            }
            Measure::LeaderChanges => {
                if self.leaders.is_empty() {
                    Err("no probe saw a leader".to_string())
                } else {
                    Ok(MeasuredValue::Count(self.leader_changes))
                }
            }
        }
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
    use crate::history::Role;
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
        assert_eq!(m.value(Measure::SplitBrain), Ok(MeasuredValue::Bool(false)));
    }

    #[test]
    fn no_faults_with_failures_measures_from_the_start() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(10), ms(11)),
            ok(3, ms(20), ms(25), "pg1", 1),
        ]);
        let m = measure(&h);
        assert_eq!(m.rto, Some(Duration::from_millis(23)));
        assert!(!m.writes_never_stopped());
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
            Err("writes never recovered after fault 0 (crash of pg1)".to_string())
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
        let h = history(vec![
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
            "pg3's last replica sample counts however old: 10000 against pg2's 9700"
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
                "full redundancy not reached after fault 0 (crash of pg3): pg3 not streaming \
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
                "no WAL positions probed before the election after fault 0 (crash of pg1) (pg1 \
                 as leader, pg2 as replica)"
                    .to_string()
            )
        );
        assert_eq!(
            m.value(Measure::TimeToFullRedundancy),
            Err(
                "full redundancy not reached after fault 0 (crash of pg1): no leader probed \
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
            inject(0, "pg1", ms(100)),
            probe_wal("pg2", ms(200), ms(201), Role::Leader, Some(1_000), &[]),
            heal(0, "pg1", ms(300)),
            probe_wal("pg1", ms(400), ms(401), Role::Replica, Some(1_000), &[]),
            probe_wal("pg2", ms(500), ms(502), Role::Leader, Some(1_300), &["pg1"]),
            // a second failover: pg1 last reported 1000 as a replica
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
                "full redundancy not reached after fault 1 (crash of pg2): pg2 not streaming \
                 from the leader"
                    .to_string()
            )
        );
        assert_eq!(
            m.value(Measure::LagAtFailover),
            Ok(MeasuredValue::Bytes(300))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

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
            prop_assert!(!m.split_brain.detected);
            prop_assert_eq!(m.leaders.clone(), ["pg1", "pg2"]);

            let lw = m.lost_writes.clone().unwrap();
            prop_assert_eq!(&lw.seqs, &lost_seqs);
            let expected_rpo = lost_seqs.first().map(|&s| {
                let w = h.writes().find(|w| w.seq == s).unwrap();
                planted.fault.since(w.invoke)
            });
            prop_assert_eq!(lw.rpo, expected_rpo);
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
