//! A team's own Patroni settings in `[topology.patroni]`: keys of Patroni's dynamic
//! configuration, PostgreSQL `parameters` merged over firedrill's, and per-node `tags`. Each is
//! applied as written (the rendered patroni.yml, whose sha256 is in the run's fingerprint);
//! what firedrill needs for its own measurements is refused with the reason.

use crate::scenario::{RawDuration, SettingsError, SettingsInput};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

/// What the scenario sets of its own; absent keys keep firedrill's choices (Patroni's own
/// defaults, `use_slots` and `use_pg_rewind` on).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnSettings {
    /// Patroni's `failsafe_mode`: a leader that cannot reach etcd stays primary while every
    /// other member still answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failsafe_mode: Option<bool>,
    /// Patroni's `primary_start_timeout`, whole seconds: how long a crashed primary may take to
    /// recover in place before a failover.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "humantime_serde::option"
    )]
    pub primary_start_timeout: Option<Duration>,
    /// Patroni's `synchronous_node_count` (with `synchronous_mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronous_node_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_slots: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_pg_rewind: Option<bool>,
    /// PostgreSQL parameters, merged over firedrill's in Patroni's dynamic configuration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Value>,
    /// Node name → its Patroni tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, NodeTags>,
}

/// A node's Patroni tags (those Patroni 3.0 knows).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeTags {
    /// Never promoted, never a candidate in a failover.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nofailover: bool,
    /// Its REST API's `/replica` check fails: load balancers leave it out of read traffic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub noloadbalance: bool,
    /// Never chosen as a synchronous standby.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nosync: bool,
}

/// The own keys of `[topology.patroni]` as written.
pub(super) struct RawOwn<'a> {
    pub failsafe_mode: Option<&'a Spanned<bool>>,
    pub primary_start_timeout: Option<&'a Spanned<RawDuration>>,
    pub synchronous_node_count: Option<&'a Spanned<i64>>,
    pub use_slots: Option<&'a Spanned<bool>>,
    pub use_pg_rewind: Option<&'a Spanned<bool>>,
    pub parameters: Option<&'a BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    pub tags: Option<&'a BTreeMap<Spanned<String>, Spanned<RawTags>>>,
}

/// `[topology.patroni.tags.NODE]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawTags {
    nofailover: Option<Spanned<bool>>,
    noloadbalance: Option<Spanned<bool>>,
    nosync: Option<Spanned<bool>>,
    /// Refused with the reason: not in the Patroni the image runs.
    failover_priority: Option<Spanned<toml::Value>>,
}

/// PostgreSQL parameters a scenario may not set, and why: firedrill's measurements, probes or
/// Patroni itself depend on them.
const REFUSED: &[(&str, &str)] = &[
    (
        super::patroni::NODE_SETTING,
        "every write learns from it which node accepted it",
    ),
    (
        "unix_socket_directories",
        "firedrill's commands inside the nodes connect through /tmp",
    ),
    (
        "listen_addresses",
        "Patroni sets it from postgresql.listen, where clients connect",
    ),
    ("port", "clients, probes and replicas connect to 5432"),
    (
        "hot_standby",
        "replicas must answer the read probes and the readers",
    ),
    (
        "synchronous_standby_names",
        "Patroni manages it (synchronous_mode, synchronous_node_count)",
    ),
    (
        "password_encryption",
        "the harness's passwords are stored as md5, and pg_hba asks for md5",
    ),
    (
        "archive_mode",
        "the pgbackrest kind sets archiving ([topology.pgbackrest])",
    ),
    (
        "archive_command",
        "the pgbackrest kind sets archiving ([topology.pgbackrest])",
    ),
    (
        "restore_command",
        "the pgbackrest kind sets recovery ([topology.pgbackrest])",
    ),
];

/// Parameters firedrill's replication needs at least a value of.
const AT_LEAST: &[(&str, i64, &str)] = &[
    ("max_wal_senders", 10, "one per replica and pg_basebackup"),
    ("max_replication_slots", 10, "one per replica (use_slots)"),
];

