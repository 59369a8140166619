//! keepalived beside each PostgreSQL node of a pair: a virtual IP held by the node whose
//! PostgreSQL is a primary, moved by VRRP. Its nodes are the PostgreSQL nodes themselves (it
//! runs inside them, as root beside the server). VRRP goes unicast between the nodes' own
//! addresses (a bridge network carries multicast, but a partition cuts traffic by address: a
//! peer cut off must not hear the adverts either). A track script asks the local server
//! whether it is in recovery: a standby's instance is in FAULT and never takes the address;
//! once promoted it takes it when no primary advertises (`nopreempt`: a returning node never
//! takes it back on priority alone).
//!
//! The virtual IP is the run network's last usable address, which Docker, allocating from the
//! start of the subnet, gives no container: each node computes it from its own address at
//! start, the harness from the network's subnet ([`virtual_ip`]). Peers' addresses are known
//! only once they run, so the configuration is rendered at start from a template, and again
//! (keepalived reloaded) when a peer comes back at another address.

use super::super::FileSpec;
use super::super::NodeSpec;
use super::super::kind::{Kind, Naming, Render};
use crate::scenario::{
    KindSettings, RawDuration, Settings, SettingsError, SettingsInput, Topology, read_json,
};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::time::Duration;
use toml::Spanned;

pub const NAME: &str = "keepalived";
/// The script the PostgreSQL node's start script runs beside the server when present.
pub const RUN_PATH: &str = "/etc/firedrill/keepalived-run";
const CHECK_PATH: &str = "/etc/firedrill/keepalived-check";
const TEMPLATE_PATH: &str = "/etc/firedrill/keepalived.conf.in";
/// Where the rendered configuration goes (the container's own filesystem).
const CONF_PATH: &str = "/run/firedrill-keepalived.conf";
/// The VRRP instance's router id on the run's network (one pair per network).
const ROUTER_ID: u8 = 51;

/// `[topology.keepalived]`. keepalived takes whole seconds for these (VRRP version 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeepalivedSettings {
    /// How often the holder advertises; a backup takes over after about three missed adverts.
    #[serde(with = "humantime_serde")]
    pub advert_int: Duration,
    /// How often the track script asks the local PostgreSQL whether it is a primary.
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// Failed checks in a row before the instance goes to FAULT (and gives up the address).
    pub fall: u32,
    /// Passed checks in a row before it may hold the address again.
    pub rise: u32,
}

impl Settings for KeepalivedSettings {
    const KIND: &'static str = NAME;
}

