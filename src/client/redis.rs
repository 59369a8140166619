//! The Redis client, as a Sentinel-aware client works (Redis's guidelines for Sentinel
//! clients): ask the Sentinels in turn for the master's address (`SENTINEL
//! get-master-addr-by-name`), connect there, and check with `ROLE` that it is a master before
//! using it; a connection that fails is dropped, and the next one asks again. A connection
//! kept open keeps writing to the node it reached, as real clients' pooled connections do:
//! that is how an old master cut off from the Sentinels goes on acknowledging writes.
//!
//! Each write adds its sequence number to one set (`SADD`), a single command: an error reply
//! means it was not applied (`READONLY` on a replica, `NOREPLICAS` under
//! `min-replicas-to-write`); a broken connection after it was sent leaves it unknown. Each
//! server tells its own node name in its process title template, set by firedrill's
//! configuration (`firedrill:redis2 …`), as PostgreSQL tells `firedrill.node`.

use super::{
    Accepted, Client, Connection, Discovery, Endpoint, Failure, Protocol, Seen, Stored,
    connect_error_kind, error_chain,
};
use crate::history::ErrorKind;
use futures_util::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError, Value};
use std::time::Duration;

/// The set every write goes to.
pub const KEY: &str = "firedrill:writes";
/// The configuration parameter whose value begins with the node's name.
pub const NAME_PARAMETER: &str = "proc-title-template";
/// What precedes the node's name in it.
pub const NAME_PREFIX: &str = "firedrill:";

/// Speaks RESP to Redis servers, and to Sentinels for discovery.
#[derive(Clone, Copy, Debug, Default)]
pub struct Redis;

/// One connection to one server, and that server's node name.
struct Open {
    connection: MultiplexedConnection,
    node: String,
}

impl Client for Redis {
    fn protocol(&self) -> Protocol {
        Protocol::Redis
    }

    fn schema(&self) -> String {
        format!("set {KEY}")
    }

    /// Nothing to create (the first `SADD` creates the set): reaches the master.
    fn prepare<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { connect(endpoint).await.map(|_| ()).map_err(|f| f.text) })
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Connection>, Failure>> {
        Box::pin(async move { Ok(Box::new(connect(endpoint).await?) as Box<dyn Connection>) })
    }

    fn read_back<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<Stored, String>> {
        Box::pin(async move {
            let mut open = open(&endpoint.host, endpoint.port, endpoint)
                .await
                .map_err(|f| f.text)?;
            let (master, _) = role(&mut open.connection).await.map_err(|e| text(&e))?;
            if !master {
                return Err(format!("{} answers as a replica", open.node));
            }
            let mut present: Vec<u64> = redis::cmd("SMEMBERS")
                .arg(KEY)
                .query_async(&mut open.connection)
                .await
                .map_err(|e| text(&e))?;
            present.sort_unstable();
            Ok(Stored {
                node: open.node,
                present,
            })
        })
    }
}

/// A connection to the master the Sentinels name (checked with `ROLE`), or straight to
/// `endpoint` when it names no Sentinels (a given node, replica or not).
async fn connect(endpoint: &Endpoint) -> Result<Open, Failure> {
    let Some(discovery) = &endpoint.discovery else {
        return open(&endpoint.host, endpoint.port, endpoint).await;
    };
    let (host, port) = discover(discovery, endpoint).await?;
    let mut open = open(&host, port, endpoint).await?;
    match role(&mut open.connection).await {
        Ok((true, _)) => Ok(open),
        Ok((false, _)) => Err(Failure::new(
            ErrorKind::ReadOnly,
            format!(
                "connect: {} at {host}:{port}, named master by the sentinels, answers as a \
                 replica",
                open.node
            ),
        )),
        Err(e) => Err(Failure::new(
            ErrorKind::ConnectFailed,
            format!("connect: {}", text(&e)),
        )),
    }
}

