//! `[[step]]`: actions at an instant. The checks every step has (its instant, its action, the
//! order of the instants); what each action takes is its own (`crate::step::ACTIONS`).

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::{position, suggest};
use super::keys::StepInput;
use super::model::{Group, Step, Topology};
use super::raw::{RawKey, RawStep};
use super::selector::Nodes;
use super::validate::{Failure, Result, instant_in_run, invalid, missing_keys};
use crate::step::{self, DynAction};

/// The steps in file order, which must be the order of their instants: they run one after
/// another, so two at one instant, or one before the step above it, would not run when written.
pub(super) fn steps(
    raw: Vec<Spanned<RawStep>>,
    run: Duration,
    (topology, nodes): (&Topology, &Nodes),
    groups: &[Group],
    text: &str,
) -> Result<Vec<Step>> {
    let mut steps: Vec<Step> = Vec::with_capacity(raw.len());
    // the step above: its instant and where its `at` is written
    let mut above: Option<(Duration, usize)> = None;
    for spanned in raw {
        let header = spanned.span();
        let RawStep { at, action, keys } = spanned.into_inner();
        let (at, action) = match (at, action) {
            (Some(at), Some(action)) => (at, action),
            (at, action) => {
                return Err(missing_keys(
                    "[[step]]",
                    header.start,
                    &[("at", at.is_none()), ("action", action.is_none())],
                ));
            }
        };
        let start = instant_in_run(&at, "step.at", run)?;

        let chosen = step::action_named(action.get_ref())
            .ok_or_else(|| unknown_action(action.get_ref(), action.span()))?;
        if let Some(why) = chosen.lacks(topology) {
            return Err(invalid(action.span(), "step.action", why));
        }
        only_for(chosen, &keys)?;
        let mut input = StepInput {
            table: "step",
            nodes,
            groups,
            keys,
        };
        let spec = chosen.validate(&mut input).map_err(|e| e.0)?;

        if let Some((before, offset)) = above {
            let line = position(text, offset).line;
            let message = if start == before {
                Some(format!(
                    "expected each step at an instant of its own, but the step at line {line} is \
                     at {} too",
                    humantime::format_duration(start)
                ))
            } else if start < before {
                Some(format!(
                    "expected steps in the order of their instants (they run one after another), \
                     found {} after the step at line {line} at {}",
                    humantime::format_duration(start),
                    humantime::format_duration(before)
                ))
            } else {
                None
            };
            if let Some(message) = message {
                return Err(invalid(at.span(), "step.at", message));
            }
        }
        above = Some((start, at.span().start));
        steps.push(Step {
            at: start,
            action: spec,
        });
    }
    Ok(steps)
}

