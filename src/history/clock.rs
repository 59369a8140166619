use serde::{Deserialize, Serialize};
use std::time::Duration;

/// An instant of a run: nanoseconds since the run's start on its monotonic clock.
///
/// Wall-clock time is stored once (the run's start) and never subtracted: every measurement is a
/// difference of two `At`s.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct At(pub u64);

impl At {
    pub fn from_duration(d: Duration) -> Self {
        At(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    pub fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later.
    pub fn since(self, earlier: At) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    pub fn plus(self, d: Duration) -> At {
        At(self.0.saturating_add(At::from_duration(d).0))
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t+{:.3}s", self.as_duration().as_secs_f64())
    }
}

/// The run's one clock. Cheap to copy into every task that records events.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: tokio::time::Instant,
}

impl Clock {
    pub fn start() -> Self {
        Clock {
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> At {
        At::from_duration(self.start.elapsed())
    }

    /// The tokio instant of a run instant, for scheduling (`sleep_until`).
    pub fn instant(&self, at: At) -> tokio::time::Instant {
        self.start + at.as_duration()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_saturates_and_roundtrips() {
        let a = At::from_duration(Duration::from_millis(1500));
        let b = At::from_duration(Duration::from_millis(500));
        assert_eq!(a.since(b), Duration::from_secs(1));
        assert_eq!(b.since(a), Duration::ZERO);
        assert_eq!(b.plus(Duration::from_secs(1)), a);
        assert_eq!(a.to_string(), "t+1.500s");
    }
}
