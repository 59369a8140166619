//! When a scripted drill's workload ends: at the scenario's `duration`, or a little later when
//! writes failed in its last seconds and have not yet been seen to recover.
//!
//! An outage's RTO counts only once its recovery is confirmed: a write invoked
//! [`check::STABLE`] or more after the recovery write, every write in between acknowledged.
//! Writes that fail in the last seconds before `duration` (a second of CPU steal on a shared
//! machine is enough) would end the run with that recovery unconfirmed and the RTO "not
//! measured", judged by where the scenario happened to end rather than by the system. So the
//! writes go on while the latest failure is younger than that span, for at most [`GRACE`].

use crate::check;
use crate::history::{At, Clock, Event, Outcome};
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The most the workload runs past the scenario's `duration` to see a recovery confirmed.
pub const GRACE: Duration = Duration::from_secs(10);

/// The latest failed write seen and the acknowledged writes invoked after it, by their invoke
/// instants, as the events are collected (a write's event comes when it completes, so later
/// invokes can arrive first).
#[derive(Debug, Default)]
pub struct FailureWatch {
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    latest_failure: Option<At>,
    /// `ok` writes invoked after `latest_failure` (kept only once there is one).
    ok_after: Vec<At>,
    latest_ok: Option<At>,
}

/// What the end of the workload is decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tail {
    /// The invoke of the latest failed write.
    pub failure: At,
    /// The first acknowledged write invoked after it (the recovery write, when every write
    /// after it succeeds).
    pub recovery: Option<At>,
    /// The latest acknowledged write's invoke.
    pub latest_ok: Option<At>,
}

impl FailureWatch {
    /// Notes `event` if it is a write: one that failed or may have (`fail`, `unknown`), or one
    /// acknowledged. A write the harness never sent is no outcome of the system.
    pub fn see(&self, event: &Event) {
        let Event::Write(w) = event else { return };
        let mut seen = self.seen.lock().expect("failure watch lock");
        match w.outcome {
            Outcome::Fail | Outcome::Unknown
                if !w.not_sent() && seen.latest_failure.is_none_or(|l| w.invoke > l) =>
            {
                seen.latest_failure = Some(w.invoke);
                seen.ok_after.retain(|ok| *ok > w.invoke);
            }
            Outcome::Ok => {
                if seen.latest_failure.is_some_and(|l| w.invoke > l) {
                    seen.ok_after.push(w.invoke);
                }
                seen.latest_ok = seen.latest_ok.max(Some(w.invoke));
            }
            _ => {}
        }
    }

    /// The latest failure and what followed it; `None` when no write failed.
    fn tail(&self) -> Option<Tail> {
        let seen = self.seen.lock().expect("failure watch lock");
        Some(Tail {
            failure: seen.latest_failure?,
            recovery: seen.ok_after.iter().min().copied(),
            latest_ok: seen.latest_ok,
        })
    }
}

/// Whether the writes may stop at `now`, past the scenario's end (`end`): none failed; or the
/// first write acknowledged after the latest failure was invoked [`check::STABLE`] and one
/// more write `period` ago (the confirming write must be invoked that long after it); or
/// writes are failing and none was acknowledged in the [`check::STABLE`] before the end: an
/// outage older than that is not one the end cut short (it is reported as not recovered).
pub fn may_end(now: At, end: Duration, tail: Option<Tail>, period: Duration) -> bool {
    let Some(tail) = tail else { return true };
    match tail.recovery {
        Some(recovery) => now.as_duration() >= recovery.as_duration() + check::STABLE + period,
        None => tail
            .latest_ok
            .is_none_or(|ok| ok.as_duration() + check::STABLE < end),
    }
}

