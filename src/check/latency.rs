//! Write latency before, during and after each fault.
//!
//! A write's latency is `complete − invoke` of an `ok` write. Each fault's window (see
//! [`Window`]) is cut into three phases by the invoke instants of its writes:
//!
//! - *before*: `[before_from, F)`, where `before_from` is the end of the previous fault's
//!   *during* phase, or the run's start for the first fault: the writes since the previous fault
//!   was over (they are also that fault's *after*);
//! - *during*: `[F, during_until)`: up to the end of the outage's recovery write
//!   (`recovered_at`, or that of an unconfirmed recovery) if writes stopped and recovered, to
//!   the window's end if they never recovered, and, if writes never stopped, up to the fault's heal (its `at`) if it has one
//!   within the window, else empty (`during_until = F`);
//! - *after*: `[during_until, end of the window)`.

use super::rto::{Outage, Window};
use super::writes::is_ok;
use crate::history::{At, WriteOp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The latency of the `ok` writes of one phase: their count and nearest-rank percentiles. The
/// `p`-th percentile of `n` latencies in ascending order is the one at rank `⌈p·n/100⌉`
/// (1-based): a latency that `p`% of the writes did not exceed. `max` is the one at rank `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub count: u64,
    #[serde(with = "humantime_serde")]
    pub p50: Duration,
    #[serde(with = "humantime_serde")]
    pub p95: Duration,
    #[serde(with = "humantime_serde")]
    pub p99: Duration,
    #[serde(with = "humantime_serde")]
    pub max: Duration,
}

/// The latency of `ok` writes before, during and after one fault. A phase without `ok` writes
/// is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteLatency {
    /// Where the *before* phase starts: the previous fault's `during_until`, or the run's start.
    pub before_from: At,
    /// Where the *during* phase ends and the *after* phase starts; `None`: the during phase runs
    /// to the end of the history (writes never recovered, and no later fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub during_until: Option<At>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<LatencyStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub during: Option<LatencyStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<LatencyStats>,
}

/// The end of the *during* phase of the fault whose window is `window` (see the module's
/// definition), never past the window's end; `None`: the end of the history.
pub(crate) fn during_until(window: Window, outage: &Outage, healed_at: Option<At>) -> Option<At> {
    let until = if outage.start.is_some() {
        // writes stopped: to the recovery (confirmed or not), or the window's end if they
        // never recovered
        outage
            .recovered_at
            .or(outage.unconfirmed.map(|u| u.recovered_at))
            .or(window.end)
    } else {
        Some(healed_at.unwrap_or(window.start))
    };
    match (until, window.end) {
        (Some(u), Some(end)) => Some(u.min(end)),
        (None, end) => end,
        (u, None) => u,
    }
}

/// Latency statistics of `latencies` (any order); `None` if it is empty.
pub(crate) fn stats(mut latencies: Vec<Duration>) -> Option<LatencyStats> {
    latencies.sort_unstable();
    let n = latencies.len();
    let max = *latencies.last()?;
    // rank ⌈p·n/100⌉, at least 1
    let at = |p: usize| latencies[(p * n).div_ceil(100).max(1) - 1];
    Some(LatencyStats {
        count: n as u64,
        p50: at(50),
        p95: at(95),
        p99: at(99),
        max,
    })
}

/// The latencies of the `ok` writes invoked in `[from, until)` (`until` `None`: no end).
fn phase(writes: &[&WriteOp], from: At, until: Option<At>) -> Option<LatencyStats> {
    stats(
        writes
            .iter()
            .filter(|w| is_ok(w) && w.invoke >= from && until.is_none_or(|u| w.invoke < u))
            .map(|w| w.complete.since(w.invoke))
            .collect(),
    )
}

