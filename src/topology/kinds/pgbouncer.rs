//! pgBouncer beside each PostgreSQL node (`pgbouncer1` pools connections to `pg1`...), as the
//! runbook runs it: port 6432, transaction pooling, HAProxy routing clients to the leader's
//! pooler by Patroni's health check. Its admin console is probed for pool use (`SHOW POOLS`,
//! `SHOW DATABASES`) and where its server connections point (`SHOW SERVERS`).

use super::super::kind::{Kind, Naming, Render};
use super::super::{
    Cluster, FileSpec, Health, Node, NodeSpec, Secret, SecretEnv, Secrets, SecretsAt, Serves,
};
use super::patroni;
use crate::client::Protocol;
use crate::history::{Clock, Event, PoolSample, PoolStat, ServerConnection};
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use futures_util::future::BoxFuture;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;
use toml::Spanned;

/// pgBouncer's settings (pgBouncer 1.18, as Debian bookworm ships it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PgbouncerSettings {
    pub pool_mode: PoolMode,
    /// Server connections per database and user pair.
    pub default_pool_size: u32,
    /// Server connections the pooler keeps open even when idle (0: opened on demand).
    #[serde(default)]
    pub min_pool_size: u32,
    /// Client connections accepted in all.
    pub max_client_conn: u32,
    /// How long pgBouncer waits after a failed server login before trying again; new clients
    /// of that pool get errors meanwhile.
    #[serde(with = "humantime_serde")]
    pub server_login_retry: Duration,
    /// How long a client may wait for a server connection before it is disconnected.
    #[serde(with = "humantime_serde")]
    pub query_wait_timeout: Duration,
    /// How long an idle server connection is trusted before `server_check_query` runs again.
    #[serde(with = "humantime_serde")]
    pub server_check_delay: Duration,
}

/// When pgBouncer gives a server connection back to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    pub const ALL: &'static [PoolMode] = &[
        PoolMode::Session,
        PoolMode::Transaction,
        PoolMode::Statement,
    ];

    /// The name in scenario files and pgbouncer.ini.
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

impl Settings for PgbouncerSettings {
    const KIND: &'static str = "pgbouncer";
}

/// The settings of `topology`'s poolers, if it has any.
pub fn settings(topology: &Topology) -> Option<&PgbouncerSettings> {
    topology.settings::<PgbouncerSettings>()
}

/// `[topology.pgbouncer]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawPgbouncer {
    pool_mode: Option<Spanned<String>>,
    default_pool_size: Option<Spanned<i64>>,
    min_pool_size: Option<Spanned<i64>>,
    max_client_conn: Option<Spanned<i64>>,
    server_login_retry: Option<Spanned<RawDuration>>,
    query_wait_timeout: Option<Spanned<RawDuration>>,
    server_check_delay: Option<Spanned<RawDuration>>,
}

/// The defaults pgBouncer itself ships (pool size 20, login retry 15 s, query wait 120 s,
/// server check delay 30 s) and the runbook's transaction pooling.
fn check(
    input: &SettingsInput<'_>,
    raw: &RawPgbouncer,
) -> Result<PgbouncerSettings, SettingsError> {
    let modes: Vec<(&str, PoolMode)> = PoolMode::ALL.iter().map(|&m| (m.name(), m)).collect();
    let seconds = |value: Option<&Spanned<RawDuration>>, name: &str, default: u64| {
        input.duration(
            value,
            name,
            Duration::from_secs(default),
            Duration::from_millis(100),
        )
    };
    let settings = PgbouncerSettings {
        pool_mode: input.choice(
            raw.pool_mode.as_ref(),
            "pool_mode",
            PoolMode::Transaction,
            &modes,
            "pool mode",
        )?,
        default_pool_size: input.int(
            raw.default_pool_size.as_ref(),
            "default_pool_size",
            (20, 1, 1000),
        )? as u32,
        min_pool_size: input.int(raw.min_pool_size.as_ref(), "min_pool_size", (0, 0, 1000))? as u32,
        max_client_conn: input.int(
            raw.max_client_conn.as_ref(),
            "max_client_conn",
            (1000, 1, 10_000),
        )? as u32,
        server_login_retry: seconds(raw.server_login_retry.as_ref(), "server_login_retry", 15)?,
        query_wait_timeout: seconds(raw.query_wait_timeout.as_ref(), "query_wait_timeout", 120)?,
        server_check_delay: seconds(raw.server_check_delay.as_ref(), "server_check_delay", 30)?,
    };
    if let Some(min) = &raw.min_pool_size
        && settings.min_pool_size > settings.default_pool_size
    {
        return Err(input.invalid(
            min.span(),
            "min_pool_size",
            format!(
                "expected at most the pool size (default_pool_size = {}), found {}",
                settings.default_pool_size, settings.min_pool_size
            ),
        ));
    }
    Ok(settings)
}

/// The pgBouncer kind.
pub struct Pgbouncer;

