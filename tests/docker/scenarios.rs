//! Every shipped scenario runs against real containers and meets its own objectives; its
//! history shows each fault injected and, when it has a duration, healed, and the record shows
//! the reaction the scenario exists to show (README, "Shipped scenarios", column "expected"):
//! its objectives alone would also hold if the cluster never reacted. The reaction checks bound
//! no speed, only what happened. They run beside each other and the other Docker tests
//! (`common::take_turn`).

use crate::common;
use crate::pair::{
    standby_promoted_by_the_procedure_and_the_address_followed,
    the_api_tier_waited_for_the_promotion_and_the_address,
};
use crate::redis::{
    a_replica_promoted_and_the_sentinels_named_it, no_failover_without_the_sentinels_majority,
    the_cut_off_master_refused_writes_after_the_lag_bound,
    the_paused_sentinel_tilted_and_the_others_failed_over,
};

use firedrill::check::FaultMeasurements;
use firedrill::fault::{Behind, Lag, LagParams};
use firedrill::history::{
    At, ErrorKind, FaultAction, FaultEvent, Outcome, PoolSample, Role, RoleSample, StepEvent,
    StepOutcome, WriteOp,
};
use firedrill::record::RunRecord;
use firedrill::scenario;
use std::path::Path;
use std::time::Duration;

/// Runs the scenario and checks its history shows every fault injected, and healed when it has
/// a duration. `None` when Docker is unavailable (the skip is printed).
pub(crate) async fn drill(name: &str) -> Option<RunRecord> {
    let scenario = scenario::load(&common::scenario_path(name)).expect("the scenario is valid");
    let record = common::drill(name, &scenario, common::Turn::Beside).await?;

    for (i, fault) in scenario.faults.iter().enumerate() {
        let actions: Vec<_> = record
            .history
            .faults()
            .filter(|f| f.fault == i)
            .map(|f| (f.action, f.at))
            .collect();
        let inject = actions
            .iter()
            .find(|(a, _)| *a == FaultAction::Inject)
            .unwrap_or_else(|| panic!("{name}: fault {i} was never injected"));
        match fault.duration {
            Some(_) => {
                let heal = actions
                    .iter()
                    .find(|(a, _)| *a == FaultAction::Heal)
                    .unwrap_or_else(|| panic!("{name}: fault {i} was never healed"));
                assert!(
                    heal.1 > inject.1,
                    "{name}: fault {i} healed before injected"
                );
            }
            None => assert_eq!(actions.len(), 1, "{name}: fault {i} without duration"),
        }
    }
    Some(record)
}

/// The objectives that failed, by name.
pub(crate) fn failed_objectives(record: &RunRecord) -> Vec<String> {
    record
        .verdict
        .objectives
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.measure.name().to_string())
        .collect()
}

fn injection<'a>(record: &'a RunRecord, kind: &str) -> &'a FaultEvent {
    record
        .history
        .faults()
        .find(|f| f.kind == kind && f.action == FaultAction::Inject)
        .unwrap_or_else(|| panic!("no {kind} injected"))
}

/// Each shipped scenario meets its objectives and shows the reaction it exists to show: the
/// objectives alone would also hold if the cluster never reacted at all.
macro_rules! scenarios {
    (
        $($test:ident => $file:literal reacts with $reaction:ident),* $(,)?;
        controls: $($control:literal),* $(,)?
    ) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(record) = drill($file).await {
                    assert!(
                        record.passed(),
                        "{}: objectives failed: {:?} {}",
                        $file,
                        failed_objectives(&record),
                        table(&record)
                    );
                    $reaction(&record);
                }
            }
        )*

        /// Every file in scenarios/ has a test here (the default drill has its own, in
        /// primary_crash.rs; haproxy-crash is drilled by the installed binary, installed.rs).
        #[test]
        fn every_shipped_scenario_is_drilled() {
            let mut tested =
                vec!["patroni-primary-crash", "haproxy-crash" $(, $file)* $(, $control)*];
            tested.sort();
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
            let mut shipped: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| {
                    let path = e.unwrap().path();
                    (path.extension()? == "toml")
                        .then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
                })
                .collect();
            shipped.sort();
            assert_eq!(shipped, tested);
        }
    };
}

scenarios! {
    primary_crash_restart => "patroni-primary-crash-restart"
        reacts with failed_over_then_old_primary_rejoined,
    postgres_crash => "patroni-postgres-crash" reacts with restarted_in_place_without_failover,
    graceful_stop => "patroni-graceful-stop" reacts with handed_over_then_old_primary_rejoined,
    primary_pause => "patroni-primary-pause" reacts with writes_stalled_without_failover,
    isolate_primary_from_etcd => "patroni-isolate-primary-from-etcd"
        reacts with old_primary_demoted_refusing_writes_then_rejoined,
    network_split => "patroni-network-split" reacts with leader_changed_and_old_primary_demoted,
    replica_lag => "patroni-replica-lag" reacts with replica_fell_behind_and_caught_up,
    disk_full => "patroni-disk-full" reacts with enospc_refused_writes_until_the_heal,
    replica_crash => "patroni-replica-crash" reacts with replica_left_the_stream_and_rejoined,
    switchover => "patroni-switchover" reacts with leadership_moved_to_the_candidate,
    etcd_member_down => "etcd-member-down" reacts with member_silent_while_writes_went_on,
    etcd_quorum_loss => "etcd-quorum-loss" reacts with writes_refused_until_quorum_returned,
    etcd_partition => "etcd-partition" reacts with leader_demoted_until_etcd_returned,
    haproxy_pause => "haproxy-pause" reacts with writes_timed_out_until_the_proxy_resumed,
    strict_sync_no_loss => "control-strict-sync-no-loss"
        reacts with writes_stalled_until_the_standby_returned_without_failover,
    pgbouncer_primary_crash => "pgbouncer-primary-crash"
        reacts with clients_moved_to_the_new_leaders_pooler,
    pgbouncer_switchover => "pgbouncer-switchover"
        reacts with writes_held_in_the_poolers_then_resumed_on_the_new_leader,
    pgbouncer_crash => "pgbouncer-crash" reacts with writes_refused_until_the_pooler_restarted,
    pgbouncer_pool_exhausted => "pgbouncer-pool-exhausted"
        reacts with pool_filled_and_clients_queued_until_the_leader_answered,
    pgbackrest_restore_pitr => "pgbackrest-restore-pitr"
        reacts with cluster_lost_then_restored_to_the_target,
    pgbouncer_restore_point => "pgbouncer-restore-point"
        reacts with restored_to_the_restore_point_behind_the_poolers,
    api_server_crash => "api-server-crash" reacts with dead_server_drained_and_requests_redispatched,
    api_server_pause => "api-server-pause" reacts with hung_server_timed_out_then_drained,
    api_over_patroni_failover => "api-over-patroni-failover"
        reacts with database_failover_seen_through_the_api_tier,
    varnish_grace_backend_down => "varnish-grace-backend-down"
        reacts with cache_served_stale_then_fresh,
    pair_primary_crash => "pair-primary-crash-scripted-promotion"
        reacts with standby_promoted_by_the_procedure_and_the_address_followed,
    pair_with_api_servers => "pair-with-api-servers"
        reacts with the_api_tier_waited_for_the_promotion_and_the_address,
    redis_primary_crash => "redis-primary-crash"
        reacts with a_replica_promoted_and_the_sentinels_named_it,
    redis_min_replicas_bounds_loss => "redis-min-replicas-bounds-loss"
        reacts with the_cut_off_master_refused_writes_after_the_lag_bound,
    redis_sentinel_quorum_loss => "redis-sentinel-quorum-loss"
        reacts with no_failover_without_the_sentinels_majority,
    redis_sentinel_pause_tilt => "redis-sentinel-pause-tilt"
        reacts with the_paused_sentinel_tilted_and_the_others_failed_over;
    controls: "control-async-lag-loss", "control-split-brain-tcp-proxy",
        "control-pgbouncer-stale-servers", "control-restore-target-before-backup",
        "control-restore-archive-broken", "control-restore-paused",
        "pair-partition-two-vip-holders", "redis-primary-partitioned",
}

