//! The redis-sentinel stack's scenarios: Redis servers replicated asynchronously, Sentinels
//! failing over and telling clients where the master is. Each check reads what really happened
//! from the record: the servers' own `ROLE` answers, each Sentinel's master, the writes' nodes.

use crate::common;
use crate::scenarios::{drill, failed_objectives, injected};
use firedrill::history::{At, ErrorKind, FaultAction, Outcome, Role, RoleSample, WriteOp};
use firedrill::record::RunRecord;
use std::time::Duration;

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
    // the Sentinels' phases, in the order Sentinel runs them: the first three from their own
    // events as they arrived; the promotion and the clients told from answers sampled every
    // probe period, so those two are ordered only to within one period
    let phase = |name: &str, time: Option<Duration>| {
        time.unwrap_or_else(|| panic!("{name} not measured {table}"))
    };
    let sdown = phase("subjectively down", incident.subjective_down_time);
    let odown = phase("objectively down", incident.objective_down_time);
    let elected = phase("Sentinel leader elected", incident.arbiter_election_time);
    let promotion = phase("promotion", incident.promotion_time);
    let told = phase("clients told", incident.clients_told_time);
    assert!(
        sdown <= odown && odown <= elected && elected <= promotion,
        "{table}"
    );
    assert!(
        told + record.history.probe_interval() >= promotion,
        "clients were told at {told:?}, before the promotion at {promotion:?} {table}"
    );
    // down-after-milliseconds is 2 s, counted from the first ping left unanswered: sent at
    // the earliest a round trip before the kill, which lands after F (a margin of 100 ms)
    assert!(
        incident.subjective_down_time >= Some(Duration::from_millis(1900)),
        "{table}"
    );
    assert!(
        record
            .history
            .announcements()
            .any(|a| a.name == "+switch-master" && a.about.as_deref() == Some(new.as_str())),
        "no Sentinel announced +switch-master to {new} {table}"
    );
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
        .find(|e| e.action == FaultAction::Heal)
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

/// The ok writes, and the sequence numbers the loss check found lost.
fn lost_writes(record: &RunRecord) -> Vec<&WriteOp> {
    let lost = record
        .measurements
        .lost_writes
        .as_ref()
        .map(|l| l.seqs.clone())
        .unwrap_or_default();
    record
        .history
        .writes()
        .filter(|w| lost.contains(&w.seq))
        .collect()
}

/// The instant the partition was healed.
fn healed_at(record: &RunRecord, fault: usize) -> At {
    record
        .history
        .faults()
        .find(|e| e.fault == fault && e.action == FaultAction::Heal)
        .expect("the fault was healed")
        .at
}

/// redis-primary-partitioned (known-bad control): a replica was promoted while redis1, cut off,
/// still answered as master and acknowledged writes (two masters at once); once the partition
/// healed redis1 became a replica, and what it had acknowledged alone is reported lost: every
/// lost write was one redis1 acknowledged, nearly all after the cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_master_s_discarded_writes_are_caught() {
    let Some(record) = drill("redis-primary-partitioned").await else {
        return;
    };
    let record = &record;
    let table = common::see_table(record);
    assert_eq!(
        failed_objectives(record),
        ["lost_writes", "split_brain"],
        "{table}"
    );
    let f = injected(record, 0).at;
    let healed = healed_at(record, 0);
    let incident = &record.measurements.faults[0];
    assert_eq!(incident.old_leader, "redis1", "{table}");
    let new = incident.new_leader.clone().expect("a replica was promoted");
    let promoted = master_from(record, &new, f).expect("the new master answered ROLE");
    assert!(promoted < healed, "{new} was promoted only after the heal");
    // redis1 still a master, and taking writes, after the promotion, until the heal
    assert!(
        master_from(record, "redis1", promoted).is_some_and(|at| at < healed),
        "redis1 stopped answering as master when {new} was promoted {table}"
    );
    assert!(
        record.history.writes().any(|w| w.outcome == Outcome::Ok
            && w.node.as_deref() == Some("redis1")
            && w.invoke > promoted
            && w.complete < healed),
        "redis1 took no write after {new} was promoted {table}"
    );
    assert!(record.measurements.split_brain.detected, "{table}");
    // demoted after the heal
    assert!(
        record
            .history
            .self_reports()
            .any(|p| p.asked == "redis1" && p.sent > healed && p.role == Some(Role::Replica)),
        "redis1 was never turned into a replica after the heal {table}"
    );
    let lost = lost_writes(record);
    assert!(!lost.is_empty(), "{table}");
    assert!(
        lost.iter().all(|w| w.node.as_deref() == Some("redis1")),
        "a lost write was acknowledged by another node than redis1 {table}"
    );
    let after_cut = lost.iter().filter(|w| w.complete >= f).count();
    assert!(
        after_cut * 10 >= lost.len() * 9,
        "only {after_cut} of {} lost writes were acknowledged after the cut {table}",
        lost.len()
    );
}

