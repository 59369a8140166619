//! pgBouncer beside each PostgreSQL node (`pgbouncer1` pools connections to `pg1`...), as the
//! runbook runs it: port 6432, transaction pooling, HAProxy routing clients to the leader's
//! pooler by Patroni's health check. Its admin console is probed for pool use (`SHOW POOLS`,
//! `SHOW DATABASES`) and where its server connections point (`SHOW SERVERS`).

use super::super::kind::{Kind, Naming, Render};
use super::super::{Cluster, FileSpec, Node, NodeSpec, Secrets, Serves};
use super::patroni;
use crate::client::Protocol;
use crate::history::{Clock, Event, PoolSample, PoolStat, ServerConnection};
use crate::scenario::{Pgbouncer as Settings, Topology};
use futures_util::future::BoxFuture;
use md5::{Digest, Md5};
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;

/// The pgBouncer kind.
pub struct Pgbouncer;

pub const PORT: u16 = 6432;
const NAMING: Naming = Naming::Numbered("pgbouncer");
const CONFIG_PATH: &str = "/etc/firedrill/pgbouncer.ini";
const USERS_PATH: &str = "/etc/firedrill/pgbouncer-users.txt";
/// The database the workload uses, whose pools are sampled.
const DATABASE: &str = "postgres";
/// How long one sample of the admin console may take.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(1);

impl Kind for Pgbouncer {
    fn name(&self) -> &'static str {
        "pgbouncer"
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// One beside each PostgreSQL node, when the topology has a `[topology.pgbouncer]` table.
    fn count(&self, topology: &Topology) -> usize {
        topology
            .pgbouncer
            .as_ref()
            .map_or(0, |_| topology.patroni.nodes)
    }

    fn count_setting(&self) -> &'static str {
        "topology.patroni.nodes"
    }

    fn packages(&self) -> &'static [&'static str] {
        &["pgbouncer"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("pgbouncer", &["pgbouncer", "--version"])]
    }

    fn has_disk(&self) -> bool {
        false
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let Some(settings) = &render.topology.pgbouncer else {
            return Vec::new();
        };
        (1..=render.topology.patroni.nodes)
            .map(|i| NodeSpec {
                name: name(i),
                kind: super::PGBOUNCER,
                cmd: vec!["pgbouncer".into(), CONFIG_PATH.into()],
                // pgBouncer refuses to run as root.
                user: Some("postgres".into()),
                files: vec![
                    FileSpec {
                        path: CONFIG_PATH.into(),
                        contents: render_config(&patroni::name(i), settings),
                        mode: 0o644,
                    },
                    FileSpec {
                        path: USERS_PATH.into(),
                        contents: users(render.secrets),
                        mode: 0o644,
                    },
                ],
                ports: vec![PORT],
                fixed_ports: vec![],
                cap_add: vec!["NET_ADMIN".into()],
                disks: vec![],
            })
            .collect()
    }

    fn serves(&self) -> Option<Serves> {
        Some(Serves {
            protocol: Protocol::Postgres,
            port: PORT,
            replicas: None,
        })
    }

    fn sample<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        clock: Clock,
    ) -> Option<BoxFuture<'a, Event>> {
        Some(Box::pin(async move {
            let sent = clock.now();
            let answer = tokio::time::timeout(SAMPLE_TIMEOUT, admin_figures(cluster, node))
                .await
                .unwrap_or_else(|_| Err("no answer within 1s".into()));
            let received = clock.now();
            let server = server_of(&node.name).unwrap_or_default();
            let sample = match answer {
                Ok((pool_size, pools, servers)) => PoolSample {
                    pooler: node.name.clone(),
                    server,
                    sent,
                    received,
                    pool_size,
                    pools,
                    servers,
                    error: None,
                },
                Err(error) => PoolSample {
                    pooler: node.name.clone(),
                    server,
                    sent,
                    received,
                    pool_size: 0,
                    pools: Vec::new(),
                    servers: Vec::new(),
                    error: Some(error),
                },
            };
            Event::Pool(sample)
        }))
    }
}

pub fn name(i: usize) -> String {
    NAMING.name(i)
}

