//! The restore drill's checked answer (the runbook's test 4): a cluster lost, then restored from
//! its backups to a point in time. Writes acknowledged after the target are lost by design, so
//! the restore is judged against the target, not against every acknowledged write.
//!
//! Let **R** be the last `restore` step of the history, **T** the last `target` step done
//! before R (ended at or before R's start; [`TargetMark::of`]), and **L** the last
//! `lose-cluster` step done between T and R (started at or after T's end, ended at or before R's
//! start). The *target window* is `[T.started, T.ended]`: the statement that read the server's
//! clock ran inside it. The *restored timeline* is R's `timeline` value (when R is done).
//!
//! A write is *acknowledged on the restored timeline* when it is `ok` with a timeline (as its
//! INSERT returned it) at or above the restored timeline. Should R record no timeline, an `ok`
//! write invoked at or after R's start is: every node of the lost cluster was dead by then.
//!
//! Only writes the harness sent count ([`super::writes::ordered`]). Against the final read-back,
//! with R done and T found, each write falls in one class:
//!
//! - **acknowledged on the restored cluster**: acknowledged on the restored timeline. Each must
//!   be present, as any acknowledged write (those completing after the read-back began are not
//!   checked);
//! - **before the target**: `ok` and completed before `T.started`. Each must be present: those
//!   absent are `lost_before_target` (must be 0);
//! - **in flight across the target**: invoked at or before `T.ended` and not before the target
//!   (completed at or after `T.started`, or not `ok`). Either way is right: reported as present
//!   or absent, never counted in the two measures;
//! - **unknown since the restore**: invoked after `T.ended`, outcome `unknown`, completed at or
//!   after R's start. It may have run on the restored cluster, so either way is right: reported
//!   as present or absent (DESIGN: an unknown write is never counted as lost nor as
//!   acknowledged);
//! - **after the target**: every other write invoked after `T.ended` (not `ok`, or `ok` on an
//!   older timeline). None may be present: those present are `present_after_target` (must be
//!   0); the acknowledged ones absent are `discarded_after_target`, what the restore discarded
//!   by design.
//!
//! The ordinary acknowledged writes lost and RPO (`loss.rs`) leave out, with R done and T found,
//! every write completed at or after `T.started` that was not acknowledged on the restored
//! timeline: the restore accounts for them ([`Accounted`]). Without a restore step nothing is
//! left out.

use super::leader::{self, is_leader, probed_nodes};
use super::proxy;
use super::verdict::MeasuredValue;
use super::writes::is_ok;
use crate::history::{At, History, Outcome, ReadBack, RoleSample, StepEvent, WriteOp};
use crate::scenario::Measure;
use crate::step::{Action, Backup, LoseCluster, RestoreCluster, TargetMark};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;

/// Why a restore measurement does not apply.
pub const NO_RESTORE: &str = "no restore step in this scenario";

/// What the last `restore` step of the run came to, checked against the writes.
///
/// Instants are on the run's clock; durations are humantime strings in run.json. Every value
/// that could not be taken is `null` (or absent), never 0: [`RestoreMeasurements::value`] says
/// why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreMeasurements {
    /// R's number in the scenario.
    pub step: usize,
    /// **restore_completed**: R is done (its node led). When false, `failure` says why, and the
    /// restore time, the phases and the truth measures are not measured.
    pub completed: bool,
    /// R's reason, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The node R restored on (R's `node`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The backup set pgBackRest restored (R's `backup_set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_set: Option<String>,
    /// The target asked: `time` or `name` (R's `target_type`; from T when R recorded none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// The target asked: a time as PostgreSQL reads it, or a restore point's name (R's
    /// `target`; from T when R recorded none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// T's number; `None` when no target step was done before R.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_step: Option<usize>,
    /// T's reading of the leader's clock (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_time: Option<String>,
    /// The target window: T's start and end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_from: Option<At>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_to: Option<At>,
    /// The point reached: PostgreSQL's "last completed transaction was at log time …" (R's
    /// `last_completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<String>,
    /// PostgreSQL's "recovery stopping before …" (R's `stopped_before`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_before: Option<String>,
    /// The restored timeline (R's `timeline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<u64>,
    /// L's number; `None` when no lose-cluster step was done between T and R.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_step: Option<usize>,
    /// L's start: the instant the cluster was lost, every phase's origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_at: Option<At>,
    /// **restore_time** (the restore's RTO): from `lost_at` to the complete instant of the first
    /// write (by invoke) invoked after `lost_at` and acknowledged on the restored timeline.
    /// `None` if the restore failed, without L, or if no such write.
    #[serde(default, with = "humantime_serde")]
    pub restore_time: Option<Duration>,
    /// **restore_rpo** (the effective RPO): T's `target_time` minus R's `last_completed` (for a
    /// restore point as for a time). `None` if the restore failed, without either, or if the
    /// last transaction applied is after the target (see [`effective_rpo`]).
    #[serde(default, with = "humantime_serde")]
    pub restore_rpo: Option<Duration>,
    pub phases: RestorePhases,
    /// The writes against the target; `None` if the restore failed, without T, or without a
    /// read-back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<RestoreTruth>,
    /// `ok` writes the ordinary acknowledged writes lost and RPO left out, present or not
    /// (see [`Accounted`]).
    #[serde(default)]
    pub left_to_restore: u64,
}

/// How long each part of the restore took, each an offset from the cluster's loss (`lost_at`,
/// L's start) but `restore_command`. `None` when the restore failed, without L, or when its
/// evidence is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePhases {
    /// R's start: the restoring node started.
    #[serde(default, with = "humantime_serde")]
    pub restore_began: Option<Duration>,
    /// pgBackRest's restore command as its own log timed it (R's `restore_command_ms`): a
    /// duration, not an offset (its instants are not on the run's clock).
    #[serde(default, with = "humantime_serde")]
    pub restore_command: Option<Duration>,
    /// PostgreSQL reached the target (its `recovery stopping …` line): the WAL replayed. From
    /// R's `target_reached_time`, a time on the host's clock, placed on the run's clock by the
    /// history's own start (`started_wall`, to the millisecond).
    #[serde(default, with = "humantime_serde")]
    pub target_reached: Option<Duration>,
    /// PostgreSQL finished promoting (`archive recovery complete`), from R's `promoted_time`,
    /// placed like `target_reached`.
    #[serde(default, with = "humantime_serde")]
    pub promoted: Option<Duration>,
    /// R's end: the harness saw the restored node lead (it polls every 200 ms).
    #[serde(default, with = "humantime_serde")]
    pub restored_leads: Option<Duration>,
    /// The `received` instant of the first authority sample (by received instant), sent at or
    /// after L's end (the lost cluster's keys deleted), naming R's node leader: Patroni holds
    /// the leader key.
    #[serde(default, with = "humantime_serde")]
    pub leader_key: Option<Duration>,
    /// The `received` instant of the first HAProxy sample (by received instant), sent at or
    /// after R's end, counting R's node UP. Before R's end an UP is the lost cluster's, not yet
    /// marked down (fall × inter outlasts a quick restore).
    #[serde(default, with = "humantime_serde")]
    pub proxy_routing: Option<Duration>,
    /// The first write acknowledged on the restored cluster: `restore_time`.
    #[serde(default, with = "humantime_serde")]
    pub first_write: Option<Duration>,
    /// **restore_redundancy_time**: the `received` instant of the first self report (by
    /// received instant), sent at or after R's end, in which R's node is leader and lists as
    /// streaming every other node the self reports name.
    #[serde(default, with = "humantime_serde")]
    pub full_redundancy: Option<Duration>,
    /// When full redundancy was not seen: the nodes the last such report of R's node as leader
    /// did not list. Empty if it was seen, or if no such report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_streaming: Vec<String>,
}