/// Known-bad control: acknowledged writes really are lost, and firedrill must report them, with
/// the lost writes being exactly of the kind the setup loses: acknowledged by the old leader
/// after its replica's stream was cut, before it crashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_lag_loss_is_caught() {
    let name = "control-async-lag-loss";
    let Some(record) = drill(name).await else {
        return;
    };
    let table = common::see_table(&record);
    assert_eq!(failed_objectives(&record), ["lost_writes"], "{table}");
    let lost = record
        .measurements
        .lost_writes
        .as_ref()
        .expect("a read-back");
    assert!(lost.count > 0, "{table}");
    assert!(lost.rpo.is_some_and(|rpo| rpo > Duration::ZERO), "{table}");
    // The stream was cut from the lag's F on; the old leader acknowledged writes until the
    // kill had taken effect (the crash's `done`), a few milliseconds after its F.
    let (cut, crash) = (
        injection(&record, "lag").at,
        injection(&record, "crash").done,
    );
    let old_leader = &record.timings.initial_leader;
    for w in record
        .history
        .writes()
        .filter(|w| lost.seqs.contains(&w.seq))
    {
        assert_eq!(w.outcome, Outcome::Ok);
        assert_eq!(w.node.as_ref(), Some(old_leader), "lost write {}", w.seq);
        assert!(
            w.invoke >= cut && w.invoke <= crash,
            "lost write {} invoked at {} outside the cut stream [{cut}, {crash}]",
            w.seq,
            w.invoke
        );
    }
}

/// Known-bad control: two primaries accept writes; split brain must be detected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_brain_behind_a_tcp_proxy_is_caught() {
    let name = "control-split-brain-tcp-proxy";
    let Some(record) = drill(name).await else {
        return;
    };
    let table = common::see_table(&record);
    let failed = failed_objectives(&record);
    assert!(failed.iter().any(|f| f == "split_brain"), "{table}");
    assert!(record.measurements.split_brain.detected, "{table}");
    let old_leader = &record.timings.initial_leader;
    assert!(
        record
            .measurements
            .split_brain
            .evidence
            .iter()
            .any(|e| e.contains(old_leader.as_str())),
        "the evidence names {old_leader}: {:?}",
        record.measurements.split_brain.evidence
    );
    // Who ends as leader after pg1's Patroni resumes is a race: Patroni before 3.0.3 may write
    // its leader key back over the new leader's (upstream PR #2689) and keep pg1's data. Only
    // when another node ends as leader is what pg1 acknowledged meanwhile discarded; then it
    // must be reported lost.
    let lost = record
        .measurements
        .lost_writes
        .as_ref()
        .expect("a read-back");
    let final_leader = record.measurements.leaders.last().expect("a leader");
    if final_leader != old_leader {
        assert!(lost.count > 0, "{table}");
        assert!(lost.rpo.is_some_and(|rpo| rpo > Duration::ZERO), "{table}");
    }
    // PostgreSQL itself, asked directly, said two nodes were primaries at once.
    assert!(
        record
            .measurements
            .split_brain
            .evidence
            .iter()
            .any(|e| e.contains("answered as primary (PostgreSQL)")),
        "{:?}",
        record.measurements.split_brain.evidence
    );
}

// --- What a drill showed, read from its record, for the reaction checks. ---

/// The report table, for failure messages (rendered only when an assertion fails).
/// Known-bad control: behind a role-blind proxy, the demoted primary's pooler keeps the clients;
/// every write after the switchover is refused read-only, and that pooler holds server
/// connections to the demoted primary (stale), which must show in its samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_pooled_connections_behind_a_tcp_proxy_are_caught() {
    let name = "control-pgbouncer-stale-servers";
    let Some(record) = drill(name).await else {
        return;
    };
    let table = common::see_table(&record);
    assert_eq!(
        failed_objectives(&record),
        ["rto", "stale_server_connections"],
        "{table}"
    );
    let switchover = only_incident(&record);
    let old = &record.timings.initial_leader;
    leader_changed_once(&record, switchover);
    assert!(
        errors_of(switchover, &[ErrorKind::ReadOnly]) > 0,
        "no write refused read-only by the demoted primary\n{table}"
    );
    let after = injected(&record, 0).done;
    assert!(
        pool_samples(&record, &pooler_of(old), after, None)
            .any(|p| p.server == *old && p.servers_open() > 0 && !p.servers.is_empty()),
        "{} never held a server connection to the demoted {old}\n{table}",
        pooler_of(old)
    );
    let pool = record.measurements.pool.as_ref().expect("pool figures");
    assert!(
        pool.stale
            .iter()
            .flatten()
            .any(|s| s.pooler == pooler_of(old) && s.server == *old),
        "the stale connections were not reported\n{table}"
    );
}

fn table(record: &RunRecord) -> String {
    common::see_table(record)
}

/// The fault's injection event (by its index in the scenario).
pub(crate) fn injected(record: &RunRecord, fault: usize) -> &FaultEvent {
    record
        .history
        .faults()
        .find(|f| f.fault == fault && f.action == FaultAction::Inject)
        .unwrap_or_else(|| panic!("fault {fault} was never injected"))
}

/// The fault's heal event.
fn healed(record: &RunRecord, fault: usize) -> &FaultEvent {
    record
        .history
        .faults()
        .find(|f| f.fault == fault && f.action == FaultAction::Heal)
        .unwrap_or_else(|| panic!("fault {fault} was never healed"))
}

/// The only incident of the run (one fault, or faults scheduled together).
fn only_incident(record: &RunRecord) -> &FaultMeasurements {
    let faults = &record.measurements.faults;
    assert_eq!(faults.len(), 1, "one incident\n{}", table(record));
    &faults[0]
}

/// No leader change at all: the initial leader led throughout, and no incident saw another.
fn leader_unchanged(record: &RunRecord) {
    let m = &record.measurements;
    let initial = &record.timings.initial_leader;
    assert_eq!(m.leader_changes, 0, "{}", table(record));
    assert_eq!(m.leaders, [initial.as_str()], "{}", table(record));
    for f in &m.faults {
        assert_eq!(f.new_leader, None, "{}: {}", f.label(), table(record));
        assert_eq!(&f.old_leader, initial, "{}", table(record));
    }
}

/// The leader changed exactly once, from the initial leader to another node, after `incident`;
/// returns the new leader.
fn leader_changed_once<'a>(record: &'a RunRecord, incident: &'a FaultMeasurements) -> &'a str {
    let m = &record.measurements;
    let initial = &record.timings.initial_leader;
    assert_eq!(m.leader_changes, 1, "{}", table(record));
    assert_eq!(&incident.old_leader, initial, "{}", table(record));
    let new = incident.new_leader.as_deref().unwrap_or_else(|| {
        panic!(
            "no new leader after {}\n{}",
            incident.label(),
            table(record)
        )
    });
    assert_ne!(new, initial, "{}", table(record));
    assert_eq!(m.leaders, [initial.as_str(), new], "{}", table(record));
    new
}

