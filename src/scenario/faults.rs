//! `[groups]` and `[[fault]]`: the nodes faults name, the checks every fault has (its instant,
//! kind, target, duration), and the rule that a node has one fault at a time. What each kind
//! takes and where it applies is its verb's (`crate::fault::VERBS`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::position;
use super::keys::FaultInput;
use super::model::{Fault, Group, Target};
use super::raw::{RawDuration, RawFault, RawNames};
use super::selector::{self, Nodes, SelectorError};
use super::validate::{
    Failure, Result, instant_in_run, invalid, missing_keys, parse_duration, positive,
};
use crate::fault::{self, DynVerb, Healing};

/// Groups in file order (the toml crate hands table keys over sorted; their positions give the
/// order back).
pub(super) fn groups(
    raw: BTreeMap<Spanned<String>, Spanned<RawNames>>,
    nodes: &Nodes,
) -> Result<Vec<Group>> {
    let mut entries: Vec<_> = raw.into_iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    entries
        .into_iter()
        .map(|(name, members)| group(name, members, nodes))
        .collect()
}

fn group(name: Spanned<String>, members: Spanned<RawNames>, nodes: &Nodes) -> Result<Group> {
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if name.get_ref().is_empty() || !name.get_ref().chars().all(valid) {
        return Err(invalid(
            name.span(),
            "groups",
            format!(
                "expected a group name of lower-case letters, digits and '-' only, found {:?}",
                name.get_ref()
            ),
        ));
    }
    let key = format!("groups.{}", name.get_ref());
    let span = members.span();
    let members = members.into_inner().0;
    if members.is_empty() {
        return Err(invalid(
            span,
            &key,
            "expected at least one node name, found an empty array",
        ));
    }
    let mut names: Vec<String> = Vec::with_capacity(members.len());
    for member in members {
        let node = member.get_ref();
        if nodes.kind_of(node).is_none() {
            let unknown = match nodes.missing(node) {
                Some(missing) => format!("{missing};"),
                None => format!("unknown node {node:?},"),
            };
            return Err(invalid(
                member.span(),
                &key,
                format!(
                    "{unknown} expected a node of the topology ({})",
                    nodes.summary()
                ),
            ));
        }
        if names.contains(node) {
            return Err(invalid(
                member.span(),
                &key,
                format!("expected each node once, found {node:?} again"),
            ));
        }
        names.push(member.into_inner());
    }
    Ok(Group {
        name: name.into_inner(),
        nodes: names,
    })
}

/// When a fault is active, to find two faults on one node at once.
#[derive(Debug)]
struct Window {
    /// The nodes the fault hits, known before the run.
    nodes: Vec<String>,
    /// The fault's target when it is not a plain node, to name it in messages.
    through: Option<String>,
    start: Duration,
    until: Until,
    offset: usize,
}

#[derive(Clone, Copy, Debug)]
enum Until {
    /// A one-off action (a switchover, a postgres crash): the instant `start` only.
    Instant,
    Healed(Duration),
    EndOfRun,
}

impl Window {
    /// `[start, end)`, or the instant `[start, start]`.
    fn overlaps(&self, other: &Window, run: Duration) -> bool {
        let end = |w: &Window| match w.until {
            Until::Instant => w.start,
            Until::Healed(end) => end,
            Until::EndOfRun => run,
        };
        match (self.until, other.until) {
            (Until::Instant, Until::Instant) => self.start == other.start,
            (Until::Instant, _) => other.start <= self.start && self.start < end(other),
            (_, Until::Instant) => self.start <= other.start && other.start < end(self),
            _ => self.start < end(other) && other.start < end(self),
        }
    }

    fn describe(&self) -> String {
        let start = humantime::format_duration(self.start);
        let when = match self.until {
            Until::Instant => format!("at {start}"),
            Until::Healed(end) => format!("{start} to {}", humantime::format_duration(end)),
            Until::EndOfRun => format!("{start} to the end of the run"),
        };
        match &self.through {
            Some(target) => format!("{target}, {when}"),
            None => when,
        }
    }
}