/// redis-min-replicas-bounds-loss: redis1, cut off with min-replicas-to-write 1, acknowledged
/// writes until it had heard from no replica for the lag bound (10 s), then refused them
/// (`NOREPLICAS`) and acknowledged none after; the loss is bounded by that refusal: every lost
/// write was acknowledged by redis1 before it.
pub(crate) fn the_cut_off_master_refused_writes_after_the_lag_bound(record: &RunRecord) {
    let table = common::see_table(record);
    let f = injected(record, 0).at;
    let refused: Vec<&WriteOp> = record
        .history
        .writes()
        .filter(|w| {
            w.error
                .as_deref()
                .is_some_and(|e| e.starts_with("NOREPLICAS"))
        })
        .collect();
    let first = refused
        .iter()
        .map(|w| w.complete)
        .min()
        .unwrap_or_else(|| panic!("redis1 never refused a write with NOREPLICAS {table}"));
    assert!(
        refused
            .iter()
            .all(|w| w.error_kind == Some(ErrorKind::ServerError) && w.outcome == Outcome::Fail),
        "{table}"
    );
    // the lag bound is 10 s; a replica's last acknowledgement may precede the cut by up to 1 s
    assert!(
        first.since(f) >= Duration::from_secs(9),
        "redis1 refused writes {:?} after the cut, before the lag bound {table}",
        first.since(f)
    );
    assert!(
        !record.history.writes().any(|w| w.outcome == Outcome::Ok
            && w.node.as_deref() == Some("redis1")
            && w.invoke > first
            && w.complete < healed_at(record, 0)),
        "redis1 acknowledged a write after it began refusing them {table}"
    );
    let lost = lost_writes(record);
    assert!(
        !lost.is_empty(),
        "nothing lost: the bound did not come into play {table}"
    );
    assert!(
        lost.iter()
            .all(|w| w.node.as_deref() == Some("redis1") && w.complete <= first),
        "a lost write was not one redis1 acknowledged before refusing {table}"
    );
    let new = record.measurements.faults[0]
        .new_leader
        .clone()
        .expect("a replica was promoted");
    assert_ne!(new, "redis1", "{table}");
}

/// redis-sentinel-quorum-loss: with two Sentinels down, the master's crash was never followed
/// by a promotion: no other node answered as master, the Sentinel left kept naming redis1;
/// writes failed until redis1 was back, then went to it again, and its append-only file kept
/// every write it had acknowledged.
pub(crate) fn no_failover_without_the_sentinels_majority(record: &RunRecord) {
    let table = common::see_table(record);
    let crashed = injected(record, 1).at;
    // the kill landed by the end of the injection
    let killed = injected(record, 1).done;
    let back = healed_at(record, 1);
    assert_eq!(record.measurements.leader_changes, 0, "{table}");
    assert!(
        !record
            .history
            .self_reports()
            .any(|p| p.asked != "redis1" && p.is_leader()),
        "another node answered as master {table}"
    );
    let named: std::collections::BTreeSet<(&str, Option<&str>)> = record
        .history
        .authority_reports()
        .filter(|p| p.source == "sentinel" && p.sent > crashed && p.received < back)
        .filter(|p| p.error.is_none())
        .map(|p| (p.asked.as_str(), p.node.as_deref()))
        .collect();
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        [("sentinel3", Some("redis1"))],
        "while redis1 was down only sentinel3 answered, naming redis1 {table}"
    );
    assert!(
        record
            .history
            .writes()
            .any(|w| w.outcome != Outcome::Ok && w.invoke > crashed && w.invoke < back),
        "no write failed while redis1 was down {table}"
    );
    assert!(
        !record
            .history
            .writes()
            .any(|w| w.outcome == Outcome::Ok && w.invoke > killed && w.complete < back),
        "a write succeeded while redis1 was down {table}"
    );
    assert!(
        record.history.writes().any(|w| w.outcome == Outcome::Ok
            && w.node.as_deref() == Some("redis1")
            && w.invoke > back),
        "{table}"
    );
    assert!(lost_writes(record).is_empty(), "{table}");
}

/// redis-sentinel-pause-tilt: sentinel1, paused 5 s, entered TILT as it resumed (another may
/// too, on a host that stalls it as long: not checked); when the master then crashed, the two others failed over without it: one of
/// them was elected, sentinel1 elected nothing, and a replica took the writes.
pub(crate) fn the_paused_sentinel_tilted_and_the_others_failed_over(record: &RunRecord) {
    let table = common::see_table(record);
    let resumed = healed_at(record, 0);
    let tilts: Vec<(&str, At)> = record
        .history
        .announcements()
        .filter(|a| a.name == "+tilt")
        .map(|a| (a.from.as_str(), a.at))
        .collect();
    assert!(
        tilts
            .iter()
            .any(|&(from, at)| from == "sentinel1" && at >= resumed),
        "sentinel1 announced no +tilt after it resumed: {tilts:?} {table}"
    );
    let incident = &record.measurements.faults[1];
    assert_eq!(incident.old_leader, "redis1", "{table}");
    let elected = incident
        .arbiter_elected
        .clone()
        .unwrap_or_else(|| panic!("no Sentinel was elected to fail over {table}"));
    assert_ne!(elected, "sentinel1", "{table}");
    assert!(
        !record
            .history
            .announcements()
            .any(|a| a.from == "sentinel1" && a.name == "+elected-leader"),
        "sentinel1 was elected while in TILT {table}"
    );
    let new = incident.new_leader.clone().expect("a replica was promoted");
    let promoted = master_from(record, &new, injected(record, 1).at).expect("it answered ROLE");
    assert!(
        record.history.writes().any(|w| w.outcome == Outcome::Ok
            && w.node.as_deref() == Some(new.as_str())
            && w.invoke > promoted),
        "{table}"
    );
}
