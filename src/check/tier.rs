//! What an application tier in front of the database showed: which server answered each
//! acknowledged write, the HTTP statuses of the requests that did not succeed, and, from
//! HAProxy's view of the servers (its stats, sampled on the run's clock), how it drained a
//! server a fault hit: when it stopped counting the server up (after which it assigns it no new
//! request), how many requests it assigned the server meanwhile and after, how many it took
//! away to another server (`option redispatch`), and when the server was back in rotation.
//!
//! Each sample's answer was held at some instant in `[sent, received]`; instants are taken at
//! `received` (as for the proxy switch), so each is known to within one sample interval.
//! HAProxy's counters only grow while it runs: a difference between two samples is what
//! happened between them.

use crate::history::{At, Outcome, ProxySample, TierServer, WriteOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The application tier's measurements. Present only when the history holds writes through an
/// application tier or samples of one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TierMeasurements {
    /// Acknowledged writes per application server that answered them.
    pub answered: BTreeMap<String, u64>,
    /// Requests that did not succeed but got an HTTP answer, by its status (the proxy's own
    /// 503, 502 and 504 included); requests that got none are counted by error kind only.
    pub failed_statuses: BTreeMap<u16, u64>,
    /// **Requests redispatched**: requests HAProxy took away from a server whose connection
    /// failed and sent to another, over the run (the servers' `wredis`, last answered sample
    /// against the first). `None` without two answered samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redispatched: Option<u64>,
    /// One entry per fault that hit an application server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drains: Vec<Drain>,
}

/// How HAProxy drained one application server a fault hit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Drain {
    /// The fault's index in the scenario's schedule.
    pub fault: usize,
    pub server: String,
    /// **Drain time**: `F` → the first sample, sent at or after `F`, in which HAProxy no longer
    /// counts the server up (`DOWN`, `MAINT`...): from then it assigns it no new request. `None`
    /// if no sample showed it so before the fault's window ended.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub drain_time: Option<Duration>,
    /// Requests HAProxy assigned the server from the last sample before `F` to the sample that
    /// showed it drained: sent to a server the fault had hit (redispatched, retried or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_before_drain: Option<u64>,
    /// Requests HAProxy assigned the server after the sample that showed it drained, up to the
    /// last sample before it was counted up again (or the window's end): 0 when the drain held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_after_drain: Option<u64>,
    /// Requests taken away from the server to another from the last sample before `F` to the
    /// window's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redispatched: Option<u64>,
    /// The heal → the first sample, sent at or after the heal, in which the server is counted
    /// up again after its drain. `None` if not healed, never drained, or not seen up again.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub back_in_rotation: Option<Duration>,
}

/// A fault as the drain needs it: its index, the node it hit, when, and the end of its window.
pub struct FaultOnServer<'a> {
    pub fault: usize,
    pub node: &'a str,
    pub injected_at: At,
    pub healed_at: Option<At>,
    /// Where the next fault's window starts, if any.
    pub window_end: Option<At>,
}

