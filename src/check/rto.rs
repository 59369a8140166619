//! Detection time and write downtime (RTO) of one fault.
//!
//! Both are measured within the fault's *window*: from its injection instant `F` to the next
//! injection instant after it (or the end of the history), so that the writes failing because of
//! a later fault are not charged to an earlier one.

use super::verdict::MeasuredValue;
use super::writes::is_ok;
use crate::history::{At, WriteOp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The instants `[start, end)` attributed to one fault: `start` is its `F`, `end` the `F` of the
/// next fault injected after it (`None`: the end of the history).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: At,
    pub end: Option<At>,
}

impl Window {
    /// The whole history, as if a fault had been injected at the run's start.
    pub const WHOLE: Window = Window {
        start: At(0),
        end: None,
    };

    /// Whether `t` is before the window's end.
    pub fn before_end(&self, t: At) -> bool {
        self.end.is_none_or(|end| t < end)
    }

    /// The window of each injection instant in `starts`: up to the smallest later instant.
    pub fn of_faults(starts: &[At]) -> Vec<Window> {
        starts
            .iter()
            .map(|&start| Window {
                start,
                end: starts.iter().copied().filter(|&s| s > start).min(),
            })
            .collect()
    }
}

/// **Detection time**: from `F` to the `complete` instant of the first non-ok (`fail` or
/// `unknown`) write, by invoke instant, among those invoked at or after `F` and before the
/// window's end: how long until a client saw the fault. `None` if no write failed in the window.
///
/// `writes` must be ordered by invoke instant.
pub(crate) fn detection_time(writes: &[&WriteOp], window: Window) -> Option<Duration> {
    writes
        .iter()
        .filter(|w| w.invoke >= window.start && window.before_end(w.invoke))
        .find(|w| !is_ok(w))
        .map(|w| w.complete.since(window.start))
}

/// The write outage caused by one fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outage {
    /// The write downtime: see [`outage`]. `None`: not measured, because no write was invoked
    /// in the window (`no_writes`), writes never recovered, or their recovery was not confirmed
    /// (`unconfirmed` says so).
    pub rto: Option<Duration>,
    /// No write was invoked in the window: nothing shows whether writes stopped, so the RTO is
    /// not measured (never zero).
    pub no_writes: bool,
    /// The end of the last ok write before the outage (`None`: writes never stopped).
    pub start: Option<At>,
    /// The end of the first ok write after which writes kept succeeding (`None`: writes never
    /// stopped, never recovered, or their recovery was not confirmed).
    pub recovered_at: Option<At>,
    /// Writes came back, but the writes ended before they had been attempted for [`STABLE`]
    /// after the recovery: the recovery is not confirmed, and the RTO not measured.
    pub unconfirmed: Option<UnconfirmedRecovery>,
    /// Non-ok writes invoked after the recovery, once writes had been succeeding for
    /// [`STABLE`]: later, separate interruptions, reported but not part of this outage.
    pub failed_after_recovery: u64,
    /// How precisely the outage's edges are known: see [`outage`]. `None`: writes never
    /// stopped, never recovered, or their recovery was not confirmed.
    pub resolution: Option<Duration>,
}

/// A recovery that was not confirmed: writes came back after the outage (the first ok write
/// after its last non-ok write ended at `recovered_at`), but no write was invoked [`STABLE`] or
/// more after that recovery write was: the writes (the run) ended first, so nobody saw them keep
/// succeeding, and the RTO is not measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnconfirmedRecovery {
    /// The end of the first ok write after the outage's last non-ok write.
    pub recovered_at: At,
    /// The `invoke` of the last write of the history.
    pub last_write: At,
}

impl UnconfirmedRecovery {
    /// "writes recovered at t+2.102s, but the last write was attempted 1.000s later, before 5s
    /// of successful writes confirmed it" (zero if the last write was attempted before the
    /// recovery write ended).
    pub fn describe(&self) -> String {
        format!(
            "writes recovered at {}, but the last write was attempted {} later, before {}s of \
             successful writes confirmed it",
            self.recovered_at,
            MeasuredValue::Duration(self.last_write.since(self.recovered_at)),
            STABLE.as_secs()
        )
    }
}

