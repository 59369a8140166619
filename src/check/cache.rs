//! What reads through a cache (Varnish in front of the application servers) saw: how the cache
//! served each (a fresh hit, a stale object past its ttl within grace, a miss fetched from a
//! server), how many got no answer, how old the stale answers were, and per fault when fresh
//! content came back after the heal. The cache's own headers say how it served each read
//! (`X-Cache`, `X-Cache-Age`), recorded with the read.

use crate::history::{At, Outcome, ReadOp};
use crate::scenario::ReadEndpoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The cache state of an answer served past its ttl.
pub const STALE: &str = "stale";

/// Reads through the cache over the run. Present only when the history holds such reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheMeasurements {
    /// Reads sent through the cache.
    pub reads: u64,
    /// Reads answered, by how the cache served them (`hit`, `stale`, `miss`, `pass`; `unknown`
    /// when it did not say).
    pub served: BTreeMap<String, u64>,
    /// Reads that got no answer (an error or no answer within the timeout).
    pub failed: u64,
    /// The oldest object served stale. `None`: none was.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_stale_age: Option<Duration>,
    /// Per fault (incident), in its window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<CacheFault>,
}

/// Reads through the cache in one fault's window (`F` to the next fault's, or the end).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheFault {
    pub fault: usize,
    /// Reads answered with a stale object, and reads that got no answer.
    pub served_stale: u64,
    pub failed: u64,
    /// The oldest stale object served in the window.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_stale_age: Option<Duration>,
    /// **Fresh content again**: the heal → the end of the first read invoked at or after the
    /// heal that the cache answered with an object within its ttl or fetched (not stale). `None`
    /// without a heal, or when none was before the window's end.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub fresh_again: Option<Duration>,
}

/// A fault's window as the cache needs it.
pub struct FaultWindow {
    pub fault: usize,
    pub injected_at: At,
    pub healed_at: Option<At>,
    pub window_end: Option<At>,
}

/// The cache's measurements; `None` without a read through a cache.
pub fn cache(reads: &[&ReadOp], faults: &[FaultWindow]) -> Option<CacheMeasurements> {
    let reads: Vec<&ReadOp> = reads
        .iter()
        .copied()
        .filter(|r| r.through == ReadEndpoint::Cache)
        .collect();
    if reads.is_empty() {
        return None;
    }
    let mut m = CacheMeasurements {
        reads: reads.len() as u64,
        ..CacheMeasurements::default()
    };
    for r in &reads {
        match r.outcome {
            Outcome::Ok => {
                let state = r.cache.clone().unwrap_or_else(|| "unknown".into());
                *m.served.entry(state).or_default() += 1;
            }
            _ => m.failed += 1,
        }
    }
    m.max_stale_age = max_stale_age(reads.iter().copied());
    m.faults = faults
        .iter()
        .map(|f| {
            let inside = |r: &&&ReadOp| {
                r.invoke >= f.injected_at && f.window_end.is_none_or(|end| r.invoke < end)
            };
            let window: Vec<&ReadOp> = reads.iter().filter(inside).copied().collect();
            CacheFault {
                fault: f.fault,
                served_stale: window.iter().filter(|r| is_stale(r)).count() as u64,
                failed: window.iter().filter(|r| r.outcome != Outcome::Ok).count() as u64,
                max_stale_age: max_stale_age(window.iter().copied()),
                fresh_again: f.healed_at.and_then(|healed| {
                    window
                        .iter()
                        .filter(|r| r.invoke >= healed)
                        .find(|r| r.outcome == Outcome::Ok && !is_stale(r))
                        .map(|r| r.complete.since(healed))
                }),
            }
        })
        .collect();
    Some(m)
}

fn is_stale(r: &ReadOp) -> bool {
    r.outcome == Outcome::Ok && r.cache.as_deref() == Some(STALE)
}

fn max_stale_age<'a>(reads: impl Iterator<Item = &'a ReadOp>) -> Option<Duration> {
    reads.filter(|r| is_stale(r)).filter_map(|r| r.age).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> At {
        At::from_duration(Duration::from_millis(ms))
    }

    fn read(ms: u64, outcome: Outcome, cache: Option<&str>, age_ms: Option<u64>) -> ReadOp {
        ReadOp {
            cache: cache.map(str::to_owned),
            age: age_ms.map(Duration::from_millis),
            invoke: at(ms),
            complete: at(ms + 5),
            outcome,
            through: ReadEndpoint::Cache,
            expected_seq: None,
            node: None,
            in_recovery: None,
            visible: None,
            error: None,
        }
    }

    #[test]
    fn stale_answers_failures_and_fresh_content_after_the_heal() {
        // servers stopped at 1 s, started again at 4 s: stale until 4.6 s, then fetched
        let reads = [
            read(500, Outcome::Ok, Some("hit"), Some(300)),
            read(1500, Outcome::Ok, Some("stale"), Some(1300)),
            read(3500, Outcome::Ok, Some("stale"), Some(3300)),
            read(4200, Outcome::Ok, Some("stale"), Some(4000)),
            read(4600, Outcome::Ok, Some("miss"), None),
            read(4700, Outcome::Fail, None, None),
        ];
        let refs: Vec<&ReadOp> = reads.iter().collect();
        let window = FaultWindow {
            fault: 0,
            injected_at: at(1000),
            healed_at: Some(at(4000)),
            window_end: None,
        };
        let m = cache(&refs, &[window]).unwrap();
        assert_eq!(m.reads, 6);
        assert_eq!(m.failed, 1);
        assert_eq!(
            m.served,
            BTreeMap::from([("hit".into(), 1), ("miss".into(), 1), ("stale".into(), 3)])
        );
        assert_eq!(m.max_stale_age, Some(Duration::from_millis(4000)));
        assert_eq!(
            m.faults,
            [CacheFault {
                fault: 0,
                served_stale: 3,
                failed: 1,
                max_stale_age: Some(Duration::from_millis(4000)),
                fresh_again: Some(Duration::from_millis(605)),
            }]
        );
    }

    #[test]
    fn reads_not_through_a_cache_are_not_its_measurements() {
        let mut direct = read(500, Outcome::Ok, None, None);
        direct.through = ReadEndpoint::Primary;
        assert_eq!(cache(&[&direct], &[]), None);
        // no heal: fresh content again is not measured
        let stale = read(1500, Outcome::Ok, Some("stale"), Some(900));
        let window = FaultWindow {
            fault: 0,
            injected_at: at(1000),
            healed_at: None,
            window_end: None,
        };
        assert_eq!(
            cache(&[&stale], &[window]).unwrap().faults[0].fresh_again,
            None
        );
    }
}