/// Checks the own keys: `nodes` Patroni nodes, synchronous mode on or not.
pub(super) fn check(
    input: &SettingsInput<'_>,
    raw: &RawOwn<'_>,
    nodes: usize,
    synchronous_mode: bool,
) -> Result<OwnSettings, SettingsError> {
    let flag = |value: Option<&Spanned<bool>>| value.map(|v| *v.get_ref());
    let primary_start_timeout = match raw.primary_start_timeout {
        None => None,
        Some(value) => {
            let duration = input.duration(
                Some(value),
                "primary_start_timeout",
                Duration::ZERO,
                Duration::ZERO,
            )?;
            if duration.subsec_nanos() != 0 {
                return Err(input.invalid(
                    value.span(),
                    "primary_start_timeout",
                    format!(
                        "expected whole seconds, Patroni takes integers, found {:?}",
                        value.get_ref().0
                    ),
                ));
            }
            Some(duration)
        }
    };
    let synchronous_node_count = match raw.synchronous_node_count {
        None => None,
        Some(count) if !synchronous_mode => {
            return Err(input.invalid(
                count.span(),
                "synchronous_node_count",
                "expected synchronous_mode = true beside it: it counts synchronous standbys",
            ));
        }
        Some(count) => {
            let most = nodes.saturating_sub(1).max(1) as i64;
            Some(input.int(Some(count), "synchronous_node_count", (1, 1, most))? as u32)
        }
    };
    Ok(OwnSettings {
        failsafe_mode: flag(raw.failsafe_mode),
        primary_start_timeout,
        synchronous_node_count,
        use_slots: flag(raw.use_slots),
        use_pg_rewind: flag(raw.use_pg_rewind),
        parameters: match raw.parameters {
            None => BTreeMap::new(),
            Some(table) => parameters(input, table)?,
        },
        tags: match raw.tags {
            None => BTreeMap::new(),
            Some(tags) => node_tags(input, tags, nodes)?,
        },
    })
}

fn parameters(
    input: &SettingsInput<'_>,
    table: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
) -> Result<BTreeMap<String, Value>, SettingsError> {
    let mut parameters = BTreeMap::new();
    for (name, value) in table {
        let (name, span, value) = (name.get_ref(), value.span(), value.get_ref());
        let key = format!("parameters.{name}");
        if let Some((_, why)) = REFUSED.iter().find(|(refused, _)| refused == name) {
            return Err(input.invalid(
                span,
                &key,
                format!("firedrill sets this parameter itself: {why}"),
            ));
        }
        let json = match value {
            toml::Value::String(text) => Value::from(text.clone()),
            toml::Value::Integer(n) => Value::from(*n),
            toml::Value::Float(x) => Value::from(*x),
            toml::Value::Boolean(b) => Value::from(if *b { "on" } else { "off" }),
            other => {
                return Err(input.invalid(
                    span.clone(),
                    &key,
                    format!(
                        "expected a string, a number or a boolean, found {}",
                        other.type_str()
                    ),
                ));
            }
        };
        if let Some(&(_, least, why)) = AT_LEAST.iter().find(|(n, _, _)| n == name) {
            let n = match &json {
                Value::Number(n) => n.as_i64(),
                Value::String(text) => text.trim().parse().ok(),
                _ => None,
            };
            if n.is_none_or(|n| n < least) {
                return Err(input.invalid(
                    span.clone(),
                    &key,
                    format!("expected an integer of at least {least} ({why}), found {value}"),
                ));
            }
        }
        if name == "wal_level" && !matches!(value.as_str(), Some("replica" | "logical")) {
            return Err(input.invalid(
                span.clone(),
                &key,
                format!(
                    "expected \"replica\" or \"logical\" (streaming replication), found {value}"
                ),
            ));
        }
        parameters.insert(name.clone(), json);
    }
    Ok(parameters)
}

