//! Judging the scenario's objectives against the measurements.

use super::measurements::Measurements;
use crate::scenario::{Bound, Measure, Objective};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A measured value, as an objective bounds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum MeasuredValue {
    Duration(#[serde(with = "humantime_serde")] Duration),
    Count(u64),
    /// A size in bytes, judged against a `Bound::Count` holding bytes.
    Bytes(u64),
    Bool(bool),
}

/// A byte size for people: bytes below 1 kB ("512 B"), else in the largest unit of at least one
/// with one decimal, a trailing ".0" dropped ("64 kB", "65.5 kB", "1.2 GB"). Units are
/// 1024-based, as in PostgreSQL and scenario files (1 kB = 1024 B).
pub fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    // tenths of the unit, rounded half up
    let tenths = |unit: usize| (u128::from(bytes) * 10 + (1u128 << (10 * unit)) / 2) >> (10 * unit);
    let mut unit = (0..UNITS.len())
        .rev()
        .find(|&u| u128::from(bytes) >= 1u128 << (10 * u))
        .unwrap_or(0);
    if unit + 1 < UNITS.len() && tenths(unit) >= 10 * 1024 {
        unit += 1; // 1023.96 kB is shown as 1 MB
    }
    if unit == 0 {
        return format!("{bytes} B");
    }
    let t = tenths(unit);
    match t % 10 {
        0 => format!("{} {}", t / 10, UNITS[unit]),
        d => format!("{}.{d} {}", t / 10, UNITS[unit]),
    }
}

impl std::fmt::Display for MeasuredValue {
    /// Durations in seconds rounded to the millisecond ("10.234s"), counts as integers, sizes as
    /// [`fmt_bytes`] with the exact count beside when that rounds ("65.5 kB (67072 B)"), booleans
    /// as "yes" or "no".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MeasuredValue::Duration(d) => {
                let ms = (d.as_nanos() + 500_000) / 1_000_000;
                write!(f, "{}.{:03}s", ms / 1000, ms % 1000)
            }
            MeasuredValue::Count(n) => write!(f, "{n}"),
            MeasuredValue::Bytes(n) => {
                let human = fmt_bytes(*n);
                if *n < 1024 {
                    f.write_str(&human)
                } else {
                    write!(f, "{human} ({n} B)")
                }
            }
            MeasuredValue::Bool(b) => f.write_str(if *b { "yes" } else { "no" }),
        }
    }
}

/// One objective, judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveResult {
    pub measure: Measure,
    pub bound: Bound,
    /// The value judged; `None` if it could not be measured (the objective then fails).
    pub measured: Option<MeasuredValue>,
    pub passed: bool,
    /// Why it was not measured ("not measured: writes never recovered ..."), why it does not
    /// apply ("n/a: no role source in this stack"), or a remark on the value ("writes never
    /// stopped").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The measurement does not apply to the run's stack (see [`Measurements::not_applicable`]):
    /// the objective could not be judged, and fails. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_applicable: bool,
}

/// Every objective judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredVerdict")]
pub struct Verdict {
    pub objectives: Vec<ObjectiveResult>,
    /// Whether there were objectives and every one passed. False when there are none: the run is
    /// not judged (see [`Verdict::judged`]), and nothing was shown to hold.
    pub passed: bool,
}

/// A verdict as run.json holds it. Records written before "not judged" existed say
/// `passed: true` with no objectives: they load as not judged, never as passed.
#[derive(Deserialize)]
struct StoredVerdict {
    objectives: Vec<ObjectiveResult>,
    passed: bool,
}

impl From<StoredVerdict> for Verdict {
    fn from(stored: StoredVerdict) -> Verdict {
        Verdict {
            passed: stored.passed && !stored.objectives.is_empty(),
            objectives: stored.objectives,
        }
    }
}

/// What a verdict comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    Passed,
    Failed,
    /// The scenario has no objectives: nothing was judged.
    NotJudged,
}

impl Verdict {
    /// Whether anything was judged: the scenario has at least one objective.
    pub fn judged(&self) -> bool {
        !self.objectives.is_empty()
    }

    pub fn judgement(&self) -> Judgement {
        match (self.judged(), self.passed) {
            (false, _) => Judgement::NotJudged,
            (true, true) => Judgement::Passed,
            (true, false) => Judgement::Failed,
        }
    }
}

