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
    Bool(bool),
}

impl std::fmt::Display for MeasuredValue {
    /// Durations in seconds rounded to the millisecond ("10.234s"), counts as integers, booleans
    /// as "yes" or "no".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MeasuredValue::Duration(d) => {
                let ms = (d.as_nanos() + 500_000) / 1_000_000;
                write!(f, "{}.{:03}s", ms / 1000, ms % 1000)
            }
            MeasuredValue::Count(n) => write!(f, "{n}"),
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
    /// Why it was not measured ("not measured: writes never recovered ..."), or a remark on the
    /// value ("writes never stopped").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every objective judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub objectives: Vec<ObjectiveResult>,
    /// Whether every objective passed (true when there are none).
    pub passed: bool,
}

/// Judges each objective against the measurements. A measurement that could not be taken fails
/// its objective, with a note saying why.
pub fn judge(objectives: &[Objective], m: &Measurements) -> Verdict {
    let objectives: Vec<ObjectiveResult> = objectives.iter().map(|o| judge_one(o, m)).collect();
    Verdict {
        passed: objectives.iter().all(|o| o.passed),
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
    };
    let value = match m.value(objective.measure) {
        Ok(value) => value,
        Err(why) => return result(None, false, Some(format!("not measured: {why}"))),
    };
    let passed = match (&objective.bound, value) {
        (Bound::Duration { cmp, value: bound }, MeasuredValue::Duration(v)) => cmp.holds(v, *bound),
        (Bound::Count { cmp, value: bound }, MeasuredValue::Count(v)) => cmp.holds(v, *bound),
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
    use crate::check::measure;
    use crate::check::testkit::*;
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
    fn no_objectives_pass() {
        let m = measure(&history(vec![]));
        let v = judge(&[], &m);
        assert!(v.passed);
        assert!(v.objectives.is_empty());
    }

    #[test]
    fn clean_failover_passes_with_values_beside() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            failed(2, ms(10), ms(11)),
            ok(3, ms(20), ms(24), "pg2", 2),
            read_back(ms(100), vec![1, 3]),
        ]);
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
    fn unmeasured_values_fail_with_a_reason() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            failed(2, ms(10), ms(11)),
        ]);
        let v = judge(&standard(), &measure(&h));
        assert!(!v.passed);
        assert!(!v.objectives[0].passed);
        assert_eq!(v.objectives[0].measured, None);
        assert_eq!(
            v.objectives[0].note.as_deref(),
            Some("not measured: writes never recovered after fault 0 (crash of pg1)")
        );
        assert!(!v.objectives[1].passed);
        assert_eq!(
            v.objectives[1].note.as_deref(),
            Some("not measured: no read-back after recovery")
        );
        assert!(v.objectives[2].passed);
    }

    #[test]
    fn bounds_are_compared() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            inject(0, "pg1", ms(5)),
            failed(2, ms(10), ms(11)),
            ok(3, ms(40_000), ms(40_002), "pg2", 2),
            ok(4, ms(40_010), ms(40_012), "pg2", 2),
            read_back(ms(50_000), vec![1, 3]),
        ]);
        let v = judge(&standard(), &measure(&h));
        assert!(!v.passed);
        assert!(!v.objectives[0].passed, "40 s > 30 s");
        assert!(!v.objectives[1].passed, "one write lost");
        assert_eq!(v.objectives[1].measured, Some(MeasuredValue::Count(1)));
        assert!(v.objectives[2].passed);
    }

    #[test]
    fn mismatched_bound_fails() {
        let m = measure(&history(vec![]));
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
    }
}
