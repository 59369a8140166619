//! The operator's promotion (a `promote` step), as the history holds it: when it decided.

use super::rto::Window;
use crate::history::{At, History, StepOutcome};
use std::time::Duration;

/// The step action whose values this reads (`crate::step::Promote`).
const PROMOTE: &str = "promote";

/// **Decision time**: from the window's `F` to the earliest `decided_at` value, in the window,
/// of a `promote` step that completed (a procedure watching from before the fault decides
/// after it). `None` without such a step.
pub(crate) fn decision_time(history: &History, window: Window) -> Option<Duration> {
    history
        .steps()
        .filter(|s| s.action == PROMOTE && s.outcome == StepOutcome::Done)
        .filter_map(|s| s.values.get("decided_at"))
        .filter_map(|v| serde_json::from_value::<At>(v.clone()).ok())
        .filter(|decided| *decided >= window.start && window.before_end(*decided))
        .min()
        .map(|decided| decided.since(window.start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, StepEvent};

    fn step(started: u64, decided: u64) -> Event {
        let mut values = crate::history::Values::new();
        values.insert("decided_at".into(), serde_json::json!(At(decided)));
        Event::Step(StepEvent {
            step: 1,
            action: PROMOTE.into(),
            at: At(started),
            started: At(started),
            ended: At(decided + 10),
            outcome: StepOutcome::Done,
            detail: None,
            values,
        })
    }

    #[test]
    fn the_decision_is_timed_from_the_fault_by_the_first_decision_in_its_window() {
        let window = Window {
            start: At(1_000),
            end: Some(At(50_000)),
        };
        // one decided before F; one watching from before F, deciding after it; one later
        let history = super::super::testkit::history(vec![
            step(500, 600),
            step(900, 4_000),
            step(3_000, 7_000),
        ]);
        assert_eq!(
            decision_time(&history, window),
            Some(Duration::from_nanos(3_000))
        );
        let later = Window {
            start: At(60_000),
            end: None,
        };
        assert_eq!(decision_time(&history, later), None);
    }
}