fn node_tags(
    input: &SettingsInput<'_>,
    tags: &BTreeMap<Spanned<String>, Spanned<RawTags>>,
    nodes: usize,
) -> Result<BTreeMap<String, NodeTags>, SettingsError> {
    let mut all = BTreeMap::new();
    for (node, raw) in tags {
        let name = node.get_ref();
        let known = (1..=nodes).any(|i| super::patroni::name(i) == *name);
        if !known {
            return Err(input.invalid(
                node.span(),
                "tags",
                format!("expected a Patroni node (pg1..pg{nodes}), found {name:?}"),
            ));
        }
        let raw = raw.get_ref();
        if let Some(priority) = &raw.failover_priority {
            return Err(input.invalid(
                priority.span(),
                &format!("tags.{name}.failover_priority"),
                "not known to the Patroni the image runs (3.0.4; it came with 3.1): use \
                 nofailover = true to keep a node from being promoted",
            ));
        }
        let flag = |v: &Option<Spanned<bool>>| v.as_ref().is_some_and(|v| *v.get_ref());
        all.insert(
            name.clone(),
            NodeTags {
                nofailover: flag(&raw.nofailover),
                noloadbalance: flag(&raw.noloadbalance),
                nosync: flag(&raw.nosync),
            },
        );
    }
    Ok(all)
}

