//! The generic partition verb on an API server: cut off from HAProxy (both ways), it is
//! drained by HAProxy's checks, sent nothing more until the heal, and back in rotation after
//! it, while the other servers answer every request. (Crash, stop and pause are drilled by the
//! shipped scenarios.)

use crate::common;

use firedrill::history::{At, Outcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_cut_off_from_haproxy_is_drained_then_back() {
    let text = common::shipped_with(
        "api-server-crash",
        &[
            (
                "name = \"api-server-crash\"",
                "name = \"api-server-partition\"",
            ),
            (
                "kind = \"crash\"\ntarget = \"app2\"\n",
                "kind = \"partition\"\ntarget = \"app2\"\nfrom = \"haproxy\"\n",
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api-server-partition.toml");
    std::fs::write(&path, text).unwrap();
    let scenario = firedrill::scenario::load(&path).expect("the scenario is valid");
    let Some(record) = common::drill("app_tier::partition", &scenario, common::Turn::Beside).await
    else {
        return;
    };
    let table = common::see_table(&record);
    assert!(record.passed(), "{table}");
    let tier = record.measurements.tier.as_ref().expect("a tier");
    let drain = tier
        .drains
        .iter()
        .find(|d| d.server == "app2")
        .unwrap_or_else(|| panic!("no drain of app2\n{table}"));
    assert!(drain.drain_time.is_some(), "{table}");
    assert_eq!(drain.assigned_after_drain, Some(0), "{table}");
    assert!(drain.back_in_rotation.is_some(), "{table}");
    let faults: Vec<_> = record.history.faults().collect();
    let (cut, healed) = (faults[0].done, faults[1].at);
    let answered_by_app2 = |from: At, to: At| {
        record
            .history
            .writes()
            .filter(|w| w.invoke >= from && w.invoke < to && w.outcome == Outcome::Ok)
            .filter(|w| w.via.as_deref() == Some("app2"))
            .count()
    };
    assert_eq!(answered_by_app2(cut, healed), 0, "{table}");
    assert!(answered_by_app2(healed, At(u64::MAX)) > 0, "{table}");
}
