//! Varnish in front of the application servers, as content stacks put a cache before their
//! API processes: round-robin over the servers it finds healthy by its own probe of their
//! status endpoint, each answer kept `ttl` and served past it, stale, for `grace` (while a
//! background fetch tries to refresh it). Every answer says how it was served, in headers the
//! VCL sets: `X-Cache` (`hit`, `stale`: a grace hit, `miss`, `pass`) and `X-Cache-Age` (the
//! object's age in seconds, to the millisecond, on a hit).

use super::super::kind::{Kind, Naming, Render};
use super::super::{Cluster, FileSpec, Health, Node, NodeSpec};
use super::app;
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

pub const NAME: &str = "varnish";
/// Where clients reach it (the port Debian's package listens on).
pub const PORT: u16 = 6081;
const VCL_PATH: &str = "/etc/firedrill/varnish.vcl";
/// The headers the VCL sets on every answer.
pub const CACHE_HEADER: &str = "x-cache";
pub const AGE_HEADER: &str = "x-cache-age";

/// `[topology.varnish]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VarnishSettings {
    /// How long an answer is fresh (`beresp.ttl`).
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// How long past its ttl it is still served, stale (`beresp.grace`).
    #[serde(with = "humantime_serde")]
    pub grace: Duration,
    /// Its probe of each server's status endpoint: every `inter`, healthy when `threshold` of
    /// the last `window` probes passed.
    #[serde(with = "humantime_serde")]
    pub inter: Duration,
    pub window: u32,
    pub threshold: u32,
    /// How long a fetch waits for a server's connection and its first byte.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub first_byte_timeout: Duration,
}

impl Settings for VarnishSettings {
    const KIND: &'static str = NAME;
}

/// The settings of `topology`'s cache, if it has one.
pub fn settings(topology: &Topology) -> Option<&VarnishSettings> {
    topology.settings::<VarnishSettings>()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawVarnish {
    ttl: Option<Spanned<RawDuration>>,
    grace: Option<Spanned<RawDuration>>,
    inter: Option<Spanned<RawDuration>>,
    window: Option<Spanned<i64>>,
    threshold: Option<Spanned<i64>>,
    connect_timeout: Option<Spanned<RawDuration>>,
    first_byte_timeout: Option<Spanned<RawDuration>>,
}

/// A one-second ttl (a content API's answers change), 30 s of grace, a probe every second
/// healthy on 2 of the last 3 (Varnish's own window and threshold defaults are 8 and 3).
fn check(input: &SettingsInput<'_>, raw: &RawVarnish) -> Result<VarnishSettings, SettingsError> {
    let ms = Duration::from_millis;
    let settings = VarnishSettings {
        ttl: input.duration(raw.ttl.as_ref(), "ttl", ms(1000), ms(100))?,
        grace: input.duration(raw.grace.as_ref(), "grace", ms(30_000), ms(0))?,
        inter: input.duration(raw.inter.as_ref(), "inter", ms(1000), ms(100))?,
        window: input.int(raw.window.as_ref(), "window", (3, 1, 64))? as u32,
        threshold: input.int(raw.threshold.as_ref(), "threshold", (2, 1, 64))? as u32,
        connect_timeout: input.duration(
            raw.connect_timeout.as_ref(),
            "connect_timeout",
            ms(1000),
            ms(10),
        )?,
        first_byte_timeout: input.duration(
            raw.first_byte_timeout.as_ref(),
            "first_byte_timeout",
            ms(3000),
            ms(10),
        )?,
    };
    if let Some(threshold) = &raw.threshold
        && settings.threshold > settings.window
    {
        return Err(input.invalid(
            threshold.span(),
            "threshold",
            format!(
                "expected at most the window ({}), found {}",
                settings.window, settings.threshold
            ),
        ));
    }
    Ok(settings)
}

/// The Varnish kind.
pub struct Varnish;

impl Kind for Varnish {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        Naming::Single(NAME)
    }

    /// Optional: none without a `[topology.varnish]` table (validate requires an application
    /// tier beside it).
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        match input.table::<RawVarnish>()? {
            None => Ok(None),
            Some(raw) => Ok(Some(Box::new(check(input, &raw)?))),
        }
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<VarnishSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        usize::from(settings(topology).is_some())
    }

    fn count_setting(&self) -> &'static str {
        "topology.varnish"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let v = settings(topology)?;
        Some(format!(
            "Varnish in front of the API servers (ttl {}, grace {}, probe every {}, healthy {} of {})",
            humantime::format_duration(v.ttl),
            humantime::format_duration(v.grace),
            humantime::format_duration(v.inter),
            v.threshold,
            v.window,
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["varnish"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        // it prints its version on standard error
        &[("varnish", &["sh", "-c", "varnishd -V 2>&1"])]
    }

    fn has_disk(&self) -> bool {
        false
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let (Some(cache), Some(tier)) = (settings(render.topology), app::settings(render.topology))
        else {
            return Vec::new();
        };
        let servers: Vec<String> = (1..=tier.nodes as usize).map(app::name).collect();
        vec![NodeSpec {
            name: NAME.into(),
            kind: super::VARNISH,
            image: None,
            cmd: once_servers_resolve(&servers),
            user: None,
            files: vec![FileSpec {
                path: VCL_PATH.into(),
                contents: render_vcl(cache, tier),
                mode: 0o644,
            }],
            ports: vec![PORT],
            fixed_ports: vec![],
            cap_add: vec!["NET_ADMIN".into()],
            disks: vec![],
            secret_env: vec![],
            env: vec![],
            health: Some(Health {
                command: format!(
                    "curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:{PORT}{}",
                    tier.status
                ),
                interval: Duration::from_secs(2),
                timeout: Duration::from_secs(3),
                retries: 3,
                start_period: Duration::from_secs(60),
            }),
        }]
    }
}

/// Whether Varnish, asked through its published port, answers `status` with 200 from an
/// application server.
pub async fn serves(cluster: &Cluster, node: &Node, status: &str, timeout: Duration) -> bool {
    let Some(addr) = node.host_addr(PORT) else {
        return false;
    };
    cluster
        .http
        .get(format!("http://{addr}{status}"))
        .timeout(timeout)
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 200)
}

