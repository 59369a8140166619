//! Application servers (`app1..appN`) between the clients and the database: firedrill's
//! reference API server (`app.py`, Python's standard library and psycopg2 from Debian) behind
//! HAProxy in HTTP mode, each checked on its status endpoint. Each server commits the writes it
//! is sent to PostgreSQL through HAProxy's client endpoint with its own connection pool, and
//! answers which server and which database node accepted each. The HAProxy options the runbooks
//! set for such a tier (`balance`, `retries`, `option redispatch`, `inter`/`fall`/`rise`,
//! timeouts) are this kind's settings: HAProxy renders its `listen app` section from them.

use super::super::kind::{Kind, Naming, Render};
use super::super::{FileSpec, Health, NodeSpec, Secret, SecretEnv, SecretsAt};
use super::haproxy;
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

/// The reference server's source, written into each node.
const SOURCE: &str = include_str!("app.py");
const SOURCE_PATH: &str = "/etc/firedrill/app.py";
const CONFIG_PATH: &str = "/etc/firedrill/app.json";
/// The port each server listens on, and the path HAProxy checks.
pub const PORT: u16 = 8080;
pub const STATUS_PATH: &str = "/status";
const NAMING: Naming = Naming::Numbered("app");

/// `[topology.app]`: the servers and how HAProxy balances and checks them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppSettings {
    pub nodes: u32,
    /// PostgreSQL connections each server's pool may hold.
    pub pool: u32,
    /// HAProxy's `balance` for the tier.
    pub balance: Balance,
    /// HAProxy's `retries`: connection attempts to a server after the first fails.
    pub retries: u32,
    /// `option redispatch`: a retry may go to another server.
    pub redispatch: bool,
    /// Health check interval, failures before down, passes before up.
    #[serde(with = "humantime_serde")]
    pub inter: Duration,
    pub fall: u32,
    pub rise: u32,
    /// HAProxy's `timeout connect` to a server, and `timeout server` (no answer within it: a
    /// 504 to the client).
    #[serde(with = "humantime_serde")]
    pub timeout_connect: Duration,
    #[serde(with = "humantime_serde")]
    pub timeout_server: Duration,
    /// HAProxy's `timeout check`: how long a status check may wait for its answer once
    /// connected (a hung server fails its checks this fast).
    #[serde(with = "humantime_serde")]
    pub timeout_check: Duration,
    /// How long a server waits to connect to the database (and for a free pooled connection).
    #[serde(with = "humantime_serde")]
    pub db_connect_timeout: Duration,
}

/// HAProxy's load-balancing algorithms a tier of API servers uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    Roundrobin,
    Leastconn,
    /// By the client's address: every request of one client to one server while it is up.
    Source,
    First,
}

impl Balance {
    pub const ALL: &'static [Balance] = &[
        Balance::Roundrobin,
        Balance::Leastconn,
        Balance::Source,
        Balance::First,
    ];

    /// The name in scenario files and haproxy.cfg.
    pub fn name(self) -> &'static str {
        match self {
            Balance::Roundrobin => "roundrobin",
            Balance::Leastconn => "leastconn",
            Balance::Source => "source",
            Balance::First => "first",
        }
    }
}

impl Settings for AppSettings {
    const KIND: &'static str = NAME;
}

pub const NAME: &str = "app";

/// The settings of `topology`'s application tier, if it has one.
pub fn settings(topology: &Topology) -> Option<&AppSettings> {
    topology.settings::<AppSettings>()
}

/// `[topology.app]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawApp {
    nodes: Option<Spanned<i64>>,
    pool: Option<Spanned<i64>>,
    balance: Option<Spanned<String>>,
    retries: Option<Spanned<i64>>,
    redispatch: Option<Spanned<bool>>,
    inter: Option<Spanned<RawDuration>>,
    fall: Option<Spanned<i64>>,
    rise: Option<Spanned<i64>>,
    timeout_connect: Option<Spanned<RawDuration>>,
    timeout_server: Option<Spanned<RawDuration>>,
    timeout_check: Option<Spanned<RawDuration>>,
    db_connect_timeout: Option<Spanned<RawDuration>>,
}

/// Three servers (the runbooks' "at least three"), HAProxy's `retries 3` with `option
/// redispatch` as they set it, round-robin, a check every second, down after 3 failures.
fn check(input: &SettingsInput<'_>, raw: &RawApp) -> Result<AppSettings, SettingsError> {
    let balances: Vec<(&str, Balance)> = Balance::ALL.iter().map(|&b| (b.name(), b)).collect();
    let ms = Duration::from_millis;
    Ok(AppSettings {
        nodes: input.int(raw.nodes.as_ref(), "nodes", (3, 1, 9))? as u32,
        pool: input.int(raw.pool.as_ref(), "pool", (4, 1, 100))? as u32,
        balance: input.choice(
            raw.balance.as_ref(),
            "balance",
            Balance::Roundrobin,
            &balances,
            "balance algorithm",
        )?,
        retries: input.int(raw.retries.as_ref(), "retries", (3, 0, 10))? as u32,
        redispatch: raw.redispatch.as_ref().is_none_or(|r| *r.get_ref()),
        inter: input.duration(raw.inter.as_ref(), "inter", ms(1000), ms(100))?,
        fall: input.int(raw.fall.as_ref(), "fall", (3, 1, 100))? as u32,
        rise: input.int(raw.rise.as_ref(), "rise", (2, 1, 100))? as u32,
        timeout_connect: input.duration(
            raw.timeout_connect.as_ref(),
            "timeout_connect",
            ms(1000),
            ms(10),
        )?,
        timeout_server: input.duration(
            raw.timeout_server.as_ref(),
            "timeout_server",
            ms(5000),
            ms(100),
        )?,
        timeout_check: input.duration(
            raw.timeout_check.as_ref(),
            "timeout_check",
            ms(1000),
            ms(10),
        )?,
        db_connect_timeout: input.duration(
            raw.db_connect_timeout.as_ref(),
            "db_connect_timeout",
            ms(1000),
            ms(1000),
        )?,
    })
}

