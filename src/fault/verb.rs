//! The fault verb: everything one kind of fault is, in one trait its own file implements.
//!
//! [`Verb`] is the typed face a kind implements: its name and summary, the keys it takes beyond
//! `at`/`kind`/`target`/`duration` and how it checks them into its own typed `Params`, the node
//! kinds its targets may be, whether it is healed, what it resolves besides its targets before
//! the injection instant, inject, heal, and what it needs of the host. [`DynVerb`] is the same,
//! object-safe, implemented for every `Verb`: the registry (`super::VERBS`) holds those.

use std::fmt::Debug;
use std::future::Future;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{FaultError, FaultSpec, Resolver};
use crate::scenario::{FaultInput, KeyError, Target};
use crate::topology::{Cluster, Node};

/// Which node kinds a verb's targets may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Any node (crash, stop, pause, partition: they act on the container).
    AnyKind,
    /// Only nodes of these kinds (kind names as in target selectors: "patroni", "etcd").
    Kinds(&'static [&'static str]),
    /// Only nodes of kinds with a data disk of their own (the kind registry says which:
    /// `Kind::has_disk`).
    WithDisk,
}

impl Targets {
    /// The kinds of `nodes` a target may hit; `None`: any.
    pub fn kinds(self, nodes: &FaultInput<'_>) -> Option<Vec<&'static str>> {
        match self {
            Targets::AnyKind => None,
            Targets::Kinds(kinds) => Some(kinds.to_vec()),
            Targets::WithDisk => Some(nodes.kinds_with_disk()),
        }
    }
}

/// Whether a fault lasts until it is healed, or is one action at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Healing {
    /// Healed after its `duration` (or never, without one).
    Healed,
    /// Nothing to heal, so no `duration`; the text says why, when there is more to say.
    OneOff { why: &'static str },
}

/// What a verb needs of the host, checked once before the workload starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// iptables inside the containers.
    Iptables,
}

/// How a key beyond at/kind/target/duration (a fault's) or at/action (a step's) is written, so
/// that a value of the wrong type is reported where it is, before validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyForm {
    /// A string.
    Text,
    /// A target selector, or an array of them (each with its position).
    Selectors,
}

/// A key a verb takes beyond at/kind/target/duration, or a step action beyond at/action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub form: KeyForm,
}

/// The parameters of a verb without keys: `{"name":"crash"}` in run.json.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NoKeys {}

/// The nodes an injection acts on.
#[derive(Clone, Copy)]
pub struct Fire<'a> {
    pub cluster: &'a Cluster,
    /// What the fault's target resolved to.
    pub targets: &'a [Node],
    /// What the verb resolved besides ([`Verb::involve`]), checked to be this run's too.
    pub involved: &'a [Node],
}

/// A kind of fault. Implemented once, in the kind's own file; registered in `super::VERBS`.
pub trait Verb: Send + Sync + 'static {
    /// The checked values of its keys; serialized beside `"name"` in run.json.
    type Params: Serialize + DeserializeOwned + Debug + PartialEq + Send + Sync + 'static;

    /// As written in scenario files (`kind = "crash"`).
    const NAME: &'static str;
    /// One line for `firedrill list --faults`.
    const SUMMARY: &'static str;
    /// The keys it takes beyond at/kind/target/duration.
    const KEYS: &'static [Key] = &[];
    const HEALING: Healing;
    const TARGETS: Targets;
    const REQUIRES: &'static [Requirement] = &[];

    /// Checks its keys (taken from `input`) into its parameters.
    fn params(input: &mut FaultInput<'_>) -> Result<Self::Params, KeyError>;

    /// What a target must be beyond its kinds (a switchover starts from the leader); `Err`
    /// holds the message. Checked before the kinds.
    fn check_target(
        _target: &Target,
        _written: &str,
        _input: &FaultInput<'_>,
    ) -> Result<(), String> {
        Ok(())
    }

    /// What the message about a target of another kind says was expected ("patroni nodes for a
    /// postgres-crash (...)"), for `Targets::Kinds`.
    fn expected_targets(input: &FaultInput<'_>) -> String {
        match Self::TARGETS {
            Targets::AnyKind => "any node".to_owned(),
            Targets::Kinds(kinds) => {
                format!("{} nodes for a {} fault", kinds.join(" or "), Self::NAME)
            }
            Targets::WithDisk => format!(
                "nodes with a data disk for a {} fault ({} nodes)",
                Self::NAME,
                input.kinds_with_disk().join(" or ")
            ),
        }
    }

    /// The nodes it acts on besides its targets (partition peers, a switchover candidate),
    /// resolved before the injection instant.
    fn involve<'a>(
        _resolver: &'a Resolver<'_>,
        _targets: &'a [Node],
        _params: &'a Self::Params,
    ) -> impl Future<Output = Result<Vec<Node>, FaultError>> + Send + 'a {
        async { Ok(Vec::new()) }
    }

    /// Injects it; the result is the recorded detail.
    fn inject<'a>(
        fire: Fire<'a>,
        params: &'a Self::Params,
    ) -> impl Future<Output = Result<Option<String>, FaultError>> + Send + 'a;

    /// Heals it on the nodes it was injected on; the result is the recorded detail. Never
    /// called for a `Healing::OneOff` verb (validation refuses a duration).
    fn heal<'a>(
        cluster: &'a Cluster,
        nodes: &'a [Node],
    ) -> impl Future<Output = Result<Option<String>, FaultError>> + Send + 'a;

    /// What the schedule line of a report adds after the target (" to pg2", ", 64 kB behind").
    fn schedule_note(_params: &Self::Params) -> String {
        String::new()
    }
}