/// Self reports of `node` (Patroni's REST API) sent in `[from, to)`.
fn probes_of<'a>(
    record: &'a RunRecord,
    node: &'a str,
    from: At,
    to: Option<At>,
) -> impl Iterator<Item = &'a RoleSample> {
    record
        .history
        .self_reports()
        .filter(move |p| p.asked == node && p.sent >= from && to.is_none_or(|t| p.sent < t))
}

/// Whether `node` reported `role` in a probe sent in `[from, to)`.
fn role_seen(record: &RunRecord, node: &str, role: Role, from: At, to: Option<At>) -> bool {
    probes_of(record, node, from, to).any(|p| p.role == Some(role))
}

/// Leader samples sent in `[from, to)`: the leader's own probe, with its streaming list.
fn leader_samples(record: &RunRecord, from: At, to: Option<At>) -> Vec<&RoleSample> {
    record
        .history
        .self_reports()
        .filter(|p| p.role == Some(Role::Leader) && p.sent >= from && to.is_none_or(|t| p.sent < t))
        .collect()
}

/// `node` came back as a replica streaming from `leader` after `from`.
fn rejoined_as_replica(record: &RunRecord, node: &str, leader: &str, from: At) {
    assert!(
        role_seen(record, node, Role::Replica, from, None),
        "{node} never seen as a replica after {from}\n{}",
        table(record)
    );
    assert!(
        leader_samples(record, from, None)
            .iter()
            .any(|p| p.asked == leader && p.streaming.iter().any(|s| s == node)),
        "{node} never seen streaming from {leader} after {from}\n{}",
        table(record)
    );
}

/// The write attempts invoked in `[from, to)`.
fn writes_between(record: &RunRecord, from: At, to: At) -> impl Iterator<Item = &WriteOp> {
    record
        .history
        .writes()
        .filter(move |w| w.invoke >= from && w.invoke < to)
}

/// Writes went on through `[from, to)`: acknowledged in both halves of it, every one by `leader`.
fn writes_went_on(record: &RunRecord, leader: &str, from: At, to: At) {
    let middle = At(from.0 + (to.0 - from.0) / 2);
    for (a, b) in [(from, middle), (middle, to)] {
        let ok: Vec<_> = writes_between(record, a, b)
            .filter(|w| w.outcome == Outcome::Ok)
            .collect();
        assert!(
            !ok.is_empty(),
            "no write acknowledged in [{a}, {b})\n{}",
            table(record)
        );
        assert!(
            ok.iter().all(|w| w.node.as_deref() == Some(leader)),
            "writes acknowledged by another node than {leader} in [{a}, {b})\n{}",
            table(record)
        );
    }
}

/// The incident stopped the writes (a measured outage, RTO above zero) and they came back after
/// `heal`, accepted again by `leader`.
fn writes_stopped_then_recovered(
    record: &RunRecord,
    incident: &FaultMeasurements,
    heal: Option<At>,
    leader: &str,
) {
    let t = || table(record);
    assert!(incident.writes_stopped(), "writes never stopped\n{}", t());
    assert!(
        incident.rto.is_some_and(|rto| rto > Duration::ZERO),
        "no downtime measured\n{}",
        t()
    );
    let recovered = incident.recovered_at.expect("writes recovered");
    if let Some(heal) = heal {
        assert!(
            recovered > heal,
            "writes back at {recovered}, before the heal at {heal}\n{}",
            t()
        );
    }
    assert!(
        writes_between(record, recovered, At(u64::MAX))
            .any(|w| w.outcome == Outcome::Ok && w.node.as_deref() == Some(leader)),
        "no write accepted by {leader} after the recovery\n{}",
        t()
    );
}

/// How many of the incident's failed writes were classified as one of `kinds`.
pub(crate) fn errors_of(incident: &FaultMeasurements, kinds: &[ErrorKind]) -> u64 {
    kinds
        .iter()
        .filter_map(|k| incident.errors_by_kind.get(k))
        .sum()
}

/// Whether `node`'s log (its last lines) holds `needle`.
fn logged(record: &RunRecord, node: &str, needle: &str) -> bool {
    record.logs.get(node).is_some_and(|l| l.contains(needle))
}

// --- The reaction each shipped scenario exists to show. ---

/// primary-crash-restart: a replica took over; the crashed primary, started again, was rewound
/// with pg_rewind (its log) and rejoined as a replica streaming from the new leader.
fn failed_over_then_old_primary_rejoined(record: &RunRecord) {
    let crash = only_incident(record);
    assert_eq!(
        crash.node, record.timings.initial_leader,
        "the leader was crashed"
    );
    let new = leader_changed_once(record, crash);
    let restart = healed(record, 0).at;
    rejoined_as_replica(record, &crash.node, new, restart);
    assert!(crash.time_to_full_redundancy.is_some(), "{}", table(record));
    // its crash recovery wrote past the new leader's fork point: Patroni rewound it first
    assert!(
        logged(record, &crash.node, "pg_rewind exit code=0"),
        "no pg_rewind in {}'s log\n{}",
        crash.node,
        table(record)
    );
}

/// postgres-crash: Patroni restarted PostgreSQL in place: the leader was seen down, Patroni
/// started it again as a primary (its log), and it led again on the same timeline; writes
/// stopped and came back on it, with no leader change.
fn restarted_in_place_without_failover(record: &RunRecord) {
    let crash = only_incident(record);
    leader_unchanged(record);
    let leader = &record.timings.initial_leader;
    assert_eq!(&crash.node, leader, "the leader's PostgreSQL was killed");
    let down = probes_of(record, leader, crash.injected_at, None)
        .find(|p| p.role.is_some_and(|r| r != Role::Leader))
        .unwrap_or_else(|| panic!("{leader} never seen down\n{}", table(record)));
    // Patroni 3.0.4 starts a primary that crashed under it as a primary (crash recovery, no
    // promotion, so no new timeline; 3.0.2 started it in recovery and promoted it again)
    for line in [
        "starting primary after failure",
        "database system was not properly shut down; automatic recovery in progress",
    ] {
        assert!(
            logged(record, leader, line),
            "no {line:?} in {leader}'s log\n{}",
            table(record)
        );
    }
    let old_timeline = crash.old_timeline.expect("the leader's timeline at F");
    assert!(
        probes_of(record, leader, down.received, None)
            .any(|p| p.role == Some(Role::Leader) && p.epoch == Some(old_timeline)),
        "{leader} never led again on timeline {old_timeline}\n{}",
        table(record)
    );
    writes_stopped_then_recovered(record, crash, None, leader);
}

/// graceful-stop: the leader's PostgreSQL was shut down cleanly, another node took over, and the
/// old leader rejoined as its replica once started again.
fn handed_over_then_old_primary_rejoined(record: &RunRecord) {
    let stop = only_incident(record);
    assert_eq!(
        stop.node, record.timings.initial_leader,
        "the leader was stopped"
    );
    let new = leader_changed_once(record, stop);
    // stopped, not killed: Patroni shut PostgreSQL down cleanly before giving up the key
    assert!(
        logged(record, &stop.node, "database system is shut down"),
        "no clean shutdown in {}'s log\n{}",
        stop.node,
        table(record)
    );
    rejoined_as_replica(record, &stop.node, new, healed(record, 0).at);
}

