//! Redis Sentinels: they watch the master, agree that it is down (subjectively after
//! `down-after-milliseconds`, objectively once `quorum` of them say so), elect one of them to
//! fail over (a majority of all Sentinels must vote), promote a replica and tell the others to
//! follow it. Clients ask them where the master is.
//!
//! Inside Docker each Sentinel announces the address it is reached at (`sentinel
//! announce-ip`, rewritten at every start: a restarted container may come back at another
//! address), and resolves the master's name (`resolve-hostnames`). Its configuration lives on
//! its disk, which Sentinel rewrites with what it learnt (the current master, the other
//! Sentinels, the epoch): a restarted Sentinel remembers, as a deployed one does.
//!
//! The authority: each Sentinel's answer to who the master is (`SENTINEL
//! get-master-addr-by-name`), an address named back to its node.

use super::super::kind::{Kind, Listen, Naming, Render};
use super::super::{Cluster, Disk, FileSpec, Health, Node, NodeSpec};
use crate::client::redis::{session, text};
use crate::history::{Announcement, Event};
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

pub const NAME: &str = "sentinel";
const NAMING: Naming = Naming::Numbered("sentinel");
pub const PORT: u16 = 26379;
/// The name the Sentinels know the master by, and clients ask for.
pub const MASTER_NAME: &str = "firedrill";
const START_PATH: &str = "/etc/firedrill/sentinel-start";
const TEMPLATE_PATH: &str = "/etc/firedrill/sentinel.conf";
const DATA: &str = "/data";
/// The configuration Sentinel rewrites, on its disk.
const CONF_PATH: &str = "/data/sentinel.conf";

/// `[topology.sentinel]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentinelSettings {
    /// Number of Sentinels (1..=7).
    pub nodes: usize,
    /// How many must agree the master is down before a failover may start.
    pub quorum: u32,
    /// How long a master may not answer before a Sentinel thinks it down.
    #[serde(with = "humantime_serde")]
    pub down_after: Duration,
    /// Bounds a failover's steps; a retry against the same master waits twice it.
    #[serde(with = "humantime_serde")]
    pub failover_timeout: Duration,
    /// How many replicas resynchronise with the new master at once.
    pub parallel_syncs: u32,
}

impl Settings for SentinelSettings {
    const KIND: &'static str = NAME;
}

/// The settings of `topology`'s Sentinels, if it has any.
pub fn settings(topology: &Topology) -> Option<&SentinelSettings> {
    topology.settings::<SentinelSettings>()
}

