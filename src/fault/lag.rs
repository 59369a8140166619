//! lag: the replication stream from the leader to the target replicas blocked, so they fall
//! behind while writes go on (there is no netem on this kernel to slow it instead). On each
//! replica, iptables refuses connections to the leader's PostgreSQL port and drops what comes
//! from it; the running stream is ended at both ends, so the leader's pg_stat_replication stops
//! listing the replica and its slot is free. Healed by removing the rules: the replica's WAL
//! receiver reconnects on its own retry schedule (`wal_retrieve_retry_interval`, 5 s).

use super::iptables::{self, Rule};
use super::{
    FaultError, Fire, Healing, Key, KeyForm, Requirement, Resolver, Targets, Verb, names, on_each,
    run_as_root, sql,
};
use crate::scenario::{FaultInput, KeyError, SIZE_EXPECTED, Target, format_size, parse_size};
use crate::topology::{Cluster, Node, PG_PORT, SessionError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub struct Lag;

/// How far behind the replicas must be before the injection completes; `None`: at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LagParams {
    pub behind: Option<Behind>,
}

/// How far behind a lag fault makes its replicas before it counts as injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behind {
    /// WAL bytes the leader has written that the replica has not received.
    Bytes(u64),
    /// Time the stream has been blocked.
    Time(#[serde(with = "humantime_serde")] Duration),
}

impl Verb for Lag {
    type Params = LagParams;
    const NAME: &'static str = "lag";
    const SUMMARY: &'static str = "the replication stream from the leader to the target replicas \
         blocked (iptables), so they fall behind while writes go on";
    const KEYS: &'static [Key] = &[Key {
        name: "behind",
        form: KeyForm::Text,
    }];
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::Kinds(&["patroni"]);
    const REQUIRES: &'static [Requirement] = &[Requirement::Iptables];

    fn params(input: &mut FaultInput<'_>) -> Result<LagParams, KeyError> {
        let behind = match input.text("behind") {
            Some(behind) => Some(parse_behind(&behind, input)?),
            None => None,
        };
        Ok(LagParams { behind })
    }

    fn check_target(target: &Target, written: &str, input: &FaultInput<'_>) -> Result<(), String> {
        if *target != Target::Leader {
            return Ok(());
        }
        Err(format!(
            "expected replicas, a lag fault holds back the stream from the leader to them \
             (replica[:...], {}, or a group of pg nodes), found {written:?}",
            input.patroni_names()
        ))
    }

    fn expected_targets(input: &FaultInput<'_>) -> String {
        format!(
            "replicas for a lag fault (replica[:...], {}, or a group of pg nodes)",
            input.patroni_names()
        )
    }

    /// The stream a lag fault blocks comes from the leader.
    async fn involve(
        resolver: &Resolver<'_>,
        _: &[Node],
        _: &LagParams,
    ) -> Result<Vec<Node>, FaultError> {
        Ok(vec![resolver.resolve_one(&Target::Leader).await?])
    }

    async fn inject(fire: Fire<'_>, params: &LagParams) -> Result<Option<String>, FaultError> {
        let [leader] = fire.involved else {
            return Err(FaultError::Target {
                target: "leader".into(),
                reason: format!("expected one leader, got {}", fire.involved.len()),
            });
        };
        inject(fire.cluster, fire.targets, leader, params.behind).await
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        heal(cluster, nodes).await
    }

    fn schedule_note(params: &LagParams) -> String {
        match params.behind {
            Some(Behind::Bytes(bytes)) => format!(", {} behind", format_size(bytes)),
            Some(Behind::Time(time)) => {
                format!(", {} behind", humantime::format_duration(time))
            }
            None => String::new(),
        }
    }
}

/// How far behind a lag fault makes its replicas: a size or a duration.
fn parse_behind(
    behind: &toml::Spanned<String>,
    input: &FaultInput<'_>,
) -> Result<Behind, KeyError> {
    let text = behind.get_ref();
    let fail = |message: String| input.invalid(behind.span(), "behind", message);
    let parsed = match parse_size(text) {
        Some(bytes) => Behind::Bytes(bytes),
        None => match humantime::parse_duration(text) {
            Ok(time) => Behind::Time(time),
            Err(_) => {
                return Err(fail(format!(
                    "expected {SIZE_EXPECTED} or a duration like \"5s\", found {text:?}"
                )));
            }
        },
    };
    if matches!(parsed, Behind::Bytes(0)) || parsed == Behind::Time(Duration::ZERO) {
        return Err(fail(format!("expected more than nothing, found {text:?}")));
    }
    Ok(parsed)
}

