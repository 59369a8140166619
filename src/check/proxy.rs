//! When the client endpoint (HAProxy) switched to the new leader, and when it took the old
//! leader out of rotation, from its own view of its servers (the stats page, sampled with the
//! other probes).

use super::rto::Window;
use crate::history::{History, ProxySample};
use std::time::Duration;

/// The history's proxy samples ordered by received instant (then sent instant).
pub(crate) fn ordered(history: &History) -> Vec<&ProxySample> {
    let mut samples: Vec<&ProxySample> = history.proxy_samples().collect();
    samples.sort_by_key(|p| (p.received, p.sent));
    samples
}

/// `F` to the `received` instant of the first sample (by received instant), sent at or after
/// `F` and before the window's end, that satisfies `seen`.
fn first_after_f(
    samples: &[&ProxySample],
    window: Window,
    seen: impl Fn(&ProxySample) -> bool,
) -> Option<Duration> {
    samples
        .iter()
        .filter(|s| s.sent >= window.start && window.before_end(s.sent))
        .find(|s| seen(s))
        .map(|s| s.received.since(window.start))
}

/// **Proxy switch time**: from `F` (the window's start) to the `received` instant of the first
/// proxy sample (by received instant), sent at or after `F` and before the window's end, in
/// which the server of `new_leader` is UP and no server other than `new_leader`'s and
/// `old_leader`'s is UP. From then on HAProxy can hand new connections to the new leader: the
/// endpoint routes to it. The old leader may still be UP (failing checks, `UP 1/3`) and still
/// be handed new connections until it is out of rotation (see [`old_leader_out_time`]); a
/// replica UP beside the new leader (a proxy blind to roles) is not a switch. `None` if no
/// such sample.
///
/// `samples` must be ordered by received instant.
pub(crate) fn switch_time(
    samples: &[&ProxySample],
    window: Window,
    old_leader: &str,
    new_leader: &str,
) -> Option<Duration> {
    first_after_f(samples, window, |s| {
        s.server(new_leader).is_some_and(|n| n.is_up())
            && s.servers
                .iter()
                .filter(|s| s.is_up())
                .all(|s| s.name == new_leader || s.name == old_leader)
    })
}