/// primary-pause: the frozen leader answered no probe, writes stalled (timed out) and resumed on
/// it after the heal, still the leader on the same timeline; no leader change.
fn writes_stalled_without_failover(record: &RunRecord) {
    let pause = only_incident(record);
    leader_unchanged(record);
    let leader = &record.timings.initial_leader;
    assert_eq!(&pause.node, leader, "the leader was frozen");
    let (f, heal) = (injected(record, 0), healed(record, 0).at);
    assert!(
        // answered while frozen: a probe sent just before the thaw is answered after it
        probes_of(record, leader, f.done, Some(heal))
            .filter(|p| p.received < heal)
            .all(|p| p.role.is_none()),
        "{leader} answered while frozen\n{}",
        table(record)
    );
    // it resumed as the same leader on the same timeline: nothing was promoted meanwhile
    let timeline = pause.old_timeline.expect("the leader's timeline at F");
    assert!(
        probes_of(record, leader, heal, None)
            .any(|p| p.role == Some(Role::Leader) && p.epoch == Some(timeline)),
        "{leader} not seen leading on timeline {timeline} after the heal\n{}",
        table(record)
    );
    writes_stopped_then_recovered(record, pause, Some(heal), leader);
    assert!(
        errors_of(pause, &[ErrorKind::WriteTimeout, ErrorKind::ConnectTimeout]) > 0,
        "no write timed out\n{}",
        table(record)
    );
}

/// network-split: the majority side promoted a replica; the old primary, on the minority side,
/// stopped reporting the leader role before the heal and acknowledged no write it received once
/// cut off (synchronous_mode: no standby could confirm them), then followed the new leader.
fn leader_changed_and_old_primary_demoted(record: &RunRecord) {
    let split = only_incident(record);
    let old = &record.timings.initial_leader;
    assert!(
        split.hit(old),
        "the split cut the leader off\n{}",
        table(record)
    );
    old_primary_demoted_then_rejoined(record, split);
    let cut = record
        .history
        .faults()
        .find(|f| f.action == FaultAction::Inject && &f.node == old)
        .expect("the leader's partition");
    assert!(
        !writes_between(record, cut.done, At(u64::MAX))
            .any(|w| w.outcome == Outcome::Ok && w.node.as_ref() == Some(old)),
        "{old} acknowledged a write while cut off\n{}",
        table(record)
    );
}

/// isolate-primary-from-etcd: a replica was promoted; the old primary, unable to renew its key,
/// demoted itself before the heal, refused the writes that still reached it as read-only, and
/// followed the new leader after the heal.
fn old_primary_demoted_refusing_writes_then_rejoined(record: &RunRecord) {
    let isolation = only_incident(record);
    assert_eq!(
        isolation.node, record.timings.initial_leader,
        "the leader was isolated"
    );
    old_primary_demoted_then_rejoined(record, isolation);
    assert!(
        errors_of(isolation, &[ErrorKind::ReadOnly]) > 0,
        "no write refused as read-only\n{}",
        table(record)
    );
}

/// The leader changed once, to another node; the old leader reported a role other than leader
/// before the heal (demoted, or demoting), and was a replica streaming from the new leader after.
fn old_primary_demoted_then_rejoined(record: &RunRecord, incident: &FaultMeasurements) {
    let new = leader_changed_once(record, incident);
    let old = &incident.old_leader;
    let heal = incident.healed_at.expect("healed");
    assert!(
        probes_of(record, old, incident.injected_at, Some(heal))
            .any(|p| p.role.is_some_and(|r| r != Role::Leader)),
        "{old} never seen demoted before the heal\n{}",
        table(record)
    );
    rejoined_as_replica(record, old, new, heal);
}

/// replica-lag: the blocked replica fell behind the leader by at least the scenario's `behind`
/// while writes went on, and streamed again, caught up, after the heal; no leader change.
fn replica_fell_behind_and_caught_up(record: &RunRecord) {
    let lag = only_incident(record);
    leader_unchanged(record);
    let leader = record.timings.initial_leader.as_str();
    let replica = lag.node.as_str();
    assert_ne!(replica, leader, "a replica was held back");
    let (f, heal) = (injected(record, 0), healed(record, 0).at);
    let kind = &record.scenario.faults[0].kind;
    let behind = match kind.params::<Lag>() {
        Some(LagParams {
            behind: Some(Behind::Bytes(b)),
        }) => *b,
        _ => panic!("the lag is bounded in bytes, not {kind:?}"),
    };
    // the gap seen by the probes while the stream was blocked: the leader's written WAL against
    // what the replica had received, each the latest sample of its node
    let mut leader_wal = None;
    let mut widest = 0;
    for p in record
        .history
        .self_reports()
        .filter(|p| p.sent >= f.at && p.sent < heal)
    {
        match (p.asked.as_str(), p.position) {
            (n, Some(w)) if n == leader => leader_wal = Some(w),
            (n, Some(w)) if n == replica => {
                if let Some(l) = leader_wal {
                    widest = widest.max(l.saturating_sub(w));
                }
            }
            _ => {}
        }
    }
    assert!(
        widest >= behind,
        "{replica} seen at most {widest} B behind, not {behind} B\n{}",
        table(record)
    );
    writes_went_on(record, leader, f.done, heal);
    rejoined_as_replica(record, replica, leader, heal);
    assert!(lag.time_to_full_redundancy.is_some(), "{}", table(record));
    // caught up: after the heal it received what the leader had written by then
    let written = leader_wal.expect("the leader's WAL probed while blocked");
    assert!(
        probes_of(record, replica, heal, None).any(|p| p.position.is_some_and(|w| w >= written)),
        "{replica} never received the leader's WAL up to {written} after the heal\n{}",
        table(record)
    );
}

/// disk-full: writes were refused with ENOSPC (SQLSTATE 53100, "No space left on device") while
/// the disk was full, and accepted again by the same leader after the heal.
fn enospc_refused_writes_until_the_heal(record: &RunRecord) {
    let full = only_incident(record);
    leader_unchanged(record);
    let leader = &record.timings.initial_leader;
    assert_eq!(&full.node, leader, "the leader's disk was filled");
    let (f, heal) = (injected(record, 0).at, healed(record, 0).at);
    let enospc = writes_between(record, f, heal)
        .filter(|w| w.outcome == Outcome::Fail && w.error_kind == Some(ErrorKind::ServerError))
        .filter(|w| {
            w.error
                .as_deref()
                .is_some_and(|e| e.starts_with("53100") && e.contains("No space left on device"))
        })
        .count();
    assert!(
        enospc > 0,
        "no write refused with ENOSPC\n{}",
        table(record)
    );
    writes_stopped_then_recovered(record, full, Some(heal), leader);
}

/// replica-crash: the crashed replica answered no probe and was missing from the leader's
/// streaming list while down, and was back
/// in it after its restart; writes went on, no leader change.
fn replica_left_the_stream_and_rejoined(record: &RunRecord) {
    let crash = only_incident(record);
    leader_unchanged(record);
    let leader = record.timings.initial_leader.as_str();
    let replica = crash.node.as_str();
    assert_ne!(replica, leader, "a replica was crashed");
    let (f, restart) = (injected(record, 0), healed(record, 0).at);
    // down, not merely cut off: its own Patroni stopped answering
    assert!(
        probes_of(record, replica, f.done, Some(restart))
            .filter(|p| p.received < restart)
            .all(|p| p.role.is_none()),
        "{replica} answered its probes while crashed\n{}",
        table(record)
    );
    assert!(
        leader_samples(record, f.done, Some(restart))
            .iter()
            .any(|p| p.asked == leader && !p.streaming.iter().any(|s| s == replica)),
        "{replica} never missing from {leader}'s streaming replicas\n{}",
        table(record)
    );
    writes_went_on(record, leader, f.done, restart);
    rejoined_as_replica(record, replica, leader, restart);
}

/// switchover: leadership moved to the candidate the switchover named, and the old primary
/// follows it as a replica.
fn leadership_moved_to_the_candidate(record: &RunRecord) {
    let switchover = only_incident(record);
    let old = &record.timings.initial_leader;
    assert_eq!(&switchover.node, old, "the leader was switched over");
    let new = leader_changed_once(record, switchover);
    let detail = injected(record, 0).detail.clone().unwrap_or_default();
    assert!(detail.contains(new), "{new} is not the candidate: {detail}");
    rejoined_as_replica(record, old, new, switchover.injected_at);
}

