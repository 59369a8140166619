//! Steps: actions at an instant, each with a duration and an outcome (marking the restore
//! target, a backup, a restore), beside the faults' inject/heal pairs. Each action, in its own
//! file, implements [`Action`] (its keys and their checks, what it does, what it measured) and
//! is listed once in [`ACTIONS`]. Scenario validation, its messages and `firedrill list
//! --steps` all read the registry.
//!
//! A step runs once, when due: at its instant, or as soon as the step before it ends if that
//! one is still running then. Its outcome is `done`, or `failed` with the reason when the system
//! under test refused it, could not complete it, or gave no answer within the bound; either way
//! the drill goes on and the reports show it. Only harness trouble (the Docker engine) ends the
//! drill.
//!
//! # Adding an action
//!
//! 1. A new file here with a unit struct implementing [`Action`]: `NAME` and `SUMMARY`; `KEYS`
//!    (beyond at/action) and `params`, which checks them into the action's own `Params` type
//!    with messages at FILE:LINE:COL through [`StepInput`](crate::scenario::StepInput); `run`,
//!    returning [`Done`] (a detail line, the values it measured) or [`StepError::Failed`];
//!    `bound` if the `[bounds] fault` bound does not suit it; `schedule_note` if the report's
//!    schedule line should say more.
//! 2. One line in [`ACTIONS`].
//!
//! Nothing else changes: the scenario model holds an [`ActionSpec`], whatever the action.

mod action;
mod backup;
mod error;
mod lose_cluster;
mod promote;
mod restore;
mod spec;
mod target;

pub use action::{Action, Context, Done, DynAction};
pub use backup::Backup;
pub use error::{StepError, StepRunError};
pub use lose_cluster::LoseCluster;
pub use promote::{Fence, Promote, PromoteParams};
pub use restore::RestoreCluster;
pub use spec::ActionSpec;
pub use target::{MAX_RESTORE_POINT_LEN, MarkTarget, TargetMark, TargetParams, lsn_bytes};

pub use crate::history::Values;

/// The restore action's name, for what follows a failed restore (nothing to read back).
pub const RESTORE: &str = "restore";

use crate::history::{At, Clock, StepEvent, StepOutcome};
use crate::scenario::{Bounds, Step, Topology};
use crate::topology::Cluster;
use std::future::Future;
use std::time::Duration;

/// Every step action, one line each, in the order messages and `firedrill list` show them.
pub static ACTIONS: &[&dyn DynAction] = &[
    &MarkTarget,
    &backup::Backup,
    &lose_cluster::LoseCluster,
    &restore::RestoreCluster,
    &promote::Promote,
];

/// The action named `name` in scenario files.
pub fn action_named(name: &str) -> Option<&'static dyn DynAction> {
    ACTIONS.iter().copied().find(|action| action.name() == name)
}

/// Every action's name, in registry order.
pub fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|action| action.name())
}

/// Runs the steps one after another, each when due: at its instant, or as soon as the one
/// before it ends when that is later (its start then says how late it was). `run` does step
/// `i` (0-based); the first error ends the sequence. Once `stop` is cancelled no further step
/// starts (a game day ended before they were due).
pub async fn in_order<F, Fut, E>(
    steps: &[Step],
    clock: Clock,
    stop: &tokio_util::sync::CancellationToken,
    mut run: F,
) -> Result<(), E>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    for (i, step) in steps.iter().enumerate() {
        tokio::select! {
            _ = tokio::time::sleep_until(clock.instant(At::from_duration(step.at))) => {}
            _ = stop.cancelled() => return Ok(()),
        }
        run(i).await?;
    }
    Ok(())
}

/// Runs step `index` (0-based in the scenario) now, bounded, and records it. `earlier`: the
/// steps that ran before it.
pub async fn run(
    cluster: &Cluster,
    index: usize,
    step: &Step,
    earlier: &[StepEvent],
    clock: Clock,
    (topology, bounds): (&Topology, &Bounds),
) -> Result<StepEvent, StepRunError> {
    let bound = step.action.bound(bounds);
    let ctx = Context {
        cluster,
        topology,
        clock,
        bound,
        step: index + 1,
        earlier,
    };
    let started = clock.now();
    let result = tokio::time::timeout(bound, step.action.run(ctx)).await;
    let ended = clock.now();
    let bound_name = (bound == bounds.fault).then_some("the [bounds] fault bound");
    settle(
        index,
        step,
        (started, ended),
        result.ok(),
        (bound, bound_name),
    )
}