pub const PORT: u16 = 6432;
const NAMING: Naming = Naming::Numbered("pgbouncer");
const CONFIG_PATH: &str = "/etc/firedrill/pgbouncer.ini";
const USERS_PATH: &str = "/etc/firedrill/pgbouncer-users.txt";
/// The auth file made from the environment at start, on the container's own /tmp (a tmpfs):
/// when the configuration files carry no secret.
const RUNTIME_USERS_PATH: &str = "/tmp/pgbouncer-users.txt";
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

    /// Optional: none without a `[topology.pgbouncer]` table.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        match input.table::<RawPgbouncer>()? {
            None => Ok(None),
            Some(raw) => Ok(Some(Box::new(check(input, &raw)?))),
        }
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<PgbouncerSettings>(value)
    }

    /// One beside each PostgreSQL node, when the topology has a `[topology.pgbouncer]` table.
    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |_| super::PATRONI.kind().count(topology))
    }

    fn count_setting(&self) -> &'static str {
        "topology.patroni.nodes"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let b = settings(topology)?;
        Some(format!(
            "{} pgBouncer ({} pooling, pool size {}, min_pool_size {}, server_login_retry {})",
            self.count(topology),
            b.pool_mode.name(),
            b.default_pool_size,
            b.min_pool_size,
            humantime::format_duration(b.server_login_retry),
        ))
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
        let Some(settings) = settings(render.topology) else {
            return Vec::new();
        };
        (1..=self.count(render.topology))
            .map(|i| {
                let config = |auth_file: &str| FileSpec {
                    path: CONFIG_PATH.into(),
                    contents: render_config(&patroni::name(i), settings, auth_file),
                    mode: 0o644,
                };
                // The auth file holds a password's md5 form: written beside the configuration
                // when files carry secrets, made from the environment at start otherwise.
                let (cmd, files, secret_env) = match render.secrets {
                    SecretsAt::Files(secrets) => (
                        vec!["pgbouncer".into(), CONFIG_PATH.into()],
                        vec![
                            config(USERS_PATH),
                            FileSpec {
                                path: USERS_PATH.into(),
                                contents: users(secrets),
                                mode: 0o644,
                            },
                        ],
                        vec![],
                    ),
                    SecretsAt::Env => (
                        vec!["sh".into(), "-c".into(), users_from_env_then_run()],
                        vec![config(RUNTIME_USERS_PATH)],
                        vec![SecretEnv {
                            var: Secret::Superuser.var(),
                            secret: Secret::Superuser,
                        }],
                    ),
                };
                NodeSpec {
                    name: name(i),
                    kind: super::PGBOUNCER,
                    image: None,
                    cmd,
                    // pgBouncer refuses to run as root.
                    user: Some("postgres".into()),
                    files,
                    ports: vec![PORT],
                    fixed_ports: vec![],
                    cap_add: vec!["NET_ADMIN".into()],
                    disks: vec![],
                    secret_env,
                    env: vec![],
                    health: Some(health()),
                }
            })
            .collect()
    }

    fn serves(&self) -> Option<Serves> {
        Some(Serves {
            protocol: Protocol::Postgres,
            port: PORT,
            replicas: None,
            tier: None,
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
pub fn render_config(server: &str, settings: &PgbouncerSettings, auth_file: &str) -> String {
    let secs = |d: Duration| format!("{}", d.as_secs_f64());
    format!(
        "[databases]\n\
         * = host={server} port={pg_port}\n\n\
         [pgbouncer]\n\
         listen_addr = *\n\
         listen_port = {PORT}\n\
         unix_socket_dir =\n\
         auth_type = md5\n\
         auth_file = {auth_file}\n\
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

/// The command that writes the auth file from the superuser's password in the environment,
/// then runs pgBouncer in the shell's place.
fn users_from_env_then_run() -> String {
    format!(
        "{} && exec pgbouncer {CONFIG_PATH}",
        write_users_from_env(RUNTIME_USERS_PATH)
    )
}

/// Shell that writes the auth file [`users`] renders to `path`, from the superuser's password
/// in the environment, readable by pgBouncer's user only.
fn write_users_from_env(path: &str) -> String {
    format!(
        "umask 077 && hash=$(printf '%s%s' \"${var}\" postgres | md5sum | cut -d ' ' -f 1) && \
         printf '\"postgres\" \"md5%s\"\\n' \"$hash\" > {path}",
        var = Secret::Superuser.var(),
    )
}

/// pgBouncer hands out a session on its node: `SELECT 1` through it, as the stack's readiness
/// asks from the harness, run inside the container with the superuser's password from the
/// environment.
fn health() -> Health {
    Health {
        command: format!(
            "PGPASSWORD=\"${var}\" PGCONNECT_TIMEOUT=2 psql -h 127.0.0.1 -p {PORT} -U postgres -d {DATABASE} -XtAc 'SELECT 1' > /dev/null",
            var = Secret::Superuser.var(),
        ),
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
        retries: 3,
        start_period: Duration::from_secs(60),
    }
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

    fn settings() -> PgbouncerSettings {
        PgbouncerSettings {
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
        let text = render_config("pg2", &settings(), USERS_PATH);
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
    fn the_auth_file_made_from_the_environment_is_the_one_rendered() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.txt");
        // a password with shell metacharacters is taken as it is
        let known = Secrets {
            superuser: "s3cr$t 'x\\y".into(),
            replication: String::new(),
            rewind: String::new(),
        };
        let status = std::process::Command::new("sh")
            .args(["-c", &write_users_from_env(path.to_str().unwrap())])
            .env(Secret::Superuser.var(), &known.superuser)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), users(&known));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
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