/// A verb as the registry holds it: [`Verb`] without its parameter type.
pub trait DynVerb: Send + Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn keys(&self) -> &'static [Key];
    fn healing(&self) -> Healing;
    fn targets(&self) -> Targets;
    fn requires(&self) -> &'static [Requirement];
    /// Checks the keys into a fault of this kind.
    fn validate(&'static self, input: &mut FaultInput<'_>) -> Result<FaultSpec, KeyError>;
    fn check_target(
        &self,
        target: &Target,
        written: &str,
        input: &FaultInput<'_>,
    ) -> Result<(), String>;
    fn expected_targets(&self, input: &FaultInput<'_>) -> String;
    /// Reads the parameters back from run.json (the object less its `"name"`).
    fn decode(&'static self, params: serde_json::Value) -> serde_json::Result<FaultSpec>;
}

impl<V: Verb> DynVerb for V {
    fn name(&self) -> &'static str {
        V::NAME
    }
    fn summary(&self) -> &'static str {
        V::SUMMARY
    }
    fn keys(&self) -> &'static [Key] {
        V::KEYS
    }
    fn healing(&self) -> Healing {
        V::HEALING
    }
    fn targets(&self) -> Targets {
        V::TARGETS
    }
    fn requires(&self) -> &'static [Requirement] {
        V::REQUIRES
    }
    fn validate(&'static self, input: &mut FaultInput<'_>) -> Result<FaultSpec, KeyError> {
        V::params(input).map(|params| FaultSpec::new(self, params))
    }
    fn check_target(
        &self,
        target: &Target,
        written: &str,
        input: &FaultInput<'_>,
    ) -> Result<(), String> {
        V::check_target(target, written, input)
    }
    fn expected_targets(&self, input: &FaultInput<'_>) -> String {
        V::expected_targets(input)
    }
    fn decode(&'static self, params: serde_json::Value) -> serde_json::Result<FaultSpec> {
        serde_json::from_value::<V::Params>(params).map(|params| FaultSpec::new(self, params))
    }
}

/// A verb with its parameters: what a [`FaultSpec`] holds, so that nothing is decoded again
/// when the fault fires.
pub(super) trait Armed: Send + Sync + Debug {
    fn verb(&self) -> &'static dyn DynVerb;
    fn params_json(&self) -> serde_json::Result<String>;
    fn same(&self, other: &dyn Armed) -> bool;
    fn as_any(&self) -> &dyn std::any::Any;
    fn involve<'a>(
        &'a self,
        resolver: &'a Resolver<'_>,
        targets: &'a [Node],
    ) -> BoxFuture<'a, Result<Vec<Node>, FaultError>>;
    fn inject<'a>(&'a self, fire: Fire<'a>) -> BoxFuture<'a, Result<Option<String>, FaultError>>;
    fn heal<'a>(
        &'a self,
        cluster: &'a Cluster,
        nodes: &'a [Node],
    ) -> BoxFuture<'a, Result<Option<String>, FaultError>>;
    fn schedule_note(&self) -> String;
}

pub(super) struct Bound<V: Verb> {
    pub verb: &'static V,
    pub params: V::Params,
}

impl<V: Verb> Debug for Bound<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(V::NAME)
            .field("params", &self.params)
            .finish()
    }
}

impl<V: Verb> Armed for Bound<V> {
    fn verb(&self) -> &'static dyn DynVerb {
        self.verb
    }
    fn params_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&self.params)
    }
    fn same(&self, other: &dyn Armed) -> bool {
        other
            .as_any()
            .downcast_ref::<Bound<V>>()
            .is_some_and(|other| other.params == self.params)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn involve<'a>(
        &'a self,
        resolver: &'a Resolver<'_>,
        targets: &'a [Node],
    ) -> BoxFuture<'a, Result<Vec<Node>, FaultError>> {
        Box::pin(V::involve(resolver, targets, &self.params))
    }
    fn inject<'a>(&'a self, fire: Fire<'a>) -> BoxFuture<'a, Result<Option<String>, FaultError>> {
        Box::pin(V::inject(fire, &self.params))
    }
    fn heal<'a>(
        &'a self,
        cluster: &'a Cluster,
        nodes: &'a [Node],
    ) -> BoxFuture<'a, Result<Option<String>, FaultError>> {
        Box::pin(V::heal(cluster, nodes))
    }
    fn schedule_note(&self) -> String {
        V::schedule_note(&self.params)
    }
}
