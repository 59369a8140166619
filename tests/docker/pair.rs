//! The pair stack's scenarios: a primary/standby pair with no failover manager, keepalived's
//! virtual IP on the primary, promotion by the operator's procedure (a `promote` step). Each
//! check reads what really happened from the record: the step's instants, the nodes' own
//! answers on holding the virtual IP, the writes' nodes.

use crate::common;
use crate::scenarios::{drill, errors_of, failed_objectives, injected};
use firedrill::history::{At, ErrorKind, Outcome, StepEvent, StepOutcome};
use firedrill::record::RunRecord;
use std::time::Duration;

/// The one `promote` step, done, and an instant it recorded.
fn promote_step(record: &RunRecord) -> &StepEvent {
    let step = record
        .history
        .steps()
        .find(|s| s.action == "promote")
        .expect("a promote step ran");
    assert_eq!(
        step.outcome,
        StepOutcome::Done,
        "{:?} {}",
        step.detail,
        common::see_table(record)
    );
    step
}

fn instant(step: &StepEvent, name: &str) -> At {
    serde_json::from_value(step.values.get(name).cloned().unwrap_or_default())
        .unwrap_or_else(|_| panic!("the promote step recorded no {name}: {:?}", step.values))
}

/// The first instant, at or after `from`, at which `node` said it held the virtual IP.
fn held_from(record: &RunRecord, node: &str, from: At) -> Option<At> {
    record
        .history
        .address_reports()
        .filter(|p| p.asked == node && p.sent >= from && p.is_leader())
        .map(|p| p.received)
        .min()
}

/// pair-primary-crash-scripted-promotion: the standby saw the primary unreachable for the 5 s
/// the procedure waits, the procedure killed the old primary and promoted the standby, which
/// then took the virtual IP (never before it was a primary) and took the writes; the leader
/// changed once; any write lost was one the old primary acknowledged.
pub(crate) fn standby_promoted_by_the_procedure_and_the_address_followed(record: &RunRecord) {
    let table = common::see_table(record);
    let f = injected(record, 0).at;
    let step = promote_step(record);
    let since = instant(step, "unreachable_since");
    let decided = instant(step, "decided_at");
    let promoted = instant(step, "promoted_at");
    assert!(
        since >= f,
        "unreachable from {since}, before the crash at {f}"
    );
    assert!(
        decided.since(since) >= Duration::from_secs(5),
        "decided at {decided}, only {:?} after the primary was first unreachable",
        decided.since(since)
    );
    instant(step, "fenced_at");
    let incident = &record.measurements.faults[0];
    assert_eq!(incident.old_leader, "db1", "{table}");
    assert_eq!(incident.new_leader.as_deref(), Some("db2"), "{table}");
    assert_eq!(record.measurements.leader_changes, 1, "{table}");
    assert_eq!(
        incident.decision_time,
        Some(decided.since(f)),
        "the decision is timed from the crash {table}"
    );
    // the address moved to db2, and only once db2 was a primary
    assert_eq!(incident.address_holder.as_deref(), Some("db2"), "{table}");
    let moved = held_from(record, "db2", f).expect("db2 held the virtual IP after the crash");
    assert!(
        moved >= instant(step, "promote_sent_at"),
        "db2 held the virtual IP at {moved}, before it was promoted"
    );
    assert!(
        record
            .history
            .address_reports()
            .filter(|p| p.asked == "db2" && p.received < f)
            .all(|p| !p.is_leader()),
        "the standby held the virtual IP before the crash"
    );
    // writes through the virtual IP reached db2 after its promotion, and no other node
    let after: Vec<_> = record
        .history
        .writes()
        .filter(|w| w.outcome == Outcome::Ok && w.invoke > promoted)
        .collect();
    assert!(
        !after.is_empty(),
        "no write acknowledged after the promotion {table}"
    );
    assert!(
        after.iter().all(|w| w.node.as_deref() == Some("db2")),
        "writes after the promotion acknowledged by another node than db2 {table}"
    );
    // fenced, db1 never came back: db2 has no standby, and no full redundancy is reported
    assert_eq!(incident.time_to_full_redundancy, None, "{table}");
    assert_eq!(incident.nothing_to_stream_to, ["db1"], "{table}");
    // what asynchronous replication lost is reported exactly: writes db1 acknowledged
    let lost = record
        .measurements
        .lost_writes
        .as_ref()
        .expect("a read-back");
    for seq in &lost.seqs {
        let w = record
            .history
            .writes()
            .find(|w| w.seq == *seq)
            .expect("a lost write was attempted");
        assert_eq!(w.node.as_deref(), Some("db1"), "lost write {seq} {table}");
    }
}