/// **Write latency** before, during and after the fault whose window is `window`: see the
/// module's definition. `before_from` is the previous fault's `during_until` (the run's start for
/// the first fault), `during_until` this fault's (from [`during_until`]).
pub(crate) fn write_latency(
    writes: &[&WriteOp],
    window: Window,
    before_from: At,
    during_until: Option<At>,
) -> WriteLatency {
    let before_from = before_from.min(window.start);
    let after = match during_until {
        Some(d) => phase(writes, d, window.end),
        None => None,
    };
    WriteLatency {
        before_from,
        during_until,
        before: phase(writes, before_from, Some(window.start)),
        during: phase(writes, window.start, during_until),
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::rto::outage;
    use crate::check::testkit::*;
    use crate::check::writes::ordered;
    use proptest::prelude::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(stats(vec![]), None);
        let one = stats(vec![d(7)]).unwrap();
        assert_eq!(
            (one.count, one.p50, one.p99, one.max),
            (1, d(7), d(7), d(7))
        );
        // 1..=10 ms: p50 is rank 5, p95 and p99 rank 10
        let ten = stats((1..=10).rev().map(d).collect()).unwrap();
        assert_eq!(
            ten,
            LatencyStats {
                count: 10,
                p50: d(5),
                p95: d(10),
                p99: d(10),
                max: d(10)
            }
        );
        // 1..=200 ms: ranks 100, 190, 198
        let s = stats((1..=200).map(d).collect()).unwrap();
        assert_eq!(
            (s.p50, s.p95, s.p99, s.max),
            (d(100), d(190), d(198), d(200))
        );
        // 1..=101 ms: ranks ⌈50.5⌉ = 51, ⌈95.95⌉ = 96, ⌈99.99⌉ = 100
        let s = stats((1..=101).map(d).collect()).unwrap();
        assert_eq!((s.p50, s.p95, s.p99), (d(51), d(96), d(100)));
    }

    #[test]
    fn phases_split_at_the_fault_and_the_recovery() {
        let events = vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(10), ms(14), "pg1", 1),
            // F = 20 ms
            failed(3, ms(20), ms(21)),
            ok(4, ms(30), ms(39), "pg2", 2),
            // recovered at 39 ms: seq 5 was invoked before, seq 6 after
            ok(5, ms(35), ms(36), "pg2", 2),
            ok(6, ms(40), ms(41), "pg2", 2),
            ok(7, ms(50), ms(53), "pg2", 2),
        ];
        let w = Window {
            start: ms(20),
            end: None,
        };
        // writes (of 2 ms) for 5 s more confirm the recovery
        let mut h = history(events.clone());
        h.extend(steady(8, ms(60), "pg2", 2));
        let writes = ordered(&h);
        let o = outage(&writes, w);
        assert_eq!(o.recovered_at, Some(ms(39)));
        let until = during_until(w, &o, Some(ms(100)));
        assert_eq!(until, Some(ms(39)), "the recovery, not the heal");
        let l = write_latency(&writes, w, At(0), until);
        assert_eq!(l.before.unwrap().count, 2);
        assert_eq!(l.before.unwrap().max, d(4));
        assert_eq!(l.before.unwrap().p50, d(2));
        let during = l.during.unwrap();
        assert_eq!((during.count, during.p50, during.max), (2, d(1), d(9)));
        let after = l.after.unwrap();
        assert_eq!((after.count, after.p50, after.max), (53, d(2), d(3)));

        // without them the recovery is unconfirmed, but it still ends the during phase
        let h = history(events);
        let writes = ordered(&h);
        let o = outage(&writes, w);
        assert_eq!(o.recovered_at, None);
        assert_eq!(o.unconfirmed.map(|u| u.recovered_at), Some(ms(39)));
        let until = during_until(w, &o, Some(ms(100)));
        assert_eq!(until, Some(ms(39)));
        let l = write_latency(&writes, w, At(0), until);
        assert_eq!(l.during.unwrap().count, 2);
        let after = l.after.unwrap();
        assert_eq!((after.count, after.p50, after.max), (2, d(1), d(3)));
    }

    #[test]
    fn writes_that_never_stopped_are_during_the_fault_until_its_heal() {
        let h = history(
            (0..10)
                .map(|k| ok(k, ms(10 * k), ms(10 * k + 1 + k), "pg1", 1))
                .collect(),
        );
        let writes = ordered(&h);
        let w = Window {
            start: ms(20),
            end: Some(ms(80)),
        };
        let o = outage(&writes, w);
        assert_eq!(o.start, None);
        // healed at 50 ms: during is [20, 50)
        let until = during_until(w, &o, Some(ms(50)));
        assert_eq!(until, Some(ms(50)));
        let l = write_latency(&writes, w, ms(10), until);
        assert_eq!(l.before.unwrap().count, 1, "only the write at 10 ms");
        assert_eq!(l.during.unwrap().count, 3);
        assert_eq!(l.during.unwrap().max, d(5));
        assert_eq!(
            l.after.unwrap().count,
            3,
            "50, 60, 70 ms: the window ends at 80"
        );
        // no heal: the during phase is empty
        let until = during_until(w, &o, None);
        assert_eq!(until, Some(ms(20)));
        let l = write_latency(&writes, w, At(0), until);
        assert_eq!(l.during, None);
        assert_eq!(l.after.unwrap().count, 6);
        // a heal after the window's end is cut at the end
        assert_eq!(during_until(w, &o, Some(ms(500))), Some(ms(80)));
    }

    #[test]
    fn writes_that_never_recovered_are_during_the_fault_to_the_end() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(10), ms(11)),
            failed(3, ms(20), ms(21)),
        ]);
        let writes = ordered(&h);
        let w = Window {
            start: ms(5),
            end: None,
        };
        let o = outage(&writes, w);
        assert_eq!(during_until(w, &o, Some(ms(15))), None);
        let bounded = Window {
            start: ms(5),
            end: Some(ms(15)),
        };
        let o = outage(&writes, bounded);
        assert_eq!(during_until(bounded, &o, None), Some(ms(15)));
        let l = write_latency(&writes, w, At(0), None);
        assert_eq!(l.before.unwrap().count, 1);
        assert_eq!((l.during, l.after), (None, None));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Latencies planted as a shuffle of `base + k·step` for `k` in `0..n`: the `p`-th
        /// percentile is `base + (⌈p·n/100⌉ − 1)·step`, whatever the order.
        #[test]
        fn planted_percentiles_are_recovered(
            ranks in (1usize..500).prop_flat_map(|n| Just((0..n as u64).collect::<Vec<_>>()).prop_shuffle()),
            base in 0u64..1_000_000,
            step in 1u64..1_000_000,
        ) {
            let n = ranks.len() as u64;
            let s = stats(ranks.iter().map(|k| Duration::from_nanos(base + k * step)).collect()).unwrap();
            let at = |p: u64| Duration::from_nanos(base + ((p * n).div_ceil(100) - 1) * step);
            prop_assert_eq!(s.count, n);
            prop_assert_eq!(s.p50, at(50));
            prop_assert_eq!(s.p95, at(95));
            prop_assert_eq!(s.p99, at(99));
            prop_assert_eq!(s.max, Duration::from_nanos(base + (n - 1) * step));
        }
    }
}
