//! `[groups]` and `[[fault]]`: the nodes faults name, what each kind of fault takes, and the
//! rule that a node has one fault at a time.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::{ScenarioErrorKind, position};
use super::model::{Behind, Direction, Fault, FaultKind, Group, PartitionPeers, Pick, Target};
use super::raw::{RawDuration, RawFault, RawNames, RawSelectors};
use super::selector::{self, Nodes, SelectorError};
use super::validate::{Failure, Result, invalid, parse_duration, positive, show};

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
            from,
            direction,
            candidate,
            behind,
        } = spanned.into_inner();
        let (at, kind, target) = match (at, kind, target) {
            (Some(at), Some(kind), Some(target)) => (at, kind, target),
            (at, kind, target) => {
                let keys = [
                    ("at", at.is_none()),
                    ("kind", kind.is_none()),
                    ("target", target.is_none()),
                ]
                .into_iter()
                .filter(|&(_, missing)| missing)
                .map(|(key, _)| key.to_owned())
                .collect();
                return Err(Failure {
                    offset: header.start,
                    kind: ScenarioErrorKind::MissingKeys {
                        table: Some("[[fault]]".to_owned()),
                        keys,
                    },
                });
            }
        };

        let start = parse_duration(&at, "fault.at")?;
        if start >= run {
            return Err(invalid(
                at.span(),
                "fault.at",
                format!(
                    "expected an instant before the end of the run ({}), found {}",
                    humantime::format_duration(run),
                    show(at.get_ref())
                ),
            ));
        }

        let mut fault_kind = kind_named(kind.get_ref()).ok_or_else(|| {
            invalid(
                kind.span(),
                "fault.kind",
                format!(
                    "unknown fault kind {:?}, expected one of: {}",
                    kind.get_ref(),
                    FaultKind::NAMES.join(", ")
                ),
            )
        })?;
        only_for(&fault_kind, "partition", "from", span(&from))?;
        only_for(&fault_kind, "partition", "direction", span(&direction))?;
        only_for(&fault_kind, "switchover", "candidate", span(&candidate))?;
        only_for(&fault_kind, "lag", "behind", span(&behind))?;

        let resolved = select(
            target.get_ref(),
            target.span(),
            ("fault.target", "target", ""),
            nodes,
            groups,
        )?;
        check_target(&fault_kind, &resolved, &target, nodes, groups)?;

        match &mut fault_kind {
            FaultKind::Partition {
                from: peers,
                direction: way,
            } => {
                if let Some(from) = from {
                    *peers = partition_peers(from, nodes, groups)?;
                }
                if let Some(direction) = direction {
                    *way = parse_direction(&direction)?;
                }
            }
            FaultKind::Switchover { candidate: to } => {
                if let Some(candidate) = candidate {
                    *to = Some(parse_candidate(&candidate, nodes, groups)?);
                }
            }
            FaultKind::Lag { behind: how_far } => {
                if let Some(behind) = behind {
                    *how_far = Some(parse_behind(&behind)?);
                }
            }
            FaultKind::Crash
            | FaultKind::PostgresCrash
            | FaultKind::Stop
            | FaultKind::Pause
            | FaultKind::DiskFull
            | FaultKind::PatroniFreeze => {}
        }

        let one_off = one_off(&fault_kind);
        let length = fault_length(duration.as_ref(), &fault_kind, start, run)?;

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

/// Whether faults of `kind` are one action at an instant, with nothing to heal.
fn one_off(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::PostgresCrash | FaultKind::Switchover { .. }
    )
}

