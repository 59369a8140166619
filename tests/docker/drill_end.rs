//! The end of a scripted drill: writes that failed in the scenario's last seconds are followed
//! until their recovery is confirmed (at most `GRACE` past the duration), so the RTO is
//! measured rather than cut off by where the scenario happened to end.

use crate::common;

use firedrill::history::Outcome;
use std::time::Duration;

/// HAProxy frozen from 9 s to 11 s of a 12 s drill: writes time out, come back at about 11 s,
/// and only a workload that goes on past 12 s can see them last 5 s.
const SCENARIO: &str = r#"
name = "drill-end-recovery"
description = "an outage that ends a second before the scenario does"
duration = "12s"

[topology]
etcd = 3

[topology.patroni]
nodes = 3
ttl = "10s"
loop_wait = "2s"
retry_timeout = "3s"

[topology.haproxy]
check = "patroni-rest"
inter = "1s"
fall = 3
rise = 2

[workload]
writers = 4
rate = 100
through = "haproxy"
connect_timeout = "1s"
write_timeout = "1s"

[[fault]]
at = "9s"
kind = "pause"
target = "haproxy"
duration = "2s"

[objectives]
rto = "<= 10s"
leader_changes = "== 0"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_on_past_the_end_until_a_late_recovery_is_confirmed() {
    let path = std::path::Path::new("drill-end-recovery.toml");
    let scenario = firedrill::scenario::parse(path, SCENARIO).expect("the scenario parses");
    let Some(record) = common::drill("drill_end", &scenario, common::Turn::Beside).await else {
        return;
    };
    let table = common::see_table(&record);
    let pause = &record.measurements.faults[0];
    assert!(pause.recovered, "{table}");
    let rto = record
        .measurements
        .rto
        .expect("the RTO is measured, not cut off");
    assert!(rto > Duration::ZERO, "writes really stopped: {table}");
    let writes: Vec<_> = record.history.writes().collect();
    let last = writes.iter().map(|w| w.invoke).max().unwrap();
    let end = Duration::from_secs(12);
    // the recovery write: the first acknowledged write invoked after the last failed one
    let last_failed = writes
        .iter()
        .filter(|w| w.outcome != Outcome::Ok && !w.not_sent())
        .map(|w| w.invoke)
        .max()
        .expect("writes failed while HAProxy was frozen");
    let recovery = writes
        .iter()
        .filter(|w| w.outcome == Outcome::Ok && w.invoke > last_failed)
        .map(|w| w.invoke)
        .min()
        .expect("writes came back");
    assert!(
        recovery.as_duration() + firedrill::check::STABLE > end,
        "the recovery at {recovery} could not have been confirmed by {end:?}"
    );
    assert!(
        last.as_duration() > end && last.as_duration() <= end + Duration::from_secs(10),
        "the writes went on past the scenario's end, never more than the grace: {last}"
    );
    assert!(record.passed(), "{table}");
}
