//! From the raw file to a `Scenario`: defaults, ranges, units, names and the rules between
//! values. Everything here is checked once so that nothing downstream re-validates.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::{ScenarioErrorKind, suggest};
use super::faults::{faults, groups};
use super::model::{
    Bound, Bounds, Cmp, Endpoint, Family, Measure, MeasureType, Objective, ReadEndpoint, Scenario,
    Source, Step, Topology, Workload,
};
use super::raw::{RawBounds, RawDuration, RawScenario, RawTopology, RawWorkload};
use super::selector::Nodes;
use super::settings::SettingsInput;
use super::size::parse_size;
use super::steps::steps;
use crate::topology::stacks::Stack;

/// A validation error and the byte offset in the file it is about.
#[derive(Debug)]
pub(super) struct Failure {
    pub offset: usize,
    pub kind: ScenarioErrorKind,
}

pub(super) type Result<T> = std::result::Result<T, Failure>;

pub(super) fn invalid(span: Range<usize>, key: &str, message: impl Into<String>) -> Failure {
    Failure {
        offset: span.start,
        kind: ScenarioErrorKind::Invalid {
            key: key.to_owned(),
            message: message.into(),
        },
    }
}

/// The longest run a scenario may ask for.
pub(super) const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// `text` is the file the raw scenario was read from, to name lines in messages that point at
/// two places.
pub(super) fn validate(raw: RawScenario, source: Source, text: &str) -> Result<Scenario> {
    let (name, description, duration) = match (raw.name, raw.description, raw.duration) {
        (Some(name), Some(description), Some(duration)) => (name, description, duration),
        (name, description, duration) => {
            let keys = [
                ("name", name.is_none()),
                ("description", description.is_none()),
                ("duration", duration.is_none()),
            ]
            .into_iter()
            .filter(|&(_, missing)| missing)
            .map(|(key, _)| key.to_owned())
            .collect();
            return Err(Failure {
                offset: 0,
                kind: ScenarioErrorKind::MissingKeys { table: None, keys },
            });
        }
    };

    let name = scenario_name(name)?;
    let run = parse_duration(&duration, "duration")?;
    if run.is_zero() || run > MAX_DURATION {
        return Err(invalid(
            duration.span(),
            "duration",
            format!(
                "expected more than 0s and at most 24h, found {}",
                show(duration.get_ref())
            ),
        ));
    }
    let image = match raw.image {
        Some(image) if image.get_ref().trim().is_empty() => {
            return Err(invalid(
                image.span(),
                "image",
                "expected an image name, found an empty string",
            ));
        }
        image => image.map(Spanned::into_inner),
    };

    let topology = topology(&raw.topology, text)?;
    let workload = workload(&raw.workload, &topology)?;
    let nodes = Nodes::new(&topology);
    let groups = groups(raw.groups, &nodes)?;
    let faults = faults(raw.fault, run, &nodes, &groups, text)?;
    let steps = steps(raw.step, run, (&topology, &nodes), &groups, text)?;
    let objectives = measurable(&objectives(raw.objectives)?, &topology, &workload, &steps)?;
    let bounds = bounds(&raw.bounds)?;

    Ok(Scenario {
        name,
        description: description.into_inner(),
        runbook: raw.runbook.map(Spanned::into_inner),
        duration: run,
        source,
        image,
        topology,
        workload,
        groups,
        faults,
        steps,
        objectives,
        bounds,
    })
}

/// The longest scenario name. A name becomes part of a run's directory name
/// (`<start>Z-<name>-incomplete-<run id>` at most, 21 + 11 + 11 bytes beside it) and of its
/// Docker labels; 64 keeps such a directory name far below the 255 bytes file systems allow.
pub const MAX_NAME_LEN: usize = 64;

/// Names end up in directory names: lower-case letters, digits and dashes only, and at most
/// [`MAX_NAME_LEN`] of them.
fn scenario_name(name: Spanned<String>) -> Result<String> {
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let value = name.get_ref();
    if value.len() > MAX_NAME_LEN {
        return Err(invalid(
            name.span(),
            "name",
            format!(
                "expected at most {MAX_NAME_LEN} characters (it is used in directory names), \
                 found {}",
                value.chars().count()
            ),
        ));
    }
    if value.is_empty() || !value.chars().all(valid) {
        return Err(invalid(
            name.span(),
            "name",
            format!(
                "expected lower-case letters, digits and '-' only (it is used in directory \
                 names), found {value:?}"
            ),
        ));
    }
    Ok(name.into_inner())
}

/// The stack the scenario names, one of the registered stacks.
fn stack(raw: Option<&Spanned<String>>) -> Result<&'static dyn Stack> {
    let name = raw.map_or(Topology::DEFAULT_STACK, |raw| raw.get_ref().as_str());
    if let Some(stack) = crate::topology::stacks::named(name) {
        return Ok(stack);
    }
    let known = crate::topology::stacks::names();
    let message = match suggest(name, known.iter().copied()) {
        Some(close) => format!("unknown stack {name:?}, did you mean {close:?}?"),
        None => format!(
            "unknown stack {name:?}, expected one of: {}",
            known.join(", ")
        ),
    };
    Err(invalid(
        raw.map_or(0..0, Spanned::span),
        "topology.stack",
        message,
    ))
}

