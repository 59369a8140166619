//! The scenario file as written: structure and key names only (unknown keys are rejected here),
//! with the position of every value so that `validate` can say where a value is wrong.
//!
//! Values are kept loose on purpose: integers as `i64` (TOML's own integer type), durations and
//! names as strings, objectives as plain TOML values. Ranges, units and meanings are checked in
//! `validate`, which knows each key and can say what it expected.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub runbook: Option<Spanned<String>>,
    pub duration: Option<Spanned<RawDuration>>,
    pub image: Option<Spanned<String>>,
    #[serde(default)]
    pub topology: RawTopology,
    #[serde(default)]
    pub workload: RawWorkload,
    /// Group name → member node names; the key spans give the file order back.
    #[serde(default)]
    pub groups: BTreeMap<Spanned<String>, Spanned<RawNames>>,
    #[serde(default)]
    pub fault: Vec<Spanned<RawFault>>,
    #[serde(default)]
    pub step: Vec<Spanned<RawStep>>,
    /// Measurement name → bound; the key spans give the file order back.
    #[serde(default)]
    pub objectives: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    pub bounds: RawBounds,
}

/// `[topology]`: the stack's name, and which kinds' settings are given. Each kind reads its own
/// value (`[topology.patroni]`, `etcd = 3`) in `validate`, in the form its file declares; a key
/// that names no kind is unknown here.
#[derive(Debug, Default)]
pub(super) struct RawTopology {
    /// The stack's name (`topology::stacks`); "patroni" when absent.
    pub stack: Option<Spanned<String>>,
    /// The kinds whose settings the file gives, with the position of each key.
    pub kinds: Vec<Spanned<String>>,
}

/// Every key `[topology]` takes: `stack` and each kind's name.
fn topology_keys() -> &'static [&'static str] {
    static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        std::iter::once("stack")
            .chain(crate::topology::KINDS.iter().map(|kind| kind.name()))
            .collect()
    });
    &KEYS
}

impl<'de> Deserialize<'de> for RawTopology {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TopologyVisitor;

        impl<'de> Visitor<'de> for TopologyVisitor {
            type Value = RawTopology;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawTopology, A::Error> {
                let mut topology = RawTopology::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    match key.get_ref().as_str() {
                        "stack" => topology.stack = Some(map.next_value()?),
                        name if topology_keys().contains(&name) => {
                            map.next_value::<de::IgnoredAny>()?;
                            topology.kinds.push(key);
                        }
                        other => return Err(de::Error::unknown_field(other, topology_keys())),
                    }
                }
                Ok(topology)
            }
        }

        deserializer.deserialize_map(TopologyVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawWorkload {
    pub writers: Option<Spanned<i64>>,
    pub rate: Option<Spanned<i64>>,
    pub through: Option<Spanned<String>>,
    pub connect_timeout: Option<Spanned<RawDuration>>,
    pub write_timeout: Option<Spanned<RawDuration>>,
    pub readers: Option<Spanned<i64>>,
    pub read_through: Option<Spanned<String>>,
    pub read_rate: Option<Spanned<i64>>,
}

/// `[bounds]`: how long firedrill waits for each step before it gives up.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawBounds {
    pub bring_up: Option<Spanned<RawDuration>>,
    pub fault: Option<Spanned<RawDuration>>,
    pub recovery: Option<Spanned<RawDuration>>,
    pub read_back: Option<Spanned<RawDuration>>,
}

/// One `[[fault]]`. Its required keys are checked in `validate`, which can then name all the
/// missing ones at once. The keys beyond at/kind/target/duration are those of the fault verbs
/// (`crate::fault::VERBS`), each read in the form its verb declares; any other key is unknown.
#[derive(Debug, Default)]
pub(super) struct RawFault {
    pub at: Option<Spanned<RawDuration>>,
    pub kind: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub duration: Option<Spanned<RawDuration>>,
    /// The verbs' keys that were given, in file order.
    pub keys: Vec<(&'static str, RawKey)>,
}

/// The value of a fault verb's key, as written, in the form the verb declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKey {
    Text(Spanned<String>),
    Selectors(Spanned<RawSelectors>),
}