/// The master's address, from the first Sentinel to name one: all are asked at once, so that
/// one that hangs (paused, cut off) costs no more than its own answer.
async fn discover(discovery: &Discovery, endpoint: &Endpoint) -> Result<(String, u16), Failure> {
    let asks = discovery.arbiters.iter().map(|(host, port)| {
        Box::pin(async move {
            let asked = async {
                let mut sentinel = connection(host, *port, endpoint.connect_timeout, None).await?;
                redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(&discovery.service)
                    .query_async::<Option<(String, u16)>>(&mut sentinel)
                    .await
            };
            match tokio::time::timeout(endpoint.connect_timeout, asked).await {
                Ok(Ok(Some(address))) => Ok(address),
                Ok(Ok(None)) => Err(format!(
                    "{host}:{port} watches no master {:?}",
                    discovery.service
                )),
                Ok(Err(e)) => Err(format!("{host}:{port}: {}", text(&e))),
                Err(_) => Err(format!("{host}:{port}: no answer")),
            }
        })
    });
    let mut pending: Vec<_> = asks.collect();
    let mut errors = Vec::new();
    while !pending.is_empty() {
        let (answer, _, rest) = futures_util::future::select_all(pending).await;
        match answer {
            Ok(address) => return Ok(address),
            Err(e) => errors.push(e),
        }
        pending = rest;
    }
    Err(Failure::new(
        ErrorKind::ConnectFailed,
        format!(
            "connect: no sentinel named the master: {}",
            errors.join("; ")
        ),
    ))
}

/// A connection of the harness's own (a role probe, readiness) to a Redis server or Sentinel
/// at `host:port`, bounded by `timeout`.
pub async fn session(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<MultiplexedConnection, String> {
    connection(host, port, timeout, Some(timeout))
        .await
        .map_err(|e| text(&e))
}

/// A connection to the server at `host:port`, and its node name.
async fn open(host: &str, port: u16, endpoint: &Endpoint) -> Result<Open, Failure> {
    let connect_failure = |e: RedisError| {
        Failure::new(
            connect_error_kind(&e),
            format!("connect: {host}:{port}: {}", text(&e)),
        )
    };
    let mut connection = connection(host, port, endpoint.connect_timeout, None)
        .await
        .map_err(connect_failure)?;
    let (_, value): (String, String) = redis::cmd("CONFIG")
        .arg("GET")
        .arg(NAME_PARAMETER)
        .query_async(&mut connection)
        .await
        .map_err(connect_failure)?;
    let node = node_name(&value).ok_or_else(|| {
        Failure::new(
            ErrorKind::ConnectFailed,
            format!("connect: {host}:{port} does not name its node ({NAME_PARAMETER} {value:?})"),
        )
    })?;
    Ok(Open { connection, node })
}

/// A multiplexed connection to `host:port`: its opening bounded by `connect`, each answer by
/// `respond` (`None` for the workload's connections: the workload bounds each operation).
async fn connection(
    host: &str,
    port: u16,
    connect: Duration,
    respond: Option<Duration>,
) -> Result<MultiplexedConnection, RedisError> {
    let client = redis::Client::open(format!("redis://{host}:{port}/"))?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect))
        .set_response_timeout(respond);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// The node name in a process title template (`firedrill:redis2 {title}`).
pub fn node_name(template: &str) -> Option<String> {
    let name = template
        .strip_prefix(NAME_PREFIX)?
        .split_whitespace()
        .next()?;
    Some(name.to_owned())
}

/// `ROLE`: whether the server is a master, and its replication offset (a master's own, a
/// replica's as processed from its master).
async fn role(connection: &mut MultiplexedConnection) -> Result<(bool, Option<u64>), RedisError> {
    let answer: Vec<Value> = redis::cmd("ROLE").query_async(connection).await?;
    Ok(parse_role(&answer))
}

pub fn parse_role(answer: &[Value]) -> (bool, Option<u64>) {
    let word = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let number = |v: &Value| match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    };
    match answer.first().and_then(word).as_deref() {
        Some("master") => (true, answer.get(1).and_then(number)),
        // slave <master ip> <master port> <state> <offset>
        _ => (false, answer.get(4).and_then(number)),
    }
}

