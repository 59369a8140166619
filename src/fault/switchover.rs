//! switchover: a planned switchover through Patroni's REST API (`POST /switchover` on the
//! leader), as `patronictl switchover --master A --candidate B --force`.

use super::FaultError;
use crate::topology::{Cluster, Node, PATRONI_REST_PORT};
use serde_json::json;
use std::time::Duration;

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
