//! What a game day's `status` shows, kept up to date from the events as they are recorded: the
//! latest answer of every probe and the workload's recent outcomes. It never reads the whole
//! history again, so asking stays cheap however long the session runs.

use crate::history::{At, Event, Outcome, ProxySample, ReplicationSample, Role, RoleView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// How far back `status` counts the writes' outcomes.
pub const RECENT: Duration = Duration::from_secs(10);

/// The latest of everything the session's probes and workload reported.
#[derive(Debug)]
pub struct LiveView {
    /// One write is due every `period`: an outage is in progress once none was acknowledged for
    /// three of them (and at least a second).
    period: Duration,
    /// Each node's latest answer about itself, by node then source.
    own: BTreeMap<String, BTreeMap<String, SelfAnswer>>,
    /// Each authority member's latest answer (`etcd1` → who it names leader).
    authority: BTreeMap<String, AuthorityAnswer>,
    proxy: Option<ProxySample>,
    /// Each PostgreSQL node's latest replication answer.
    replication: BTreeMap<String, ReplicationSample>,
    /// Writes completed in the last [`RECENT`]: (complete, outcome), oldest first.
    writes: VecDeque<(At, Outcome)>,
    last_ok: Option<At>,
    /// A write completed not ok after `last_ok`: the outage shows in the writes.
    failed_since_ok: bool,
    notes: usize,
}

#[derive(Debug)]
struct SelfAnswer {
    received: At,
    role: Option<Role>,
    state: Option<String>,
    epoch: Option<u64>,
    error: Option<String>,
}

#[derive(Debug)]
struct AuthorityAnswer {
    received: At,
    source: String,
    leader: Option<String>,
    answered: bool,
}

/// A game day now, as `firedrill status` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub run_id: String,
    pub scenario: String,
    /// The session's clock now.
    pub now: At,
    /// The leader as the authority (etcd) names it, by the latest answer; and by every node's
    /// own report, those that say leader.
    pub leader_by_authority: Option<String>,
    /// The authority's source (`etcd`, `sentinel`), when one answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_source: Option<String>,
    pub leader_by_nodes: Vec<String>,
    pub nodes: Vec<NodeNow>,
    /// HAProxy's view of its servers (name, status), from its latest sample; empty without one.
    pub proxy: Vec<(String, String)>,
    pub writes: WritesNow,
    /// A write outage in progress: since the end of the last acknowledged write.
    pub outage: Option<OutageNow>,
    pub faults: Vec<FaultNow>,
    pub notes: usize,
}

/// One node now, by every source that reported on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeNow {
    pub node: String,
    /// (source, what it said: `leader`, `replica`, `no answer: …`, with its state), in source
    /// order.
    pub roles: Vec<(String, String)>,
    /// How far its replay is behind the leader's WAL, from the leader's latest
    /// `pg_stat_replication` (bytes), for a streaming replica.
    pub lag_bytes: Option<u64>,
    /// `streaming`, `catchup`, … as the leader sees the replica.
    pub replication: Option<String>,
}

/// The writes in the last [`RECENT`] (by completion).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WritesNow {
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    pub ok: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Acknowledged writes per second over the window.
    pub ok_per_second: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutageNow {
    /// The end of the last acknowledged write (`None`: none yet).
    pub since: Option<At>,
    #[serde(with = "humantime_serde")]
    pub lasted: Duration,
}

/// A fault in effect now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultNow {
    /// Its number (from 1), as `heal` takes it.
    pub number: usize,
    pub kind: String,
    pub nodes: Vec<String>,
    pub since: At,
    /// When it will be healed by the schedule, if it will.
    pub heal_at: Option<At>,
    pub by_hand: bool,
}

impl LiveView {
    pub fn new(write_period: Duration) -> LiveView {
        LiveView {
            period: write_period,
            own: BTreeMap::new(),
            authority: BTreeMap::new(),
            proxy: None,
            replication: BTreeMap::new(),
            writes: VecDeque::new(),
            last_ok: None,
            failed_since_ok: false,
            notes: 0,
        }
    }