/// etcd-member-down: the crashed member stopped answering the leader-key reads while the others
/// kept answering with the same leader, and answered again after its restart; writes went on, no
/// leader change.
fn member_silent_while_writes_went_on(record: &RunRecord) {
    let crash = only_incident(record);
    leader_unchanged(record);
    let leader = record.timings.initial_leader.as_str();
    let member = crash.node.as_str();
    let (f, restart) = (injected(record, 0), healed(record, 0));
    // Answered while the member was down: a read sent just before the restart may be answered
    // by the restarted member.
    let keys: Vec<_> = record
        .history
        .authority_reports()
        .filter(|k| k.sent >= f.done && k.received < restart.at)
        .collect();
    let (down, up): (Vec<&RoleSample>, Vec<_>) = keys.iter().partition(|k| k.asked == member);
    assert!(
        !down.is_empty(),
        "{member} not asked while down\n{}",
        table(record)
    );
    assert!(
        down.iter().all(|k| k.error.is_some()),
        "{member} answered while down\n{}",
        table(record)
    );
    assert!(
        up.iter().any(|k| k.node.as_deref() == Some(leader)),
        "the quorum never named {leader}\n{}",
        table(record)
    );
    assert!(
        record.history.authority_reports().any(|k| k.asked == member
            && k.sent >= restart.done
            && k.node.as_deref() == Some(leader)),
        "{member} never answered again\n{}",
        table(record)
    );
    writes_went_on(record, leader, f.done, restart.at);
}

/// etcd-quorum-loss: the surviving member, without quorum, answered no read of the leader key;
/// the leader could not renew it and demoted, writes were refused until the members were back.
fn writes_refused_until_quorum_returned(record: &RunRecord) {
    only_incident(record);
    let (f, restart) = (injected(record, 0), healed(record, 0));
    let crashed: Vec<&str> = f.nodes.iter().map(String::as_str).collect();
    // Answered while the members were down: a linearizable read sent without quorum waits, and
    // one sent just before the restart is answered once quorum is back (seen: sent at +29.8 s,
    // answered at +30.8 s, after the heal at +30.0 s).
    let survivors: Vec<_> = record
        .history
        .authority_reports()
        .filter(|k| k.sent >= f.done && k.received < restart.at)
        .filter(|k| !crashed.contains(&k.asked.as_str()))
        .collect();
    assert!(
        !survivors.is_empty(),
        "no surviving member asked\n{}",
        table(record)
    );
    assert!(
        survivors.iter().all(|k| k.error.is_some()),
        "a member answered without quorum\n{}",
        table(record)
    );
    leader_demoted_until_etcd_returned(record);
}

/// etcd-partition (and etcd-quorum-loss): no node could renew the leader key, so the leader
/// demoted and refused writes as read-only, writes failed until the heal; then a leader took the
/// key again and writes were accepted.
fn leader_demoted_until_etcd_returned(record: &RunRecord) {
    let partition = only_incident(record);
    let leader = record.measurements.leaders.last().expect("a leader");
    writes_stopped_then_recovered(record, partition, Some(healed(record, 0).at), leader);
    leader_demoted_during(record, partition);
    // the demoted leader itself refused writes that reached it before HAProxy marked it down
    assert!(
        errors_of(partition, &[ErrorKind::ReadOnly]) > 0,
        "no write refused as read-only\n{}",
        table(record)
    );
}

/// The leader at F stopped reporting the leader role between F and the heal (demoted, or no
/// answer while it could not reach etcd), and a leader held the key again after the heal.
fn leader_demoted_during(record: &RunRecord, incident: &FaultMeasurements) {
    let old = &incident.old_leader;
    let heal = incident.healed_at.expect("healed");
    assert!(
        probes_of(record, old, incident.injected_at, Some(heal))
            .any(|p| p.role.is_some() && p.role != Some(Role::Leader)),
        "{old} never seen demoted before the heal\n{}",
        table(record)
    );
    assert!(
        record
            .history
            .authority_reports()
            .any(|k| k.sent >= heal && k.node.is_some()),
        "no leader key held after the heal\n{}",
        table(record)
    );
}

/// haproxy-crash: connections to the proxy were refused while it was down (its stats page
/// silent too), then writes came back through it on the same leader; no leader change.
pub(crate) fn writes_refused_until_the_proxy_restarted(record: &RunRecord) {
    proxy_out_then_back(record, &[ErrorKind::ConnectRefused]);
}

/// haproxy-pause: connections to the frozen proxy timed out (its sockets open, nobody
/// answering), then writes resumed through it on the same leader; no leader change.
fn writes_timed_out_until_the_proxy_resumed(record: &RunRecord) {
    proxy_out_then_back(
        record,
        &[ErrorKind::ConnectTimeout, ErrorKind::WriteTimeout],
    );
}

/// The database untouched, the proxy out between the fault and its heal: its stats page answered
/// no sample, writes failed with one of `kinds`, and came back after the heal on the same leader.
fn proxy_out_then_back(record: &RunRecord, kinds: &[ErrorKind]) {
    let proxy = only_incident(record);
    leader_unchanged(record);
    assert_eq!(proxy.node, "haproxy", "{}", table(record));
    let (f, heal) = (injected(record, 0), healed(record, 0).at);
    let silent: Vec<_> = record
        .history
        .proxy_samples()
        // a frozen proxy answers, late, what was sent to it before it resumed
        .filter(|p| p.sent >= f.done && p.received < heal)
        .collect();
    assert!(
        !silent.is_empty(),
        "the proxy was not probed while out\n{}",
        table(record)
    );
    assert!(
        silent.iter().all(|p| p.error.is_some()),
        "the proxy answered while out\n{}",
        table(record)
    );
    assert!(
        errors_of(proxy, kinds) > 0,
        "no write failed with {kinds:?}\n{}",
        table(record)
    );
    writes_stopped_then_recovered(record, proxy, Some(heal), &record.timings.initial_leader);
}

// --- The application tier. ---

/// The API server the only fault hit, the tier's measurements and how HAProxy drained it; the
/// database untouched (no leader change).
fn server_drained(record: &RunRecord) -> (&str, &firedrill::check::Drain) {
    let incident = only_incident(record);
    leader_unchanged(record);
    let tier = record
        .measurements
        .tier
        .as_ref()
        .unwrap_or_else(|| panic!("no application tier measured\n{}", table(record)));
    let drain = tier
        .drains
        .iter()
        .find(|d| d.server == incident.node)
        .unwrap_or_else(|| panic!("no drain of {}\n{}", incident.node, table(record)));
    assert!(
        drain.drain_time.is_some(),
        "HAProxy never counted {} down\n{}",
        incident.node,
        table(record)
    );
    // the drain held: HAProxy assigned the server no request from its drain until it counted
    // it up again
    assert_eq!(drain.assigned_after_drain, Some(0), "{}", table(record));
    (incident.node.as_str(), drain)
}

/// Between the fault and its heal, ok writes went on through the other servers; after the heal
/// the server answered ok writes again.
fn others_served_then_it_came_back(record: &RunRecord, server: &str) {
    let (f, heal) = (injected(record, 0).done, healed(record, 0).at);
    let via = |w: &&WriteOp| w.outcome == Outcome::Ok && w.via.is_some();
    let during: Vec<&WriteOp> = writes_between(record, f, heal).filter(via).collect();
    assert!(!during.is_empty(), "no ok write during\n{}", table(record));
    assert!(
        during.iter().all(|w| w.via.as_deref() != Some(server)),
        "{server} answered while hit\n{}",
        table(record)
    );
    let end = At(u64::MAX);
    assert!(
        writes_between(record, heal, end)
            .filter(via)
            .any(|w| w.via.as_deref() == Some(server)),
        "{server} never answered after the heal\n{}",
        table(record)
    );
}