/// **Old leader out of rotation**: from `F` (the window's start) to the `received` instant of
/// the first proxy sample (by received instant), sent at or after `F` and before the window's
/// end, that lists `old_leader`'s server with a status other than UP (`DOWN`, `MAINT`,
/// `DRAIN`, ...). A server failing its checks but not yet marked down (`UP 1/3`) is still UP:
/// HAProxy still hands it new connections. `None` if no such sample.
///
/// `samples` must be ordered by received instant.
pub(crate) fn old_leader_out_time(
    samples: &[&ProxySample],
    window: Window,
    old_leader: &str,
) -> Option<Duration> {
    first_after_f(samples, window, |s| {
        s.server(old_leader).is_some_and(|n| !n.is_up())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{MS, ms, proxy};
    use crate::history::{At, Event, ProxyServer};
    use proptest::prelude::*;

    fn sample(sent: At, received: At, up: &[&str]) -> ProxySample {
        match proxy(sent, received, up) {
            Event::Proxy(p) => p,
            _ => unreachable!(),
        }
    }

    /// A sample with HAProxy's own status words per server.
    fn statuses(sent: At, received: At, servers: &[(&str, &str)]) -> ProxySample {
        ProxySample {
            tier: vec![],
            sent,
            received,
            servers: servers
                .iter()
                .map(|(name, status)| ProxyServer {
                    name: name.to_string(),
                    status: status.to_string(),
                    sessions: 0,
                })
                .collect(),
            error: None,
        }
    }

    fn window(start: At) -> Window {
        Window { start, end: None }
    }

    #[test]
    fn the_switch_is_the_new_leader_up_while_the_old_one_still_fails_its_checks() {
        // The drill of issue 11: SIGTERM of pg1, HAProxy inter 3s fall 3 rise 2. pg2 is UP at
        // +9.2 s while pg1 is still "UP 1/3"; pg1 is marked DOWN only at +17.2 s.
        let f = ms(10_000);
        let samples = [
            statuses(
                ms(9_900),
                ms(9_901),
                &[("pg1", "UP"), ("pg2", "DOWN"), ("pg3", "DOWN")],
            ),
            statuses(
                ms(12_000),
                ms(12_001),
                &[("pg1", "UP 1/3"), ("pg2", "DOWN"), ("pg3", "DOWN")],
            ),
            statuses(
                ms(19_000),
                ms(19_002),
                &[("pg1", "UP 1/3"), ("pg2", "DOWN 1/2"), ("pg3", "DOWN")],
            ),
            statuses(
                ms(19_200),
                ms(19_203),
                &[("pg1", "UP 1/3"), ("pg2", "UP"), ("pg3", "DOWN")],
            ),
            statuses(
                ms(23_000),
                ms(23_001),
                &[("pg1", "UP 2/3"), ("pg2", "UP"), ("pg3", "DOWN")],
            ),
            statuses(
                ms(27_200),
                ms(27_204),
                &[("pg1", "DOWN"), ("pg2", "UP"), ("pg3", "DOWN")],
            ),
            statuses(
                ms(27_300),
                ms(27_301),
                &[("pg1", "MAINT"), ("pg2", "UP"), ("pg3", "DOWN")],
            ),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(
            switch_time(&refs, window(f), "pg1", "pg2"),
            Some(Duration::from_millis(9_203))
        );
        assert_eq!(
            old_leader_out_time(&refs, window(f), "pg1"),
            Some(Duration::from_millis(17_204))
        );
        // "DOWN 1/2" (down, passing checks) is not UP; the sample before F is not read
        assert_eq!(
            old_leader_out_time(&refs, window(f), "pg2"),
            Some(Duration::from_millis(2_001))
        );
        assert_eq!(
            old_leader_out_time(&refs, window(f), "pg9"),
            None,
            "not a server"
        );
    }

    #[test]
    fn the_first_sample_routing_to_the_new_leader() {
        let samples = [
            sample(ms(900), ms(901), &["pg1"]),
            sample(ms(1_100), ms(1_102), &["pg1"]),
            sample(ms(1_200), ms(1_203), &[]),
            // the old leader still UP beside the new one: HAProxy can route to pg2
            sample(ms(1_300), ms(1_304), &["pg1", "pg2"]),
            sample(ms(1_400), ms(1_406), &["pg2"]),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(
            switch_time(&refs, window(ms(1_000)), "pg1", "pg2"),
            Some(Duration::from_millis(304))
        );
        assert_eq!(
            old_leader_out_time(&refs, window(ms(1_000)), "pg1"),
            Some(Duration::from_millis(203))
        );
        assert_eq!(switch_time(&refs, window(ms(1_000)), "pg1", "pg3"), None);
        // a window ending before the switch was sampled
        let w = Window {
            start: ms(1_000),
            end: Some(ms(1_300)),
        };
        assert_eq!(switch_time(&refs, w, "pg1", "pg2"), None);
    }

    #[test]
    fn a_replica_up_beside_the_new_leader_is_not_a_switch() {
        // pg1 crashed and pg3 leads, but HAProxy still has the replica pg2 UP: with a
        // role-blind check it may hand it connections.
        let samples = [
            sample(ms(1_100), ms(1_102), &["pg2", "pg3"]),
            sample(ms(1_150), ms(1_152), &["pg1", "pg2", "pg3"]),
            sample(ms(1_200), ms(1_203), &["pg3"]),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(
            switch_time(&refs, window(ms(1_000)), "pg1", "pg3"),
            Some(Duration::from_millis(203))
        );
    }

    #[test]
    fn a_proxy_that_keeps_replicas_up_never_switches() {
        let samples = [
            sample(ms(1_100), ms(1_102), &["pg1", "pg2", "pg3"]),
            sample(ms(1_200), ms(1_203), &["pg2", "pg3"]),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(switch_time(&refs, window(ms(1_000)), "pg1", "pg2"), None);
        assert_eq!(
            old_leader_out_time(&refs, window(ms(1_000)), "pg1"),
            Some(Duration::from_millis(203))
        );
    }

    proptest! {
        /// Planted: pg1 UP until `fail` samples after F, then failing its checks (`UP 1/3`)
        /// until `fail + down`, then DOWN; pg2 UP from `up` samples after F; pg3 DOWN
        /// throughout. Sample `k` is sent at F + k·period.
        #[test]
        fn the_planted_switch_and_removal_are_found(
            fail in 0u64..20,
            down in 0u64..30,
            up in 0u64..50,
            period in 10u64..500,
            latency in 0u64..10,
        ) {
            let f = ms(5_000);
            let at = |k: u64| At(f.0 + k * period * MS);
            let samples: Vec<ProxySample> = (0..60)
                .map(|k| {
                    let old = if k < fail {
                        "UP"
                    } else if k < fail + down {
                        "UP 1/3"
                    } else {
                        "DOWN"
                    };
                    let new = if k < up { "DOWN" } else { "UP" };
                    let servers = [("pg1", old), ("pg2", new), ("pg3", "DOWN")];
                    statuses(at(k), at(k).plus(Duration::from_millis(latency)), &servers)
                })
                .collect();
            let refs: Vec<_> = samples.iter().collect();
            let when = |k: u64| (k < 60).then(|| Duration::from_millis(k * period + latency));
            prop_assert_eq!(switch_time(&refs, window(f), "pg1", "pg2"), when(up));
            prop_assert_eq!(old_leader_out_time(&refs, window(f), "pg1"), when(fail + down));
        }
    }
}
