//! What the connection poolers' own figures show (pgBouncer's `SHOW POOLS` and `SHOW SERVERS`):
//! server-connection use against the pool size, the runbook's "pool exhausted" alert condition,
//! clients waiting for a server connection, and server connections left pointing at a demoted
//! leader after a failover.
//!
//! Each sample's answer was held at some instant in `[sent, received]`. Only answered samples
//! are figures: an unanswered sample is counted as such, never as zero use.

use super::leader;
use crate::history::{At, History, PoolSample};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The runbook's alert: active server connections over this share of the pool size, as
/// `ALERT_NUM / ALERT_DEN` (integers, so that "over 90 %" is exact).
const ALERT_NUM: u64 = 9;
const ALERT_DEN: u64 = 10;

/// Whether `active` server connections of a pool of `pool_size` meet the runbook's alert
/// condition; never with an unknown (0) pool size.
pub fn over_alert(active: u64, pool_size: u64) -> bool {
    pool_size > 0 && active * ALERT_DEN > pool_size * ALERT_NUM
}

/// What the poolers showed over the run. Present only when the history holds pool samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolMeasurements {
    /// One entry per pooler sampled, by name.
    pub poolers: Vec<PoolerFigures>,
    /// **Pool peak use**: the most server connections active (linked to a client) in one answer
    /// of one pooler. `None` if no pooler answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_active: Option<u64>,
    /// **Pool saturated time**: how long at least one pooler held the alert condition (the
    /// union of every pooler's spans, see [`PoolerFigures::saturated`]). `None` if no pooler
    /// answered with its pool size.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub saturated_time: Option<Duration>,
    /// **Clients waiting**: the most clients waiting for a server connection in one answer of
    /// one pooler. `None` if no pooler answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients_waiting: Option<u64>,
    /// **Client max wait**: the longest a client had waited (`maxwait`) in any answer. `None`
    /// if no pooler answered.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_max_wait: Option<Duration>,
    /// **Stale server connections**, per pooler that held any (see [`StaleServers`]); empty:
    /// none. `None`: not looked for, the history holding no role source to say who led.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<Vec<StaleServers>>,
}

/// One pooler's figures over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolerFigures {
    pub pooler: String,
    /// The node its server connections go to.
    pub server: String,
    /// Samples sent, answered or not.
    pub samples: u64,
    /// Samples it did not answer.
    pub unanswered: u64,
    /// The pool size it reported (the largest, if it changed); `None` if it never reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_size: Option<u64>,
    /// The most server connections active in one answer, and that sample's sent instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_active: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_at: Option<At>,
    /// The spans the alert condition held, in order (see [`saturated_spans`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saturated: Vec<SaturatedSpan>,
    /// The spans' total; `None` if it never answered with its pool size.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub saturated_time: Option<Duration>,
    /// The most clients waiting in one answer; `None` if it never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_waiting: Option<u64>,
    /// The longest wait it reported; `None` if it never answered.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_wait: Option<Duration>,
}

/// A stretch of time the alert condition held on one pooler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaturatedSpan {
    /// The sent instant of the first sample showing it.
    pub from: At,
    /// The sent instant of the next sample of the pooler that did not show it (answered or
    /// not: nothing shows it held past there); if there was none, the received instant of the
    /// last sample showing it, and `open` is set.
    pub to: At,
    /// Still held at the pooler's last sample.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub open: bool,
}

impl SaturatedSpan {
    pub fn duration(&self) -> Duration {
        self.to.since(self.from)
    }
}

/// Server connections a pooler still held to a demoted leader: its server node had led, and
/// another node led when the sample was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleServers {
    pub pooler: String,
    /// The demoted node its connections pointed at.
    pub server: String,
    /// The most such connections in one of its answers.
    pub connections: u64,
    /// How many of its answers showed any.
    pub samples: u64,
    /// The sent instants of the first and the last answer showing any.
    pub first: At,
    pub last: At,
}

/// Whether an answer shows the alert condition: its pool size known and its active server
/// connections over 90 % of it.
fn saturated(s: &PoolSample) -> bool {
    s.error.is_none() && over_alert(s.active(), s.pool_size)
}

