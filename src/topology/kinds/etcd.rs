//! etcd members: the distributed store holding the stack's leader key (Patroni's, in the
//! patroni stack).

use super::super::http_error::http_error_text;
use super::super::kind::{Kind, Naming, Render};
use super::super::{Cluster, Disk, Health, Node, NodeSpec};
use crate::scenario::{KindSettings, Settings, SettingsError, SettingsInput, Topology, read_json};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

/// `[topology] etcd = 3`: how many members the store has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EtcdSettings {
    /// Number of etcd members (1..=7).
    pub members: usize,
}

impl Settings for EtcdSettings {
    const KIND: &'static str = "etcd";
}

/// The settings of `topology`'s store, if it has one.
pub fn settings(topology: &Topology) -> Option<&EtcdSettings> {
    topology.settings::<EtcdSettings>()
}

/// The etcd kind: a member of the store.
pub struct Etcd;

const NAMING: Naming = Naming::Numbered("etcd");

impl Kind for Etcd {
    fn name(&self) -> &'static str {
        "etcd"
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// Three members unless the scenario says otherwise (`etcd = N`).
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        let members = input.table::<Spanned<i64>>()?;
        let members = input.count(
            members.as_ref(),
            "",
            (3, 1, 7),
            "Patroni needs a DCS, at least one etcd member",
        )? as usize;
        Ok(Some(Box::new(EtcdSettings { members })))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<EtcdSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |s| s.members)
    }

    fn count_setting(&self) -> &'static str {
        "topology.etcd"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        settings(topology).map(|s| format!("{} etcd", s.members))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["etcd-server", "etcd-client"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("etcd", VERSION_CMD)]
    }

    fn has_disk(&self) -> bool {
        true
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        specs(self.count(render.topology), render.run_id)
    }

    /// The store's own record of who leads: the holder of the stack's leader key, by a
    /// linearizable read of this member.
    fn names_leader<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<Option<String>, String>>> {
        // A store whose stack keeps no leader key names nobody: it is no authority then.
        let key = cluster.leader_key.as_deref()?;
        Some(Box::pin(async move {
            let addr = node
                .host_addr(CLIENT_PORT)
                .ok_or("no published client port")?;
            key_value(&cluster.http, &addr, key, timeout).await
        }))
    }
}

pub const CLIENT_PORT: u16 = 2379;

/// Deletes every key under `prefix` through member `node` (the v3 API, which Patroni's etcd3
/// client uses); how many keys were deleted.
pub async fn delete_prefix(
    cluster: &Cluster,
    node: &Node,
    prefix: &str,
    within: Duration,
) -> Result<u64, String> {
    let script = format!(
        "ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:{CLIENT_PORT} del --prefix '{prefix}'"
    );
    let what = format!("deleting {prefix} in etcd through {}", node.name);
    let out = crate::engine::exec_within(
        &cluster.docker,
        &node.container,
        None,
        &["sh", "-c", &script],
        (within, &what),
    )
    .await?;
    if !out.success() {
        return Err(format!(
            "{what} failed: {}",
            format!("{}{}", out.stdout, out.stderr).trim()
        ));
    }
    out.stdout
        .trim()
        .parse()
        .map_err(|_| format!("{what}: etcdctl said {:?}", out.stdout.trim()))
}
const PEER_PORT: u16 = 2380;

pub fn name(i: usize) -> String {
    NAMING.name(i)
}

/// The client endpoints as Patroni reaches them on the private network.
pub fn client_hosts(members: usize) -> Vec<String> {
    (1..=members)
        .map(|i| format!("{}:{CLIENT_PORT}", name(i)))
        .collect()
}

fn specs(members: usize, cluster_token: &str) -> Vec<NodeSpec> {
    let initial_cluster = (1..=members)
        .map(|i| format!("{0}=http://{0}:{PEER_PORT}", name(i)))
        .collect::<Vec<_>>()
        .join(",");
    (1..=members)
        .map(|i| {
            let me = name(i);
            let peers: Vec<String> = (1..=members).map(name).filter(|n| *n != me).collect();
            let earlier: Vec<String> = (1..i).map(name).collect();
            NodeSpec {
                name: me.clone(),
                kind: super::ETCD,
                image: None,
                cmd: once_peers_resolve(
                    &peers,
                    &earlier,
                    vec![
                        "etcd".into(),
                        format!("--name={me}"),
                        "--data-dir=/data/etcd".into(),
                        format!("--listen-client-urls=http://0.0.0.0:{CLIENT_PORT}"),
                        format!("--advertise-client-urls=http://{me}:{CLIENT_PORT}"),
                        format!("--listen-peer-urls=http://0.0.0.0:{PEER_PORT}"),
                        format!("--initial-advertise-peer-urls=http://{me}:{PEER_PORT}"),
                        format!("--initial-cluster={initial_cluster}"),
                        "--initial-cluster-state=new".into(),
                        format!("--initial-cluster-token={cluster_token}"),
                    ],
                ),
                user: None,
                files: vec![],
                ports: vec![CLIENT_PORT],
                fixed_ports: vec![],
                cap_add: vec!["NET_ADMIN".into()],
                disks: vec![Disk {
                    path: "/data".into(),
                    size: 256 << 20,
                    shared: None,
                }],
                secret_env: vec![],
                env: vec![],
                health: Some(health()),
            }
        })
        .collect()
}