/// `varnishd` in the foreground, started once every server's name resolves: it resolves its
/// backends' names when it loads the VCL and refuses a name it cannot resolve. At most 30 s.
/// Its working directory is in the container's own filesystem: it loads the VCL compiled into
/// a shared object from there, which Docker's tmpfs on /tmp (noexec) would refuse.
fn once_servers_resolve(servers: &[String]) -> Vec<String> {
    let script = format!(
        "end=$(($(date +%s) + 30)); while [ \"$(date +%s)\" -lt \"$end\" ]; do ok=1; \
         for h in {hosts}; do getent hosts $h > /dev/null || ok=0; done; [ $ok -eq 1 ] && break; \
         sleep 0.1; done; exec varnishd -F -a :{PORT} -f {VCL_PATH} -n /var/lib/varnish/firedrill -s malloc,64m",
        hosts = servers.join(" "),
    );
    vec!["sh".into(), "-c".into(), script]
}

/// The VCL: a round-robin director over the servers, each probed on its status endpoint;
/// GETs cached for `ttl` and served stale for `grace`; how each answer was served in
/// `X-Cache` and the object's age in `X-Cache-Age`.
pub fn render_vcl(cache: &VarnishSettings, tier: &app::AppSettings) -> String {
    let secs = |d: Duration| format!("{:.3}s", d.as_secs_f64());
    let backends: String = (1..=tier.nodes as usize)
        .map(|i| {
            let name = app::name(i);
            format!(
                "backend {name} {{\n    .host = \"{name}\";\n    .port = \"{port}\";\n    \
                 .probe = status;\n    .connect_timeout = {connect};\n    \
                 .first_byte_timeout = {first};\n}}\n\n",
                port = tier.port,
                connect = secs(cache.connect_timeout),
                first = secs(cache.first_byte_timeout),
            )
        })
        .collect();
    let adds: String = (1..=tier.nodes as usize)
        .map(|i| format!("    tier.add_backend({});\n", app::name(i)))
        .collect();
    format!(
        "vcl 4.1;\nimport directors;\n\n\
         probe status {{\n    .url = \"{status}\";\n    .interval = {inter};\n    .timeout = {inter};\n    \
         .window = {window};\n    .threshold = {threshold};\n    .initial = {threshold};\n}}\n\n\
         {backends}\
         sub vcl_init {{\n    new tier = directors.round_robin();\n{adds}}}\n\n\
         sub vcl_recv {{\n    set req.backend_hint = tier.backend();\n    unset req.http.X-Firedrill-Cache;\n    \
         unset req.http.X-Firedrill-Age;\n    if (req.method != \"GET\" && req.method != \"HEAD\") {{\n        \
         return (pass);\n    }}\n    return (hash);\n}}\n\n\
         sub vcl_hit {{\n    if (obj.ttl >= 0s) {{\n        set req.http.X-Firedrill-Cache = \"hit\";\n    }} else {{\n        \
         set req.http.X-Firedrill-Cache = \"stale\";\n    }}\n    set req.http.X-Firedrill-Age = obj.age;\n}}\n\n\
         sub vcl_miss {{\n    set req.http.X-Firedrill-Cache = \"miss\";\n}}\n\n\
         sub vcl_pass {{\n    set req.http.X-Firedrill-Cache = \"pass\";\n}}\n\n\
         sub vcl_backend_response {{\n    set beresp.ttl = {ttl};\n    set beresp.grace = {grace};\n}}\n\n\
         sub vcl_deliver {{\n    set resp.http.X-Cache = req.http.X-Firedrill-Cache;\n    \
         set resp.http.X-Cache-Age = req.http.X-Firedrill-Age;\n}}\n",
        status = tier.status,
        inter = secs(cache.inter),
        window = cache.window,
        threshold = cache.threshold,
        ttl = secs(cache.ttl),
        grace = secs(cache.grace),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> VarnishSettings {
        VarnishSettings {
            ttl: Duration::from_secs(1),
            grace: Duration::from_secs(30),
            inter: Duration::from_secs(1),
            window: 3,
            threshold: 2,
            connect_timeout: Duration::from_secs(1),
            first_byte_timeout: Duration::from_secs(3),
        }
    }

    #[test]
    fn the_vcl_balances_over_every_server_probed_on_its_status_path() {
        let tier: app::AppSettings = serde_json::from_value(serde_json::json!({
            "nodes": 3, "pool": 4, "balance": "roundrobin", "retries": 3, "redispatch": true,
            "inter": "1s", "fall": 3, "rise": 2, "timeout_connect": "1s", "timeout_server": "3s",
            "timeout_check": "1s", "db_connect_timeout": "1s"
        }))
        .unwrap();
        let vcl = render_vcl(&cache(), &tier);
        for i in 1..=3 {
            assert!(vcl.contains(&format!(
                "backend app{i} {{\n    .host = \"app{i}\";\n    .port = \"8080\";"
            )));
            assert!(vcl.contains(&format!("tier.add_backend(app{i});")));
        }
        assert!(vcl.contains(".url = \"/status\";"));
        assert!(vcl.contains("set beresp.ttl = 1.000s;"));
        assert!(vcl.contains("set beresp.grace = 30.000s;"));
        assert!(vcl.contains("set resp.http.X-Cache = req.http.X-Firedrill-Cache;"));
    }
}