/// The spans the alert condition held, from one pooler's samples ordered by sent instant: a
/// span starts at the sent instant of a sample showing it and ends at the sent instant of the
/// next sample not showing it (or, after the last sample, at that sample's received instant,
/// `open`).
///
/// Bound: with the condition truly held from `T0` to `T1`, the span's start is within one
/// sample interval before `T0` plus the answer's latency after it (the sample before was
/// answered before `T0`, this one after), and so is its end; the duration is within one sample
/// interval plus one answer's latency of `T1 - T0`.
pub(crate) fn saturated_spans(samples: &[&PoolSample]) -> Vec<SaturatedSpan> {
    let mut spans: Vec<SaturatedSpan> = Vec::new();
    let mut current: Option<(At, At)> = None;
    for s in samples {
        match (saturated(s), current) {
            (true, None) => current = Some((s.sent, s.received)),
            (true, Some((from, _))) => current = Some((from, s.received)),
            (false, Some((from, _))) => {
                spans.push(SaturatedSpan {
                    from,
                    to: s.sent,
                    open: false,
                });
                current = None;
            }
            (false, None) => {}
        }
    }
    if let Some((from, to)) = current {
        spans.push(SaturatedSpan {
            from,
            to,
            open: true,
        });
    }
    spans
}

/// The length of the union of spans.
fn union_length(spans: &mut [SaturatedSpan]) -> Duration {
    spans.sort_by_key(|s| (s.from, s.to));
    let mut total = Duration::ZERO;
    let mut reach: Option<At> = None;
    for s in spans.iter() {
        let from = reach.map_or(s.from, |r| r.max(s.from));
        if s.to > from {
            total += s.to.since(from);
        }
        reach = Some(reach.map_or(s.to, |r| r.max(s.to)));
    }
    total
}

/// Server connections established (not logging in) in an answer: `SHOW SERVERS` rows other
/// than `new`, or, if it listed none, the open connections of `SHOW POOLS` not logging in.
fn established(s: &PoolSample) -> u64 {
    if s.servers.is_empty() {
        s.pools.iter().map(|p| p.servers_open() - p.sv_login).sum()
    } else {
        s.servers.iter().filter(|c| c.state != "new").count() as u64
    }
}

/// The leader changes the self reports show: each `(received, node)` where the reported
/// leader differs from the one before, by received instant.
fn leader_changes(history: &History) -> Vec<(At, String)> {
    let mut changes: Vec<(At, String)> = Vec::new();
    for p in leader::ordered(history)
        .into_iter()
        .filter(|p| leader::is_leader(p))
    {
        if changes.last().map(|(_, n)| n) != Some(&p.asked) {
            changes.push((p.received, p.asked.clone()));
        }
    }
    changes
}

/// Whether `node` was demoted at `t`: it had been seen leading (a sample received before `t`)
/// and the latest leader seen before `t` is another node.
fn demoted(changes: &[(At, String)], node: &str, t: At) -> bool {
    let seen = changes.partition_point(|(at, _)| *at < t);
    let before = &changes[..seen];
    before.last().is_some_and(|(_, leader)| leader != node)
        && before.iter().any(|(_, leader)| leader == node)
}

/// The stale server connections of one pooler, from its samples ordered by sent instant: in
/// every answered sample sent while its server node was demoted (see [`demoted`]), the server
/// connections established. Connections logging in (`new`) are attempts, not pooled
/// connections, and are left out. `None` if no answer showed any.
fn stale(changes: &[(At, String)], samples: &[&PoolSample]) -> Option<StaleServers> {
    let mut found: Option<StaleServers> = None;
    for s in samples.iter().filter(|s| s.error.is_none()) {
        let n = established(s);
        if n == 0 || !demoted(changes, &s.server, s.sent) {
            continue;
        }
        let f = found.get_or_insert_with(|| StaleServers {
            pooler: s.pooler.clone(),
            server: s.server.clone(),
            connections: 0,
            samples: 0,
            first: s.sent,
            last: s.sent,
        });
        f.connections = f.connections.max(n);
        f.samples += 1;
        f.last = s.sent;
    }
    found
}