impl RawKey {
    /// Where the value is.
    pub fn span(&self) -> std::ops::Range<usize> {
        match self {
            RawKey::Text(value) => value.span(),
            RawKey::Selectors(value) => value.span(),
        }
    }
}

/// A key of `[[fault]]`: one of the four every fault has, or a verb's.
enum FaultKey {
    At,
    Kind,
    Target,
    Duration,
    Verb(crate::fault::Key),
}

/// Every key `[[fault]]` takes, for the message about an unknown one.
fn fault_keys() -> &'static [&'static str] {
    static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut keys = vec!["at", "kind", "target", "duration"];
        for key in crate::fault::VERBS.iter().flat_map(|verb| verb.keys()) {
            if !keys.contains(&key.name) {
                keys.push(key.name);
            }
        }
        keys
    });
    &KEYS
}

/// Reads a key name and refuses an unknown one there, so that the error is at the key.
struct FaultKeySeed;

impl<'de> de::DeserializeSeed<'de> for FaultKeySeed {
    type Value = FaultKey;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FaultKey, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(match name.as_str() {
            "at" => FaultKey::At,
            "kind" => FaultKey::Kind,
            "target" => FaultKey::Target,
            "duration" => FaultKey::Duration,
            other => crate::fault::VERBS
                .iter()
                .flat_map(|verb| verb.keys())
                .find(|key| key.name == other)
                .map(|key| FaultKey::Verb(*key))
                .ok_or_else(|| de::Error::unknown_field(other, fault_keys()))?,
        })
    }
}

impl<'de> Deserialize<'de> for RawFault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FaultVisitor;

        impl<'de> Visitor<'de> for FaultVisitor {
            type Value = RawFault;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawFault, A::Error> {
                let mut fault = RawFault::default();
                while let Some(key) = map.next_key_seed(FaultKeySeed)? {
                    match key {
                        FaultKey::At => fault.at = Some(map.next_value()?),
                        FaultKey::Kind => fault.kind = Some(map.next_value()?),
                        FaultKey::Target => fault.target = Some(map.next_value()?),
                        FaultKey::Duration => fault.duration = Some(map.next_value()?),
                        FaultKey::Verb(key) => {
                            fault.keys.push((key.name, declared(&mut map, key)?))
                        }
                    }
                }
                Ok(fault)
            }
        }

        deserializer.deserialize_map(FaultVisitor)
    }
}

/// The value of a key a verb or an action declares, read in the form it declares.
fn declared<'de, A: de::MapAccess<'de>>(
    map: &mut A,
    key: crate::fault::Key,
) -> Result<RawKey, A::Error> {
    use crate::fault::KeyForm;
    Ok(match key.form {
        KeyForm::Text => RawKey::Text(map.next_value()?),
        KeyForm::Selectors => RawKey::Selectors(map.next_value()?),
    })
}

/// One `[[step]]`. Its required keys are checked in `validate`. The keys beyond at/action are
/// those of the step actions (`crate::step::ACTIONS`), each read in the form its action
/// declares; any other key is unknown.
#[derive(Debug, Default)]
pub(super) struct RawStep {
    pub at: Option<Spanned<RawDuration>>,
    pub action: Option<Spanned<String>>,
    /// The actions' keys that were given, in file order.
    pub keys: Vec<(&'static str, RawKey)>,
}

/// A key of `[[step]]`: one of the two every step has, or an action's.
enum StepKey {
    At,
    Action,
    Declared(crate::fault::Key),
}

/// Every key `[[step]]` takes, for the message about an unknown one.
fn step_keys() -> &'static [&'static str] {
    static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut keys = vec!["at", "action"];
        for key in crate::step::ACTIONS.iter().flat_map(|action| action.keys()) {
            if !keys.contains(&key.name) {
                keys.push(key.name);
            }
        }
        keys
    });
    &KEYS
}

/// Reads a key name of `[[step]]` and refuses an unknown one there, so that the error is at the
/// key.
struct StepKeySeed;

impl<'de> de::DeserializeSeed<'de> for StepKeySeed {
    type Value = StepKey;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<StepKey, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(match name.as_str() {
            "at" => StepKey::At,
            "action" => StepKey::Action,
            other => crate::step::ACTIONS
                .iter()
                .flat_map(|action| action.keys())
                .find(|key| key.name == other)
                .map(|key| StepKey::Declared(*key))
                .ok_or_else(|| de::Error::unknown_field(other, step_keys()))?,
        })
    }
}