pub(super) fn faults(
    raw: Vec<Spanned<RawFault>>,
    run: Duration,
    nodes: &Nodes,
    groups: &[Group],
    text: &str,
) -> Result<Vec<Fault>> {
    let mut faults = Vec::with_capacity(raw.len());
    let mut windows: Vec<Window> = Vec::new();
    for spanned in raw {
        let header = spanned.span();
        let RawFault {
            at,
            kind,
            target,
            duration,
            keys,
        } = spanned.into_inner();
        let (at, kind, target) = match (at, kind, target) {
            (Some(at), Some(kind), Some(target)) => (at, kind, target),
            (at, kind, target) => {
                return Err(missing_keys(
                    "[[fault]]",
                    header.start,
                    &[
                        ("at", at.is_none()),
                        ("kind", kind.is_none()),
                        ("target", target.is_none()),
                    ],
                ));
            }
        };

        let start = instant_in_run(&at, "fault.at", run)?;

        let verb = fault::verb_named(kind.get_ref())
            .ok_or_else(|| unknown_kind(kind.get_ref(), kind.span()))?;
        only_for(verb, &keys)?;

        let resolved = select(
            target.get_ref(),
            target.span(),
            ("fault.target", "target", ""),
            nodes,
            groups,
        )?;
        let mut input = FaultInput {
            table: "fault",
            nodes,
            groups,
            keys,
        };
        check_target(verb, &resolved, &target, &input, groups)?;
        let fault_kind = verb.validate(&mut input).map_err(|e| e.0)?;

        let one_off = matches!(verb.healing(), Healing::OneOff { .. });
        let length = fault_length(duration.as_ref(), verb, start, run)?;

        if let Some(hit) = selector::static_nodes(&resolved, nodes, groups) {
            let window = Window {
                nodes: hit,
                through: (!matches!(resolved, Target::Node(_))).then(|| resolved.to_string()),
                start,
                until: match length {
                    _ if one_off => Until::Instant,
                    Some(length) => Until::Healed(start + length),
                    None => Until::EndOfRun,
                },
                offset: at.span().start,
            };
            let clash = windows
                .iter()
                .filter(|earlier| earlier.overlaps(&window, run))
                .find_map(|earlier| {
                    let node = window.nodes.iter().find(|n| earlier.nodes.contains(n))?;
                    Some((earlier, node))
                });
            if let Some((earlier, node)) = clash {
                return Err(invalid(
                    at.span(),
                    "fault.at",
                    format!(
                        "expected one fault at a time on node {node:?}, but this one \
                         ({}) overlaps the one at line {} ({})",
                        window.describe(),
                        position(text, earlier.offset).line,
                        earlier.describe()
                    ),
                ));
            }
            windows.push(window);
        }

        faults.push(Fault {
            at: start,
            kind: fault_kind,
            target: resolved,
            duration: length,
        });
    }
    Ok(faults)
}

/// How long a fault of `kind` injected at `start` lasts: `duration` when it is given and the
/// fault is healed by the end of the run.
fn fault_length(
    duration: Option<&Spanned<RawDuration>>,
    verb: &dyn DynVerb,
    start: Duration,
    run: Duration,
) -> Result<Option<Duration>> {
    let Some(value) = duration else {
        return Ok(None);
    };
    let key = "fault.duration";
    if let Healing::OneOff { why } = verb.healing() {
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        return Err(invalid(
            value.span(),
            key,
            format!(
                "expected no duration, a {} has nothing to heal{why}",
                verb.name()
            ),
        ));
    }
    let length = parse_duration(value, key)?;
    positive(value, key, length)?;
    match start.checked_add(length) {
        Some(end) if end <= run => Ok(Some(length)),
        end => {
            let end = end.map_or_else(
                || "never".to_owned(),
                |end| humantime::format_duration(end).to_string(),
            );
            Err(invalid(
                value.span(),
                key,
                format!(
                    "expected the fault to be healed by the end of the run ({}), but it lasts \
                     until {end} (at {} + {})",
                    humantime::format_duration(run),
                    humantime::format_duration(start),
                    humantime::format_duration(length)
                ),
            ))
        }
    }
}

