//! Each node kind's settings in `[topology]` (`[topology.patroni]`, `etcd = 3`...), owned by the
//! kind: its file declares the table as written, checks it with the helpers here and keeps the
//! result in the `Topology` under its own name. Errors become FILE:LINE:COL messages like every
//! other scenario error.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::time::Duration;

use serde::Serialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, Visitor};
use toml::Spanned;

pub use super::raw::RawDuration;
use super::validate::{Failure, at_least, int_at_least, int_in, invalid, parse_duration};
use crate::topology::stacks::ClientEndpoint;

/// A kind's checked settings, as the `Topology` holds them: the settings type of the kind named
/// `KIND` (its `[topology.KIND]` table), written in run.json under that name.
pub trait Settings: Serialize + Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    const KIND: &'static str;
}

/// Any kind's settings, behind one type (see `Settings`).
pub trait KindSettings: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// The kind's name, and its key in `[topology]` and run.json.
    fn kind(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
    fn clone_box(&self) -> Box<dyn KindSettings>;
    fn same(&self, other: &dyn KindSettings) -> bool;
}

impl<T: Settings> KindSettings for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn clone_box(&self) -> Box<dyn KindSettings> {
        Box::new(self.clone())
    }

    fn same(&self, other: &dyn KindSettings) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

erased_serde::serialize_trait_object!(KindSettings);

impl Clone for Box<dyn KindSettings> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl PartialEq for Box<dyn KindSettings> {
    fn eq(&self, other: &Self) -> bool {
        self.same(other.as_ref())
    }
}

/// A kind's settings that are not valid, and where.
#[derive(Debug)]
pub struct SettingsError(pub(super) Reason);

#[derive(Debug)]
pub(super) enum Reason {
    /// The table is not shaped as the kind declares it (unknown key, wrong type).
    Shape(toml::de::Error),
    Invalid(Failure),
}

impl From<SettingsError> for Failure {
    fn from(err: SettingsError) -> Failure {
        match err.0 {
            Reason::Invalid(failure) => failure,
            Reason::Shape(err) => Failure {
                offset: err.span().map_or(0, |span| span.start),
                kind: super::error::translate_serde(&err),
            },
        }
    }
}

impl From<Failure> for SettingsError {
    fn from(failure: Failure) -> Self {
        SettingsError(Reason::Invalid(failure))
    }
}

/// What a kind's settings check sees: the scenario text, from which it reads its own table, and
/// where the stack's clients connect (a proxy is there in one stack, optional in another).
pub struct SettingsInput<'a> {
    pub(super) text: &'a str,
    pub(super) kind: &'static str,
    pub(super) client_endpoint: ClientEndpoint,
}

impl SettingsInput<'_> {
    /// Where the stack's clients connect.
    pub fn client_endpoint(&self) -> ClientEndpoint {
        self.client_endpoint
    }

    /// The kind's value in `[topology]` (`[topology.patroni]`, or `etcd = 3`) in the form `R`
    /// the kind declares, with positions; `None` when the file has none.
    pub fn table<R: DeserializeOwned>(&self) -> Result<Option<R>, SettingsError> {
        let document = toml::de::Deserializer::parse(self.text)
            .map_err(|err| SettingsError(Reason::Shape(err)))?;
        document
            .deserialize_map(Within {
                key: "topology",
                inner: Within {
                    key: self.kind,
                    inner: PhantomData::<R>,
                },
            })
            .map(Option::flatten)
            .map_err(|err| SettingsError(Reason::Shape(err)))
    }

    /// The dotted key of the kind's setting `name` (`topology.patroni.ttl`); `name` empty: the
    /// kind's own (`topology.etcd`).
    pub fn key(&self, name: &str) -> String {
        match name {
            "" => format!("topology.{}", self.kind),
            name => format!("topology.{}.{name}", self.kind),
        }
    }

    /// The error about the value of setting `name` at `span`.
    pub fn invalid(
        &self,
        span: Range<usize>,
        name: &str,
        message: impl Into<String>,
    ) -> SettingsError {
        invalid(span, &self.key(name), message).into()
    }

    /// An integer in `min..=max`, `default` when absent.
    pub fn int(
        &self,
        value: Option<&Spanned<i64>>,
        name: &str,
        (default, min, max): (i64, i64, i64),
    ) -> Result<i64, SettingsError> {
        Ok(int_in(value, &self.key(name), default, min, max)?)
    }

    /// `int`, saying `why` when the value is below the minimum. `name` empty: the kind's value
    /// itself (`etcd = 3`).
    pub fn count(
        &self,
        value: Option<&Spanned<i64>>,
        name: &str,
        (default, min, max): (i64, i64, i64),
        why: &str,
    ) -> Result<i64, SettingsError> {
        Ok(int_at_least(
            value,
            (&self.key(name), default, min, max),
            why,
        )?)
    }

    /// A duration of at least `min`, `default` when absent.
    pub fn duration(
        &self,
        value: Option<&Spanned<RawDuration>>,
        name: &str,
        default: Duration,
        min: Duration,
    ) -> Result<Duration, SettingsError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let key = self.key(name);
        let duration = parse_duration(value, &key)?;
        at_least(value, &key, duration, min)?;
        Ok(duration)
    }

    /// One of `choices` (name as written, value), `default` when absent; `what` names the
    /// choices in the message ("pool mode").
    pub fn choice<T: Copy>(
        &self,
        value: Option<&Spanned<String>>,
        name: &str,
        default: T,
        choices: &[(&str, T)],
        what: &str,
    ) -> Result<T, SettingsError> {
        let Some(value) = value else {
            return Ok(default);
        };
        if let Some(&(_, chosen)) = choices.iter().find(|(n, _)| n == value.get_ref()) {
            return Ok(chosen);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        Err(self.invalid(
            value.span(),
            name,
            format!(
                "unknown {what} {:?}, expected one of: {}",
                value.get_ref(),
                names.join(", ")
            ),
        ))
    }
}

