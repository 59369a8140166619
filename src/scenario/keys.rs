//! What a fault verb's or a step action's checks see of one `[[fault]]` or `[[step]]`: the keys
//! it takes beyond the ones every fault (at/kind/target/duration) or step (at/action) has, with
//! their positions, and the topology they are checked against. Its errors become FILE:LINE:COL
//! messages like every other scenario error.

use std::ops::Range;

use toml::Spanned;

use super::faults::select;
use super::model::{Group, Target};
use super::raw::{RawKey, RawSelectors};
use super::selector::{self, Nodes};
use super::validate::{Failure, invalid};

/// A key of a fault verb or a step action that is not valid, and where.
#[derive(Debug)]
pub struct KeyError(pub(super) Failure);

/// One `[[fault]]` or `[[step]]` as its verb or action checks it.
pub struct KeyInput<'a> {
    /// The table's name in dotted keys: `fault`, `step`.
    pub(super) table: &'static str,
    pub(super) nodes: &'a Nodes,
    pub(super) groups: &'a [Group],
    /// The keys that were given and are not taken yet.
    pub(super) keys: Vec<(&'static str, RawKey)>,
}

/// What a fault verb's checks see of one `[[fault]]`.
pub type FaultInput<'a> = KeyInput<'a>;

/// What a step action's checks see of one `[[step]]`.
pub type StepInput<'a> = KeyInput<'a>;

impl KeyInput<'_> {
    /// The kinds of the topology whose nodes have a data disk of their own.
    pub fn kinds_with_disk(&self) -> Vec<&'static str> {
        self.nodes.kinds_with_disk()
    }

    /// Takes key `name`, declared `KeyForm::Text`, if it was given.
    pub fn text(&mut self, name: &str) -> Option<Spanned<String>> {
        match self.take(name)? {
            RawKey::Text(value) => Some(value),
            RawKey::Selectors(_) => unreachable!("key {name} is declared as selectors"),
        }
    }

    /// Takes key `name`, declared `KeyForm::Selectors`, if it was given.
    pub fn selectors(&mut self, name: &str) -> Option<Spanned<RawSelectors>> {
        match self.take(name)? {
            RawKey::Selectors(value) => Some(value),
            RawKey::Text(_) => unreachable!("key {name} is declared as text"),
        }
    }

    fn take(&mut self, name: &str) -> Option<RawKey> {
        let at = self.keys.iter().position(|(key, _)| *key == name)?;
        Some(self.keys.remove(at).1)
    }

    /// The error about the value of key `name` at `span`: `TABLE.NAME: MESSAGE`
    /// (`fault.candidate: ...`, `step.restore_point: ...`).
    pub fn invalid(&self, span: Range<usize>, name: &str, message: impl Into<String>) -> KeyError {
        KeyError(invalid(span, &format!("{}.{name}", self.table), message))
    }

    /// `text` (at `span`, the value of key `name`) as a target selector; otherwise the message
    /// calls it an unknown `what` and lists `also` (other accepted values) and the selector
    /// forms.
    pub fn select(
        &self,
        text: &str,
        span: Range<usize>,
        name: &str,
        (what, also): (&str, &str),
    ) -> Result<Target, KeyError> {
        let key = format!("{}.{name}", self.table);
        select(text, span, (&key, what, also), self.nodes, self.groups).map_err(KeyError)
    }

    /// `text` as a target selector, if it is one.
    pub fn target(&self, text: &str) -> Option<Target> {
        selector::parse(text, self.nodes, self.groups).ok()
    }

    /// The kind name of node `name`, if the topology has it.
    pub fn kind_of(&self, name: &str) -> Option<&'static str> {
        self.nodes.kind_of(name)
    }

    /// The Patroni nodes, compactly (`pg1..pg3`).
    pub fn patroni_names(&self) -> String {
        self.nodes.patroni_names()
    }
}