/// The stack and each of its kinds' settings, read and checked by the kind itself. A kind the
/// stack does not run takes no settings.
fn topology(raw: &RawTopology, text: &str) -> Result<Topology> {
    let stack = stack(raw.stack.as_ref())?;
    if let Some(stray) = raw
        .kinds
        .iter()
        .find(|key| !stack.kinds().iter().any(|k| k.name() == key.get_ref()))
    {
        return Err(invalid(
            stray.span(),
            &format!("topology.{}", stray.get_ref()),
            format!(
                "the {} stack runs no {} nodes (it runs {})",
                stack.name(),
                stray.get_ref(),
                stack
                    .kinds()
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut kinds = Vec::new();
    for kind in crate::topology::KINDS {
        if !stack.kinds().contains(kind) {
            continue;
        }
        let input = SettingsInput {
            text,
            kind: kind.name(),
            client_endpoint: stack.client_endpoint(),
        };
        if let Some(settings) = kind.kind().settings(&input).map_err(Failure::from)? {
            kinds.push(settings);
        }
    }
    let topology = Topology {
        stack: stack.name().to_owned(),
        kinds,
    };
    // A cache in front of the application servers needs them.
    use crate::topology::kinds::{app, varnish};
    if varnish::settings(&topology).is_some() && app::settings(&topology).is_none() {
        let key = raw.kinds.iter().find(|k| k.get_ref() == varnish::NAME);
        return Err(invalid(
            key.map_or(0..0, Spanned::span),
            "topology.varnish",
            "expected [topology.app] beside it: Varnish caches the application servers' answers",
        ));
    }
    Ok(topology)
}

/// `[bounds]`: each step's longest wait, its default when absent.
fn bounds(raw: &RawBounds) -> Result<Bounds> {
    Ok(Bounds {
        bring_up: step_bound(
            raw.bring_up.as_ref(),
            "bounds.bring_up",
            Bounds::DEFAULT_BRING_UP,
        )?,
        fault: step_bound(raw.fault.as_ref(), "bounds.fault", Bounds::DEFAULT_FAULT)?,
        recovery: step_bound(
            raw.recovery.as_ref(),
            "bounds.recovery",
            Bounds::DEFAULT_RECOVERY,
        )?,
        read_back: step_bound(
            raw.read_back.as_ref(),
            "bounds.read_back",
            Bounds::DEFAULT_READ_BACK,
        )?,
    })
}

/// A bound on one step: more than zero, and at most as long as the longest run (a deadline
/// that far away is no bound, and one past what the clock can hold would overflow it).
fn step_bound(
    value: Option<&Spanned<RawDuration>>,
    key: &str,
    default: Duration,
) -> Result<Duration> {
    let Some(value) = value else {
        return Ok(default);
    };
    let duration = parse_duration(value, key)?;
    if duration.is_zero() || duration > MAX_DURATION {
        return Err(invalid(
            value.span(),
            key,
            format!(
                "expected more than 0s and at most 24h, found {}",
                show(value.get_ref())
            ),
        ));
    }
    Ok(duration)
}

/// Whether the topology's clients reach the database at a virtual IP (the pair stack), not
/// through a proxy.
fn at_virtual_ip(topology: &Topology) -> bool {
    crate::topology::stacks::named(&topology.stack).is_some_and(|s| {
        matches!(
            s.client_endpoint(),
            crate::topology::stacks::ClientEndpoint::VirtualIp { .. }
        )
    })
}

fn workload(raw: &RawWorkload, topology: &Topology) -> Result<Workload> {
    // Through the application tier when the topology has one.
    let tier = crate::topology::kinds::app::settings(topology).is_some();
    let through = match raw.through.as_ref() {
        None if tier => Endpoint::App,
        None => Endpoint::Haproxy,
        Some(through) => match through.get_ref().as_str() {
            "haproxy" if at_virtual_ip(topology) => {
                let expected = match tier {
                    true => "\"app\" or no workload.through",
                    false => "no workload.through",
                };
                return Err(invalid(
                    through.span(),
                    "workload.through",
                    format!(
                        "expected {expected} in the {} stack, found \"haproxy\": no proxy \
                         fronts its database, clients connect to the virtual IP",
                        topology.stack
                    ),
                ));
            }
            "haproxy" => Endpoint::Haproxy,
            "app" if tier => Endpoint::App,
            "app" => {
                let expected = match at_virtual_ip(topology) {
                    true => "no workload.through",
                    false => "\"haproxy\"",
                };
                return Err(invalid(
                    through.span(),
                    "workload.through",
                    format!(
                        "expected {expected}, found \"app\": the topology has no application \
                         servers ([topology.app])"
                    ),
                ));
            }
            other => {
                return Err(invalid(
                    through.span(),
                    "workload.through",
                    format!("unknown endpoint {other:?}, expected one of: haproxy, app"),
                ));
            }
        },
    };
    let (readers, read_through, read_rate) = readers(raw, topology)?;
    Ok(Workload {
        writers: int_in(raw.writers.as_ref(), "workload.writers", 4, 1, 256)? as usize,
        rate: int_in(raw.rate.as_ref(), "workload.rate", 100, 1, 1000)? as u32,
        through,
        connect_timeout: timeout(raw.connect_timeout.as_ref(), "workload.connect_timeout")?,
        write_timeout: timeout(raw.write_timeout.as_ref(), "workload.write_timeout")?,
        readers,
        read_through,
        read_rate,
    })
}

/// The readers: how many connections, through which endpoint, at what rate. `read_through` and
/// `read_rate` only with `readers` above 0; reads through replicas only where HAProxy knows
/// roles and there is more than one node.
fn readers(raw: &RawWorkload, topology: &Topology) -> Result<(usize, ReadEndpoint, u32)> {
    let readers = int_in(raw.readers.as_ref(), "workload.readers", 0, 0, 256)? as usize;
    let read_through = match raw.read_through.as_ref() {
        None => ReadEndpoint::default(),
        Some(through) => {
            let name = through.get_ref().as_str();
            let Some(&endpoint) = ReadEndpoint::ALL.iter().find(|e| e.name() == name) else {
                return Err(invalid(
                    through.span(),
                    "workload.read_through",
                    format!("unknown endpoint {name:?}, expected one of: replica, primary, cache"),
                ));
            };
            if endpoint == ReadEndpoint::Cache
                && crate::topology::kinds::varnish::settings(topology).is_none()
            {
                return Err(invalid(
                    through.span(),
                    "workload.read_through",
                    "expected \"replica\" or \"primary\", found \"cache\": the topology has no \
                     cache ([topology.varnish])",
                ));
            }
            endpoint
        }
    };
    if readers == 0 {
        let stray = [
            (
                "workload.read_through",
                raw.read_through.as_ref().map(Spanned::span),
            ),
            (
                "workload.read_rate",
                raw.read_rate.as_ref().map(Spanned::span),
            ),
        ];
        if let Some((key, Some(span))) = stray.into_iter().find(|(_, span)| span.is_some()) {
            return Err(invalid(
                span,
                key,
                "expected readers = 1 or more beside it: it applies to readers only (readers is 0 \
                 by default)",
            ));
        }
        return Ok((0, read_through, 0));
    }
    let read_rate = int_in(raw.read_rate.as_ref(), "workload.read_rate", 20, 1, 1000)? as u32;
    let why = crate::topology::stacks::named(&topology.stack)
        .and_then(|stack| stack.no_replica_reads(topology));
    if let Some(why) = why.filter(|_| read_through == ReadEndpoint::Replica) {
        return Err(match (raw.read_through.as_ref(), raw.readers.as_ref()) {
            (Some(given), _) => invalid(
                given.span(),
                "workload.read_through",
                format!("expected \"primary\", found \"replica\" {why}"),
            ),
            // readers > 0 was given (it defaults to 0), read_through left to its default
            (None, readers) => invalid(
                readers.map_or(0..0, Spanned::span),
                "workload.readers",
                format!(
                    "expected read_through = \"primary\" beside readers (it defaults to \
                     \"replica\") {why}"
                ),
            ),
        });
    }
    Ok((readers, read_through, read_rate))
}

/// A client timeout: more than zero, 1s by default.
fn timeout(value: Option<&Spanned<RawDuration>>, key: &str) -> Result<Duration> {
    let Some(value) = value else {
        return Ok(Duration::from_secs(1));
    };
    let duration = parse_duration(value, key)?;
    positive(value, key, duration)?;
    Ok(duration)
}

/// Objectives in file order (the toml crate hands table keys over sorted; their positions give
/// the order back).
fn objectives(
    raw: std::collections::BTreeMap<Spanned<String>, Spanned<toml::Value>>,
) -> Result<Vec<(Spanned<String>, Objective)>> {
    let mut entries: Vec<_> = raw.into_iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
        .into_iter()
        .map(|(key, value)| {
            let Some(measure) = Measure::from_name(key.get_ref()) else {
                let suggestion = suggest(key.get_ref(), Measure::ALL.iter().map(|m| m.name()));
                return Err(Failure {
                    offset: key.span().start,
                    kind: ScenarioErrorKind::UnknownMeasure {
                        name: key.get_ref().clone(),
                        suggestion: suggestion.map(str::to_owned),
                    },
                });
            };
            let bound = bound(measure, &value)?;
            Ok((key, Objective { measure, bound }))
        })
        .collect()
}

/// Refuses an objective on a measurement the scenario never gives (at its key), so that no
/// verdict is ever asked of one that cannot be measured. The objectives, without their keys.
fn measurable(
    objectives: &[(Spanned<String>, Objective)],
    topology: &Topology,
    workload: &Workload,
    steps: &[Step],
) -> Result<Vec<Objective>> {
    let stack = crate::topology::stacks::named(&topology.stack);
    let lacks = |family| stack.and_then(|s| s.lacks(family, topology));
    never_measured(objectives, workload, steps, &lacks)
}

/// `lacks`: what the stack says it lacks for a family (see `Stack::lacks`). The readers and the
/// restore step are the scenario's own, whatever the stack.
fn never_measured(
    objectives: &[(Spanned<String>, Objective)],
    workload: &Workload,
    steps: &[Step],
    lacks: &dyn Fn(Family) -> Option<String>,
) -> Result<Vec<Objective>> {
    let restores = steps
        .iter()
        .any(|s| s.action.name() == <crate::step::RestoreCluster as crate::step::Action>::NAME);
    objectives
        .iter()
        .map(|(key, objective)| {
            let why = match objective.measure.family() {
                Family::Reads if workload.readers == 0 => {
                    Some("the workload has no readers (workload.readers is 0)".to_owned())
                }
                Family::Reads if workload.read_through == ReadEndpoint::Cache => Some(
                    "its readers read through the cache (workload.read_through = \"cache\"), \
                     which is stale within its ttl by design"
                        .to_owned(),
                ),
                Family::Restore if !restores => Some(
                    "the scenario has no restore step (a [[step]] with action = \"restore\")"
                        .to_owned(),
                ),
                family => lacks(family),
            };
            match why {
                Some(why) => Err(Failure {
                    offset: key.span().start,
                    kind: ScenarioErrorKind::NeverMeasured {
                        measure: objective.measure.name().to_owned(),
                        why,
                    },
                }),
                None => Ok(objective.clone()),
            }
        })
        .collect()
}

fn bound(measure: Measure, value: &Spanned<toml::Value>) -> Result<Bound> {
    let key = format!("objectives.{}", measure.name());
    let fail = |expected: &str, detail: Option<String>| {
        let mut message = format!("expected {expected}, found {}", describe(value.get_ref()));
        if let Some(detail) = detail {
            message.push_str(&format!(" ({detail})"));
        }
        invalid(value.span(), &key, message)
    };
    match (measure.value_type(), value.get_ref()) {
        (MeasureType::Duration, toml::Value::String(text)) => {
            let expected = "a bound like \"<= 30s\"";
            let (cmp, operand) = split_bound(text).ok_or_else(|| fail(expected, None))?;
            let duration = humantime::parse_duration(operand)
                .map_err(|err| fail(expected, Some(err.to_string())))?;
            Ok(Bound::Duration {
                cmp,
                value: duration,
            })
        }
        (MeasureType::Duration, _) => Err(fail("a bound like \"<= 30s\"", None)),
        (MeasureType::Count, toml::Value::Integer(count)) => match u64::try_from(*count) {
            Ok(count) => Ok(Bound::Count {
                cmp: Cmp::Eq,
                value: count,
            }),
            Err(_) => Err(fail("a count of zero or more", None)),
        },
        (MeasureType::Count, toml::Value::String(text)) => {
            let expected = "a bound like \"== 0\"";
            let (cmp, operand) = split_bound(text).ok_or_else(|| fail(expected, None))?;
            let count = operand
                .parse::<u64>()
                .map_err(|_| fail(expected, Some(format!("{operand:?} is not a count"))))?;
            Ok(Bound::Count { cmp, value: count })
        }
        (MeasureType::Count, _) => Err(fail("a bound like \"== 0\" or an integer", None)),
        (MeasureType::Bytes, toml::Value::Integer(bytes)) => match u64::try_from(*bytes) {
            Ok(bytes) => Ok(Bound::Count {
                cmp: Cmp::Eq,
                value: bytes,
            }),
            Err(_) => Err(fail("a number of bytes of zero or more", None)),
        },
        (MeasureType::Bytes, toml::Value::String(text)) => {
            let (cmp, operand) =
                split_bound(text).ok_or_else(|| fail(EXPECTED_BYTES_BOUND, None))?;
            let bytes = parse_size(operand).ok_or_else(|| {
                fail(
                    EXPECTED_BYTES_BOUND,
                    Some(format!("{operand:?} is not a size")),
                )
            })?;
            Ok(Bound::Count { cmp, value: bytes })
        }
        (MeasureType::Bytes, _) => Err(fail(EXPECTED_BYTES_BOUND, None)),
        (MeasureType::Bool, toml::Value::Boolean(expected)) => Ok(Bound::Bool { value: *expected }),
        (MeasureType::Bool, _) => Err(fail("true or false", None)),
    }
}

/// What a bound on a byte size looks like. The units are PostgreSQL's (1024-based), as for
/// every size in scenario files.
const EXPECTED_BYTES_BOUND: &str = "a bound like \"<= 1MB\" or \"== 0\" (a whole number of B, kB, \
                                    MB, GB or TB; 1 kB = 1024 B, 1 MB = 1024 kB, as in PostgreSQL)";

/// "<= 30s" → (Le, "30s"). `None` without an operator or without an operand.
fn split_bound(text: &str) -> Option<(Cmp, &str)> {
    const OPERATORS: [(&str, Cmp); 5] = [
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("==", Cmp::Eq),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
    ];
    let text = text.trim();
    let (cmp, operand) = OPERATORS
        .iter()
        .find_map(|&(symbol, cmp)| Some((cmp, text.strip_prefix(symbol)?)))?;
    let operand = operand.trim();
    (!operand.is_empty()).then_some((cmp, operand))
}

/// A TOML value as a message names it: `string "x"`, `integer 3`...
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(i) => format!("integer {i}"),
        toml::Value::Float(f) => format!("float {f}"),
        toml::Value::Boolean(b) => format!("boolean {b}"),
        toml::Value::Datetime(d) => format!("datetime {d}"),
        toml::Value::Array(_) => "an array".to_owned(),
        toml::Value::Table(_) => "a table".to_owned(),
    }
}

/// A duration as the file wrote it, quoted.
pub(super) fn show(value: &RawDuration) -> String {
    format!("{:?}", value.0)
}

/// The keys of `table` (`[[fault]]`) among `keys` (name, missing) that are missing, as one
/// error at the table's header.
pub(super) fn missing_keys(table: &str, header: usize, keys: &[(&str, bool)]) -> Failure {
    Failure {
        offset: header,
        kind: ScenarioErrorKind::MissingKeys {
            table: Some(table.to_owned()),
            keys: keys
                .iter()
                .filter(|&&(_, missing)| missing)
                .map(|(key, _)| (*key).to_owned())
                .collect(),
        },
    }
}

/// An instant `at` (the value of `key`) within a run of `run`.
pub(super) fn instant_in_run(
    at: &Spanned<RawDuration>,
    key: &str,
    run: Duration,
) -> Result<Duration> {
    let start = parse_duration(at, key)?;
    if start >= run {
        return Err(invalid(
            at.span(),
            key,
            format!(
                "expected an instant before the end of the run ({}), found {}",
                humantime::format_duration(run),
                show(at.get_ref())
            ),
        ));
    }
    Ok(start)
}

pub(super) fn parse_duration(value: &Spanned<RawDuration>, key: &str) -> Result<Duration> {
    humantime::parse_duration(&value.get_ref().0).map_err(|err| {
        invalid(
            value.span(),
            key,
            format!(
                "expected a duration like \"10s\", found {} ({err})",
                show(value.get_ref())
            ),
        )
    })
}

pub(super) fn positive(value: &Spanned<RawDuration>, key: &str, duration: Duration) -> Result<()> {
    if duration.is_zero() {
        return Err(invalid(
            value.span(),
            key,
            format!("expected more than 0s, found {}", show(value.get_ref())),
        ));
    }
    Ok(())
}

pub(super) fn at_least(
    value: &Spanned<RawDuration>,
    key: &str,
    duration: Duration,
    min: Duration,
) -> Result<()> {
    if duration < min {
        return Err(invalid(
            value.span(),
            key,
            format!(
                "expected at least {}, found {}",
                humantime::format_duration(min),
                show(value.get_ref())
            ),
        ));
    }
    Ok(())
}

/// An integer in `min..=max`, `default` when absent. The result always fits the caller's type
/// because the bounds do.
pub(super) fn int_in(
    value: Option<&Spanned<i64>>,
    key: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64> {
    let Some(value) = value else {
        return Ok(default);
    };
    let n = *value.get_ref();
    if n < min || n > max {
        let range = if max == i64::MAX {
            format!("an integer of at least {min}")
        } else {
            format!("an integer from {min} to {max}")
        };
        return Err(invalid(
            value.span(),
            key,
            format!("expected {range}, found {n}"),
        ));
    }
    Ok(n)
}

/// `int_in` for `(key, default, min, max)`, saying `why` when the value is below the minimum.
pub(super) fn int_at_least(
    value: Option<&Spanned<i64>>,
    (key, default, min, max): (&str, i64, i64, i64),
    why: &str,
) -> Result<i64> {
    int_in(value, key, default, min, max).map_err(|mut failure| {
        if let (Some(value), ScenarioErrorKind::Invalid { message, .. }) =
            (value, &mut failure.kind)
            && *value.get_ref() < min
        {
            message.push_str(&format!(": {why}"));
        }
        failure
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_bounds() {
        assert_eq!(split_bound("<= 30s"), Some((Cmp::Le, "30s")));
        assert_eq!(split_bound("  <30s "), Some((Cmp::Lt, "30s")));
        assert_eq!(split_bound(">= 1"), Some((Cmp::Ge, "1")));
        assert_eq!(split_bound("> 1"), Some((Cmp::Gt, "1")));
        assert_eq!(split_bound("== 0"), Some((Cmp::Eq, "0")));
        assert_eq!(split_bound("about 30s"), None);
        assert_eq!(split_bound("<="), None);
        assert_eq!(split_bound("= 3"), None);
    }

    fn spanned<T>(value: T) -> Spanned<T> {
        Spanned::new(0..1, value)
    }

    fn bound_of(measure: Measure, value: toml::Value) -> std::result::Result<Bound, String> {
        bound(measure, &spanned(value)).map_err(|failure| failure.kind.to_string())
    }

    #[test]
    fn bounds_by_measure_type() {
        use toml::Value;
        assert_eq!(
            bound_of(Measure::Rto, Value::String("< 1m 30s".into())),
            Ok(Bound::Duration {
                cmp: Cmp::Lt,
                value: Duration::from_secs(90)
            })
        );
        assert_eq!(
            bound_of(Measure::LostWrites, Value::Integer(0)),
            Ok(Bound::Count {
                cmp: Cmp::Eq,
                value: 0
            })
        );
        assert_eq!(
            bound_of(Measure::LostWrites, Value::String(">= 2".into())),
            Ok(Bound::Count {
                cmp: Cmp::Ge,
                value: 2
            })
        );
        assert_eq!(
            bound_of(Measure::SplitBrain, Value::Boolean(false)),
            Ok(Bound::Bool { value: false })
        );
        assert_eq!(
            bound_of(Measure::LostWrites, Value::Integer(-1)),
            Err(
                "objectives.lost_writes: expected a count of zero or more, found integer -1".into()
            )
        );
        assert_eq!(
            bound_of(Measure::SplitBrain, Value::String("false".into())),
            Err("objectives.split_brain: expected true or false, found string \"false\"".into())
        );
        assert_eq!(
            bound_of(Measure::DetectionTime, Value::Integer(5)),
            Err(
                "objectives.detection_time: expected a bound like \"<= 30s\", found integer 5"
                    .into()
            )
        );
    }

    #[test]
    fn byte_bounds_take_postgresql_sizes() {
        use toml::Value;
        let bytes = |text: &str| bound_of(Measure::LagAtFailover, Value::String(text.into()));
        let le = |value| {
            Ok(Bound::Count {
                cmp: Cmp::Le,
                value,
            })
        };
        assert_eq!(bytes("<= 1MB"), le(1 << 20));
        assert_eq!(bytes("<= 64KB"), le(64 << 10));
        assert_eq!(bytes("<= 64kB"), le(64 << 10));
        assert_eq!(bytes("<=2 GB"), le(2 << 30));
        assert_eq!(bytes("<= 512B"), le(512));
        assert_eq!(bytes("<= 4096"), le(4096));
        assert_eq!(
            bytes("== 0"),
            Ok(Bound::Count {
                cmp: Cmp::Eq,
                value: 0
            })
        );
        assert_eq!(
            bound_of(Measure::LagAtFailover, Value::Integer(0)),
            Ok(Bound::Count {
                cmp: Cmp::Eq,
                value: 0
            })
        );
        let expected = "objectives.lag_at_failover: expected a bound like \"<= 1MB\" or \"== 0\" \
                        (a whole number of B, kB, MB, GB or TB; 1 kB = 1024 B, 1 MB = 1024 kB, as \
                        in PostgreSQL)";
        assert_eq!(
            bytes("<= 1.5MB"),
            Err(format!(
                "{expected}, found string \"<= 1.5MB\" (\"1.5MB\" is not a size)"
            ))
        );
        assert_eq!(
            bytes("1MB"),
            Err(format!("{expected}, found string \"1MB\""))
        );
        assert_eq!(
            bound_of(Measure::LagAtFailover, Value::Integer(-1)),
            Err(
                "objectives.lag_at_failover: expected a number of bytes of zero or more, found \
                 integer -1"
                    .into()
            )
        );
        assert_eq!(
            bound_of(Measure::LagAtFailover, Value::Boolean(false)),
            Err(format!("{expected}, found boolean false"))
        );
    }

    #[test]
    fn new_measures_take_their_bounds() {
        use toml::Value;
        assert_eq!(
            bound_of(Measure::LeaderChanges, Value::String("== 0".into())),
            Ok(Bound::Count {
                cmp: Cmp::Eq,
                value: 0
            })
        );
        assert_eq!(
            bound_of(Measure::TimeToFullRedundancy, Value::String("<= 1m".into())),
            Ok(Bound::Duration {
                cmp: Cmp::Le,
                value: Duration::from_secs(60)
            })
        );
        assert_eq!(
            bound_of(
                Measure::TimeToFullRedundancy,
                Value::String("<= 1MB".into())
            )
            .map_err(|e| e.starts_with("objectives.time_to_full_redundancy: expected a bound")),
            Err(true)
        );
    }

    #[test]
    fn pool_measures_take_counts_and_durations() {
        use toml::Value;
        for (measure, text, bound) in [
            (
                Measure::StaleServerConnections,
                "== 0",
                Bound::Count {
                    cmp: Cmp::Eq,
                    value: 0,
                },
            ),
            (
                Measure::PoolPeakUse,
                "< 19",
                Bound::Count {
                    cmp: Cmp::Lt,
                    value: 19,
                },
            ),
            (
                Measure::ClientsWaiting,
                "<= 4",
                Bound::Count {
                    cmp: Cmp::Le,
                    value: 4,
                },
            ),
            (
                Measure::PoolSaturatedTime,
                "<= 5s",
                Bound::Duration {
                    cmp: Cmp::Le,
                    value: Duration::from_secs(5),
                },
            ),
            (
                Measure::ClientMaxWait,
                "< 2s",
                Bound::Duration {
                    cmp: Cmp::Lt,
                    value: Duration::from_secs(2),
                },
            ),
        ] {
            assert_eq!(bound_of(measure, Value::String(text.into())), Ok(bound));
        }
        assert!(
            bound_of(Measure::ClientMaxWait, Value::Integer(2))
                .is_err_and(|e| e.starts_with("objectives.client_max_wait: expected a bound"))
        );
    }

    /// The full message for scenario `text`, which must not load.
    fn error(text: &str) -> String {
        crate::scenario::parse(std::path::Path::new("scenarios/bad.toml"), text)
            .unwrap_err()
            .to_string()
    }

    const OBJECTIVES: &str = "name = \"bad\"\ndescription = \"a broken scenario\"\n\
                              duration = \"60s\"\n[objectives]\n";

    #[test]
    fn bad_byte_bounds_are_located() {
        for (name, bound) in [
            ("fractional_byte_bound", "\"<= 1.5MB\""),
            ("unknown_byte_unit", "\"<= 1MiB\""),
            ("byte_bound_without_operator", "\"1MB\""),
        ] {
            let text = format!("{OBJECTIVES}rto = \"<= 30s\"\nlag_at_failover = {bound}\n");
            insta::with_settings!({ description => text.as_str(), omit_expression => true }, {
                insta::assert_snapshot!(name, error(&text));
            });
        }
    }

    const MINIMAL: &str = "name = \"bad\"\ndescription = \"a broken scenario\"\n\
                           duration = \"60s\"\n";

    #[test]
    fn an_objective_on_reads_without_readers_is_refused_at_its_key() {
        let text = format!("{OBJECTIVES}rto = \"<= 30s\"\nstale_reads = \"<= 5\"\n");
        insta::with_settings!({ description => text.as_str(), omit_expression => true }, {
            insta::assert_snapshot!("objective_on_reads_without_readers", error(&text));
        });
        // with readers, it is measured
        let with_readers = format!(
            "{MINIMAL}[workload]\nreaders = 2\nread_through = \"primary\"\n\
             [objectives]\nstale_reads = \"<= 5\"\n"
        );
        assert_eq!(scenario(&with_readers).objectives.len(), 1);
    }

    #[test]
    fn an_objective_on_the_restore_without_a_restore_step_is_refused_at_its_key() {
        let text = format!("{OBJECTIVES}rto = \"<= 30s\"\nrestore_time = \"<= 5m\"\n");
        insta::with_settings!({ description => text.as_str(), omit_expression => true }, {
            insta::assert_snapshot!("objective_on_the_restore_without_a_restore_step", error(&text));
        });
        // a target alone restores nothing
        let steps = "[topology.pgbackrest]\n[[step]]\nat = \"10s\"\naction = \"target\"\n";
        let objectives = "[objectives]\nrestore_completed = true\nrestore_time = \"<= 5m\"\n\
                          lost_before_target = \"== 0\"\npresent_after_target = \"== 0\"\n\
                          restore_rpo = \"<= 1s\"\nrestore_redundancy_time = \"<= 2m\"\n";
        let target_only = format!("{MINIMAL}{steps}{objectives}");
        assert!(
            error(&target_only)
                .contains("objective `restore_completed`: the scenario has no restore step"),
            "{}",
            error(&target_only)
        );
        // with a restore step, every restore measure is measured
        let restored =
            format!("{MINIMAL}{steps}[[step]]\nat = \"20s\"\naction = \"restore\"\n{objectives}");
        let names: Vec<&str> = scenario(&restored)
            .objectives
            .iter()
            .map(|o| o.measure.name())
            .collect();
        assert_eq!(
            names,
            [
                "restore_completed",
                "restore_time",
                "lost_before_target",
                "present_after_target",
                "restore_rpo",
                "restore_redundancy_time"
            ]
        );
    }

    /// What `validate` says of an objective on a family a stack lacks, the stack's reason in
    /// its words, at the objective's key.
    #[test]
    fn an_objective_on_a_family_the_stack_lacks_is_refused_at_its_key() {
        let text = format!(
            "{OBJECTIVES}rto = \"<= 30s\"\nleader_election_time = \"<= 10s\"\n\
             proxy_switch_time = \"<= 10s\"\n"
        );
        let raw: RawScenario = toml::from_str(&text).unwrap();
        let parsed = objectives(raw.objectives).unwrap();
        let workload = scenario(MINIMAL).workload;
        // A primary and a standby behind a virtual IP, promoted by a script: no role source.
        let no_roles = |family: Family| {
            family
                .needs_role_source()
                .then(|| "the vip stack has no role source".to_owned())
        };
        let failure = never_measured(&parsed, &workload, &[], &no_roles).unwrap_err();
        let path = std::path::Path::new("scenarios/bad.toml");
        let message =
            super::super::error::ScenarioError::at(path, &text, failure.offset, failure.kind);
        insta::with_settings!({ description => text.as_str(), omit_expression => true }, {
            insta::assert_snapshot!("objective_on_a_family_the_stack_lacks", message);
        });
        // a stack that lacks nothing keeps every objective, in file order
        let kept = never_measured(&parsed, &workload, &[], &|_| None).unwrap();
        let names: Vec<_> = kept.iter().map(|o| o.measure.name()).collect();
        assert_eq!(names, ["rto", "leader_election_time", "proxy_switch_time"]);
    }

    #[test]
    fn the_patroni_stack_gives_every_family_but_the_pool_s_without_poolers() {
        let stack = crate::topology::stacks::named("patroni").unwrap();
        let plain = scenario(MINIMAL).topology;
        let pooled = scenario(&format!("{MINIMAL}[topology.pgbouncer]\n")).topology;
        for measure in Measure::ALL {
            let family = measure.family();
            assert_eq!(stack.lacks(family, &pooled), None, "{measure:?}");
            let pool = matches!(family, Family::Pool | Family::PoolRole);
            assert_eq!(stack.lacks(family, &plain).is_some(), pool, "{measure:?}");
        }
    }

    fn scenario(text: &str) -> Scenario {
        match crate::scenario::parse(std::path::Path::new("scenarios/ok.toml"), text) {
            Ok(scenario) => scenario,
            Err(err) => panic!("{err}\n{text}"),
        }
    }

    #[test]
    fn bounds_default_and_take_durations() {
        let defaults = scenario(MINIMAL).bounds;
        assert_eq!(defaults, Bounds::default());
        assert_eq!(
            (
                defaults.bring_up,
                defaults.fault,
                defaults.recovery,
                defaults.read_back
            ),
            (
                Duration::from_secs(120),
                Duration::from_secs(60),
                Duration::from_secs(60),
                Duration::from_secs(60)
            )
        );
        let given = scenario(&format!(
            "{MINIMAL}[bounds]\nbring_up = \"3m\"\nfault = \"1m 30s\"\nrecovery = \"45s\"\n\
             read_back = \"500ms\"\n"
        ))
        .bounds;
        assert_eq!(
            given,
            Bounds {
                bring_up: Duration::from_secs(180),
                fault: Duration::from_secs(90),
                recovery: Duration::from_secs(45),
                read_back: Duration::from_millis(500),
            }
        );
        // each key on its own; the others keep their defaults
        let one = scenario(&format!("{MINIMAL}[bounds]\nrecovery = \"2m\"\n")).bounds;
        assert_eq!(
            one,
            Bounds {
                recovery: Duration::from_secs(120),
                ..Bounds::default()
            }
        );
        let longest = scenario(&format!("{MINIMAL}[bounds]\nfault = \"24h\"\n")).bounds;
        assert_eq!(longest.fault, MAX_DURATION);
    }

    #[test]
    fn bad_bounds_are_located() {
        for (name, keys) in [
            ("zero_bring_up_bound", "bring_up = \"0s\"\n"),
            (
                "zero_read_back_bound",
                "fault = \"30s\"\nread_back = \"0ms\"\n",
            ),
            ("garbage_fault_bound", "fault = \"soon\"\n"),
            ("recovery_bound_without_unit", "recovery = \"60\"\n"),
            ("recovery_bound_as_integer", "recovery = 60\n"),
            ("bound_past_a_day", "bring_up = \"2days\"\n"),
            ("unknown_key_in_bounds", "bringup = \"2m\"\n"),
            ("unknown_key_in_bounds_far_from_any", "startup = \"2m\"\n"),
        ] {
            let text = format!("{MINIMAL}[bounds]\n{keys}");
            insta::with_settings!({ description => text.as_str(), omit_expression => true }, {
                insta::assert_snapshot!(name, error(&text));
            });
        }
    }

    #[test]
    fn a_fixed_proxy_port_is_a_tcp_port() {
        let haproxy = |keys: &str| {
            let topology = scenario(&format!("{MINIMAL}[topology.haproxy]\n{keys}")).topology;
            crate::topology::kinds::haproxy::settings(&topology)
                .unwrap()
                .clone()
        };
        assert_eq!(haproxy("").port, None);
        assert_eq!(haproxy("port = 15432\n").port, Some(15432));
        assert_eq!(haproxy("port = 1\n").port, Some(1));
        assert_eq!(haproxy("port = 65535\n").port, Some(65535));
        for (name, port) in [
            ("zero_proxy_port", "0"),
            ("proxy_port_past_65535", "65536"),
            ("negative_proxy_port", "-5432"),
            ("proxy_port_as_string", "\"15432\""),
        ] {
            let text = format!("{MINIMAL}[topology.haproxy]\ncheck = \"tcp\"\nport = {port}\n");
            insta::with_settings!({ description => text.as_str(), omit_expression => true }, {
                insta::assert_snapshot!(name, error(&text));
            });
        }
    }

    /// run.json files written before `[bounds]` and `[topology.haproxy] port` existed still
    /// load: with the default bounds and a port chosen per run.
    #[test]
    fn scenarios_recorded_before_bounds_still_load() {
        let with_both = scenario(&format!(
            "{MINIMAL}[topology.haproxy]\nport = 15432\n[bounds]\nfault = \"2m\"\n"
        ));
        let mut json = serde_json::to_value(&with_both).unwrap();
        assert_eq!(json["topology"]["haproxy"]["port"], 15432);
        assert_eq!(json["bounds"]["fault"], "2m");
        assert_eq!(json["bounds"]["bring_up"], "2m");
        assert_eq!(json["bounds"]["read_back"], "1m");
        let round_trip: Scenario = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(round_trip, with_both);
        json.as_object_mut().unwrap().remove("bounds").unwrap();
        json["topology"]["haproxy"]
            .as_object_mut()
            .unwrap()
            .remove("port")
            .unwrap();
        let old: Scenario = serde_json::from_value(json).unwrap();
        assert_eq!(old.bounds, Bounds::default());
        let haproxy = crate::topology::kinds::haproxy::settings(&old.topology).unwrap();
        assert_eq!(haproxy.port, None);
        // without a fixed port, none is written
        let json = serde_json::to_value(scenario(MINIMAL)).unwrap();
        assert!(json["topology"]["haproxy"].get("port").is_none(), "{json}");
        // a run recorded before both (format 1, kept as written)
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-1/patroni-switchover.run.json");
        let text = std::fs::read_to_string(file).unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(record["scenario"].get("bounds").is_none());
        let old: Scenario = serde_json::from_value(record["scenario"].clone()).unwrap();
        assert_eq!(old.bounds, Bounds::default());
    }

    proptest::proptest! {
        #[test]
        fn byte_bounds_parse_back(bytes in proptest::prelude::any::<u32>(), cmp in 0usize..5) {
            let cmp = [Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ge, Cmp::Gt][cmp];
            let text = format!("{} {}", cmp.symbol(), super::super::size::format_size(bytes.into()));
            proptest::prop_assert_eq!(
                bound_of(Measure::LagAtFailover, toml::Value::String(text)),
                Ok(Bound::Count { cmp, value: bytes.into() })
            );
        }
    }
}