/// `etcd` run once its peers' names resolve and the members before it serve their peers.
///
/// A new member resolves every peer URL of `--initial-cluster` before it starts and, when one
/// does not resolve yet (Docker's DNS names a container only once it has started, and the
/// members start together), retries a second later. Then it asks each peer whether the cluster
/// is already bootstrapped, waiting up to a second for each answer: a peer that has bound its
/// port but not yet started serving (every member, when they start together) costs that whole
/// second, two in a three-member cluster, while a peer not yet listening refuses at once. So
/// the members start one after the other: each once the members before it answer on their peer
/// port (`/members`), before the ones after it listen. A member with data (restarted) does not
/// wait, and each wait is bounded (5 s), after which etcd's own retries and errors take over.
fn once_peers_resolve(peers: &[String], earlier: &[String], etcd: Vec<String>) -> Vec<String> {
    if peers.is_empty() {
        return etcd;
    }
    let mut wait = format!(
        "for _ in $(seq 100); do getent hosts {} >/dev/null && break; sleep 0.05; done",
        peers.join(" ")
    );
    for member in earlier {
        wait.push_str(&format!(
            "; for _ in $(seq 100); do curl -fsS --max-time 1 -o /dev/null \
             http://{member}:{PEER_PORT}/members 2>/dev/null && break; sleep 0.05; done"
        ));
    }
    let script = format!("[ -d /data/etcd/member ] || {{ {wait}; }}; exec \"$@\"");
    ["sh".into(), "-c".into(), script, "etcd-start".into()]
        .into_iter()
        .chain(etcd)
        .collect()
}

/// The member answers its health endpoint with `"health":"true"`, asked from inside its
/// container: what [`healthy`] asks from the harness.
fn health() -> Health {
    Health {
        command: format!(
            "curl -fsS --max-time 2 http://127.0.0.1:{CLIENT_PORT}/health | grep -q '\"health\":\"true\"'"
        ),
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
        retries: 3,
        start_period: Duration::from_secs(30),
    }
}

/// Whether a member answers its health endpoint with `"health":"true"`.
pub async fn healthy(http: &reqwest::Client, host_addr: &str) -> bool {
    let response = http
        .get(format!("http://{host_addr}/health"))
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => r
            .json::<serde_json::Value>()
            .await
            .map(|v| v["health"] == "true")
            .unwrap_or(false),
        _ => false,
    }
}

/// Who holds the key `key` (Patroni's leader key holds the leader's name), by a linearizable
/// read through the member's HTTP gateway: `Ok(None)` when the key does not exist.
pub async fn key_value(
    http: &reqwest::Client,
    host_addr: &str,
    key: &str,
    timeout: Duration,
) -> Result<Option<String>, String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let response = http
        .post(format!("http://{host_addr}/v3/kv/range"))
        .json(&serde_json::json!({ "key": b64.encode(key) }))
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| http_error_text(&e))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "{status}: {}",
            body["message"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("")
        ));
    }
    match body["kvs"][0]["value"].as_str() {
        None => Ok(None),
        Some(value) => {
            let bytes = b64.decode(value).map_err(|e| e.to_string())?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        }
    }
}

pub const VERSION_CMD: &[&str] = &["etcd", "--version"];

#[cfg(test)]
mod tests {
    use super::*;

    /// A member of several waits for its peers' names (not its own) before etcd starts, and
    /// only while it has no data; a lone member starts etcd directly.
    #[test]
    fn members_start_etcd_once_their_peers_names_resolve() {
        let three = specs(3, "token");
        let cmd = &three[1].cmd;
        assert_eq!(cmd[..2], ["sh", "-c"]);
        assert!(
            cmd[2].starts_with("[ -d /data/etcd/member ] || {"),
            "{}",
            cmd[2]
        );
        assert!(
            cmd[2].contains("getent hosts etcd1 etcd3 >/dev/null"),
            "{}",
            cmd[2]
        );
        // etcd2 waits for etcd1 to serve its peers, not for etcd3; etcd1 waits for none
        assert!(cmd[2].contains("http://etcd1:2380/members"), "{}", cmd[2]);
        assert!(!cmd[2].contains("etcd3:2380"), "{}", cmd[2]);
        assert!(!three[0].cmd[2].contains("/members"), "{}", three[0].cmd[2]);
        assert!(three[2].cmd[2].contains("http://etcd2:2380/members"));
        assert!(cmd[2].ends_with("exec \"$@\""), "{}", cmd[2]);
        assert_eq!(cmd[3], "etcd-start");
        assert_eq!(cmd[4], "etcd");
        assert!(cmd.contains(&"--name=etcd2".to_string()));
        assert_eq!(specs(1, "token")[0].cmd[0], "etcd");
    }
}