/// The PostgreSQL node a pooler sends its server connections to: `pgbouncer2` → `pg2`.
pub fn server_of(pooler: &str) -> Option<String> {
    NAMING.index(pooler).map(patroni::name)
}

/// pgbouncer.ini for the pooler in front of `server`. Durations are seconds, fractions
/// allowed. Logs go to stderr (no `logfile`), the unix socket is off, and the startup
/// parameter `extra_float_digits` that drivers send is let through unpooled.
pub fn render_config(server: &str, settings: &Settings) -> String {
    let secs = |d: Duration| format!("{}", d.as_secs_f64());
    format!(
        "[databases]\n\
         * = host={server} port={pg_port}\n\n\
         [pgbouncer]\n\
         listen_addr = *\n\
         listen_port = {PORT}\n\
         unix_socket_dir =\n\
         auth_type = md5\n\
         auth_file = {USERS_PATH}\n\
         admin_users = postgres\n\
         pool_mode = {pool_mode}\n\
         default_pool_size = {pool_size}\n\
         min_pool_size = {min_pool_size}\n\
         max_client_conn = {max_client_conn}\n\
         server_login_retry = {login_retry}\n\
         query_wait_timeout = {query_wait}\n\
         server_check_delay = {check_delay}\n\
         server_check_query = select 1\n\
         ignore_startup_parameters = extra_float_digits\n",
        pg_port = patroni::PG_PORT,
        pool_mode = settings.pool_mode.name(),
        pool_size = settings.default_pool_size,
        min_pool_size = settings.min_pool_size,
        max_client_conn = settings.max_client_conn,
        login_retry = secs(settings.server_login_retry),
        query_wait = secs(settings.query_wait_timeout),
        check_delay = secs(settings.server_check_delay),
    )
}

/// The auth file: the superuser with PostgreSQL's md5 form of its password (`md5` followed by
/// md5(password + user)), which pgBouncer both checks clients against and logs into the server
/// with; the password itself is never written.
fn users(secrets: &Secrets) -> String {
    let hash = Md5::digest(format!("{}postgres", secrets.superuser));
    format!("\"postgres\" \"md5{}\"\n", hex::encode(hash))
}

/// A session on the pooler's admin console (the `pgbouncer` database), each step bounded by
/// `timeout`.
async fn admin_session(
    cluster: &Cluster,
    node: &Node,
    timeout: Duration,
) -> Result<tokio_postgres::Client, String> {
    let mut endpoint = cluster
        .endpoint_at(node, PORT, timeout)
        .map_err(|e| e.to_string())?;
    endpoint.dbname = "pgbouncer".into();
    crate::client::pg_session(&endpoint)
        .await
        .map_err(|e| super::super::pg_error_text(&e))
}

/// Runs an admin command (`PAUSE`, `RESUME`, `RECONNECT`...) on the pooler's console; returns
/// when pgBouncer has done it (`PAUSE` waits for the queries in flight to finish), or fails
/// after `within` saying it did not (a query stuck on a frozen server holds `PAUSE` forever).
pub async fn admin(
    cluster: &Cluster,
    node: &Node,
    command: &str,
    within: Duration,
) -> Result<(), String> {
    let run = async {
        let client = admin_session(cluster, node, Duration::from_secs(2)).await?;
        client
            .simple_query(command)
            .await
            .map(|_| ())
            .map_err(|e| super::super::pg_error_text(&e))
    };
    tokio::time::timeout(within, run).await.unwrap_or_else(|_| {
        Err(format!(
            "{command} not done within {}",
            humantime::format_duration(within)
        ))
    })
}

