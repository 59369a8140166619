//! The operator's promotion (a `promote` step), as the history holds it: when it decided.

use super::rto::Window;
use crate::history::{At, History, StepOutcome};
use std::time::Duration;

/// The step action whose values this reads (`crate::step::Promote`).
const PROMOTE: &str = "promote";

/// **Decision time**: from the window's `F` to the `decided_at` value of the first `promote`
/// step (by start) started in the window that recorded one. `None` without such a step.
pub(crate) fn decision_time(history: &History, window: Window) -> Option<Duration> {
    history
        .steps()
        .filter(|s| s.action == PROMOTE && s.started >= window.start)
        .filter(|s| window.before_end(s.started))
        .filter(|s| s.outcome == StepOutcome::Done)
        .min_by_key(|s| s.started)
        .and_then(|s| s.values.get("decided_at"))
        .and_then(|v| serde_json::from_value::<At>(v.clone()).ok())
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
    fn the_decision_is_timed_from_the_fault_by_the_first_promotion_in_its_window() {
        let window = Window {
            start: At(1_000),
            end: Some(At(50_000)),
        };
        let history = super::super::testkit::history(vec![
            step(500, 600),
            step(2_000, 7_000),
            step(3_000, 4_000),
        ]);
        assert_eq!(
            decision_time(&history, window),
            Some(Duration::from_nanos(6_000))
        );
        let later = Window {
            start: At(60_000),
            end: None,
        };
        assert_eq!(decision_time(&history, later), None);
    }
}
