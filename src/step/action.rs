//! The step action: everything one kind of step is, in one trait its own file implements.
//!
//! [`Action`] is the typed face an action implements: its name and summary, the keys it takes
//! beyond `at`/`action` and how it checks them into its own typed `Params`, and `run`, which
//! does it once and says what it found ([`Done`]) or why it could not ([`StepError`]).
//! [`DynAction`] is the same, object-safe, implemented for every `Action`: the registry
//! (`super::ACTIONS`) holds those.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ActionSpec, StepError};
use crate::fault::Key;
use crate::history::{At, Clock, StepEvent, Values};
use crate::scenario::{Bounds, KeyError, StepInput, Topology};
use crate::topology::{Cluster, Node};

/// What a step that completed found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Done {
    /// One line for people: the progress line and the reports.
    pub detail: Option<String>,
    /// What it measured, for the reports and the checkers.
    pub values: Values,
    /// The instants the action itself took place, when narrower than the call (a statement
    /// sent and its answer, without looking up the node first): the step's `started` and
    /// `ended` then.
    pub during: Option<(At, At)>,
}

impl Done {
    /// Done, with this detail.
    pub fn new(detail: impl Into<String>) -> Done {
        Done {
            detail: Some(detail.into()),
            ..Done::default()
        }
    }

    /// With value `name` (a `null` value is left out).
    pub fn value(mut self, name: &str, value: impl Serialize) -> Done {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        if !value.is_null() {
            self.values.insert(name.to_owned(), value);
        }
        self
    }

    /// Taking place from `started` to `ended` (see [`Done::during`]).
    pub fn during(mut self, started: At, ended: At) -> Done {
        self.during = Some((started, ended));
        self
    }
}

/// What an action sees when it runs.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub cluster: &'a Cluster,
    /// The scenario's topology: each kind's settings (a restore renders a node's configuration
    /// from them).
    pub topology: &'a Topology,
    /// The run's clock, to stamp what the action does.
    pub clock: Clock,
    /// How long the step may take (the step is cut short then): for the commands it runs.
    pub bound: Duration,
    /// Its number in the scenario, from 1.
    pub step: usize,
    /// The steps that ran before it, in order (what a restore reads its target from).
    pub earlier: &'a [StepEvent],
}

impl Context<'_> {
    /// Refuses to act on a container that does not carry this run's label (isolation on a
    /// shared engine), as every fault does: harness trouble, not an outcome.
    pub async fn ensure_owned(&self, node: &Node) -> Result<(), StepError> {
        crate::engine::ensure_owned(&self.cluster.docker, &node.container, &self.cluster.run_id)
            .await
            .map_err(StepError::Engine)
    }
}

/// A kind of step. Implemented once, in the action's own file; registered in `super::ACTIONS`.
pub trait Action: Send + Sync + 'static {
    /// The checked values of its keys; serialized beside `"name"` in run.json.
    type Params: Serialize + DeserializeOwned + Debug + PartialEq + Send + Sync + 'static;

    /// As written in scenario files (`action = "target"`).
    const NAME: &'static str;
    /// One line for `firedrill list --steps`.
    const SUMMARY: &'static str;
    /// The keys it takes beyond at/action.
    const KEYS: &'static [Key] = &[];

    /// Checks its keys (taken from `input`) into its parameters.
    fn params(input: &mut StepInput<'_>) -> Result<Self::Params, KeyError>;

    /// What it needs of the topology, if anything it lacks (`a backup needs
    /// [topology.pgbackrest]`): `validate` refuses the step at its action with this message.
    fn lacks(_topology: &Topology) -> Option<String> {
        None
    }

    /// Does it, once. `Err(StepError::Failed)` when the system under test refused it or could
    /// not complete it (recorded; the drill goes on); any other error is harness trouble and
    /// ends the drill.
    fn run<'a>(
        ctx: Context<'a>,
        params: &'a Self::Params,
    ) -> impl Future<Output = Result<Done, StepError>> + Send + 'a;

    /// How long it may take before it is recorded as failed: the `[bounds] fault` bound unless
    /// the action needs one of its own.
    fn bound(_params: &Self::Params, bounds: &Bounds) -> Duration {
        bounds.fault
    }

    /// What the schedule line of a report adds after the action's name (` (restore point
    /// "x")`).
    fn schedule_note(_params: &Self::Params) -> String {
        String::new()
    }
}

/// An action as the registry holds it: [`Action`] without its parameter type.
pub trait DynAction: Send + Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn keys(&self) -> &'static [Key];
    /// Checks the keys into a step of this action.
    fn validate(&'static self, input: &mut StepInput<'_>) -> Result<ActionSpec, KeyError>;
    fn lacks(&self, topology: &Topology) -> Option<String>;
    /// Reads the parameters back from run.json (the object less its `"name"`).
    fn decode(&'static self, params: serde_json::Value) -> serde_json::Result<ActionSpec>;
}

impl<A: Action> DynAction for A {
    fn name(&self) -> &'static str {
        A::NAME
    }
    fn summary(&self) -> &'static str {
        A::SUMMARY
    }
    fn keys(&self) -> &'static [Key] {
        A::KEYS
    }
    fn validate(&'static self, input: &mut StepInput<'_>) -> Result<ActionSpec, KeyError> {
        A::params(input).map(|params| ActionSpec::new(self, params))
    }
    fn lacks(&self, topology: &Topology) -> Option<String> {
        A::lacks(topology)
    }
    fn decode(&'static self, params: serde_json::Value) -> serde_json::Result<ActionSpec> {
        serde_json::from_value::<A::Params>(params).map(|params| ActionSpec::new(self, params))
    }
}

/// An action with its parameters: what an [`ActionSpec`] holds, so that nothing is decoded
/// again when the step runs.
pub(super) trait Armed: Send + Sync + Debug {
    fn action(&self) -> &'static dyn DynAction;
    fn params_json(&self) -> serde_json::Result<String>;
    fn same(&self, other: &dyn Armed) -> bool;
    fn as_any(&self) -> &dyn std::any::Any;
    fn run<'a>(&'a self, ctx: Context<'a>) -> BoxFuture<'a, Result<Done, StepError>>;
    fn bound(&self, bounds: &Bounds) -> Duration;
    fn schedule_note(&self) -> String;
}

pub(super) struct WithParams<A: Action> {
    pub action: &'static A,
    pub params: A::Params,
}

impl<A: Action> Debug for WithParams<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(A::NAME)
            .field("params", &self.params)
            .finish()
    }
}

impl<A: Action> Armed for WithParams<A> {
    fn action(&self) -> &'static dyn DynAction {
        self.action
    }
    fn params_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&self.params)
    }
    fn same(&self, other: &dyn Armed) -> bool {
        other
            .as_any()
            .downcast_ref::<WithParams<A>>()
            .is_some_and(|other| other.params == self.params)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn run<'a>(&'a self, ctx: Context<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(A::run(ctx, &self.params))
    }
    fn bound(&self, bounds: &Bounds) -> Duration {
        A::bound(&self.params, bounds)
    }
    fn schedule_note(&self) -> String {
        A::schedule_note(&self.params)
    }
}
