//! Acknowledged writes lost, and unknown writes resolved, against the final read-back.

use super::writes::is_ok;
use crate::history::{At, Outcome, ReadBack, WriteOp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Acknowledged writes missing from the final read-back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostWrites {
    /// How many acknowledged writes were lost: the length of `seqs`.
    pub count: u64,
    /// The sequence numbers of the writes that were `ok` but are absent from the read-back,
    /// ascending.
    pub seqs: Vec<u64>,
    /// **RPO**, the longest span of acknowledged writes lost to one fault. The lost writes are
    /// grouped by the first fault injected at or after their invoke instant (those invoked
    /// after every injection form one more group); a group's span runs from the invoke of its
    /// oldest write to the later of that fault's `F` (none for the last group) and the complete
    /// instant of its newest write. For a crash this is the time before `F` whose writes are
    /// gone; for a split brain, where a deposed leader acknowledged writes after `F` that were
    /// later discarded, it spans those writes. `None` when nothing was lost.
    #[serde(default, with = "humantime_serde")]
    pub rpo: Option<Duration>,
    /// Ok writes not judged because they completed after the read-back began (the read may have
    /// preceded their commit). Zero when the workload stopped before the read-back, as it does.
    pub unchecked: u64,
}

/// Writes whose outcome was `unknown`, resolved against the read-back. An unknown write is never
/// counted as lost, nor as acknowledged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownWrites {
    /// Whether the history holds a read-back to resolve them against.
    pub read_back: bool,
    /// Unknown writes present in the read-back: they happened. Ascending.
    pub present: Vec<u64>,
    /// Unknown writes absent from the read-back: they did not happen. Ascending.
    pub absent: Vec<u64>,
    /// Unknown writes that could not be resolved: all of them without a read-back, else those
    /// absent that completed after the read-back began. Ascending.
    pub unresolved: Vec<u64>,
}

/// Writes recorded as certainly not done (`fail`, or never sent) whose sequence number is in the
/// final read-back: they committed. An anomaly: the outcome rule called them failed, so every
/// measurement that counted them as failed (the outage's edges, detection) is in doubt.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCommitted {
    /// How many: the length of `seqs`.
    pub count: u64,
    /// Their sequence numbers, ascending.
    pub seqs: Vec<u64>,
}

/// The failed writes found committed, or `None` if the history holds no read-back. `writes`:
/// every write of the history, sent or not.
pub(crate) fn failed_committed<'a>(
    writes: impl IntoIterator<Item = &'a WriteOp>,
    read_back: Option<&ReadBack>,
) -> Option<FailedCommitted> {
    let read_back = read_back?;
    let present: BTreeSet<u64> = read_back.present.iter().copied().collect();
    let seqs: BTreeSet<u64> = writes
        .into_iter()
        .filter(|w| w.outcome == Outcome::Fail || w.not_sent())
        .filter(|w| present.contains(&w.seq))
        .map(|w| w.seq)
        .collect();
    Some(FailedCommitted {
        count: seqs.len() as u64,
        seqs: seqs.into_iter().collect(),
    })
}

/// Lost acknowledged writes, or `None` if the history holds no read-back. `faults` are the
/// injection instants.
pub(crate) fn lost_writes(
    writes: &[&WriteOp],
    read_back: Option<&ReadBack>,
    faults: &[At],
) -> Option<LostWrites> {
    let read_back = read_back?;
    let present: BTreeSet<u64> = read_back.present.iter().copied().collect();
    let mut lost = BTreeSet::new();
    // (oldest invoke, newest complete) of the lost writes, by the fault they were lost to.
    let mut groups: BTreeMap<Option<At>, (At, At)> = BTreeMap::new();
    let mut unchecked = BTreeSet::new();
    for w in writes
        .iter()
        .filter(|w| is_ok(w) && !present.contains(&w.seq))
    {
        if w.complete > read_back.at {
            unchecked.insert(w.seq);
        } else {
            lost.insert(w.seq);
            let fault = faults.iter().copied().filter(|&f| f >= w.invoke).min();
            let group = groups.entry(fault).or_insert((w.invoke, w.complete));
            *group = (group.0.min(w.invoke), group.1.max(w.complete));
        }
    }
    let rpo = groups
        .iter()
        .map(|(fault, &(oldest, newest))| fault.map_or(newest, |f| f.max(newest)).since(oldest))
        .max();
    Some(LostWrites {
        count: lost.len() as u64,
        seqs: lost.into_iter().collect(),
        rpo,
        unchecked: unchecked.len() as u64,
    })
}