/// The restore against the writes (see the module's classes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTruth {
    /// Acknowledged before the target: they must all be present.
    pub before_target: SeqRange,
    /// **lost_before_target**: of those, the ones absent.
    pub lost_before_target: SeqList,
    /// Sent after the target and not acknowledged on the restored timeline: none may be
    /// present.
    pub after_target: SeqRange,
    /// **present_after_target**: of those, the ones present.
    pub present_after_target: SeqList,
    /// Of those, the acknowledged ones absent: what the restore discarded by design.
    pub discarded_after_target: SeqRange,
    /// In flight across the target: either way is right.
    pub in_flight: Resolved,
    /// Unknown writes invoked after the target that completed after the restore began: they
    /// may have run on the restored cluster, so either way is right.
    pub unknown_since_restore: Resolved,
    /// Acknowledged on the restored timeline: they must all be present.
    pub on_restored: SeqRange,
    /// Of those, the ones absent (completed before the read-back began).
    pub lost_on_restored: SeqList,
    /// Of those, the ones completed after the read-back began: not checked.
    pub unchecked: u64,
}

/// How many writes, and the lowest and highest sequence numbers among them (not every number
/// between: other classes interleave).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqRange {
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<u64>,
}

/// How many writes, and every sequence number, ascending: the evidence of a violation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqList {
    pub count: u64,
    pub seqs: Vec<u64>,
}

/// Writes resolved by the read-back, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub present: Vec<u64>,
    pub absent: Vec<u64>,
}

/// A `backup` step that was done: its duration and what pgBackRest said of the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupTaken {
    /// Its number in the scenario.
    pub step: usize,
    /// pgBackRest's label (`20261128-113333F`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `full`, `diff` or `incr`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub started: At,
    /// Its end minus its start.
    #[serde(with = "humantime_serde")]
    pub took: Duration,
    /// The set's size in bytes (the database it holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// What it added to the repository, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_delta: Option<u64>,
}

impl SeqRange {
    fn of(seqs: &BTreeSet<u64>) -> SeqRange {
        SeqRange {
            count: seqs.len() as u64,
            first: seqs.first().copied(),
            last: seqs.last().copied(),
        }
    }
}

impl SeqList {
    fn of(seqs: BTreeSet<u64>) -> SeqList {
        SeqList {
            count: seqs.len() as u64,
            seqs: seqs.into_iter().collect(),
        }
    }
}

/// R, T and L as the module defines them.
struct Drill<'a> {
    restore: &'a StepEvent,
    target: Option<(&'a StepEvent, TargetMark)>,
    loss: Option<&'a StepEvent>,
}

impl<'a> Drill<'a> {
    fn of(history: &'a History) -> Option<Drill<'a>> {
        let steps: Vec<&StepEvent> = history.steps().collect();
        let restore = *steps
            .iter()
            .rev()
            .find(|s| s.action == RestoreCluster::NAME)?;
        let before = |s: &&&StepEvent| s.step != restore.step && s.ended <= restore.started;
        let target = steps
            .iter()
            .rev()
            .filter(before)
            .find_map(|s| TargetMark::of(s).map(|mark| (*s, mark)));
        let since = target.as_ref().map_or(At(0), |(t, _)| t.ended);
        let loss = steps
            .iter()
            .rev()
            .filter(before)
            .find(|s| s.action == LoseCluster::NAME && s.failure().is_none() && s.started >= since)
            .copied();
        Some(Drill {
            restore,
            target,
            loss,
        })
    }

    fn done(&self) -> bool {
        self.restore.failure().is_none()
    }

    fn restored(&self) -> Restored {
        Restored {
            timeline: number(self.restore, "timeline"),
            began: self.restore.started,
        }
    }
}

/// Which writes the restored cluster acknowledged.
#[derive(Clone, Copy, Debug)]
struct Restored {
    timeline: Option<u64>,
    began: At,
}

impl Restored {
    fn acknowledged(&self, w: &WriteOp) -> bool {
        is_ok(w)
            && match self.timeline {
                Some(restored) => w.timeline.is_some_and(|t| u64::from(t) >= restored),
                None => w.invoke >= self.began,
            }
    }
}

/// The writes a done restore accounts for: completed at or after the target window's start and
/// not acknowledged on the restored timeline. The ordinary lost writes and RPO leave them out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Accounted {
    from: At,
    restored: Restored,
}

impl Accounted {
    /// With R done and T found; `None` (nothing left out) otherwise, and without a restore step.
    pub(crate) fn of(history: &History) -> Option<Accounted> {
        let drill = Drill::of(history)?;
        let (target, _) = drill.target.as_ref().filter(|_| drill.done())?;
        Some(Accounted {
            from: target.started,
            restored: drill.restored(),
        })
    }

    pub(crate) fn covers(&self, w: &WriteOp) -> bool {
        w.complete >= self.from && !self.restored.acknowledged(w)
    }
}

/// The restore's measurements; `None` without a restore step. `writes`: the sent writes,
/// ordered by invoke instant.
pub(crate) fn restore(history: &History, writes: &[&WriteOp]) -> Option<RestoreMeasurements> {
    let drill = Drill::of(history)?;
    let r = drill.restore;
    let done = drill.done();
    let restored = drill.restored();
    let mark = drill.target.as_ref().map(|(_, m)| m);
    let lost_at = drill.loss.map(|l| l.started);
    let node = text(r, "node");

    let restore_time = lost_at.filter(|_| done).and_then(|lost| {
        writes
            .iter()
            .find(|w| w.invoke > lost && restored.acknowledged(w))
            .map(|w| w.complete.since(lost))
    });
    let phases = match (drill.loss, &node) {
        (Some(loss), Some(node)) if done => phases(history, r, loss, node, restore_time),
        _ => RestorePhases::default(),
    };
    let restore_rpo = match (mark, text(r, "last_completed")) {
        (Some(mark), Some(last)) if done => effective_rpo(&mark.target_time, &last).ok(),
        _ => None,
    };
    let truth = match (&drill.target, history.read_back()) {
        (Some((target, _)), Some(read_back)) if done => {
            Some(truth(writes, target, restored, read_back))
        }
        _ => None,
    };
    let accounted = Accounted::of(history);
    let left_to_restore = writes
        .iter()
        .filter(|w| is_ok(w) && accounted.is_some_and(|a| a.covers(w)))
        .count() as u64;
    Some(RestoreMeasurements {
        step: r.step,
        completed: done,
        failure: r.failure().map(str::to_owned),
        node,
        backup_set: text(r, "backup_set"),
        target_type: text(r, "target_type").or_else(|| {
            mark.map(|m| match m.restore_point {
                Some(_) => "name".to_owned(),
                None => "time".to_owned(),
            })
        }),
        target: text(r, "target").or_else(|| {
            mark.map(|m| {
                m.restore_point
                    .clone()
                    .unwrap_or_else(|| m.target_time.clone())
            })
        }),
        target_step: drill.target.as_ref().map(|(t, _)| t.step),
        target_time: mark.map(|m| m.target_time.clone()),
        target_from: drill.target.as_ref().map(|(t, _)| t.started),
        target_to: drill.target.as_ref().map(|(t, _)| t.ended),
        last_completed: text(r, "last_completed"),
        stopped_before: text(r, "stopped_before"),
        timeline: restored.timeline,
        loss_step: drill.loss.map(|l| l.step),
        lost_at,
        restore_time,
        restore_rpo,
        phases,
        truth,
        left_to_restore,
    })
}

