//! HAProxy in front of the Patroni nodes: routing to whichever answers Patroni's `/primary`,
//! or (a known-bad setup) to the first node whose PostgreSQL port accepts. With Patroni's
//! checks, a second endpoint balances connections over the nodes that answer `/replica`.

use super::super::http_error::http_error_text;
use super::super::kind::{Kind, Naming, Render};
use super::super::stacks::ClientEndpoint;
use super::super::{Cluster, FileSpec, FixedPort, Health, Node, NodeSpec, Serves};
use super::{app, patroni, pgbouncer};
use crate::client::Protocol;
use crate::history::{ProxyServer, Routing, TierServer};
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HaproxySettings {
    pub check: HaproxyCheck,
    /// Health check interval (`inter`).
    #[serde(with = "humantime_serde")]
    pub inter: Duration,
    /// Consecutive failed checks before a server is marked down (`fall`).
    pub fall: u32,
    /// Consecutive passed checks before a server is marked up (`rise`).
    pub rise: u32,
    /// The host port the client endpoint is published on (127.0.0.1); `None`: one chosen by
    /// firedrill for the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaproxyCheck {
    /// `OPTIONS /primary` on Patroni's REST API (port 8008): only the leader answers 200.
    PatroniRest,
    /// A TCP connect to PostgreSQL's port, with `balance first`: every new connection goes to
    /// the first node (pg1 first) whose port accepts, whatever its role. A proxy that does not
    /// know roles, as in setups configured once by hand: a known-bad control.
    Tcp,
}

impl HaproxyCheck {
    /// The name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            HaproxyCheck::PatroniRest => "patroni-rest",
            HaproxyCheck::Tcp => "tcp",
        }
    }
}

impl HaproxyCheck {
    const ALL: &'static [HaproxyCheck] = &[HaproxyCheck::PatroniRest, HaproxyCheck::Tcp];
}

impl Settings for HaproxySettings {
    const KIND: &'static str = NAME;
}

/// The settings of `topology`'s HAProxy, if it has one.
pub fn settings(topology: &Topology) -> Option<&HaproxySettings> {
    topology.settings::<HaproxySettings>()
}

/// `[topology.haproxy]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawHaproxy {
    check: Option<Spanned<String>>,
    inter: Option<Spanned<RawDuration>>,
    fall: Option<Spanned<i64>>,
    rise: Option<Spanned<i64>>,
    /// A fixed host port for the client endpoint.
    port: Option<Spanned<i64>>,
}

/// Patroni's REST check every 2 s, down after 3 failures, up after 2 passes (HAProxy's own
/// fall and rise), a host port chosen per run.
fn check(input: &SettingsInput<'_>, raw: &RawHaproxy) -> Result<HaproxySettings, SettingsError> {
    let checks: Vec<(&str, HaproxyCheck)> =
        HaproxyCheck::ALL.iter().map(|&c| (c.name(), c)).collect();
    let max = i64::from(u32::MAX);
    Ok(HaproxySettings {
        check: input.choice(
            raw.check.as_ref(),
            "check",
            HaproxyCheck::PatroniRest,
            &checks,
            "health check",
        )?,
        inter: input.duration(
            raw.inter.as_ref(),
            "inter",
            Duration::from_secs(2),
            Duration::from_millis(10),
        )?,
        fall: input.int(raw.fall.as_ref(), "fall", (3, 1, max))? as u32,
        rise: input.int(raw.rise.as_ref(), "rise", (2, 1, max))? as u32,
        port: match raw.port.as_ref() {
            None => None,
            Some(port) => Some(input.int(Some(port), "port", (0, 1, 65535))? as u16),
        },
    })
}

/// The HAProxy kind: the client endpoint in the Patroni stack; in front of the application
/// tier alone where clients reach the database at a virtual IP.
pub struct Haproxy;

pub const NAME: &str = "haproxy";