/// api-server-crash: the killed server's connections failed, HAProxy redispatched requests
/// from it to the others, drained it and sent it nothing more until it was back; no write was
/// lost and the database never noticed.
fn dead_server_drained_and_requests_redispatched(record: &RunRecord) {
    let (server, drain) = server_drained(record);
    assert!(
        drain.redispatched.unwrap_or(0) > 0,
        "no request redispatched from {server}\n{}",
        table(record)
    );
    others_served_then_it_came_back(record, server);
}

/// api-server-pause: requests HAProxy sent to the hung server waited for `timeout server` and
/// ended with its 504 (unknown: the server may commit them when it resumes), until HAProxy
/// drained it; it answered again after the heal.
fn hung_server_timed_out_then_drained(record: &RunRecord) {
    let (server, _) = server_drained(record);
    let incident = only_incident(record);
    assert!(
        errors_of(incident, &[ErrorKind::HttpUnknown]) > 0,
        "no request ended unknown\n{}",
        table(record)
    );
    let tier = record.measurements.tier.as_ref().unwrap();
    assert!(
        tier.failed_statuses.get(&504).copied().unwrap_or(0) > 0,
        "no 504 from HAProxy\n{}",
        table(record)
    );
    others_served_then_it_came_back(record, server);
}

/// api-over-patroni-failover: the leader changed once; meanwhile the API servers refused writes
/// they could not commit (their 503, `http_refused`) and, their status endpoint failing,
/// HAProxy drained them and answered 503 itself (`http_no_server`); afterwards writes went on
/// through the API servers, accepted by the new leader on its new timeline.
fn database_failover_seen_through_the_api_tier(record: &RunRecord) {
    let incident = only_incident(record);
    let new = leader_changed_once(record, incident);
    assert!(
        errors_of(incident, &[ErrorKind::HttpRefused]) > 0,
        "no API server refused a write\n{}",
        table(record)
    );
    assert!(
        errors_of(incident, &[ErrorKind::HttpNoServer]) > 0,
        "HAProxy never drained the API tier\n{}",
        table(record)
    );
    let recovered = incident
        .recovered_at
        .unwrap_or_else(|| panic!("writes never recovered\n{}", table(record)));
    let after: Vec<&WriteOp> = writes_between(record, recovered, At(u64::MAX))
        .filter(|w| w.outcome == Outcome::Ok)
        .collect();
    assert!(!after.is_empty(), "{}", table(record));
    assert!(
        after
            .iter()
            .all(|w| w.node.as_deref() == Some(new) && w.via.is_some()),
        "a write after the recovery not accepted by {new} through an API server\n{}",
        table(record)
    );
    assert!(
        after.iter().all(|w| w.timeline > Some(1)),
        "{}",
        table(record)
    );
}

/// varnish-grace-backend-down: with every API server stopped, writes found no server
/// (HAProxy's own 503) while every read through the cache was answered, from stale objects
/// aging through the outage; after the heal the cache answered fresh content again.
fn cache_served_stale_then_fresh(record: &RunRecord) {
    let incident = only_incident(record);
    leader_unchanged(record);
    assert!(
        errors_of(incident, &[ErrorKind::HttpNoServer]) > 0,
        "writes never found the API servers down\n{}",
        table(record)
    );
    let cache = record
        .measurements
        .cache
        .as_ref()
        .unwrap_or_else(|| panic!("no reads through the cache\n{}", table(record)));
    let fault = &cache.faults[0];
    assert!(
        fault.served_stale > 0,
        "nothing served stale\n{}",
        table(record)
    );
    assert_eq!(
        fault.failed,
        0,
        "reads failed within grace\n{}",
        table(record)
    );
    // stale all through the outage: objects served well past their ttl
    let oldest = fault.max_stale_age.unwrap_or_default();
    assert!(
        oldest >= Duration::from_secs(5),
        "{oldest:?}\n{}",
        table(record)
    );
    assert!(fault.fresh_again.is_some(), "{}", table(record));
    // before the fault the cache answered from objects the servers had just given it (a read
    // just past an object's ttl gets it stale while a background fetch refreshes it)
    let f = injected(record, 0).at;
    let before: Vec<_> = record.history.reads().filter(|r| r.invoke < f).collect();
    assert!(
        before.iter().all(|r| r.outcome == Outcome::Ok)
            && before.iter().any(|r| r.cache.as_deref() == Some("hit")),
        "{}",
        table(record)
    );
}

/// The pooler beside `node` (`pg2` → `pgbouncer2`).
fn pooler_of(node: &str) -> String {
    node.replacen("pg", "pgbouncer", 1)
}

/// Pool samples of `pooler` answered, sent in `[from, to)`.
fn pool_samples<'a>(
    record: &'a RunRecord,
    pooler: &'a str,
    from: At,
    to: Option<At>,
) -> impl Iterator<Item = &'a PoolSample> {
    record.history.pool_samples().filter(move |p| {
        p.pooler == pooler && p.error.is_none() && p.sent >= from && to.is_none_or(|t| p.sent < t)
    })
}

/// pgbouncer-primary-crash: a replica took over and clients reached it through its own pooler:
/// writes accepted by the new leader after the recovery, with clients connected to that pooler.
fn clients_moved_to_the_new_leaders_pooler(record: &RunRecord) {
    let crash = only_incident(record);
    let new = leader_changed_once(record, crash);
    writes_stopped_then_recovered(record, crash, None, new);
    let recovered = crash.recovered_at.expect("writes recovered");
    let pooler = pooler_of(new);
    // Clients connected to it (readiness's own session is closed by then).
    assert!(
        pool_samples(record, &pooler, recovered, None)
            .any(|p| p.server == new && p.pools.iter().any(|pool| pool.cl_active > 0)),
        "no client of {pooler} (in front of {new}) after the recovery\n{}",
        table(record)
    );
}

/// pgbouncer-switchover: the poolers paused, leadership moved, and writes sent meanwhile were
/// held: none acknowledged while the poolers were paused, some sent a second and more before the
/// RESUME acknowledged after it by the new leader; none refused read-only (no held write reached
/// the demoted primary: its pooler's clients were cut by HAProxy first, their writes unknown).
fn writes_held_in_the_poolers_then_resumed_on_the_new_leader(record: &RunRecord) {
    let (paused, resumed) = (injected(record, 0).done, healed(record, 0).at);
    // Sent once every pooler was paused, acknowledged before the RESUME was sent. A write in
    // flight at the PAUSE completes before the PAUSE returns (pgBouncer waits for it), but the
    // writer's task may take its completion time a few ms after the fault's task took `done`.
    let acknowledged_while_paused: Vec<_> = record
        .history
        .writes()
        .filter(|w| w.outcome == Outcome::Ok && w.invoke >= paused && w.complete < resumed)
        .map(|w| w.seq)
        .collect();
    assert!(
        acknowledged_while_paused.is_empty(),
        "writes sent while the poolers were paused were acknowledged before the RESUME: \
         {acknowledged_while_paused:?}\n{}",
        table(record)
    );
    let held: Vec<_> = writes_between(record, paused, At(resumed.0.saturating_sub(1_000_000_000)))
        .filter(|w| w.outcome == Outcome::Ok && w.complete >= resumed)
        .collect();
    assert!(
        !held.is_empty(),
        "no write sent a second before the RESUME was acknowledged after it\n{}",
        table(record)
    );
    let refused = writes_between(record, paused, At(resumed.0 + 1_000_000_000))
        .filter(|w| w.error_kind == Some(ErrorKind::ReadOnly))
        .count();
    assert_eq!(
        refused,
        0,
        "held writes refused read-only\n{}",
        table(record)
    );
    // What fails is connecting while HAProxy has no server up, never a write once sent.
    let sent_then_refused: Vec<_> = record
        .history
        .writes()
        .filter(|w| w.outcome == Outcome::Fail && w.error_kind != Some(ErrorKind::ConnectFailed))
        .map(|w| w.seq)
        .collect();
    assert!(
        sent_then_refused.is_empty(),
        "writes failed other than by a refused connection: {sent_then_refused:?}\n{}",
        table(record)
    );
    let m = &record.measurements;
    assert_eq!(m.leader_changes, 1, "{}", table(record));
    let new = m.leaders.last().expect("a leader").clone();
    assert_ne!(&new, &record.timings.initial_leader, "{}", table(record));
    assert!(
        held.iter().all(|w| w.node.as_deref() == Some(new.as_str())),
        "a held write was acknowledged by another node than {new}\n{}",
        table(record)
    );
}