/// How long a fault of `kind` injected at `start` lasts: `duration` when it is given and the
/// fault is healed by the end of the run.
fn fault_length(
    duration: Option<&Spanned<RawDuration>>,
    kind: &FaultKind,
    start: Duration,
    run: Duration,
) -> Result<Option<Duration>> {
    let Some(value) = duration else {
        return Ok(None);
    };
    let key = "fault.duration";
    if one_off(kind) {
        let why = match kind {
            FaultKind::PostgresCrash => ": patroni restarts postgresql itself",
            _ => "",
        };
        return Err(invalid(
            value.span(),
            key,
            format!(
                "expected no duration, a {} has nothing to heal{why}",
                kind.name()
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

/// The kind named `name`, with the defaults of its settings.
fn kind_named(name: &str) -> Option<FaultKind> {
    Some(match name {
        "crash" => FaultKind::Crash,
        "postgres-crash" => FaultKind::PostgresCrash,
        "stop" => FaultKind::Stop,
        "pause" => FaultKind::Pause,
        "partition" => FaultKind::Partition {
            from: PartitionPeers::All,
            direction: Direction::Both,
        },
        "switchover" => FaultKind::Switchover { candidate: None },
        "lag" => FaultKind::Lag { behind: None },
        "disk-full" => FaultKind::DiskFull,
        "patroni-freeze" => FaultKind::PatroniFreeze,
        _ => return None,
    })
}

/// Where `value` is, if it was given.
fn span<T>(value: &Option<Spanned<T>>) -> Option<Range<usize>> {
    value.as_ref().map(Spanned::span)
}

/// Rejects `key` (at `span`, if given) unless the fault is of the kind named `only`.
fn only_for(kind: &FaultKind, only: &str, key: &str, span: Option<Range<usize>>) -> Result<()> {
    match span {
        Some(span) if kind.name() != only => Err(invalid(
            span,
            &format!("fault.{key}"),
            format!(
                "applies to {only} faults only, found it on a {} fault",
                kind.name()
            ),
        )),
        _ => Ok(()),
    }
}

/// Parses `text` (at `span`, the value of `key`) as a target selector; otherwise the message
/// calls it an unknown `what` and lists `also` (other accepted values) and the selector forms.
fn select(
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

/// What the kind of fault asks of its target.
fn check_target(
    kind: &FaultKind,
    target: &Target,
    written: &Spanned<String>,
    nodes: &Nodes,
    groups: &[Group],
) -> Result<()> {
    let fail = |message: String| invalid(written.span(), "fault.target", message);
    match kind {
        FaultKind::Switchover { .. } if *target != Target::Leader => Err(fail(format!(
            "expected leader (or primary), a switchover is made from the leader, found {:?}",
            written.get_ref()
        ))),
        FaultKind::PostgresCrash | FaultKind::PatroniFreeze => {
            match selector::not_patroni_only(target, nodes, groups) {
                None => Ok(()),
                Some(why) => Err(fail(format!(
                    "expected patroni nodes for a {} (leader, replica[:...], {}, patroni, \
                     patroni:random or a group of pg nodes), found {:?}{why}",
                    kind.name(),
                    nodes.patroni_names(),
                    written.get_ref()
                ))),
            }
        }
        FaultKind::Lag { .. } if *target == Target::Leader => Err(fail(format!(
            "expected replicas, a lag fault holds back the stream from the leader to them \
             (replica[:...], {}, or a group of pg nodes), found {:?}",
            nodes.patroni_names(),
            written.get_ref()
        ))),
        FaultKind::Lag { .. } => match selector::not_patroni_only(target, nodes, groups) {
            None => Ok(()),
            Some(why) => Err(fail(format!(
                "expected replicas for a lag fault (replica[:...], {}, or a group of pg \
                 nodes), found {:?}{why}",
                nodes.patroni_names(),
                written.get_ref()
            ))),
        },
        FaultKind::DiskFull => match selector::without_disk(target, nodes, groups) {
            None => Ok(()),
            Some(why) => Err(fail(format!(
                "expected nodes with a data disk for a disk-full fault (patroni or etcd \
                 nodes), found {:?}{why}",
                written.get_ref()
            ))),
        },
        _ => Ok(()),
    }
}

fn partition_peers(
    from: Spanned<RawSelectors>,
    nodes: &Nodes,
    groups: &[Group],
) -> Result<PartitionPeers> {
    let key = "fault.from";
    let span = from.span();
    match from.into_inner() {
        RawSelectors::One(text) if text == "all" => Ok(PartitionPeers::All),
        RawSelectors::One(text) => {
            let expected = (key, "selector", "\"all\", or one or an array of: ");
            let target = select(&text, span, expected, nodes, groups)?;
            Ok(PartitionPeers::Of(vec![target]))
        }
        RawSelectors::Many(items) if items.is_empty() => Err(invalid(
            span,
            key,
            "expected at least one target selector, found an empty array (partition from \
             every other node with from = \"all\")",
        )),
        RawSelectors::Many(items) => items
            .iter()
            .map(|item| {
                if item.get_ref() == "all" {
                    return Err(invalid(
                        item.span(),
                        key,
                        "expected target selectors in the array, \"all\" stands alone: \
                         from = \"all\"",
                    ));
                }
                select(
                    item.get_ref(),
                    item.span(),
                    (key, "selector", ""),
                    nodes,
                    groups,
                )
            })
            .collect::<Result<Vec<Target>>>()
            .map(PartitionPeers::Of),
    }
}

fn parse_direction(direction: &Spanned<String>) -> Result<Direction> {
    match direction.get_ref().as_str() {
        "both" => Ok(Direction::Both),
        "outgoing" => Ok(Direction::Outgoing),
        "incoming" => Ok(Direction::Incoming),
        other => Err(invalid(
            direction.span(),
            "fault.direction",
            format!("unknown direction {other:?}, expected one of: both, outgoing, incoming"),
        )),
    }
}

/// How far behind a lag fault makes its replicas: a size or a duration.
fn parse_behind(behind: &Spanned<String>) -> Result<Behind> {
    let text = behind.get_ref();
    let fail = |message: String| invalid(behind.span(), "fault.behind", message);
    let parsed = match super::size::parse_size(text) {
        Some(bytes) => Behind::Bytes(bytes),
        None => match humantime::parse_duration(text) {
            Ok(time) => Behind::Time(time),
            Err(_) => {
                return Err(fail(format!(
                    "expected {} or a duration like \"5s\", found {text:?}",
                    super::size::EXPECTED
                )));
            }
        },
    };
    if matches!(parsed, Behind::Bytes(0)) || parsed == Behind::Time(Duration::ZERO) {
        return Err(fail(format!("expected more than nothing, found {text:?}")));
    }
    Ok(parsed)
}

/// The replica a switchover promotes: one Patroni node, by name or picked among the replicas.
fn parse_candidate(candidate: &Spanned<String>, nodes: &Nodes, groups: &[Group]) -> Result<Target> {
    let one_replica = |target: &Target| match target {
        Target::Node(name) => nodes.kind_of(name) == Some(selector::PATRONI),
        Target::Replica(pick) => *pick != Pick::All,
        _ => false,
    };
    selector::parse(candidate.get_ref(), nodes, groups)
        .ok()
        .filter(one_replica)
        .ok_or_else(|| {
            invalid(
                candidate.span(),
                "fault.candidate",
                format!(
                    "expected one replica to promote: {}, replica, replica:random, \
                     replica:most-lagging or replica:least-lagging, found {:?}",
                    nodes.patroni_names(),
                    candidate.get_ref()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_name_is_known() {
        for name in FaultKind::NAMES {
            assert_eq!(kind_named(name).map(|kind| kind.name()), Some(*name));
        }
        assert_eq!(kind_named("crsh"), None);
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