/// The application server kind.
pub struct App;

impl Kind for App {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// Optional: none without a `[topology.app]` table.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        match input.table::<RawApp>()? {
            None => Ok(None),
            Some(raw) => Ok(Some(Box::new(check(input, &raw)?))),
        }
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<AppSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |s| s.nodes as usize)
    }

    fn count_setting(&self) -> &'static str {
        "topology.app.nodes"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let a = settings(topology)?;
        Some(format!(
            "{} API servers behind HAProxy (balance {}, retries {}{}, check {} inter {} fall {} \
             rise {}, timeout server {}, pool {})",
            a.nodes,
            a.balance.name(),
            a.retries,
            if a.redispatch { ", redispatch" } else { "" },
            STATUS_PATH,
            humantime::format_duration(a.inter),
            a.fall,
            a.rise,
            humantime::format_duration(a.timeout_server),
            a.pool,
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["python3", "python3-psycopg2"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[
            ("python3", &["python3", "--version"]),
            (
                "psycopg2",
                &[
                    "python3",
                    "-c",
                    "import psycopg2; print(psycopg2.__version__)",
                ],
            ),
        ]
    }

    fn has_disk(&self) -> bool {
        false
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let Some(settings) = settings(render.topology) else {
            return Vec::new();
        };
        (1..=settings.nodes as usize)
            .map(|i| spec(&name(i), settings, render.secrets))
            .collect()
    }
}

/// The name of server `i` (from 1).
pub fn name(i: usize) -> String {
    NAMING.name(i)
}

fn spec(name: &str, settings: &AppSettings, secrets: SecretsAt<'_>) -> NodeSpec {
    // The password in the configuration file in a drill, from the environment in an export.
    let password = secrets.in_files().map(|s| s.superuser.clone());
    let secret_env = match password {
        Some(_) => vec![],
        None => vec![SecretEnv {
            var: Secret::Superuser.var(),
            secret: Secret::Superuser,
        }],
    };
    NodeSpec {
        name: name.to_owned(),
        kind: super::APP,
        cmd: vec!["python3".into(), SOURCE_PATH.into(), CONFIG_PATH.into()],
        user: None,
        files: vec![
            FileSpec {
                path: SOURCE_PATH.into(),
                contents: SOURCE.into(),
                mode: 0o644,
            },
            FileSpec {
                path: CONFIG_PATH.into(),
                contents: config(name, settings, password.as_deref()),
                mode: 0o600,
            },
        ],
        ports: vec![PORT],
        fixed_ports: vec![],
        cap_add: vec!["NET_ADMIN".into()],
        disks: vec![],
        secret_env,
        health: Some(Health {
            command: format!(
                "curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:{PORT}{STATUS_PATH}"
            ),
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(3),
            retries: 3,
            start_period: Duration::from_secs(60),
        }),
    }
}

/// The server's configuration: the database is HAProxy's client endpoint (the leader).
fn config(name: &str, settings: &AppSettings, password: Option<&str>) -> String {
    let mut config = serde_json::json!({
        "app": name,
        "port": PORT,
        "db_host": haproxy::NAME,
        "db_port": haproxy::PG_PORT,
        "db_name": "postgres",
        "db_user": "postgres",
        "pool": settings.pool,
        "connect_timeout_s": settings.db_connect_timeout.as_secs().max(1),
    });
    if let Some(password) = password {
        config["password"] = password.into();
    }
    serde_json::to_string_pretty(&config).expect("a JSON object") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Secrets;

    fn defaults() -> AppSettings {
        AppSettings {
            nodes: 3,
            pool: 4,
            balance: Balance::Roundrobin,
            retries: 3,
            redispatch: true,
            inter: Duration::from_secs(1),
            fall: 3,
            rise: 2,
            timeout_connect: Duration::from_secs(1),
            timeout_server: Duration::from_secs(5),
            timeout_check: Duration::from_secs(1),
            db_connect_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_drill_s_server_finds_its_password_in_its_file_an_export_s_in_its_environment() {
        let secrets = Secrets::generate();
        let drill = spec("app2", &defaults(), SecretsAt::Files(&secrets));
        let file = &drill.files[1];
        assert_eq!(file.path, CONFIG_PATH);
        assert_eq!(file.mode, 0o600);
        let config: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
        assert_eq!(config["app"], "app2");
        assert_eq!(config["db_host"], "haproxy");
        assert_eq!(config["password"], secrets.superuser.as_str());
        assert!(drill.secret_env.is_empty());

        let export = spec("app2", &defaults(), SecretsAt::Env);
        assert!(!export.files[1].contents.contains("password"));
        assert_eq!(export.secret_env[0].var, "FIREDRILL_SUPERUSER_PASSWORD");
        assert_eq!(export.cmd, ["python3", SOURCE_PATH, CONFIG_PATH]);
    }

    #[test]
    fn the_reference_server_speaks_the_documented_contract() {
        for path in ["/writes/", "/writes/latest", "/status", "committed"] {
            assert!(SOURCE.contains(path), "{path}");
        }
        // the same INSERT as the PostgreSQL client: node name and timeline from the server
        assert!(SOURCE.contains("current_setting('firedrill.node')"));
        assert!(SOURCE.contains("pg_walfile_name(pg_current_wal_lsn())"));
    }
}
