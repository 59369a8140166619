//! `ActionSpec`: a step's action with its checked parameters, as the validated scenario holds
//! it. In run.json it is an object like a fault's kind: `"name"` first, then the parameters'
//! fields in their declaration order (`{"name":"target","restore_point":"before-loss"}`);
//! reading one back finds the action by name in the registry and decodes its parameters.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::StepError;
use super::action::{Action, Armed, Context, Done, DynAction, WithParams};
use crate::fault::{deserialize_named, serialize_named};
use crate::scenario::Bounds;

#[derive(Clone)]
pub struct ActionSpec(Arc<dyn Armed>);

impl ActionSpec {
    /// A step of `action` with `params`.
    pub fn new<A: Action>(action: &'static A, params: A::Params) -> ActionSpec {
        ActionSpec(Arc::new(WithParams { action, params }))
    }

    /// The action's name, as written in scenario files.
    pub fn name(&self) -> &'static str {
        self.0.action().name()
    }

    /// The action, as registered.
    pub fn action(&self) -> &'static dyn DynAction {
        self.0.action()
    }

    /// The parameters, if this is a step of action `A`.
    pub fn params<A: Action>(&self) -> Option<&A::Params> {
        let armed = self.0.as_any().downcast_ref::<WithParams<A>>()?;
        Some(&armed.params)
    }

    /// What a report's schedule line adds after the action's name.
    pub fn schedule_note(&self) -> String {
        self.0.schedule_note()
    }

    /// How long it may take before it is recorded as failed.
    pub fn bound(&self, bounds: &Bounds) -> Duration {
        self.0.bound(bounds)
    }

    pub(super) async fn run(&self, ctx: Context<'_>) -> Result<Done, StepError> {
        self.0.run(ctx).await
    }
}

impl PartialEq for ActionSpec {
    fn eq(&self, other: &ActionSpec) -> bool {
        self.0.same(&*other.0)
    }
}

impl fmt::Debug for ActionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ActionSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let json = self.0.params_json().map_err(S::Error::custom)?;
        serialize_named(serializer, self.name(), &json)
    }
}

impl<'de> Deserialize<'de> for ActionSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (name, params) = deserialize_named(deserializer, "a step action's name")?;
        let action = super::action_named(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown step action {name:?}, expected one of: {}",
                super::action_names().collect::<Vec<_>>().join(", ")
            ))
        })?;
        action
            .decode(serde_json::Value::Object(params))
            .map_err(|e| de::Error::custom(format!("{name} step: {e}")))
    }
}