/// pgbouncer-crash: the database untouched (no leader change), the leader's pooler gone: no write
/// was acknowledged while it was down, and writes came back through it, on the same leader,
/// after it started again.
fn writes_refused_until_the_pooler_restarted(record: &RunRecord) {
    let crash = only_incident(record);
    leader_unchanged(record);
    let leader = &record.timings.initial_leader;
    assert_eq!(crash.node, pooler_of(leader), "{}", table(record));
    let (f, heal) = (injected(record, 0), healed(record, 0).at);
    assert!(
        !record
            .history
            .writes()
            .any(|w| w.outcome == Outcome::Ok && w.invoke >= f.done && w.complete < heal),
        "a write sent after the pooler died was acknowledged before it was back\n{}",
        table(record)
    );
    assert!(
        pool_samples(record, &crash.node, f.done, Some(heal))
            .next()
            .is_none(),
        "the dead pooler answered its admin console\n{}",
        table(record)
    );
    writes_stopped_then_recovered(record, crash, Some(heal), leader);
}

/// pgbouncer-pool-exhausted: while the leader stalled every server connection of its pooler was
/// busy (the runbook's alert: active over 90 % of the pool) and clients queued for one, the
/// oldest waiting a second and more; before the stall no client ever waited that long (a burst
/// may fill the pool for an instant: that is load, not exhaustion); every write was
/// acknowledged, by the same leader.
fn pool_filled_and_clients_queued_until_the_leader_answered(record: &RunRecord) {
    const LONG_WAIT_US: u64 = 1_000_000;
    leader_unchanged(record);
    let leader = &record.timings.initial_leader;
    let pooler = pooler_of(leader);
    let (f, heal) = (injected(record, 0), healed(record, 0).at);
    let alert = |p: &PoolSample| p.pool_size > 0 && p.active() * 10 > p.pool_size * 9;
    assert!(
        pool_samples(record, &pooler, f.done, Some(heal))
            .any(|p| alert(p) && p.waiting() > 0 && p.maxwait_us() >= LONG_WAIT_US),
        "{pooler}'s pool never full with a client waiting 1 s during the stall\n{}",
        table(record)
    );
    assert!(
        pool_samples(record, &pooler, At(0), Some(f.at)).all(|p| p.maxwait_us() < LONG_WAIT_US),
        "a client of {pooler} waited 1 s before the stall\n{}",
        table(record)
    );
    let w = &record.measurements.writes;
    assert_eq!((w.fail, w.unknown), (0, 0), "{}", table(record));
}

/// control-strict-sync-no-loss: with synchronous_mode_strict no commit was acknowledged from the
/// cut of the only replica's stream until it was unblocked, across the leader's crash and
/// restart; the replica, not a synchronous standby in sync, was never promoted (no failover), and
/// the restarted leader accepted writes again once the stream was back.
fn writes_stalled_until_the_standby_returned_without_failover(record: &RunRecord) {
    let (cut, unblocked) = (injected(record, 0), healed(record, 0).at);
    let crash = injected(record, 1);
    assert_eq!(
        crash.node, record.timings.initial_leader,
        "the leader was crashed"
    );
    leader_unchanged(record);
    // acknowledged while the stream was cut: a write invoked just before the unblock may commit
    // once the standby is back
    let stalled: Vec<_> = writes_between(record, cut.done, unblocked)
        .filter(|w| w.complete < unblocked)
        .collect();
    assert!(
        !stalled.is_empty(),
        "no write attempted on the cut stream\n{}",
        table(record)
    );
    assert!(
        stalled.iter().all(|w| w.outcome != Outcome::Ok),
        "a write was acknowledged while the stream was cut\n{}",
        table(record)
    );
    let last = record.measurements.faults.last().expect("the crash");
    writes_stopped_then_recovered(record, last, Some(unblocked), &crash.node);
}

/// The reaction checks tell a run that reacted from one that did not: on the stored example runs
/// (no Docker needed), each holds on the run whose scenario shows its reaction and fails on runs
/// of the others.
#[test]
fn reaction_checks_fail_on_runs_without_the_reaction() {
    let example = |name: &str| {
        let runs = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example/runs");
        let dir = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(name))
            .unwrap_or_else(|| panic!("no example run of {name}"));
        firedrill::store::load(&firedrill::store::record_path(&dir)).expect("the example run loads")
    };
    let crash = example("patroni-primary-crash");
    let switchover = example("patroni-switchover");
    let lag = example("patroni-replica-lag");
    let holds = |check: fn(&RunRecord), record: &RunRecord| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(record))).is_ok()
    };

    assert!(holds(leadership_moved_to_the_candidate, &switchover));
    assert!(holds(replica_fell_behind_and_caught_up, &lag));
    // a failover is no "leader unchanged", and no failover is no "leader changed"
    assert!(!holds(leader_unchanged, &crash));
    assert!(!holds(replica_fell_behind_and_caught_up, &switchover));
    for no_failover in [
        leadership_moved_to_the_candidate,
        leader_changed_and_old_primary_demoted,
        old_primary_demoted_refusing_writes_then_rejoined,
        handed_over_then_old_primary_rejoined,
        failed_over_then_old_primary_rejoined,
    ] {
        assert!(!holds(no_failover, &lag));
    }
    // writes never stopped during the lag: no outage, no refusal, no stall
    for writes_stopped in [
        writes_refused_until_the_proxy_restarted,
        writes_timed_out_until_the_proxy_resumed,
        enospc_refused_writes_until_the_heal,
        writes_stalled_without_failover,
        restarted_in_place_without_failover,
        leader_demoted_until_etcd_returned,
        writes_refused_until_quorum_returned,
    ] {
        assert!(!holds(writes_stopped, &lag));
    }
    // a failover without poolers is not one through them; a lag fills no pool
    assert!(!holds(clients_moved_to_the_new_leaders_pooler, &crash));
    assert!(!holds(
        writes_held_in_the_poolers_then_resumed_on_the_new_leader,
        &switchover
    ));
    for no_pooler in [
        writes_refused_until_the_pooler_restarted,
        pool_filled_and_clients_queued_until_the_leader_answered,
        clients_moved_to_the_new_leaders_pooler,
    ] {
        assert!(!holds(no_pooler, &lag));
    }
    // no application tier in any example run
    for tier in [
        dead_server_drained_and_requests_redispatched,
        hung_server_timed_out_then_drained,
        database_failover_seen_through_the_api_tier,
        cache_served_stale_then_fresh,
    ] {
        assert!(!holds(tier, &lag));
        assert!(!holds(tier, &crash));
    }
    // a replica crash and an etcd member down are not what happened in the lag
    assert!(!holds(replica_left_the_stream_and_rejoined, &lag));
    assert!(!holds(member_silent_while_writes_went_on, &lag));
}