/// Deserializes the value at `key` of a table with `inner`, skipping every other key: the
/// path to one kind's table in the whole document, so that the toml crate still names the
/// keys and positions in its errors.
struct Within<S> {
    key: &'static str,
    inner: S,
}

impl<'de, S: de::DeserializeSeed<'de> + Clone> Visitor<'de> for Within<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key {
                found = Some(map.next_value_seed(self.inner.clone())?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

impl<S: Clone> Clone for Within<S> {
    fn clone(&self) -> Self {
        Within {
            key: self.key,
            inner: self.inner.clone(),
        }
    }
}

impl<'de, S: de::DeserializeSeed<'de> + Clone> de::DeserializeSeed<'de> for Within<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// Each kind's settings in run.json: `{"stack": .., "etcd": {..}, "patroni": {..}}`, read back
/// by the kind of each name.
pub(super) fn from_json(
    kind: &str,
    value: serde_json::Value,
) -> Result<Box<dyn KindSettings>, String> {
    let known = crate::topology::NodeKind::named(kind)
        .ok_or_else(|| format!("unknown node kind {kind:?} in the topology"))?;
    known
        .kind()
        .settings_from_json(value)
        .map_err(|err| format!("topology.{kind}: {err}"))
}

/// Reads the settings of kind `T` from run.json's value.
pub fn read_json<T: Settings + DeserializeOwned>(
    value: serde_json::Value,
) -> Result<Box<dyn KindSettings>, serde_json::Error> {
    Ok(Box::new(serde_json::from_value::<T>(value)?))
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Topology, parse};
    use crate::topology::kinds::{haproxy, patroni, pgbouncer};
    use std::path::Path;

    const MINIMAL: &str = "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\n";

    fn topology(text: &str) -> Topology {
        parse(Path::new("ok.toml"), &format!("{MINIMAL}{text}"))
            .unwrap()
            .topology
    }

    #[test]
    fn each_kind_reads_its_own_table_and_an_optional_one_may_be_absent() {
        let t = topology("[topology.patroni]\nnodes = 2\n[topology.haproxy]\nfall = 5\n");
        assert_eq!(patroni::settings(&t).unwrap().nodes, 2);
        assert_eq!(haproxy::settings(&t).unwrap().fall, 5);
        assert!(pgbouncer::settings(&t).is_none());
        // dotted keys and inline tables are the same table
        let t = topology("[topology]\npatroni.nodes = 4\npgbouncer = { default_pool_size = 7 }\n");
        assert_eq!(patroni::settings(&t).unwrap().nodes, 4);
        assert_eq!(pgbouncer::settings(&t).unwrap().default_pool_size, 7);
    }

    #[test]
    fn run_json_keeps_each_kind_under_its_name_and_reads_it_back() {
        let t = topology("[topology]\netcd = 1\n[topology.pgbouncer]\nmin_pool_size = 2\n");
        let json = serde_json::to_value(&t).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5, "{json}");
        assert_eq!(json["etcd"]["members"], 1);
        assert_eq!(json["pgbouncer"]["min_pool_size"], 2);
        assert_eq!(json["patroni"]["ttl"], "30s");
        let back: Topology = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, t);
        // a record without "stack" was written before stacks: patroni
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("stack");
        let old: Topology = serde_json::from_value(old).unwrap();
        assert_eq!(old.stack, "patroni");
    }

    #[test]
    fn a_record_naming_no_kind_or_a_malformed_one_is_refused_with_its_key() {
        let mut json = serde_json::to_value(topology("")).unwrap();
        json["zookeeper"] = serde_json::json!({"nodes": 3});
        let err = serde_json::from_value::<Topology>(json).unwrap_err();
        assert!(
            err.to_string().contains("unknown node kind \"zookeeper\""),
            "{err}"
        );
        let mut json = serde_json::to_value(topology("")).unwrap();
        json["patroni"]["nodes"] = serde_json::json!("three");
        let err = serde_json::from_value::<Topology>(json).unwrap_err();
        assert!(err.to_string().starts_with("topology.patroni: "), "{err}");
    }
}
