//! The report model: what every renderer shows, computed once from the record.

use crate::check::{
    LatencyStats, MeasuredValue, Measurements, NO_ROLE_SOURCE, PoolMeasurements,
    RestoreMeasurements, SeqList, SeqRange, fmt_bytes,
};
use crate::history::{ErrorKind, FaultAction};
use crate::record::RunRecord;
use crate::scenario::{Bound, Measure, MeasureType, ReadEndpoint, format_size};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

/// One measurement, as shown in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasurementRow {
    pub name: String,
    pub value: String,
    /// What the number means, in one line.
    pub meaning: &'static str,
}

/// One objective and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectiveRow {
    pub objective: String,
    pub measured: String,
    pub verdict: &'static str,
}

/// One step of the scenario as it ran, as shown in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRow {
    /// Its number in the scenario, from 1.
    pub number: usize,
    pub action: String,
    /// When it was due: `t+20.000s`.
    pub due: String,
    /// When it ran: `t+20.001s → t+20.013s`.
    pub ran: String,
    pub took: String,
    /// `done`, or `failed: REASON`.
    pub outcome: String,
    pub failed: bool,
    /// The action's line, or `-`.
    pub detail: String,
    /// What it measured, `name=value` each (`-` for nothing).
    pub values: String,
}

/// The run's steps, in the order they ran.
pub fn step_rows(record: &RunRecord) -> Vec<StepRow> {
    record
        .history
        .steps()
        .map(|s| StepRow {
            number: s.step,
            action: s.action.clone(),
            due: s.at.to_string(),
            ran: format!("{} → {}", s.started, s.ended),
            took: fmt_duration(s.took()),
            outcome: match s.failure() {
                None => "done".into(),
                Some(reason) => format!("failed: {reason}"),
            },
            failed: s.failure().is_some(),
            detail: s.detail.clone().unwrap_or_else(|| "-".into()),
            values: if s.values.is_empty() {
                "-".into()
            } else {
                s.values
                    .iter()
                    .map(|(name, value)| format!("{name}={}", value_text(name, value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
        .collect()
}

/// A step's value in words: text as it is, a value named `*_at` (by convention an instant of
/// the run, nanoseconds since its start) as an instant, anything else as JSON.
fn value_text(name: &str, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(n) if name.ends_with("_at") && n.is_u64() => {
            crate::history::At(n.as_u64().unwrap_or(0)).to_string()
        }
        other => other.to_string(),
    }
}

/// A step in one line, for the lists of what happened: `step 2 target: done in 0.003s: DETAIL`.
pub(crate) fn step_line(s: &crate::history::StepEvent) -> String {
    let mut line = format!("step {} {}", s.step, s.action);
    if s.delay() >= Duration::from_millis(100) {
        line.push_str(&format!(
            " (due at {}, {} late: the step before it was still running)",
            s.at,
            fmt_duration(s.delay())
        ));
    }
    match s.failure() {
        None => line.push_str(&format!(": done in {}", fmt_duration(s.took()))),
        Some(reason) => line.push_str(&format!(
            ": failed after {}: {reason}",
            fmt_duration(s.took())
        )),
    }
    if let Some(detail) = &s.detail {
        line.push_str(&format!(" ({detail})"));
    }
    line
}

/// What people did by hand to each fault, by its index: `injected by hand`, `healed by hand`
/// (a scheduled fault healed early) or `injected and healed by hand`. Empty for a scripted run.
pub(crate) fn by_hand(record: &RunRecord) -> BTreeMap<usize, &'static str> {
    let mut done: BTreeMap<usize, (bool, bool)> = BTreeMap::new();
    for f in record.history.faults().filter(|f| f.by_hand) {
        let (injected, healed) = done.entry(f.fault).or_default();
        match f.action {
            FaultAction::Inject => *injected = true,
            FaultAction::Heal => *healed = true,
        }
    }
    done.into_iter()
        .map(|(fault, flags)| {
            let words = match flags {
                (true, true) => "injected and healed by hand",
                (true, false) => "injected by hand",
                _ => "healed by hand",
            };
            (fault, words)
        })
        .collect()
}

/// The faults a person injected (`firedrill inject`), by index: appended to the scenario's
/// faults after the scheduled ones, but never scheduled.
pub(crate) fn injected_by_hand(record: &RunRecord) -> std::collections::BTreeSet<usize> {
    record
        .history
        .faults()
        .filter(|f| f.by_hand && f.action == FaultAction::Inject)
        .map(|f| f.fault)
        .collect()
}

/// A fault's label in the measurements: [`FaultMeasurements::label`] with what was done by hand
/// beside each fault it names, `fault 2 (crash of pg1, injected by hand)`.
pub(crate) fn fault_label(
    f: &crate::check::FaultMeasurements,
    hand: &BTreeMap<usize, &'static str>,
) -> String {
    let what: Vec<String> = std::iter::once((f.fault, &f.kind, &f.node))
        .chain(f.same_incident.iter().map(|i| (i.fault, &i.kind, &i.node)))
        .map(|(fault, kind, node)| match hand.get(&fault) {
            Some(words) => format!("{kind} of {node}, {words}"),
            None => format!("{kind} of {node}"),
        })
        .collect();
    format!("{} ({})", f.name(), what.join(", "))
}

/// A fault event in one line, for the lists of what happened: `fault 2: injected crash on
/// pg1, pg2 by hand: DETAIL`; `numbered: false` (Markdown's list): without `fault N: ` and with
/// the first node only.
pub(crate) fn fault_line(f: &crate::history::FaultEvent, numbered: bool) -> String {
    let verb = match f.action {
        FaultAction::Inject => "injected",
        FaultAction::Heal => "healed",
    };
    let nodes = if f.nodes.is_empty() || !numbered {
        f.node.clone()
    } else {
        f.nodes.join(", ")
    };
    format!(
        "{}{verb} {} on {nodes}{}{}",
        if numbered {
            format!("fault {}: ", f.fault + 1)
        } else {
            String::new()
        },
        f.kind,
        if f.by_hand { " by hand" } else { "" },
        f.detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    )
}

/// A note in one line, for the lists of what happened: `note: app showed 502s`.
pub(crate) fn note_line(n: &crate::history::NoteEvent) -> String {
    format!("note: {}", n.text)
}

/// How a game day ended, in words.
pub(crate) fn ended_by_words(game_day: &crate::record::GameDay) -> String {
    match game_day.ended_by.as_str() {
        "down" => "firedrill down: the workload stopped, every fault in effect healed, the writes \
                   read back and the objectives judged"
            .into(),
        "interrupt" => "interrupted (Ctrl-C or SIGTERM on firedrill up): torn down, judged and \
                        reported as at firedrill down"
            .into(),
        other => other.to_owned(),
    }
}

/// The game day's participants in one line: `Ana Lima (incident commander), Bo`; `none named`.
pub(crate) fn participants_line(game_day: &crate::record::GameDay) -> String {
    if game_day.participants.is_empty() {
        return "none named".into();
    }
    game_day
        .participants
        .iter()
        .map(|p| {
            if p.role.is_empty() {
                p.name.clone()
            } else {
                format!("{} ({})", p.name, p.role)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each fault a person injected, in a line: `fault 1: crash of pg1 (target leader), injected
/// by hand at t+10.000s, healed by hand at t+20.000s`.
pub(crate) fn hand_fault_lines(record: &RunRecord) -> Vec<String> {
    let faults: Vec<_> = record.history.faults().collect();
    faults
        .iter()
        .filter(|f| f.by_hand && f.action == FaultAction::Inject)
        .map(|f| {
            let nodes = if f.nodes.is_empty() {
                f.node.clone()
            } else {
                f.nodes.join(", ")
            };
            let target = record
                .scenario
                .faults
                .get(f.fault)
                .map(|s| format!(" (target {})", s.target))
                .unwrap_or_default();
            let heal = faults
                .iter()
                .find(|h| h.action == FaultAction::Heal && h.fault == f.fault && h.at >= f.at);
            format!(
                "fault {}: {} of {nodes}{target}, injected by hand at {}, {}",
                f.fault + 1,
                f.kind,
                f.at,
                match heal {
                    Some(h) if h.by_hand => format!("healed by hand at {}", h.at),
                    Some(h) => format!("healed at {}", h.at),
                    None => "never healed".into(),
                }
            )
        })
        .collect()
}

/// The action items the notes name, in order: each note's text after `action:`.
pub(crate) fn action_items(record: &RunRecord) -> Vec<(crate::history::At, &str)> {
    record
        .history
        .notes()
        .filter_map(|n| Some((n.at, n.action_item()?)))
        .collect()
}

/// Milliseconds precision, seconds unit: `10.496s`.
pub fn fmt_duration(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// At most this many leaders are named in order; a longer sequence (two nodes both reporting
/// leader, seen in turn) is cut in the middle.
const LEADERS_SHOWN: usize = 8;

/// `pg1 → pg2`; a long sequence as its first and last leaders with the count left out between.
fn leader_sequence(leaders: &[String]) -> String {
    if leaders.len() <= LEADERS_SHOWN {
        return leaders.join(" → ");
    }
    let head = &leaders[..LEADERS_SHOWN / 2];
    let tail = &leaders[leaders.len() - LEADERS_SHOWN / 2..];
    format!(
        "{} → … ({} more) … → {}",
        head.join(" → "),
        leaders.len() - LEADERS_SHOWN,
        tail.join(" → ")
    )
}

fn opt_duration(d: Option<Duration>, missing: &str) -> String {
    d.map(fmt_duration).unwrap_or_else(|| missing.to_string())
}

/// Milliseconds with one decimal: `2.4ms`.
fn fmt_ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

fn latency(stats: &Option<LatencyStats>) -> String {
    match stats {
        None => "no ok write".into(),
        Some(s) => format!(
            "p50 {}, p95 {}, p99 {}, max {} ({} ok write{})",
            fmt_ms(s.p50),
            fmt_ms(s.p95),
            fmt_ms(s.p99),
            fmt_ms(s.max),
            s.count,
            if s.count == 1 { "" } else { "s" }
        ),
    }
}

/// `connect_refused: 950, write_timeout: 4`; `none` when empty.
fn kinds(errors: &BTreeMap<ErrorKind, u64>) -> String {
    if errors.is_empty() {
        return "none".into();
    }
    errors
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a lost-writes count leaves unjudged, shown beside it: " (3 acknowledged writes not
/// checked, 12 unknown writes unresolved)", or nothing when the read-back judged every write.
/// Acknowledged writes not checked completed after the read-back began; unknown writes
/// unresolved are absent from it but completed after it began, or there was no read-back.
pub(crate) fn lost_caveat(m: &Measurements) -> String {
    lost_caveat_parts(m).map_or_else(String::new, |parts| format!(" ({parts})"))
}

/// "3 acknowledged writes not checked, 12 unknown writes unresolved", or `None`.
fn lost_caveat_parts(m: &Measurements) -> Option<String> {
    let unchecked = m.lost_writes.as_ref().map_or(0, |l| l.unchecked);
    let unresolved = m.unknown_writes.unresolved.len() as u64;
    caveat_parts(unchecked, unresolved)
}

/// "3 acknowledged writes not checked, 12 unknown writes unresolved", the parts that are not
/// zero; `None` when both are.
pub(crate) fn caveat_parts(unchecked: u64, unresolved: u64) -> Option<String> {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let mut parts = Vec::new();
    if unchecked > 0 {
        parts.push(format!(
            "{unchecked} acknowledged write{} not checked",
            plural(unchecked)
        ));
    }
    if unresolved > 0 {
        parts.push(format!(
            "{unresolved} unknown write{} unresolved",
            plural(unresolved)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn list(seqs: &[u64]) -> String {
    const SHOWN: usize = 20;
    let mut text = seqs
        .iter()
        .take(SHOWN)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if seqs.len() > SHOWN {
        text.push_str(&format!(", ... ({} more)", seqs.len() - SHOWN));
    }
    text
}

/// [`STABLE`](crate::check::STABLE), the span writes must keep succeeding after a recovery,
/// in words: `5 s`.
pub(crate) fn stable_words() -> String {
    format!("{} s", crate::check::STABLE.as_secs_f64())
}

/// The probe cadence in words: `100 ms`, `1 s`.
pub(crate) fn cadence_words(interval: Duration) -> String {
    match interval.as_nanos() {
        n if n % 1_000_000_000 == 0 => format!("{} s", interval.as_secs()),
        n if n % 1_000_000 == 0 => format!("{} ms", interval.as_millis()),
        _ => humantime::format_duration(interval).to_string(),
    }
}

static RTO_MEANING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "end of the last ok write before the outage to the end of the first ok write after which \
         writes keep succeeding (for at least {}, else the recovery is unconfirmed)",
        stable_words()
    )
});

static FAILED_AFTER_MEANING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "failures more than {} after the recovery: separate interruptions, not in the RTO",
        stable_words()
    )
});

pub fn measurement_rows(record: &RunRecord) -> Vec<MeasurementRow> {
    let m = &record.measurements;
    let mut rows = Vec::new();
    let mut row = |name: String, value: String, meaning: &'static str| {
        rows.push(MeasurementRow {
            name,
            value,
            meaning,
        })
    };
    row(
        "bring-up".into(),
        fmt_duration(record.timings.bring_up),
        "first container created to ready (etcd healthy, leader, replicas streaming, proxy routing)",
    );
    row(
        "writes".into(),
        format!(
            "{} sent: {} ok, {} failed, {} unknown; {} not sent",
            m.writes.total, m.writes.ok, m.writes.fail, m.writes.unknown, m.writes.not_sent
        ),
        "attempts on a fixed schedule through the client endpoint; not sent: attempts the harness itself throttled (its cap on connections being opened), in no other measurement",
    );
    if let Some(t) = &m.throttled_outside_outages {
        row(
            "writes not sent outside an outage".into(),
            format!("PROBLEM {}: the first at {}", t.count, t.first),
            "attempts the harness throttled while the system was answering: it could not send the scenario's load (a run problem)",
        );
    }
    let hand = by_hand(record);
    let topology = &record.scenario.topology;
    let stack = crate::topology::stacks::named(&topology.stack);
    // a stack whose clients reach the database through no proxy has no switch to time
    let no_proxy = stack.and_then(|s| s.lacks(crate::scenario::Family::Proxy, topology));
    let virtual_ip = stack.is_some_and(|s| {
        matches!(
            s.client_endpoint(),
            crate::topology::stacks::ClientEndpoint::VirtualIp { .. }
        )
    });
    // where clients ask arbiters for the primary (Sentinel), their failover's phases
    let arbiters = stack.is_some_and(|s| {
        matches!(
            s.client_endpoint(),
            crate::topology::stacks::ClientEndpoint::Discovery { .. }
        )
    });
    let announced = record.history.announcements().next().is_some();
    let promotes = record
        .scenario
        .steps
        .iter()
        .any(|s| s.action.name() == <crate::step::Promote as crate::step::Action>::NAME);
    // lag from PostgreSQL's own view when recorded, else from the nodes' positions (Redis)
    let pg_view = record.history.replication_samples().next().is_some();
    for f in &m.faults {
        let label = fault_label(f, &hand);
        row(
            format!("{label}: injected"),
            f.injected_at.to_string(),
            "the instant F the injection began, from the workload's start",
        );
        // no write attempted in the window: nothing was measured, nothing is 0
        const NO_WRITES: &str = "not measured (no write was attempted in the fault's window)";
        row(
            format!("{label}: detection time"),
            if f.no_writes_in_window {
                NO_WRITES.into()
            } else {
                opt_duration(f.detection_time, "no failed write")
            },
            "F to the end of the first failed write invoked at or after F",
        );
        row(
            format!("{label}: leader election time"),
            match (&f.leader_election_time, &f.new_leader) {
                _ if m.no_role_source => n_a(),
                (Some(t), Some(n)) => format!("{} ({} → {n})", fmt_duration(*t), f.old_leader),
                _ => "no new leader observed".into(),
            },
            "F to the first probe answer in which another node is leader",
        );
        if let (Some(_), Some(why)) = (&f.new_leader, &no_proxy) {
            row(
                format!("{label}: proxy switch time"),
                format!("not applicable ({why})"),
                "F to the first HAProxy stats sample with the new leader's server UP: new connections can reach the new leader",
            );
        } else if f.new_leader.is_some() {
            row(
                format!("{label}: proxy switch time"),
                f.proxy_switch_time.map_or_else(
                    || "not seen: haproxy never had the new leader up with no replica up".into(),
                    fmt_duration,
                ),
                "F to the first HAProxy stats sample with the new leader's server UP and no server UP but the new and the old leader's: new connections can reach the new leader",
            );
            row(
                format!("{label}: old leader out of rotation"),
                f.old_leader_out_time.map_or_else(
                    || format!("not seen: haproxy kept {} up", f.old_leader),
                    fmt_duration,
                ),
                "F to the first HAProxy stats sample with the old leader's server no longer UP (DOWN, MAINT; \"UP 1/3\", failing checks, still takes new connections)",
            );
        }
        row(
            format!("{label}: promotion time"),
            match (f.promotion_time, &f.promoted, f.promoted_timeline) {
                _ if m.no_role_source => n_a(),
                (Some(t), Some(n), Some(tl)) => {
                    format!("{} ({n} on timeline {tl})", fmt_duration(t))
                }
                // a source that keeps no timeline (Redis's ROLE)
                (Some(t), Some(n), None) => format!("{} ({n})", fmt_duration(t)),
                _ if f.new_leader.is_none() => "no failover".into(),
                _ => match f.old_timeline {
                    None => format!(
                        "not measured (no timeline probed for {} before F)",
                        f.old_leader
                    ),
                    Some(tl) => format!("not seen (no new leader on a timeline above {tl})"),
                },
            },
            "F to the first probe answer in which another node is leader on a higher timeline: PostgreSQL finished promoting (Redis, which keeps no timeline: in which another node answers ROLE as master)",
        );
        if promotes {
            row(
                format!("{label}: decision time"),
                opt_duration(
                    f.decision_time,
                    "no promotion decided in the fault's window",
                ),
                "F to the instant the operator's promotion (a promote step) decided to promote: after its wait for the primary to be unreachable from the standby, if it had one",
            );
        }
        if virtual_ip {
            row(
                format!("{label}: virtual IP moved"),
                match (f.address_moved_time, &f.address_holder) {
                    (Some(t), Some(n)) => format!("{} (to {n})", fmt_duration(t)),
                    _ => "not seen (no other node held it after F)".into(),
                },
                "F to the first answer, from a node's own interface, in which a node other than the one holding it at F holds the virtual IP",
            );
        }
        if arbiters {
            let not_seen = |what: &str| match announced {
                true => format!("not seen (no {what} of {} after F)", f.old_leader),
                false => "not measured (no Sentinel event recorded: before format 10)".to_owned(),
            };
            row(
                format!("{label}: subjectively down"),
                f.subjective_down_time
                    .map_or_else(|| not_seen("+sdown"), fmt_duration),
                "F to the first +sdown of the old master announced by a Sentinel: it did not answer for down-after-milliseconds",
            );
            row(
                format!("{label}: objectively down"),
                f.objective_down_time
                    .map_or_else(|| not_seen("+odown"), fmt_duration),
                "F to the first +odown of the old master: a quorum of Sentinels agreed it is down",
            );
            row(
                format!("{label}: Sentinel leader elected"),
                match (f.arbiter_election_time, &f.arbiter_elected) {
                    (Some(t), Some(by)) => format!("{} ({by})", fmt_duration(t)),
                    _ => not_seen("+elected-leader"),
                },
                "F to the first +elected-leader: a majority of Sentinels voted for the one that fails over",
            );
            row(
                format!("{label}: clients told the new master"),
                match (f.clients_told_time, &f.new_leader) {
                    (Some(t), _) => fmt_duration(t),
                    (None, None) => "no failover".into(),
                    (None, Some(n)) => format!("not seen (no Sentinel named {n})"),
                },
                "F to the first Sentinel answer to get-master-addr-by-name naming another node than the old master: a client asking then connects to the new one",
            );
        }
        row(
            format!("{label}: replica lag at injection"),
            if f.replica_lag_at_injection.is_empty() {
                if pg_view {
                    "not measured (no pg_stat_replication of the leader before F)".into()
                } else {
                    "not measured (no position of the leader or a replica before F)".into()
                }
            } else {
                f.replica_lag_at_injection
                    .iter()
                    .map(|(n, b)| format!("{n}: {}", fmt_bytes(*b)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            "WAL the leader had written that each replica had not flushed, from the leader's last pg_stat_replication before F (a replica no longer listed: its flush when last listed); where no pg_stat_replication is recorded (Redis), the leader's last offset before F minus each replica's, from their own answers (ROLE)",
        );
        row(
            format!("{label}: lag at failover"),
            match (&f.new_leader, f.lag_at_failover) {
                _ if m.no_role_source => n_a(),
                (None, _) => "no failover".into(),
                (Some(_), Some(b)) => MeasuredValue::Bytes(b).to_string(),
                (Some(_), None) if pg_view => {
                    "not measured (the old leader's pg_stat_replication never listed the new one)"
                        .into()
                }
                (Some(_), None) => {
                    "not measured (no position of the old leader and the new one before the election)"
                        .into()
                }
            },
            "WAL the old leader had written that the new leader had not flushed, from the old leader's last pg_stat_replication before the election was seen; where none is recorded (Redis), the old leader's last offset minus the new leader's as a replica, from their own answers (ROLE)",
        );
        row(
            format!("{label}: time to full redundancy"),
            match (f.time_to_full_redundancy, f.redundancy_gap()) {
                _ if m.no_role_source => n_a(),
                (Some(d), _) => fmt_duration(d),
                (None, gap) => format!("not reached ({})", gap.unwrap_or_default()),
            },
            "F to the first probe answer, sent after the heal, in which the leader lists every probed node not left down as streaming; not reached while it streams to nobody and every other node was left down",
        );
        row(
            format!("{label}: RTO (write downtime)"),
            match (f.rto, &f.unconfirmed_recovery) {
                _ if f.no_writes_in_window => NO_WRITES.into(),
                (Some(d), _) if d.is_zero() => "0s (writes never stopped)".into(),
                (Some(d), _) => fmt_duration(d),
                (None, Some(u)) => format!("not measured: recovery unconfirmed ({})", u.describe()),
                (None, None) => "not recovered".into(),
            },
            RTO_MEANING.as_str(),
        );
        if let Some(r) = f.rto_resolution {
            row(
                format!("{label}: RTO resolution"),
                fmt_duration(r),
                "how precisely the outage's edges are known: the wider gap between the write attempts on either side of an edge",
            );
        }
        if !f.errors_by_kind.is_empty() {
            row(
                format!("{label}: errors by kind"),
                kinds(&f.errors_by_kind),
                "failed and unknown writes invoked from F to the next fault, by what went wrong",
            );
        }
        let l = &f.write_latency;
        row(
            format!("{label}: write latency before"),
            latency(&l.before),
            "ok writes invoked from the previous fault's recovery (or the start) to F: nearest-rank percentiles of their latency",
        );
        row(
            format!("{label}: write latency during"),
            if f.no_writes_in_window {
                NO_WRITES.into()
            } else {
                latency(&l.during)
            },
            "ok writes invoked from F to the recovery (to the heal if writes never stopped)",
        );
        row(
            format!("{label}: write latency after"),
            latency(&l.after),
            "ok writes invoked after the recovery, up to the next fault",
        );
        if f.failed_after_recovery > 0 {
            row(
                format!("{label}: writes failed after recovery"),
                f.failed_after_recovery.to_string(),
                FAILED_AFTER_MEANING.as_str(),
            );
        }
    }
    // beside the count: what the read-back left unjudged, and what a done restore judged
    // against its target instead
    let parts: Vec<String> = lost_caveat_parts(m)
        .into_iter()
        .chain(
            m.restore
                .as_ref()
                .filter(|r| r.left_to_restore > 0)
                .map(|r| {
                    format!(
                        "{} acknowledged write{} from the restore target on, judged by the restore",
                        r.left_to_restore,
                        if r.left_to_restore == 1 { "" } else { "s" }
                    )
                }),
        )
        .collect();
    let caveat = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    };
    row(
        "acknowledged writes lost".into(),
        match &m.lost_writes {
            None => "not measured (no read-back)".into(),
            Some(l) if l.count == 0 => format!("0{caveat}"),
            Some(l) => format!("{} (seq {}){caveat}", l.count, list(&l.seqs)),
        },
        "ok writes absent from the final read-back on the leader; beside it, the ok writes it could not check (they completed after it began) and the unknown writes it could not resolve",
    );
    row(
        "RPO".into(),
        match m.rpo() {
            None => "not measured (no read-back)".into(),
            Some(d) if d.is_zero() && m.lost_writes.as_ref().is_some_and(|l| l.count == 0) => {
                match lost_caveat_parts(m) {
                    None => "0s (nothing lost)".into(),
                    Some(parts) => format!("0s (nothing lost; {parts})"),
                }
            }
            Some(d) => fmt_duration(d),
        },
        Measurements::RPO_DEFINITION,
    );
    let u = &m.unknown_writes;
    row(
        "unknown writes".into(),
        if u.read_back {
            format!(
                "{} present, {} absent, {} unresolved",
                u.present.len(),
                u.absent.len(),
                u.unresolved.len()
            )
        } else {
            format!("{} unresolved (no read-back)", u.unresolved.len())
        },
        "writes whose outcome the client could not know, resolved by the read-back; never counted lost",
    );
    row(
        "failed writes found committed".into(),
        match &m.failed_committed {
            None if m.lost_writes.is_none() => "not measured (no read-back)".into(),
            None => "not measured (recorded before it was)".into(),
            Some(f) if f.count == 0 => "none".into(),
            Some(f) => format!("PROBLEM {} (seq {})", f.count, list(&f.seqs)),
        },
        "writes recorded as failed whose number is in the read-back: the outcome rule misjudged them (a run problem)",
    );
    let unclassified = m
        .writes
        .not_ok()
        .saturating_sub(m.errors_by_kind.values().sum());
    row(
        "errors by kind".into(),
        match unclassified {
            0 => kinds(&m.errors_by_kind),
            n if m.errors_by_kind.is_empty() => format!("{n} unclassified"),
            n => format!("{} ({n} unclassified)", kinds(&m.errors_by_kind)),
        },
        "failed and unknown writes by what went wrong, as the writer classified them",
    );
    row(
        "split brain".into(),
        match (m.split_brain.detected, &m.split_brain.not_measured) {
            (true, _) => format!("DETECTED: {}", m.split_brain.evidence.join("; ")),
            _ if m.no_role_source => n_a(),
            (false, Some(why)) => format!("not measured ({why})"),
            (false, None) => "none detected".into(),
        },
        "two leaders at once, or an ok write accepted by a node that was not the leader (or while another node led)",
    );
    read_rows(record, &mut row);
    row(
        "leaders".into(),
        if m.no_role_source {
            n_a()
        } else {
            leader_sequence(&m.leaders)
        },
        "the leaders the probes saw, in order",
    );
    row(
        "leader changes".into(),
        if m.no_role_source {
            n_a()
        } else if m.leaders.is_empty() {
            "0 (no leader seen)".into()
        } else {
            m.leader_changes.to_string()
        },
        "how many times the leader changed during the run",
    );
    row(
        "ok writes per node".into(),
        m.writes_per_node
            .iter()
            .map(|(n, c)| format!("{n}: {c}"))
            .collect::<Vec<_>>()
            .join(", "),
        "which node accepted each acknowledged write, as the INSERT returned it",
    );
    if let Some(p) = &m.pool {
        pool_rows(p, m.no_role_source, &mut row);
    }
    if let Some(t) = &m.tier {
        tier_rows(t, &m.faults, &mut row);
    }
    if let Some(c) = &m.cache {
        cache_rows(c, &m.faults, &mut row);
    }
    rows
}

/// The rows of the reads through the cache: how it served them, and per fault how long it
/// served stale content and when fresh content came back.
fn cache_rows(
    c: &crate::check::CacheMeasurements,
    faults: &[crate::check::FaultMeasurements],
    row: &mut impl FnMut(String, String, &'static str),
) {
    let served: Vec<String> = c.served.iter().map(|(s, n)| format!("{s} {n}")).collect();
    row(
        "reads through the cache".into(),
        format!(
            "{} sent: {} answered ({}), {} failed",
            c.reads,
            c.served.values().sum::<u64>(),
            if served.is_empty() {
                "none".into()
            } else {
                served.join(", ")
            },
            c.failed
        ),
        "how the cache served each read (its X-Cache header): hit (within its ttl), stale (past it, within grace), miss (fetched from a server), pass",
    );
    row(
        "oldest stale answer".into(),
        opt_duration(c.max_stale_age, "none served stale"),
        "the age of the oldest object the cache served past its ttl (its X-Cache-Age header)",
    );
    for f in &c.faults {
        let label = faults
            .iter()
            .find(|m| m.fault == f.fault)
            .map_or_else(|| format!("fault {}", f.fault + 1), |m| m.describe());
        row(
            format!("{label}: reads served stale, failed"),
            format!(
                "{} stale (oldest {}), {} failed",
                f.served_stale,
                opt_duration(f.max_stale_age, "none"),
                f.failed
            ),
            "reads through the cache in the fault's window: answered with a stale object, and not answered",
        );
        row(
            format!("{label}: fresh content again"),
            opt_duration(
                f.fresh_again,
                "not measured (no heal, or no fresh answer after it)",
            ),
            "the heal to the end of the first read after it that the cache answered within its ttl or fetched",
        );
    }
}

/// The application tier's rows: who answered, how requests failed, and per fault on a server
/// how HAProxy drained it.
fn tier_rows(
    t: &crate::check::TierMeasurements,
    faults: &[crate::check::FaultMeasurements],
    row: &mut impl FnMut(String, String, &'static str),
) {
    let counts = |items: Vec<String>| match items.is_empty() {
        true => "none".to_string(),
        false => items.join(", "),
    };
    row(
        "ok writes per API server".into(),
        counts(
            t.answered
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect(),
        ),
        "which application server answered each acknowledged request, as it named itself",
    );
    row(
        "failed requests by HTTP status".into(),
        counts(
            t.failed_statuses
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect(),
        ),
        "requests that did not succeed but got an HTTP answer (the proxy's own 503, 502, 504 included), by status",
    );
    row(
        "requests redispatched".into(),
        t.redispatched.map_or(
            "not measured (fewer than two answers from HAProxy's stats)".into(),
            |n| n.to_string(),
        ),
        "requests HAProxy took from a server whose connection failed and sent to another (option redispatch), over the run",
    );
    const NOT_SEEN: &str =
        "not measured (HAProxy's stats never showed the server down in the fault's window)";
    for d in &t.drains {
        let label = faults
            .iter()
            .find(|f| f.fault == d.fault)
            .map_or_else(|| format!("fault {}", d.fault + 1), |f| f.describe());
        let label = format!("{label}: {}", d.server);
        let count = |n: Option<u64>| n.map_or(NOT_SEEN.to_string(), |n| n.to_string());
        row(
            format!("{label}: drain time"),
            opt_duration(d.drain_time, NOT_SEEN),
            "F to the first answer of HAProxy's stats no longer counting the server up: from then it assigns it no new request",
        );
        row(
            format!("{label}: requests sent to it before the drain"),
            count(d.assigned_before_drain),
            "requests HAProxy assigned the server between F and the drain: retried, redispatched or failed",
        );
        row(
            format!("{label}: requests sent to it after the drain"),
            count(d.assigned_after_drain),
            "requests HAProxy assigned the server after it counted it down, until it counted it up again: 0 when the drain held",
        );
        row(
            format!("{label}: requests redispatched from it"),
            d.redispatched.map_or(
                "not measured (no answer of HAProxy's stats before F)".into(),
                |n| n.to_string(),
            ),
            "requests HAProxy took away from the server to another, from F to the fault window's end",
        );
        if d.drain_time.is_some() {
            row(
                format!("{label}: back in rotation"),
                opt_duration(d.back_in_rotation, "not seen up again after the heal"),
                "the heal to the first answer of HAProxy's stats counting the server up again",
            );
        }
    }
}

/// `812 (seq 1201–2040)`; `0` when none.
fn range(r: &SeqRange) -> String {
    match (r.first, r.last) {
        (Some(first), Some(last)) if first == last => format!("{} (seq {first})", r.count),
        (Some(first), Some(last)) => format!("{} (seq {first}–{last})", r.count),
        _ => r.count.to_string(),
    }
}

/// `all present`, or `2 MISSING (seq 7, 900)`.
fn missing(l: &SeqList) -> String {
    match l.count {
        0 => "all present".into(),
        n => format!("{n} MISSING (seq {})", list(&l.seqs)),
    }
}

/// `present: seq 1201; absent: seq 1202, 1203`, or `none`.
fn resolved(r: &crate::check::Resolved) -> String {
    let mut parts = Vec::new();
    if !r.present.is_empty() {
        parts.push(format!("present: seq {}", list(&r.present)));
    }
    if !r.absent.is_empty() {
        parts.push(format!("absent: seq {}", list(&r.absent)));
    }
    match parts.len() {
        0 => "none".into(),
        _ => format!(
            "{} ({})",
            r.present.len() + r.absent.len(),
            parts.join("; ")
        ),
    }
}

/// The restore section: what the last `restore` step came to, the backup it used, the target
/// asked and the point reached, what was kept and what was lost, each phase from the loss, the
/// effective RPO and the new timeline; on failure, the reason, and every figure not measured for
/// it. Then each backup taken. Empty without a restore step and without backups.
pub fn restore_rows(record: &RunRecord) -> Vec<MeasurementRow> {
    let m = &record.measurements;
    let mut rows = Vec::new();
    let mut row = |name: &str, value: String, meaning: &'static str| {
        rows.push(MeasurementRow {
            name: name.into(),
            value,
            meaning,
        })
    };
    if let Some(r) = &m.restore {
        restore_outcome_rows(r, &mut row);
        restore_truth_rows(r, &mut row);
        restore_phase_rows(r, &mut row);
    }
    for b in &m.backups {
        row(
            &format!("backup (step {})", b.step),
            format!(
                "{}{}: {} in {}{}",
                b.kind.as_deref().unwrap_or("backup"),
                b.label
                    .as_ref()
                    .map(|l| format!(" {l}"))
                    .unwrap_or_default(),
                b.size.map_or("size not recorded".into(), fmt_bytes),
                fmt_duration(b.took),
                b.repository_delta
                    .map(|d| format!(" ({} added to the repository)", fmt_bytes(d)))
                    .unwrap_or_default()
            ),
            "a backup step that was done: pgBackRest's set, its size (the database it holds) and the step's duration (end − start)",
        );
    }
    rows
}

/// Why a restore figure is missing: "not measured (WHY)", WHY from the objective's reason.
fn unmeasured(r: &RestoreMeasurements, measure: Measure) -> String {
    match r.value(measure) {
        Ok(v) => v.to_string(),
        Err(why) => format!("not measured ({why})"),
    }
}

fn restore_outcome_rows(r: &RestoreMeasurements, row: &mut impl FnMut(&str, String, &'static str)) {
    // the reason is in the outcome row: facts the restore's log would have given say so
    let failed = r
        .failure
        .as_ref()
        .map(|_| "unknown: the restore failed (see its outcome)".to_owned());
    let node = r.node.as_deref().unwrap_or("the restored node");
    row(
        "outcome",
        match &r.failure {
            None => format!(
                "done (step {}): {node} leads on timeline {}",
                r.step,
                r.timeline.map_or("?".into(), |t| t.to_string())
            ),
            Some(why) => format!("FAILED (step {}): {why}", r.step),
        },
        "the last restore step: done when the restored node led; failed, with what the system said, when pgBackRest refused, the target was not reached or recovery paused",
    );
    row(
        "backup used",
        match (&r.backup_set, &failed) {
            (Some(set), _) => set.clone(),
            (None, Some(failed)) => failed.clone(),
            (None, None) => "not named in the restored node's log".into(),
        },
        "the backup set pgBackRest restored, from its log",
    );
    let asked = match (r.target_type.as_deref(), &r.target) {
        (Some("name"), Some(name)) => format!("restore point {name:?}"),
        (_, Some(time)) => format!("time {time}"),
        _ => "none".into(),
    };
    row(
        "target asked",
        match (r.target_step, r.target_from, r.target_to) {
            (Some(step), Some(from), Some(to)) => format!(
                "{asked} (marked by step {step} within {from} → {to}{})",
                r.target_time
                    .as_ref()
                    .filter(|t| r.target.as_ref() != Some(*t))
                    .map(|t| format!(", the leader's clock reading {t}"))
                    .unwrap_or_default()
            ),
            _ => format!("{asked} (no target step was done before the restore)"),
        },
        "what the restore aimed at: the target step's reading of the leader's clock, or its restore point; the window is the target statement's round trip on the run's clock",
    );
    row(
        "point reached",
        match (&r.last_completed, &r.stopped_before, &failed) {
            (Some(last), stopped, _) => format!(
                "last transaction applied at {last}{}",
                stopped
                    .as_ref()
                    .map(|s| format!("; recovery stopped before {s}"))
                    .unwrap_or_default()
            ),
            (None, _, Some(failed)) => failed.clone(),
            (None, _, None) => "not named in the restored node's log".into(),
        },
        "PostgreSQL's own words: the last transaction recovery applied, and the first it did not",
    );
    row(
        "effective RPO",
        unmeasured(r, Measure::RestoreRpo),
        "the target's time minus the last transaction recovery applied (restore_rpo): how much before the target the restored data ends",
    );
    row(
        "new timeline",
        match (r.timeline, &failed) {
            (Some(t), _) => t.to_string(),
            (None, Some(failed)) => failed.clone(),
            (None, None) => "not recorded".into(),
        },
        "the PostgreSQL timeline the restored node leads on",
    );
}

fn restore_truth_rows(r: &RestoreMeasurements, row: &mut impl FnMut(&str, String, &'static str)) {
    let Some(t) = &r.truth else {
        let why = unmeasured(r, Measure::LostBeforeTarget);
        row("acknowledged before the target", why.clone(), BEFORE_TARGET);
        row("written after the target", why, AFTER_TARGET);
        return;
    };
    let timeline = r
        .timeline
        .map_or("the restored timeline".into(), |t| format!("timeline {t}"));
    row(
        "acknowledged before the target",
        format!(
            "{}: {}",
            range(&t.before_target),
            missing(&t.lost_before_target)
        ),
        BEFORE_TARGET,
    );
    row(
        "written after the target",
        format!(
            "{} not acknowledged on {timeline}: {}; {} acknowledged on an older timeline discarded by design",
            range(&t.after_target),
            match t.present_after_target.count {
                0 => "none present".into(),
                n => format!("{n} PRESENT (seq {})", list(&t.present_after_target.seqs)),
            },
            range(&t.discarded_after_target)
        ),
        AFTER_TARGET,
    );
    row(
        "in flight across the target",
        resolved(&t.in_flight),
        "invoked by the target window's end and not acknowledged before its start: either way is right, never counted",
    );
    if !t.unknown_since_restore.present.is_empty() || !t.unknown_since_restore.absent.is_empty() {
        row(
            "unknown since the restore began",
            resolved(&t.unknown_since_restore),
            "unknown writes invoked after the target that completed after the restore began: they may have run on the restored cluster, so either way is right",
        );
    }
    row(
        "acknowledged on the restored cluster",
        format!(
            "{}: {}{}",
            range(&t.on_restored),
            missing(&t.lost_on_restored),
            match t.unchecked {
                0 => String::new(),
                n => format!(
                    " ({n} acknowledged write{} not checked)",
                    if n == 1 { "" } else { "s" }
                ),
            }
        ),
        "ok writes on the restored timeline or a later one: each must be present, as any acknowledged write",
    );
}

const BEFORE_TARGET: &str = "ok writes completed before the target window began: each must be present (lost_before_target counts those missing)";

const AFTER_TARGET: &str = "writes invoked after the target window ended, not acknowledged on the restored timeline: none may be present (present_after_target counts those present); the acknowledged ones absent are what the restore discarded by design, not lost writes";

fn restore_phase_rows(r: &RestoreMeasurements, row: &mut impl FnMut(&str, String, &'static str)) {
    let node = r.node.as_deref().unwrap_or("the restored node");
    let gone = r
        .failure
        .as_ref()
        .map(|why| format!("not measured (the restore failed: {why})"))
        .or_else(|| {
            r.lost_at.is_none().then(|| {
                "not measured (no lose-cluster step was done between the target and the restore)"
                    .to_owned()
            })
        });
    let phase = |d: Option<std::time::Duration>, missing: String| match (&gone, d) {
        (Some(gone), _) => gone.clone(),
        (None, Some(d)) => fmt_duration(d),
        (None, None) => missing,
    };
    let p = &r.phases;
    row(
        "cluster lost",
        match (r.loss_step, r.lost_at) {
            (Some(step), Some(at)) => {
                format!("step {step} at {at}: every phase below is from here")
            }
            _ => "no lose-cluster step was done between the target and the restore".into(),
        },
        "the lose-cluster step's start: every PostgreSQL node killed, its data emptied, the cluster's keys deleted",
    );
    row(
        "phase: restore began",
        phase(p.restore_began, "not recorded".into()),
        "the restore step's start: the restoring node started, Patroni's custom bootstrap runs pgBackRest",
    );
    row(
        "phase: restore command",
        phase(
            p.restore_command,
            "not measured (not in the restored node's log)".into(),
        ),
        "pgBackRest's restore command as its own log timed it: a duration, not an instant of the run",
    );
    row(
        "phase: WAL replayed to the target",
        phase(
            p.target_reached,
            "not measured (no \"recovery stopping\" line in the restored node's log)".into(),
        ),
        "PostgreSQL's \"recovery stopping before …\" line: archived WAL replayed up to the target (its log's time, on the host's clock)",
    );
    row(
        "phase: promoted",
        phase(
            p.promoted,
            "not measured (no \"archive recovery complete\" line in the restored node's log)"
                .into(),
        ),
        "PostgreSQL's \"archive recovery complete\" line: the new timeline begun, the node writable",
    );
    row(
        "phase: restored node leads",
        phase(p.restored_leads, "not recorded".into()),
        "the restore step's end: the harness saw the restored node lead (recovery reached the target and promoted)",
    );
    row(
        "phase: leader key",
        phase(
            p.leader_key,
            format!("not seen (no etcd answer named {node} leader after the loss)"),
        ),
        "the first etcd answer, sent after the lost cluster's keys were deleted, naming the restored node leader: Patroni holds the leader key",
    );
    row(
        "phase: proxy routes to it",
        phase(
            p.proxy_routing,
            format!("not seen (haproxy never counted {node} up after it led)"),
        ),
        "the first HAProxy sample, sent after the restored node led, counting it UP (an UP before then is the lost cluster's)",
    );
    row(
        "phase: first acknowledged write (restore time)",
        unmeasured(r, Measure::RestoreTime),
        "the first write invoked after the loss and acknowledged on the restored timeline, to its end: the restore's RTO (restore_time)",
    );
    row(
        "phase: full redundancy",
        unmeasured(r, Measure::RestoreRedundancyTime),
        "the first Patroni answer of the restored leader, sent after it led, listing every other node as streaming (restore_redundancy_time)",
    );
}

/// How many spans of the alert condition are listed one by one.
const SPANS_SHOWN: usize = 3;

/// The poolers' rows, when the run sampled poolers: per pooler its peak use against its pool
/// size, the alert condition's spans, clients waiting and the samples, then the stale server
/// connections over every pooler. A figure of a pooler that never answered is not measured,
/// never 0.
fn pool_rows(
    p: &PoolMeasurements,
    no_role_source: bool,
    row: &mut impl FnMut(String, String, &'static str),
) {
    const NO_ANSWER: &str = "not measured (the pooler never answered)";
    for f in &p.poolers {
        let label = format!("pool {} ({})", f.pooler, f.server);
        row(
            format!("{label}: peak use"),
            match (f.peak_active, f.peak_at, f.pool_size) {
                // no instant stands out when none was ever in use
                (Some(0), _, Some(size)) => {
                    format!("0 of {size} server connections active in every answer")
                }
                (Some(n), Some(at), Some(size)) => format!(
                    "{n} of {size} server connections active ({} %) at {at}",
                    (n * 100 + size / 2) / size
                ),
                (Some(n), Some(at), None) => {
                    format!("{n} server connections active at {at} (pool size not reported)")
                }
                _ => NO_ANSWER.into(),
            },
            "the most server connections linked to a client in one answer of SHOW POOLS, against the pool size",
        );
        row(
            format!("{label}: pool over 90 % in use"),
            match f.saturated_time {
                None if f.peak_active.is_none() => NO_ANSWER.into(),
                None => "not measured (pool size not reported)".into(),
                Some(_) if f.saturated.is_empty() => "never".into(),
                Some(total) => {
                    let mut spans: Vec<String> = f
                        .saturated
                        .iter()
                        .take(SPANS_SHOWN)
                        .map(|s| {
                            if s.open {
                                format!("{} to {} (the last sample)", s.from, s.to)
                            } else {
                                format!("{} to {}", s.from, s.to)
                            }
                        })
                        .collect();
                    let more = f.saturated.len().saturating_sub(SPANS_SHOWN);
                    if more > 0 {
                        spans.push(format!("... and {more} more"));
                    }
                    format!(
                        "{} in {} span{}: {}",
                        fmt_duration(total),
                        f.saturated.len(),
                        if f.saturated.len() == 1 { "" } else { "s" },
                        spans.join(", ")
                    )
                }
            },
            "the runbook's alert (server connections active over 90 % of the pool size): from the first sample showing it to the next not showing it, so each edge is known to within one sample interval",
        );
        row(
            format!("{label}: clients waiting"),
            match (f.max_waiting, f.max_wait) {
                (Some(0), Some(w)) if w.is_zero() => "none".into(),
                (Some(n), Some(w)) => format!("at most {n}, longest wait {}", fmt_duration(w)),
                _ => NO_ANSWER.into(),
            },
            "clients that sent a query and waited for a server connection (cl_waiting), and the longest any had waited (maxwait), over the answers of SHOW POOLS",
        );
        row(
            format!("{label}: samples"),
            match f.unanswered {
                0 => format!("{} answered", f.samples),
                n => format!(
                    "{} of {} answered ({n} unanswered)",
                    f.samples - n,
                    f.samples
                ),
            },
            "the pooler's admin console asked on the probes' clock; an unanswered sample counts as no figure, never as zero use",
        );
    }
    row(
        "stale server connections".into(),
        match &p.stale {
            None if no_role_source => n_a(),
            None => "not measured (no role source said who led)".into(),
            Some(s) if s.is_empty() => "none".into(),
            Some(s) => s
                .iter()
                .map(|s| {
                    format!(
                        "{}: {} to {} (demoted) from {} to {} ({} sample{})",
                        s.pooler,
                        s.connections,
                        s.server,
                        s.first,
                        s.last,
                        s.samples,
                        if s.samples == 1 { "" } else { "s" }
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        },
        "server connections (SHOW SERVERS, not logging in) a pooler still held to its node after that node had led and another was leader: they pass select 1 while every write through them fails",
    );
}

/// How many stale reads on a primary are described one by one.
const STALE_SHOWN: usize = 3;

/// The readers' rows, when the run had readers: stale reads on a primary first (evidence of loss
/// or split brain), then the reads, the stale reads on replicas and the max staleness.
fn read_rows(record: &RunRecord, row: &mut impl FnMut(String, String, &'static str)) {
    let Some(r) = &record.measurements.reads else {
        // reads through a cache have rows of their own
        let through_cache = record.scenario.workload.read_through == ReadEndpoint::Cache;
        if record.scenario.workload.readers > 0 && !through_cache {
            row(
                "reads".into(),
                "none recorded".into(),
                "reads on a fixed schedule, each looking for the latest write acknowledged before it",
            );
        }
        return;
    };
    row(
        "stale reads on a primary".into(),
        if r.primary_missed_writes() {
            let mut shown: Vec<String> = r
                .on_primary
                .iter()
                .take(STALE_SHOWN)
                .map(|s| {
                    let node = if s.node.is_empty() { "a node" } else { &s.node };
                    match s.staleness {
                        Some(d) => format!(
                            "{node} at {} missed seq {} (acknowledged {} before)",
                            s.invoke,
                            s.expected_seq,
                            fmt_duration(d)
                        ),
                        None => format!("{node} at {} missed seq {}", s.invoke, s.expected_seq),
                    }
                })
                .collect();
            let more = r.stale_on_primary.saturating_sub(shown.len() as u64);
            if more > 0 {
                shown.push(format!("... and {more} more"));
            }
            format!("DETECTED {}: {}", r.stale_on_primary, shown.join("; "))
        } else {
            "none".into()
        },
        "ok reads served by a node not in recovery that did not see a write acknowledged before the read: evidence of lost writes or split brain",
    );
    row(
        "reads".into(),
        format!(
            "{} attempted through the {} endpoint: {} ok ({} judged), {} failed",
            r.total,
            record.scenario.workload.read_through.name(),
            r.ok,
            r.judged,
            r.failed
        ),
        "reads on a fixed schedule, each looking for the highest write acknowledged before it was invoked; judged: ok reads that had one to look for",
    );
    row(
        "stale reads on replicas".into(),
        format!("{} of {} judged", r.stale_on_replica, r.judged),
        "ok reads served by a node in recovery that did not see that write: replication lag, expected with asynchronous replication",
    );
    row(
        "max staleness".into(),
        opt_duration(r.max_staleness, "none (no stale read)"),
        "over the stale reads: the read's invoke minus the end of the write it did not see (how long that write had been acknowledged)",
    );
}

/// A role measurement of a run without a role source: not applicable, never 0 nor "not
/// measured".
fn n_a() -> String {
    format!("n/a ({NO_ROLE_SOURCE})")
}

pub fn objective_rows(record: &RunRecord) -> Vec<ObjectiveRow> {
    record
        .verdict
        .objectives
        .iter()
        .map(|o| ObjectiveRow {
            objective: match (o.measure.value_type(), &o.bound) {
                (MeasureType::Bytes, Bound::Count { cmp, value }) => {
                    format!(
                        "{} {} {}",
                        o.measure.name(),
                        cmp.symbol(),
                        format_size(*value)
                    )
                }
                _ => format!("{} {}", o.measure.name(), o.bound),
            },
            measured: match (&o.measured, &o.note) {
                (Some(v), _) if o.measure == Measure::LostWrites => {
                    format!("{v}{}", lost_caveat(&record.measurements))
                }
                (Some(v), _) => v.to_string(),
                (None, Some(note)) => note.clone(),
                (None, None) => "not measured".into(),
            },
            verdict: if o.passed { "PASS" } else { "FAIL" },
        })
        .collect()
}

/// A record of a small failover with WAL positions and replication streams, for the renderers'
/// tests.
#[cfg(test)]
pub(crate) fn sample_record() -> RunRecord {
    use crate::check::testkit::*;
    use crate::check::{judge, measure};
    use crate::history::Role;
    use crate::record::{Environment, RECORD_FORMAT, Timings};
    let text = "name = \"sample\"\ndescription = \"a sample drill\"\nduration = \"60s\"\n\
                [objectives]\nlag_at_failover = \"<= 64kB\"\nleader_changes = \"== 0\"\n\
                time_to_full_redundancy = \"<= 30s\"\nstale_reads = \"<= 5\"\n\
                [workload]\nreaders = 2\n";
    let scenario = crate::scenario::parse(std::path::Path::new("scenarios/sample.toml"), text)
        .expect("a valid scenario");
    let mut history = history(vec![
        with_timeline(
            probe_wal(
                "pg1",
                ms(0),
                ms(1),
                Role::Leader,
                Some(1 << 30),
                &["pg2", "pg3"],
            ),
            Some(1),
        ),
        probe_wal(
            "pg2",
            ms(0),
            ms(1),
            Role::Replica,
            Some((1 << 30) - 67_072),
            &[],
        ),
        probe_wal("pg3", ms(0), ms(1), Role::Replica, Some(1 << 30), &[]),
        primary_at(
            "pg1",
            ms(0),
            ms(1),
            1 << 30,
            &[("pg2", (1 << 30) - 67_072), ("pg3", 1 << 30)],
        ),
        ok(1, ms(0), ms(2), "pg1", 1),
        inject(0, "pg1", ms(100)),
        failed(2, ms(110), ms(111)),
        probe("pg1", ms(150), ms(151), None),
        probe_wal(
            "pg2",
            ms(2_000),
            ms(2_003),
            Role::Leader,
            Some(1 << 30),
            &["pg3"],
        ),
        with_timeline(
            probe_wal(
                "pg2",
                ms(2_100),
                ms(2_104),
                Role::Leader,
                Some(1 << 30),
                &["pg3"],
            ),
            Some(2),
        ),
        ok(3, ms(2_100), ms(2_102), "pg2", 2),
        heal(0, "pg1", ms(5_000)),
        probe_wal(
            "pg1",
            ms(6_000),
            ms(6_001),
            Role::Replica,
            Some(1 << 30),
            &[],
        ),
        probe_wal(
            "pg2",
            ms(7_000),
            ms(7_004),
            Role::Leader,
            Some(1 << 30),
            &["pg1", "pg3"],
        ),
        proxy(ms(1_000), ms(1_002), &["pg1"]),
        // pg1 still UP (failing its checks) when pg2 comes UP
        proxy(ms(2_300), ms(2_304), &["pg1", "pg2"]),
        proxy(ms(2_500), ms(2_504), &["pg2"]),
        read_back(ms(9_000), [1].into_iter().chain(3..=54).collect()),
        read(ms(50), ms(51), Some(1), "pg2", true, true),
        read(ms(60), ms(61), Some(1), "pg3", true, false),
        failed_read(ms(120), ms(121)),
        read(ms(2_200), ms(2_201), Some(3), "pg3", true, true),
    ]);
    // writes every 100 ms for 5 s after the recovery: they confirm it
    history.extend(steady(4, ms(2_200), "pg2", 2));
    let measurements = measure(&history);
    let verdict = judge(&scenario.objectives, &measurements);
    RunRecord {
        format: RECORD_FORMAT,
        run_id: "sample-run".into(),
        seed: 1,
        scenario,
        environment: Environment::default(),
        timings: Timings {
            bring_up: Duration::from_millis(7_500),
            initial_leader: "pg1".into(),
            ..Timings::default()
        },
        history,
        measurements,
        verdict,
        logs: Default::default(),
        problems: Vec::new(),
        game_day: None,
    }
}

/// The sample record with what a read-back cannot settle and what the harness did wrong: an
/// ok write and an unknown write completing after the read-back began (not checked,
/// unresolved), attempts the harness throttled inside the outage and after it (a problem), and
/// a failed write found committed (a problem).
#[cfg(test)]
pub(crate) fn doubtful_record() -> RunRecord {
    use crate::check::testkit::*;
    use crate::check::{judge, measure};
    use crate::history::Event;
    let mut record = sample_record();
    record.scenario.objectives.push(crate::scenario::Objective {
        measure: Measure::LostWrites,
        bound: Bound::Count {
            cmp: crate::scenario::Cmp::Eq,
            value: 0,
        },
    });
    let h = &mut record.history;
    for e in &mut h.events {
        if let Event::ReadBack(r) = e {
            r.present.push(62);
        }
    }
    h.extend([
        unknown(60, ms(8_990), ms(9_500)),
        ok(61, ms(8_995), ms(9_010), "pg2", 2),
        failed(62, ms(8_000), ms(8_001)),
        not_ok(63, ms(500), ms(1_500), ErrorKind::TooManyConnecting),
        not_ok(64, ms(7_300), ms(8_300), ErrorKind::TooManyConnecting),
    ]);
    record.measurements = measure(&record.history);
    record.verdict = judge(&record.scenario.objectives, &record.measurements);
    record.problems = record.measurements.problems();
    record
}

/// The lines of a rendered report that speak of lost, unknown, unsent or committed writes, or
/// of problems: what [`doubtful_record`] changes.
#[cfg(test)]
pub(crate) fn doubtful_lines(report: &str) -> String {
    const WORDS: &[&str] = &[
        "lost",
        "unknown",
        "not sent",
        "committed",
        "problem",
        "Problem",
        "PROBLEM",
        "not send",
        "writes",
    ];
    report
        .lines()
        .filter(|l| WORDS.iter().any(|w| l.contains(w)))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// [`sample_record`] with two poolers sampled every 250 ms: pgbouncer2 (pg2's, the new leader)
/// holds its whole pool of 10 from 2.5 s to 5 s with clients waiting, pgbouncer1 (pg1's) did
/// not answer at 1 s and, once pg1 is back as a replica, holds 2 server connections to it from
/// 6 s: stale. Objectives on the pool figures, two of them failed.
#[cfg(test)]
pub(crate) fn pool_record() -> RunRecord {
    use crate::check::testkit::*;
    use crate::check::{judge, measure};
    use crate::history::Event;
    use crate::scenario::{Cmp, Objective};
    let mut record = sample_record();
    let mut samples = Vec::new();
    for t in (0..8_000).step_by(250) {
        let mut b1 = pool_sample("pgbouncer1", "pg1", ms(t + 1), ms(t + 3), 10, 0);
        if t == 1_000 {
            b1.pools.clear();
            b1.error = Some("timed out".into());
        } else if t >= 6_000 {
            b1.pools[0].sv_idle = 2;
            b1 = with_servers(b1, 2, "idle");
        }
        let saturated = (2_500..5_000).contains(&t);
        let active = if saturated {
            10
        } else {
            u64::from(t >= 2_000) * 3
        };
        let mut b2 = pool_sample("pgbouncer2", "pg2", ms(t + 2), ms(t + 4), 10, active);
        if saturated {
            b2.pools[0].cl_waiting = 6;
            b2.pools[0].maxwait_us = (t - 2_400) * 1_000;
        }
        b2 = with_servers(b2, active, "active");
        samples.push(Event::Pool(b1));
        samples.push(Event::Pool(b2));
    }
    record.history.extend(samples);
    let bound = |measure, bound| Objective { measure, bound };
    record.scenario.objectives.extend([
        bound(
            Measure::PoolSaturatedTime,
            Bound::Duration {
                cmp: Cmp::Le,
                value: Duration::from_secs(1),
            },
        ),
        bound(
            Measure::ClientMaxWait,
            Bound::Duration {
                cmp: Cmp::Le,
                value: Duration::from_secs(5),
            },
        ),
        bound(
            Measure::StaleServerConnections,
            Bound::Count {
                cmp: Cmp::Eq,
                value: 0,
            },
        ),
    ]);
    record.measurements = measure(&record.history);
    record.verdict = judge(&record.scenario.objectives, &record.measurements);
    record
}

/// [`sample_record`] with two steps: a `target` at 1 s, during the failover, that found no
/// leader (failed), and a `target` with a restore point at 3 s, delayed by nothing, done on the
/// new leader pg2.
#[cfg(test)]
pub(crate) fn steps_record() -> RunRecord {
    use crate::history::{At, Event, StepEvent, StepOutcome};
    let mut record = sample_record();
    let text = "name = \"sample\"\ndescription = \"a sample drill\"\nduration = \"60s\"\n\
                [[step]]\nat = \"1s\"\naction = \"target\"\n\
                [[step]]\nat = \"3s\"\naction = \"target\"\nrestore_point = \"after-failover\"\n";
    record.scenario.steps =
        crate::scenario::parse(std::path::Path::new("scenarios/sample.toml"), text)
            .expect("a valid scenario")
            .steps;
    let values = |pairs: &[(&str, serde_json::Value)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    record.history.extend([
        Event::Step(StepEvent {
            step: 1,
            action: "target".into(),
            at: At(1_000_000_000),
            started: At(1_000_210_000),
            ended: At(2_004_000_000),
            outcome: StepOutcome::Failed {
                reason: "no node reports itself leader".into(),
            },
            detail: None,
            values: Default::default(),
        }),
        Event::Step(StepEvent {
            step: 2,
            action: "target".into(),
            at: At(3_000_000_000),
            started: At(3_001_500_000),
            ended: At(3_004_200_000),
            outcome: StepOutcome::Done,
            detail: Some(
                "on pg2: 2026-11-28T06:00:49.201734+00:00 at LSN 0/4000110; restore point \
                 \"after-failover\" at 0/4000148"
                    .into(),
            ),
            values: values(&[
                ("node", "pg2".into()),
                ("restore_point", "after-failover".into()),
                ("restore_point_lsn", "0/4000148".into()),
                ("target_at", 3_002_900_000u64.into()),
                ("target_lsn", "0/4000110".into()),
                ("target_time", "2026-11-28T06:00:49.201734+00:00".into()),
            ]),
        }),
    ]);
    record
}

/// A restore drill (the runbook's test 4) for the renderers: writes every 100 ms on pg1; a
/// full backup at 5 s, the target at 12 s, the cluster lost at 20 s, the restore at 22 s. Done:
/// pg1 leads on timeline 2 at 26 s, writes come back at 26.5 s, the others stream again by 32 s.
/// Not done: pgBackRest refuses (no backup set before the target), nothing comes back, no
/// read-back.
#[cfg(test)]
pub(crate) fn restore_record(done: bool) -> RunRecord {
    use crate::check::testkit::*;
    use crate::check::{judge, measure};
    use crate::history::{At, Event, Role, RoleSample, StepEvent, StepOutcome};
    use crate::record::{Environment, RECORD_FORMAT, Timings};
    let text = "name = \"restore\"\ndescription = \"the cluster lost and restored to a point in time\"\n\
                runbook = \"4. Full cluster restore from backup\"\nduration = \"40s\"\n\
                [topology.pgbackrest]\n\
                [[step]]\nat = \"5s\"\naction = \"backup\"\ntype = \"full\"\n\
                [[step]]\nat = \"12s\"\naction = \"target\"\n\
                [[step]]\nat = \"20s\"\naction = \"lose-cluster\"\n\
                [[step]]\nat = \"22s\"\naction = \"restore\"\n\
                [objectives]\nrestore_completed = true\nrestore_time = \"<= 5m\"\n\
                lost_before_target = \"== 0\"\npresent_after_target = \"== 0\"\n\
                restore_rpo = \"<= 1s\"\nrestore_redundancy_time = \"<= 2m\"\n";
    let scenario = crate::scenario::parse(std::path::Path::new("scenarios/restore.toml"), text)
        .expect("a valid scenario");
    let mut events = Vec::new();
    for k in 0..400u64 {
        let t = 100 * k;
        events.push(match t {
            0..20_000 => ok(k + 1, ms(t), ms(t + 2), "pg1", 1),
            _ if t >= 26_500 && done => ok(k + 1, ms(t), ms(t + 2), "pg1", 2),
            _ => failed(k + 1, ms(t), ms(t + 1)),
        });
    }
    for k in 0..80u64 {
        let at = ms(500 * k);
        let led = at < ms(20_000) || (done && at >= ms(26_000));
        let streaming: &[&str] = match at {
            _ if at < ms(20_000) || at >= ms(32_000) => &["pg2", "pg3"],
            _ if at >= ms(29_000) => &["pg2"],
            _ => &[],
        };
        events.push(Event::Role(RoleSample::authority(
            "etcd",
            "etcd1",
            at,
            at.plus(Duration::from_millis(1)),
            led.then(|| "pg1".to_owned()),
        )));
        events.push(if led {
            with_timeline(
                probe_wal(
                    "pg1",
                    at,
                    at.plus(Duration::from_millis(2)),
                    Role::Leader,
                    None,
                    streaming,
                ),
                Some(if at < ms(20_000) { 1 } else { 2 }),
            )
        } else {
            probe("pg1", at, at.plus(Duration::from_millis(2)), None)
        });
        for replica in ["pg2", "pg3"] {
            let streams = led && streaming.contains(&replica);
            let role = streams.then_some(Role::Replica);
            events.push(probe(replica, at, at.plus(Duration::from_millis(2)), role));
        }
        // HAProxy still counts the lost pg1 up until 24 s, then up again from 28 s
        let up = at < ms(24_000) || (done && at >= ms(28_000));
        events.push(proxy(
            at,
            at.plus(Duration::from_millis(3)),
            if up { &["pg1"] } else { &[] },
        ));
    }
    let values = |pairs: &[(&str, serde_json::Value)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let step = |number, action: &str, (started, ended): (At, At), outcome, detail: &str, values| {
        Event::Step(StepEvent {
            step: number,
            action: action.into(),
            at: ms(match number {
                1 => 5_000,
                2 => 12_000,
                3 => 20_000,
                _ => 22_000,
            }),
            started,
            ended,
            outcome,
            detail: Some(detail.into()),
            values,
        })
    };
    events.extend([
        step(
            1,
            "backup",
            (ms(5_000), ms(7_345)),
            StepOutcome::Done,
            "full backup 20261128-113333F on pg1: 23.0 MB, 3.0 MB added to the repository",
            values(&[
                ("label", "20261128-113333F".into()),
                ("lsn_start", "0/2000028".into()),
                ("lsn_stop", "0/2000138".into()),
                ("node", "pg1".into()),
                ("repository_delta", 3_145_728u64.into()),
                ("size", 24_117_248u64.into()),
                ("started_unix", 1_795_865_613u64.into()),
                ("stopped_unix", 1_795_865_615u64.into()),
                ("type", "full".into()),
            ]),
        ),
        step(
            2,
            "target",
            (ms(12_000), ms(12_003)),
            StepOutcome::Done,
            "on pg1: 2026-11-28T11:33:41.600000+00:00 at LSN 0/3000060",
            values(&[
                ("node", "pg1".into()),
                ("target_at", 12_001_000_000u64.into()),
                ("target_lsn", "0/3000060".into()),
                ("target_time", "2026-11-28T11:33:41.600000+00:00".into()),
            ]),
        ),
        step(
            3,
            "lose-cluster",
            (ms(20_000), ms(20_400)),
            StepOutcome::Done,
            "killed pg1, pg2, pg3; emptied their data disks (96.0 MB); deleted 7 keys under /service/firedrill/",
            values(&[
                ("bytes_wiped", 100_663_296u64.into()),
                ("keys_deleted", 7u64.into()),
                ("killed_at", 20_100_000_000u64.into()),
                ("nodes", serde_json::json!(["pg1", "pg2", "pg3"])),
            ]),
        ),
    ]);
    if done {
        events.push(step(
            4,
            "restore",
            (ms(22_000), ms(26_000)),
            StepOutcome::Done,
            "pg1 restored 20261128-113333F to the target time 2026-11-28 11:33:41.600000+00 and \
             leads on timeline 2; last transaction applied at 2026-11-28 11:33:41.56558+00; pg2, \
             pg3 started to rejoin",
            values(&[
                ("backup_set", "20261128-113333F".into()),
                ("last_completed", "2026-11-28 11:33:41.56558+00".into()),
                ("node", "pg1".into()),
                ("rejoining", serde_json::json!(["pg2", "pg3"])),
                ("restore_command_ms", 647u64.into()),
                (
                    "stopped_before",
                    "commit of transaction 1329, time 2026-11-28 11:33:41.587342+00".into(),
                ),
                (
                    "target_reached_time",
                    "2026-11-28T11:33:54.236+00:00".into(),
                ),
                ("promoted_time", "2026-11-28T11:33:54.309+00:00".into()),
                ("target", "2026-11-28 11:33:41.600000+00".into()),
                ("target_action", "promote".into()),
                (
                    "target_step_time",
                    "2026-11-28T11:33:41.600000+00:00".into(),
                ),
                ("target_type", "time".into()),
                ("timeline", 2u64.into()),
            ]),
        ));
        // the 12.0 s write was in flight across the target: kept
        let kept = (1..=121).chain(266..=400).collect();
        events.push(read_back(ms(41_000), kept));
    } else {
        events.push(step(
            4,
            "restore",
            (ms(22_000), ms(24_100)),
            StepOutcome::Failed {
                reason: "pg1 stopped (exit 1) without leading: pgBackRest refused: ERROR: \
                         [075]: unable to find backup set with stop time less than \
                         '2026-11-28 11:33:41.600000+00'"
                    .into(),
            },
            "",
            Default::default(),
        ));
    }
    let mut history = history(events);
    // the run began 12 s before the target's clock reading (the target step is at 12 s)
    history.started_wall = "2026-11-28T11:33:29.600Z".into();
    for e in &mut history.events {
        match e {
            Event::Step(s) if s.detail.as_deref() == Some("") => s.detail = None,
            Event::ReadBack(r) => r.node = "pg1".into(),
            _ => {}
        }
    }
    let measurements = measure(&history);
    let verdict = judge(&scenario.objectives, &measurements);
    RunRecord {
        format: RECORD_FORMAT,
        run_id: if done {
            "restore-run"
        } else {
            "failed-restore-run"
        }
        .into(),
        seed: 1,
        scenario,
        environment: Environment::default(),
        timings: Timings {
            bring_up: Duration::from_millis(14_200),
            initial_leader: "pg1".into(),
            ..Timings::default()
        },
        history,
        measurements,
        verdict,
        logs: Default::default(),
        problems: Vec::new(),
        game_day: None,
    }
}

/// A game day (`firedrill up` … `down`) for the renderers: writes every 100 ms; a person
/// crashed the leader pg1 by hand at 10 s (`firedrill inject crash --target leader`: fault 1,
/// the scenario scheduling none) and healed it by hand at 20 s; pg2 led from 18 s, writes came
/// back at 18.5 s, pg1 streamed again from 22 s. Two notes, the second an action item; two
/// participants; ended by `firedrill down`.
#[cfg(test)]
pub(crate) fn gameday_record() -> RunRecord {
    use crate::check::testkit::*;
    use crate::check::{judge, measure};
    use crate::history::{At, Event, FaultAction, NoteEvent, Role};
    use crate::record::{Environment, GameDay, Participant, RECORD_FORMAT, Timings};
    let text = "name = \"patroni-gameday\"\n\
                description = \"when the leader dies, a replica takes over within 30 s and no \
                acknowledged write is lost\"\n\
                runbook = \"1. Primary node crash\"\nduration = \"60s\"\n\
                [objectives]\nrto = \"<= 30s\"\nlost_writes = \"== 0\"\nsplit_brain = false\n";
    let mut scenario =
        crate::scenario::parse(std::path::Path::new("scenarios/patroni-gameday.toml"), text)
            .expect("a valid scenario");
    // the fault injected by hand, appended to the scenario's faults as `up` does
    let hand = "name = \"x\"\ndescription = \"x\"\nduration = \"60s\"\n\
                [[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"leader\"\n";
    scenario.faults = crate::scenario::parse(std::path::Path::new("x.toml"), hand)
        .expect("a valid scenario")
        .faults;
    let mut events = Vec::new();
    let mut present = Vec::new();
    for k in 0..400u64 {
        let t = 100 * k;
        events.push(match t {
            0..10_000 => ok(k + 1, ms(t), ms(t + 2), "pg1", 1),
            10_000..18_500 => failed(k + 1, ms(t), ms(t + 1)),
            _ => ok(k + 1, ms(t), ms(t + 2), "pg2", 2),
        });
        if !(10_000..18_500).contains(&t) {
            present.push(k + 1);
        }
    }
    for k in 0..80u64 {
        let t = 500 * k;
        let at = ms(t);
        let to = at.plus(Duration::from_millis(2));
        events.push(match t {
            0..10_000 => with_timeline(
                probe_wal("pg1", at, to, Role::Leader, None, &["pg2", "pg3"]),
                Some(1),
            ),
            10_000..22_000 => probe("pg1", at, to, None),
            _ => probe("pg1", at, to, Some(Role::Replica)),
        });
        events.push(match t {
            0..18_000 => probe("pg2", at, to, Some(Role::Replica)),
            18_000..22_000 => with_timeline(
                probe_wal("pg2", at, to, Role::Leader, None, &["pg3"]),
                Some(2),
            ),
            _ => with_timeline(
                probe_wal("pg2", at, to, Role::Leader, None, &["pg1", "pg3"]),
                Some(2),
            ),
        });
        events.push(probe("pg3", at, to, Some(Role::Replica)));
        events.push(proxy(
            at,
            at.plus(Duration::from_millis(3)),
            match t {
                0..13_000 => &["pg1"],
                13_000..19_000 => &[],
                _ => &["pg2"],
            },
        ));
    }
    for e in [inject(0, "pg1", ms(10_000)), heal(0, "pg1", ms(20_000))] {
        events.push(match e {
            Event::Fault(mut f) => {
                f.by_hand = true;
                if f.action == FaultAction::Inject {
                    f.detail = Some("killed pg1 (SIGKILL)".into());
                }
                Event::Fault(f)
            }
            other => other,
        });
    }
    events.push(Event::Note(NoteEvent {
        at: At(12_345_000_000),
        text: "app showed 502s".into(),
    }));
    events.push(Event::Note(NoteEvent {
        at: At(25_500_000_000),
        text: "action: alert on replication lag".into(),
    }));
    events.push(read_back(ms(41_000), present));
    let history = history(events);
    let measurements = measure(&history);
    let verdict = judge(&scenario.objectives, &measurements);
    RunRecord {
        format: RECORD_FORMAT,
        run_id: "gameday-run".into(),
        seed: 1,
        scenario,
        environment: Environment::default(),
        timings: Timings {
            bring_up: Duration::from_millis(11_200),
            initial_leader: "pg1".into(),
            ..Timings::default()
        },
        history,
        measurements,
        verdict,
        logs: Default::default(),
        problems: Vec::new(),
        game_day: Some(GameDay {
            participants: vec![
                Participant {
                    name: "Ana Lima".into(),
                    role: "incident commander".into(),
                },
                Participant {
                    name: "Bo Chen".into(),
                    role: "scribe".into(),
                },
            ],
            ended_by: "down".into(),
        }),
    }
}

/// [`sample_record`] of a scenario without objectives: not judged.
#[cfg(test)]
pub(crate) fn not_judged_record() -> RunRecord {
    let mut record = sample_record();
    record.scenario.objectives.clear();
    record.verdict = crate::check::judge(&[], &record.measurements);
    record
}

#[cfg(test)]
mod leader_sequence_tests {
    use super::leader_sequence;

    #[test]
    fn a_long_leader_sequence_keeps_its_ends_and_counts_the_rest() {
        let few: Vec<String> = ["pg1", "pg2"].map(String::from).to_vec();
        assert_eq!(leader_sequence(&few), "pg1 → pg2");
        let many: Vec<String> = (0..20)
            .map(|i| if i % 2 == 0 { "db1" } else { "db2" }.to_owned())
            .collect();
        assert_eq!(
            leader_sequence(&many),
            "db1 → db2 → db1 → db2 → … (12 more) … → db1 → db2 → db1 → db2"
        );
    }
}

#[cfg(test)]
mod tests {
    /// reports/run-json.md, after checking it names every key of `found` (as `` `key` ``).
    fn documented(found: &[String]) -> String {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/run-json.md"),
        )
        .unwrap();
        let missing: Vec<&String> = found
            .iter()
            .filter(|k| !doc.contains(&format!("`{k}`")))
            .collect();
        assert!(missing.is_empty(), "not in run-json.md: {missing:?}");
        doc
    }

    use super::*;

    /// reports/run-json.md names every field of a step: the scenario's and the history's.
    #[test]
    fn the_run_json_schema_names_every_field_of_a_step() {
        fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, child) in map {
                        out.push(key.clone());
                        keys(child, out);
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
                _ => {}
            }
        }
        let record = serde_json::to_value(steps_record()).unwrap();
        let mut found = Vec::new();
        keys(&record["scenario"]["steps"], &mut found);
        for event in record["history"]["events"].as_array().unwrap() {
            if event["type"] == "step" {
                keys(event, &mut found);
            }
        }
        assert!(found.contains(&"restore_point_lsn".to_owned()), "{found:?}");
        let doc = documented(&found);
        assert!(doc.contains("| `step` | format 4"));

        // a restore drill's steps, and what the checkers made of them
        let mut found = Vec::new();
        for done in [true, false] {
            let record = serde_json::to_value(restore_record(done)).unwrap();
            for event in record["history"]["events"].as_array().unwrap() {
                if event["type"] == "step" {
                    keys(event, &mut found);
                }
            }
            keys(&record["measurements"]["restore"], &mut found);
            keys(&record["measurements"]["backups"], &mut found);
        }
        assert!(
            found.contains(&"unknown_since_restore".to_owned()),
            "{found:?}"
        );
        assert!(found.contains(&"repository_delta".to_owned()), "{found:?}");
        let missing: Vec<&String> = found
            .iter()
            .filter(|k| !doc.contains(&format!("`{k}`")))
            .collect();
        assert!(missing.is_empty(), "not in run-json.md: {missing:?}");
    }

    /// reports/run-json.md documents format 5: every field of a game day, of a note event and
    /// of a fault event by hand.
    #[test]
    fn the_run_json_schema_names_every_field_of_a_game_day() {
        let record = serde_json::to_value(gameday_record()).unwrap();
        let mut found: Vec<String> = vec!["game_day".into()];
        for p in record["game_day"]["participants"].as_array().unwrap() {
            found.extend(p.as_object().unwrap().keys().cloned());
        }
        found.extend(record["game_day"].as_object().unwrap().keys().cloned());
        let mut types = Vec::new();
        for event in record["history"]["events"].as_array().unwrap() {
            if event["type"] == "note" || event.get("by_hand").is_some() {
                found.extend(event.as_object().unwrap().keys().cloned());
                types.push(event["type"].as_str().unwrap().to_owned());
            }
        }
        assert!(found.contains(&"by_hand".to_owned()), "{found:?}");
        assert_eq!(types, ["fault", "note", "fault", "note"]);
        let doc = documented(&found);
        assert!(doc.contains("| `note` | format 5"));
        assert!(doc.starts_with(&format!(
            "# run.json, format {}\n",
            crate::record::RECORD_FORMAT
        )));
        // a scripted run's record holds none of it
        let scripted = serde_json::to_string(&sample_record()).unwrap();
        for key in ["game_day", "by_hand", "\"note\""] {
            assert!(!scripted.contains(key), "{key}");
        }
    }

    #[test]
    fn the_measurements_of_a_fault_by_hand_are_as_a_scheduled_fault_s() {
        let record = gameday_record();
        let rows = measurement_rows(&record);
        let fault = "fault 1 (crash of pg1, injected and healed by hand)";
        assert_eq!(value(&rows, &format!("{fault}: injected")), "t+10.000s");
        assert_eq!(
            value(&rows, &format!("{fault}: leader election time")),
            "8.002s (pg1 → pg2)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: RTO (write downtime)")),
            "8.600s"
        );
        assert_eq!(value(&rows, "acknowledged writes lost"), "0");
        assert_eq!(value(&rows, "split brain"), "none detected");
        assert!(record.passed(), "{:?}", record.verdict);
        // the same history with the fault scheduled: the same values, the label without hands
        let mut scheduled = record.clone();
        for e in &mut scheduled.history.events {
            if let crate::history::Event::Fault(f) = e {
                f.by_hand = false;
            }
        }
        let plain = measurement_rows(&scheduled);
        assert_eq!(plain.len(), rows.len());
        for (a, b) in rows.iter().zip(&plain) {
            assert_eq!(a.value, b.value, "{}", a.name);
            assert_eq!(a.name.replace(", injected and healed by hand", ""), b.name);
        }
        // a scheduled fault healed by hand says only that
        let mut healed = scheduled;
        for e in &mut healed.history.events {
            if let crate::history::Event::Fault(f) = e
                && f.action == FaultAction::Heal
            {
                f.by_hand = true;
            }
        }
        assert_eq!(by_hand(&healed).get(&0), Some(&"healed by hand"));
        assert!(injected_by_hand(&healed).is_empty());
        assert!(by_hand(&sample_record()).is_empty());
    }

    #[test]
    fn pool_figures_per_pooler_and_stale_connections() {
        let record = pool_record();
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, "pool pgbouncer2 (pg2): peak use"),
            "10 of 10 server connections active (100 %) at t+2.502s"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer2 (pg2): pool over 90 % in use"),
            "2.500s in 1 span: t+2.502s to t+5.002s"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer2 (pg2): clients waiting"),
            "at most 6, longest wait 2.350s"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer2 (pg2): samples"),
            "32 answered"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer1 (pg1): peak use"),
            "0 of 10 server connections active in every answer"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer1 (pg1): pool over 90 % in use"),
            "never"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer1 (pg1): clients waiting"),
            "none"
        );
        assert_eq!(
            value(&rows, "pool pgbouncer1 (pg1): samples"),
            "31 of 32 answered (1 unanswered)"
        );
        // pg2 is seen leading at 2.003 s; pg1's connections count from then, not before
        assert_eq!(
            value(&rows, "stale server connections"),
            "pgbouncer1: 2 to pg1 (demoted) from t+6.001s to t+7.751s (8 samples)"
        );
        let verdicts: Vec<(String, String, &str)> = objective_rows(&record)
            .into_iter()
            .skip(4)
            .map(|r| (r.objective, r.measured, r.verdict))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("pool_saturated_time <= 1s".into(), "2.500s".into(), "FAIL"),
                ("client_max_wait <= 5s".into(), "2.350s".into(), "PASS"),
                ("stale_server_connections == 0".into(), "2".into(), "FAIL"),
            ]
        );
        // without poolers, none of these rows
        let rows = measurement_rows(&sample_record());
        assert!(rows.iter().all(|r| !r.name.contains("pool")), "{rows:?}");
        assert!(rows.iter().all(|r| r.name != "stale server connections"));
    }

    #[test]
    fn lost_writes_show_what_the_read_back_could_not_judge() {
        let record = sample_record();
        let rows = measurement_rows(&record);
        assert_eq!(value(&rows, "acknowledged writes lost"), "0");
        assert_eq!(value(&rows, "failed writes found committed"), "none");

        let record = doubtful_record();
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, "acknowledged writes lost"),
            "0 (1 acknowledged write not checked, 1 unknown write unresolved)"
        );
        assert_eq!(
            value(&rows, "RPO"),
            "0s (nothing lost; 1 acknowledged write not checked, 1 unknown write unresolved)"
        );
        assert_eq!(
            value(&rows, "unknown writes"),
            "0 present, 0 absent, 1 unresolved"
        );
        assert_eq!(
            value(&rows, "writes"),
            "57 sent: 54 ok, 2 failed, 1 unknown; 2 not sent"
        );
        assert_eq!(
            value(&rows, "writes not sent outside an outage"),
            "PROBLEM 1: the first at t+7.300s"
        );
        assert_eq!(
            value(&rows, "failed writes found committed"),
            "PROBLEM 1 (seq 62)"
        );
        assert_eq!(record.problems.len(), 2, "{:?}", record.problems);
        assert!(!record.passed());

        let mut record = record;
        let lost = record.measurements.lost_writes.as_mut().unwrap();
        (lost.count, lost.seqs) = (2, vec![4, 5]);
        record.measurements.unknown_writes.unresolved = vec![60, 70, 80];
        assert_eq!(
            value(&measurement_rows(&record), "acknowledged writes lost"),
            "2 (seq 4, 5) (1 acknowledged write not checked, 3 unknown writes unresolved)"
        );
        assert_eq!(caveat_parts(0, 0), None);
        assert_eq!(
            caveat_parts(0, 12).as_deref(),
            Some("12 unknown writes unresolved")
        );
    }

    fn value(rows: &[MeasurementRow], name: &str) -> String {
        rows.iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .value
            .clone()
    }

    #[test]
    fn restore_rows_show_what_was_kept_and_lost_with_their_numbers() {
        let mut record = restore_record(true);
        for e in &mut record.history.events {
            match e {
                crate::history::Event::ReadBack(r) => {
                    r.present.retain(|&s| s != 7 && s != 121 && s != 300);
                    r.present.extend([150, 151]);
                }
                // a restore to a named restore point
                crate::history::Event::Step(s) if s.action == "target" => {
                    s.values
                        .insert("restore_point".into(), "before-loss".into());
                }
                crate::history::Event::Step(s) if s.action == "restore" => {
                    s.values.insert("target_type".into(), "name".into());
                    s.values.insert("target".into(), "before-loss".into());
                }
                _ => {}
            }
        }
        record.measurements = crate::check::measure(&record.history);
        let rows = restore_rows(&record);
        assert_eq!(
            value(&rows, "acknowledged before the target"),
            "120 (seq 1–120): 1 MISSING (seq 7)"
        );
        assert_eq!(
            value(&rows, "written after the target"),
            "144 (seq 122–265) not acknowledged on timeline 2: 2 PRESENT (seq 150, 151); 77 \
             (seq 122–200) acknowledged on an older timeline discarded by design"
        );
        assert_eq!(
            value(&rows, "in flight across the target"),
            "1 (absent: seq 121)"
        );
        assert_eq!(
            value(&rows, "acknowledged on the restored cluster"),
            "135 (seq 266–400): 1 MISSING (seq 300)"
        );
        assert!(
            value(&rows, "target asked")
                .starts_with("restore point \"before-loss\" (marked by step 2"),
            "{rows:?}"
        );
        // the ordinary loss: the two the restore did not account for
        assert_eq!(
            value(&measurement_rows(&record), "acknowledged writes lost"),
            "2 (seq 7, 300) (80 acknowledged writes from the restore target on, judged by the restore)"
        );
        // without a restore or a backup step, no restore rows
        assert!(restore_rows(&sample_record()).is_empty());
    }

    #[test]
    fn replication_rows_show_sizes_and_times() {
        let record = sample_record();
        let rows = measurement_rows(&record);
        let fault = "fault 1 (crash of pg1)";
        assert_eq!(
            value(&rows, &format!("{fault}: replica lag at injection")),
            "pg2: 65.5 kB, pg3: 0 B"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: lag at failover")),
            "65.5 kB (67072 B)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: time to full redundancy")),
            "6.904s"
        );
        assert_eq!(value(&rows, "leader changes"), "1");
        assert_eq!(
            value(&rows, &format!("{fault}: promotion time")),
            "2.004s (pg2 on timeline 2)"
        );
        assert_eq!(value(&rows, &format!("{fault}: RTO resolution")), "1.990s");
        assert_eq!(value(&rows, "RPO"), "0s (nothing lost)");
    }

    #[test]
    fn spans_are_worded_from_their_values() {
        assert_eq!(stable_words(), "5 s");
        assert_eq!(cadence_words(Duration::from_millis(100)), "100 ms");
        assert_eq!(cadence_words(Duration::from_millis(250)), "250 ms");
        assert_eq!(cadence_words(Duration::from_secs(2)), "2 s");
        assert_eq!(cadence_words(Duration::from_micros(1_500)), "1ms 500us");
        let rows = measurement_rows(&sample_record());
        let rto = rows
            .iter()
            .find(|r| r.name.ends_with("RTO (write downtime)"));
        assert!(rto.unwrap().meaning.contains("for at least 5 s,"));
    }

    #[test]
    fn rpo_is_defined_in_one_place_for_code_reports_and_readme() {
        let rows = measurement_rows(&sample_record());
        let rpo = rows.iter().find(|r| r.name == "RPO").unwrap();
        assert_eq!(rpo.meaning, Measurements::RPO_DEFINITION);
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&format!("| RPO | {}", Measurements::RPO_DEFINITION)),
            "the README's RPO row starts with the definition the reports give"
        );
    }

    #[test]
    fn latency_errors_and_rpo_rows() {
        let mut record = sample_record();
        let m = &mut record.measurements;
        m.faults[0].write_latency.before = crate::check::LatencyStats {
            count: 900,
            p50: Duration::from_micros(2_140),
            p95: Duration::from_micros(3_960),
            p99: Duration::from_millis(5),
            max: Duration::from_micros(12_345),
        }
        .into();
        m.lost_writes = Some(crate::check::LostWrites {
            count: 2,
            seqs: vec![4, 5],
            rpo: Some(Duration::from_millis(40)),
            unchecked: 0,
        });
        m.writes.unknown += 3;
        m.errors_by_kind.insert(ErrorKind::WriteTimeout, 1);
        m.faults[0].write_latency.after = None;
        let rows = measurement_rows(&record);
        let fault = "fault 1 (crash of pg1)";
        assert_eq!(
            value(&rows, &format!("{fault}: write latency before")),
            "p50 2.1ms, p95 4.0ms, p99 5.0ms, max 12.3ms (900 ok writes)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: write latency after")),
            "no ok write"
        );
        assert_eq!(value(&rows, "acknowledged writes lost"), "2 (seq 4, 5)");
        assert_eq!(value(&rows, "RPO"), "0.040s");
        assert_eq!(
            value(&rows, "errors by kind"),
            "connect_refused: 1, write_timeout: 1 (2 unclassified)"
        );
        record.measurements.lost_writes = None;
        record.measurements.errors_by_kind.clear();
        let rows = measurement_rows(&record);
        assert_eq!(value(&rows, "RPO"), "not measured (no read-back)");
        assert_eq!(value(&rows, "errors by kind"), "4 unclassified");
    }

    #[test]
    fn rows_say_what_was_not_measured() {
        let mut record = sample_record();
        let f = &mut record.measurements.faults[0];
        f.replica_lag_at_injection.clear();
        f.lag_at_failover = None;
        f.time_to_full_redundancy = None;
        f.not_streaming = vec!["pg1".into()];
        let rows = measurement_rows(&record);
        let fault = "fault 1 (crash of pg1)";
        assert_eq!(
            value(&rows, &format!("{fault}: replica lag at injection")),
            "not measured (no pg_stat_replication of the leader before F)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: lag at failover")),
            "not measured (the old leader's pg_stat_replication never listed the new one)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: time to full redundancy")),
            "not reached (pg1 not streaming from the leader)"
        );
        let f = &mut record.measurements.faults[0];
        f.promotion_time = None;
        f.old_timeline = None;
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, &format!("{fault}: promotion time")),
            "not measured (no timeline probed for pg1 before F)"
        );
        record.measurements.faults[0].old_timeline = Some(1);
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, &format!("{fault}: promotion time")),
            "not seen (no new leader on a timeline above 1)"
        );
        record.measurements.faults[0].new_leader = None;
        record.measurements.leaders.clear();
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, &format!("{fault}: lag at failover")),
            "no failover"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: promotion time")),
            "no failover"
        );
        assert_eq!(value(&rows, "leader changes"), "0 (no leader seen)");
    }

    #[test]
    fn rows_say_why_the_rto_and_split_brain_were_not_measured() {
        let mut record = sample_record();
        let rto = "fault 1 (crash of pg1): RTO (write downtime)";
        assert_eq!(value(&measurement_rows(&record), rto), "2.100s");
        assert_eq!(
            value(&measurement_rows(&record), "split brain"),
            "none detected"
        );

        let f = &mut record.measurements.faults[0];
        (f.rto, f.recovered, f.recovered_at, f.rto_resolution) = (None, false, None, None);
        let rows = measurement_rows(&record);
        assert_eq!(value(&rows, rto), "not recovered");
        assert!(rows.iter().all(|r| !r.name.ends_with("RTO resolution")));

        record.measurements.faults[0].unconfirmed_recovery =
            Some(crate::check::UnconfirmedRecovery {
                recovered_at: crate::history::At(2_102_000_000),
                last_write: crate::history::At(3_000_000_000),
            });
        assert_eq!(
            value(&measurement_rows(&record), rto),
            "not measured: recovery unconfirmed (writes recovered at t+2.102s, but the last \
             write was attempted 0.898s later, before 5s of successful writes confirmed it)"
        );

        // no write attempted in the window: not measured, never "0s (writes never stopped)"
        let f = &mut record.measurements.faults[0];
        (f.rto, f.unconfirmed_recovery, f.no_writes_in_window) = (None, None, true);
        let rows = measurement_rows(&record);
        let no_writes = "not measured (no write was attempted in the fault's window)";
        assert_eq!(value(&rows, rto), no_writes);
        assert_eq!(
            value(&rows, "fault 1 (crash of pg1): detection time"),
            no_writes
        );
        assert_eq!(
            value(&rows, "fault 1 (crash of pg1): write latency during"),
            no_writes
        );

        record.measurements.split_brain.not_measured = Some("no role probes in the history".into());
        assert_eq!(
            value(&measurement_rows(&record), "split brain"),
            "not measured (no role probes in the history)"
        );
    }

    /// A stack without a role source: its role rows say n/a, never 0 or "not measured"; its
    /// write path rows are as ever, and so is a split brain the writes alone showed.
    #[test]
    fn role_rows_without_a_role_source_are_not_applicable() {
        let mut record = sample_record();
        record.history.events.retain(|e| {
            !matches!(
                e,
                crate::history::Event::Role(_) | crate::history::Event::Replication(_)
            )
        });
        record.measurements = crate::check::measure(&record.history);
        assert!(record.measurements.no_role_source);
        let rows = measurement_rows(&record);
        let n_a = "n/a (no role source in this stack)";
        let fault = "fault 1 (crash of pg1)";
        for name in [
            format!("{fault}: leader election time"),
            format!("{fault}: promotion time"),
            format!("{fault}: lag at failover"),
            format!("{fault}: time to full redundancy"),
            "split brain".into(),
            "leaders".into(),
            "leader changes".into(),
        ] {
            assert_eq!(value(&rows, &name), n_a, "{name}");
        }
        assert_eq!(
            value(&rows, &format!("{fault}: RTO (write downtime)")),
            "2.100s"
        );
        record.measurements.split_brain.detected = true;
        record.measurements.split_brain.evidence = vec!["pg1 and pg2 both accepted".into()];
        assert_eq!(
            value(&measurement_rows(&record), "split brain"),
            "DETECTED: pg1 and pg2 both accepted"
        );

        let record = RunRecord {
            verdict: crate::check::judge(&record.scenario.objectives, &record.measurements),
            ..record
        };
        let objectives = objective_rows(&record);
        let changes = objectives
            .iter()
            .find(|r| r.objective.starts_with("leader_changes"))
            .unwrap();
        assert_eq!(
            (changes.measured.as_str(), changes.verdict),
            ("n/a: no role source in this stack", "FAIL")
        );
    }

    #[test]
    fn an_incident_of_several_faults_is_named_with_each() {
        let mut record = sample_record();
        record.measurements.faults[0]
            .same_incident
            .push(crate::check::IncidentFault {
                fault: 1,
                kind: "partition".into(),
                node: "etcd1".into(),
                nodes: Vec::new(),
                injected_at: crate::history::At(104_000_000),
            });
        let rows = measurement_rows(&record);
        assert_eq!(
            value(
                &rows,
                "faults 1+2 (crash of pg1, partition of etcd1): RTO (write downtime)"
            ),
            "2.100s"
        );
        assert!(rows.iter().all(|r| !r.name.starts_with("fault 2")));
    }

    #[test]
    fn read_rows_put_stale_reads_on_a_primary_first() {
        let mut record = sample_record();
        let rows = measurement_rows(&record);
        assert_eq!(value(&rows, "stale reads on a primary"), "none");
        assert_eq!(
            value(&rows, "reads"),
            "4 attempted through the replica endpoint: 3 ok (3 judged), 1 failed"
        );
        assert_eq!(value(&rows, "stale reads on replicas"), "1 of 3 judged");
        assert_eq!(value(&rows, "max staleness"), "0.058s");
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert_eq!(at("stale reads on a primary"), at("split brain") + 1);

        let r = record.measurements.reads.as_mut().unwrap();
        r.stale_on_primary = 5;
        r.on_primary = (0..4)
            .map(|k| crate::check::StaleRead {
                invoke: crate::history::At(2_050_000_000 + k * 10_000_000),
                node: "pg2".into(),
                expected_seq: 1,
                staleness: (k != 1).then(|| Duration::from_millis(2_048 + k * 10)),
            })
            .collect();
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, "stale reads on a primary"),
            "DETECTED 5: pg2 at t+2.050s missed seq 1 (acknowledged 2.048s before); pg2 at \
             t+2.060s missed seq 1; pg2 at t+2.070s missed seq 1 (acknowledged 2.068s before); \
             ... and 2 more"
        );

        record.measurements.reads = None;
        let rows = measurement_rows(&record);
        assert_eq!(value(&rows, "reads"), "none recorded");
        assert!(rows.iter().all(|r| !r.name.contains("stale")));
        record.scenario.workload.readers = 0;
        let rows = measurement_rows(&record);
        assert!(rows.iter().all(|r| !r.name.contains("read")));
    }

    #[test]
    fn byte_objectives_show_sizes() {
        let rows = objective_rows(&sample_record());
        let shown: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.objective.as_str(), r.measured.as_str(), r.verdict))
            .collect();
        assert_eq!(
            shown,
            [
                ("lag_at_failover <= 64kB", "65.5 kB (67072 B)", "FAIL"),
                ("leader_changes == 0", "1", "FAIL"),
                ("time_to_full_redundancy <= 30s", "6.904s", "PASS"),
                ("stale_reads <= 5", "1", "PASS"),
            ]
        );
    }
}