/// pair-with-api-servers: under the API tier, the same procedure as the plain pair's (the
/// standby promoted, the address following it); meanwhile the API servers refused the writes
/// they could not commit (their 503) and, their status endpoint failing, HAProxy drained them
/// and answered 503 itself. No write was acknowledged through them before db2 held the address:
/// users waited for the promotion and the address; afterwards every write went through an API
/// server to db2, on its new timeline.
pub(crate) fn the_api_tier_waited_for_the_promotion_and_the_address(record: &RunRecord) {
    standby_promoted_by_the_procedure_and_the_address_followed(record);
    let table = common::see_table(record);
    let f = injected(record, 0).at;
    let incident = &record.measurements.faults[0];
    assert!(
        errors_of(incident, &[ErrorKind::HttpRefused]) > 0,
        "no API server refused a write {table}"
    );
    assert!(
        errors_of(incident, &[ErrorKind::HttpNoServer]) > 0,
        "HAProxy never drained the API tier {table}"
    );
    // the last time db2 said it did not hold the address: no write could reach db2 there before
    let moved = held_from(record, "db2", f).expect("db2 held the virtual IP after the crash");
    let not_yet = record
        .history
        .address_reports()
        .filter(|p| p.asked == "db2" && p.received < moved && !p.is_leader())
        .map(|p| p.sent)
        .max()
        .unwrap_or(f);
    let on_db2: Vec<_> = record
        .history
        .writes()
        .filter(|w| w.outcome == Outcome::Ok && w.node.as_deref() == Some("db2"))
        .collect();
    assert!(!on_db2.is_empty(), "no write reached db2 {table}");
    assert!(
        on_db2.iter().all(|w| w.complete >= not_yet),
        "a write acknowledged by db2 before it held the virtual IP {table}"
    );
    assert!(
        on_db2
            .iter()
            .all(|w| w.via.as_deref().is_some_and(|v| v.starts_with("app")) && w.timeline > Some(1)),
        "a write to db2 not through an API server, or not on its new timeline {table}"
    );
    let recovered = incident
        .recovered_at
        .unwrap_or_else(|| panic!("writes never recovered {table}"));
    assert!(
        recovered >= not_yet,
        "writes recovered at {recovered}, before db2 held the virtual IP {table}"
    );
}

/// Known-bad control: the partition cut the pair and its VRRP; the standby's procedure
/// promoted it without fencing; both nodes held the virtual IP at once and were primaries at
/// once: the split brain must be reported, and the scenario fail on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_holders_of_the_virtual_ip_are_caught() {
    let name = "pair-partition-two-vip-holders";
    let Some(record) = drill(name).await else {
        return;
    };
    let table = common::see_table(&record);
    assert_eq!(failed_objectives(&record), ["split_brain"], "{table}");
    let split = &record.measurements.split_brain;
    assert!(split.detected, "{table}");
    assert!(
        split
            .evidence
            .iter()
            .any(|e| e.contains("held the virtual IP")),
        "two holders of the virtual IP are in the evidence: {:?}",
        split.evidence
    );
    let f = injected(&record, 0).at;
    let step = promote_step(&record);
    assert!(!step.values.contains_key("fenced_at"), "{:?}", step.values);
    assert!(
        instant(step, "decided_at").since(instant(step, "unreachable_since"))
            >= Duration::from_secs(5)
    );
    // the standby took the address while the partition held, and db1 kept it meanwhile
    let heal = record
        .history
        .faults()
        .find(|e| e.action == firedrill::history::FaultAction::Heal)
        .expect("healed")
        .at;
    let db2 = held_from(&record, "db2", f).expect("db2 held the virtual IP");
    assert!(
        db2 < heal,
        "db2 took the address only at {db2}, after the heal {heal}"
    );
    assert!(
        record
            .history
            .address_reports()
            .any(|p| p.asked == "db1" && p.is_leader() && p.sent > db2 && p.sent < heal),
        "db1 still held the address after db2 took it {table}"
    );
}

/// The scenario's own promotion script, not `pg_promote()`: the runbook's `pg_ctl promote`, run
/// as the operator would in the standby. It ran (its last line is in the step's detail), the
/// standby was promoted by it, and the drill shows the same reaction as the shipped scenario.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_s_own_promotion_script_promotes_the_standby() {
    let script = "script = '''\n#!/bin/sh\n# the runbook's promotion, as the postgres user\n\
                  setpriv --reuid=postgres --regid=postgres --init-groups \
                  /usr/lib/postgresql/15/bin/pg_ctl promote -D \"$PGDATA\" -w -t 60 && \
                  echo \"promoted $FIREDRILL_NODE after $FIREDRILL_OLD_PRIMARY\"\n'''\n";
    let text = common::shipped_with(
        "pair-primary-crash-scripted-promotion",
        &[
            (
                "name = \"pair-primary-crash-scripted-promotion\"",
                "name = \"pair-own-promotion-script\"",
            ),
            ("fence = \"kill\"\n", &format!("fence = \"kill\"\n{script}")),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pair-own-promotion-script.toml");
    std::fs::write(&path, text).unwrap();
    let scenario = firedrill::scenario::load(&path).expect("the scenario is valid");
    let Some(record) = common::drill("pair::own_script", &scenario, common::Turn::Beside).await
    else {
        return;
    };
    assert!(record.passed(), "{}", common::see_table(&record));
    let detail = promote_step(&record).detail.clone().unwrap_or_default();
    assert!(
        detail.contains("the promotion script ran (promoted db2 after db1)"),
        "{detail}"
    );
    standby_promoted_by_the_procedure_and_the_address_followed(&record);
    // keepalived runs inside the PostgreSQL nodes: its version is read there for the
    // fingerprint
    let versions = &record.environment.versions;
    assert!(
        versions
            .get("keepalived")
            .is_some_and(|v| v.starts_with("Keepalived v")),
        "{versions:?}"
    );
}