/// The Sentinels' names.
pub fn names(topology: &Topology) -> Vec<String> {
    NAMING.names(settings(topology).map_or(0, |s| s.nodes))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawSentinel {
    nodes: Option<Spanned<i64>>,
    quorum: Option<Spanned<i64>>,
    down_after: Option<Spanned<RawDuration>>,
    failover_timeout: Option<Spanned<RawDuration>>,
    parallel_syncs: Option<Spanned<i64>>,
}

/// Sentinel's own defaults (down after 30 s, failover timeout 3 min, one replica at a time),
/// three Sentinels, a majority of them the quorum.
fn check(input: &SettingsInput<'_>, raw: &RawSentinel) -> Result<SentinelSettings, SettingsError> {
    let nodes = input.count(
        raw.nodes.as_ref(),
        "nodes",
        (3, 1, 7),
        "a Sentinel must watch the master",
    )? as usize;
    let majority = nodes as i64 / 2 + 1;
    let ms = Duration::from_millis(1);
    let millis = |value: Option<&Spanned<RawDuration>>, name: &str, default: u64| {
        let duration = input.duration(value, name, Duration::from_millis(default), 100 * ms)?;
        match value {
            Some(value) if duration.subsec_nanos() % 1_000_000 != 0 => Err(input.invalid(
                value.span(),
                name,
                format!(
                    "expected whole milliseconds, Sentinel takes them, found {:?}",
                    value.get_ref().0
                ),
            )),
            _ => Ok(duration),
        }
    };
    Ok(SentinelSettings {
        nodes,
        quorum: input.int(raw.quorum.as_ref(), "quorum", (majority, 1, nodes as i64))? as u32,
        down_after: millis(raw.down_after.as_ref(), "down_after", 30_000)?,
        failover_timeout: millis(raw.failover_timeout.as_ref(), "failover_timeout", 180_000)?,
        parallel_syncs: input.int(raw.parallel_syncs.as_ref(), "parallel_syncs", (1, 1, 8))? as u32,
    })
}

/// The Sentinel kind.
pub struct Sentinel;

impl Kind for Sentinel {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// Always there in the stack that runs it: three when the table is absent.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        let raw = input.table::<RawSentinel>()?.unwrap_or_default();
        Ok(Some(Box::new(check(input, &raw)?)))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<SentinelSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |s| s.nodes)
    }

    fn count_setting(&self) -> &'static str {
        "topology.sentinel.nodes"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let s = settings(topology)?;
        Some(format!(
            "{} Sentinel (quorum {}, down after {}, failover timeout {}, parallel syncs {})",
            s.nodes,
            s.quorum,
            humantime::format_duration(s.down_after),
            humantime::format_duration(s.failover_timeout),
            s.parallel_syncs
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["redis-sentinel", "redis-tools"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("redis-sentinel", &["redis-sentinel", "--version"])]
    }

    fn has_disk(&self) -> bool {
        true
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let Some(settings) = settings(render.topology) else {
            return Vec::new();
        };
        NAMING
            .names(settings.nodes)
            .into_iter()
            .map(|me| NodeSpec {
                name: me.clone(),
                kind: super::SENTINEL,
                image: None,
                cmd: vec![START_PATH.into()],
                user: None,
                files: vec![
                    FileSpec {
                        path: START_PATH.into(),
                        contents: start_script(),
                        mode: 0o755,
                    },
                    FileSpec {
                        path: TEMPLATE_PATH.into(),
                        contents: template(settings),
                        mode: 0o644,
                    },
                ],
                ports: vec![PORT],
                fixed_ports: vec![],
                cap_add: vec!["NET_ADMIN".into()],
                disks: vec![Disk {
                    path: DATA.into(),
                    size: 64 << 20,
                    shared: None,
                }],
                secret_env: vec![],
                env: vec![],
                health: Some(Health {
                    command: format!("redis-cli -p {PORT} ping | grep -q PONG"),
                    interval: Duration::from_secs(2),
                    timeout: Duration::from_secs(3),
                    retries: 3,
                    start_period: Duration::from_secs(10),
                }),
            })
            .collect()
    }

    /// Its events, from its Pub/Sub channels.
    fn announcements<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        listen: Listen,
    ) -> Option<BoxFuture<'a, ()>> {
        Some(Box::pin(async move {
            let Some(port) = node.ports.get(&PORT).copied() else {
                return;
            };
            loop {
                tokio::select! {
                    () = listen.stop.cancelled() => return,
                    ended = relay(cluster, node, port, &listen) => {
                        if let Err(e) = ended {
                            tracing::debug!("{}: announcements: {e}", node.name);
                        }
                    }
                }
                tokio::select! {
                    () = listen.stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }))
    }

    /// The master this Sentinel names now, by its address.
    fn names_leader<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<Option<String>, String>>> {
        Some(Box::pin(async move {
            let ask = async {
                let port = node.ports.get(&PORT).copied().ok_or("no published port")?;
                let address = master_address(&session("127.0.0.1", port, timeout).await?).await?;
                match address {
                    None => Ok(None),
                    Some((ip, _)) => {
                        Ok(Some(cluster.name_at(&ip, super::REDIS).await.unwrap_or(ip)))
                    }
                }
            };
            tokio::time::timeout(timeout * 2, ask)
                .await
                .unwrap_or_else(|_| Err("timeout".into()))
        }))
    }
}

/// Relays the Sentinel's events (every Pub/Sub channel, `PSUBSCRIBE *`) until the connection
/// breaks: each stamped when it arrives, the instance it is about named back to its node.
async fn relay(cluster: &Cluster, node: &Node, port: u16, listen: &Listen) -> Result<(), String> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(|e| text(&e))?;
    let second = Duration::from_secs(1);
    let mut pubsub = tokio::time::timeout(second, client.get_async_pubsub())
        .await
        .map_err(|_| "no connection within 1s".to_owned())?
        .map_err(|e| text(&e))?;
    tokio::time::timeout(second, pubsub.psubscribe("*"))
        .await
        .map_err(|_| "no subscription within 1s".to_owned())?
        .map_err(|e| text(&e))?;
    // Stamped as they arrive; named apart, so that naming a node (which may ask the engine)
    // never delays the next event's stamp.
    let (arrived, mut to_name) = tokio::sync::mpsc::unbounded_channel();
    let read = async move {
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let words: String = message.get_payload().unwrap_or_default();
            let _ = arrived.send((
                listen.clock.now(),
                message.get_channel_name().to_owned(),
                words,
            ));
        }
    };
    let name = async {
        while let Some((at, name, words)) = to_name.recv().await {
            let (about_role, about) = match instance(&name, &words) {
                Some((role, ip)) => {
                    let kind = if role == "sentinel" {
                        super::SENTINEL
                    } else {
                        super::REDIS
                    };
                    let named = cluster
                        .name_at(ip, kind)
                        .await
                        .unwrap_or_else(|| ip.to_owned());
                    (Some(role.to_owned()), Some(named))
                }
                None => (None, None),
            };
            let _ = listen.events.send(Event::Announcement(Announcement {
                source: NAME.to_owned(),
                from: node.name.clone(),
                at,
                name,
                text: words,
                about,
                about_role,
            }));
        }
    };
    tokio::join!(read, name);
    Err("the connection closed".into())
}