/// The settings of `topology`'s keepalived, if it has one.
pub fn settings(topology: &Topology) -> Option<&KeepalivedSettings> {
    topology.settings::<KeepalivedSettings>()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawKeepalived {
    advert_int: Option<Spanned<RawDuration>>,
    check_interval: Option<Spanned<RawDuration>>,
    fall: Option<Spanned<i64>>,
    rise: Option<Spanned<i64>>,
}

/// keepalived's own defaults for the advert (1 s); a check every second, two failures to
/// fall, one success to rise.
fn check(
    input: &SettingsInput<'_>,
    raw: &RawKeepalived,
) -> Result<KeepalivedSettings, SettingsError> {
    Ok(KeepalivedSettings {
        advert_int: whole_seconds(input, raw.advert_int.as_ref(), "advert_int")?,
        check_interval: whole_seconds(input, raw.check_interval.as_ref(), "check_interval")?,
        fall: input.int(raw.fall.as_ref(), "fall", (2, 1, 100))? as u32,
        rise: input.int(raw.rise.as_ref(), "rise", (1, 1, 100))? as u32,
    })
}

/// A keepalived interval: whole seconds, at least one (1 s when absent).
fn whole_seconds(
    input: &SettingsInput<'_>,
    value: Option<&Spanned<RawDuration>>,
    name: &str,
) -> Result<Duration, SettingsError> {
    let second = Duration::from_secs(1);
    let duration = input.duration(value, name, second, second)?;
    match value {
        Some(value) if duration.subsec_nanos() != 0 => Err(input.invalid(
            value.span(),
            name,
            format!(
                "expected whole seconds, keepalived takes integers, found {:?}",
                value.get_ref().0
            ),
        )),
        _ => Ok(duration),
    }
}

/// The keepalived kind: no nodes of its own.
pub struct Keepalived;

impl Kind for Keepalived {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        Naming::Inside(super::postgres::NAME)
    }

    /// Always there in the stack that runs it (its clients connect to the virtual IP), with
    /// the defaults when the table is absent.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        let raw = input.table::<RawKeepalived>()?.unwrap_or_default();
        Ok(Some(Box::new(check(input, &raw)?)))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<KeepalivedSettings>(value)
    }

    fn count(&self, _topology: &Topology) -> usize {
        0
    }

    fn count_setting(&self) -> &'static str {
        "topology.keepalived"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let s = settings(topology)?;
        Some(format!(
            "keepalived (VRRP unicast between the nodes, advert every {}, track script every {}, \
             fall {}, rise {}): the virtual IP on the primary",
            humantime::format_duration(s.advert_int),
            humantime::format_duration(s.check_interval),
            s.fall,
            s.rise,
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["keepalived"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        // it prints its version on standard error
        &[("keepalived", &["sh", "-c", "keepalived --version 2>&1"])]
    }

    fn has_disk(&self) -> bool {
        false
    }

    /// None: its files go into the PostgreSQL nodes ([`node_files`]).
    fn specs(&self, _render: &Render<'_>) -> Vec<NodeSpec> {
        Vec::new()
    }
}

/// The files a PostgreSQL node `me` carries to run keepalived beside its server, VRRP going
/// to `peers`.
pub fn node_files(settings: &KeepalivedSettings, me: &str, peers: &[String]) -> Vec<FileSpec> {
    vec![
        FileSpec {
            path: RUN_PATH.into(),
            contents: run_script(peers),
            mode: 0o755,
        },
        FileSpec {
            path: CHECK_PATH.into(),
            contents: CHECK.into(),
            mode: 0o755,
        },
        FileSpec {
            path: TEMPLATE_PATH.into(),
            contents: template(settings, me),
            mode: 0o644,
        },
    ]
}

/// The track script: the local PostgreSQL answers, and is not in recovery.
const CHECK: &str = "#!/bin/sh\n\
     # firedrill: keepalived's track script: the local PostgreSQL is a primary\n\
     [ \"$(/usr/lib/postgresql/15/bin/psql -h /tmp -U postgres -d postgres -XAtq \
     -c 'SELECT pg_is_in_recovery()' 2> /dev/null)\" = f ]\n";

/// keepalived.conf with `@SELF@` (the node's address), `@PEERS@` (a line per peer address)
/// and `@VIP@` (the virtual IP with the network's prefix) left for the run script.
pub fn template(settings: &KeepalivedSettings, me: &str) -> String {
    let secs = |d: Duration| d.as_secs();
    format!(
        "! firedrill: keepalived on {me}\n\
         global_defs {{\n    router_id {me}\n    script_user root\n}}\n\n\
         vrrp_script primary {{\n    script \"{CHECK_PATH}\"\n    interval {check}\n    \
         timeout {check}\n    fall {fall}\n    rise {rise}\n}}\n\n\
         vrrp_instance firedrill {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id {ROUTER_ID}\n    priority 100\n    advert_int {advert}\n    nopreempt\n    \
         unicast_src_ip @SELF@\n    unicast_peer {{\n@PEERS@\n    }}\n    \
         virtual_ipaddress {{\n        @VIP@ dev eth0\n    }}\n    \
         track_script {{\n        primary\n    }}\n}}\n",
        check = secs(settings.check_interval),
        fall = settings.fall,
        rise = settings.rise,
        advert = secs(settings.advert_int),
    )
}

/// Waits (at most 60 s) for every peer's name to resolve, renders the configuration, runs
/// keepalived in the foreground (VRRP only, logging to the container's output), and every
/// second looks the peers up again: one back at another address (a restarted container) is
/// written into the configuration and keepalived reloads it. A peer that does not resolve
/// (down) keeps its last address.
fn run_script(peers: &[String]) -> String {
    let names = peers.join(" ");
    format!(
        "#!/bin/sh\n\
         # firedrill: keepalived beside this node's PostgreSQL\n\
         set -u\n\
         mine=$(ip -4 -o addr show dev eth0 scope global | awk 'NR == 1 {{ print $4 }}')\n\
         vip=$(python3 -c 'import ipaddress, sys; n = ipaddress.ip_interface(sys.argv[1]).network; \
         print(f\"{{n.broadcast_address - 1}}/{{n.prefixlen}}\")' \"$mine\")\n\
         look() {{\n  changed=1\n  \
         for p in {names}; do\n    \
         ip=$(getent ahostsv4 \"$p\" | awk 'NR == 1 {{ print $1 }}')\n    \
         if [ -n \"$ip\" ] && [ \"$ip\" != \"$(cat /run/firedrill-peer-$p 2> /dev/null)\" ]; then\n      \
         echo \"$ip\" > /run/firedrill-peer-$p; changed=0\n    fi\n  done\n  return $changed\n}}\n\
         render() {{\n  \
         awk -v self=\"${{mine%/*}}\" -v vip=\"$vip\" -v peers=\"$(cat /run/firedrill-peer-* 2> /dev/null | tr '\\n' ' ')\" \
         '/@PEERS@/ {{ n = split(peers, p, \" \"); for (i = 1; i <= n; i++) print \"        \" p[i]; next }} \
         {{ gsub(\"@SELF@\", self); gsub(\"@VIP@\", vip); print }}' {TEMPLATE_PATH} > {CONF_PATH}\n}}\n\
         end=$(($(date +%s) + 60))\n\
         while [ \"$(ls /run/firedrill-peer-* 2> /dev/null | wc -l)\" -lt {count} ] && [ \"$(date +%s)\" -lt \"$end\" ]; do\n  \
         look; sleep 0.2\ndone\n\
         render\n\
         keepalived --dont-fork --log-console --log-detail --no-syslog --vrrp --use-file={CONF_PATH} \
         --pid=/run/keepalived.pid --vrrp_pid=/run/keepalived-vrrp.pid &\n\
         keepalived=$!\n\
         trap 'kill -TERM $keepalived 2> /dev/null; wait $keepalived; exit 0' TERM INT\n\
         while kill -0 $keepalived 2> /dev/null; do\n  \
         sleep 1\n  if look; then render; kill -HUP $keepalived; fi\ndone\n",
        count = peers.len(),
    )
}

/// The virtual IP on a network whose subnet is `subnet` (`172.18.0.0/16`): its last usable
/// address, as the nodes compute it. `None` for a subnet too small to hold nodes and the
/// address (or not IPv4).
pub fn virtual_ip(subnet: &str) -> Option<Ipv4Addr> {
    let (address, prefix) = subnet.split_once('/')?;
    let address: Ipv4Addr = address.parse().ok()?;
    let prefix: u32 = prefix.parse().ok()?;
    if prefix > 28 {
        return None;
    }
    let host_bits = u32::MAX >> prefix;
    let broadcast = u32::from(address) | host_bits;
    Some(Ipv4Addr::from(broadcast - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vrrp() -> KeepalivedSettings {
        KeepalivedSettings {
            advert_int: Duration::from_secs(1),
            check_interval: Duration::from_secs(2),
            fall: 3,
            rise: 2,
        }
    }

    #[test]
    fn a_pair_without_the_table_runs_keepalived_with_its_defaults() {
        let text = "name = \"p\"\ndescription = \"d\"\nduration = \"30s\"\n\
                    [topology]\nstack = \"pair\"\n";
        let scenario = crate::scenario::parse(std::path::Path::new("p.toml"), text).unwrap();
        let vrrp = settings(&scenario.topology).expect("keepalived is always there in a pair");
        assert_eq!(vrrp.advert_int, Duration::from_secs(1));
        assert_eq!((vrrp.fall, vrrp.rise), (2, 1));
        let patroni = "name = \"p\"\ndescription = \"d\"\nduration = \"30s\"\n";
        let scenario = crate::scenario::parse(std::path::Path::new("p.toml"), patroni).unwrap();
        assert!(
            settings(&scenario.topology).is_none(),
            "the patroni stack runs none"
        );
    }

    #[test]
    fn the_virtual_ip_is_the_subnet_s_last_usable_address() {
        assert_eq!(
            virtual_ip("172.18.0.0/16"),
            Some(Ipv4Addr::new(172, 18, 255, 254))
        );
        assert_eq!(
            virtual_ip("192.168.16.0/20"),
            Some(Ipv4Addr::new(192, 168, 31, 254))
        );
        assert_eq!(
            virtual_ip("10.1.2.0/24"),
            Some(Ipv4Addr::new(10, 1, 2, 254))
        );
        assert_eq!(virtual_ip("10.1.2.0/30"), None);
        assert_eq!(virtual_ip("fd00::/64"), None);
        assert_eq!(virtual_ip("nonsense"), None);
    }

    #[test]
    fn the_configuration_tracks_the_primary_and_never_preempts() {
        let conf = template(&vrrp(), "db2");
        for line in [
            "router_id db2",
            "script \"/etc/firedrill/keepalived-check\"",
            "interval 2",
            "fall 3",
            "rise 2",
            "state BACKUP",
            "advert_int 1",
            "nopreempt",
            "unicast_src_ip @SELF@",
            "@PEERS@",
            "@VIP@ dev eth0",
        ] {
            assert!(conf.contains(line), "{line}\n{conf}");
        }
    }

    #[test]
    fn the_run_script_waits_for_every_peer_and_runs_vrrp_only() {
        let script = run_script(&["db1".into(), "db3".into()]);
        assert!(script.contains("for p in db1 db3; do"), "{script}");
        assert!(script.contains("-lt 2 ]"), "{script}");
        assert!(
            script.contains("keepalived --dont-fork --log-console --log-detail --no-syslog --vrrp")
        );
    }
}