/// What the reports say of a run that was not judged.
pub const NOT_JUDGED: &str = "NOT JUDGED — the scenario has no objectives";

/// Judges each objective against the measurements. A measurement that could not be taken, or
/// that does not apply to the run's stack, fails its objective, with a note saying why. Without objectives the verdict is not judged and does
/// not pass.
pub fn judge(objectives: &[Objective], m: &Measurements) -> Verdict {
    let objectives: Vec<ObjectiveResult> = objectives.iter().map(|o| judge_one(o, m)).collect();
    Verdict {
        passed: !objectives.is_empty() && objectives.iter().all(|o| o.passed),
        objectives,
    }
}

fn judge_one(objective: &Objective, m: &Measurements) -> ObjectiveResult {
    let result = |measured, passed, note| ObjectiveResult {
        measure: objective.measure,
        bound: objective.bound.clone(),
        measured,
        passed,
        note,
        not_applicable: false,
    };
    if let Some(why) = m.not_applicable(objective.measure) {
        return ObjectiveResult {
            not_applicable: true,
            ..result(None, false, Some(format!("n/a: {why}")))
        };
    }
    let value = match m.value(objective.measure) {
        Ok(value) => value,
        Err(why) => return result(None, false, Some(format!("not measured: {why}"))),
    };
    let passed = match (&objective.bound, value) {
        (Bound::Duration { cmp, value: bound }, MeasuredValue::Duration(v)) => cmp.holds(v, *bound),
        (Bound::Count { cmp, value: bound }, MeasuredValue::Count(v)) => cmp.holds(v, *bound),
        (Bound::Count { cmp, value: bound }, MeasuredValue::Bytes(v)) => cmp.holds(v, *bound),
        (Bound::Bool { value: bound }, MeasuredValue::Bool(v)) => v == *bound,
        (bound, value) => {
            let note = format!(
                "bound {bound} does not apply to {} (measured {value})",
                objective.measure.name()
            );
            return result(Some(value), false, Some(note));
        }
    };
    let note = (objective.measure == Measure::Rto && m.writes_never_stopped())
        .then(|| "writes never stopped".to_string());
    result(Some(value), passed, note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::check::{NO_ROLE_SOURCE, measure};
    use crate::history::Role;
    use crate::scenario::Cmp;

    fn objective(measure: Measure, bound: Bound) -> Objective {
        Objective { measure, bound }
    }

    fn standard() -> Vec<Objective> {
        vec![
            objective(
                Measure::Rto,
                Bound::Duration {
                    cmp: Cmp::Le,
                    value: Duration::from_secs(30),
                },
            ),
            objective(
                Measure::LostWrites,
                Bound::Count {
                    cmp: Cmp::Eq,
                    value: 0,
                },
            ),
            objective(Measure::SplitBrain, Bound::Bool { value: false }),
        ]
    }

    #[test]
    fn display_is_readable() {
        let d = |ns| MeasuredValue::Duration(Duration::from_nanos(ns)).to_string();
        assert_eq!(d(10_234_400_000), "10.234s");
        assert_eq!(d(10_234_500_000), "10.235s");
        assert_eq!(d(999_600_000), "1.000s");
        assert_eq!(d(0), "0.000s");
        assert_eq!(MeasuredValue::Count(3).to_string(), "3");
        assert_eq!(MeasuredValue::Bool(false).to_string(), "no");
        assert_eq!(MeasuredValue::Bool(true).to_string(), "yes");
    }

    #[test]
    fn bytes_are_readable() {
        assert_eq!(fmt_bytes(0), "0 B");
        assert_eq!(fmt_bytes(1023), "1023 B");
        assert_eq!(fmt_bytes(1024), "1 kB");
        assert_eq!(fmt_bytes(67_072), "65.5 kB");
        assert_eq!(fmt_bytes(65_540), "64 kB");
        assert_eq!(
            fmt_bytes((1 << 20) - 1),
            "1 MB",
            "1023.999 kB rounds up a unit"
        );
        assert_eq!(fmt_bytes(1_258_291), "1.2 MB");
        assert_eq!(fmt_bytes(3 << 30), "3 GB");
        assert_eq!(fmt_bytes(u64::MAX), "16777216 TB");
        assert_eq!(MeasuredValue::Bytes(500).to_string(), "500 B");
        assert_eq!(
            MeasuredValue::Bytes(67_072).to_string(),
            "65.5 kB (67072 B)"
        );
    }

    #[test]
    fn byte_bounds_judge_byte_values() {
        let h = history(vec![
            probe_wal("pg1", ms(0), ms(1), Role::Leader, Some(2_000_000), &[]),
            probe_wal("pg2", ms(0), ms(1), Role::Replica, Some(1_000_000), &[]),
            primary_at("pg1", ms(0), ms(1), 2_000_000, &[("pg2", 1_000_000)]),
            inject(0, "pg1", ms(5)),
            probe_wal("pg2", ms(10), ms(11), Role::Leader, Some(2_000_000), &[]),
        ]);
        let m = measure(&h);
        let lag = |cmp, value| objective(Measure::LagAtFailover, Bound::Count { cmp, value });
        let v = judge(&[lag(Cmp::Le, 1 << 20), lag(Cmp::Lt, 1_000_000)], &m);
        assert!(v.objectives[0].passed);
        assert!(!v.objectives[1].passed);
        assert_eq!(
            v.objectives[0].measured,
            Some(MeasuredValue::Bytes(1_000_000))
        );
        let changes = objective(
            Measure::LeaderChanges,
            Bound::Count {
                cmp: Cmp::Eq,
                value: 0,
            },
        );
        let v = judge(&[changes], &m);
        assert!(!v.passed, "one failover: the leader changed once");
        assert_eq!(v.objectives[0].measured, Some(MeasuredValue::Count(1)));
    }

    #[test]
    fn no_objectives_are_not_judged_never_passed() {
        let m = measure(&history(vec![]));
        let v = judge(&[], &m);
        assert!(!v.passed);
        assert!(!v.judged());
        assert_eq!(v.judgement(), Judgement::NotJudged);
        assert!(v.objectives.is_empty());

        // a record written when such a verdict said passed loads as not judged
        let old: Verdict = serde_json::from_str(r#"{"objectives":[],"passed":true}"#).unwrap();
        assert_eq!(old.judgement(), Judgement::NotJudged);
        assert!(!old.passed);
        // a judged one loads as stored
        let v = judge(&standard()[2..], &m);
        assert_eq!(v.judgement(), Judgement::Failed);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), v);
        let passing = Verdict { passed: true, ..v };
        let json = serde_json::to_string(&passing).unwrap();
        let back: Verdict = serde_json::from_str(&json).unwrap();
        assert_eq!(back.judgement(), Judgement::Passed);
    }

    #[test]
    fn clean_failover_passes_with_values_beside() {
        let mut h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            // a role answer inside the fault's window: split brain is measured
            probe("pg2", ms(6), ms(7), Some(Role::Replica)),
            failed(2, ms(10), ms(11)),
            ok(3, ms(20), ms(24), "pg2", 2),
        ]);
        h.extend(steady(4, ms(30), "pg2", 2));
        h.extend([read_back(
            ms(6_000),
            [1].into_iter().chain(3..=54).collect(),
        )]);
        let v = judge(&standard(), &measure(&h));
        assert!(v.passed, "{v:?}");
        assert_eq!(
            v.objectives[0].measured,
            Some(MeasuredValue::Duration(Duration::from_millis(22)))
        );
        assert_eq!(v.objectives[0].note, None);
        assert_eq!(v.objectives[1].measured, Some(MeasuredValue::Count(0)));
        assert_eq!(v.objectives[2].measured, Some(MeasuredValue::Bool(false)));
    }

    #[test]
    fn writes_never_stopping_is_reported_so() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg3", ms(5)),
            ok(2, ms(10), ms(12), "pg1", 1),
        ]);
        let v = judge(&standard()[..1], &measure(&h));
        assert!(v.passed);
        assert_eq!(
            v.objectives[0].measured,
            Some(MeasuredValue::Duration(Duration::ZERO))
        );
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("writes never stopped")
        );
    }

    #[test]
    fn no_write_in_the_window_fails_an_rto_objective_as_not_measured() {
        // the writes ended before the fault: nothing shows they went on
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(10), ms(12), "pg1", 1),
            inject(0, "pg3", ms(50)),
        ]);
        let v = judge(&standard()[..1], &measure(&h));
        assert!(!v.passed);
        assert_eq!(v.objectives[0].measured, None);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("not measured: no write was attempted in the window of fault 1 (crash of pg3)")
        );
        // no fault and no write
        let v = judge(&standard()[..1], &measure(&history(vec![])));
        assert!(!v.passed);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("not measured: no write was attempted")
        );
    }

    #[test]
    fn unmeasured_values_fail_with_a_reason() {
        let h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            // a role answer inside the fault's window: split brain is measured
            probe("pg2", ms(6), ms(7), Some(Role::Replica)),
            failed(2, ms(10), ms(11)),
        ]);
        let v = judge(&standard(), &measure(&h));
        assert!(!v.passed);
        assert!(!v.objectives[0].passed);
        assert_eq!(v.objectives[0].measured, None);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("not measured: writes never recovered after fault 1 (crash of pg1)")
        );
        assert!(!v.objectives[1].passed);
        assert_eq!(
            v.objectives[1].note.as_deref(),
            Some("not measured: no read-back after recovery")
        );
        assert!(v.objectives[2].passed);
    }

    #[test]
    fn an_unconfirmed_recovery_fails_an_rto_objective_as_not_measured() {
        // writes came back at 24 ms, and went on for 4.9 s only
        let mut h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            // a role answer inside the fault's window: split brain is measured
            probe("pg2", ms(6), ms(7), Some(Role::Replica)),
            failed(2, ms(10), ms(11)),
            ok(3, ms(20), ms(24), "pg2", 2),
        ]);
        h.extend((0..49).map(|k| ok(4 + k, ms(100 + 100 * k), ms(102 + 100 * k), "pg2", 2)));
        let v = judge(&standard()[..1], &measure(&h));
        assert!(!v.passed);
        assert_eq!(v.objectives[0].measured, None);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some(
                "not measured: recovery after fault 1 (crash of pg1) unconfirmed: writes \
                 recovered at t+0.024s, but the last write was attempted 4.876s later, before 5s \
                 of successful writes confirmed it"
            )
        );
        // one write more, 5 s after the recovery's invoke: measured
        h.extend([ok(60, ms(5_020), ms(5_022), "pg2", 2)]);
        let v = judge(&standard()[..1], &measure(&h));
        assert!(v.passed);
        assert_eq!(
            v.objectives[0].measured,
            Some(MeasuredValue::Duration(Duration::from_millis(22)))
        );
    }

    /// Without a role source, the role and proxy families do not apply: their objectives fail
    /// as n/a, never judged on 0; the write path is judged as ever. One Patroni self report,
    /// even unanswered, is a role source.
    #[test]
    fn role_measurements_without_a_role_source_are_not_applicable() {
        let mut events = vec![inject(0, "pg1", ms(1_000))];
        events.extend((0..100).map(|k| ok(k, ms(10 * k), ms(10 * k + 1), "pg1", 1)));
        events.extend((200..1_000).map(|k| ok(k, ms(10 * k), ms(10 * k + 1), "pg1", 1)));
        let m = measure(&history(events.clone()));
        assert!(m.no_role_source);
        let objectives: Vec<Objective> = Measure::ALL
            .iter()
            .map(|&measure| {
                let bound = match measure.value_type() {
                    crate::scenario::MeasureType::Duration => Bound::Duration {
                        cmp: Cmp::Le,
                        value: Duration::from_secs(60),
                    },
                    crate::scenario::MeasureType::Bool => Bound::Bool { value: false },
                    _ => Bound::Count {
                        cmp: Cmp::Le,
                        value: 1 << 30,
                    },
                };
                objective(measure, bound)
            })
            .collect();
        let v = judge(&objectives, &m);
        assert!(!v.passed);
        for o in &v.objectives {
            if o.measure.family().needs_pooler() {
                assert_eq!(m.not_applicable(o.measure), Some(crate::check::NO_POOLER));
                continue;
            }
            // no restore step either: n/a for that reason, whatever the role source
            if o.measure.family().needs_restore_step() {
                assert_eq!(m.not_applicable(o.measure), Some(crate::check::NO_RESTORE));
                continue;
            }
            let family = o.measure.family();
            assert_eq!(o.not_applicable, family.needs_role_source(), "{o:?}");
            if o.not_applicable {
                assert_eq!(o.measured, None, "{o:?}");
                assert!(!o.passed);
                assert_eq!(o.note.as_deref(), Some("n/a: no role source in this stack"));
                assert_eq!(m.not_applicable(o.measure), Some(NO_ROLE_SOURCE));
            } else {
                assert_eq!(m.not_applicable(o.measure), None);
            }
        }
        let rto = v
            .objectives
            .iter()
            .find(|o| o.measure == Measure::Rto)
            .unwrap();
        assert!(rto.passed, "{rto:?}");
        // n/a is written only when so: a run with a role source keeps its bytes
        let json = serde_json::to_string(&v).unwrap();
        assert!(json.contains(r#""not_applicable":true"#), "{json}");

        events.push(probe("pg1", ms(0), ms(1), None));
        let m = measure(&history(events));
        assert!(!m.no_role_source);
        let v = judge(&objectives, &m);
        // without a pooler nor a restore step, their families alone do not apply
        let lacking = |o: &Objective| {
            let family = o.measure.family();
            family.needs_pooler() || family.needs_restore_step()
        };
        for (o, objective) in v.objectives.iter().zip(&objectives) {
            assert_eq!(o.not_applicable, lacking(objective), "{o:?}");
        }
        let v = judge(
            &objectives
                .into_iter()
                .filter(|o| !lacking(o))
                .collect::<Vec<_>>(),
            &m,
        );
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("not_applicable"), "{json}");
        assert!(
            !serde_json::to_string(&m)
                .unwrap()
                .contains("no_role_source")
        );
    }

    /// The pool family applies only with pool samples; stale server connections also need a
    /// role source (who led when the pooler was sampled). Never judged on 0.
    #[test]
    fn pool_measurements_apply_only_with_a_pooler() {
        use crate::check::NO_POOLER;
        let pool = [
            Measure::PoolPeakUse,
            Measure::PoolSaturatedTime,
            Measure::ClientsWaiting,
            Measure::ClientMaxWait,
            Measure::StaleServerConnections,
        ];
        let at_most = |measure: Measure| {
            objective(
                measure,
                match measure.value_type() {
                    crate::scenario::MeasureType::Duration => Bound::Duration {
                        cmp: Cmp::Le,
                        value: Duration::from_secs(1),
                    },
                    _ => Bound::Count {
                        cmp: Cmp::Le,
                        value: 5,
                    },
                },
            )
        };
        let objectives: Vec<Objective> = pool.iter().map(|&m| at_most(m)).collect();
        let writes: Vec<_> = (0..10)
            .map(|k| ok(k, ms(10 * k), ms(10 * k + 1), "pg1", 1))
            .collect();
        let m = measure(&history(writes.clone()));
        let v = judge(&objectives, &m);
        for o in &v.objectives {
            assert!(
                o.not_applicable && !o.passed && o.measured.is_none(),
                "{o:?}"
            );
            assert_eq!(
                o.note.as_deref(),
                Some("n/a: no connection pooler in this stack")
            );
            assert_eq!(m.not_applicable(o.measure), Some(NO_POOLER));
        }

        // a pooler but no role source: its figures are judged, stale connections are n/a
        let mut events = writes.clone();
        let mut sample = pool_sample("pgbouncer1", "pg1", ms(0), ms(2), 20, 3);
        sample.pools[0].cl_waiting = 2;
        sample.pools[0].maxwait_us = 400_000;
        events.push(crate::history::Event::Pool(sample));
        let m = measure(&history(events.clone()));
        let v = judge(&objectives, &m);
        let results: Vec<(Option<MeasuredValue>, bool, bool)> = v
            .objectives
            .iter()
            .map(|o| (o.measured, o.passed, o.not_applicable))
            .collect();
        assert_eq!(
            results,
            [
                (Some(MeasuredValue::Count(3)), true, false),
                (Some(MeasuredValue::Duration(Duration::ZERO)), true, false),
                (Some(MeasuredValue::Count(2)), true, false),
                (
                    Some(MeasuredValue::Duration(Duration::from_millis(400))),
                    true,
                    false
                ),
                (None, false, true),
            ]
        );
        assert_eq!(
            v.objectives[4].note.as_deref(),
            Some("n/a: no role source in this stack")
        );

        // with a role source: none stale, a count of 0 measured
        events.push(probe("pg1", ms(0), ms(1), Some(Role::Leader)));
        let v = judge(&objectives, &measure(&history(events)));
        assert_eq!(v.objectives[4].measured, Some(MeasuredValue::Count(0)));
        assert!(v.passed);
    }

    #[test]
    fn split_brain_without_a_role_observed_is_not_measured() {
        let split_brain = [objective(Measure::SplitBrain, Bound::Bool { value: false })];
        let writes = vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(10), ms(12), "pg1", 1),
        ];
        // no role source at all: not applicable, which fails as not judged
        let v = judge(&split_brain, &measure(&history(writes.clone())));
        assert!(!v.passed);
        assert_eq!(v.objectives[0].measured, None);
        assert!(v.objectives[0].not_applicable);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("n/a: no role source in this stack")
        );

        // probes, none answered: no role observed either
        let mut events = writes.clone();
        events.push(probe("pg1", ms(0), ms(1), None));
        let v = judge(&split_brain, &measure(&history(events)));
        assert!(!v.passed);
        assert!(!v.objectives[0].not_applicable);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some(
                "not measured: no role probe answered (1 of Patroni, 0 of PostgreSQL, all \
                 unanswered)"
            )
        );

        // a role answered by PostgreSQL alone is enough to judge it
        let mut events = writes.clone();
        events.push(pg_role("pg1", ms(0), ms(1), Some(false)));
        let v = judge(&split_brain, &measure(&history(events)));
        assert!(v.passed);
        assert_eq!(v.objectives[0].measured, Some(MeasuredValue::Bool(false)));
        assert_eq!(v.objectives[0].note, None);

        // without probes, a split brain the writes alone show is still detected: it fails as
        // measured
        let mut events = writes;
        events.push(ok(3, ms(20), ms(22), "pg2", 1));
        let v = judge(&split_brain, &measure(&history(events)));
        assert!(!v.passed);
        assert_eq!(v.objectives[0].measured, Some(MeasuredValue::Bool(true)));
        assert_eq!(v.objectives[0].note, None);
    }

    #[test]
    fn bounds_are_compared() {
        let mut h = history(vec![
            probe("pg1", ms(0), ms(1), Some(Role::Leader)),
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            // a role answer inside the fault's window: split brain is measured
            probe("pg2", ms(6), ms(7), Some(Role::Replica)),
            failed(2, ms(10), ms(11)),
            ok(3, ms(40_000), ms(40_002), "pg2", 2),
            ok(4, ms(40_010), ms(40_012), "pg2", 2),
        ]);
        // seq 4 lost
        h.extend(steady(5, ms(40_100), "pg2", 2));
        h.extend([read_back(
            ms(50_000),
            [1, 3].into_iter().chain(5..=55).collect(),
        )]);
        let v = judge(&standard(), &measure(&h));
        assert!(!v.passed);
        assert!(!v.objectives[0].passed, "40 s > 30 s");
        assert!(!v.objectives[1].passed, "one write lost");
        assert_eq!(v.objectives[1].measured, Some(MeasuredValue::Count(1)));
        assert!(v.objectives[2].passed);
    }

    #[test]
    fn mismatched_bound_fails() {
        let m = measure(&history(vec![probe(
            "pg1",
            ms(0),
            ms(1),
            Some(Role::Leader),
        )]));
        let v = judge(
            &[objective(
                Measure::SplitBrain,
                Bound::Count {
                    cmp: Cmp::Eq,
                    value: 0,
                },
            )],
            &m,
        );
        assert!(!v.passed);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("bound == 0 does not apply to split_brain (measured no)")
        );
    }

    #[test]
    fn results_serialize_readably() {
        let v = MeasuredValue::Duration(Duration::from_millis(10_234));
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"type":"duration","value":"10s 234ms"}"#);
        assert_eq!(serde_json::from_str::<MeasuredValue>(&json).unwrap(), v);
        let json = serde_json::to_string(&MeasuredValue::Bytes(65_536)).unwrap();
        assert_eq!(json, r#"{"type":"bytes","value":65536}"#);
    }

    proptest::proptest! {
        /// The shown size is within a twentieth of a unit of the exact one, in a unit it fills.
        #[test]
        fn shown_bytes_are_close(bytes in proptest::prelude::any::<u64>()) {
            let text = fmt_bytes(bytes);
            let (number, unit) = text.split_once(' ').unwrap();
            let power = ["B", "kB", "MB", "GB", "TB"].iter().position(|u| *u == unit).unwrap();
            let shown: f64 = number.parse().unwrap();
            let exact = bytes as f64 / (1u64 << (10 * power)) as f64;
            proptest::prop_assert!((shown - exact).abs() <= 0.05 + 1e-9 * exact, "{text} for {bytes}");
            proptest::prop_assert!(power == 0 || shown >= 1.0);
            proptest::prop_assert!(power == 4 || shown < 1024.0, "{text}");
        }
    }
}