/// `time` (RFC 3339) on the run's clock, whose start was `started_wall` (RFC 3339); `None`
/// before the start or unreadable.
fn wall_instant(started_wall: &str, time: &str) -> Option<At> {
    let start = chrono::DateTime::parse_from_rfc3339(started_wall).ok()?;
    let time = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    let nanos = (time - start).num_nanoseconds()?;
    u64::try_from(nanos).ok().map(At)
}

/// The phases of a done restore `r` after the loss `loss`, on `node`.
fn phases(
    history: &History,
    r: &StepEvent,
    loss: &StepEvent,
    node: &str,
    first_write: Option<Duration>,
) -> RestorePhases {
    let lost = loss.started;
    let mut authorities: Vec<&RoleSample> = history.authority_reports().collect();
    authorities.sort_by_key(|p| (p.received, p.sent));
    let leader_key = authorities
        .iter()
        .filter(|p| p.sent >= loss.ended)
        .find(|p| is_leader(p) && p.node.as_deref() == Some(node))
        .map(|p| p.received.since(lost));
    let proxy_routing = proxy::ordered(history)
        .iter()
        .filter(|s| s.sent >= r.ended)
        .find(|s| s.server(node).is_some_and(|n| n.is_up()))
        .map(|s| s.received.since(lost));
    let probes = leader::ordered(history);
    let others: Vec<&str> = probed_nodes(&probes)
        .into_iter()
        .filter(|n| *n != node)
        .collect();
    let (mut full_redundancy, mut not_streaming) = (None, Vec::new());
    for p in probes
        .iter()
        .filter(|p| p.sent >= r.ended && p.asked == node && is_leader(p))
    {
        not_streaming = others
            .iter()
            .filter(|n| !p.streaming.iter().any(|s| s == *n))
            .map(|n| n.to_string())
            .collect();
        if not_streaming.is_empty() {
            full_redundancy = Some(p.received.since(lost));
            break;
        }
    }
    // A time on the host's clock, as an offset from the loss on the run's clock.
    let logged = |name: &str| {
        let at = wall_instant(&history.started_wall, r.values.get(name)?.as_str()?)?;
        Some(at.since(lost))
    };
    RestorePhases {
        restore_began: Some(r.started.since(lost)),
        restore_command: number(r, "restore_command_ms").map(Duration::from_millis),
        target_reached: logged("target_reached_time"),
        promoted: logged("promoted_time"),
        restored_leads: Some(r.ended.since(lost)),
        leader_key,
        proxy_routing,
        first_write,
        full_redundancy,
        not_streaming,
    }
}

/// The writes against the target window of `target` (see the module's classes).
fn truth(
    writes: &[&WriteOp],
    target: &StepEvent,
    restored: Restored,
    read_back: &ReadBack,
) -> RestoreTruth {
    let present: BTreeSet<u64> = read_back.present.iter().copied().collect();
    let (from, to) = (target.started, target.ended);
    let mut before = BTreeSet::new();
    let mut lost_before = BTreeSet::new();
    let mut after = BTreeSet::new();
    let mut present_after = BTreeSet::new();
    let mut discarded = BTreeSet::new();
    let mut on_restored = BTreeSet::new();
    let mut lost_on_restored = BTreeSet::new();
    let mut unchecked = 0;
    let mut in_flight = (BTreeSet::new(), BTreeSet::new());
    let mut unknown_since = (BTreeSet::new(), BTreeSet::new());
    let resolve = |w: &WriteOp, into: &mut (BTreeSet<u64>, BTreeSet<u64>)| {
        if present.contains(&w.seq) {
            into.0.insert(w.seq);
        } else {
            into.1.insert(w.seq);
        }
    };
    for w in writes {
        let there = present.contains(&w.seq);
        if restored.acknowledged(w) {
            on_restored.insert(w.seq);
            if !there && w.complete > read_back.at {
                unchecked += 1;
            } else if !there {
                lost_on_restored.insert(w.seq);
            }
        } else if w.invoke <= to {
            if is_ok(w) && w.complete < from {
                before.insert(w.seq);
                if !there {
                    lost_before.insert(w.seq);
                }
            } else {
                resolve(w, &mut in_flight);
            }
        } else if w.outcome == Outcome::Unknown && w.complete >= restored.began {
            resolve(w, &mut unknown_since);
        } else {
            after.insert(w.seq);
            if there {
                present_after.insert(w.seq);
            } else if is_ok(w) {
                discarded.insert(w.seq);
            }
        }
    }
    let resolved = |(present, absent): (BTreeSet<u64>, BTreeSet<u64>)| Resolved {
        present: present.into_iter().collect(),
        absent: absent.into_iter().collect(),
    };
    RestoreTruth {
        before_target: SeqRange::of(&before),
        lost_before_target: SeqList::of(lost_before),
        after_target: SeqRange::of(&after),
        present_after_target: SeqList::of(present_after),
        discarded_after_target: SeqRange::of(&discarded),
        in_flight: resolved(in_flight),
        unknown_since_restore: resolved(unknown_since),
        on_restored: SeqRange::of(&on_restored),
        lost_on_restored: SeqList::of(lost_on_restored),
        unchecked,
    }
}

/// Every `backup` step that was done, in order.
pub(crate) fn backups(history: &History) -> Vec<BackupTaken> {
    history
        .steps()
        .filter(|s| s.action == Backup::NAME && s.failure().is_none())
        .map(|s| BackupTaken {
            step: s.step,
            label: text(s, "label"),
            kind: text(s, "type"),
            started: s.started,
            took: s.took(),
            size: number(s, "size"),
            repository_delta: number(s, "repository_delta"),
        })
        .collect()
}

/// **Effective RPO**: `target_time` (RFC 3339, T's reading of the leader's clock) minus
/// `last_completed` (PostgreSQL's log time, `2026-11-28 11:33:41.56558+00`): how much before
/// the target the last transaction recovery applied committed. A last transaction after the
/// target (recovery went past it) is not an RPO: the error says so.
pub fn effective_rpo(target_time: &str, last_completed: &str) -> Result<Duration, String> {
    let target = chrono::DateTime::parse_from_rfc3339(target_time)
        .map_err(|_| format!("the target's time {target_time:?} cannot be read"))?;
    let last = pg_timestamp(last_completed).ok_or_else(|| {
        format!("the last completed transaction's time {last_completed:?} cannot be read")
    })?;
    (target - last).to_std().map_err(|_| {
        format!(
            "the last transaction applied ({last_completed}) is after the target \
             ({target_time}): recovery went past it"
        )
    })
}

/// A timestamp as PostgreSQL writes it in its log: `2026-11-28 11:33:41.56558+00`, its offset
/// in hours or hours and minutes (`+05:30`), fractional seconds optional.
pub fn pg_timestamp(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let text = text.trim();
    // the offset's sign is the last + or - past the date
    let sign = text.rfind(['+', '-']).filter(|&at| at > 10)?;
    let (local, offset) = text.split_at(sign);
    let offset = match offset.len() {
        3 => format!("{offset}:00"),
        _ => offset.to_owned(),
    };
    chrono::DateTime::parse_from_str(&format!("{local}{offset}"), "%Y-%m-%d %H:%M:%S%.f%:z").ok()
}