/// The pool measurements of a history; `None` when it holds no pool sample. Stale server
/// connections are looked for only when `role_source` (the history says who led).
pub(crate) fn pool(history: &History, role_source: bool) -> Option<PoolMeasurements> {
    let mut by_pooler: BTreeMap<&str, Vec<&PoolSample>> = BTreeMap::new();
    for s in history.pool_samples() {
        by_pooler.entry(&s.pooler).or_default().push(s);
    }
    if by_pooler.is_empty() {
        return None;
    }
    let changes = role_source.then(|| leader_changes(history));
    let mut all_spans = Vec::new();
    let mut stale_found = Vec::new();
    let poolers: Vec<PoolerFigures> = by_pooler
        .into_values()
        .map(|mut samples| {
            samples.sort_by_key(|s| (s.sent, s.received));
            let answered: Vec<&PoolSample> = samples
                .iter()
                .copied()
                .filter(|s| s.error.is_none())
                .collect();
            let peak = answered
                .iter()
                .max_by_key(|s| (s.active(), std::cmp::Reverse(s.sent)));
            let saturated = saturated_spans(&samples);
            all_spans.extend(saturated.iter().copied());
            let sized = answered.iter().any(|s| s.pool_size > 0);
            if let Some(changes) = &changes {
                stale_found.extend(stale(changes, &samples));
            }
            PoolerFigures {
                pooler: samples[0].pooler.clone(),
                server: samples[0].server.clone(),
                samples: samples.len() as u64,
                unanswered: (samples.len() - answered.len()) as u64,
                pool_size: answered
                    .iter()
                    .map(|s| s.pool_size)
                    .max()
                    .filter(|&n| n > 0),
                peak_active: peak.map(|s| s.active()),
                peak_at: peak.map(|s| s.sent),
                saturated_time: sized.then(|| saturated.iter().map(SaturatedSpan::duration).sum()),
                saturated,
                max_waiting: answered.iter().map(|s| s.waiting()).max(),
                max_wait: answered
                    .iter()
                    .map(|s| Duration::from_micros(s.maxwait_us()))
                    .max(),
            }
        })
        .collect();
    let sized = poolers.iter().any(|p| p.saturated_time.is_some());
    Some(PoolMeasurements {
        peak_active: poolers.iter().filter_map(|p| p.peak_active).max(),
        saturated_time: sized.then(|| union_length(&mut all_spans)),
        clients_waiting: poolers.iter().filter_map(|p| p.max_waiting).max(),
        client_max_wait: poolers.iter().filter_map(|p| p.max_wait).max(),
        stale: changes.map(|_| stale_found),
        poolers,
    })
}

impl PoolMeasurements {
    /// **Stale server connections** as an objective judges it: over the poolers that held any,
    /// the sum of the most each held in one answer; `None` when not looked for.
    pub fn stale_connections(&self) -> Option<u64> {
        self.stale
            .as_ref()
            .map(|s| s.iter().map(|s| s.connections).sum())
    }

