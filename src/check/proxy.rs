//! When the client endpoint (HAProxy) switched to the new leader, from its own view of its
//! servers (the stats page, sampled with the other probes).

use super::rto::Window;
use crate::history::{History, ProxySample};
use std::time::Duration;

/// The history's proxy samples ordered by received instant (then sent instant).
pub(crate) fn ordered(history: &History) -> Vec<&ProxySample> {
    let mut samples: Vec<&ProxySample> = history.proxy_samples().collect();
    samples.sort_by_key(|p| (p.received, p.sent));
    samples
}

/// **Proxy switch time**: from `F` (the window's start) to the `received` instant of the first
/// proxy sample (by received instant), sent at or after `F` and before the window's end, in
/// which the server of `new_leader` is the only server UP. From then on HAProxy hands new
/// connections to the new leader only. `None` if no such sample: the proxy was not seen
/// switching (a proxy blind to roles, which keeps replicas or the old leader UP, never does).
///
/// `samples` must be ordered by received instant.
pub(crate) fn switch_time(
    samples: &[&ProxySample],
    window: Window,
    new_leader: &str,
) -> Option<Duration> {
    samples
        .iter()
        .filter(|s| s.sent >= window.start && window.before_end(s.sent))
        .find(|s| {
            s.server(new_leader).is_some_and(|n| n.is_up())
                && s.servers.iter().filter(|s| s.is_up()).count() == 1
        })
        .map(|s| s.received.since(window.start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{MS, ms, proxy};
    use crate::history::{At, Event};
    use proptest::prelude::*;

    fn sample(sent: At, received: At, up: &[&str]) -> ProxySample {
        match proxy(sent, received, up) {
            Event::Proxy(p) => p,
            _ => unreachable!(),
        }
    }

    fn window(start: At) -> Window {
        Window { start, end: None }
    }

    #[test]
    fn the_first_sample_routing_to_the_new_leader_only() {
        let samples = [
            sample(ms(900), ms(901), &["pg1"]),
            sample(ms(1_100), ms(1_102), &["pg1"]),
            // both up: not yet switched
            sample(ms(1_200), ms(1_203), &["pg1", "pg2"]),
            sample(ms(1_300), ms(1_304), &[]),
            sample(ms(1_400), ms(1_406), &["pg2"]),
            sample(ms(1_500), ms(1_501), &["pg2"]),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(
            switch_time(&refs, window(ms(1_000)), "pg2"),
            Some(Duration::from_millis(406))
        );
        assert_eq!(switch_time(&refs, window(ms(1_000)), "pg3"), None);
    }

    #[test]
    fn another_server_up_beside_the_new_leader_is_not_a_switch() {
        // pg1 crashed and pg3 leads, but HAProxy still has the replica pg2 UP: with a
        // role-blind check it may hand it connections.
        let samples = [
            sample(ms(1_100), ms(1_102), &["pg2", "pg3"]),
            sample(ms(1_200), ms(1_203), &["pg3"]),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(
            switch_time(&refs, window(ms(1_000)), "pg3"),
            Some(Duration::from_millis(203))
        );
    }

    #[test]
    fn a_proxy_that_keeps_the_old_leader_up_never_switches() {
        let samples = [
            sample(ms(1_100), ms(1_102), &["pg1", "pg2", "pg3"]),
            sample(ms(1_200), ms(1_203), &["pg1", "pg2", "pg3"]),
        ];
        let refs: Vec<_> = samples.iter().collect();
        assert_eq!(switch_time(&refs, window(ms(1_000)), "pg2"), None);
    }

    proptest! {
        /// Planted: the proxy routes to pg1 until `switch` samples after F, then to pg2 only,
        /// with a down gap of `gap` samples between; sample `k` is sent at F + k·period.
        #[test]
        fn the_planted_switch_is_found(
            switch in 0u64..50,
            gap in 0u64..5,
            period in 10u64..500,
            latency in 0u64..10,
        ) {
            let f = ms(5_000);
            let at = |k: u64| At(f.0 + k * period * MS);
            let samples: Vec<ProxySample> = (0..60)
                .map(|k| {
                    let up: &[&str] = if k < switch {
                        &["pg1"]
                    } else if k < switch + gap {
                        &[]
                    } else {
                        &["pg2"]
                    };
                    sample(at(k), at(k).plus(Duration::from_millis(latency)), up)
                })
                .collect();
            let refs: Vec<_> = samples.iter().collect();
            let planted = switch + gap;
            let expected = (planted < 60).then(|| {
                Duration::from_millis(planted * period + latency)
            });
            prop_assert_eq!(switch_time(&refs, window(f), "pg2"), expected);
        }
    }
}