    /// Takes in one event as it is recorded.
    pub fn record(&mut self, event: &Event) {
        match event {
            Event::Write(w) if !w.not_sent() => {
                self.writes.push_back((w.complete, w.outcome));
                if w.outcome == Outcome::Ok {
                    if self.last_ok.is_none_or(|last| w.complete >= last) {
                        self.last_ok = Some(w.complete);
                        self.failed_since_ok = false;
                    }
                } else if self.last_ok.is_none_or(|last| w.complete > last) {
                    self.failed_since_ok = true;
                }
            }
            Event::Role(r) => match r.view {
                RoleView::SelfReport | RoleView::Address => {
                    let answers = self.own.entry(r.asked.clone()).or_default();
                    if answers
                        .get(&r.source)
                        .is_none_or(|a| a.received <= r.received)
                    {
                        answers.insert(
                            r.source.clone(),
                            SelfAnswer {
                                received: r.received,
                                role: r.role,
                                state: r.state.clone(),
                                epoch: r.epoch,
                                error: r.error.clone(),
                            },
                        );
                    }
                }
                _ => {
                    if self
                        .authority
                        .get(&r.asked)
                        .is_none_or(|a| a.received <= r.received)
                    {
                        self.authority.insert(
                            r.asked.clone(),
                            AuthorityAnswer {
                                received: r.received,
                                source: r.source.clone(),
                                leader: r.node.clone(),
                                answered: r.error.is_none(),
                            },
                        );
                    }
                }
            },
            Event::Proxy(p) if self.proxy.as_ref().is_none_or(|q| q.received <= p.received) => {
                self.proxy = Some(p.clone());
            }
            Event::Replication(r)
                if self
                    .replication
                    .get(&r.node)
                    .is_none_or(|q| q.received <= r.received) =>
            {
                self.replication.insert(r.node.clone(), r.clone());
            }
            Event::Note(_) => self.notes += 1,
            _ => {}
        }
    }

    /// The session now: the latest answers, the writes of the last [`RECENT`], the outage in
    /// progress if any. `faults` are those in effect, from the session's book.
    pub fn status(
        &mut self,
        (run_id, scenario): (&str, &str),
        now: At,
        faults: Vec<FaultNow>,
    ) -> Status {
        let window_start = At(now.0.saturating_sub(RECENT.as_nanos() as u64));
        while self
            .writes
            .front()
            .is_some_and(|(at, _)| *at < window_start)
        {
            self.writes.pop_front();
        }
        let mut writes = WritesNow {
            window: RECENT,
            ..WritesNow::default()
        };
        for (_, outcome) in &self.writes {
            match outcome {
                Outcome::Ok => writes.ok += 1,
                Outcome::Fail => writes.failed += 1,
                Outcome::Unknown => writes.unknown += 1,
                Outcome::NotSent => {}
            }
        }
        let span = now.since(window_start).max(Duration::from_millis(1));
        writes.ok_per_second = writes.ok as f64 / span.as_secs_f64();

        let quiet = (self.period * 3).max(Duration::from_secs(1));
        let since_ok = self
            .last_ok
            .map_or(now.since(At(0)), |last| now.since(last));
        let outage = (self.failed_since_ok || since_ok > quiet).then_some(OutageNow {
            since: self.last_ok,
            lasted: since_ok,
        });

        let latest = self
            .authority
            .values()
            .filter(|a| a.answered)
            .max_by_key(|a| a.received);
        let leader_by_authority = latest.and_then(|a| a.leader.clone());
        let authority_source = latest.map(|a| a.source.clone());
        let mut leader_by_nodes = Vec::new();
        let lags = self.lags();
        let mut names: Vec<&String> = self.own.keys().chain(self.replication.keys()).collect();
        names.sort_by_key(|name| natural(name));
        names.dedup();
        let nodes = names
            .into_iter()
            .map(|node| {
                let roles = self
                    .own
                    .get(node)
                    .into_iter()
                    .flatten()
                    .map(|(source, a)| (source.clone(), a.describe()))
                    .collect();
                if self
                    .own
                    .get(node)
                    .is_some_and(|m| m.values().any(|a| a.role == Some(Role::Leader)))
                {
                    leader_by_nodes.push(node.clone());
                }
                let (lag_bytes, replication) = lags.get(node.as_str()).cloned().unwrap_or_default();
                NodeNow {
                    node: node.clone(),
                    roles,
                    lag_bytes,
                    replication,
                }
            })
            .collect();
        Status {
            run_id: run_id.to_owned(),
            scenario: scenario.to_owned(),
            now,
            leader_by_authority,
            authority_source,
            leader_by_nodes,
            nodes,
            proxy: self
                .proxy
                .iter()
                .flat_map(|p| &p.servers)
                .map(|s| (s.name.clone(), s.status.clone()))
                .collect(),
            writes,
            outage,
            faults,
            notes: self.notes,
        }
    }

    /// Each replica's lag in bytes and state, from the latest answer of a node not in
    /// recovery that lists it (the most recent such answer).
    fn lags(&self) -> BTreeMap<&str, (Option<u64>, Option<String>)> {
        let primary = self
            .replication
            .values()
            .filter(|r| r.in_recovery == Some(false))
            .max_by_key(|r| r.received);
        let mut lags = BTreeMap::new();
        if let Some(p) = primary {
            for replica in &p.replicas {
                let lag = match (p.wal, replica.replay) {
                    (Some(wal), Some(replay)) => Some(wal.saturating_sub(replay)),
                    _ => None,
                };
                lags.insert(replica.name.as_str(), (lag, Some(replica.state.clone())));
            }
        }
        lags
    }
}

