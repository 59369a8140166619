//! `FaultSpec`: a fault's kind with its checked parameters, as the validated scenario holds it.
//!
//! The parameters stay the verb's own typed value (behind a trait object), so no scenario type
//! names a kind and nothing is decoded or checked again when the fault fires. In run.json a
//! spec is the object it has always been: `"name"` first, then the parameters' fields in their
//! declaration order (`{"name":"partition","from":"all","direction":"both"}`); reading one
//! back finds the verb by name in the registry and decodes its parameters.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{Error as _, SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::verb::{Armed, Bound, DynVerb, Verb};

#[derive(Clone)]
pub struct FaultSpec(Arc<dyn Armed>);

impl FaultSpec {
    /// A fault of `verb` with `params`.
    pub fn new<V: Verb>(verb: &'static V, params: V::Params) -> FaultSpec {
        FaultSpec(Arc::new(Bound { verb, params }))
    }

    /// The kind's name, as written in scenario files.
    pub fn name(&self) -> &'static str {
        self.0.verb().name()
    }

    /// The kind's verb, as registered.
    pub fn verb(&self) -> &'static dyn DynVerb {
        self.0.verb()
    }

    /// The parameters, if this is a fault of verb `V`.
    pub fn params<V: Verb>(&self) -> Option<&V::Params> {
        let bound = self.0.as_any().downcast_ref::<Bound<V>>()?;
        Some(&bound.params)
    }

    /// What a report's schedule line adds after the target.
    pub fn schedule_note(&self) -> String {
        self.0.schedule_note()
    }

    pub(super) fn armed(&self) -> &dyn Armed {
        &*self.0
    }
}

impl PartialEq for FaultSpec {
    fn eq(&self, other: &FaultSpec) -> bool {
        self.0.same(&*other.0)
    }
}

impl fmt::Debug for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for FaultSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = self.0.params_json().map_err(S::Error::custom)?;
        serialize_named(serializer, self.name(), &json)
    }
}

impl<'de> Deserialize<'de> for FaultSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (name, params) = deserialize_named(deserializer, "a fault kind's name")?;
        let verb = super::verb_named(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown fault kind {name:?}, expected one of: {}",
                super::verb_names().collect::<Vec<_>>().join(", ")
            ))
        })?;
        verb.decode(serde_json::Value::Object(params))
            .map_err(|e| de::Error::custom(format!("{name} fault: {e}")))
    }
}

/// Writes `{"name": NAME, ...params}`, the parameters (`params_json`, an object's JSON text)
/// in their declaration order: through JSON text, as a JSON value's map would sort them. Shared
/// by every registry of named things with typed parameters (fault kinds, step actions).
pub(crate) fn serialize_named<S: Serializer>(
    serializer: S,
    name: &str,
    params_json: &str,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let Ordered(fields) = serde_json::from_str(params_json).map_err(S::Error::custom)?;
    let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
    map.serialize_entry("name", name)?;
    for (key, value) in &fields {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// Reads `{"name": NAME, ...params}` back: the name (`what` says what a name that is not a
/// string should have been) and the other fields.
pub(crate) fn deserialize_named<'de, D: Deserializer<'de>>(
    deserializer: D,
    what: &'static str,
) -> Result<(String, serde_json::Map<String, serde_json::Value>), D::Error> {
    let Ordered(fields) = Ordered::deserialize(deserializer)?;
    let mut name = None;
    let mut params = serde_json::Map::new();
    for (key, value) in fields {
        if key == "name" {
            name = Some(value);
        } else {
            params.insert(key, value);
        }
    }
    match name {
        Some(serde_json::Value::String(name)) => Ok((name, params)),
        Some(other) => Err(de::Error::invalid_type(
            de::Unexpected::Other(&other.to_string()),
            &what,
        )),
        None => Err(de::Error::missing_field("name")),
    }
}

/// A JSON object's fields in the order they were written.
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;

        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with a name and parameters")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }

        deserializer.deserialize_map(OrderedVisitor)
    }
}