/// The message about a kind no verb has, with the closest name when one is close.
fn unknown_kind(name: &str, span: Range<usize>) -> Failure {
    let did_you_mean = super::error::suggest(name, fault::verb_names())
        .map(|known| format!(", did you mean {known:?}?"))
        .unwrap_or_default();
    invalid(
        span,
        "fault.kind",
        format!(
            "unknown fault kind {name:?}{did_you_mean}{} expected one of: {}",
            if did_you_mean.is_empty() { "," } else { "" },
            fault::verb_names().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// Rejects the first key (in the order of the registry) that another verb takes and `verb`
/// does not.
fn only_for(verb: &dyn DynVerb, given: &[(&'static str, super::raw::RawKey)]) -> Result<()> {
    let known = fault::VERBS
        .iter()
        .flat_map(|v| v.keys())
        .map(|key| key.name);
    for name in known {
        let Some((_, value)) = given.iter().find(|(key, _)| *key == name) else {
            continue;
        };
        if verb.keys().iter().any(|key| key.name == name) {
            continue;
        }
        let owners: Vec<&str> = fault::VERBS
            .iter()
            .filter(|v| v.keys().iter().any(|key| key.name == name))
            .map(|v| v.name())
            .collect();
        return Err(invalid(
            value.span(),
            &format!("fault.{name}"),
            format!(
                "applies to {} faults only, found it on a {} fault",
                owners.join(" or "),
                verb.name()
            ),
        ));
    }
    Ok(())
}

/// Parses `text` (at `span`, the value of `key`) as a target selector; otherwise the message
/// calls it an unknown `what` and lists `also` (other accepted values) and the selector forms.
pub(super) fn select(
    text: &str,
    span: Range<usize>,
    (key, what, also): (&str, &str, &str),
    nodes: &Nodes,
    groups: &[Group],
) -> Result<Target> {
    selector::parse(text, nodes, groups).map_err(|err| {
        let did_you_mean = selector::suggest(text, nodes, groups)
            .map(|s| format!(", did you mean {s:?}?"))
            .unwrap_or_default();
        let message = match (err, nodes.missing(text)) {
            (SelectorError::Unknown, Some(missing)) => {
                format!("{missing}; expected {also}{}", selector::forms(nodes))
            }
            (SelectorError::Unknown, None) => format!(
                "unknown {what} {text:?}{did_you_mean}{} expected {also}{}",
                if did_you_mean.is_empty() { "," } else { "" },
                selector::forms(nodes)
            ),
            (SelectorError::UndefinedGroup(_), _) => format!(
                "expected {}, found {text:?}{did_you_mean}",
                selector::defined_groups(groups)
            ),
        };
        invalid(span, key, message)
    })
}

/// What the verb asks of its target: its own condition, then its node kinds.
fn check_target(
    verb: &dyn DynVerb,
    target: &Target,
    written: &Spanned<String>,
    input: &FaultInput<'_>,
    groups: &[Group],
) -> Result<()> {
    let fail = |message: String| invalid(written.span(), "fault.target", message);
    verb.check_target(target, written.get_ref(), input)
        .map_err(fail)?;
    let Some(kinds) = verb.targets().kinds(input) else {
        return Ok(());
    };
    match selector::outside_kinds(target, input.nodes, groups, &kinds) {
        None => Ok(()),
        Some(why) => Err(fail(format!(
            "expected {}, found {:?}{why}",
            verb.expected_targets(input),
            written.get_ref()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(fault: &str) -> String {
        let text = format!(
            "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\n[groups]\n\
             minority = [\"pg1\", \"etcd1\"]\n[[fault]]\nat = \"10s\"\n{fault}"
        );
        match crate::scenario::parse(std::path::Path::new("bad.toml"), &text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_verb_refuses_targets_of_other_kinds_where_they_are_written() {
        assert_eq!(
            error_of("kind = \"postgres-crash\"\ntarget = \"etcd1\"\n"),
            "bad.toml:9:10: fault.target: expected patroni nodes for a postgres-crash (leader, \
             replica[:...], pg1..pg3, patroni, patroni:random or a group of pg nodes), found \
             \"etcd1\""
        );
        assert_eq!(
            error_of("kind = \"lag\"\ntarget = \"haproxy\"\n"),
            "bad.toml:9:10: fault.target: expected replicas for a lag fault (replica[:...], \
             pg1..pg3, or a group of pg nodes), found \"haproxy\""
        );
        assert_eq!(
            error_of("kind = \"disk-full\"\ntarget = \"haproxy\"\n"),
            "bad.toml:9:10: fault.target: expected nodes with a data disk for a disk-full fault \
             (patroni or etcd nodes), found \"haproxy\""
        );
        assert_eq!(
            error_of("kind = \"patroni-freeze\"\ntarget = \"group:minority\"\n"),
            "bad.toml:9:10: fault.target: expected patroni nodes for a patroni-freeze (leader, \
             replica[:...], pg1..pg3, patroni, patroni:random or a group of pg nodes), found \
             \"group:minority\", whose member \"etcd1\" is not a patroni node"
        );
    }

    #[test]
    fn unknown_keys_and_kinds_get_the_closest_known_name() {
        assert_eq!(
            error_of("kind = \"partition\"\ntarget = \"leader\"\nfrm = \"all\"\n"),
            "bad.toml:10:1: unknown key `frm` in [[fault]], did you mean `from`?"
        );
        assert_eq!(
            error_of("kind = \"crash\"\ntarget = \"leader\"\ncolour = \"red\"\n"),
            "bad.toml:10:1: unknown key `colour` in [[fault]], expected one of: at, kind, \
             target, duration, from, direction, candidate, behind"
        );
        assert_eq!(
            error_of("kind = \"swichover\"\ntarget = \"leader\"\n"),
            "bad.toml:8:8: fault.kind: unknown fault kind \"swichover\", did you mean \
             \"switchover\"? expected one of: crash, postgres-crash, stop, pause, partition, \
             switchover, lag, disk-full, patroni-freeze, pgbouncer-pause, archive-fail"
        );
        assert_eq!(
            error_of("kind = \"crash\"\ntarget = \"leader\"\nbehind = \"5s\"\n"),
            "bad.toml:10:10: fault.behind: applies to lag faults only, found it on a crash fault"
        );
    }

    fn window(start: u64, until: Until) -> Window {
        Window {
            nodes: vec!["pg1".into()],
            through: None,
            start: Duration::from_secs(start),
            until,
            offset: 0,
        }
    }

    fn healed(secs: u64) -> Until {
        Until::Healed(Duration::from_secs(secs))
    }

    #[test]
    fn windows_overlap_as_half_open_intervals() {
        let run = Duration::from_secs(60);
        assert!(window(10, healed(20)).overlaps(&window(15, healed(30)), run));
        assert!(window(10, Until::EndOfRun).overlaps(&window(50, healed(55)), run));
        assert!(!window(10, healed(20)).overlaps(&window(20, Until::EndOfRun), run));
        assert!(!window(30, Until::EndOfRun).overlaps(&window(0, healed(30)), run));
    }

    #[test]
    fn instants_overlap_the_windows_that_contain_them() {
        let run = Duration::from_secs(60);
        let instant = |start| window(start, Until::Instant);
        for (other, overlaps) in [
            (window(10, healed(20)), true),
            (window(5, healed(11)), true),
            (window(5, healed(10)), false),
            (window(15, healed(20)), false),
            (window(0, healed(10)), false),
            (window(0, Until::EndOfRun), true),
            (instant(10), true),
            (instant(11), false),
        ] {
            assert_eq!(instant(10).overlaps(&other, run), overlaps, "{other:?}");
            assert_eq!(other.overlaps(&instant(10), run), overlaps, "{other:?}");
        }
    }
}