/// Writes the own settings into node `me`'s patroni.yml: dynamic keys and parameters into the
/// bootstrap's DCS section (the cluster's configuration, set when it is made), `me`'s tags into
/// its own `tags`.
pub(super) fn apply(config: &mut Value, me: &str, own: &OwnSettings) {
    let dcs = &mut config["bootstrap"]["dcs"];
    if let Some(failsafe) = own.failsafe_mode {
        dcs["failsafe_mode"] = json!(failsafe);
    }
    if let Some(timeout) = own.primary_start_timeout {
        dcs["primary_start_timeout"] = json!(timeout.as_secs());
    }
    if let Some(count) = own.synchronous_node_count {
        dcs["synchronous_node_count"] = json!(count);
    }
    if let Some(use_slots) = own.use_slots {
        dcs["postgresql"]["use_slots"] = json!(use_slots);
    }
    if let Some(use_pg_rewind) = own.use_pg_rewind {
        dcs["postgresql"]["use_pg_rewind"] = json!(use_pg_rewind);
    }
    if let Some(parameters) = dcs["postgresql"]["parameters"].as_object_mut() {
        parameters.extend(own.parameters.clone());
    }
    if let Some(tags) = own.tags.get(me) {
        config["tags"] = json!(tags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::kinds::patroni::{self, render_config};

    /// The shipped default scenario with `extra` keys in its `[topology.patroni]`.
    fn with(extra: &str) -> Result<crate::scenario::Scenario, crate::scenario::ScenarioError> {
        let text = crate::scenario::shipped(crate::scenario::DEFAULT)
            .unwrap()
            .replacen(
                "[topology.patroni]\n",
                &format!("[topology.patroni]\n{extra}\n"),
                1,
            );
        crate::scenario::parse(std::path::Path::new("own.toml"), &text)
    }

    fn own(extra: &str) -> OwnSettings {
        let scenario = with(extra).unwrap();
        patroni::settings(&scenario.topology).unwrap().own.clone()
    }

    fn error(extra: &str) -> String {
        with(extra).unwrap_err().to_string()
    }

    #[test]
    fn own_settings_reach_every_node_s_patroni_yml_and_tags_only_their_node_s() {
        let scenario = with(
            "failsafe_mode = true\nprimary_start_timeout = \"0s\"\nuse_slots = false\n\
             parameters = { work_mem = \"8MB\", max_connections = 300, log_checkpoints = true }\n\
             tags.pg2 = { nofailover = true, noloadbalance = true }",
        )
        .unwrap();
        let spec = patroni::settings(&scenario.topology).unwrap();
        let config = |me: &str| -> Value {
            serde_json::from_str(&render_config(me, true, spec, 3, None, None)).unwrap()
        };
        let pg2 = config("pg2");
        let dcs = &pg2["bootstrap"]["dcs"];
        assert_eq!(dcs["failsafe_mode"], true);
        assert_eq!(dcs["primary_start_timeout"], 0);
        assert_eq!(dcs["postgresql"]["use_slots"], false);
        assert_eq!(dcs["postgresql"]["use_pg_rewind"], true, "firedrill's kept");
        let parameters = &dcs["postgresql"]["parameters"];
        assert_eq!(parameters["work_mem"], "8MB");
        assert_eq!(parameters["max_connections"], 300, "over firedrill's 200");
        assert_eq!(parameters["log_checkpoints"], "on");
        assert_eq!(parameters["wal_level"], "replica", "firedrill's kept");
        assert_eq!(
            pg2["tags"],
            json!({ "nofailover": true, "noloadbalance": true })
        );
        // no slots made at bootstrap when Patroni will not manage them
        assert!(pg2["bootstrap"].get("post_bootstrap").is_none());
        assert!(config("pg1").get("tags").is_none());
        // the record keeps them, and reads them back
        let json = serde_json::to_value(spec).unwrap();
        let back: patroni::PatroniSettings = serde_json::from_value(json).unwrap();
        assert_eq!(&back, spec);
    }

    #[test]
    fn without_own_settings_the_record_is_as_before() {
        let scenario = with("").unwrap();
        let spec = patroni::settings(&scenario.topology).unwrap();
        assert_eq!(spec.own, OwnSettings::default());
        let json = serde_json::to_value(spec).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "loop_wait",
                "maximum_lag_on_failover",
                "nodes",
                "retry_timeout",
                "synchronous_mode",
                "synchronous_mode_strict",
                "ttl"
            ]
        );
    }

    #[test]
    fn what_firedrill_needs_is_refused_with_the_reason_and_the_position() {
        insta::assert_snapshot!(error("parameters = { hot_standby = \"off\" }"), @"own.toml:12:30: topology.patroni.parameters.hot_standby: firedrill sets this parameter itself: replicas must answer the read probes and the readers");
        insta::assert_snapshot!(error("parameters = { max_wal_senders = 3 }"), @"own.toml:12:34: topology.patroni.parameters.max_wal_senders: expected an integer of at least 10 (one per replica and pg_basebackup), found 3");
        insta::assert_snapshot!(error("parameters = { wal_level = \"minimal\" }"), @r#"own.toml:12:28: topology.patroni.parameters.wal_level: expected "replica" or "logical" (streaming replication), found "minimal""#);
        insta::assert_snapshot!(error("parameters = { shared_preload_libraries = [\"x\"] }"), @"own.toml:12:43: topology.patroni.parameters.shared_preload_libraries: expected a string, a number or a boolean, found array");
        insta::assert_snapshot!(error("tags.pg7 = { nofailover = true }"), @r#"own.toml:12:6: topology.patroni.tags: expected a Patroni node (pg1..pg3), found "pg7""#);
        insta::assert_snapshot!(error("tags.pg2 = { failover_priority = 1 }"), @"own.toml:12:34: topology.patroni.tags.pg2.failover_priority: not known to the Patroni the image runs (3.0.4; it came with 3.1): use nofailover = true to keep a node from being promoted");
        insta::assert_snapshot!(error("tags.pg2 = { nofailovr = true }"), @"own.toml:12:14: unknown key `nofailovr` in [topology.patroni.tags.pg2], did you mean `nofailover`?");
        insta::assert_snapshot!(error("synchronous_node_count = 1"), @"own.toml:12:26: topology.patroni.synchronous_node_count: expected synchronous_mode = true beside it: it counts synchronous standbys");
        insta::assert_snapshot!(error("primary_start_timeout = \"1.5s\""), @r#"own.toml:12:25: topology.patroni.primary_start_timeout: expected whole seconds, Patroni takes integers, found "1.5s""#);
        assert_eq!(
            own("parameters = { max_wal_senders = \"12\" }").parameters["max_wal_senders"],
            "12"
        );
    }
}
