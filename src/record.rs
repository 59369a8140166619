//! The record of one run: everything reports are made from, and what its run directory's
//! `run.json.gz` holds (`run.json` before format 6; see [`crate::store`]).

use crate::check::{Judgement, Measurements, Verdict};
use crate::history::History;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Version of the record's layout; bumped on any incompatible change. Every older format
/// still loads (missing fields take their documented defaults) and `analyze` judges it again.
/// What each format changed is [`FORMAT_CHANGES`].
pub const RECORD_FORMAT: u32 = 10;

/// What each format changed, by the format that introduced it: `analyze` names the changes
/// between a record's format and this one in the run history's re-analysis note.
pub const FORMAT_CHANGES: &[(u32, &str)] = &[
    (
        2,
        "writes may be not_sent, faults scheduled together are measured as one incident, proxy \
         switch means routing to the new leader (old_leader_out_time apart), lag is read from \
         the leader's pg_stat_replication, a run without objectives is not judged",
    ),
    (
        3,
        "role answers are one event, role (source, view, asked, node, role, epoch, position): \
         patroni's probe and etcd's leader_key load as role samples and are kept as recorded; \
         role measurements are not applicable without a role source",
    ),
    (
        4,
        "steps: the scenario's actions at an instant (scenario.steps, each at and action) and \
         one event per step run, step (step, action, at, started, ended, outcome, detail, \
         values)",
    ),
    (
        5,
        "game days: game_day (participants, how the session ended), fault events by_hand \
         (injected or healed by a person), note events (at, text)",
    ),
    (
        6,
        "the record is stored as run.json.gz (compact JSON, gzip; run.json before): the \
         history's writes, reads and probe samples as one table per type (history.order, \
         history.tables; instants as differences), every other event whole (history.others); \
         every event and value is kept",
    ),
    (
        7,
        "an application tier: writes through it keep the server that answered (via) and the \
         HTTP status (status); proxy samples keep HAProxy's view of the application servers \
         (tier: status, check, sessions_total, redispatched, retried, connect_errors, \
         response_errors); measurements.tier (answered, failed_statuses, redispatched, drains); \
         error kinds http_refused, http_no_server, http_unknown; reads through a cache (through \
         cache) keep how it served them (cache, age); measurements.cache; an attempt not sent while \
         a sent one invoked before it was still going when it gave up is no run problem (the \
         system was slow to answer)",
    ),
    (
        8,
        "the pair stack: role samples of view address (a node holding the virtual IP, source \
         vip: leader when it holds it, other when not); faults measure address_moved_time and \
         address_holder, and decision_time (a promote step's decided_at); split brain also \
         when two nodes hold the virtual IP at once",
    ),
    (
        9,
        "time to full redundancy is not reached when the leader has no node left to stream to \
         (every other node left down, as a pair whose old primary was fenced): faults keep the \
         nodes left down in nothing_to_stream_to",
    ),
    (
        10,
        "the redis-sentinel stack: events of type announcement (a Sentinel's own events, \
         +sdown, +odown, +elected-leader, +switch-master, +tilt..., stamped on arrival); faults \
         measure subjective_down_time, objective_down_time, arbiter_election_time and \
         clients_told_time; promotion is measured without a timeline where the role source \
         keeps none (Redis), and replica lag from the nodes' own positions where no \
         pg_stat_replication is recorded",
    ),
];

/// The changes from format `from` to format `to`, one line each ("format 3: ...").
pub fn format_changes(from: u32, to: u32) -> Vec<String> {
    FORMAT_CHANGES
        .iter()
        .filter(|(format, _)| from < *format && *format <= to)
        .map(|(format, change)| format!("format {format}: {change}"))
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: u32,
    pub run_id: String,
    /// Seed of the run's random choices: `--seed` repeats them.
    pub seed: u64,
    pub scenario: Scenario,
    pub environment: Environment,
    pub timings: Timings,
    pub history: History,
    pub measurements: Measurements,
    pub verdict: Verdict,
    /// The last lines of each node's log at the end of the drill, by node.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logs: BTreeMap<String, String>,
    /// What kept the drill from completing normally (e.g. no read-back), if anything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Set when people drove the run by hand (`firedrill up` … `down`): a game day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_day: Option<GameDay>,
}

/// A game day: a session people drove by hand, from `firedrill up` to `firedrill down`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameDay {
    /// Who took part, as `up --participant "Name:role"` named them, in that order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<Participant>,
    /// How the session ended: `down` (`firedrill down`) or `interrupt` (Ctrl-C or SIGTERM on
    /// `up`).
    pub ended_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub name: String,
    /// Their role in the game day (`incident commander`, `scribe`); empty when not given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
}