    /// Whether any pooler answered.
    pub fn answered(&self) -> bool {
        self.poolers.iter().any(|p| p.samples > p.unanswered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::history::{Event, Role};
    use proptest::prelude::*;

    #[test]
    fn the_alert_condition_is_over_ninety_percent_of_a_known_pool_size() {
        let at = |active, size| saturated(&pool_sample("b1", "pg1", ms(0), ms(1), size, active));
        assert!(!at(18, 20), "90 % is not over 90 %");
        assert!(at(19, 20));
        assert!(at(20, 20));
        assert!(at(10, 10));
        assert!(!at(9, 10));
        assert!(!at(5, 0), "an unknown pool size shows nothing");
        let mut silent = pool_sample("b1", "pg1", ms(0), ms(1), 20, 20);
        silent.error = Some("connection refused".into());
        assert!(!saturated(&silent));
    }

    /// One pooler of pool size 20 sampled every `period` ms from 0 to `end` ms, each answered
    /// `latency` ms after it was sent, with 19 server connections active when answered inside
    /// `[t0, t1)` ms, else 2.
    fn planted(period: u64, end: u64, latency: u64, t0: u64, t1: u64) -> Vec<Event> {
        (0..end)
            .step_by(period as usize)
            .map(|t| {
                let answered = t + latency;
                let active = if (t0..t1).contains(&answered) { 19 } else { 2 };
                Event::Pool(pool_sample(
                    "pgbouncer1",
                    "pg1",
                    ms(t),
                    ms(answered),
                    20,
                    active,
                ))
            })
            .collect()
    }

    #[test]
    fn an_alert_held_for_2_5_s_is_measured_within_one_sample_interval() {
        let h = history(planted(250, 6_000, 3, 1_100, 3_600));
        let m = pool(&h, false).unwrap();
        let p = &m.poolers[0];
        // the first answer showing it was sent at 1.25 s (answered 1.253 s), the first not
        // showing it at 3.75 s (the one sent at 3.5 s was answered at 3.503 s, still inside)
        assert_eq!(
            p.saturated,
            [SaturatedSpan {
                from: ms(1_250),
                to: ms(3_750),
                open: false
            }]
        );
        let measured = m.saturated_time.unwrap();
        assert_eq!(measured, Duration::from_millis(2_500));
        assert_eq!(p.saturated_time, Some(measured));
        assert_eq!(m.peak_active, Some(19));
        assert_eq!(p.peak_at, Some(ms(1_250)));
        assert_eq!(p.pool_size, Some(20));
        assert_eq!((p.samples, p.unanswered), (24, 0));
        assert_eq!(m.stale, None, "not looked for without a role source");
    }

    #[test]
    fn an_alert_still_held_at_the_end_is_open_and_unanswered_samples_are_not_zero_use() {
        let mut events = planted(250, 2_000, 2, 1_000, 10_000);
        // the pooler stops answering at 2 s: the span ends there, and nothing counts as 0
        for t in [2_000, 2_250] {
            let mut s = pool_sample("pgbouncer1", "pg1", ms(t), ms(t + 1_000), 20, 0);
            s.pools.clear();
            s.error = Some("timed out".into());
            events.push(Event::Pool(s));
        }
        let m = pool(&history(events.clone()), false).unwrap();
        let p = &m.poolers[0];
        assert_eq!(
            p.saturated,
            [SaturatedSpan {
                from: ms(1_000),
                to: ms(2_000),
                open: false
            }]
        );
        assert_eq!((p.samples, p.unanswered), (10, 2));
        assert_eq!(p.max_waiting, Some(0));

        // without the unanswered samples, the last answer still shows it: open to its answer
        events.retain(|e| !matches!(e, Event::Pool(s) if s.error.is_some()));
        let m = pool(&history(events), false).unwrap();
        assert_eq!(
            m.poolers[0].saturated,
            [SaturatedSpan {
                from: ms(1_000),
                to: ms(1_752),
                open: true
            }]
        );

        // a pooler that never answered: nothing measured, not zero
        let mut silent = pool_sample("pgbouncer2", "pg2", ms(0), ms(5), 20, 0);
        silent.error = Some("connection refused".into());
        let m = pool(&history(vec![Event::Pool(silent)]), false).unwrap();
        assert!(!m.answered());
        assert_eq!(
            (
                m.peak_active,
                m.saturated_time,
                m.clients_waiting,
                m.client_max_wait
            ),
            (None, None, None, None)
        );
        assert_eq!(m.poolers[0].unanswered, 1);
    }

    #[test]
    fn waiting_clients_and_their_longest_wait_over_poolers() {
        let mut a = pool_sample("pgbouncer1", "pg1", ms(0), ms(1), 20, 20);
        a.pools[0].cl_waiting = 7;
        a.pools[0].maxwait_us = 1_500_000;
        let mut b = pool_sample("pgbouncer2", "pg2", ms(0), ms(1), 20, 1);
        b.pools[0].cl_waiting = 2;
        b.pools[0].maxwait_us = 2_250_000;
        let m = pool(&history(vec![Event::Pool(a), Event::Pool(b)]), false).unwrap();
        assert_eq!(m.clients_waiting, Some(7));
        assert_eq!(m.client_max_wait, Some(Duration::from_millis(2_250)));
        let names: Vec<&str> = m.poolers.iter().map(|p| p.pooler.as_str()).collect();
        assert_eq!(names, ["pgbouncer1", "pgbouncer2"]);
        // two poolers saturated at once count once
        assert_eq!(m.poolers[0].saturated_time, Some(Duration::from_millis(1)));
        assert_eq!(m.saturated_time, Some(Duration::from_millis(1)));
    }

    #[test]
    fn overlapping_spans_of_two_poolers_count_once() {
        let span = |from, to| SaturatedSpan {
            from: ms(from),
            to: ms(to),
            open: false,
        };
        let mut spans = vec![span(3_000, 4_000), span(0, 1_000), span(500, 2_000)];
        assert_eq!(union_length(&mut spans), Duration::from_millis(3_000));
        assert_eq!(union_length(&mut []), Duration::ZERO);
    }

    /// pg1 leads until 5 s, pg2 from then (each probed every 100 ms); pgbouncer1 (pg1's
    /// pooler) and pgbouncer2 (pg2's) sampled every 250 ms, each holding `pg1_held` and 2 server
    /// connections after the change.
    fn failover_with_poolers(pg1_held: u64) -> Vec<Event> {
        let mut events = Vec::new();
        for t in (0..10_000).step_by(100) {
            let (r1, r2) = if t < 5_000 {
                (Some(Role::Leader), Some(Role::Replica))
            } else {
                (Some(Role::Replica), Some(Role::Leader))
            };
            events.push(probe("pg1", ms(t), ms(t + 2), r1));
            events.push(probe("pg2", ms(t), ms(t + 2), r2));
        }
        for t in (0..10_000).step_by(250) {
            let (b1, b2) = if t >= 5_000 {
                let mut b1 = pool_sample("pgbouncer1", "pg1", ms(t + 1), ms(t + 3), 20, 0);
                b1.pools[0].sv_idle = pg1_held;
                let b2 = pool_sample("pgbouncer2", "pg2", ms(t + 1), ms(t + 3), 20, 2);
                (
                    with_servers(b1, pg1_held, "idle"),
                    with_servers(b2, 2, "active"),
                )
            } else {
                let b1 = pool_sample("pgbouncer1", "pg1", ms(t + 1), ms(t + 3), 20, 3);
                let b2 = pool_sample("pgbouncer2", "pg2", ms(t + 1), ms(t + 3), 20, 0);
                (with_servers(b1, 3, "active"), b2)
            };
            events.push(Event::Pool(b1));
            events.push(Event::Pool(b2));
        }
        events
    }

    #[test]
    fn connections_to_a_demoted_leader_after_a_failover_are_found() {
        let m = pool(&history(failover_with_poolers(3)), true).unwrap();
        // pg2 is first seen leading in the sample sent at 5 s, received at 5.002 s: the first
        // pool sample sent after that is at 5.251 s (the one sent at 5.001 s may have been
        // answered before the change), then every 250 ms to 9.751 s
        assert_eq!(
            m.stale,
            Some(vec![StaleServers {
                pooler: "pgbouncer1".into(),
                server: "pg1".into(),
                connections: 3,
                samples: 19,
                first: ms(5_251),
                last: ms(9_751),
            }])
        );
        assert_eq!(m.stale_connections(), Some(3));
    }

    #[test]
    fn none_when_the_poolers_node_stays_leader_or_drops_its_connections() {
        // pgbouncer1 closed every connection to pg1; pgbouncer2's go to the new leader
        let m = pool(&history(failover_with_poolers(0)), true).unwrap();
        assert_eq!(m.stale, Some(vec![]));
        assert_eq!(m.stale_connections(), Some(0));

        // no leader change: pg1's pooler keeps its connections, and they are not stale
        let mut events: Vec<Event> = (0..5_000)
            .step_by(100)
            .map(|t| probe("pg1", ms(t), ms(t + 2), Some(Role::Leader)))
            .collect();
        events.extend((0..5_000).step_by(250).map(|t| {
            Event::Pool(with_servers(
                pool_sample("pgbouncer1", "pg1", ms(t), ms(t + 1), 20, 3),
                3,
                "active",
            ))
        }));
        let m = pool(&history(events), true).unwrap();
        assert_eq!(m.stale, Some(vec![]));
    }

    #[test]
    fn logins_and_unanswered_samples_are_not_stale_and_pools_stand_in_for_missing_rows() {
        let mut events = failover_with_poolers(0);
        // after the change, pgbouncer1 tries to log in to pg1, then (once) answers with no
        // SHOW SERVERS rows but one idle connection in SHOW POOLS, then fails to answer
        let mut login = pool_sample("pgbouncer1", "pg1", ms(6_010), ms(6_012), 20, 0);
        login.pools[0].sv_login = 1;
        login = with_servers(login, 1, "new");
        let mut idle = pool_sample("pgbouncer1", "pg1", ms(7_010), ms(7_012), 20, 0);
        idle.pools[0].sv_idle = 1;
        let mut silent = pool_sample("pgbouncer1", "pg1", ms(8_010), ms(8_012), 20, 0);
        silent.pools[0].sv_idle = 4;
        silent.error = Some("timed out".into());
        events.extend([login, idle, silent].map(Event::Pool));
        let m = pool(&history(events), true).unwrap();
        let stale = m.stale.unwrap();
        assert_eq!(stale.len(), 1);
        assert_eq!(
            (stale[0].connections, stale[0].samples, stale[0].first),
            (1, 1, ms(7_010))
        );
    }

    #[test]
    fn a_history_without_pool_samples_has_no_pool_measurements() {
        let h = history(vec![probe("pg1", ms(0), ms(1), Some(Role::Leader))]);
        assert_eq!(pool(&h, true), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The alert held from `t0` for `len`: the measured time is within one sample interval
        /// plus one answer's latency of it.
        #[test]
        fn planted_saturation_is_measured_within_its_bound(
            period in 50u64..500,
            latency in 0u64..40,
            t0 in 100u64..3_000,
            len in 0u64..5_000,
        ) {
            let latency = latency.min(period - 1);
            let end = t0 + len + 2 * period + latency + 1;
            let m = pool(&history(planted(period, end, latency, t0, t0 + len)), false).unwrap();
            let measured = m.saturated_time.unwrap().as_millis() as i64;
            let bound = (period + latency) as i64;
            prop_assert!((measured - len as i64).abs() <= bound,
                "planted {len} ms, measured {measured} ms, bound {bound} ms");
            prop_assert!(m.poolers[0].saturated.iter().all(|s| !s.open));
        }
    }
}