/// How long every write must succeed after a recovery for the recovery to count. A failure
/// within this span means the outage was still going (flapping); a failure after it is a
/// separate interruption. Without it, a one-second stall of a shared host a minute after the
/// failover would be charged to the failover.
pub const STABLE: Duration = Duration::from_secs(5);

/// **RTO (write downtime)** of the fault whose window is `window`.
///
/// - If no write was invoked in the window (at or after `F` and before its end), the RTO is not
///   measured (`None`, `no_writes`): no attempt shows whether writes stopped.
/// - The outage's writes are the non-ok writes invoked before the window's end and completed at
///   or after `F` (a write in flight at `F` that then timed out belongs to the outage). If there
///   is none, writes never stopped and the RTO is zero.
/// - *first bad*: the first of them by invoke instant; *last bad*: the last by invoke instant.
/// - *Outage start*: the latest `complete` among ok writes invoked before first bad and completed
///   no later than first bad completed: the end of the last ok write before the outage. If there
///   is none, `F`.
/// - *Recovery*: the first ok write, by invoke instant, invoked after last bad, where last bad
///   is followed through every non-ok write invoked before, or within [`STABLE`] after, the
///   first ok write that follows the previous one: every attempt for `STABLE` after the
///   recovery succeeded. Later non-ok writes are counted as `failed_after_recovery`. If no ok
///   write follows, writes never recovered and the RTO is `None`.
/// - The recovery is *confirmed* only if some write of the history was invoked at or after the
///   recovery's `invoke` + [`STABLE`]: the writes went on for `STABLE` after it (and, by the
///   rule above, every one of them invoked before the window's end succeeded). If the writes
///   ended sooner (the run ended), stability was never observed: the recovery is reported as
///   `unconfirmed` and the RTO is `None` (not measured), as are `recovered_at` and the
///   resolution.
/// - RTO = recovery's `complete` − outage start (zero if the recovery ended first).
///
/// **RTO resolution**: how precisely the two edges are known, from the cadence of the attempts:
/// the larger of the gap before the outage, first bad's `invoke` − the `invoke` of the last ok
/// write invoked before it (or − `F` if there is none; zero if first bad was invoked before `F`), and
/// the gap before the recovery, the recovery's `invoke` − the `invoke` of the last non-ok write
/// invoked before it. With an attempt started every 10 ms, it is about 10 ms. `None` when writes
/// never stopped (the RTO is exactly zero), never recovered, or their recovery was not confirmed.
///
/// `writes` must be ordered by invoke instant.
pub(crate) fn outage(writes: &[&WriteOp], window: Window) -> Outage {
    let nothing = Outage {
        rto: None,
        no_writes: false,
        start: None,
        recovered_at: None,
        unconfirmed: None,
        failed_after_recovery: 0,
        resolution: None,
    };
    if !writes
        .iter()
        .any(|w| w.invoke >= window.start && window.before_end(w.invoke))
    {
        return Outage {
            no_writes: true,
            ..nothing
        };
    }
    let in_outage =
        |w: &&&WriteOp| !is_ok(w) && w.complete >= window.start && window.before_end(w.invoke);
    let bads: Vec<&&WriteOp> = writes.iter().filter(in_outage).collect();
    let Some(first_bad) = bads.first() else {
        return Outage {
            rto: Some(Duration::ZERO),
            ..nothing
        };
    };
    // The outage's last bad write: follow bad writes while the next one comes before the
    // first ok write after the current one, or within STABLE of it.
    let first_ok_after = |t: At| {
        let after = writes.partition_point(|w| w.invoke <= t);
        writes[after..].iter().find(|w| is_ok(w))
    };
    let mut last = 0;
    while let Some(next) = bads.get(last + 1) {
        match first_ok_after(bads[last].invoke) {
            Some(ok) if next.invoke > ok.invoke.plus(STABLE) => break,
            _ => last += 1,
        }
    }
    let last_bad = bads[last];
    let failed_after_recovery = (bads.len() - last - 1) as u64;
    let start = writes
        .iter()
        .take_while(|w| w.invoke < first_bad.invoke)
        .filter(|w| is_ok(w) && w.complete <= first_bad.complete)
        .map(|w| w.complete)
        .max()
        .unwrap_or(window.start);
    let after = writes.partition_point(|w| w.invoke <= last_bad.invoke);
    let found = writes[after..].iter().find(|w| is_ok(w));
    // confirmed: the writes went on for STABLE after the recovery
    let last_write = writes.last().map(|w| w.invoke);
    let confirmed = |r: &&&WriteOp| last_write.is_some_and(|l| l >= r.invoke.plus(STABLE));
    let recovery = found.filter(confirmed);
    let unconfirmed = found
        .filter(|r| !confirmed(r))
        .map(|r| UnconfirmedRecovery {
            recovered_at: r.complete,
            last_write: last_write.unwrap_or(r.invoke),
        });
    let resolution = recovery.map(|r| {
        let last_before = |t: At, ok: bool| {
            writes
                .iter()
                .take_while(|w| w.invoke < t)
                .filter(|w| is_ok(w) == ok)
                .map(|w| w.invoke)
                .max()
        };
        let ok_before = last_before(first_bad.invoke, true).unwrap_or(window.start);
        let bad_before = last_before(r.invoke, false).unwrap_or(last_bad.invoke);
        first_bad
            .invoke
            .since(ok_before)
            .max(r.invoke.since(bad_before))
    });
    Outage {
        rto: recovery.map(|r| r.complete.since(start)),
        no_writes: false,
        start: Some(start),
        recovered_at: recovery.map(|r| r.complete),
        unconfirmed,
        failed_after_recovery,
        resolution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::check::writes::ordered;
    use crate::history::{Event, History};
    use proptest::prelude::*;

    fn window(f: At) -> Window {
        Window {
            start: f,
            end: None,
        }
    }

    #[test]
    fn writes_that_never_stopped_give_zero_rto_and_no_detection() {
        let h = history(
            (0..50)
                .map(|k| ok(k, ms(10 * k), ms(10 * k + 3), "pg1", 1))
                .collect(),
        );
        let writes = ordered(&h);
        let o = outage(&writes, window(ms(100)));
        assert_eq!(o.rto, Some(Duration::ZERO));
        assert_eq!(o.start, None);
        assert_eq!(o.recovered_at, None);
        assert_eq!(o.resolution, None);
        assert_eq!(detection_time(&writes, window(ms(100))), None);
    }

    #[test]
    fn a_window_without_a_write_invoked_in_it_is_not_measured() {
        // writes from 0 to 490 ms; the fault at 1 s, a later one at 2 s
        let h = history(
            (0..50)
                .map(|k| ok(k, ms(10 * k), ms(10 * k + 3), "pg1", 1))
                .collect(),
        );
        let writes = ordered(&h);
        for w in [
            window(ms(1_000)),
            Window::of_faults(&[ms(1_000), ms(2_000)])[0],
        ] {
            let o = outage(&writes, w);
            assert_eq!(o.rto, None, "not zero: nothing shows writes went on");
            assert!(o.no_writes);
            assert_eq!((o.start, o.recovered_at, o.resolution), (None, None, None));
            assert_eq!(detection_time(&writes, w), None);
        }
        // a write in flight at F that then failed is not a write attempted in the window
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            unknown(2, ms(10), ms(1_010)),
        ]);
        let o = outage(&ordered(&h), window(ms(500)));
        assert!(o.no_writes);
        assert_eq!(o.rto, None);
        // no writes at all, no fault
        let o = outage(&[], Window::WHOLE);
        assert!(o.no_writes);
        assert_eq!(o.rto, None);
        // one write invoked in the window is enough to measure
        let o = outage(&writes, window(ms(490)));
        assert!(!o.no_writes);
        assert_eq!(o.rto, Some(Duration::ZERO));
    }

    /// Writes every 100 ms from 0 to 20 s; `bad` says which invoke instants (ms) fail.
    fn schedule(bad: impl Fn(u64) -> bool) -> History {
        history(
            (0..200)
                .map(|k| {
                    let t = 100 * k;
                    if bad(t) {
                        failed(k, ms(t), ms(t + 50))
                    } else {
                        ok(k, ms(t), ms(t + 5), "pg1", 1)
                    }
                })
                .collect(),
        )
    }

    #[test]
    fn a_failure_long_after_recovery_is_a_separate_interruption() {
        // Outage from 1 s to 2 s; one more failure at 9 s, 7 s after the recovery.
        let h = schedule(|t| (1000..2000).contains(&t) || t == 9000);
        let o = outage(&ordered(&h), window(ms(1000)));
        assert_eq!(o.start, Some(ms(905)));
        assert_eq!(o.recovered_at, Some(ms(2005)));
        assert_eq!(o.rto, Some(Duration::from_millis(1100)));
        assert_eq!(o.failed_after_recovery, 1);
    }

    #[test]
    fn a_failure_soon_after_recovery_is_the_same_outage() {
        // Outage from 1 s to 2 s, a flap at 4 s: within STABLE of the recovery at 2 s.
        let h = schedule(|t| (1000..2000).contains(&t) || t == 4000);
        let o = outage(&ordered(&h), window(ms(1000)));
        assert_eq!(o.recovered_at, Some(ms(4105)));
        assert_eq!(o.rto, Some(Duration::from_millis(3200)));
        assert_eq!(o.failed_after_recovery, 0);
    }

    #[test]
    fn rto_runs_from_last_ok_end_to_first_lasting_ok_end() {
        let mut h = history(vec![
            ok(1, ms(0), ms(3), "pg1", 1),
            ok(2, ms(10), ms(14), "pg1", 1),
            // F = 15 ms
            failed(3, ms(20), ms(21)),
            unknown(4, ms(30), ms(1030)),
            // a lone success in the middle of the outage is not the recovery
            ok(5, ms(40), ms(45), "pg2", 2),
            failed(6, ms(50), ms(52)),
            ok(7, ms(60), ms(66), "pg2", 2),
            ok(8, ms(70), ms(72), "pg2", 2),
        ]);
        h.extend(steady(9, ms(80), "pg2", 2));
        let writes = ordered(&h);
        let o = outage(&writes, window(ms(15)));
        assert_eq!(o.start, Some(ms(14)));
        assert_eq!(o.recovered_at, Some(ms(66)));
        assert_eq!(o.rto, Some(Duration::from_millis(52)));
        assert_eq!(
            detection_time(&writes, window(ms(15))),
            Some(Duration::from_millis(6))
        );
        // edges: 20 − 10 ms before the outage, 60 − 50 ms before the recovery
        assert_eq!(o.resolution, Some(Duration::from_millis(10)));
    }

    #[test]
    fn resolution_is_the_wider_gap_around_an_edge() {
        let mut h = history(vec![
            ok(1, ms(0), ms(3), "pg1", 1),
            // a slow ok write invoked later still counts as the last ok write invoked before
            ok(2, ms(40), ms(200), "pg1", 1),
            failed(3, ms(100), ms(101)),
            failed(4, ms(300), ms(301)),
            ok(5, ms(325), ms(327), "pg2", 2),
        ]);
        h.extend(steady(6, ms(400), "pg2", 2));
        let o = outage(&ordered(&h), window(ms(50)));
        assert_eq!(o.start, Some(ms(3)));
        assert_eq!(o.recovered_at, Some(ms(327)));
        assert_eq!(o.resolution, Some(Duration::from_millis(60)));

        // no ok write before the outage: its edge is counted from F
        let mut h = history(vec![
            failed(1, ms(30), ms(31)),
            ok(2, ms(40), ms(41), "pg2", 2),
        ]);
        h.extend(steady(3, ms(50), "pg2", 2));
        let o = outage(&ordered(&h), window(ms(5)));
        assert_eq!(o.resolution, Some(Duration::from_millis(25)));
        // first bad in flight at F: that edge is zero
        let o = outage(
            &ordered(&h),
            window(ms(30).plus(Duration::from_micros(500))),
        );
        assert_eq!(o.resolution, Some(Duration::from_millis(10)));
    }

    #[test]
    fn never_recovered_gives_none() {
        let h = history(vec![
            ok(1, ms(0), ms(3), "pg1", 1),
            failed(2, ms(10), ms(11)),
            unknown(3, ms(20), ms(520)),
        ]);
        let writes = ordered(&h);
        let o = outage(&writes, window(ms(5)));
        assert_eq!(o.rto, None);
        assert_eq!(o.start, Some(ms(3)));
        assert_eq!(o.recovered_at, None);
        assert_eq!(o.resolution, None);
    }

    /// ok, a failure, the recovery invoked at 100 ms, and writes every 100 ms after it, the last
    /// invoked at `last`.
    fn ending_at(last: At) -> History {
        let mut events = vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(50), ms(51)),
            ok(3, ms(100), ms(103), "pg2", 2),
        ];
        let mut t = ms(200);
        let mut seq = 4;
        while t < last {
            events.push(ok(seq, t, t.plus(Duration::from_millis(2)), "pg2", 2));
            t = t.plus(Duration::from_millis(100));
            seq += 1;
        }
        events.push(ok(seq, last, last.plus(Duration::from_millis(2)), "pg2", 2));
        history(events)
    }

    #[test]
    fn a_recovery_is_confirmed_by_writes_invoked_stable_after_it() {
        // the last write invoked exactly STABLE after the recovery's: confirmed
        let last = ms(100).plus(STABLE);
        let o = outage(&ordered(&ending_at(last)), window(ms(10)));
        assert_eq!(o.recovered_at, Some(ms(103)));
        assert_eq!(o.rto, Some(Duration::from_millis(101)));
        assert_eq!(o.resolution, Some(Duration::from_millis(50)));
        assert_eq!(o.unconfirmed, None);

        // 1 ms short of it: the writes ended before the recovery was confirmed
        let last = ms(99).plus(STABLE);
        let o = outage(&ordered(&ending_at(last)), window(ms(10)));
        assert_eq!(o.start, Some(ms(2)));
        assert_eq!(o.rto, None);
        assert_eq!(o.recovered_at, None);
        assert_eq!(o.resolution, None);
        assert_eq!(o.failed_after_recovery, 0);
        let u = o.unconfirmed.unwrap();
        assert_eq!(
            u,
            UnconfirmedRecovery {
                recovered_at: ms(103),
                last_write: ms(5_099),
            }
        );
        assert_eq!(
            u.describe(),
            "writes recovered at t+0.103s, but the last write was attempted 4.996s later, \
             before 5s of successful writes confirmed it"
        );

        // the recovery write is the last write
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(50), ms(51)),
            ok(3, ms(100), ms(103), "pg2", 2),
        ]);
        let o = outage(&ordered(&h), window(ms(10)));
        assert_eq!(o.rto, None);
        assert_eq!(
            o.unconfirmed.unwrap().describe(),
            "writes recovered at t+0.103s, but the last write was attempted 0.000s later, \
             before 5s of successful writes confirmed it"
        );
    }

    #[test]
    fn a_later_fault_does_not_unconfirm_a_recovery_its_writes_kept_going() {
        // fault 1 at 10 ms recovers at 100 ms; fault 2 at 1 s makes writes fail until 2 s; the
        // writes go on to 5.1 s: fault 1's recovery is confirmed, its window ends at 1 s
        let mut events = vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(50), ms(51)),
            ok(3, ms(100), ms(103), "pg2", 2),
        ];
        events.extend((0..10).map(|k| failed(4 + k, ms(1_000 + 100 * k), ms(1_001 + 100 * k))));
        events.extend(steady(20, ms(2_000), "pg3", 3));
        let h = history(events);
        let windows = Window::of_faults(&[ms(10), ms(1_000)]);
        let o = outage(&ordered(&h), windows[0]);
        assert_eq!(o.rto, Some(Duration::from_millis(101)));
        assert_eq!(o.unconfirmed, None);
        let o = outage(&ordered(&h), windows[1]);
        assert_eq!(o.recovered_at, Some(ms(2_002)));
    }

    #[test]
    fn outage_from_the_first_write_starts_at_f() {
        let mut h = history(vec![
            failed(1, ms(10), ms(11)),
            ok(2, ms(20), ms(23), "pg1", 1),
        ]);
        h.extend(steady(3, ms(30), "pg1", 1));
        let writes = ordered(&h);
        let o = outage(&writes, window(ms(4)));
        assert_eq!(o.start, Some(ms(4)));
        assert_eq!(o.rto, Some(Duration::from_millis(19)));
    }

    #[test]
    fn in_flight_write_timing_out_after_f_belongs_to_the_outage() {
        let mut h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            unknown(2, ms(10), ms(1010)),
            ok(3, ms(1100), ms(1104), "pg2", 2),
        ]);
        h.extend(steady(4, ms(1200), "pg2", 2));
        let writes = ordered(&h);
        let o = outage(&writes, window(ms(500)));
        assert_eq!(o.start, Some(ms(2)));
        assert_eq!(o.rto, Some(Duration::from_millis(1102)));
        // detection only counts writes invoked at or after F
        assert_eq!(detection_time(&writes, window(ms(500))), None);
    }

    #[test]
    fn ok_write_after_a_short_outage_is_not_taken_as_its_start() {
        // first bad times out late; the recovery completes before it does
        let mut h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            unknown(2, ms(10), ms(2010)),
            ok(3, ms(20), ms(23), "pg1", 1),
        ]);
        h.extend(steady(4, ms(30), "pg1", 1));
        let writes = ordered(&h);
        let o = outage(&writes, window(ms(5)));
        assert_eq!(o.start, Some(ms(2)));
        assert_eq!(o.recovered_at, Some(ms(23)));
        assert_eq!(o.rto, Some(Duration::from_millis(21)));
    }

    #[test]
    fn windows_end_at_the_next_injection() {
        let ws = Window::of_faults(&[ms(100), ms(300), ms(100)]);
        assert_eq!(ws[0].end, Some(ms(300)));
        assert_eq!(ws[1].end, None);
        assert_eq!(ws[2].end, Some(ms(300)));
        assert!(ws[0].before_end(ms(299)));
        assert!(!ws[0].before_end(ms(300)));
    }

    /// Writes every 10 ms (invoke jitter < 3 ms), ok ones with latencies of 1–6 ms, and a planted
    /// outage over write indices `[s, e)` whose writes fail or time out after up to 2 s. The
    /// writes after the outage go on for up to 7 s: the recovery is confirmed when they go on
    /// for [`STABLE`] (often, not always).
    #[derive(Clone, Debug)]
    struct PlantedOutage {
        invokes: Vec<At>,
        completes: Vec<At>,
        s: usize,
        e: usize,
        f: At,
    }

    impl PlantedOutage {
        /// The planted edges' gaps: between the last ok and the first bad write's invokes (or
        /// `F` and the first bad one), and between the last bad and the first ok after.
        fn resolution(&self) -> Duration {
            let before = if self.s == 0 {
                self.invokes[0].since(self.f)
            } else {
                self.invokes[self.s].since(self.invokes[self.s - 1])
            };
            before.max(self.invokes[self.e].since(self.invokes[self.e - 1]))
        }

        /// Whether the writes went on for [`STABLE`] after the recovery write was invoked.
        fn confirmed(&self) -> bool {
            let last = *self.invokes.last().unwrap();
            last.since(self.invokes[self.e]) >= STABLE
        }

        /// The same outage, with the writes after index `last` (after the outage) dropped.
        fn ending_at(&self, last: usize) -> PlantedOutage {
            assert!(last >= self.e);
            PlantedOutage {
                invokes: self.invokes[..=last].to_vec(),
                completes: self.completes[..=last].to_vec(),
                ..self.clone()
            }
        }

        fn events(&self, unknown_mask: &[bool]) -> Vec<Event> {
            (0..self.invokes.len())
                .map(|k| {
                    let (i, c, seq) = (self.invokes[k], self.completes[k], k as u64);
                    if (self.s..self.e).contains(&k) {
                        if unknown_mask[k] {
                            unknown(seq, i, c)
                        } else {
                            failed(seq, i, c)
                        }
                    } else {
                        ok(seq, i, c, "pg1", 1)
                    }
                })
                .collect()
        }
    }

    fn planted_outage(base: u64) -> impl Strategy<Value = (PlantedOutage, Vec<bool>)> {
        // n planted writes, then `tail` more ok writes
        let tail = prop_oneof![Just(0usize), 1usize..100, 480usize..=700];
        (20usize..200, tail)
            .prop_flat_map(move |(n, tail)| {
                let total = n + tail;
                (
                    Just(n),
                    0..n,
                    1..=n,
                    prop::collection::vec(0..3 * MS, total),
                    prop::collection::vec(MS..=6 * MS, total),
                    prop::collection::vec(MS..=2_000 * MS, n),
                    prop::collection::vec(any::<bool>(), n),
                    0..200 * MS,
                )
            })
            .prop_map(
                move |(n, s, len, jitter, ok_lat, bad_lat, unknown_mask, f_back)| {
                    let e = (s + len).min(n);
                    let invokes: Vec<At> = (0..jitter.len())
                        .map(|k| At(base + k as u64 * 10 * MS + jitter[k]))
                        .collect();
                    let completes = (0..jitter.len())
                        .map(|k| {
                            let lat = if (s..e).contains(&k) {
                                bad_lat[k]
                            } else {
                                ok_lat[k]
                            };
                            At(invokes[k].0 + lat)
                        })
                        .collect();
                    let f = At(invokes[s].0.saturating_sub(f_back).max(base));
                    (
                        PlantedOutage {
                            invokes,
                            completes,
                            s,
                            e,
                            f,
                        },
                        unknown_mask,
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn planted_outage_is_measured_exactly((p, mask) in planted_outage(0)) {
            let h = history(p.events(&mask));
            let writes = ordered(&h);
            let o = outage(&writes, window(p.f));
            let start = if p.s == 0 { p.f } else { p.completes[p.s - 1] };
            prop_assert_eq!(o.start, Some(start));
            if p.e == p.invokes.len() {
                prop_assert_eq!(o.rto, None);
                prop_assert_eq!(o.recovered_at, None);
                prop_assert_eq!(o.resolution, None);
                prop_assert_eq!(o.unconfirmed, None);
            } else if p.confirmed() {
                prop_assert_eq!(o.recovered_at, Some(p.completes[p.e]));
                prop_assert_eq!(o.rto, Some(p.completes[p.e].since(start)));
                prop_assert_eq!(o.resolution, Some(p.resolution()));
                prop_assert_eq!(o.unconfirmed, None);
            } else {
                prop_assert_eq!(o.rto, None);
                prop_assert_eq!(o.recovered_at, None);
                prop_assert_eq!(o.resolution, None);
                prop_assert_eq!(
                    o.unconfirmed,
                    Some(UnconfirmedRecovery {
                        recovered_at: p.completes[p.e],
                        last_write: *p.invokes.last().unwrap(),
                    })
                );
            }
            prop_assert_eq!(
                detection_time(&writes, window(p.f)),
                Some(p.completes[p.s].since(p.f))
            );
        }

        #[test]
        fn a_planted_outage_whose_writes_end_within_stable_of_recovery_is_unconfirmed(
            (p, mask) in planted_outage(0),
            // writes after the recovery write, every 10 ms: at most 4.9 s (+ jitter) of them
            after in 0usize..=490,
        ) {
            prop_assume!(p.e < p.invokes.len());
            let p = p.ending_at((p.e + after).min(p.invokes.len() - 1));
            prop_assert!(!p.confirmed());
            let mut events = p.events(&mask);
            events.push(crate::check::testkit::inject(0, "pg1", p.f));
            let h = history(events);
            let o = outage(&ordered(&h), window(p.f));
            let start = if p.s == 0 { p.f } else { p.completes[p.s - 1] };
            let u = UnconfirmedRecovery {
                recovered_at: p.completes[p.e],
                last_write: *p.invokes.last().unwrap(),
            };
            prop_assert_eq!(o.start, Some(start));
            prop_assert_eq!(o.rto, None);
            prop_assert_eq!(o.recovered_at, None);
            prop_assert_eq!(o.resolution, None);
            prop_assert_eq!(o.unconfirmed, Some(u));

            // carried to the measurements and the reason an objective on the RTO is not met
            let m = crate::check::measure(&h);
            prop_assert_eq!(m.rto, None);
            prop_assert_eq!(m.unconfirmed_recovery, Some(u));
            prop_assert_eq!(m.faults[0].unconfirmed_recovery, Some(u));
            prop_assert!(!m.faults[0].recovered);
            prop_assert_eq!(
                m.value(crate::scenario::Measure::Rto),
                Err(format!(
                    "recovery after fault 1 (crash of pg1) unconfirmed: writes recovered at {}, \
                     but the last write was attempted {} later, before 5s of successful writes \
                     confirmed it",
                    u.recovered_at,
                    MeasuredValue::Duration(u.last_write.since(u.recovered_at))
                ))
            );
        }

        #[test]
        fn two_planted_outages_are_told_apart(
            (a, mask_a) in planted_outage(0),
            (b, mask_b) in planted_outage(10_000 * MS),
        ) {
            // the second run's writes start 10 s later, after the first run's (at most 2 s of
            // planted writes and 7 s of writes after them), so the first outage's slowest write
            // (2 s) ended before the second fault
            let mut events = a.events(&mask_a);
            let renumbered: Vec<Event> = b
                .events(&mask_b)
                .into_iter()
                .map(|e| match e {
                    Event::Write(mut w) => {
                        w.seq += 1_000;
                        Event::Write(w)
                    }
                    other => other,
                })
                .collect();
            events.extend(renumbered);
            let h: History = history(events);
            let writes = ordered(&h);
            let windows = Window::of_faults(&[a.f, b.f]);
            let oa = outage(&writes, windows[0]);
            let ob = outage(&writes, windows[1]);

            let start_a = if a.s == 0 { a.f } else { a.completes[a.s - 1] };
            // if the first outage lasts to the end of its run, the second run's first ok write
            // (if any) is its recovery
            let recovery_a = if a.e < a.invokes.len() {
                Some((a.invokes[a.e], a.completes[a.e]))
            } else {
                (0..b.invokes.len())
                    .find(|&k| !(b.s..b.e).contains(&k))
                    .map(|k| (b.invokes[k], b.completes[k]))
            };
            // confirmed if the writes (the second run's) went on for STABLE after it
            let last_write = *b.invokes.last().unwrap();
            let confirmed_a = recovery_a.filter(|(i, _)| last_write.since(*i) >= STABLE);
            prop_assert_eq!(oa.recovered_at, confirmed_a.map(|(_, c)| c));
            prop_assert_eq!(oa.rto, confirmed_a.map(|(_, c)| c.since(start_a)));
            prop_assert_eq!(
                oa.unconfirmed,
                recovery_a
                    .filter(|_| confirmed_a.is_none())
                    .map(|(_, c)| UnconfirmedRecovery {
                        recovered_at: c,
                        last_write,
                    })
            );
            prop_assert_eq!(oa.start, Some(start_a));
            if a.e < a.invokes.len() {
                prop_assert!(confirmed_a.is_some(), "the second run is 10 s later");
                prop_assert_eq!(oa.resolution, Some(a.resolution()));
            }

            let start_b = if b.s == 0 {
                // no ok write of the second run before its outage: the first run's last ok write
                let last_ok_a = (0..a.invokes.len()).rev().find(|&k| !(a.s..a.e).contains(&k));
                last_ok_a.map_or(b.f, |k| a.completes[k])
            } else {
                b.completes[b.s - 1]
            };
            prop_assert_eq!(ob.start, Some(start_b));
            if b.e == b.invokes.len() {
                prop_assert_eq!(ob.rto, None);
                prop_assert_eq!(ob.unconfirmed, None);
            } else if b.confirmed() {
                prop_assert_eq!(ob.rto, Some(b.completes[b.e].since(start_b)));
                if b.s > 0 {
                    prop_assert_eq!(ob.resolution, Some(b.resolution()));
                }
            } else {
                prop_assert_eq!(ob.rto, None);
                prop_assert_eq!(ob.unconfirmed.map(|u| u.recovered_at), Some(b.completes[b.e]));
            }
            prop_assert_eq!(
                detection_time(&writes, windows[0]),
                Some(a.completes[a.s].since(a.f))
            );
            prop_assert_eq!(
                detection_time(&writes, windows[1]),
                Some(b.completes[b.s].since(b.f))
            );
        }
    }
}