fn text(step: &StepEvent, name: &str) -> Option<String> {
    step.values
        .get(name)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn number(step: &StepEvent, name: &str) -> Option<u64> {
    step.values.get(name).and_then(|v| v.as_u64())
}

impl RestoreMeasurements {
    /// "the restore failed: REASON", when it did.
    fn failed(&self) -> Option<String> {
        (!self.completed).then(|| {
            format!(
                "the restore failed: {}",
                self.failure.as_deref().unwrap_or("no reason recorded")
            )
        })
    }

    fn no_target(&self) -> Option<String> {
        self.target_step.is_none().then(|| {
            format!(
                "no target step was done before the restore (step {})",
                self.step
            )
        })
    }

    fn no_loss(&self) -> Option<String> {
        self.loss_step.is_none().then(|| {
            format!(
                "no lose-cluster step was done between the target and the restore (step {})",
                self.step
            )
        })
    }

    /// The value an objective on `measure` (of the restore family) is judged against, or why
    /// it could not be measured.
    pub fn value(&self, measure: Measure) -> Result<MeasuredValue, String> {
        if measure == Measure::RestoreCompleted {
            return Ok(MeasuredValue::Bool(self.completed));
        }
        if let Some(why) = self.failed() {
            return Err(why);
        }
        let node = self.node.as_deref().unwrap_or("the restored node");
        match measure {
            Measure::RestoreTime => {
                self.restore_time
                    .map(MeasuredValue::Duration)
                    .ok_or_else(|| {
                        self.no_loss().unwrap_or_else(|| {
                    format!(
                        "no write was acknowledged on the restored cluster (timeline {}) after \
                         the loss",
                        self.timeline.map_or("?".into(), |t| t.to_string())
                    )
                })
                    })
            }
            Measure::LostBeforeTarget | Measure::PresentAfterTarget => match &self.truth {
                Some(t) if measure == Measure::LostBeforeTarget => {
                    Ok(MeasuredValue::Count(t.lost_before_target.count))
                }
                Some(t) => Ok(MeasuredValue::Count(t.present_after_target.count)),
                None => Err(self
                    .no_target()
                    .unwrap_or_else(|| "no read-back after the restore".to_owned())),
            },
            Measure::RestoreRpo => {
                if let Some(rpo) = self.restore_rpo {
                    return Ok(MeasuredValue::Duration(rpo));
                }
                if let Some(why) = self.no_target() {
                    return Err(why);
                }
                match (&self.target_time, &self.last_completed) {
                    (Some(target), Some(last)) => {
                        effective_rpo(target, last).map(MeasuredValue::Duration)
                    }
                    _ => Err("the restored node's log named no last completed transaction".into()),
                }
            }
            Measure::RestoreRedundancyTime => self
                .phases
                .full_redundancy
                .map(MeasuredValue::Duration)
                .ok_or_else(|| {
                    self.no_loss()
                        .unwrap_or_else(|| match self.phases.not_streaming.as_slice() {
                            [] => format!("no self report of {node} as leader after it led"),
                            gap => format!(
                                "{node} was not seen streaming to every other node ({} not \
                             streaming)",
                                gap.join(", ")
                            ),
                        })
                }),
            _ => Err(format!("{} is not a restore measurement", measure.name())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::history::{Event, Role, StepOutcome, Values};
    use proptest::prelude::*;

    #[test]
    fn postgresql_log_times_are_read_with_their_offsets() {
        let t = pg_timestamp("2026-11-28 11:33:41.56558+00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T11:33:41.565580+00:00");
        let t = pg_timestamp("2026-11-28 17:03:41+05:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T17:03:41+05:30");
        let t = pg_timestamp("2026-11-28 03:33:41.5-08").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T03:33:41.500-08:00");
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28 11:33:41",
            "11:33:41.5+00",
            "yesterday+00",
        ] {
            assert_eq!(pg_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_effective_rpo_is_the_target_minus_the_last_transaction_applied() {
        assert_eq!(
            effective_rpo(
                "2026-11-28T11:33:41.600000+00:00",
                "2026-11-28 11:33:41.56558+00"
            ),
            Ok(Duration::from_micros(34_420))
        );
        // offsets on either side
        assert_eq!(
            effective_rpo("2026-11-28T12:33:42.5+01:00", "2026-11-28 11:33:41.5+00"),
            Ok(Duration::from_secs(1))
        );
        assert_eq!(
            effective_rpo("2026-11-28T11:33:41+00:00", "2026-11-28 11:33:41+00"),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            effective_rpo("2026-11-28T11:33:41+00:00", "2026-11-28 11:33:42+00"),
            Err(
                "the last transaction applied (2026-11-28 11:33:42+00) is after the target \
                 (2026-11-28T11:33:41+00:00): recovery went past it"
                    .into()
            )
        );
        assert!(effective_rpo("noon", "2026-11-28 11:33:42+00").is_err());
        assert!(effective_rpo("2026-11-28T11:33:41+00:00", "noon").is_err());
    }

    // ---- a planted restore drill ----

    fn values(pairs: &[(&str, serde_json::Value)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn step(
        number: usize,
        action: &str,
        (started, ended): (At, At),
        outcome: StepOutcome,
        values: Values,
    ) -> Event {
        Event::Step(StepEvent {
            step: number,
            action: action.into(),
            at: started,
            started,
            ended,
            outcome,
            detail: None,
            values,
        })
    }

    fn authority(sent: At, holder: Option<&str>) -> Event {
        Event::Role(RoleSample::authority(
            "etcd",
            "etcd1",
            sent,
            sent.plus(Duration::from_millis(1)),
            holder.map(str::to_owned),
        ))
    }

    /// The shape of a restore drill, in ms from the start: writes every `period` (each taking
    /// 2 ms) on pg1, timeline 1, until the loss; failing from the loss until the restored pg1
    /// takes them on timeline 2.
    #[derive(Clone, Debug)]
    struct Plan {
        period: u64,
        target: u64,
        loss: u64,
        restore: u64,
        leads: u64,
        writes_back: u64,
        end: u64,
        /// The target's statement takes this long (its window).
        window: u64,
        /// How long before the target the last transaction applied committed, in µs.
        rpo_us: u64,
    }

    impl Plan {
        fn usual() -> Plan {
            Plan {
                period: 10,
                target: 12_000,
                loss: 20_000,
                restore: 22_000,
                leads: 26_000,
                writes_back: 26_500,
                end: 40_000,
                window: 3,
                rpo_us: 34_420,
            }
        }

        /// PostgreSQL's log time of the last transaction applied.
        fn last_completed(&self) -> String {
            let target = chrono::DateTime::parse_from_rfc3339(TARGET_TIME).unwrap();
            let last = target - chrono::Duration::microseconds(self.rpo_us as i64);
            last.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
        }

        fn target_window(&self) -> (At, At) {
            (ms(self.target), ms(self.target + self.window))
        }

        /// Every write and every event but the read-back; `steps` false leaves out the steps.
        fn events(&self, steps: bool) -> Vec<Event> {
            let mut events = Vec::new();
            let mut seq = 1;
            let mut t = 0;
            while t < self.end {
                let (invoke, complete) = (ms(t), ms(t + 2));
                events.push(if t < self.loss {
                    ok(seq, invoke, complete, "pg1", 1)
                } else if t < self.writes_back {
                    failed(seq, invoke, complete)
                } else {
                    ok(seq, invoke, complete, "pg1", 2)
                });
                seq += 1;
                t += self.period;
            }
            events.extend(self.samples());
            if steps {
                events.extend(self.steps(true));
            }
            events
        }

        /// Every 100 ms: etcd's leader key, Patroni on each node, HAProxy. pg1 leads on
        /// timeline 1 until the loss (streaming to both others), nobody answers until the
        /// restored pg1 leads on timeline 2: alone for 3 s, then with pg2, then with both.
        /// HAProxy marks pg1 down 4 s after the loss, and up 2 s after it leads.
        fn samples(&self) -> Vec<Event> {
            let mut events = Vec::new();
            for k in 0..self.end / 100 {
                let at = ms(100 * k);
                let (holder, role, streaming): (Option<&str>, Option<Role>, &[&str]) =
                    if at < ms(self.loss) {
                        (Some("pg1"), Some(Role::Leader), &["pg2", "pg3"])
                    } else if at < ms(self.leads) {
                        (None, None, &[])
                    } else if at < ms(self.leads + 3_000) {
                        (Some("pg1"), Some(Role::Leader), &[])
                    } else if at < ms(self.leads + 6_000) {
                        (Some("pg1"), Some(Role::Leader), &["pg2"])
                    } else {
                        (Some("pg1"), Some(Role::Leader), &["pg3", "pg2"])
                    };
                events.push(authority(at, holder));
                events.push(match role {
                    Some(role) => with_timeline(
                        probe_wal(
                            "pg1",
                            at,
                            at.plus(Duration::from_millis(2)),
                            role,
                            None,
                            streaming,
                        ),
                        Some(if at < ms(self.loss) { 1 } else { 2 }),
                    ),
                    None => probe("pg1", at, at.plus(Duration::from_millis(2)), None),
                });
                events.push(probe("pg2", at, at.plus(Duration::from_millis(2)), None));
                events.push(probe("pg3", at, at.plus(Duration::from_millis(2)), None));
                // HAProxy marks pg1 down 4 s after the loss, and up 2 s after it leads
                let up = at < ms(self.loss + 4_000) || at >= ms(self.leads + 2_000);
                events.push(proxy(
                    at,
                    at.plus(Duration::from_millis(3)),
                    if up { &["pg1"] } else { &[] },
                ));
            }
            events
        }

        fn steps(&self, restore_done: bool) -> Vec<Event> {
            let (from, to) = self.target_window();
            let mut steps = vec![
                step(
                    1,
                    "backup",
                    (ms(5_000), ms(7_345)),
                    StepOutcome::Done,
                    values(&[
                        ("label", "20261128-113333F".into()),
                        ("type", "full".into()),
                        ("size", 24_117_248u64.into()),
                        ("repository_delta", 3_145_728u64.into()),
                    ]),
                ),
                step(
                    2,
                    "target",
                    (from, to),
                    StepOutcome::Done,
                    values(&[
                        ("node", "pg1".into()),
                        ("target_time", TARGET_TIME.into()),
                        ("target_at", (from.0 + MS).into()),
                        ("target_lsn", "0/3000060".into()),
                    ]),
                ),
                step(
                    3,
                    "lose-cluster",
                    (ms(self.loss), ms(self.loss + 400)),
                    StepOutcome::Done,
                    Values::new(),
                ),
            ];
            let restore = (ms(self.restore), ms(self.leads));
            steps.push(if restore_done {
                step(
                    4,
                    "restore",
                    restore,
                    StepOutcome::Done,
                    values(&[
                        ("node", "pg1".into()),
                        ("target_type", "time".into()),
                        ("target", "2026-11-28 11:33:41.600000+00".into()),
                        ("backup_set", "20261128-113333F".into()),
                        ("restore_command_ms", 647u64.into()),
                        ("last_completed", self.last_completed().into()),
                        ("timeline", 2u64.into()),
                    ]),
                )
            } else {
                step(
                    4,
                    "restore",
                    restore,
                    StepOutcome::Failed {
                        reason: REFUSED.into(),
                    },
                    Values::new(),
                )
            });
            steps
        }
    }

    const TARGET_TIME: &str = "2026-11-28T11:33:41.600000+00:00";

    const REFUSED: &str = "pg1 stopped (exit 1) without leading: pgBackRest refused: ERROR: \
                           [075]: unable to find backup set with stop time less than \
                           '2026-11-28 11:33:41.600000+00'";

    fn writes_of(h: &History) -> Vec<WriteOp> {
        crate::check::writes::ordered(h)
            .into_iter()
            .cloned()
            .collect()
    }

    /// The read-back a good restore gives: every write acknowledged before the target, the
    /// in-flight ones as `in_flight_present` says, none after it, every one on timeline 2.
    fn good_read_back(plan: &Plan, h: &History, in_flight_present: bool) -> Vec<u64> {
        let (from, to) = plan.target_window();
        writes_of(h)
            .iter()
            .filter(|w| {
                let ok = w.outcome == Outcome::Ok;
                (ok && w.complete < from)
                    || (w.invoke <= to && ok && in_flight_present)
                    || (ok && w.timeline == Some(2))
            })
            .map(|w| w.seq)
            .collect()
    }

    fn with_read_back(mut h: History, present: Vec<u64>) -> History {
        h.extend([read_back(ms(45_000), present)]);
        h
    }

    #[test]
    fn a_restore_drill_is_checked_against_its_target() {
        let plan = Plan::usual();
        let h = history(plan.events(true));
        let present = good_read_back(&plan, &h, true);
        let h = with_read_back(h, present);
        let m = crate::check::measure(&h);
        let r = m.restore.as_ref().unwrap();
        assert!(r.completed && r.failure.is_none());
        assert_eq!((r.step, r.target_step, r.loss_step), (4, Some(2), Some(3)));
        assert_eq!(r.node.as_deref(), Some("pg1"));
        assert_eq!(r.timeline, Some(2));
        assert_eq!(r.lost_at, Some(ms(20_000)));
        // writes every 10 ms from 0: seq k+1 at 10k ms; the target at 12 s..12.003 s
        let t = r.truth.as_ref().unwrap();
        assert_eq!(
            t.before_target,
            SeqRange {
                count: 1_200,
                first: Some(1),
                last: Some(1_200)
            }
        );
        assert_eq!(t.lost_before_target, SeqList::default());
        // seq 1201 (12.000 s → 12.002 s) is in flight across the target
        assert_eq!(
            t.in_flight,
            Resolved {
                present: vec![1_201],
                absent: vec![]
            }
        );
        // 12.01 s to 19.99 s on timeline 1, 20 s to 26.49 s failed
        assert_eq!(
            t.after_target,
            SeqRange {
                count: 1_449,
                first: Some(1_202),
                last: Some(2_650)
            }
        );
        assert_eq!(t.present_after_target, SeqList::default());
        assert_eq!(
            t.discarded_after_target,
            SeqRange {
                count: 799,
                first: Some(1_202),
                last: Some(2_000)
            }
        );
        assert_eq!(
            t.on_restored,
            SeqRange {
                count: 1_350,
                first: Some(2_651),
                last: Some(4_000)
            }
        );
        assert_eq!((t.lost_on_restored.count, t.unchecked), (0, 0));
        // the discarded writes and the one in flight are the restore's, not lost
        assert_eq!(r.left_to_restore, 800);
        let lost = m.lost_writes.as_ref().unwrap();
        assert_eq!((lost.count, lost.rpo), (0, None));

        assert_eq!(r.restore_time, Some(Duration::from_millis(6_502)));
        let p = &r.phases;
        assert_eq!(p.restore_began, Some(Duration::from_secs(2)));
        assert_eq!(p.restore_command, Some(Duration::from_millis(647)));
        assert_eq!(p.restored_leads, Some(Duration::from_secs(6)));
        // the key names pg1 again from 26 s; before the loss it was the lost cluster's
        assert_eq!(p.leader_key, Some(Duration::from_millis(6_001)));
        // pg1 UP until 24 s (the lost cluster's), then down, up again from 28 s
        assert_eq!(p.proxy_routing, Some(Duration::from_millis(8_003)));
        assert_eq!(p.first_write, r.restore_time);
        assert_eq!(p.full_redundancy, Some(Duration::from_millis(12_002)));
        assert!(p.not_streaming.is_empty());
        assert_eq!(r.restore_rpo, Some(Duration::from_micros(34_420)));
        assert_eq!(m.backups.len(), 1);
        assert_eq!(m.backups[0].took, Duration::from_millis(2_345));
        assert_eq!(m.backups[0].size, Some(24_117_248));

        for (measure, value) in [
            (Measure::RestoreCompleted, MeasuredValue::Bool(true)),
            (
                Measure::RestoreTime,
                MeasuredValue::Duration(Duration::from_millis(6_502)),
            ),
            (Measure::LostBeforeTarget, MeasuredValue::Count(0)),
            (Measure::PresentAfterTarget, MeasuredValue::Count(0)),
            (
                Measure::RestoreRpo,
                MeasuredValue::Duration(Duration::from_micros(34_420)),
            ),
            (
                Measure::RestoreRedundancyTime,
                MeasuredValue::Duration(Duration::from_millis(12_002)),
            ),
        ] {
            assert_eq!(m.value(measure), Ok(value), "{measure:?}");
            assert_eq!(m.not_applicable(measure), None);
        }
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["restore"]["restore_time"], "6s 502ms");
        assert_eq!(
            json["restore"]["truth"]["discarded_after_target"]["first"],
            1_202
        );
        assert_eq!(json["backups"][0]["type"], "full");
        let back: crate::check::Measurements = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn a_restore_that_kept_too_little_or_too_much_is_caught() {
        let plan = Plan::usual();
        let h = history(plan.events(true));
        let mut present = good_read_back(&plan, &h, false);
        // two writes acknowledged before the target missing; two after it present (one
        // acknowledged on timeline 1, one failed during the outage); one on timeline 2 missing
        present.retain(|&s| ![7, 900, 3_000].contains(&s));
        present.extend([1_500, 2_100]);
        let h = with_read_back(h, present);
        let m = crate::check::measure(&h);
        let t = m.restore.as_ref().unwrap().truth.clone().unwrap();
        assert_eq!(
            t.lost_before_target,
            SeqList {
                count: 2,
                seqs: vec![7, 900]
            }
        );
        assert_eq!(
            t.present_after_target,
            SeqList {
                count: 2,
                seqs: vec![1_500, 2_100]
            }
        );
        assert_eq!(
            t.in_flight,
            Resolved {
                present: vec![],
                absent: vec![1_201]
            }
        );
        assert_eq!(t.discarded_after_target.count, 798);
        assert_eq!(
            t.lost_on_restored,
            SeqList {
                count: 1,
                seqs: vec![3_000]
            }
        );
        assert_eq!(
            m.value(Measure::LostBeforeTarget),
            Ok(MeasuredValue::Count(2))
        );
        assert_eq!(
            m.value(Measure::PresentAfterTarget),
            Ok(MeasuredValue::Count(2))
        );
        // the ordinary loss: the two before the target and the one on timeline 2, nothing of
        // what the restore discarded
        let lost = m.lost_writes.as_ref().unwrap();
        assert_eq!(lost.seqs, [7, 900, 3_000]);
        // a failed write found committed stays a problem of the run
        assert_eq!(m.failed_committed.as_ref().unwrap().seqs, [2_100]);
    }

    #[test]
    fn an_unknown_write_that_ran_on_the_restored_cluster_is_no_violation() {
        let plan = Plan::usual();
        let mut events = plan.events(true);
        // sent at 26.4 s, timed out at 27.4 s: it may have committed on the restored pg1
        events.retain(|e| !matches!(e, Event::Write(w) if w.seq == 2_641));
        events.push(unknown(2_641, ms(26_400), ms(27_400)));
        // sent at 15 s on the lost cluster, timed out before the restore began
        events.retain(|e| !matches!(e, Event::Write(w) if w.seq == 1_501));
        events.push(unknown(1_501, ms(15_000), ms(16_000)));
        let h = history(events);
        let mut present = good_read_back(&plan, &h, true);
        present.extend([2_641, 1_501]);
        let m = crate::check::measure(&with_read_back(h, present));
        let t = m.restore.as_ref().unwrap().truth.clone().unwrap();
        assert_eq!(
            t.unknown_since_restore,
            Resolved {
                present: vec![2_641],
                absent: vec![]
            }
        );
        assert_eq!(
            t.present_after_target,
            SeqList {
                count: 1,
                seqs: vec![1_501]
            }
        );
    }

    #[test]
    fn a_failed_restore_is_never_measured_as_a_success() {
        let plan = Plan::usual();
        let mut events = plan.events(false);
        events.extend(plan.steps(false));
        // no leader after the loss: no read-back either
        events.retain(|e| match e {
            Event::Write(w) => w.invoke < ms(plan.loss) || w.outcome != Outcome::Ok,
            _ => true,
        });
        let m = crate::check::measure(&history(events));
        let r = m.restore.as_ref().unwrap();
        assert!(!r.completed);
        assert_eq!(r.failure.as_deref(), Some(REFUSED));
        assert_eq!((r.node.as_deref(), r.timeline), (None, None));
        // the target asked comes from the target step
        assert_eq!(r.target_type.as_deref(), Some("time"));
        assert_eq!(
            r.target.as_deref(),
            Some("2026-11-28T11:33:41.600000+00:00")
        );
        assert_eq!(r.phases, RestorePhases::default());
        assert_eq!((r.restore_time, r.restore_rpo), (None, None));
        assert!(r.truth.is_none());
        assert_eq!(
            m.value(Measure::RestoreCompleted),
            Ok(MeasuredValue::Bool(false))
        );
        let why = format!("the restore failed: {REFUSED}");
        for measure in [
            Measure::RestoreTime,
            Measure::LostBeforeTarget,
            Measure::PresentAfterTarget,
            Measure::RestoreRpo,
            Measure::RestoreRedundancyTime,
        ] {
            assert_eq!(m.value(measure), Err(why.clone()), "{measure:?}");
        }
        // nothing was left to a restore that did not happen
        assert_eq!(r.left_to_restore, 0);
        let objectives: Vec<crate::scenario::Objective> = [
            (Measure::RestoreTime, "<= 10m"),
            (Measure::LostBeforeTarget, "== 0"),
            (Measure::PresentAfterTarget, "== 0"),
            (Measure::RestoreRpo, "<= 1h"),
            (Measure::RestoreRedundancyTime, "<= 1h"),
        ]
        .into_iter()
        .map(|(measure, bound)| crate::scenario::Objective {
            measure,
            bound: bound_of(measure, bound),
        })
        .collect();
        let verdict = crate::check::judge(&objectives, &m);
        for o in &verdict.objectives {
            assert!(!o.passed && o.measured.is_none(), "{o:?}");
            assert_eq!(
                o.note.as_deref(),
                Some(format!("not measured: {why}").as_str())
            );
        }
    }

    fn bound_of(measure: Measure, text: &str) -> crate::scenario::Bound {
        let (cmp, value) = text.split_once(' ').unwrap();
        let cmp = match cmp {
            "<=" => crate::scenario::Cmp::Le,
            _ => crate::scenario::Cmp::Eq,
        };
        match measure.value_type() {
            crate::scenario::MeasureType::Duration => crate::scenario::Bound::Duration {
                cmp,
                value: humantime::parse_duration(value).unwrap(),
            },
            _ => crate::scenario::Bound::Count {
                cmp,
                value: value.parse().unwrap(),
            },
        }
    }

    #[test]
    fn restore_objectives_are_judged_like_every_other() {
        let plan = Plan::usual();
        let h = history(plan.events(true));
        let mut present = good_read_back(&plan, &h, true);
        present.push(1_500);
        let m = crate::check::measure(&with_read_back(h, present));
        let objectives: Vec<crate::scenario::Objective> = [
            (Measure::RestoreTime, "<= 10s"),
            (Measure::LostBeforeTarget, "== 0"),
            (Measure::PresentAfterTarget, "== 0"),
            (Measure::RestoreRpo, "<= 10ms"),
            (Measure::RestoreRedundancyTime, "<= 1m"),
        ]
        .into_iter()
        .map(|(measure, bound)| crate::scenario::Objective {
            measure,
            bound: bound_of(measure, bound),
        })
        .chain([crate::scenario::Objective {
            measure: Measure::RestoreCompleted,
            bound: crate::scenario::Bound::Bool { value: true },
        }])
        .collect();
        let verdict = crate::check::judge(&objectives, &m);
        let judged: Vec<(&str, bool)> = verdict
            .objectives
            .iter()
            .map(|o| (o.measure.name(), o.passed))
            .collect();
        assert_eq!(
            judged,
            [
                ("restore_time", true),
                ("lost_before_target", true),
                ("present_after_target", false),
                ("restore_rpo", false),
                ("restore_redundancy_time", true),
                ("restore_completed", true)
            ]
        );
        assert!(!verdict.passed);

        // without a restore step: not applicable, never passed
        let m = crate::check::measure(&history(plan.events(false)));
        let verdict = crate::check::judge(&objectives, &m);
        for o in &verdict.objectives {
            assert!(
                o.not_applicable && !o.passed && o.measured.is_none(),
                "{o:?}"
            );
            assert_eq!(
                o.note.as_deref(),
                Some("n/a: no restore step in this scenario")
            );
        }
    }

    #[test]
    fn what_is_missing_is_said_never_zero() {
        let plan = Plan::usual();
        let mut events = plan.events(false);
        // no target, no loss: the restore step alone, done; no read-back
        events.extend(
            plan.steps(true)
                .into_iter()
                .filter(|e| matches!(e, Event::Step(s) if s.action == "restore")),
        );
        let m = crate::check::measure(&history(events));
        assert_eq!(
            m.value(Measure::LostBeforeTarget),
            Err("no target step was done before the restore (step 4)".into())
        );
        assert_eq!(
            m.value(Measure::RestoreRpo),
            Err("no target step was done before the restore (step 4)".into())
        );
        let no_loss = "no lose-cluster step was done between the target and the restore (step 4)";
        assert_eq!(m.value(Measure::RestoreTime), Err(no_loss.into()));
        assert_eq!(m.value(Measure::RestoreRedundancyTime), Err(no_loss.into()));
        // nothing left out of the ordinary loss without a target
        assert_eq!(m.restore.as_ref().unwrap().left_to_restore, 0);

        // the drill, but no read-back, no write on timeline 2, pg3 never streaming
        let mut events = plan.events(true);
        events.retain(|e| !matches!(e, Event::Write(w) if w.timeline == Some(2)));
        for e in &mut events {
            if let Event::Role(r) = e {
                r.streaming.retain(|n| n != "pg3");
            }
        }
        let m = crate::check::measure(&history(events));
        assert_eq!(
            m.value(Measure::PresentAfterTarget),
            Err("no read-back after the restore".into())
        );
        assert_eq!(
            m.value(Measure::RestoreTime),
            Err(
                "no write was acknowledged on the restored cluster (timeline 2) after the loss"
                    .into()
            )
        );
        assert_eq!(
            m.value(Measure::RestoreRedundancyTime),
            Err("pg1 was not seen streaming to every other node (pg3 not streaming)".into())
        );
        // a restore step whose log named no last transaction
        let mut h = history(plan.events(true));
        for e in &mut h.events {
            if let Event::Step(s) = e {
                s.values.remove("last_completed");
            }
        }
        assert_eq!(
            crate::check::measure(&h).value(Measure::RestoreRpo),
            Err("the restored node's log named no last completed transaction".into())
        );
    }

    #[test]
    fn without_a_restore_step_nothing_applies_and_nothing_changes() {
        let plan = Plan::usual();
        let h = history(plan.events(false));
        let present = good_read_back(&plan, &h, false);
        let h = with_read_back(h, present);
        let m = crate::check::measure(&h);
        assert_eq!(m.restore, None);
        assert!(m.backups.is_empty());
        for &measure in Measure::ALL
            .iter()
            .filter(|m| m.family().needs_restore_step())
        {
            assert_eq!(m.not_applicable(measure), Some(NO_RESTORE), "{measure:?}");
        }
        // the discarded writes are lost, as before restores were checked
        let writes = crate::check::writes::ordered(&h);
        let old = crate::check::loss::lost_writes(&writes, h.read_back(), &[]);
        assert_eq!(m.lost_writes, old);
        assert_eq!(m.lost_writes.as_ref().unwrap().count, 800);
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("\"restore\"") && !json.contains("\"backups\""));
    }

    /// What each planted write is, by construction.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Planted {
        BeforeTarget { kept: bool },
        InFlight { kept: bool },
        AfterTarget { kept: bool, acknowledged: bool },
        UnknownSinceRestore { kept: bool },
        OnRestored { kept: bool },
    }

    fn plan_strategy() -> impl Strategy<Value = Plan> {
        (
            5u64..40,
            3_000u64..15_000,
            0u64..60,
            1_000u64..8_000,
            500u64..3_000,
            // HAProxy marks the lost pg1 down 4 s after the loss, before it leads again
            4_000u64..9_000,
            0u64..1_000,
            // past leads + 6 s by more than the 100 ms sampling period: full redundancy sampled
            6_200u64..10_000,
            0u64..5_000_000,
        )
            .prop_map(
                |(period, target, window, loss, restore, leads, back, tail, rpo_us)| {
                    let loss = target + window + loss;
                    let leads = (loss + leads).max(loss + restore + 500);
                    Plan {
                        period,
                        target,
                        loss,
                        restore: loss + restore,
                        leads,
                        writes_back: leads + back,
                        end: leads + back + tail,
                        window,
                        rpo_us,
                    }
                },
            )
    }

    /// Writes every `period`, each taking a random time (several overlap the target); some
    /// unknown or failed; each kept by the read-back or not as planted. The truth of each write
    /// follows from how it was made.
    fn plant_writes(plan: &Plan, seed: u64) -> (Vec<Event>, Vec<(u64, Planted)>, Vec<u64>) {
        let mut rng = Jitter::new(seed);
        let (from, to) = plan.target_window();
        let (mut events, mut truth, mut present) = (Vec::new(), Vec::new(), Vec::new());
        let one_in = |rng: &mut Jitter, n: u64| rng.range(1, n) == 1;
        let mut t = 0;
        let mut seq = 0;
        while t < plan.end {
            seq += 1;
            let invoke = ms(t);
            let complete = ms(t + rng.range(1, 3 * plan.period));
            t += plan.period;
            let (event, planted) = if t - plan.period < plan.loss {
                // the lost cluster: acknowledged only if done before the kill
                let outcome = match rng.range(1, 20) {
                    1 => Outcome::Unknown,
                    2 => Outcome::Fail,
                    _ if complete >= ms(plan.loss) => Outcome::Unknown,
                    _ => Outcome::Ok,
                };
                let event = match outcome {
                    Outcome::Ok => ok(seq, invoke, complete, "pg1", 1),
                    Outcome::Fail => failed(seq, invoke, complete),
                    _ => unknown(seq, invoke, complete),
                };
                let planted = if invoke <= to {
                    if outcome == Outcome::Ok && complete < from {
                        Planted::BeforeTarget {
                            kept: !one_in(&mut rng, 50),
                        }
                    } else {
                        Planted::InFlight {
                            kept: outcome != Outcome::Fail && one_in(&mut rng, 2),
                        }
                    }
                } else {
                    Planted::AfterTarget {
                        kept: one_in(&mut rng, 100),
                        acknowledged: outcome == Outcome::Ok,
                    }
                };
                (event, planted)
            } else if t - plan.period < plan.writes_back {
                // the outage: refused, or timed out, perhaps after the restore began
                if one_in(&mut rng, 5) {
                    let complete = invoke.plus(Duration::from_millis(rng.range(1, 2_000)));
                    let planted = if complete >= ms(plan.restore) {
                        Planted::UnknownSinceRestore {
                            kept: one_in(&mut rng, 2),
                        }
                    } else {
                        Planted::AfterTarget {
                            kept: one_in(&mut rng, 50),
                            acknowledged: false,
                        }
                    };
                    (unknown(seq, invoke, complete), planted)
                } else {
                    let planted = Planted::AfterTarget {
                        kept: one_in(&mut rng, 200),
                        acknowledged: false,
                    };
                    (failed(seq, invoke, complete), planted)
                }
            } else if one_in(&mut rng, 10) {
                let planted = Planted::UnknownSinceRestore {
                    kept: one_in(&mut rng, 2),
                };
                (unknown(seq, invoke, complete), planted)
            } else {
                let planted = Planted::OnRestored {
                    kept: !one_in(&mut rng, 100),
                };
                (ok(seq, invoke, complete, "pg1", 2), planted)
            };
            let kept = match planted {
                Planted::BeforeTarget { kept }
                | Planted::InFlight { kept }
                | Planted::AfterTarget { kept, .. }
                | Planted::UnknownSinceRestore { kept }
                | Planted::OnRestored { kept } => kept,
            };
            if kept {
                present.push(seq);
            }
            events.push(event);
            truth.push((seq, planted));
        }
        (events, truth, present)
    }

    fn range_of(seqs: &[u64]) -> SeqRange {
        SeqRange {
            count: seqs.len() as u64,
            first: seqs.first().copied(),
            last: seqs.last().copied(),
        }
    }

    fn list_of(seqs: Vec<u64>) -> SeqList {
        SeqList {
            count: seqs.len() as u64,
            seqs,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn planted_restore_drills_are_checked_exactly(plan in plan_strategy(), seed in any::<u64>()) {
            let (writes, truth, present) = plant_writes(&plan, seed);
            let mut events = writes.clone();
            events.extend(plan.samples());
            events.push(read_back(ms(plan.end + 1_000), present));
            let without = history(events.clone());
            events.extend(plan.steps(true));
            let h = history(events);
            let m = crate::check::measure(&h);
            let r = m.restore.clone().unwrap();

            let seqs = |keep: &dyn Fn(Planted) -> bool| -> Vec<u64> {
                truth.iter().filter(|(_, p)| keep(*p)).map(|(s, _)| *s).collect()
            };
            let t = r.truth.clone().unwrap();
            prop_assert_eq!(
                &t.before_target,
                &range_of(&seqs(&|p| matches!(p, Planted::BeforeTarget { .. })))
            );
            let lost_before = seqs(&|p| p == Planted::BeforeTarget { kept: false });
            prop_assert_eq!(&t.lost_before_target, &list_of(lost_before.clone()));
            prop_assert_eq!(
                &t.after_target,
                &range_of(&seqs(&|p| matches!(p, Planted::AfterTarget { .. })))
            );
            prop_assert_eq!(
                &t.present_after_target,
                &list_of(seqs(&|p| matches!(p, Planted::AfterTarget { kept: true, .. })))
            );
            prop_assert_eq!(
                &t.discarded_after_target,
                &range_of(&seqs(&|p| p == Planted::AfterTarget { kept: false, acknowledged: true }))
            );
            prop_assert_eq!(&t.in_flight, &Resolved {
                present: seqs(&|p| p == Planted::InFlight { kept: true }),
                absent: seqs(&|p| p == Planted::InFlight { kept: false }),
            });
            prop_assert_eq!(&t.unknown_since_restore, &Resolved {
                present: seqs(&|p| p == Planted::UnknownSinceRestore { kept: true }),
                absent: seqs(&|p| p == Planted::UnknownSinceRestore { kept: false }),
            });
            prop_assert_eq!(
                &t.on_restored,
                &range_of(&seqs(&|p| matches!(p, Planted::OnRestored { .. })))
            );
            let lost_restored = seqs(&|p| p == Planted::OnRestored { kept: false });
            prop_assert_eq!(&t.lost_on_restored, &list_of(lost_restored.clone()));
            prop_assert_eq!(
                m.value(Measure::LostBeforeTarget),
                Ok(MeasuredValue::Count(lost_before.len() as u64))
            );

            // the ordinary loss no longer counts what the restore discarded, nor the writes in
            // flight across the target; it still counts every other acknowledged write lost
            let mut ordinary: Vec<u64> = writes_of(&h)
                .iter()
                .filter(|w| w.outcome == Outcome::Ok)
                .filter(|w| lost_before.contains(&w.seq) || lost_restored.contains(&w.seq))
                .map(|w| w.seq)
                .collect();
            ordinary.sort();
            prop_assert_eq!(&m.lost_writes.as_ref().unwrap().seqs, &ordinary);
            let (from, _) = plan.target_window();
            let left = writes_of(&h)
                .iter()
                .filter(|w| w.outcome == Outcome::Ok && w.timeline == Some(1) && w.complete >= from)
                .count() as u64;
            prop_assert_eq!(r.left_to_restore, left);

            // the restore's time and phases, from the loss
            let lost = ms(plan.loss);
            let first_write = writes_of(&h)
                .iter()
                .find(|w| w.outcome == Outcome::Ok && w.timeline == Some(2))
                .map(|w| w.complete.since(lost));
            prop_assert_eq!(r.restore_time, first_write);
            let sample_after = |t: u64, latency: u64| {
                Some(ms(t.div_ceil(100) * 100 + latency).since(lost))
            };
            let p = &r.phases;
            prop_assert_eq!(p.restore_began, Some(ms(plan.restore).since(lost)));
            prop_assert_eq!(p.restored_leads, Some(ms(plan.leads).since(lost)));
            prop_assert_eq!(p.leader_key, sample_after(plan.leads, 1));
            prop_assert_eq!(p.proxy_routing, sample_after(plan.leads + 2_000, 3));
            prop_assert_eq!(p.full_redundancy, sample_after(plan.leads + 6_000, 2));
            prop_assert_eq!(p.first_write, first_write);
            prop_assert_eq!(r.restore_rpo, Some(Duration::from_micros(plan.rpo_us)));

            // without the steps: exactly the old numbers
            let old = crate::check::measure(&without);
            prop_assert_eq!(&old.restore, &None);
            let sent = crate::check::writes::ordered(&without);
            prop_assert_eq!(
                &old.lost_writes,
                &crate::check::loss::lost_writes(&sent, without.read_back(), &[])
            );
            // and the steps change nothing else
            let mut same = m.clone();
            (same.restore, same.backups, same.lost_writes) =
                (None, Vec::new(), old.lost_writes.clone());
            prop_assert_eq!(&same, &old);

            let json = serde_json::to_string(&m).unwrap();
            let back: crate::check::Measurements = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, m);
        }
    }
}