/// How long a lag fault may wait for its replicas to fall `behind` a number of bytes.
const FALL_BEHIND_WITHIN: Duration = Duration::from_secs(60);

pub async fn inject(
    cluster: &Cluster,
    nodes: &[Node],
    leader: &Node,
    behind: Option<Behind>,
) -> Result<Option<String>, FaultError> {
    if let Some(node) = nodes.iter().find(|n| n.name == leader.name) {
        return Err(FaultError::Target {
            target: node.name.clone(),
            reason: "it is the leader; a lag fault holds back replicas".into(),
        });
    }
    let ip = cluster
        .current_ip(leader)
        .await
        .map_err(|e| FaultError::action("find the address", &leader.name)(e.to_string()))?;
    let rules = [
        Rule::RefuseTo {
            ip: &ip,
            port: PG_PORT,
        },
        Rule::From {
            ip: &ip,
            port: Some(PG_PORT),
        },
    ];
    iptables::add(cluster, nodes, &rules).await?;
    end_streams(cluster, nodes, leader).await?;
    match behind {
        None => {}
        Some(Behind::Time(time)) => tokio::time::sleep(time).await,
        Some(Behind::Bytes(bytes)) => fall_behind(cluster, nodes, leader, bytes).await?,
    }
    // Only a remark: the rules are in place and the streams ended. A leader that blocks its
    // commits (synchronous_mode_strict) may have no connection left to ask it with.
    let now = match receive_lags(cluster, nodes, leader).await {
        Ok(lags) => {
            let behind: Vec<String> = lags
                .iter()
                .map(|(node, lag)| format!("{node} {} behind", format_size(*lag)))
                .collect();
            format!(
                "{} (WAL written on {} and not received)",
                behind.join(", "),
                leader.name
            )
        }
        Err(e) => format!("lag not read: {e}"),
    };
    Ok(Some(format!(
        "replication from {} to {} blocked; {now}",
        leader.name,
        names(nodes),
    )))
}

pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    iptables::flush(cluster, nodes).await?;
    Ok(Some(format!("replication to {} unblocked", names(nodes))))
}

/// Ends the replicas' running streams: the walsenders on the leader (which free the slots) and
/// the WAL receivers on the replicas (whose connections would otherwise hang until
/// `wal_receiver_timeout`).
async fn end_streams(cluster: &Cluster, nodes: &[Node], leader: &Node) -> Result<(), FaultError> {
    let replicas: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let fail = |e: SessionError| {
        FaultError::action("end the replication connections", &leader.name)(e.text())
    };
    let client = cluster
        .connect(leader, Duration::from_secs(2))
        .await
        .map_err(fail)?;
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_replication \
             WHERE application_name = ANY($1)",
            &[&replicas],
        )
        .await
        .map_err(|e| fail(e.into()))?;
    on_each(nodes, |node| async move {
        run_as_root(
            cluster,
            node,
            "end the WAL receiver",
            // The bracket keeps the pattern from matching this shell's own command line.
            "pkill -TERM -f 'postgres: .*walreceive[r]' || true",
        )
        .await
        .map(|_| ())
    })
    .await
}

/// Waits until every replica is at least `bytes` behind the leader.
async fn fall_behind(
    cluster: &Cluster,
    nodes: &[Node],
    leader: &Node,
    bytes: u64,
) -> Result<(), FaultError> {
    let deadline = tokio::time::Instant::now() + FALL_BEHIND_WITHIN;
    loop {
        let lags = receive_lags(cluster, nodes, leader).await?;
        let least = lags.iter().map(|(_, lag)| *lag).min().unwrap_or(0);
        if least >= bytes {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(FaultError::action("hold back replication", &names(nodes))(
                format!(
                    "the replicas fell only {} behind in {} of the {} asked: the workload \
                     writes too little WAL for that (ask for less, or for a time)",
                    format_size(least),
                    humantime::format_duration(FALL_BEHIND_WITHIN),
                    format_size(bytes)
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Each replica's lag now: WAL bytes written on the leader and not yet received by it.
async fn receive_lags(
    cluster: &Cluster,
    nodes: &[Node],
    leader: &Node,
) -> Result<Vec<(String, u64)>, FaultError> {
    let written = sql::wal_position(cluster, leader, "pg_current_wal_lsn()").await?;
    let mut lags = Vec::new();
    for node in nodes {
        let received = sql::wal_position(
            cluster,
            node,
            "coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())",
        )
        .await?;
        lags.push((node.name.clone(), written.saturating_sub(received)));
    }
    Ok(lags)
}
