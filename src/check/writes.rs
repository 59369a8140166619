//! Write counts, errors by kind, and the ordered view of the writes the other checkers work
//! from.

use super::rto::Window;
use crate::history::{ErrorKind, History, Outcome, WriteOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the write attempts ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteCounts {
    /// Writes the server acknowledged (`ok`).
    pub ok: u64,
    /// Writes that certainly did not happen (`fail`).
    pub fail: u64,
    /// Writes that may or may not have happened (`unknown`): never counted as acknowledged.
    pub unknown: u64,
    /// Every write attempt sent: `ok + fail + unknown`.
    pub total: u64,
    /// Write attempts the harness never sent (its own connection cap, see
    /// [`WriteOp::not_sent`]): not in `total`, `fail` or any other measurement of the writes.
    /// Zero in measurements recorded before they were told apart (they were then `fail`).
    #[serde(default)]
    pub not_sent: u64,
}

impl WriteCounts {
    /// Writes that did not end `ok`.
    pub fn not_ok(&self) -> u64 {
        self.fail + self.unknown
    }
}

/// The history's writes that were sent, ordered by invoke instant (then complete instant, then
/// sequence number): what every measurement of the writes is made from. Attempts the harness
/// never sent ([`WriteOp::not_sent`]) say nothing of the system, so they are left out here: out
/// of the outage's edges, detection, errors by kind, latency and loss.
pub(crate) fn ordered(history: &History) -> Vec<&WriteOp> {
    let mut writes: Vec<&WriteOp> = history.writes().filter(|w| !w.not_sent()).collect();
    writes.sort_by_key(|w| (w.invoke, w.complete, w.seq));
    writes
}

/// The attempts the harness never sent, ordered by invoke instant.
pub(crate) fn not_sent(history: &History) -> Vec<&WriteOp> {
    let mut writes: Vec<&WriteOp> = history.writes().filter(|w| w.not_sent()).collect();
    writes.sort_by_key(|w| (w.invoke, w.complete, w.seq));
    writes
}

pub(crate) fn is_ok(w: &WriteOp) -> bool {
    w.outcome == Outcome::Ok
}

/// Counts every write of the history, the ones not sent apart.
pub(crate) fn counts<'a>(writes: impl IntoIterator<Item = &'a WriteOp>) -> WriteCounts {
    let mut c = WriteCounts::default();
    for w in writes {
        if w.not_sent() {
            c.not_sent += 1;
            continue;
        }
        match w.outcome {
            Outcome::Ok => c.ok += 1,
            Outcome::Fail => c.fail += 1,
            Outcome::Unknown => c.unknown += 1,
            Outcome::NotSent => c.not_sent += 1,
        }
    }
    c.total = c.ok + c.fail + c.unknown;
    c
}

/// Acknowledged (`ok`) writes per accepting node, as the INSERT itself reported the node. Ok
/// writes that did not name a node are not counted here.
pub(crate) fn per_node(writes: &[&WriteOp]) -> BTreeMap<String, u64> {
    let mut map = BTreeMap::new();
    for w in writes.iter().filter(|w| is_ok(w)) {
        if let Some(node) = &w.node {
            *map.entry(node.clone()).or_insert(0) += 1;
        }
    }
    map
}

