//! Redis servers replicated for redundancy, as Sentinel watches them: redis1 the first master,
//! the others its replicas. Replication is asynchronous: a failover can lose acknowledged
//! writes, bounded only by `min-replicas-to-write` / `min-replicas-max-lag`.
//!
//! Inside Docker a replica must announce the address it is reached at (`replica-announce-ip`,
//! computed at start from its own interface, as keepalived's script does): what it would
//! announce otherwise is what its master sees, which the Sentinels then hand to clients. A
//! node starting asks the Sentinels who the master is and follows it (as deployments' start
//! scripts do): an old master coming back must not come back a master nobody watches. With
//! none answering (the first bring-up), redis1 is the master. A master named at the address
//! the node had before a restart is the node itself (a restarted container may get another
//! address; the Sentinels then know it by the old one until they fail over).
//!
//! The role source is the server itself: `ROLE` (master or replica, the replication offset,
//! the link to its master) and, on a master, the replicas it feeds.

use super::super::kind::{Kind, Naming, Render, RoleReport};
use super::super::{Cluster, Disk, FileSpec, Health, Node, NodeSpec, Serves};
use super::sentinel::{self, MASTER_NAME};
use crate::client::Protocol;
use crate::client::redis::{parse_role, session, text};
use crate::history::Role;
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

pub const NAME: &str = "redis";
const NAMING: Naming = Naming::Numbered("redis");
pub const PORT: u16 = 6379;
const START_PATH: &str = "/etc/firedrill/redis-start";
const CONF_PATH: &str = "/run/firedrill-redis.conf";
const DATA: &str = "/data";
/// The node's address at its last start, on its disk: a master the Sentinels name at it is
/// this node, come back at another address.
const ADDRESS_PATH: &str = "/data/firedrill-address";

/// `[topology.redis]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedisSettings {
    /// Number of servers (2..=9): redis1 the first master, the others its replicas.
    pub nodes: usize,
    /// A master refuses writes unless this many replicas are connected with a lag of at most
    /// `min_replicas_max_lag` (0: never refuses).
    pub min_replicas_to_write: u32,
    /// Whole seconds.
    #[serde(with = "humantime_serde")]
    pub min_replicas_max_lag: Duration,
    /// The append-only file: writes kept across a restart (else a restarted server is empty).
    pub appendonly: bool,
    /// `always`, `everysec` or `no`.
    pub appendfsync: String,
}

impl Settings for RedisSettings {
    const KIND: &'static str = NAME;
}

