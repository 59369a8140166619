//! switchover: a planned switchover through Patroni's REST API (`POST /switchover` on the
//! leader), as `patronictl switchover --master A --candidate B --force`.

use super::{FaultError, Fire, Healing, Key, KeyForm, Resolver, Targets, Verb};
use crate::scenario::{FaultInput, KeyError, Pick, Target};
use crate::topology::{Cluster, Node, PATRONI_REST_PORT};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

pub struct Switchover;

/// The replica to promote; any healthy one when `None` (Patroni chooses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchoverParams {
    pub candidate: Option<Target>,
}

impl Verb for Switchover {
    type Params = SwitchoverParams;
    const NAME: &'static str = "switchover";
    const SUMMARY: &'static str =
        "a planned switchover through Patroni's REST API, from the leader to `candidate`";
    const KEYS: &'static [Key] = &[Key {
        name: "candidate",
        form: KeyForm::Text,
    }];
    const HEALING: Healing = Healing::OneOff { why: "" };
    const TARGETS: Targets = Targets::Kinds(&["patroni"]);

    fn params(input: &mut FaultInput<'_>) -> Result<SwitchoverParams, KeyError> {
        let candidate = match input.text("candidate") {
            Some(candidate) => Some(parse_candidate(&candidate, input)?),
            None => None,
        };
        Ok(SwitchoverParams { candidate })
    }

    fn check_target(target: &Target, written: &str, _: &FaultInput<'_>) -> Result<(), String> {
        if *target == Target::Leader {
            return Ok(());
        }
        Err(format!(
            "expected leader (or primary), a switchover is made from the leader, found {written:?}"
        ))
    }

    async fn involve(
        resolver: &Resolver<'_>,
        _: &[Node],
        params: &SwitchoverParams,
    ) -> Result<Vec<Node>, FaultError> {
        match &params.candidate {
            Some(candidate) => Ok(vec![resolver.resolve_one(candidate).await?]),
            None => Ok(Vec::new()),
        }
    }

    async fn inject(fire: Fire<'_>, _: &SwitchoverParams) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets, fire.involved.first()).await
    }

    /// Never called: a one-off has no duration, so nothing to heal.
    async fn heal(_: &Cluster, _: &[Node]) -> Result<Option<String>, FaultError> {
        Ok(None)
    }

    fn schedule_note(params: &SwitchoverParams) -> String {
        match &params.candidate {
            Some(candidate) => format!(" to {candidate}"),
            None => String::new(),
        }
    }
}

/// The replica a switchover promotes: one Patroni node, by name or picked among the replicas.
fn parse_candidate(
    candidate: &toml::Spanned<String>,
    input: &FaultInput<'_>,
) -> Result<Target, KeyError> {
    let one_replica = |target: &Target| match target {
        Target::Node(name) => input.kind_of(name) == Some("patroni"),
        Target::Replica(pick) => *pick != Pick::All,
        _ => false,
    };
    input
        .target(candidate.get_ref())
        .filter(one_replica)
        .ok_or_else(|| {
            input.invalid(
                candidate.span(),
                "candidate",
                format!(
                    "expected one replica to promote: {}, replica, replica:random, \
                     replica:most-lagging or replica:least-lagging, found {:?}",
                    input.patroni_names(),
                    candidate.get_ref()
                ),
            )
        })
}

pub async fn inject(
    cluster: &Cluster,
    nodes: &[Node],
    candidate: Option<&Node>,
) -> Result<Option<String>, FaultError> {
    let [leader] = nodes else {
        return Err(FaultError::Target {
            target: "leader".into(),
            reason: format!("a switchover starts from one leader, got {}", nodes.len()),
        });
    };
    let fail = |m: String| FaultError::action("switch over", &leader.name)(m);
    let addr = leader
        .host_addr(PATRONI_REST_PORT)
        .ok_or_else(|| fail("no REST port".into()))?;
    let mut body = json!({ "leader": leader.name });
    if let Some(c) = candidate {
        body["candidate"] = json!(c.name);
    }
    // Patroni answers once the switchover is done (or failed).
    let response = cluster
        .http
        .post(format!("http://{addr}/switchover"))
        .json(&body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(fail(format!("patroni answered {status}: {}", text.trim())));
    }
    Ok(Some(format!("patroni: {}", text.trim())))
}
