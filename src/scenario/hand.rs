//! A fault a person injects during a game day (`firedrill inject KIND --target T --duration D
//! KEY=VALUE…`): written as the `[[fault]]` table it stands for and checked by the same rules as
//! the scenario's own faults, against the scenario's topology and groups. Only its instant is
//! not checked here: it is the instant it is injected.

use super::faults::faults;
use super::raw::RawFault;
use super::selector::Nodes;
use super::validate::MAX_DURATION;
use super::{Fault, Scenario};
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

/// What `firedrill inject` was given.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandFault {
    /// The fault kind, as in scenario files (`crash`).
    pub kind: String,
    /// The target, as in scenario files (`leader`, `pg2`, `replica:random`).
    pub target: String,
    /// How long until it is healed (`30s`); `None`: until healed by hand or at `down`.
    pub duration: Option<String>,
    /// The kind's own keys, as `KEY=VALUE`: a TOML value (`3`, `["pg2"]`, `"x"`) or else text.
    pub keys: Vec<(String, String)>,
}

/// Why a hand fault is refused: the scenario file's message, its keys named as `inject` takes
/// them (`--target`, `--duration`, `KEY=VALUE`).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct HandFaultError(pub String);

#[derive(Deserialize)]
struct Document {
    fault: Vec<Spanned<RawFault>>,
}

/// The fault `hand` asks for, checked; its `at` is zero until it is injected.
pub fn hand_fault(scenario: &Scenario, hand: &HandFault) -> Result<Fault, HandFaultError> {
    let text = hand.toml()?;
    let document: Document = toml::from_str(&text).map_err(|e| {
        HandFaultError(match e.message().strip_prefix("unknown field `") {
            Some(rest) => unknown_key(rest.split('`').next().unwrap_or(rest), &hand.kind),
            None => words(e.message(), &hand.kind),
        })
    })?;
    let nodes = Nodes::new(&scenario.topology);
    let mut checked = faults(
        document.fault,
        MAX_DURATION,
        &nodes,
        &scenario.groups,
        &text,
    )
    .map_err(|failure| HandFaultError(words(&failure.kind.to_string(), &hand.kind)))?;
    Ok(checked.remove(0))
}

impl HandFault {
    /// The `[[fault]]` table it stands for.
    fn toml(&self) -> Result<String, HandFaultError> {
        let text = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut table = format!(
            "[[fault]]\nat = \"0s\"\nkind = {}\ntarget = {}\n",
            text(&self.kind),
            text(&self.target)
        );
        if let Some(duration) = &self.duration {
            table.push_str(&format!("duration = {}\n", text(duration)));
        }
        for (key, value) in &self.keys {
            let bare = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !bare || ["at", "kind", "target", "duration"].contains(&key.as_str()) {
                return Err(HandFaultError(format!(
                    "{key}={value}: expected KEY=VALUE with a key of the fault kind (for the \
                     kind, target and duration use KIND, --target and --duration; a hand fault \
                     is injected now)"
                )));
            }
            // a TOML value as written (a number, an array, a quoted string), or else text
            let value = match format!("v = {value}").parse::<toml::Table>() {
                Ok(_) => value.clone(),
                Err(_) => text(value),
            };
            table.push_str(&format!("{key} = {value}\n"));
        }
        Ok(table)
    }
}

/// A key no fault kind has: which keys this kind takes.
fn unknown_key(key: &str, kind: &str) -> String {
    let keys = crate::fault::verb_named(kind).map(|verb| {
        let names: Vec<&str> = verb.keys().iter().map(|k| k.name).collect();
        match names.is_empty() {
            true => format!("{kind} takes no KEY=VALUE"),
            false => format!("{kind} takes {}", names.join(", ")),
        }
    });
    format!(
        "unknown key {key:?}{}",
        keys.map(|k| format!(": {k}")).unwrap_or_default()
    )
}

/// A scenario file's message in `inject`'s words.
fn words(message: &str, kind: &str) -> String {
    message
        .replace("fault.target", "--target")
        .replace("fault.duration", "--duration")
        .replace("fault.kind", "KIND")
        .replace("in [[fault]]", &format!("for inject {kind}"))
        .replace("[[fault]]", "inject")
        .replace("fault.", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/patroni-primary-crash.toml");
        super::super::load(&path).expect("the shipped scenario loads")
    }

    fn hand(kind: &str, target: &str, duration: Option<&str>, keys: &[(&str, &str)]) -> HandFault {
        HandFault {
            kind: kind.into(),
            target: target.into(),
            duration: duration.map(str::to_owned),
            keys: keys
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_hand_fault_is_checked_as_a_scenario_fault() {
        let s = scenario();
        let crash = hand_fault(&s, &hand("crash", "leader", None, &[])).unwrap();
        assert_eq!(crash.kind.name(), "crash");
        assert_eq!(crash.target.to_string(), "leader");
        assert_eq!(crash.duration, None);
        let pause = hand_fault(&s, &hand("pause", "pg2", Some("20s"), &[])).unwrap();
        assert_eq!(pause.duration, Some(std::time::Duration::from_secs(20)));
    }

    #[test]
    fn what_is_refused_says_why_in_inject_s_words() {
        let s = scenario();
        let refused = |h: HandFault| hand_fault(&s, &h).unwrap_err().0;
        insta::assert_snapshot!(
            [
                refused(hand("crahs", "leader", None, &[])),
                refused(hand("crash", "pg9", None, &[])),
                refused(hand("crash", "leader", Some("soon"), &[])),
                refused(hand("postgres-crash", "leader", Some("5s"), &[])),
                refused(hand("crash", "leader", None, &[("bytes", "3")])),
                refused(hand("crash", "leader", None, &[("at", "3s")])),
            ]
            .join("\n")
        );
    }
}
