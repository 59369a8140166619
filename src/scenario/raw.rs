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
    #[serde(default)]
    pub fault: Vec<Spanned<RawFault>>,
    /// Measurement name → bound; the key spans give the file order back.
    #[serde(default)]
    pub objectives: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawTopology {
    pub etcd: Option<Spanned<i64>>,
    #[serde(default)]
    pub patroni: RawPatroni,
    #[serde(default)]
    pub haproxy: RawHaproxy,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawPatroni {
    pub nodes: Option<Spanned<i64>>,
    pub ttl: Option<Spanned<RawDuration>>,
    pub loop_wait: Option<Spanned<RawDuration>>,
    pub retry_timeout: Option<Spanned<RawDuration>>,
    pub maximum_lag_on_failover: Option<Spanned<i64>>,
    pub synchronous_mode: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawHaproxy {
    pub check: Option<Spanned<String>>,
    pub inter: Option<Spanned<RawDuration>>,
    pub fall: Option<Spanned<i64>>,
    pub rise: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawWorkload {
    pub writers: Option<Spanned<i64>>,
    pub rate: Option<Spanned<i64>>,
    pub through: Option<Spanned<String>>,
    pub connect_timeout: Option<Spanned<RawDuration>>,
    pub write_timeout: Option<Spanned<RawDuration>>,
}

/// One `[[fault]]`. Its required keys are checked in `validate`, which can then name all the
/// missing ones at once.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawFault {
    pub at: Option<Spanned<RawDuration>>,
    pub kind: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub duration: Option<Spanned<RawDuration>>,
}

/// A duration as written ("10s", "500ms"), parsed in `validate`. Its own type only so that a
/// value of the wrong type is reported as "expected a duration string like "10s"".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawDuration(pub String);

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
    fn rejects_unknown_keys() {
        let err = toml::from_str::<RawScenario>("[workload]\nwriter = 4\n").unwrap_err();
        assert!(err.message().starts_with("unknown field `writer`"), "{err}");
    }
}
