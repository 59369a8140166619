//! Reads: whether acknowledged writes were visible where they were read.
//!
//! Each read looks for one write: the highest sequence number among the writes acknowledged
//! before the read was invoked (its `expected_seq`; the write's `complete` is at or before the
//! read's `invoke`). Only `ok` reads are judged; a read that failed saw nothing.

use super::writes::is_ok;
use crate::history::{At, Outcome, ReadOp, WriteOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// At most this many stale reads on a primary are listed (the count has them all).
pub(crate) const MAX_LISTED: usize = 20;

/// What the reads saw.
///
/// A read is *judged* when it is `ok`, has an `expected_seq` and says whether that row was
/// `visible`. A judged read that did not see it is **stale**: the node that served it did not
/// have a write that had been acknowledged before the read was invoked. Stale reads are split
/// by that node's own answer to `pg_is_in_recovery()`:
///
/// - *on a replica* (in recovery): the replica had not replayed the write yet. Expected under
///   asynchronous replication; counted and reported, not an error in itself;
/// - *on a primary* (not in recovery, or the read did not say): a node taking writes did not
///   have an acknowledged write. Evidence of lost writes (a promoted replica that never
///   received it) or of split brain (another primary accepted it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reads {
    /// Every read attempt: `ok + failed`.
    pub total: u64,
    /// Reads whose SELECT returned its row (`ok`).
    pub ok: u64,
    /// Reads that did not (`fail`, or `unknown`): not judged.
    pub failed: u64,
    /// `ok` reads that were judged (see above): `fresh + stale`.
    pub judged: u64,
    /// Judged reads that saw their expected write.
    pub fresh: u64,
    /// **Stale reads**: judged reads that did not see their expected write:
    /// `stale_on_replica + stale_on_primary`.
    pub stale: u64,
    /// Stale reads served by a node in recovery.
    pub stale_on_replica: u64,
    /// Stale reads served by a node not in recovery (or that did not say): evidence of loss or
    /// split brain.
    pub stale_on_primary: u64,
    /// **Max staleness**: the largest, over the stale reads, of the read's `invoke` minus the
    /// `complete` of its expected write (the `ok` write of that sequence number; the earliest
    /// completed if several): that write had been acknowledged at least this long when the read
    /// was invoked and did not see it. Stale reads whose expected write the history does not
    /// hold as `ok` are left out. `None` without such stale reads.
    #[serde(default, with = "humantime_serde")]
    pub max_staleness: Option<Duration>,
    /// The stale reads on a primary, by invoke instant: the first 20 (`MAX_LISTED`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_primary: Vec<StaleRead>,
    /// `ok` reads per node that served them.
    pub per_node: BTreeMap<String, u64>,
}

/// One stale read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleRead {
    pub invoke: At,
    /// The node that served the read (empty if the read did not say).
    pub node: String,
    /// The acknowledged write it did not see.
    pub expected_seq: u64,
    /// The read's `invoke` minus the expected write's `complete` (see
    /// [`Reads::max_staleness`]); `None` if the history does not hold that write as `ok`.
    #[serde(default, with = "humantime_serde")]
    pub staleness: Option<Duration>,
}

impl Reads {
    /// Whether a read on a primary missed an acknowledged write.
    pub fn primary_missed_writes(&self) -> bool {
        self.stale_on_primary > 0
    }
}