/// Cancels `end` at `duration`, or later while [`may_end`] says no, at most [`GRACE`] later.
pub async fn end_workload(
    clock: Clock,
    duration: Duration,
    failures: std::sync::Arc<FailureWatch>,
    period: Duration,
    end: CancellationToken,
) {
    let last = At::from_duration(duration + GRACE);
    tokio::time::sleep_until(clock.instant(At::from_duration(duration))).await;
    loop {
        let now = clock.now();
        if now >= last || may_end(now, duration, failures.tail(), period) {
            end.cancel();
            return;
        }
        tokio::time::sleep(period.max(Duration::from_millis(20))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::WriteOp;

    const PERIOD: Duration = Duration::from_millis(10);

    fn secs(s: f64) -> At {
        At::from_duration(Duration::from_secs_f64(s))
    }

    fn write(invoke: f64, outcome: Outcome) -> Event {
        Event::Write(WriteOp {
            via: None,
            status: None,
            seq: 1,
            invoke: secs(invoke),
            complete: secs(invoke + 0.5),
            outcome,
            node: None,
            timeline: None,
            error: None,
            error_kind: None,
        })
    }

    const END: Duration = Duration::from_secs(40);

    fn tail(failure: f64, recovery: Option<f64>, latest_ok: Option<f64>) -> Option<Tail> {
        Some(Tail {
            failure: secs(failure),
            recovery: recovery.map(secs),
            latest_ok: latest_ok.map(secs),
        })
    }

    #[test]
    fn without_a_failure_the_writes_end_on_time() {
        assert!(may_end(secs(40.0), END, None, PERIOD));
    }

    #[test]
    fn a_failure_near_the_end_keeps_the_writes_going_until_a_recovery_can_be_confirmed() {
        // failing since 37 s, acknowledged at 36.9 s: wait
        assert!(!may_end(
            secs(45.0),
            END,
            tail(37.0, None, Some(36.9)),
            PERIOD
        ));
        // back at 37.5 s: a write at 42.5 s confirms it
        let back = tail(37.0, Some(37.5), Some(40.0));
        assert!(!may_end(secs(40.0), END, back, PERIOD));
        assert!(!may_end(secs(42.5), END, back, PERIOD));
        assert!(may_end(secs(42.51), END, back, PERIOD));
    }

    #[test]
    fn an_outage_older_than_the_confirmation_span_is_not_waited_for() {
        // nothing acknowledged since 30 s (a lost cluster, say): end on time
        assert!(may_end(
            secs(40.0),
            END,
            tail(39.9, None, Some(30.0)),
            PERIOD
        ));
        assert!(may_end(secs(40.0), END, tail(39.9, None, None), PERIOD));
        // acknowledged at 35.5 s, within the 5 s before the end: wait
        assert!(!may_end(
            secs(40.0),
            END,
            tail(39.9, None, Some(35.5)),
            PERIOD
        ));
    }

    #[test]
    fn the_watch_keeps_the_latest_failure_and_the_first_write_acknowledged_after_it() {
        let watch = FailureWatch::default();
        watch.see(&write(36.0, Outcome::Ok));
        watch.see(&write(36.5, Outcome::NotSent));
        assert_eq!(watch.tail(), None);
        watch.see(&write(37.0, Outcome::Unknown));
        assert_eq!(watch.tail(), tail(37.0, None, Some(36.0)));
        // events come as writes complete: a later invoke may come first
        watch.see(&write(37.3, Outcome::Ok));
        watch.see(&write(37.1, Outcome::Ok));
        watch.see(&write(35.0, Outcome::Fail));
        assert_eq!(watch.tail(), tail(37.0, Some(37.1), Some(37.3)));
        // a later failure starts over from it
        watch.see(&write(37.2, Outcome::Fail));
        assert_eq!(watch.tail(), tail(37.2, Some(37.3), Some(37.3)));
        watch.see(&write(37.4, Outcome::Fail));
        assert_eq!(watch.tail(), tail(37.4, None, Some(37.3)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_end_waits_for_the_failure_to_age_and_never_past_the_grace() {
        let clock = Clock::start();
        let failures = std::sync::Arc::new(FailureWatch::default());
        failures.see(&write(3.0, Outcome::Fail));
        failures.see(&write(3.01, Outcome::Ok));
        let end = CancellationToken::new();
        end_workload(
            clock,
            Duration::from_secs(4),
            failures.clone(),
            PERIOD,
            end.clone(),
        )
        .await;
        assert!(end.is_cancelled());
        let ended = clock.now().as_duration();
        assert!(ended >= Duration::from_millis(8020), "{ended:?}");
        assert!(ended < Duration::from_millis(8100), "{ended:?}");

        let clock = Clock::start();
        let failing = std::sync::Arc::new(FailureWatch::default());
        let end = CancellationToken::new();
        failing.see(&write(3.5, Outcome::Ok));
        let keep_failing = async {
            for s in 0..40 {
                failing.see(&write(f64::from(s), Outcome::Unknown));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        tokio::select! {
            () = end_workload(clock, Duration::from_secs(4), failing.clone(), PERIOD, end.clone()) => {}
            () = keep_failing => panic!("the end never came"),
        }
        let ended = clock.now().as_duration();
        assert!(ended >= Duration::from_secs(14) && ended < Duration::from_millis(14100));
    }
}