impl Kind for Haproxy {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        Naming::Single(NAME)
    }

    /// Always there where the stack's clients connect through it, with the defaults when the
    /// table is absent. Where they connect to a virtual IP (the pair stack), HAProxy is there
    /// only in front of an application tier and routes no database connections: its settings
    /// are the tier's (`[topology.app]`), its own table is refused.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        if input.client_endpoint() != ClientEndpoint::Node(NAME) {
            return match input.table::<Spanned<toml::Table>>()? {
                None => Ok(None),
                Some(table) => Err(input.invalid(
                    table.span(),
                    "",
                    "expected no [topology.haproxy] in a stack whose clients connect to a \
                     virtual IP: HAProxy there fronts only the application servers, and \
                     [topology.app] sets how",
                )),
            };
        }
        let raw = input.table::<RawHaproxy>()?.unwrap_or_default();
        Ok(Some(Box::new(check(input, &raw)?)))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<HaproxySettings>(value)
    }

    /// One: in front of the database, or of the application tier alone.
    fn count(&self, topology: &Topology) -> usize {
        usize::from(settings(topology).is_some() || app::settings(topology).is_some())
    }

    fn count_setting(&self) -> &'static str {
        "topology.haproxy"
    }

    /// Where clients reach the database at a virtual IP, HAProxy runs only in front of API
    /// servers.
    fn absent_because(&self, topology: &Topology) -> String {
        let at_vip = super::super::stacks::named(&topology.stack)
            .is_some_and(|s| s.client_endpoint() != ClientEndpoint::Node(NAME));
        match at_vip {
            true => format!(
                "[topology.app] is not set: in the {} stack HAProxy runs only in front of API \
                 servers",
                topology.stack
            ),
            false => "[topology.haproxy] is not set".into(),
        }
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let Some(h) = settings(topology) else {
            return app::settings(topology)
                .map(|_| "HAProxy (in front of the application servers only)".to_owned());
        };
        Some(format!(
            "HAProxy ({} check, inter {}, fall {}, rise {})",
            h.check.name(),
            humantime::format_duration(h.inter),
            h.fall,
            h.rise,
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["haproxy"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("haproxy", VERSION_CMD)]
    }

    fn has_disk(&self) -> bool {
        false
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let tier = app::settings(render.topology);
        let Some(settings) = settings(render.topology) else {
            return tier.map(tier_only_spec).into_iter().collect();
        };
        let pg_nodes = super::PATRONI.kind().count(render.topology);
        let via_pooler = super::PGBOUNCER.kind().count(render.topology) > 0;
        let mut spec = spec(settings, pg_nodes, via_pooler);
        if let Some(tier) = tier {
            spec.files[0].contents.push_str(&app_section(tier));
            spec.ports.push(APP_PORT);
        }
        vec![spec]
    }

    /// The client endpoint, and with Patroni's checks the replica endpoint.
    fn serves(&self) -> Option<Serves> {
        Some(Serves {
            protocol: Protocol::Postgres,
            port: PG_PORT,
            replicas: Some(REPLICA_PORT),
            tier: Some(APP_PORT),
        })
    }

    /// Its stats page: the database servers behind the client endpoint and, with an
    /// application tier, the API servers behind its HTTP endpoint.
    fn routing<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<Routing, String>>> {
        Some(Box::pin(async move {
            let addr = node
                .host_addr(STATS_PORT)
                .ok_or("no published stats port")?;
            probe_stats(&cluster.http, &addr, timeout).await
        }))
    }
}
pub const PG_PORT: u16 = 5432;
/// The replica endpoint (`listen replicas`): round-robin over the nodes that answer Patroni's
/// `OPTIONS /replica` with 200. Only with the `patroni-rest` check: a TCP check knows no roles.
pub const REPLICA_PORT: u16 = 5001;
/// HAProxy's stats page (`/stats;csv`): its view of each server, probed during the drill.
pub const STATS_PORT: u16 = 8404;
/// The application tier's HTTP endpoint (`listen app`), with `[topology.app]`.
pub const APP_PORT: u16 = 8080;
/// The proxy section clients connect through.
const PROXY: &str = "primary";
/// The proxy section in front of the application servers.
const APP_PROXY: &str = "app";
/// The proxy section readers through replicas connect through.
const REPLICAS: &str = "replicas";
const CONFIG_PATH: &str = "/etc/firedrill/haproxy.cfg";
/// The scenario setting that fixes the client endpoint's host port.
const PORT_SETTING: &str = "[topology.haproxy] port";

/// `via_pooler`: each server is the pgBouncer beside the node (`pgbouncer1:6432` for `pg1`), its
/// health still checked on the node's Patroni.
pub fn spec(spec: &HaproxySettings, pg_nodes: usize, via_pooler: bool) -> NodeSpec {
    NodeSpec {
        cmd: once_roles_settled(pg_nodes, command()),
        ports: ports(spec.check),
        fixed_ports: spec
            .port
            .map(|host| FixedPort {
                container: PG_PORT,
                host,
                setting: PORT_SETTING,
            })
            .into_iter()
            .collect(),
        ..node(render_config(spec, pg_nodes, via_pooler), PROXY)
    }
}

/// HAProxy in front of the application servers alone, where the database's clients connect to
/// a virtual IP: the stats page and `listen app`, no database proxy.
fn tier_only_spec(tier: &app::AppSettings) -> NodeSpec {
    NodeSpec {
        cmd: command(),
        ports: vec![STATS_PORT, APP_PORT],
        ..node(format!("{}{}", base_config(), app_section(tier)), APP_PROXY)
    }
}

/// HAProxy's node running `config`, healthy while a server of `proxy` is up.
fn node(config: String, proxy: &str) -> NodeSpec {
    NodeSpec {
        name: NAME.into(),
        kind: super::HAPROXY,
        image: None,
        cmd: command(),
        user: None,
        files: vec![FileSpec {
            path: CONFIG_PATH.into(),
            contents: config,
            mode: 0o644,
        }],
        ports: vec![],
        fixed_ports: vec![],
        cap_add: vec!["NET_ADMIN".into()],
        disks: vec![],
        secret_env: vec![],
        env: vec![],
        health: Some(health(proxy)),
    }
}

fn command() -> Vec<String> {
    ["haproxy", "-W", "-db", "-f", CONFIG_PATH]
        .map(str::to_owned)
        .into()
}

/// `haproxy`, first started once one node answers Patroni's `/primary` and every other one
/// `/replica`: what its checks will ask.
///
/// HAProxy counts a server up until its first check fails; a server it has seen down comes up
/// only after `rise` passing checks, `inter` apart. Started beside the nodes, it marks the
/// leader-to-be down at once and then waits `rise` checks for it: 1-2 s of bring-up with the
/// defaults. Started once the roles are settled, the first checks leave the leader up and take
/// the others down (readiness waits for that view). The configuration and the checks are the
/// scenario's, unchanged. Only the first start waits (a marker in the container: a restart
/// after a fault does not), and for 30 s at most, after which the checks take over.
fn once_roles_settled(pg_nodes: usize, haproxy: Vec<String>) -> Vec<String> {
    if pg_nodes == 0 {
        return haproxy;
    }
    let hosts: Vec<String> = (1..=pg_nodes).map(patroni::name).collect();
    let ask = |path: &str, counter: &str| {
        format!(
            "curl -fs -o /dev/null --max-time 1 -X OPTIONS http://$h:{}/{path} 2>/dev/null \
             && {counter}=$(({counter} + 1))",
            patroni::REST_PORT
        )
    };
    let script = format!(
        "[ -e {STARTED_MARKER} ] || {{ end=$(($(date +%s) + 30)); \
         while [ \"$(date +%s)\" -lt \"$end\" ]; do p=0; r=0; for h in {hosts}; do {primary}; \
         {replica}; done; [ $p -eq 1 ] && [ $r -eq {replicas} ] && break; sleep 0.05; done; \
         touch {STARTED_MARKER}; }}; exec \"$@\"",
        hosts = hosts.join(" "),
        primary = ask("primary", "p"),
        replica = ask("replica", "r"),
        replicas = pg_nodes - 1,
    );
    ["sh".into(), "-c".into(), script, "haproxy-start".into()]
        .into_iter()
        .chain(haproxy)
        .collect()
}

/// Written in the container's own filesystem by its first start: kept across restarts.
const STARTED_MARKER: &str = "/var/lib/haproxy/.firedrill-started";

/// Whether HAProxy's view agrees with the roles. With Patroni's checks: the client proxy has
/// the leader up and no other server, the replica proxy every replica and nothing else. With
/// the tcp check (`balance first`, every accepting node up): the leader is the first server up.
/// A new HAProxy counts every server up until its first check, so one connection routed to the
/// leader does not yet say the others are out of rotation.
pub async fn view_agrees(
    cluster: &Cluster,
    check: HaproxyCheck,
    leader: &str,
    timeout: Duration,
) -> bool {
    let Some(addr) = cluster
        .nodes_of(super::HAPROXY)
        .next()
        .and_then(|n| n.host_addr(STATS_PORT))
    else {
        return false;
    };
    let Ok(csv) = stats_csv(&cluster.http, &addr, timeout).await else {
        return false;
    };
    let up = |proxy: &str| -> Option<Vec<String>> {
        let servers = parse_stats(&csv, proxy).ok()?;
        Some(
            servers
                .into_iter()
                .filter(|s| s.is_up())
                .map(|s| s.name)
                .collect(),
        )
    };
    let Some(primary) = up(PROXY) else {
        return false;
    };
    match check {
        HaproxyCheck::Tcp => primary.first().map(String::as_str) == Some(leader),
        HaproxyCheck::PatroniRest => {
            let replicas: Vec<String> = cluster
                .nodes_of(super::PATRONI)
                .map(|n| n.name.clone())
                .filter(|n| n != leader)
                .collect();
            primary == [leader] && up(REPLICAS).is_some_and(|r| r == replicas)
        }
    }
}

/// From the stats CSV on stdin: exits 0 when a server of `proxy` is up (its status begins with
/// `UP`, as `ProxyServer::is_up` reads it), the column found by its name.
fn up_filter(proxy: &str) -> String {
    format!(
        "awk -F, 'NR == 1 {{ for (i = 1; i <= NF; i++) if ($i == \"status\") s = i }} \
         $1 == \"{proxy}\" && $2 != \"FRONTEND\" && $2 != \"BACKEND\" && s && $s ~ /^UP/ {{ up = 1 }} \
         END {{ exit !up }}'"
    )
}

/// HAProxy routes clients somewhere: a server of `proxy` is up on its stats page (the client
/// proxy's, with Patroni's check the leader; or an application server), asked from inside the
/// container.
fn health(proxy: &str) -> Health {
    Health {
        command: format!(
            "curl -fsS --max-time 2 'http://127.0.0.1:{STATS_PORT}/stats;csv' | {}",
            up_filter(proxy)
        ),
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
        retries: 3,
        start_period: Duration::from_secs(60),
    }
}

/// The container ports published on the host: the client endpoint, the stats page and, with
/// Patroni's checks, the replica endpoint.
fn ports(check: HaproxyCheck) -> Vec<u16> {
    match check {
        HaproxyCheck::PatroniRest => vec![PG_PORT, STATS_PORT, REPLICA_PORT],
        HaproxyCheck::Tcp => vec![PG_PORT, STATS_PORT],
    }
}

/// `timeout connect 3s` and `timeout check 3s`: a health check passes if Patroni accepts and
/// answers within 3 s, so a host stall of a second or two (CPU steal on a shared machine, seen
/// here at 20-50 %) does not take the new leader out of rotation after a failover. Clients give
/// up sooner on their own timeouts.
pub fn render_config(spec: &HaproxySettings, pg_nodes: usize, via_pooler: bool) -> String {
    let (check, check_port) = match spec.check {
        HaproxyCheck::PatroniRest => (
            "    option httpchk OPTIONS /primary\n    http-check expect status 200\n",
            format!(" port {}", patroni::REST_PORT),
        ),
        // Only whether PostgreSQL's port accepts: the first such node gets every connection.
        HaproxyCheck::Tcp => ("    balance first\n", String::new()),
    };
    let servers: String = (1..=pg_nodes)
        .map(|i| {
            let name = patroni::name(i);
            // The server keeps the node's name (the proxy's view is of database nodes); through
            // a pooler, the health check still asks the node's own Patroni (`addr`).
            let (host, port, check_addr) = if via_pooler {
                let addr = match spec.check {
                    HaproxyCheck::PatroniRest => format!(" addr {name}"),
                    HaproxyCheck::Tcp => String::new(),
                };
                (pgbouncer::name(i), pgbouncer::PORT, addr)
            } else {
                (name.clone(), patroni::PG_PORT, String::new())
            };
            format!(
                "    server {name} {host}:{port} check{check_addr}{check_port} init-addr last,libc,none\n"
            )
        })
        .collect();
    let default_server = format!(
        "    default-server inter {inter}ms fall {fall} rise {rise} on-marked-down shutdown-sessions\n",
        inter = spec.inter.as_millis(),
        fall = spec.fall,
        rise = spec.rise,
    );
    let mut config = format!(
        "{}listen {PROXY}\n    bind *:{PG_PORT}\n{check}{default_server}{servers}",
        base_config()
    );
    if spec.check == HaproxyCheck::PatroniRest {
        // Every node that answers `/replica` with 200 (a running replica), in turn.
        config.push_str(&format!(
            "\nlisten {REPLICAS}\n    bind *:{REPLICA_PORT}\n    balance roundrobin\n\
             {REPLICA_CHECK}{default_server}{servers}"
        ));
    }
    config
}

/// What every configuration begins with: the defaults and the stats page.
fn base_config() -> String {
    format!(
        "global\n    maxconn 2000\n\n\
         defaults\n    mode tcp\n    timeout connect 3s\n    timeout client 30m\n    timeout server 30m\n    timeout check 3s\n\n\
         frontend stats\n    mode http\n    bind *:{STATS_PORT}\n    stats enable\n    stats uri /stats\n\n"
    )
}

/// The replica endpoint's health check: Patroni answers `OPTIONS /replica` with 200 on a
/// running replica only.
const REPLICA_CHECK: &str =
    "    option httpchk OPTIONS /replica\n    http-check expect status 200\n";

/// Each server's status and open sessions behind the client endpoint, in configuration order,
/// and the application tier's servers with their counters (none without a tier).
pub async fn probe_stats(
    http: &reqwest::Client,
    stats_addr: &str,
    timeout: Duration,
) -> Result<Routing, String> {
    let csv = stats_csv(http, stats_addr, timeout).await?;
    Ok(Routing {
        servers: parse_stats(&csv, PROXY)?,
        tier: parse_tier(&csv)?,
    })
}

async fn stats_csv(
    http: &reqwest::Client,
    stats_addr: &str,
    timeout: Duration,
) -> Result<String, String> {
    http.get(format!("http://{stats_addr}/stats;csv"))
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| http_error_text(&e))?
        .text()
        .await
        .map_err(|e| e.to_string())
}