/// The tier's measurements; `None` when the history holds no write through an application
/// tier and no sample of one. `samples` ordered by received instant.
pub fn tier(
    writes: &[&WriteOp],
    samples: &[&ProxySample],
    faults: &[FaultOnServer<'_>],
) -> Option<TierMeasurements> {
    let answered_samples: Vec<&ProxySample> = samples
        .iter()
        .copied()
        .filter(|s| s.error.is_none() && !s.tier.is_empty())
        .collect();
    let through_tier = writes.iter().any(|w| w.via.is_some() || w.status.is_some());
    if !through_tier && answered_samples.is_empty() {
        return None;
    }
    let mut answered = BTreeMap::new();
    let mut failed_statuses = BTreeMap::new();
    for w in writes {
        match (w.outcome, &w.via, w.status) {
            (Outcome::Ok, Some(via), _) => *answered.entry(via.clone()).or_default() += 1,
            (Outcome::Ok, None, _) => {}
            (_, _, Some(status)) => *failed_statuses.entry(status).or_default() += 1,
            _ => {}
        }
    }
    let total = |s: &ProxySample| s.tier.iter().map(|t| t.redispatched).sum::<u64>();
    let redispatched = match (answered_samples.first(), answered_samples.last()) {
        (Some(first), Some(last)) if answered_samples.len() > 1 => {
            Some(total(last).saturating_sub(total(first)))
        }
        _ => None,
    };
    let drains = faults
        .iter()
        .filter(|f| {
            answered_samples
                .iter()
                .any(|s| s.tier_server(f.node).is_some())
        })
        .map(|f| drain(&answered_samples, f))
        .collect();
    Some(TierMeasurements {
        answered,
        failed_statuses,
        redispatched,
        drains,
    })
}

/// How HAProxy drained the server `fault` hit (see [`Drain`]). `samples`: answered ones,
/// ordered by received instant.
fn drain(samples: &[&ProxySample], fault: &FaultOnServer<'_>) -> Drain {
    let in_window = |s: &&&ProxySample| fault.window_end.is_none_or(|end| s.sent < end);
    let server = |s: &ProxySample| s.tier_server(fault.node).cloned();
    // the last view before F: the counters' base
    let base: Option<TierServer> = samples
        .iter()
        .rev()
        .find(|s| s.received <= fault.injected_at)
        .and_then(|s| server(s));
    let after: Vec<(&ProxySample, TierServer)> = samples
        .iter()
        .filter(|s| s.sent >= fault.injected_at)
        .filter(in_window)
        .filter_map(|s| Some((*s, server(s)?)))
        .collect();
    let drained = after.iter().position(|(_, t)| !t.is_up());
    let mut d = Drain {
        fault: fault.fault,
        server: fault.node.to_owned(),
        ..Drain::default()
    };
    d.redispatched = match (&base, after.last()) {
        (Some(b), Some((_, last))) => Some(last.redispatched.saturating_sub(b.redispatched)),
        _ => None,
    };
    let Some(drained) = drained else {
        return d;
    };
    let (at, down) = &after[drained];
    d.drain_time = Some(at.received.since(fault.injected_at));
    d.assigned_before_drain = base
        .as_ref()
        .map(|b| down.sessions_total.saturating_sub(b.sessions_total));
    // up again: the first sample after the drain counting it up
    let back = after[drained..].iter().position(|(_, t)| t.is_up());
    let last_down = match back {
        Some(0) | None => after.last(),
        Some(i) => after.get(drained + i - 1),
    };
    // HAProxy restarted in between would start its counters over: never a negative count
    d.assigned_after_drain =
        last_down.map(|(_, t)| t.sessions_total.saturating_sub(down.sessions_total));
    if let (Some(i), Some(healed)) = (back, fault.healed_at) {
        d.back_in_rotation = after[drained + i..]
            .iter()
            .find(|(s, t)| s.sent >= healed && t.is_up())
            .map(|(s, _)| s.received.since(healed));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> At {
        At::from_duration(Duration::from_millis(ms))
    }

    fn server(name: &str, status: &str, stot: u64, wredis: u64) -> TierServer {
        TierServer {
            name: name.into(),
            status: status.into(),
            check: "L7OK".into(),
            sessions_total: stot,
            redispatched: wredis,
            retried: 0,
            connect_errors: 0,
            response_errors: 0,
        }
    }

    /// app2 crashed at 1 s: assigned requests until marked down at 3 s (10 of them, all
    /// redispatched), none while down, back up at 5.5 s after a heal at 5 s.
    fn samples() -> Vec<ProxySample> {
        let view = |t: u64, status: &str, stot: u64, wredis: u64| ProxySample {
            sent: at(t),
            received: at(t + 5),
            servers: vec![],
            tier: vec![
                server("app1", "UP", t, 0),
                server("app2", status, stot, wredis),
            ],
            error: None,
        };
        vec![
            view(0, "UP", 100, 0),
            view(900, "UP", 190, 0),
            view(2000, "UP 1/3", 195, 5),
            view(3000, "DOWN", 200, 10),
            view(4000, "DOWN", 200, 10),
            view(5500, "UP", 210, 10),
        ]
    }

    fn crash(healed: Option<u64>) -> FaultOnServer<'static> {
        FaultOnServer {
            fault: 0,
            node: "app2",
            injected_at: at(1000),
            healed_at: healed.map(at),
            window_end: None,
        }
    }

    #[test]
    fn a_drained_server_is_measured_from_haproxy_s_view() {
        let owned = samples();
        let samples: Vec<&ProxySample> = owned.iter().collect();
        let m = tier(&[], &samples, &[crash(Some(5000))]).unwrap();
        assert_eq!(m.redispatched, Some(10));
        assert_eq!(
            m.drains,
            [Drain {
                fault: 0,
                server: "app2".into(),
                drain_time: Some(Duration::from_millis(2005)),
                assigned_before_drain: Some(10),
                assigned_after_drain: Some(0),
                redispatched: Some(10),
                back_in_rotation: Some(Duration::from_millis(505)),
            }]
        );
    }

    #[test]
    fn requests_assigned_after_the_drain_are_counted_and_an_undrained_server_has_no_drain_time() {
        let mut owned = samples();
        owned[4].tier[1].sessions_total = 203; // assigned while down: the drain did not hold
        let samples: Vec<&ProxySample> = owned.iter().collect();
        let m = tier(&[], &samples, &[crash(None)]).unwrap();
        assert_eq!(m.drains[0].assigned_after_drain, Some(3));
        assert_eq!(m.drains[0].back_in_rotation, None);

        let never_down: Vec<ProxySample> = owned
            .iter()
            .cloned()
            .map(|mut s| {
                s.tier[1].status = "UP".into();
                s
            })
            .collect();
        let samples: Vec<&ProxySample> = never_down.iter().collect();
        let d = &tier(&[], &samples, &[crash(None)]).unwrap().drains[0];
        assert_eq!(
            (
                d.drain_time,
                d.assigned_before_drain,
                d.assigned_after_drain
            ),
            (None, None, None)
        );
    }

    #[test]
    fn answers_are_counted_by_server_and_failures_by_status() {
        let write = |outcome, via: Option<&str>, status| WriteOp {
            seq: 1,
            invoke: at(0),
            complete: at(1),
            outcome,
            node: None,
            timeline: None,
            via: via.map(str::to_owned),
            status,
            error: None,
            error_kind: None,
        };
        let writes = [
            write(Outcome::Ok, Some("app1"), Some(200)),
            write(Outcome::Ok, Some("app1"), Some(200)),
            write(Outcome::Ok, Some("app3"), Some(200)),
            write(Outcome::Fail, None, Some(503)),
            write(Outcome::Unknown, None, Some(504)),
            write(Outcome::Unknown, None, None),
        ];
        let refs: Vec<&WriteOp> = writes.iter().collect();
        let m = tier(&refs, &[], &[]).unwrap();
        assert_eq!(
            m.answered,
            BTreeMap::from([("app1".into(), 2), ("app3".into(), 1)])
        );
        assert_eq!(m.failed_statuses, BTreeMap::from([(503, 1), (504, 1)]));
        assert_eq!(m.redispatched, None);
        // no tier at all: not applicable
        let plain = [write(Outcome::Ok, None, None)];
        assert_eq!(tier(&[&plain[0]], &[], &[]), None);
    }
}