// --- The restore drill (runbook test 4) and its controls. ---

/// The step of `action`, the last one (steps run once each).
fn step<'a>(record: &'a RunRecord, action: &str) -> &'a StepEvent {
    record
        .history
        .steps()
        .filter(|s| s.action == action)
        .last()
        .unwrap_or_else(|| panic!("no {action} step\n{}", table(record)))
}

/// The whole cluster was lost and came back at the target: every step done; the restored pg1
/// leads on a new timeline and takes writes again; checked against the raw history, not the
/// restore checker: every write acknowledged before the target is in the read-back, none
/// acknowledged between the target and the loss is (there were some: the restore went back in
/// time), every write acknowledged by the restored cluster is; the other nodes cloned it and
/// stream from it.
fn cluster_lost_then_restored_to_the_target(record: &RunRecord) {
    let table = table(record);
    for s in record.history.steps() {
        assert_eq!(
            s.outcome,
            StepOutcome::Done,
            "step {} {}\n{table}",
            s.step,
            s.action
        );
    }
    let (target, lost, restore) = (
        step(record, "target"),
        step(record, "lose-cluster"),
        step(record, "restore"),
    );
    let timeline = restore.values["timeline"].as_u64().expect("a timeline") as u32;
    let old_timeline = record
        .history
        .writes()
        .filter(|w| w.outcome == Outcome::Ok && w.complete < target.started)
        .filter_map(|w| w.timeline)
        .max()
        .expect("writes before the target");
    assert!(
        timeline > old_timeline,
        "timeline {timeline} after {old_timeline}\n{table}"
    );
    let present: std::collections::BTreeSet<u64> = record
        .history
        .read_back()
        .expect("a read-back")
        .present
        .iter()
        .copied()
        .collect();
    let ok = |w: &&WriteOp| w.outcome == Outcome::Ok;
    let before: Vec<&WriteOp> = record
        .history
        .writes()
        .filter(ok)
        .filter(|w| w.complete < target.started)
        .collect();
    assert!(!before.is_empty(), "{table}");
    for w in &before {
        assert!(
            present.contains(&w.seq),
            "write {} before the target missing\n{table}",
            w.seq
        );
    }
    let discarded: Vec<&WriteOp> = record
        .history
        .writes()
        .filter(ok)
        .filter(|w| w.invoke > target.ended && w.timeline == Some(old_timeline))
        .collect();
    assert!(
        discarded.len() > 100,
        "the restore went back in time\n{table}"
    );
    for w in &discarded {
        assert!(
            !present.contains(&w.seq),
            "write {} after the target present\n{table}",
            w.seq
        );
        assert!(
            w.invoke < lost.ended,
            "write {} acknowledged after the loss\n{table}",
            w.seq
        );
    }
    let restored: Vec<&WriteOp> = record
        .history
        .writes()
        .filter(ok)
        .filter(|w| w.timeline == Some(timeline))
        .collect();
    assert!(
        restored.len() > 100,
        "writes on the restored cluster\n{table}"
    );
    for w in &restored {
        assert_eq!(w.node.as_deref(), Some("pg1"), "{table}");
        assert!(w.invoke > lost.started, "{table}");
        assert!(
            present.contains(&w.seq),
            "write {} on the restored cluster missing\n{table}",
            w.seq
        );
    }
    for node in ["pg2", "pg3"] {
        rejoined_as_replica(record, node, "pg1", restore.ended);
    }
    // The checker agrees with the history, and says what the runbook's reader needs.
    let measured = record
        .measurements
        .restore
        .as_ref()
        .expect("restore measured");
    assert!(measured.completed, "{table}");
    assert!(measured.backup_set.is_some(), "{table}");
    assert!(measured.last_completed.is_some(), "{table}");
    let truth = measured.truth.as_ref().expect("a truth check");
    assert_eq!(truth.lost_before_target.count, 0, "{table}");
    assert_eq!(truth.present_after_target.count, 0, "{table}");
    assert_eq!(
        truth.discarded_after_target.count,
        discarded.len() as u64,
        "{table}"
    );
}

/// Behind pgBouncer, to a named restore point: the restore went by name, reached the point
/// (nothing between it and the loss came back, everything before it did), and clients reached
/// the restored pg1 again through its pooler.
fn restored_to_the_restore_point_behind_the_poolers(record: &RunRecord) {
    let table = table(record);
    cluster_lost_then_restored_to_the_target(record);
    let restore = step(record, "restore");
    assert_eq!(restore.values["target_type"], "name", "{table}");
    assert_eq!(restore.values["target"], "before-the-loss", "{table}");
    let target = step(record, "target");
    assert!(target.values["restore_point_lsn"].is_string(), "{table}");
    // clients' writes after the restore went through pgbouncer1 to pg1
    assert!(
        pool_samples(record, "pgbouncer1", restore.ended, None)
            .any(|p| p.server == "pg1" && p.pools.iter().any(|pool| pool.cl_active > 0)),
        "no client of pgbouncer1 (in front of pg1) after the restore\n{table}"
    );
}

/// The restore of a control: it failed, saying `why` in the system's own words, every other
/// step before it done, and nothing acknowledged once the cluster was lost.
fn restore_failed_saying(record: &RunRecord, why: &str) {
    let table = table(record);
    assert_eq!(failed_objectives(record), ["restore_completed"], "{table}");
    let restore = step(record, "restore");
    match &restore.outcome {
        StepOutcome::Failed { reason } => assert!(reason.contains(why), "{reason}\n{table}"),
        StepOutcome::Done => panic!("the restore succeeded\n{table}"),
    }
    for s in record.history.steps().filter(|s| s.action != "restore") {
        assert_eq!(s.outcome, StepOutcome::Done, "step {}\n{table}", s.step);
    }
    let lost = step(record, "lose-cluster");
    assert!(
        !record
            .history
            .writes()
            .any(|w| w.outcome == Outcome::Ok && w.invoke > lost.ended),
        "a write acknowledged after the cluster was lost\n{table}"
    );
    let measured = record
        .measurements
        .restore
        .as_ref()
        .expect("restore measured");
    assert!(!measured.completed, "{table}");
    assert!(
        measured.failure.as_deref().is_some_and(|f| f.contains(why)),
        "{table}"
    );
    assert!(record.problems.is_empty(), "{:?}", record.problems);
}

/// Known-bad control: the only backup ended after the target; pgBackRest refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_before_every_backup_is_refused() {
    let Some(record) = drill("control-restore-target-before-backup").await else {
        return;
    };
    let (target, backup) = (step(&record, "target"), step(&record, "backup"));
    assert!(backup.started > target.ended, "{}", table(&record));
    restore_failed_saying(
        &record,
        "unable to find backup set with stop time less than",
    );
}

/// Known-bad control: WAL archiving broken before the target; the target cannot be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_past_broken_archiving_is_not_reached() {
    let Some(record) = drill("control-restore-archive-broken").await else {
        return;
    };
    assert!(
        injection(&record, "archive-fail").at < step(&record, "target").started,
        "{}",
        table(&record)
    );
    restore_failed_saying(
        &record,
        "recovery ended before configured recovery target was reached",
    );
}

/// Known-bad control: recovery paused at the target; the restore did not complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_left_paused_is_a_restore_that_did_not_complete() {
    let Some(record) = drill("control-restore-paused").await else {
        return;
    };
    restore_failed_saying(&record, "recovery paused at the target");
}