/// What the reads saw; `None` if the history holds no read (the run had no readers).
/// `writes` are every write of the history, to time the expected writes.
pub(crate) fn reads(reads: &[&ReadOp], writes: &[&WriteOp]) -> Option<Reads> {
    if reads.is_empty() {
        return None;
    }
    let mut acknowledged: BTreeMap<u64, At> = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        let complete = acknowledged.entry(w.seq).or_insert(w.complete);
        *complete = (*complete).min(w.complete);
    }
    let mut ordered = reads.to_vec();
    ordered.sort_by_key(|r| (r.invoke, r.complete));

    let mut m = Reads::default();
    for r in ordered {
        m.total += 1;
        if r.outcome != Outcome::Ok {
            m.failed += 1;
            continue;
        }
        m.ok += 1;
        if let Some(node) = &r.node {
            *m.per_node.entry(node.clone()).or_insert(0) += 1;
        }
        let (Some(expected_seq), Some(visible)) = (r.expected_seq, r.visible) else {
            continue;
        };
        m.judged += 1;
        if visible {
            m.fresh += 1;
            continue;
        }
        m.stale += 1;
        let staleness = acknowledged
            .get(&expected_seq)
            .map(|&acked| r.invoke.since(acked));
        m.max_staleness = m.max_staleness.max(staleness);
        if r.in_recovery == Some(true) {
            m.stale_on_replica += 1;
        } else {
            m.stale_on_primary += 1;
            if m.on_primary.len() < MAX_LISTED {
                m.on_primary.push(StaleRead {
                    invoke: r.invoke,
                    node: r.node.clone().unwrap_or_default(),
                    expected_seq,
                    staleness,
                });
            }
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::check::writes::ordered;
    use crate::history::History;
    use proptest::prelude::*;

    fn of(h: &History) -> Option<Reads> {
        let rs: Vec<&ReadOp> = h.reads().collect();
        reads(&rs, &ordered(h))
    }

    #[test]
    fn no_reads_is_not_measured() {
        let h = history(vec![ok(1, ms(0), ms(2), "pg1", 1)]);
        assert_eq!(of(&h), None);
    }

    #[test]
    fn stale_reads_are_split_by_the_serving_node_s_recovery() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(10), ms(12), "pg1", 1),
            // nothing acknowledged yet: ok, not judged
            read(ms(1), ms(3), None, "pg2", true, false),
            read(ms(5), ms(6), Some(1), "pg2", true, true),
            // a lagging replica: seq 2 acknowledged 8 ms before
            read(ms(20), ms(21), Some(2), "pg3", true, false),
            failed_read(ms(25), ms(26)),
            // a primary without an acknowledged write: 18 ms
            read(ms(30), ms(31), Some(2), "pg2", false, false),
            read(ms(40), ms(41), Some(2), "pg2", false, true),
        ]);
        let m = of(&h).unwrap();
        assert_eq!(
            (m.total, m.ok, m.failed, m.judged, m.fresh),
            (6, 5, 1, 4, 2)
        );
        assert_eq!((m.stale, m.stale_on_replica, m.stale_on_primary), (2, 1, 1));
        assert_eq!(m.max_staleness, Some(Duration::from_millis(18)));
        assert_eq!(
            m.on_primary,
            [StaleRead {
                invoke: ms(30),
                node: "pg2".into(),
                expected_seq: 2,
                staleness: Some(Duration::from_millis(18)),
            }]
        );
        assert!(m.primary_missed_writes());
        assert_eq!(
            m.per_node,
            BTreeMap::from([("pg2".to_string(), 4), ("pg3".to_string(), 1)])
        );
    }

    #[test]
    fn a_stale_read_of_a_write_the_history_lacks_is_counted_but_not_timed() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            read(ms(5), ms(6), Some(9), "pg2", true, false),
        ]);
        let m = of(&h).unwrap();
        assert_eq!((m.stale, m.stale_on_replica), (1, 1));
        assert_eq!(m.max_staleness, None);
        assert!(!m.primary_missed_writes());
    }

    #[test]
    fn only_the_first_stale_reads_on_a_primary_are_listed() {
        let mut events = vec![ok(1, ms(0), ms(2), "pg1", 1)];
        for k in 0..30 {
            events.push(read(ms(10 + k), ms(11 + k), Some(1), "pg2", false, false));
        }
        let m = of(&history(events)).unwrap();
        assert_eq!(m.stale_on_primary, 30);
        assert_eq!(m.on_primary.len(), MAX_LISTED);
        assert_eq!(m.on_primary[0].invoke, ms(10));
        assert_eq!(m.max_staleness, Some(Duration::from_millis(37)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn planted_stale_reads_are_counted_exactly(
            f in failover_strategy(),
            seed in any::<u64>(),
            period in 3u64..40,
        ) {
            let planted = plant_reads(f.build().history, seed, period);
            let m = of(&planted.history).unwrap();
            prop_assert_eq!(m.total, planted.total);
            prop_assert_eq!(m.failed, planted.failed);
            prop_assert_eq!(m.ok, planted.total - planted.failed);
            prop_assert_eq!(m.judged, planted.fresh + planted.stale_on_replica + planted.stale_on_primary.len() as u64);
            prop_assert_eq!(m.fresh, planted.fresh);
            prop_assert_eq!(m.stale_on_replica, planted.stale_on_replica);
            prop_assert_eq!(m.stale_on_primary, planted.stale_on_primary.len() as u64);
            prop_assert_eq!(m.stale, m.stale_on_replica + m.stale_on_primary);
            prop_assert_eq!(m.max_staleness, planted.max_staleness);
            let listed: Vec<(At, u64)> =
                m.on_primary.iter().map(|s| (s.invoke, s.expected_seq)).collect();
            let expected: Vec<(At, u64)> =
                planted.stale_on_primary.iter().copied().take(MAX_LISTED).collect();
            prop_assert_eq!(listed, expected);
            for s in &m.on_primary {
                prop_assert_eq!(s.node.as_str(), "pg2");
            }
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(serde_json::from_str::<Reads>(&json).unwrap(), m);
        }
    }
}