/// An error in the server's words (`READONLY You can't write against a read only replica.`),
/// or the connection's.
pub fn text(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        _ => error_chain(e),
    }
}

/// The outcome rule: an error reply means the command was not applied (a replica's
/// `READONLY`, `NOREPLICAS`, a server still loading: Redis refuses before it runs a command);
/// anything else once it was sent (the connection broken or closed, a timeout, an answer the
/// client could not read) leaves it unknown.
fn sent_failure(e: &RedisError) -> Failure {
    let kind = match e.code() {
        Some("READONLY") => ErrorKind::ReadOnly,
        Some(_) => ErrorKind::ServerError,
        None => ErrorKind::ConnectionLost,
    };
    Failure::new(kind, text(e))
}

impl Connection for Open {
    fn write(&mut self, seq: u64) -> BoxFuture<'_, Result<Accepted, Failure>> {
        Box::pin(async move {
            redis::cmd("SADD")
                .arg(KEY)
                .arg(seq)
                .query_async::<i64>(&mut self.connection)
                .await
                .map_err(|e| sent_failure(&e))?;
            Ok(Accepted {
                node: self.node.clone(),
                epoch: None,
                via: None,
                status: None,
            })
        })
    }

    fn read_latest(&mut self, expected: Option<u64>) -> BoxFuture<'_, Result<Seen, Failure>> {
        Box::pin(async move {
            let (master, _) = role(&mut self.connection)
                .await
                .map_err(|e| sent_failure(&e))?;
            let visible = match expected {
                Some(seq) => redis::cmd("SISMEMBER")
                    .arg(KEY)
                    .arg(seq)
                    .query_async::<bool>(&mut self.connection)
                    .await
                    .map_err(|e| sent_failure(&e))?,
                None => false,
            };
            Ok(Seen {
                node: self.node.clone(),
                replica: !master,
                visible,
                cache: None,
                age: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_name_is_the_first_word_after_the_prefix() {
        assert_eq!(
            node_name("firedrill:redis2 {title} {listen-addr}"),
            Some("redis2".into())
        );
        assert_eq!(node_name("firedrill:redis1"), Some("redis1".into()));
        assert_eq!(node_name("{title} {listen-addr} {server-mode}"), None);
        assert_eq!(node_name("firedrill: {title}"), Some("{title}".into()));
    }

    #[test]
    fn role_answers_say_master_or_replica_and_the_offset() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        assert_eq!(
            parse_role(&[bulk("master"), Value::Int(3129), Value::Array(vec![])]),
            (true, Some(3129))
        );
        assert_eq!(
            parse_role(&[
                bulk("slave"),
                bulk("172.18.0.2"),
                Value::Int(6379),
                bulk("connected"),
                Value::Int(3167)
            ]),
            (false, Some(3167))
        );
        assert_eq!(parse_role(&[bulk("sentinel")]), (false, None));
    }

    #[test]
    fn error_replies_were_not_applied_and_a_lost_connection_is_unknown() {
        use crate::history::Outcome;
        let reply = |wire: &str| match redis::parse_redis_value(wire.as_bytes()).unwrap() {
            Value::ServerError(e) => sent_failure(&RedisError::from(e)),
            other => panic!("not an error reply: {other:?}"),
        };
        let readonly = reply("-READONLY You can't write against a read only replica.\r\n");
        assert_eq!(readonly.kind, ErrorKind::ReadOnly);
        assert_eq!(
            readonly.text,
            "READONLY You can't write against a read only replica."
        );
        let noreplicas = reply("-NOREPLICAS Not enough good replicas to write.\r\n");
        assert_eq!(
            (noreplicas.kind, noreplicas.text.as_str()),
            (
                ErrorKind::ServerError,
                "NOREPLICAS Not enough good replicas to write."
            )
        );
        assert_eq!(noreplicas.kind.outcome(), Outcome::Fail);
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(sent_failure(&io).kind, ErrorKind::ConnectionLost);
        assert_eq!(ErrorKind::ConnectionLost.outcome(), Outcome::Unknown);
    }
}