/// **Errors by kind**: the non-ok (`fail` or `unknown`) writes invoked at or after the window's
/// start and before its end, counted by the kind the writer classified them as. Kinds with no
/// write are left out; non-ok writes without a kind (histories recorded before writes were
/// classified) are not counted, so the counts may then sum to less than the non-ok writes.
pub(crate) fn errors_by_kind(writes: &[&WriteOp], window: Window) -> BTreeMap<ErrorKind, u64> {
    let mut map = BTreeMap::new();
    let in_window = writes
        .iter()
        .filter(|w| w.invoke >= window.start && window.before_end(w.invoke));
    for w in in_window.filter(|w| !is_ok(w)) {
        if let Some(kind) = w.error_kind {
            *map.entry(kind).or_insert(0) += 1;
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::*;
    use crate::history::Event;

    #[test]
    fn counts_each_outcome_and_ok_writes_per_node() {
        let h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            ok(2, ms(10), ms(12), "pg1", 1),
            failed(3, ms(20), ms(21)),
            unknown(4, ms(30), ms(530)),
            ok(5, ms(40), ms(42), "pg2", 2),
        ]);
        let writes = ordered(&h);
        let c = counts(writes.iter().copied());
        assert_eq!(
            c,
            WriteCounts {
                ok: 3,
                fail: 1,
                unknown: 1,
                total: 5,
                not_sent: 0,
            }
        );
        assert_eq!(c.not_ok(), 2);
        let per = per_node(&writes);
        assert_eq!(per.get("pg1"), Some(&2));
        assert_eq!(per.get("pg2"), Some(&1));
        assert_eq!(per.len(), 2);
    }

    #[test]
    fn writes_never_sent_are_counted_apart_and_left_out_of_the_others() {
        let mut h = history(vec![
            ok(1, ms(0), ms(2), "pg1", 1),
            failed(2, ms(10), ms(11)),
            not_ok(3, ms(20), ms(520), ErrorKind::TooManyConnecting),
            unknown(4, ms(30), ms(530)),
        ]);
        // recorded before `not_sent` existed: `fail` with that kind
        h.extend([Event::Write(WriteOp {
            error_kind: Some(ErrorKind::TooManyConnecting),
            ..write(5, ms(40), ms(540), Outcome::Fail)
        })]);
        let c = counts(h.writes());
        assert_eq!(
            c,
            WriteCounts {
                ok: 1,
                fail: 1,
                unknown: 1,
                total: 3,
                not_sent: 2,
            }
        );
        let seqs = |ws: Vec<&WriteOp>| ws.iter().map(|w| w.seq).collect::<Vec<_>>();
        assert_eq!(seqs(ordered(&h)), [1, 2, 4]);
        assert_eq!(seqs(not_sent(&h)), [3, 5]);
        assert_eq!(
            errors_by_kind(&ordered(&h), Window::WHOLE),
            BTreeMap::from([(ErrorKind::ConnectRefused, 1), (ErrorKind::WriteTimeout, 1)])
        );
        // measurements recorded before: no `not_sent`
        let old: WriteCounts =
            serde_json::from_str(r#"{"ok":1,"fail":3,"unknown":1,"total":5}"#).unwrap();
        assert_eq!(old.not_sent, 0);
    }

    #[test]
    fn errors_are_counted_by_kind_within_the_window() {
        let mut h = history(vec![
            failed(1, ms(0), ms(1)),
            ok(2, ms(10), ms(12), "pg1", 1),
            not_ok(3, ms(20), ms(21), ErrorKind::ReadOnly),
            not_ok(4, ms(30), ms(31), ErrorKind::ReadOnly),
            unknown(5, ms(40), ms(540)),
            not_ok(6, ms(50), ms(51), ErrorKind::ConnectionLost),
            failed(7, ms(60), ms(61)),
        ]);
        // a write recorded before kinds were: not counted
        h.extend([Event::Write(write(8, ms(45), ms(46), Outcome::Fail))]);
        let writes = ordered(&h);
        assert_eq!(
            errors_by_kind(&writes, Window::WHOLE),
            BTreeMap::from([
                (ErrorKind::ConnectRefused, 2),
                (ErrorKind::ReadOnly, 2),
                (ErrorKind::ConnectionLost, 1),
                (ErrorKind::WriteTimeout, 1),
            ])
        );
        let w = Window {
            start: ms(20),
            end: Some(ms(50)),
        };
        assert_eq!(
            errors_by_kind(&writes, w),
            BTreeMap::from([(ErrorKind::ReadOnly, 2), (ErrorKind::WriteTimeout, 1)])
        );
        let json = serde_json::to_string(&errors_by_kind(&writes, w)).unwrap();
        assert_eq!(json, r#"{"read_only":2,"write_timeout":1}"#);
        let back: BTreeMap<ErrorKind, u64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, errors_by_kind(&writes, w));
    }
}