/// The pool size, the workload database's pools and its server connections, from the admin
/// console (simple queries only: it speaks no other protocol).
async fn admin_figures(
    cluster: &Cluster,
    node: &Node,
) -> Result<(u64, Vec<PoolStat>, Vec<ServerConnection>), String> {
    let client = admin_session(cluster, node, SAMPLE_TIMEOUT).await?;
    let show = |what: &'static str| {
        let client = &client;
        async move {
            client
                .simple_query(&format!("SHOW {what}"))
                .await
                .map_err(|e| super::super::pg_error_text(&e))
        }
    };
    let (databases, pools, servers) =
        tokio::try_join!(show("DATABASES"), show("POOLS"), show("SERVERS"))?;
    // The workload's database has no pool, and no entry, until its first client: no size then.
    let pool_size = match rows(&databases).find(|r| text(r, "name").ok() == Some(DATABASE)) {
        Some(row) => number(row, "pool_size")?,
        None => 0,
    };
    let mut pool_stats = Vec::new();
    for r in rows(&pools).filter(|r| text(r, "database").ok() == Some(DATABASE)) {
        pool_stats.push(PoolStat {
            database: DATABASE.into(),
            user: text(r, "user")?.to_owned(),
            cl_active: number(r, "cl_active")?,
            cl_waiting: number(r, "cl_waiting")?,
            sv_active: number(r, "sv_active")?,
            sv_idle: number(r, "sv_idle")?,
            sv_used: number(r, "sv_used")?,
            sv_tested: number(r, "sv_tested")?,
            sv_login: number(r, "sv_login")?,
            maxwait_us: number(r, "maxwait")? * 1_000_000 + number(r, "maxwait_us")?,
        });
    }
    let mut connections = Vec::new();
    for r in rows(&servers).filter(|r| text(r, "database").ok() == Some(DATABASE)) {
        connections.push(ServerConnection {
            database: DATABASE.into(),
            state: text(r, "state")?.to_owned(),
            addr: text(r, "addr")?.to_owned(),
            port: number(r, "port")?.try_into().unwrap_or(0),
        });
    }
    Ok((pool_size, pool_stats, connections))
}

/// A column of an admin console row; its absence (another pgBouncer's columns) fails the
/// sample rather than read as zero.
fn text<'r>(row: &'r tokio_postgres::SimpleQueryRow, column: &str) -> Result<&'r str, String> {
    match row.try_get(column) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(format!("pgbouncer answered no {column}")),
        Err(_) => Err(format!("pgbouncer's answer has no column {column}")),
    }
}

/// A numeric column of an admin console row.
fn number(row: &tokio_postgres::SimpleQueryRow, column: &str) -> Result<u64, String> {
    let value = text(row, column)?;
    value
        .parse()
        .map_err(|_| format!("pgbouncer's {column} is not a count: {value:?}"))
}

/// The data rows of a simple query's answer.
fn rows(messages: &[SimpleQueryMessage]) -> impl Iterator<Item = &tokio_postgres::SimpleQueryRow> {
    messages.iter().filter_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::PoolMode;

    fn settings() -> Settings {
        Settings {
            pool_mode: PoolMode::Transaction,
            default_pool_size: 4,
            min_pool_size: 2,
            max_client_conn: 100,
            server_login_retry: Duration::from_millis(1500),
            query_wait_timeout: Duration::from_secs(120),
            server_check_delay: Duration::from_secs(30),
        }
    }

    #[test]
    fn each_pooler_fronts_its_own_node_with_the_scenario_settings() {
        let text = render_config("pg2", &settings());
        assert!(text.contains("* = host=pg2 port=5432\n"), "{text}");
        for line in [
            "listen_port = 6432",
            "pool_mode = transaction",
            "default_pool_size = 4",
            "min_pool_size = 2",
            "max_client_conn = 100",
            "server_login_retry = 1.5",
            "query_wait_timeout = 120",
            "server_check_delay = 30",
            "auth_type = md5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert_eq!(server_of("pgbouncer2").as_deref(), Some("pg2"));
        assert_eq!(server_of("pg2"), None);
    }

    #[test]
    fn the_auth_file_holds_the_md5_form_never_the_password() {
        let secrets = Secrets::generate();
        let text = users(&secrets);
        assert!(!text.contains(&secrets.superuser));
        // PostgreSQL's md5 form: "md5" + 32 hex digits.
        let hash = text
            .trim()
            .trim_start_matches("\"postgres\" \"md5")
            .trim_end_matches('"');
        assert_eq!(hash.len(), 32, "{text}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        // known value: md5("secretpostgres")
        let known = Secrets {
            superuser: "secret".into(),
            replication: String::new(),
            rewind: String::new(),
        };
        assert_eq!(
            users(&known),
            "\"postgres\" \"md553f48b7c4b76a86ce72276c5755f217d\"\n"
        );
    }
}