/// What an event is about, from its words: the instance's type and address
/// (`master firedrill 172.18.0.2 6379 …`, `slave 172.18.0.3:6379 172.18.0.3 6379 @ …`), or for
/// `+switch-master` (`firedrill <old ip> <old port> <new ip> <new port>`) the new master.
fn instance<'a>(name: &str, words: &'a str) -> Option<(&'a str, &'a str)> {
    let words: Vec<&str> = words.split_whitespace().collect();
    if name == "+switch-master" {
        return Some(("master", *words.get(3)?));
    }
    match *words.first()? {
        role @ ("master" | "slave" | "sentinel") => Some((role, *words.get(2)?)),
        _ => None,
    }
}

/// The master's address as a Sentinel names it; `None`: it watches no such master.
pub async fn master_address(
    sentinel: &redis::aio::MultiplexedConnection,
) -> Result<Option<(String, u16)>, String> {
    redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(MASTER_NAME)
        .query_async(&mut sentinel.clone())
        .await
        .map_err(|e| text(&e))
}

/// The configuration on first start, `@SELF@` for the announced address.
fn template(s: &SentinelSettings) -> String {
    format!(
        "# firedrill: Sentinel (rewritten by Sentinel as it learns)\n\
         port {PORT}\n\
         protected-mode no\n\
         dir {DATA}\n\
         sentinel resolve-hostnames yes\n\
         sentinel announce-ip @SELF@\n\
         sentinel monitor {MASTER_NAME} {first} {redis} {quorum}\n\
         sentinel down-after-milliseconds {MASTER_NAME} {down}\n\
         sentinel failover-timeout {MASTER_NAME} {failover}\n\
         sentinel parallel-syncs {MASTER_NAME} {syncs}\n",
        first = super::redis::first(),
        redis = super::redis::PORT,
        quorum = s.quorum,
        down = s.down_after.as_millis(),
        failover = s.failover_timeout.as_millis(),
        syncs = s.parallel_syncs,
    )
}

/// Copies the configuration to the disk on first start, sets the announced address to the
/// container's own at every start, and runs Sentinel on it.
fn start_script() -> String {
    format!(
        "#!/bin/sh\n\
         # firedrill: Sentinel\n\
         set -u\n\
         mine=$(ip -4 -o addr show dev eth0 scope global | awk 'NR == 1 {{ print $4 }}')\n\
         mine=${{mine%/*}}\n\
         [ -f {CONF_PATH} ] || cp {TEMPLATE_PATH} {CONF_PATH}\n\
         sed -i \"s/^sentinel announce-ip .*/sentinel announce-ip $mine/\" {CONF_PATH}\n\
         exec redis-sentinel {CONF_PATH}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_script_keeps_the_configuration_on_the_disk() {
        let script = start_script();
        assert!(
            script.contains("[ -f /data/sentinel.conf ] || cp /etc/firedrill/sentinel.conf"),
            "{script}"
        );
        assert!(
            script.contains("sed -i \"s/^sentinel announce-ip .*/sentinel announce-ip $mine/\""),
            "{script}"
        );
        assert!(script.ends_with("exec redis-sentinel /data/sentinel.conf\n"));
    }

    #[test]
    fn an_event_is_about_the_instance_it_names() {
        assert_eq!(
            instance("+sdown", "master firedrill 172.18.0.2 6379"),
            Some(("master", "172.18.0.2"))
        );
        assert_eq!(
            instance(
                "+promoted-slave",
                "slave 172.18.0.3:6379 172.18.0.3 6379 @ firedrill 172.18.0.2 6379"
            ),
            Some(("slave", "172.18.0.3"))
        );
        assert_eq!(
            instance(
                "+switch-master",
                "firedrill 172.18.0.2 6379 172.18.0.4 6379"
            ),
            Some(("master", "172.18.0.4"))
        );
        assert_eq!(instance("+tilt", "#tilt mode entered"), None);
        assert_eq!(instance("+odown", "master firedrill"), None);
    }

    #[test]
    fn the_configuration_watches_redis1_with_the_scenario_s_settings() {
        let conf = template(&SentinelSettings {
            nodes: 3,
            quorum: 2,
            down_after: Duration::from_millis(2000),
            failover_timeout: Duration::from_secs(20),
            parallel_syncs: 1,
        });
        assert!(
            conf.contains("sentinel monitor firedrill redis1 6379 2\n"),
            "{conf}"
        );
        assert!(conf.contains("sentinel down-after-milliseconds firedrill 2000\n"));
        assert!(conf.contains("sentinel failover-timeout firedrill 20000\n"));
        assert!(conf.contains("sentinel announce-ip @SELF@\n"));
        assert!(conf.contains("sentinel resolve-hostnames yes\n"));
    }
}