impl std::str::FromStr for Participant {
    type Err = String;

    /// `Name:role` or `Name`; the name must not be empty.
    fn from_str(text: &str) -> Result<Participant, String> {
        let (name, role) = text.split_once(':').unwrap_or((text, ""));
        let (name, role) = (name.trim(), role.trim());
        if name.is_empty() {
            return Err(format!("expected NAME or NAME:ROLE, found {text:?}"));
        }
        Ok(Participant {
            name: name.to_owned(),
            role: role.to_owned(),
        })
    }
}

/// Where and on what the run ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub firedrill: String,
    pub image: String,
    pub image_id: String,
    /// Who chose the image: firedrill's base image (`base`), the scenario's `image` key
    /// (`scenario`) or `--image` (`option`). Absent from records written before it was kept:
    /// not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_from: Option<crate::image::ImageSource>,
    /// Component → version line, read from the running containers.
    pub versions: BTreeMap<String, String>,
    /// Every package installed in the image (`name` → `version`), as a running PostgreSQL
    /// node's package database listed it; empty if it could not be read (an image without
    /// `dpkg-query`) and in records written before it was kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages: BTreeMap<String, String>,
    /// sha256 of `packages` as sorted `name=version` lines (the same digest as the base image's
    /// `io.firedrill.packages.sha256` label); `None` when `packages` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages_sha256: Option<String>,
    /// The sha256 of every configuration file rendered for the nodes, by `node:path`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config_digests: BTreeMap<String, String>,
    pub host_os: String,
    pub cores: usize,
    pub docker: String,
}

/// Wall-clock spans of the run's phases.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// First container created → cluster ready.
    #[serde(with = "humantime_serde")]
    pub bring_up: Duration,
    /// Workload start → read-back done.
    #[serde(with = "humantime_serde")]
    pub drill: Duration,
    /// The whole run, image check to teardown done.
    #[serde(with = "humantime_serde")]
    pub wall: Duration,
    /// The initial leader when the cluster became ready.
    pub initial_leader: String,
}

impl RunRecord {
    /// The scenario had objectives, every one held, and the run had no problem (a step that
    /// overran its bound, a teardown that failed): a run with a problem is not evidence that the
    /// objectives hold, and a run without objectives (not judged) showed nothing to hold.
    pub fn passed(&self) -> bool {
        self.verdict.judged() && self.verdict.passed && self.problems.is_empty()
    }

    /// Passed, failed (an objective did not hold, or the run had a problem), or not judged (the
    /// scenario has no objectives).
    pub fn judgement(&self) -> Judgement {
        if !self.verdict.judged() {
            Judgement::NotJudged
        } else if self.passed() {
            Judgement::Passed
        } else {
            Judgement::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_participant_is_a_name_and_an_optional_role() {
        let p: Participant = "Ana Lima: incident commander".parse().unwrap();
        assert_eq!(
            (p.name.as_str(), p.role.as_str()),
            ("Ana Lima", "incident commander")
        );
        let p: Participant = "Bo".parse().unwrap();
        assert_eq!((p.name.as_str(), p.role.as_str()), ("Bo", ""));
        assert_eq!(
            ":scribe".parse::<Participant>().unwrap_err(),
            "expected NAME or NAME:ROLE, found \":scribe\""
        );
    }

    #[test]
    fn every_format_change_is_named_once_in_order() {
        let formats: Vec<u32> = FORMAT_CHANGES.iter().map(|(f, _)| *f).collect();
        assert_eq!(formats, (2..=RECORD_FORMAT).collect::<Vec<_>>());
        assert_eq!(
            format_changes(RECORD_FORMAT, RECORD_FORMAT),
            Vec::<String>::new()
        );
        let from_1 = format_changes(1, 4);
        assert_eq!(from_1.len(), 3);
        assert!(from_1[0].starts_with("format 2: writes may be not_sent"));
        let from_2 = format_changes(2, 4);
        assert_eq!(from_2.len(), 2);
        assert!(from_2[0].starts_with("format 3: role answers are one event"));
        let from_3 = format_changes(3, 4);
        assert_eq!(from_3.len(), 1);
        assert!(from_3[0].starts_with("format 4: steps: the scenario's actions"));
        let from_5 = format_changes(5, 6);
        assert_eq!(from_5.len(), 1);
        assert!(from_5[0].starts_with("format 6: the record is stored as run.json.gz"));
    }
}