impl SelfAnswer {
    fn describe(&self) -> String {
        let role = match (&self.role, &self.error) {
            (Some(role), _) => role_word(*role).to_owned(),
            (None, Some(error)) => format!("no answer: {error}"),
            (None, None) => "no role".to_owned(),
        };
        let mut text = role;
        if let Some(state) = &self.state {
            text.push_str(&format!(" ({state})"));
        }
        if let Some(epoch) = self.epoch {
            text.push_str(&format!(" timeline {epoch}"));
        }
        text
    }
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Leader => "leader",
        Role::Replica => "replica",
        Role::Other => "other",
    }
}

/// `pg10` after `pg9`.
fn natural(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = name.split_at(name.len() - digits);
    (stem.to_owned(), number.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::history::RoleSample;

    fn authority(asked: &str, at: At, leader: Option<&str>) -> Event {
        Event::Role(RoleSample::authority(
            "etcd",
            asked,
            at,
            at.plus(Duration::from_millis(1)),
            leader.map(str::to_owned),
        ))
    }

    fn status(view: &mut LiveView, now: At) -> Status {
        view.status(("fd-1", "s"), now, Vec::new())
    }

    #[test]
    fn status_shows_the_latest_answers_and_an_outage_in_progress() {
        let mut view = LiveView::new(Duration::from_millis(10));
        let mut events = Vec::new();
        for k in 0..100u64 {
            events.push(ok(k + 1, ms(10 * k), ms(10 * k + 2), "pg1", 1));
        }
        events.push(probe("pg1", ms(900), ms(901), Some(Role::Leader)));
        events.push(probe("pg2", ms(900), ms(901), Some(Role::Replica)));
        events.push(authority("etcd1", ms(900), Some("pg1")));
        events.push(primary_at(
            "pg1",
            ms(900),
            ms(902),
            5_000,
            &[("pg2", 4_000)],
        ));
        events.push(proxy(ms(900), ms(903), &["pg1"]));
        for e in &events {
            view.record(e);
        }
        let s = status(&mut view, ms(1_000));
        assert_eq!(s.leader_by_authority.as_deref(), Some("pg1"));
        assert_eq!(s.leader_by_nodes, ["pg1"]);
        assert_eq!(s.writes.ok, 100);
        assert_eq!(s.outage, None);
        let pg2 = s.nodes.iter().find(|n| n.node == "pg2").unwrap();
        assert_eq!(pg2.roles, [("patroni".to_owned(), "replica".to_owned())]);
        assert_eq!(pg2.lag_bytes, Some(1_000));
        assert_eq!(s.proxy[0].0, "pg1");

        // the leader crashes: a write fails, its probe goes unanswered, the key still names it
        view.record(&failed(101, ms(1_000), ms(1_005)));
        view.record(&probe("pg1", ms(1_100), ms(1_101), None));
        let s = status(&mut view, ms(2_500));
        let outage = s.outage.expect("an outage in progress");
        assert_eq!(outage.since, Some(ms(992)));
        assert_eq!(outage.lasted, Duration::from_millis(1_508));
        assert!(
            s.nodes[0].roles[0].1.starts_with("no answer"),
            "{:?}",
            s.nodes
        );
        assert_eq!(s.leader_by_nodes, Vec::<String>::new());

        // pg2 leads, writes succeed again: no outage, the new leader everywhere
        view.record(&authority("etcd2", ms(2_600), Some("pg2")));
        view.record(&probe("pg2", ms(2_600), ms(2_601), Some(Role::Leader)));
        view.record(&ok(102, ms(2_700), ms(2_702), "pg2", 2));
        let s = status(&mut view, ms(2_710));
        assert_eq!(s.outage, None);
        assert_eq!(s.leader_by_authority.as_deref(), Some("pg2"));
        assert_eq!(s.leader_by_nodes, ["pg2"]);
        // the window keeps the last 10 s of completions
        let s = status(&mut view, ms(12_003));
        assert_eq!((s.writes.ok, s.writes.failed), (1, 0));
        assert!(s.outage.is_some(), "no write for 9 s is an outage");
    }

    #[test]
    fn no_write_for_a_while_is_an_outage_even_before_one_fails() {
        let mut view = LiveView::new(Duration::from_millis(100));
        view.record(&ok(1, ms(0), ms(5), "pg1", 1));
        assert_eq!(status(&mut view, ms(900)).outage, None);
        let hung = status(&mut view, ms(1_200)).outage.expect("writes hang");
        assert_eq!(hung.lasted, Duration::from_millis(1_195));
    }
}