/// The settings of `topology`'s Redis servers, if it has any.
pub fn settings(topology: &Topology) -> Option<&RedisSettings> {
    topology.settings::<RedisSettings>()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawRedis {
    nodes: Option<Spanned<i64>>,
    min_replicas_to_write: Option<Spanned<i64>>,
    min_replicas_max_lag: Option<Spanned<RawDuration>>,
    appendonly: Option<Spanned<bool>>,
    appendfsync: Option<Spanned<String>>,
}

/// Redis's own defaults, but three servers.
fn check(input: &SettingsInput<'_>, raw: &RawRedis) -> Result<RedisSettings, SettingsError> {
    let nodes = input.count(
        raw.nodes.as_ref(),
        "nodes",
        (3, 2, 9),
        "Sentinel needs a replica to promote",
    )? as usize;
    let min_replicas_to_write = input.int(
        raw.min_replicas_to_write.as_ref(),
        "min_replicas_to_write",
        (0, 0, nodes as i64 - 1),
    )? as u32;
    let second = Duration::from_secs(1);
    let lag = input.duration(
        raw.min_replicas_max_lag.as_ref(),
        "min_replicas_max_lag",
        Duration::from_secs(10),
        second,
    )?;
    if let Some(value) = &raw.min_replicas_max_lag
        && lag.subsec_nanos() != 0
    {
        return Err(input.invalid(
            value.span(),
            "min_replicas_max_lag",
            format!(
                "expected whole seconds, Redis takes integers, found {:?}",
                value.get_ref().0
            ),
        ));
    }
    let appendfsync = input.choice(
        raw.appendfsync.as_ref(),
        "appendfsync",
        "everysec",
        &[("always", "always"), ("everysec", "everysec"), ("no", "no")],
        "appendfsync policy",
    )?;
    Ok(RedisSettings {
        nodes,
        min_replicas_to_write,
        min_replicas_max_lag: lag,
        appendonly: raw.appendonly.as_ref().is_some_and(|a| *a.get_ref()),
        appendfsync: appendfsync.to_owned(),
    })
}

pub fn name(i: usize) -> String {
    NAMING.name(i)
}

/// The first master.
pub fn first() -> String {
    name(1)
}

/// The Redis server kind.
pub struct Redis;

impl Kind for Redis {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// Always there in the stack that runs it: three servers when the table is absent.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        let raw = input.table::<RawRedis>()?.unwrap_or_default();
        Ok(Some(Box::new(check(input, &raw)?)))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<RedisSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |s| s.nodes)
    }

    fn count_setting(&self) -> &'static str {
        "topology.redis.nodes"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let s = settings(topology)?;
        let bound = match s.min_replicas_to_write {
            0 => "no min-replicas-to-write".to_owned(),
            n => format!(
                "min-replicas-to-write {n}, min-replicas-max-lag {}",
                humantime::format_duration(s.min_replicas_max_lag)
            ),
        };
        let persistence = if s.appendonly {
            format!("appendonly, appendfsync {}", s.appendfsync)
        } else {
            "no persistence".to_owned()
        };
        Some(format!(
            "{} Redis (redis1 master, asynchronous replication, {bound}, {persistence})",
            s.nodes
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["redis-server", "redis-tools"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("redis", &["redis-server", "--version"])]
    }

    fn has_disk(&self) -> bool {
        true
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let Some(settings) = settings(render.topology) else {
            return Vec::new();
        };
        let sentinels = sentinel::names(render.topology);
        (1..=settings.nodes)
            .map(|i| {
                let me = name(i);
                NodeSpec {
                    name: me.clone(),
                    kind: super::REDIS,
                    image: None,
                    cmd: vec![START_PATH.into()],
                    user: None,
                    files: vec![FileSpec {
                        path: START_PATH.into(),
                        contents: start_script(&me, settings, &sentinels),
                        mode: 0o755,
                    }],
                    ports: vec![PORT],
                    fixed_ports: vec![],
                    cap_add: vec!["NET_ADMIN".into()],
                    disks: vec![Disk {
                        path: DATA.into(),
                        size: 256 << 20,
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
                }
            })
            .collect()
    }

    fn serves(&self) -> Option<Serves> {
        Some(Serves {
            protocol: Protocol::Redis,
            port: PORT,
            replicas: None,
            tier: None,
        })
    }

    /// The server itself: `ROLE`, and on a master the replicas online in `INFO replication`.
    fn self_report<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<RoleReport, String>>> {
        Some(Box::pin(async move {
            let ask = async {
                let port = node.ports.get(&PORT).copied().ok_or("no published port")?;
                let mut redis = session("127.0.0.1", port, timeout).await?;
                let answer: Vec<redis::Value> = redis::cmd("ROLE")
                    .query_async(&mut redis)
                    .await
                    .map_err(|e| text(&e))?;
                let (master, offset) = parse_role(&answer);
                let link = link_state(&answer);
                let mut streaming = Vec::new();
                if master {
                    let info: String = redis::cmd("INFO")
                        .arg("replication")
                        .query_async(&mut redis)
                        .await
                        .map_err(|e| text(&e))?;
                    for ip in online_replicas(&info) {
                        streaming.push(cluster.name_at(&ip, super::REDIS).await.unwrap_or(ip));
                    }
                    streaming.sort();
                }
                Ok(RoleReport {
                    role: if master { Role::Leader } else { Role::Replica },
                    // a replica serves once its link to the master is up
                    state: match link.as_deref() {
                        None | Some("connected") => "running".into(),
                        Some(other) => other.to_owned(),
                    },
                    epoch: None,
                    position: offset,
                    replayed: None,
                    streaming,
                })
            };
            tokio::time::timeout(timeout * 2, ask)
                .await
                .unwrap_or_else(|_| Err("timeout".into()))
        }))
    }
}

/// A replica's link to its master in a `ROLE` answer (`connect`, `connecting`, `sync`,
/// `connected`); `None` on a master.
fn link_state(answer: &[redis::Value]) -> Option<String> {
    match answer.get(3)? {
        redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// The addresses of the replicas `INFO replication` lists online
/// (`slave0:ip=172.18.0.3,port=6379,state=online,offset=…,lag=0`).
fn online_replicas(info: &str) -> Vec<String> {
    info.lines()
        .filter(|l| l.starts_with("slave") && l.contains(':'))
        .filter_map(|l| {
            let fields = l.split_once(':')?.1;
            let field = |name: &str| {
                fields
                    .split(',')
                    .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            };
            (field("state") == Some("online")).then(|| field("ip").map(str::to_owned))?
        })
        .collect()
}

/// Renders the configuration and starts the server: its own address announced, the master
/// the Sentinels name followed (none answering: redis1 leads, the others follow it).
fn start_script(me: &str, settings: &RedisSettings, sentinels: &[String]) -> String {
    let persistence = if settings.appendonly {
        format!("appendonly yes\nappendfsync {}\n", settings.appendfsync)
    } else {
        "appendonly no\n".to_owned()
    };
    format!(
        "#!/bin/sh\n\
         # firedrill: Redis on {me}\n\
         set -u\n\
         mine=$(ip -4 -o addr show dev eth0 scope global | awk 'NR == 1 {{ print $4 }}')\n\
         mine=${{mine%/*}}\n\
         last=$(cat {ADDRESS_PATH} 2> /dev/null)\n\
         echo \"$mine\" > {ADDRESS_PATH}\n\
         master=\n\
         for s in {sentinels}; do\n  \
         a=$(timeout 2 redis-cli -h \"$s\" -p {sentinel_port} --raw sentinel get-master-addr-by-name {MASTER_NAME} 2> /dev/null | head -n 1)\n  \
         case \"$a\" in *.*.*.*) master=$a; break ;; esac\n\
         done\n\
         if [ -z \"$master\" ]; then\n  \
         [ {me} = {first} ] || master={first}\n\
         elif [ \"$master\" = \"$mine\" ] || [ \"$master\" = \"$last\" ]; then\n  \
         master=\n\
         fi\n\
         cat > {CONF_PATH} << EOF\n\
         port {PORT}\n\
         bind * -::*\n\
         protected-mode no\n\
         dir {DATA}\n\
         proc-title-template \"firedrill:{me} {{title}} {{listen-addr}} {{server-mode}}\"\n\
         replica-announce-ip $mine\n\
         save \"\"\n\
         {persistence}\
         min-replicas-to-write {min}\n\
         min-replicas-max-lag {lag}\n\
         EOF\n\
         [ -n \"$master\" ] && echo \"replicaof $master {PORT}\" >> {CONF_PATH}\n\
         exec redis-server {CONF_PATH}\n",
        sentinels = sentinels.join(" "),
        sentinel_port = sentinel::PORT,
        first = first(),
        min = settings.min_replicas_to_write,
        lag = settings.min_replicas_max_lag.as_secs(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_online_replicas_count_as_streaming() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
                    slave0:ip=172.18.0.3,port=6379,state=online,offset=1234,lag=0\r\n\
                    slave1:ip=172.18.0.4,port=6379,state=wait_bgsave,offset=0,lag=0\r\n\
                    master_failover_state:no-failover\r\n";
        assert_eq!(online_replicas(info), ["172.18.0.3"]);
    }

    #[test]
    fn a_replica_s_link_state_is_the_fourth_field_of_role() {
        let bulk = |s: &str| redis::Value::BulkString(s.as_bytes().to_vec());
        let replica = [
            bulk("slave"),
            bulk("172.18.0.2"),
            redis::Value::Int(6379),
            bulk("connecting"),
            redis::Value::Int(-1),
        ];
        assert_eq!(link_state(&replica).as_deref(), Some("connecting"));
        let master = [
            bulk("master"),
            redis::Value::Int(10),
            redis::Value::Array(vec![]),
        ];
        assert_eq!(link_state(&master), None);
    }

    #[test]
    fn a_node_follows_the_master_the_sentinels_name_and_names_itself() {
        let settings = RedisSettings {
            nodes: 3,
            min_replicas_to_write: 1,
            min_replicas_max_lag: Duration::from_secs(10),
            appendonly: false,
            appendfsync: "everysec".into(),
        };
        let script = start_script(
            "redis2",
            &settings,
            &["sentinel1".into(), "sentinel2".into()],
        );
        assert!(
            script.contains("for s in sentinel1 sentinel2; do"),
            "{script}"
        );
        assert!(
            script.contains("sentinel get-master-addr-by-name firedrill"),
            "{script}"
        );
        assert!(
            script.contains("[ redis2 = redis1 ] || master=redis1"),
            "{script}"
        );
        assert!(
            script.contains("proc-title-template \"firedrill:redis2 "),
            "{script}"
        );
        assert!(script.contains("replica-announce-ip $mine"), "{script}");
        assert!(script.contains("min-replicas-to-write 1\nmin-replicas-max-lag 10\n"));
        assert!(script.contains("appendonly no\n"), "{script}");
    }
}