/// The message about an action no file declares, with the closest name when one is close.
fn unknown_action(name: &str, span: Range<usize>) -> Failure {
    let did_you_mean = suggest(name, step::action_names())
        .map(|known| format!(", did you mean {known:?}?"))
        .unwrap_or_default();
    invalid(
        span,
        "step.action",
        format!(
            "unknown step action {name:?}{did_you_mean}{} expected one of: {}",
            if did_you_mean.is_empty() { "," } else { "" },
            step::action_names().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// Rejects the first key (in the order of the registry) that another action takes and `action`
/// does not.
fn only_for(action: &dyn DynAction, given: &[(&'static str, RawKey)]) -> Result<()> {
    let known = step::ACTIONS
        .iter()
        .flat_map(|a| a.keys())
        .map(|key| key.name);
    for name in known {
        let Some((_, value)) = given.iter().find(|(key, _)| *key == name) else {
            continue;
        };
        if action.keys().iter().any(|key| key.name == name) {
            continue;
        }
        let owners: Vec<&str> = step::ACTIONS
            .iter()
            .filter(|a| a.keys().iter().any(|key| key.name == name))
            .map(|a| a.name())
            .collect();
        return Err(invalid(
            value.span(),
            &format!("step.{name}"),
            format!(
                "applies to {} steps only, found it on a {} step",
                owners.join(" or "),
                action.name()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::{MarkTarget, TargetParams};

    const MINIMAL: &str = "name = \"bad\"\ndescription = \"a broken scenario\"\n\
                           duration = \"60s\"\n";

    fn parse(text: &str) -> std::result::Result<crate::scenario::Scenario, String> {
        crate::scenario::parse(std::path::Path::new("scenarios/bad.toml"), text)
            .map_err(|e| e.to_string())
    }

    /// Pins the message for `text`, which must not load; the snapshot records the input.
    macro_rules! assert_error_snapshot {
        ($name:literal, $text:expr) => {{
            let text: &str = &$text;
            let message = match parse(text) {
                Ok(_) => panic!("accepted:\n{text}"),
                Err(message) => message,
            };
            insta::with_settings!({ description => text, omit_expression => true }, {
                insta::assert_snapshot!($name, message);
            });
        }};
    }

    #[test]
    fn steps_load_in_file_order_with_their_actions() {
        let scenario = parse(&format!(
            "{MINIMAL}[[step]]\nat = \"20s\"\naction = \"target\"\n\
             [[step]]\naction = \"target\"\nrestore_point = \"before-loss\"\nat = \"30s\"\n"
        ))
        .unwrap();
        let steps: Vec<(Duration, Option<&TargetParams>)> = scenario
            .steps
            .iter()
            .map(|s| (s.at, s.action.params::<MarkTarget>()))
            .collect();
        assert_eq!(
            steps,
            [
                (
                    Duration::from_secs(20),
                    Some(&TargetParams {
                        restore_point: None
                    })
                ),
                (
                    Duration::from_secs(30),
                    Some(&TargetParams {
                        restore_point: Some("before-loss".into())
                    })
                ),
            ]
        );
        // none: the scenario has none, and run.json says nothing of them
        let plain = parse(MINIMAL).unwrap();
        assert!(plain.steps.is_empty());
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("steps").is_none(), "{json}");
        // with some: written and read back
        let json = serde_json::to_string(&scenario).unwrap();
        assert!(
            json.contains(
                r#""steps":[{"at":"20s","action":{"name":"target","restore_point":null}},{"at":"30s","action":{"name":"target","restore_point":"before-loss"}}]"#
            ),
            "{json}"
        );
        let back: crate::scenario::Scenario = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scenario);
    }

    #[test]
    fn a_step_needs_its_instant_and_its_action() {
        assert_error_snapshot!(
            "step_missing_keys",
            format!("{MINIMAL}[[step]]\nrestore_point = \"x\"\n")
        );
        assert_error_snapshot!(
            "step_missing_action",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\n")
        );
    }

    #[test]
    fn unknown_actions_and_keys_are_refused_where_they_are_written() {
        assert_error_snapshot!(
            "step_unknown_action_with_suggestion",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"targt\"\n")
        );
        assert_error_snapshot!(
            "step_unknown_action",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"backup-everything\"\n")
        );
        assert_error_snapshot!(
            "step_unknown_key_with_suggestion",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\nrestore_pont = \"x\"\n")
        );
        assert_error_snapshot!(
            "step_unknown_key",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\ncolour = \"red\"\n")
        );
        assert_error_snapshot!(
            "step_fault_key_on_a_step",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\ntarget = \"leader\"\n")
        );
        assert_error_snapshot!(
            "step_as_a_table",
            format!("{MINIMAL}[step]\nat = \"10s\"\naction = \"target\"\n")
        );
    }

    #[test]
    fn instants_are_within_the_run_and_each_step_has_its_own() {
        assert_error_snapshot!(
            "step_at_past_the_end",
            format!("{MINIMAL}[[step]]\nat = \"60s\"\naction = \"target\"\n")
        );
        assert_error_snapshot!(
            "step_at_not_a_duration",
            format!("{MINIMAL}[[step]]\nat = \"soon\"\naction = \"target\"\n")
        );
        assert_error_snapshot!(
            "step_at_as_an_integer",
            format!("{MINIMAL}[[step]]\nat = 10\naction = \"target\"\n")
        );
        assert_error_snapshot!(
            "two_steps_at_one_instant",
            format!(
                "{MINIMAL}[[step]]\nat = \"20s\"\naction = \"target\"\n\
                 [[step]]\nat = \"20000ms\"\naction = \"target\"\nrestore_point = \"x\"\n"
            )
        );
        assert_error_snapshot!(
            "steps_out_of_order",
            format!(
                "{MINIMAL}[[step]]\nat = \"30s\"\naction = \"target\"\n\
                 [[step]]\nat = \"20s\"\naction = \"target\"\n"
            )
        );
    }

    #[test]
    fn restore_point_names_are_checked() {
        assert_error_snapshot!(
            "empty_restore_point",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\nrestore_point = \"\"\n")
        );
        assert_error_snapshot!(
            "restore_point_too_long",
            format!(
                "{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\nrestore_point = \"{}\"\n",
                "é".repeat(32)
            )
        );
        assert_error_snapshot!(
            "restore_point_not_a_string",
            format!("{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\nrestore_point = 7\n")
        );
        // 63 bytes is the most PostgreSQL keeps
        let longest = "a".repeat(63);
        let scenario = parse(&format!(
            "{MINIMAL}[[step]]\nat = \"10s\"\naction = \"target\"\nrestore_point = \"{longest}\"\n"
        ))
        .unwrap();
        assert_eq!(
            scenario.steps[0].action.params::<MarkTarget>(),
            Some(&TargetParams {
                restore_point: Some(longest)
            })
        );
    }
}