/// The step's event from what its action returned (`None`: nothing within `bound`, named
/// `bound_name` when it is a scenario's bound), or the drill's error when the harness failed.
fn settle(
    index: usize,
    step: &Step,
    (started, ended): (At, At),
    result: Option<Result<Done, StepError>>,
    (bound, bound_name): (Duration, Option<&str>),
) -> Result<StepEvent, StepRunError> {
    let mut event = StepEvent {
        step: index + 1,
        action: step.action.name().to_owned(),
        at: At::from_duration(step.at),
        started,
        ended,
        outcome: StepOutcome::Done,
        detail: None,
        values: Values::new(),
    };
    match result {
        Some(Ok(done)) => {
            // what the action timed itself, within the call
            if let Some((from, to)) = done.during {
                event.started = from.clamp(started, ended);
                event.ended = to.clamp(event.started, ended);
            }
            event.detail = done.detail;
            event.values = done.values;
        }
        Some(Err(StepError::Failed { reason })) => event.outcome = StepOutcome::Failed { reason },
        Some(Err(source)) => {
            return Err(StepRunError {
                step: index + 1,
                action: step.action.name().to_owned(),
                source,
            });
        }
        None => {
            let mut reason = format!("no answer within {}", humantime::format_duration(bound));
            if let Some(name) = bound_name {
                reason.push_str(&format!(" ({name})"));
            }
            event.outcome = StepOutcome::Failed { reason };
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;
    use std::path::Path;

    #[test]
    fn the_registry_lists_every_action_once_by_a_unique_name() {
        let names: Vec<&str> = action_names().collect();
        assert_eq!(
            names,
            ["target", "backup", "lose-cluster", "restore", "promote"]
        );
        for name in &names {
            assert_eq!(action_named(name).map(|a| a.name()), Some(*name));
            assert!(!action_named(name).unwrap().summary().is_empty(), "{name}");
        }
        assert!(action_named("targt").is_none());
    }

    #[test]
    fn a_key_shared_by_actions_has_one_form_and_no_action_redefines_a_common_key() {
        let keys: Vec<crate::fault::Key> = ACTIONS.iter().flat_map(|a| a.keys()).copied().collect();
        for key in &keys {
            assert!(!["at", "action"].contains(&key.name), "{key:?}");
            assert!(
                keys.iter()
                    .all(|other| other.name != key.name || other.form == key.form),
                "{key:?}"
            );
        }
    }

    /// A valid value for every key an action takes: a new key needs one here.
    fn sample(action: &str, key: &str) -> &'static str {
        match (action, key) {
            ("promote", "node") => "\"db2\"",
            (_, "restore_point") => "\"before-loss\"",
            (_, "type") => "\"diff\"",
            (_, "node") => "\"pg2\"",
            (_, "target_action") => "\"pause\"",
            (_, "when_unreachable") => "\"5s\"",
            (_, "fence") => "\"none\"",
            (_, "script") => "\"pg_ctl promote -w\"",
            (_, other) => panic!("no sample value for key {other}: add one"),
        }
    }

    /// A topology the action needs: the pair stack for a promotion, pgBackRest beside Patroni
    /// for the others.
    fn step_of(action: &dyn DynAction, keys: &str) -> Step {
        let topology = match action.name() {
            "promote" => "[topology]\nstack = \"pair\"\n",
            _ => "[topology.pgbackrest]\n",
        };
        let text = format!(
            "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\n{topology}\
             [[step]]\nat = \"10s\"\naction = \"{}\"\n{keys}",
            action.name(),
        );
        match scenario::parse(Path::new("x.toml"), &text) {
            Ok(s) => s.steps.into_iter().next().unwrap(),
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    #[test]
    fn every_actions_keys_are_read_and_round_trip_through_json() {
        for action in ACTIONS {
            let plain = step_of(*action, "");
            let keys: String = action
                .keys()
                .iter()
                .map(|key| format!("{} = {}\n", key.name, sample(action.name(), key.name)))
                .collect();
            let given = step_of(*action, &keys);
            if !action.keys().is_empty() {
                assert_ne!(
                    plain.action,
                    given.action,
                    "{} ignored its keys",
                    action.name()
                );
            }
            for step in [plain, given] {
                let json = serde_json::to_string(&step.action).unwrap();
                assert!(json.starts_with(&format!("{{\"name\":\"{}\"", action.name())));
                let back: ActionSpec = serde_json::from_str(&json).unwrap();
                assert_eq!(back, step.action, "{json}");
                assert_eq!(serde_json::to_string(&back).unwrap(), json);
            }
        }
        let unknown = serde_json::from_str::<ActionSpec>(r#"{"name":"restore-all"}"#).unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("unknown step action \"restore-all\", expected one of: target"),
            "{unknown}"
        );
        let nameless = serde_json::from_str::<ActionSpec>(r#"{"restore_point":null}"#);
        assert!(nameless.is_err());
    }

    fn target_step(at: u64) -> Step {
        Step {
            at: Duration::from_secs(at),
            action: ActionSpec::new(
                &MarkTarget,
                TargetParams {
                    restore_point: None,
                },
            ),
        }
    }

    const FAULT_BOUND: (Duration, Option<&str>) =
        (Duration::from_secs(60), Some("the [bounds] fault bound"));

    #[test]
    fn what_an_action_returns_is_its_outcome_or_the_drill_s_error() {
        let step = target_step(20);
        let span = (At(20_000_000_000), At(20_050_000_000));
        let done = Done::new("on pg1")
            .value("target_lsn", "0/3000060")
            .value("restore_point", None::<String>)
            .during(At(20_010_000_000), At(20_012_000_000));
        let event = settle(1, &step, span, Some(Ok(done)), FAULT_BOUND).unwrap();
        assert_eq!(event.step, 2);
        assert_eq!(event.action, "target");
        assert_eq!(event.at, At(20_000_000_000));
        // the action's own instants, within the call
        assert_eq!(
            (event.started, event.ended),
            (At(20_010_000_000), At(20_012_000_000))
        );
        assert_eq!(event.outcome, StepOutcome::Done);
        assert_eq!(event.detail.as_deref(), Some("on pg1"));
        // a null value is left out
        assert_eq!(
            event.values,
            Values::from([("target_lsn".to_owned(), "0/3000060".into())])
        );

        // refused by the system: recorded, with the reason, over the whole call
        let refused = StepError::failed("55000: recovery is in progress");
        let event = settle(0, &step, span, Some(Err(refused)), FAULT_BOUND).unwrap();
        assert_eq!(
            event.outcome,
            StepOutcome::Failed {
                reason: "55000: recovery is in progress".into()
            }
        );
        assert_eq!((event.started, event.ended), span);

        // no answer within the bound: recorded as failed
        let event = settle(0, &step, span, None, FAULT_BOUND).unwrap();
        assert_eq!(
            event.failure(),
            Some("no answer within 1m (the [bounds] fault bound)")
        );
        let event = settle(0, &step, span, None, (Duration::from_secs(600), None)).unwrap();
        assert_eq!(event.failure(), Some("no answer within 10m"));

        // harness trouble ends the drill
        let trouble = StepError::Harness("the engine went away".into());
        let error = settle(2, &step, span, Some(Err(trouble)), FAULT_BOUND).unwrap_err();
        assert_eq!(
            error.to_string(),
            "step 3 (target) could not run: the engine went away"
        );
    }

    /// A step still running at the next one's instant delays it: the next starts when it ends.
    #[tokio::test]
    async fn steps_run_one_after_another_each_when_due() {
        let steps = [target_step(0), target_step(0), target_step(1)];
        let mut steps = steps.to_vec();
        steps[1].at = Duration::from_millis(50);
        steps[2].at = Duration::from_millis(400);
        let clock = Clock::start();
        let ran = std::sync::Mutex::new(Vec::<(usize, At, At)>::new());
        in_order(&steps, clock, &Default::default(), |i| {
            let started = clock.now();
            let ran = &ran;
            async move {
                // the first outlasts the second's instant
                let takes = if i == 0 { 200 } else { 10 };
                tokio::time::sleep(Duration::from_millis(takes)).await;
                ran.lock().unwrap().push((i, started, clock.now()));
                Ok::<(), ()>(())
            }
        })
        .await
        .unwrap();
        let ran = ran.into_inner().unwrap();
        assert_eq!(ran.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1, 2]);
        for (i, started, _) in &ran {
            assert!(*started >= At::from_duration(steps[*i].at), "{ran:?}");
        }
        // step 2 was due at 50 ms, step 1 still running: it started when step 1 ended
        assert!(ran[1].1 >= ran[0].2, "{ran:?}");
        // step 3 was due after step 2 ended: on time
        assert!(ran[2].1 >= At::from_duration(steps[2].at) && ran[2].1 > ran[1].2);

        // the first error ends the sequence
        let mut count = 0;
        let result = in_order(&steps, clock, &Default::default(), |i| {
            count += 1;
            async move { if i == 1 { Err("stop") } else { Ok(()) } }
        })
        .await;
        assert_eq!((result, count), (Err("stop"), 2));
    }
}
