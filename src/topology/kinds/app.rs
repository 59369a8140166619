//! Application servers (`app1..appN`) between the clients and the database: firedrill's
//! reference API server (`app.py`, Python's standard library and psycopg2 from Debian) behind
//! HAProxy in HTTP mode, each checked on its status endpoint. Each server commits the writes it
//! is sent to PostgreSQL through HAProxy's client endpoint with its own connection pool, and
//! answers which server and which database node accepted each. The HAProxy options the runbooks
//! set for such a tier (`balance`, `retries`, `option redispatch`, `inter`/`fall`/`rise`,
//! timeouts) are this kind's settings: HAProxy renders its `listen app` section from them.

use super::super::kind::{Kind, Naming, Render};
use super::super::stacks::{self, ClientEndpoint};
use super::super::{FileSpec, Health, NodeSpec, Secret, SecretEnv, SecretsAt};
use super::haproxy;
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

/// The reference server's source, written into each node.
const SOURCE: &str = include_str!("app.py");
const SOURCE_PATH: &str = "/etc/firedrill/app.py";
const CONFIG_PATH: &str = "/etc/firedrill/app.json";
/// The reference server's port, status path (what HAProxy checks), write and read paths
/// (`{seq}` the sequence number).
pub const PORT: u16 = 8080;
pub const STATUS_PATH: &str = "/status";
pub const WRITE_PATH: &str = "/writes/{seq}";
pub const READ_PATH: &str = "/writes/{seq}";
/// The reference server's path answering the latest write (`{"app", "node", "seq"}`): what
/// reads through a cache ask for.
pub const LATEST_PATH: &str = "/writes/latest";
const NAMING: Naming = Naming::Numbered("app");

/// `[topology.app]`: the servers and how HAProxy balances and checks them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppSettings {
    pub nodes: u32,
    /// A team's own server image instead of the reference server (present in the engine:
    /// no registry is used), run with its own command; it keeps the same contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The port the servers listen on, the path HAProxy checks, and the paths of a write and a
    /// read (`{seq}`: the sequence number). Only an own image sets them.
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_status")]
    pub status: String,
    #[serde(default = "default_write_path")]
    pub write_path: String,
    #[serde(default = "default_read_path")]
    pub read_path: String,
    #[serde(default = "default_latest_path")]
    pub latest_path: String,
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

fn default_port() -> u16 {
    PORT
}

fn default_status() -> String {
    STATUS_PATH.into()
}

fn default_write_path() -> String {
    WRITE_PATH.into()
}

fn default_read_path() -> String {
    READ_PATH.into()
}

