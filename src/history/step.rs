//! Steps as the history records them: an action at an instant, when it ran and what came of it.

use super::At;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What an action measured, by name (`target_lsn` → `"0/3000060"`): a JSON object in run.json,
/// its keys sorted.
pub type Values = BTreeMap<String, serde_json::Value>;

/// One step of the scenario, run: its action, when it was due, when it ran, and its outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepEvent {
    /// Its number in the scenario, from 1.
    pub step: usize,
    /// The action's name, as written in scenario files (`target`).
    pub action: String,
    /// When it was due: its `at` in the scenario.
    pub at: At,
    /// When it began: `at`, or later when the step before it was still running then. An action
    /// may narrow it to what it timed itself (the statement sent, for `target`).
    pub started: At,
    /// When it ended (its answer, or giving up at the bound).
    pub ended: At,
    pub outcome: StepOutcome,
    /// One line for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What the action measured, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: Values,
}

/// How a step ended: `"done"`, or `{"failed": {"reason": "..."}}` in run.json.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Done,
    /// The system under test refused it or could not complete it (within the bound).
    Failed {
        reason: String,
    },
}

impl StepEvent {
    /// From its start to its end.
    pub fn took(&self) -> Duration {
        self.ended.since(self.started)
    }

    /// How late it started after it was due (the step before it still running).
    pub fn delay(&self) -> Duration {
        self.started.since(self.at)
    }

    /// Why it failed, if it did.
    pub fn failure(&self) -> Option<&str> {
        match &self.outcome {
            StepOutcome::Done => None,
            StepOutcome::Failed { reason } => Some(reason),
        }
    }

    /// `done` or `failed`.
    pub fn outcome_name(&self) -> &'static str {
        match self.outcome {
            StepOutcome::Done => "done",
            StepOutcome::Failed { .. } => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Event;

    #[test]
    fn steps_are_tagged_events_ordered_by_their_start() {
        let done = r#"{"type":"step","step":1,"action":"target","at":20000000000,"started":20000100000,"ended":20003000000,"outcome":"done","detail":"on pg1","values":{"target_lsn":"0/3000060","target_time":"2026-11-28T05:59:46.123456+00:00"}}"#;
        let event: Event = serde_json::from_str(done).unwrap();
        let Event::Step(step) = &event else {
            panic!("not a step: {event:?}");
        };
        assert_eq!(event.at(), At(20_000_100_000));
        assert_eq!(step.took(), Duration::from_micros(2_900));
        assert_eq!(step.delay(), Duration::from_micros(100));
        assert_eq!((step.outcome_name(), step.failure()), ("done", None));
        assert_eq!(step.values["target_lsn"], "0/3000060");
        assert_eq!(serde_json::to_string(&event).unwrap(), done);

        let failed = r#"{"type":"step","step":2,"action":"target","at":30000000000,"started":30000000000,"ended":90000000000,"outcome":{"failed":{"reason":"no answer within 1m (the [bounds] fault bound)"}}}"#;
        let event: Event = serde_json::from_str(failed).unwrap();
        let Event::Step(step) = &event else {
            panic!("not a step: {event:?}");
        };
        assert_eq!(step.outcome_name(), "failed");
        assert_eq!(
            step.failure(),
            Some("no answer within 1m (the [bounds] fault bound)")
        );
        assert!(step.values.is_empty() && step.detail.is_none());
        assert_eq!(serde_json::to_string(&event).unwrap(), failed);
    }
}