/// HAProxy's stats CSV: the first line names the columns, after a `# `; each other line is a
/// proxy's frontend, backend or one of its servers.
struct Stats<'a> {
    header: Vec<&'a str>,
    rows: Vec<Vec<&'a str>>,
}

impl<'a> Stats<'a> {
    fn parse(csv: &'a str) -> Result<Stats<'a>, String> {
        let mut lines = csv.lines();
        let header = lines
            .next()
            .and_then(|h| h.strip_prefix("# "))
            .ok_or("no stats header")?
            .split(',')
            .collect();
        Ok(Stats {
            header,
            rows: lines.map(|line| line.split(',').collect()).collect(),
        })
    }

    fn column(&self, name: &str) -> Result<usize, String> {
        self.header
            .iter()
            .position(|c| *c == name)
            .ok_or(format!("no {name} column in the stats"))
    }

    /// The server lines of `proxy`, in configuration order.
    fn servers(&self, proxy: &str) -> Result<Vec<&[&'a str]>, String> {
        let (pxname, svname) = (self.column("pxname")?, self.column("svname")?);
        Ok(self
            .rows
            .iter()
            .filter(|f| {
                f.get(pxname) == Some(&proxy)
                    && !matches!(f.get(svname), Some(&"FRONTEND" | &"BACKEND") | None)
            })
            .map(Vec::as_slice)
            .collect())
    }
}

/// Reads the servers of `proxy` from HAProxy's stats CSV.
fn parse_stats(csv: &str, proxy: &str) -> Result<Vec<ProxyServer>, String> {
    let stats = Stats::parse(csv)?;
    let (svname, status, scur) = (
        stats.column("svname")?,
        stats.column("status")?,
        stats.column("scur")?,
    );
    Ok(stats
        .servers(proxy)?
        .into_iter()
        .map(|f| ProxyServer {
            name: f[svname].to_string(),
            status: f.get(status).unwrap_or(&"").to_string(),
            sessions: f.get(scur).and_then(|v| v.parse().ok()).unwrap_or(0),
        })
        .collect())
}

/// Reads the application tier's servers (`listen app`) from HAProxy's stats CSV, with the
/// counters HAProxy keeps for each since it started; none when it has no such section.
fn parse_tier(csv: &str) -> Result<Vec<TierServer>, String> {
    let stats = Stats::parse(csv)?;
    let columns = [
        "svname",
        "status",
        "check_status",
        "stot",
        "wredis",
        "wretr",
        "econ",
        "eresp",
    ]
    .map(|c| stats.column(c));
    let [svname, status, check, stot, wredis, wretr, econ, eresp] = columns;
    let (svname, status, check) = (svname?, status?, check?);
    let (stot, wredis, wretr, econ, eresp) = (stot?, wredis?, wretr?, econ?, eresp?);
    let count = |f: &[&str], i: usize| f.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(stats
        .servers(APP_PROXY)?
        .into_iter()
        .map(|f| TierServer {
            name: f[svname].to_string(),
            status: f.get(status).unwrap_or(&"").to_string(),
            check: f.get(check).unwrap_or(&"").to_string(),
            sessions_total: count(f, stot),
            redispatched: count(f, wredis),
            retried: count(f, wretr),
            connect_errors: count(f, econ),
            response_errors: count(f, eresp),
        })
        .collect())
}

/// `listen app`: HTTP in front of the application servers, each checked on its status
/// endpoint, with the tier's settings (`[topology.app]`).
fn app_section(tier: &app::AppSettings) -> String {
    let servers: String = (1..=tier.nodes as usize)
        .map(|i| {
            let name = app::name(i);
            format!(
                "    server {name} {name}:{port} check init-addr last,libc,none\n",
                port = tier.port
            )
        })
        .collect();
    format!(
        "\nlisten {APP_PROXY}\n    mode http\n    bind *:{APP_PORT}\n    balance {balance}\n\
         \x20   option httpchk GET {status}\n    http-check expect status 200\n\
         \x20   retries {retries}\n{redispatch}\
         \x20   timeout connect {connect}ms\n    timeout server {server}ms\n\
         \x20   timeout check {check}ms\n\
         \x20   default-server inter {inter}ms fall {fall} rise {rise}\n{servers}",
        balance = tier.balance.name(),
        status = tier.status,
        retries = tier.retries,
        redispatch = if tier.redispatch {
            "    option redispatch\n"
        } else {
            ""
        },
        connect = tier.timeout_connect.as_millis(),
        server = tier.timeout_server.as_millis(),
        check = tier.timeout_check.as_millis(),
        inter = tier.inter.as_millis(),
        fall = tier.fall,
        rise = tier.rise,
    )
}

/// Whether every application server is up in HAProxy's view after a passed check of its
/// status endpoint (a new HAProxy counts servers up before it has checked them).
pub async fn tier_ready(cluster: &Cluster, timeout: Duration) -> Result<(), String> {
    let addr = cluster
        .nodes_of(super::HAPROXY)
        .next()
        .and_then(|n| n.host_addr(STATS_PORT))
        .ok_or("no published stats port")?;
    let tier = parse_tier(&stats_csv(&cluster.http, &addr, timeout).await?)?;
    let waiting: Vec<String> = tier
        .iter()
        .filter(|s| !(s.is_up() && s.check.starts_with("L7OK")))
        .map(|s| format!("{} {} ({})", s.name, s.status, s.check))
        .collect();
    if tier.is_empty() {
        return Err("no application servers in HAProxy's stats".into());
    }
    if waiting.is_empty() {
        Ok(())
    } else {
        Err(waiting.join(", "))
    }
}

pub const VERSION_CMD: &[&str] = &["haproxy", "-v"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn routes_every_node_through_the_patroni_check() {
        let cfg = render_config(
            &HaproxySettings {
                check: HaproxyCheck::PatroniRest,
                inter: Duration::from_secs(1),
                fall: 3,
                rise: 2,
                port: None,
            },
            3,
            false,
        );
        assert!(cfg.contains("option httpchk OPTIONS /primary"));
        assert!(cfg.contains("inter 1000ms fall 3 rise 2"));
        for n in ["pg1", "pg2", "pg3"] {
            assert!(cfg.contains(&format!("server {n} {n}:5432 check port 8008")));
        }
    }

    #[test]
    fn through_poolers_each_server_is_the_pgbouncer_beside_its_node() {
        let spec = HaproxySettings {
            check: HaproxyCheck::PatroniRest,
            inter: Duration::from_secs(1),
            fall: 3,
            rise: 2,
            port: None,
        };
        let cfg = render_config(&spec, 3, true);
        for i in 1..=3 {
            let line =
                format!("server pg{i} pgbouncer{i}:6432 check addr pg{i} port 8008 init-addr");
            assert_eq!(
                cfg.matches(&line).count(),
                2,
                "{line} in both sections:\n{cfg}"
            );
        }
        assert!(!cfg.contains(":5432 check"), "{cfg}");
    }

    fn patroni_rest(nodes: usize) -> (String, NodeSpec) {
        let spec = HaproxySettings {
            check: HaproxyCheck::PatroniRest,
            inter: Duration::from_millis(500),
            fall: 2,
            rise: 1,
            port: None,
        };
        (
            render_config(&spec, nodes, false),
            super::spec(&spec, nodes, false),
        )
    }

    /// The lines of the `listen NAME` section, up to the next blank line.
    fn section<'a>(cfg: &'a str, name: &str) -> Vec<&'a str> {
        cfg.lines()
            .skip_while(|l| *l != format!("listen {name}"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .map(str::trim)
            .collect()
    }

    #[test]
    fn a_replica_endpoint_balances_over_the_nodes_patroni_calls_replicas() {
        let (cfg, spec) = patroni_rest(3);
        let replicas = section(&cfg, "replicas");
        assert_eq!(
            replicas,
            [
                "bind *:5001",
                "balance roundrobin",
                "option httpchk OPTIONS /replica",
                "http-check expect status 200",
                "default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions",
                "server pg1 pg1:5432 check port 8008 init-addr last,libc,none",
                "server pg2 pg2:5432 check port 8008 init-addr last,libc,none",
                "server pg3 pg3:5432 check port 8008 init-addr last,libc,none",
            ]
        );
        // the client endpoint is unchanged: one primary, by Patroni's /primary
        let primary = section(&cfg, "primary");
        assert_eq!(primary[0], "bind *:5432");
        assert!(primary.contains(&"option httpchk OPTIONS /primary"));
        assert!(
            !primary
                .iter()
                .any(|l| l.contains("/replica") || l.contains("balance"))
        );
        assert_eq!(cfg.matches("listen ").count(), 2);
        assert!(spec.ports.contains(&REPLICA_PORT));
        assert!(spec.ports.contains(&PG_PORT) && spec.ports.contains(&STATS_PORT));
    }

    #[test]
    fn a_tcp_check_has_no_replica_endpoint() {
        let spec = HaproxySettings {
            check: HaproxyCheck::Tcp,
            inter: Duration::from_secs(1),
            fall: 3,
            rise: 2,
            port: None,
        };
        let cfg = render_config(&spec, 3, false);
        assert!(section(&cfg, "replicas").is_empty());
        assert!(!cfg.contains("/replica") && !cfg.contains(":5001"));
        assert_eq!(super::spec(&spec, 3, false).ports, [PG_PORT, STATS_PORT]);
    }

    #[test]
    fn a_fixed_port_publishes_the_client_endpoint_only() {
        let (_, chosen) = patroni_rest(3);
        assert!(chosen.fixed_ports.is_empty());
        assert_eq!(chosen.fixed_host_port(PG_PORT), None);
        for check in [HaproxyCheck::PatroniRest, HaproxyCheck::Tcp] {
            let spec = super::spec(
                &HaproxySettings {
                    check,
                    inter: Duration::from_secs(1),
                    fall: 3,
                    rise: 2,
                    port: Some(15432),
                },
                3,
                false,
            );
            let fixed = FixedPort {
                container: PG_PORT,
                host: 15432,
                setting: "[topology.haproxy] port",
            };
            assert_eq!(spec.fixed_ports, std::slice::from_ref(&fixed));
            assert_eq!(spec.fixed_host_port(PG_PORT), Some(&fixed));
            assert_eq!(spec.fixed_host_port(STATS_PORT), None);
            assert_eq!(spec.fixed_host_port(REPLICA_PORT), None);
            // still published, like every other port
            assert_eq!(spec.ports, ports(check));
        }
    }

    #[test]
    fn reads_each_server_of_the_client_proxy_from_the_stats() {
        let csv = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,\n\
                   stats,FRONTEND,,,1,1,2000,3,0,0,0,0,0,,,,,OPEN,\n\
                   primary,FRONTEND,,,4,9,2000,99,0,0,0,0,0,,,,,OPEN,\n\
                   primary,pg1,0,0,0,3,,40,0,0,,0,,0,0,0,0,DOWN,\n\
                   primary,pg2,0,0,4,6,,59,0,0,,0,,0,0,0,0,UP,\n\
                   primary,pg3,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN 1/2,\n\
                   primary,BACKEND,0,0,4,9,200,99,0,0,0,0,,0,0,0,0,UP,\n";
        let servers = parse_stats(csv, PROXY).unwrap();
        let seen: Vec<_> = servers
            .iter()
            .map(|s| (s.name.as_str(), s.status.as_str(), s.sessions, s.is_up()))
            .collect();
        assert_eq!(
            seen,
            [
                ("pg1", "DOWN", 0, false),
                ("pg2", "UP", 4, true),
                ("pg3", "DOWN 1/2", 0, false)
            ]
        );
        assert!(parse_stats("<html>", PROXY).is_err());
    }

    /// The compose health check's filter, run by the shell on stats as HAProxy writes them.
    fn filter_passes(csv: &str) -> bool {
        use std::io::Write;
        let mut child = std::process::Command::new("sh")
            .args(["-c", &up_filter(PROXY)])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(csv.as_bytes())
            .unwrap();
        child.wait().unwrap().success()
    }

    #[test]
    fn the_health_check_passes_while_a_server_of_the_client_proxy_is_up() {
        let header = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,\n";
        let row = |px: &str, sv: &str, status: &str| {
            format!("{px},{sv},0,0,0,3,,40,0,0,,0,,0,0,0,0,{status},\n")
        };
        let up = format!(
            "{header}{}{}{}{}",
            row("primary", "FRONTEND", "OPEN"),
            row("primary", "pg1", "DOWN"),
            row("primary", "pg2", "UP"),
            row("primary", "BACKEND", "UP"),
        );
        assert!(filter_passes(&up));
        let going_down = format!("{header}{}", row("primary", "pg2", "UP 1/3"));
        assert!(filter_passes(&going_down));
        // the backend, the replica endpoint and other proxies say nothing of the client's
        let none = format!(
            "{header}{}{}{}{}",
            row("primary", "pg1", "DOWN"),
            row("primary", "pg2", "DOWN 1/2"),
            row("primary", "BACKEND", "UP"),
            row("replicas", "pg3", "UP"),
        );
        assert!(!filter_passes(&none));
        assert!(!filter_passes(""));
        assert!(!filter_passes("<html>"));
    }

    #[test]
    fn in_front_of_the_tier_alone_it_routes_no_database_connection() {
        let tier = app::AppSettings {
            nodes: 2,
            balance: app::Balance::Source,
            ..app::AppSettings::defaults_for_tests()
        };
        let spec = tier_only_spec(&tier);
        let cfg = &spec.files[0].contents;
        assert!(section(cfg, PROXY).is_empty() && section(cfg, REPLICAS).is_empty());
        assert!(!cfg.contains(":5432"), "{cfg}");
        let app = section(cfg, APP_PROXY);
        assert!(app.contains(&"balance source"), "{cfg}");
        assert!(app.contains(&"server app2 app2:8080 check init-addr last,libc,none"));
        assert_eq!(spec.ports, [STATS_PORT, APP_PORT]);
        assert!(spec.fixed_ports.is_empty());
        // no database server to wait for: HAProxy starts at once, healthy with a server up
        assert_eq!(spec.cmd, command());
        assert!(spec.health.unwrap().command.contains("$1 == \"app\""));
        // the stats say no database server is routed to
        let csv = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,check_status,\n\
                   app,app1,0,0,0,3,,40,0,0,,0,,0,0,0,2,UP,L7OK,\n";
        assert_eq!(parse_stats(csv, PROXY).unwrap(), []);
        assert_eq!(parse_tier(csv).unwrap()[0].redispatched, 2);
    }

    #[test]
    fn a_tcp_check_knows_no_roles_and_prefers_the_first_node() {
        let cfg = render_config(
            &HaproxySettings {
                check: HaproxyCheck::Tcp,
                inter: Duration::from_secs(1),
                fall: 3,
                rise: 2,
                port: None,
            },
            2,
            false,
        );
        assert!(!cfg.contains("httpchk"));
        assert!(cfg.contains("balance first"));
        assert!(cfg.contains("server pg1 pg1:5432 check init-addr"));
        assert!(cfg.find("server pg1").unwrap() < cfg.find("server pg2").unwrap());
    }
}