fn default_latest_path() -> String {
    LATEST_PATH.into()
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
    image: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    status: Option<Spanned<String>>,
    write_path: Option<Spanned<String>>,
    read_path: Option<Spanned<String>>,
    latest_path: Option<Spanned<String>>,
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
    let image = match &raw.image {
        Some(image) if image.get_ref().trim().is_empty() => {
            return Err(input.invalid(image.span(), "image", "expected an image name, found \"\""));
        }
        image => image.as_ref().map(|i| i.get_ref().clone()),
    };
    // The reference server's port and paths are its own: only an own image names others.
    let own = |value: Option<Range<usize>>, name: &str| match (value, &image) {
        (Some(span), None) => Err(input.invalid(
            span,
            name,
            "expected `image` beside it: firedrill's reference server has its own (set `image` \
             to run your own server)",
        )),
        _ => Ok(()),
    };
    own(raw.port.as_ref().map(Spanned::span), "port")?;
    let path = |value: &Option<Spanned<String>>, name: &str, default: &str, seq: bool| {
        own(value.as_ref().map(Spanned::span), name)?;
        let Some(value) = value else {
            return Ok(default.to_owned());
        };
        let text = value.get_ref();
        let shaped = text.starts_with('/')
            && !text.contains(char::is_whitespace)
            && (!seq || text.matches("{seq}").count() == 1);
        if !shaped {
            let expected = match seq {
                true => "a path beginning with / holding {seq} once",
                false => "a path beginning with /",
            };
            return Err(input.invalid(
                value.span(),
                name,
                format!("expected {expected}, found {text:?}"),
            ));
        }
        Ok(text.clone())
    };
    Ok(AppSettings {
        nodes: input.int(raw.nodes.as_ref(), "nodes", (3, 1, 9))? as u32,
        port: input.int(raw.port.as_ref(), "port", (i64::from(PORT), 1, 65535))? as u16,
        status: path(&raw.status, "status", STATUS_PATH, false)?,
        write_path: path(&raw.write_path, "write_path", WRITE_PATH, true)?,
        read_path: path(&raw.read_path, "read_path", READ_PATH, true)?,
        latest_path: path(&raw.latest_path, "latest_path", LATEST_PATH, false)?,
        image,
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
        let server = match &a.image {
            Some(image) => format!("image {image}"),
            None => format!("reference server, pool {}", a.pool),
        };
        Some(format!(
            "{} API servers ({server}) behind HAProxy (balance {}, retries {}{}, check {} inter {} \
             fall {} rise {}, timeout server {})",
            a.nodes,
            a.balance.name(),
            a.retries,
            if a.redispatch { ", redispatch" } else { "" },
            a.status,
            humantime::format_duration(a.inter),
            a.fall,
            a.rise,
            humantime::format_duration(a.timeout_server),
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
        let database = database(render);
        (1..=settings.nodes as usize)
            .map(|i| spec(&name(i), settings, render.secrets, database))
            .collect()
    }
}

/// The name of server `i` (from 1).
pub fn name(i: usize) -> String {
    NAMING.name(i)
}

/// Where the servers reach the database: the stack's client endpoint (HAProxy's, routing to the
/// leader), or the virtual IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Database<'a> {
    Node(&'static str, u16),
    /// Its address when known (a drill's network exists when its nodes are rendered).
    VirtualIp(Option<&'a str>, u16),
}

fn database<'a>(render: &Render<'a>) -> Database<'a> {
    let endpoint = stacks::named(&render.topology.stack).map(|s| s.client_endpoint());
    match endpoint {
        Some(ClientEndpoint::VirtualIp { port }) => Database::VirtualIp(render.virtual_ip, port),
        Some(ClientEndpoint::Node(node)) => {
            let port = super::KINDS
                .iter()
                .find(|k| k.kind().naming().index(node).is_some())
                .and_then(|k| k.kind().serves())
                .map_or(haproxy::PG_PORT, |s| s.port);
            Database::Node(node, port)
        }
        // no application tier in front of a stack whose clients discover the primary
        Some(ClientEndpoint::Discovery { .. }) | None => {
            Database::Node(haproxy::NAME, haproxy::PG_PORT)
        }
    }
}

fn spec(
    name: &str,
    settings: &AppSettings,
    secrets: SecretsAt<'_>,
    database: Database<'_>,
) -> NodeSpec {
    // The password in the configuration (a file, or an own image's environment) in a drill,
    // from the environment in an export.
    let password = secrets.in_files().map(|s| s.superuser.clone());
    let secret_env = match password {
        Some(_) => vec![],
        None => vec![SecretEnv {
            var: Secret::Superuser.var(),
            secret: Secret::Superuser,
        }],
    };
    let (image, cmd, files, env, health) = match &settings.image {
        // An own image: its own command, configured by its environment (README, "The
        // application tier"); nothing known about its tools, so no health command.
        Some(image) => {
            let mut env = own_image_env(name, settings, database);
            if let Some(password) = &password {
                env.push((Secret::Superuser.var().to_owned(), password.clone()));
            }
            (Some(image.clone()), vec![], vec![], env, None)
        }
        None => (
            None,
            vec!["python3".into(), SOURCE_PATH.into(), CONFIG_PATH.into()],
            vec![
                FileSpec {
                    path: SOURCE_PATH.into(),
                    contents: SOURCE.into(),
                    mode: 0o644,
                },
                FileSpec {
                    path: CONFIG_PATH.into(),
                    contents: config(name, settings, password.as_deref(), database),
                    mode: 0o600,
                },
            ],
            vec![],
            Some(Health {
                command: format!(
                    "curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:{PORT}{STATUS_PATH}"
                ),
                interval: Duration::from_secs(2),
                timeout: Duration::from_secs(3),
                retries: 3,
                start_period: Duration::from_secs(60),
            }),
        ),
    };
    NodeSpec {
        name: name.to_owned(),
        kind: super::APP,
        image,
        cmd,
        user: None,
        files,
        ports: vec![settings.port],
        fixed_ports: vec![],
        cap_add: vec!["NET_ADMIN".into()],
        disks: vec![],
        env,
        secret_env,
        health,
    }
}

/// What an own image's server is told in its environment: its name and port, the database
/// endpoint (HAProxy's, to the leader, or the virtual IP) and user; the password is
/// `FIREDRILL_SUPERUSER_PASSWORD`.
fn own_image_env(
    name: &str,
    settings: &AppSettings,
    database: Database<'_>,
) -> Vec<(String, String)> {
    // An export refuses an own image where the address is not known (`compose::plan`).
    let (host, port) = match database {
        Database::Node(node, port) => (node, port),
        Database::VirtualIp(address, port) => (address.unwrap_or_default(), port),
    };
    [
        ("FIREDRILL_APP_NAME", name.to_owned()),
        ("FIREDRILL_APP_PORT", settings.port.to_string()),
        ("FIREDRILL_DATABASE_HOST", host.to_owned()),
        ("FIREDRILL_DATABASE_PORT", port.to_string()),
        ("FIREDRILL_DATABASE_NAME", "postgres".to_owned()),
        ("FIREDRILL_DATABASE_USER", "postgres".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The server's configuration: the database is HAProxy's client endpoint (the leader), or the
/// virtual IP, which the server computes from its own address as keepalived does (the file is
/// the same in every run, and in an export, whose network is not made yet).
fn config(
    name: &str,
    settings: &AppSettings,
    password: Option<&str>,
    database: Database<'_>,
) -> String {
    let (host, port) = match database {
        Database::Node(node, port) => (serde_json::Value::from(node), port),
        Database::VirtualIp(_, port) => (serde_json::Value::Null, port),
    };
    let mut config = serde_json::json!({
        "app": name,
        "port": PORT,
        "db_host": host,
        "db_at_virtual_ip": matches!(database, Database::VirtualIp(..)),
        "db_port": port,
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

    const HAPROXY: Database<'static> = Database::Node(haproxy::NAME, haproxy::PG_PORT);

    fn defaults() -> AppSettings {
        AppSettings::defaults_for_tests()
    }

    impl AppSettings {
        /// The reference server's settings with `[topology.app]`'s defaults.
        pub(crate) fn defaults_for_tests() -> AppSettings {
            AppSettings {
                nodes: 3,
                image: None,
                port: PORT,
                status: STATUS_PATH.into(),
                write_path: WRITE_PATH.into(),
                read_path: READ_PATH.into(),
                latest_path: LATEST_PATH.into(),
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
    }

    #[test]
    fn a_drill_s_server_finds_its_password_in_its_file_an_export_s_in_its_environment() {
        let secrets = Secrets::generate();
        let drill = spec("app2", &defaults(), SecretsAt::Files(&secrets), HAPROXY);
        let file = &drill.files[1];
        assert_eq!(file.path, CONFIG_PATH);
        assert_eq!(file.mode, 0o600);
        let config: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
        assert_eq!(config["app"], "app2");
        assert_eq!(config["db_host"], "haproxy");
        assert_eq!(config["password"], secrets.superuser.as_str());
        assert!(drill.secret_env.is_empty());

        let export = spec("app2", &defaults(), SecretsAt::Env, HAPROXY);
        assert!(!export.files[1].contents.contains("password"));
        assert_eq!(export.secret_env[0].var, "FIREDRILL_SUPERUSER_PASSWORD");
        assert_eq!(export.cmd, ["python3", SOURCE_PATH, CONFIG_PATH]);
    }

    #[test]
    fn an_own_image_runs_its_own_command_told_everything_by_its_environment() {
        let secrets = Secrets::generate();
        let own = AppSettings {
            image: Some("team/api:1".into()),
            port: 9090,
            ..defaults()
        };
        let drill = spec("app1", &own, SecretsAt::Files(&secrets), HAPROXY);
        assert_eq!(drill.image.as_deref(), Some("team/api:1"));
        assert!(drill.cmd.is_empty() && drill.files.is_empty());
        assert_eq!(drill.ports, [9090]);
        let env: std::collections::BTreeMap<_, _> = drill.env.iter().cloned().collect();
        assert_eq!(env["FIREDRILL_APP_NAME"], "app1");
        assert_eq!(env["FIREDRILL_APP_PORT"], "9090");
        assert_eq!(env["FIREDRILL_DATABASE_HOST"], "haproxy");
        assert_eq!(env["FIREDRILL_SUPERUSER_PASSWORD"], secrets.superuser);
        // an export: the password from the env file, never written
        let export = spec("app1", &own, SecretsAt::Env, HAPROXY);
        assert!(export.env.iter().all(|(k, _)| !k.contains("PASSWORD")));
        assert_eq!(export.secret_env[0].var, "FIREDRILL_SUPERUSER_PASSWORD");
    }

    #[test]
    fn behind_a_virtual_ip_the_reference_server_computes_it_an_own_image_is_told_it() {
        let secrets = Secrets::generate();
        let vip = Database::VirtualIp(Some("172.18.255.254"), 5432);
        let drill = spec("app1", &defaults(), SecretsAt::Files(&secrets), vip);
        let config: serde_json::Value = serde_json::from_str(&drill.files[1].contents).unwrap();
        assert_eq!(config["db_host"], serde_json::Value::Null);
        assert_eq!(config["db_at_virtual_ip"], true);
        assert_eq!(config["db_port"], 5432);
        // the same file whatever the network: an export's too
        let export = spec(
            "app1",
            &defaults(),
            SecretsAt::Env,
            Database::VirtualIp(None, 5432),
        );
        // the export's file is the drill's without the password
        assert_eq!(export.files[1].contents, {
            let c = &drill.files[1].contents;
            let mut v: serde_json::Value = serde_json::from_str(c).unwrap();
            v.as_object_mut().unwrap().remove("password");
            serde_json::to_string_pretty(&v).unwrap() + "\n"
        });
        let own = AppSettings {
            image: Some("team/api:1".into()),
            ..defaults()
        };
        let env: std::collections::BTreeMap<_, _> =
            spec("app1", &own, SecretsAt::Files(&secrets), vip)
                .env
                .into_iter()
                .collect();
        assert_eq!(env["FIREDRILL_DATABASE_HOST"], "172.18.255.254");
        assert_eq!(env["FIREDRILL_DATABASE_PORT"], "5432");
        assert!(SOURCE.contains("db_at_virtual_ip"));
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