impl<'de> Deserialize<'de> for RawStep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepVisitor;

        impl<'de> Visitor<'de> for StepVisitor {
            type Value = RawStep;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawStep, A::Error> {
                let mut step = RawStep::default();
                while let Some(key) = map.next_key_seed(StepKeySeed)? {
                    match key {
                        StepKey::At => step.at = Some(map.next_value()?),
                        StepKey::Action => step.action = Some(map.next_value()?),
                        StepKey::Declared(key) => {
                            step.keys.push((key.name, declared(&mut map, key)?))
                        }
                    }
                }
                Ok(step)
            }
        }

        deserializer.deserialize_map(StepVisitor)
    }
}

/// A duration as written ("10s", "500ms"), parsed in `validate`. Its own type only so that a
/// value of the wrong type is reported as "expected a duration string like "10s"".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDuration(pub String);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"10s\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                Ok(RawDuration(v.to_owned()))
            }
        }

        deserializer.deserialize_str(DurationVisitor)
    }
}

/// An array of node names (a group's members), each with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawNames(pub Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for RawNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamesVisitor;

        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = RawNames;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of node names")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawNames, A::Error> {
                strings(seq).map(RawNames)
            }
        }

        deserializer.deserialize_any(NamesVisitor)
    }
}

/// A partition's `from`: one target selector (or "all"), or an array of selectors, each with its
/// position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawSelectors {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawSelectors {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SelectorsVisitor;

        impl<'de> Visitor<'de> for SelectorsVisitor {
            type Value = RawSelectors;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a target selector or an array of them")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSelectors, E> {
                Ok(RawSelectors::One(v.to_owned()))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawSelectors, A::Error> {
                strings(seq).map(RawSelectors::Many)
            }
        }

        deserializer.deserialize_any(SelectorsVisitor)
    }
}

fn strings<'de, A: de::SeqAccess<'de>>(mut seq: A) -> Result<Vec<Spanned<String>>, A::Error> {
    let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(item) = seq.next_element::<Spanned<String>>()? {
        items.push(item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_values() {
        let text = "duration = \"60s\"\n[objectives]\nrto = \"<= 30s\"\n";
        let raw: RawScenario = toml::from_str(text).unwrap();
        let duration = raw.duration.unwrap();
        assert_eq!(duration.get_ref(), &RawDuration("60s".into()));
        assert_eq!(&text[duration.span()], "\"60s\"");
        let (key, value) = raw.objectives.iter().next().unwrap();
        assert_eq!(&text[key.span()], "rto");
        assert_eq!(&text[value.span()], "\"<= 30s\"");
    }

    #[test]
    fn keeps_positions_of_array_items() {
        let text = "[groups]\nminority = [\"pg1\", \"etcd1\"]\n\
                    [[fault]]\nfrom = \"all\"\n[[fault]]\nfrom = [\"etcd\", \"pg2\"]\n";
        let raw: RawScenario = toml::from_str(text).unwrap();
        let (name, members) = raw.groups.iter().next().unwrap();
        assert_eq!(name.get_ref(), "minority");
        let members = &members.get_ref().0;
        assert_eq!(members.len(), 2);
        assert_eq!(&text[members[1].span()], "\"etcd1\"");
        let from = |i: usize| match &raw.fault[i].get_ref().keys[..] {
            [("from", RawKey::Selectors(from))] => from.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(from(0).get_ref(), &RawSelectors::One("all".into()));
        assert_eq!(&text[from(0).span()], "\"all\"");
        let from = from(1);
        let RawSelectors::Many(items) = from.get_ref() else {
            panic!("{from:?}");
        };
        let items: Vec<&str> = items.iter().map(|item| &text[item.span()]).collect();
        assert_eq!(items, ["\"etcd\"", "\"pg2\""]);
    }

    #[test]
    fn rejects_unknown_keys() {
        let err = toml::from_str::<RawScenario>("[workload]\nwriter = 4\n").unwrap_err();
        assert!(err.message().starts_with("unknown field `writer`"), "{err}");
    }
}