/// Unknown writes resolved against the read-back.
pub(crate) fn unknown_writes(writes: &[&WriteOp], read_back: Option<&ReadBack>) -> UnknownWrites {
    let unknown = writes.iter().filter(|w| w.outcome == Outcome::Unknown);
    let Some(read_back) = read_back else {
        let unresolved: BTreeSet<u64> = unknown.map(|w| w.seq).collect();
        return UnknownWrites {
            read_back: false,
            unresolved: unresolved.into_iter().collect(),
            ..UnknownWrites::default()
        };
    };
    let in_read_back: BTreeSet<u64> = read_back.present.iter().copied().collect();
    let (mut present, mut absent, mut unresolved) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for w in unknown {
        if in_read_back.contains(&w.seq) {
            present.insert(w.seq);
        } else if w.complete > read_back.at {
            unresolved.insert(w.seq);
        } else {
            absent.insert(w.seq);
        }
    }
    UnknownWrites {
        read_back: true,
        present: present.into_iter().collect(),
        absent: absent.into_iter().collect(),
        unresolved: unresolved.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::check::writes::ordered;
    use crate::history::History;
    use proptest::prelude::*;

    fn check(h: &History, faults: &[At]) -> (Option<LostWrites>, UnknownWrites) {
        let writes = ordered(h);
        (
            lost_writes(&writes, h.read_back(), faults),
            unknown_writes(&writes, h.read_back()),
        )
    }

    #[test]
    fn no_read_back_means_not_measured() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            unknown(2, ms(10), ms(510)),
        ]);
        let (lost, unknown) = check(&h, &[ms(5)]);
        assert_eq!(lost, None);
        assert!(!unknown.read_back);
        assert_eq!(unknown.unresolved, [2]);
        assert!(unknown.present.is_empty() && unknown.absent.is_empty());
    }

    #[test]
    fn unknown_writes_are_resolved_and_never_lost() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            unknown(2, ms(10), ms(510)),
            unknown(3, ms(20), ms(520)),
            failed(4, ms(30), ms(31)),
            ok(5, ms(600), ms(602), "pg2", 2),
            read_back(ms(1000), vec![1, 3, 5]),
        ]);
        let (lost, unknown) = check(&h, &[ms(5)]);
        let lost = lost.unwrap();
        assert_eq!(lost.count, 0);
        assert!(lost.seqs.is_empty());
        assert_eq!(lost.rpo, None);
        assert_eq!(unknown.present, [3]);
        assert_eq!(unknown.absent, [2]);
        assert!(unknown.unresolved.is_empty());
    }

    #[test]
    fn lost_writes_and_rpo_to_the_next_fault() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(10), ms(12), "pg1", 1),
            ok(3, ms(20), ms(22), "pg1", 1),
            ok(4, ms(30), ms(32), "pg1", 1),
            ok(5, ms(900), ms(902), "pg2", 2),
            read_back(ms(1000), vec![1, 2, 5]),
        ]);
        let (lost, _) = check(&h, &[ms(40), ms(800)]);
        let lost = lost.unwrap();
        assert_eq!(lost.count, 2);
        assert_eq!(lost.seqs, [3, 4]);
        assert_eq!(lost.rpo, Some(Duration::from_millis(20)));

        // acknowledged after the fault and discarded (a deposed leader's): from the oldest
        // lost write's invoke to the newest one's complete
        let h = history(vec![
            ok(1, ms(900), ms(902), "pg1", 1),
            ok(2, ms(950), ms(953), "pg1", 1),
            read_back(ms(1000), vec![]),
        ]);
        let (lost, _) = check(&h, &[ms(40)]);
        assert_eq!(lost.unwrap().rpo, Some(Duration::from_millis(53)));

        // lost to two faults: the longer of the two spans, not from the first to the second
        let h = history(vec![
            ok(1, ms(9_500), ms(9_502), "pg1", 1),
            ok(2, ms(39_700), ms(39_702), "pg2", 2),
            read_back(ms(60_000), vec![]),
        ]);
        let (lost, _) = check(&h, &[ms(10_000), ms(40_000)]);
        assert_eq!(lost.unwrap().rpo, Some(Duration::from_millis(500)));
    }

    #[test]
    fn failed_writes_found_in_the_read_back_are_reported() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(10), ms(11)),
            failed(3, ms(20), ms(21)),
            unknown(4, ms(30), ms(530)),
            not_ok(
                5,
                ms(40),
                ms(41),
                crate::history::ErrorKind::TooManyConnecting,
            ),
            read_back(ms(1000), vec![1, 3, 4, 5]),
        ]);
        assert_eq!(
            failed_committed(h.writes(), h.read_back()),
            Some(FailedCommitted {
                count: 2,
                seqs: vec![3, 5]
            })
        );
        let h = history(vec![failed(2, ms(10), ms(11))]);
        assert_eq!(failed_committed(h.writes(), h.read_back()), None);
    }

    #[test]
    fn writes_completing_after_the_read_back_began_are_not_judged() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(990), ms(1002), "pg1", 1),
            unknown(3, ms(995), ms(1500)),
            read_back(ms(1000), vec![1]),
        ]);
        let (lost, unknown) = check(&h, &[]);
        let lost = lost.unwrap();
        assert_eq!(lost.count, 0);
        assert_eq!(lost.unchecked, 1);
        assert_eq!(unknown.unresolved, [3]);
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Plant {
        Kept,
        Lost,
        Failed,
        UnknownPresent,
        UnknownAbsent,
    }

    fn plant() -> impl Strategy<Value = Plant> {
        prop_oneof![
            6 => Just(Plant::Kept),
            1 => Just(Plant::Lost),
            1 => Just(Plant::Failed),
            1 => Just(Plant::UnknownPresent),
            1 => Just(Plant::UnknownAbsent),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn planted_losses_and_unknowns_are_recovered_exactly(
            plants in prop::collection::vec((plant(), 0..3 * MS, MS..=600 * MS), 1..300),
            faults in prop::collection::vec(0..3_000 * MS, 0..4),
        ) {
            let faults: Vec<At> = faults.into_iter().map(At).collect();
            let mut events = Vec::new();
            let mut present = Vec::new();
            for (k, &(p, jitter, latency)) in plants.iter().enumerate() {
                let seq = k as u64 + 1;
                let invoke = At(k as u64 * 10 * MS + jitter);
                let complete = At(invoke.0 + latency);
                events.push(match p {
                    Plant::Kept | Plant::Lost => ok(seq, invoke, complete, "pg1", 1),
                    Plant::Failed => failed(seq, invoke, complete),
                    Plant::UnknownPresent | Plant::UnknownAbsent => unknown(seq, invoke, complete),
                });
                if matches!(p, Plant::Kept | Plant::UnknownPresent) {
                    present.push(seq);
                }
            }
            events.push(read_back(ms(10_000), present));
            let h = history(events);
            let (lost, unknown) = check(&h, &faults);
            let lost = lost.unwrap();

            let seqs_of = |want: Plant| -> Vec<u64> {
                plants
                    .iter()
                    .enumerate()
                    .filter(|(_, (p, _, _))| *p == want)
                    .map(|(k, _)| k as u64 + 1)
                    .collect()
            };
            let planted_lost = seqs_of(Plant::Lost);
            prop_assert_eq!(&lost.seqs, &planted_lost);
            prop_assert_eq!(lost.count, planted_lost.len() as u64);
            prop_assert_eq!(lost.unchecked, 0);
            // Grouped by the fault each lost write was lost to; the longest group's span.
            let lost_ops: Vec<_> = h.writes().filter(|w| planted_lost.contains(&w.seq)).collect();
            let lost_to = |w: &WriteOp| faults.iter().copied().filter(|&f| f >= w.invoke).min();
            let expected_rpo = lost_ops
                .iter()
                .map(|w| {
                    let group: Vec<_> = lost_ops.iter().filter(|o| lost_to(o) == lost_to(w)).collect();
                    let oldest = group.iter().map(|o| o.invoke).min().unwrap();
                    let newest = group.iter().map(|o| o.complete).max().unwrap();
                    lost_to(w).map_or(newest, |f| f.max(newest)).since(oldest)
                })
                .max();
            prop_assert_eq!(lost.rpo, expected_rpo);

            prop_assert!(unknown.read_back);
            prop_assert_eq!(unknown.present, seqs_of(Plant::UnknownPresent));
            prop_assert_eq!(unknown.absent, seqs_of(Plant::UnknownAbsent));
            prop_assert!(unknown.unresolved.is_empty());
        }
    }
}
