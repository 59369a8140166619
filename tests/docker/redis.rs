//! The redis-sentinel stack's scenarios: Redis servers replicated asynchronously, Sentinels
//! failing over and telling clients where the master is. Each check reads what really happened
//! from the record: the servers' own `ROLE` answers, each Sentinel's master, the writes' nodes.

use crate::common;
use crate::scenarios::injected;
use firedrill::history::{At, Outcome, Role, RoleSample};
use firedrill::record::RunRecord;

/// The first instant, at or after `from`, at which `node` answered `ROLE` as a master.
fn master_from(record: &RunRecord, node: &str, from: At) -> Option<At> {
    record
        .history
        .self_reports()
        .filter(|p| p.asked == node && p.sent >= from && p.is_leader())
        .map(|p| p.received)
        .min()
}

/// The Sentinels' answers naming `node` master, sent at or after `from`.
fn named_by_sentinels<'a>(
    record: &'a RunRecord,
    node: &'a str,
    from: At,
) -> impl Iterator<Item = &'a RoleSample> {
    record
        .history
        .authority_reports()
        .filter(move |p| p.source == "sentinel" && p.sent >= from)
        .filter(move |p| p.node.as_deref() == Some(node))
}

/// redis-primary-crash: redis1 was the master and took the writes; after the crash a replica
/// answered as master, the Sentinels named it (every one of them), the writes went to it and
/// only to it; redis1, started again at the heal, came back a replica of the new master (its
/// start follows the master the Sentinels name), not a second master.
pub(crate) fn a_replica_promoted_and_the_sentinels_named_it(record: &RunRecord) {
    let table = common::see_table(record);
    let f = injected(record, 0).at;
    let incident = &record.measurements.faults[0];
    assert_eq!(incident.old_leader, "redis1", "{table}");
    let new = incident
        .new_leader
        .clone()
        .unwrap_or_else(|| panic!("no replica answered as master after the crash {table}"));
    assert!(["redis2", "redis3"].contains(&new.as_str()), "{table}");
    assert_eq!(record.measurements.leader_changes, 1, "{table}");
    let promoted = master_from(record, &new, f).expect("the new master answered ROLE");
    // every Sentinel named the new master after the crash, none before it answered as one
    let sentinels: Vec<&str> = record
        .history
        .authority_reports()
        .filter(|p| p.source == "sentinel")
        .map(|p| p.asked.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        sentinels,
        ["sentinel1", "sentinel2", "sentinel3"],
        "{table}"
    );
    for s in &sentinels {
        assert!(
            named_by_sentinels(record, &new, f).any(|p| p.asked == *s),
            "{s} never named {new} after the crash {table}"
        );
    }
    // before the crash every Sentinel that named a master named redis1
    let before: Vec<&RoleSample> = record
        .history
        .authority_reports()
        .filter(|p| p.source == "sentinel" && p.received < f && p.node.is_some())
        .collect();
    assert!(!before.is_empty(), "{table}");
    assert!(
        before.iter().all(|p| p.node.as_deref() == Some("redis1")),
        "{table}"
    );
    // the writes: on redis1 before the crash, on the new master after, never on redis1 once
    // the new master answered as one
    let ok: Vec<_> = record
        .history
        .writes()
        .filter(|w| w.outcome == Outcome::Ok)
        .collect();
    assert!(
        ok.iter()
            .any(|w| w.node.as_deref() == Some("redis1") && w.complete < f),
        "{table}"
    );
    assert!(
        ok.iter()
            .any(|w| w.node.as_deref() == Some(new.as_str()) && w.invoke > f),
        "{table}"
    );
    let late: Vec<u64> = ok
        .iter()
        .filter(|w| w.node.as_deref() == Some("redis1") && w.invoke > promoted)
        .map(|w| w.seq)
        .collect();
    assert!(
        late.is_empty(),
        "redis1 acknowledged {late:?} after {new} was master"
    );
    assert!(
        record
            .history
            .writes()
            .any(|w| w.outcome != Outcome::Ok && w.invoke > f && w.invoke < promoted),
        "no write failed while the master was down {table}"
    );
    // redis1 back at the heal as a replica, never a master again
    let healed = record
        .history
        .faults()
        .find(|e| e.action == firedrill::history::FaultAction::Heal)
        .expect("the crash was healed")
        .at;
    let back: Vec<&RoleSample> = record
        .history
        .self_reports()
        .filter(|p| p.asked == "redis1" && p.sent >= healed && p.role.is_some())
        .collect();
    assert!(
        back.iter().any(|p| p.role == Some(Role::Replica)),
        "redis1 never answered as a replica after it was started again {table}"
    );
    assert!(
        back.iter().all(|p| p.role != Some(Role::Leader)),
        "redis1 came back a master {table}"
    );
    // and streamed from the new master
    assert!(
        record.history.self_reports().any(|p| p.asked == new
            && p.received > healed
            && p.streaming.contains(&"redis1".to_owned())),
        "{new} never listed redis1 online after the heal {table}"
    );
}
