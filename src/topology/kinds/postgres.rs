//! PostgreSQL with no failover manager: a primary and its streaming standbys, as the pair stack
//! runs them (a document platform's master/slave pair, promoted by an operator's procedure).
//! db1 initialises the cluster; every other node clones it with `pg_basebackup` and follows
//! it. The role source is the server itself: `pg_is_in_recovery()`, its timeline and WAL
//! position. Nothing ever promotes a standby but a `promote` step.
//!
//! The container's first process is a shell, as root: it prepares the data directory, runs
//! the server as `postgres`, and beside it keepalived when the topology has one (it needs the
//! network capabilities the server must not have); a stop reaches the server as a fast
//! shutdown.

use super::super::kind::{Kind, Naming, Render, RoleReport};
use super::super::{Cluster, Disk, FileSpec, Health, Node, NodeSpec, SecretEnv, SecretsAt, Serves};
use super::keepalived;
use super::patroni::{DATA_DIR, DATA_MOUNT, DISK_SIZE, NODE_SETTING, PG_PORT, PG_VERSION_CMD};
use crate::client::Protocol;
use crate::history::Role;
use crate::scenario::{KindSettings, Settings, SettingsError, SettingsInput, Topology, read_json};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Spanned;

pub const NAME: &str = "postgres";
const NAMING: Naming = Naming::Numbered("db");
const BIN: &str = "/usr/lib/postgresql/15/bin";
const START_PATH: &str = "/etc/firedrill/postgres-start";
const HBA_PATH: &str = "/etc/firedrill/pg_hba.conf";
/// The secrets a drill writes for the start script (a compose export puts them in the
/// environment instead, under the same names).
const SECRETS_PATH: &str = "/etc/firedrill/secrets.env";
/// The replication user's password file, readable by `postgres` only.
pub const PGPASS: &str = "/tmp/pgpass";

/// `[topology.postgres]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostgresSettings {
    /// Number of nodes (2..=9), db1 the primary, the others its standbys.
    pub nodes: usize,
    /// A commit waits for a standby to confirm it (`synchronous_standby_names = 'ANY 1 (…)'`);
    /// otherwise replication is asynchronous, and a promotion can lose acknowledged writes.
    pub synchronous: bool,
}

impl Settings for PostgresSettings {
    const KIND: &'static str = NAME;
}

/// The settings of `topology`'s plain PostgreSQL nodes, if it has any.
pub fn settings(topology: &Topology) -> Option<&PostgresSettings> {
    topology.settings::<PostgresSettings>()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawPostgres {
    nodes: Option<Spanned<i64>>,
    synchronous: Option<Spanned<bool>>,
}

fn check(input: &SettingsInput<'_>, raw: &RawPostgres) -> Result<PostgresSettings, SettingsError> {
    Ok(PostgresSettings {
        nodes: input.count(
            raw.nodes.as_ref(),
            "nodes",
            (2, 2, 9),
            "a primary/standby pair needs a standby to promote",
        )? as usize,
        synchronous: raw.synchronous.as_ref().is_some_and(|s| *s.get_ref()),
    })
}

pub fn name(i: usize) -> String {
    NAMING.name(i)
}

/// The node that initialises the cluster and is its first primary.
pub fn first() -> String {
    name(1)
}

/// The plain PostgreSQL kind.
pub struct Postgres;

impl Kind for Postgres {
    fn name(&self) -> &'static str {
        NAME
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    /// Always there in the stacks that run it: two nodes when the table is absent.
    fn settings(
        &self,
        input: &SettingsInput<'_>,
    ) -> Result<Option<Box<dyn KindSettings>>, SettingsError> {
        let raw = input.table::<RawPostgres>()?.unwrap_or_default();
        Ok(Some(Box::new(check(input, &raw)?)))
    }

    fn settings_from_json(
        &self,
        value: serde_json::Value,
    ) -> Result<Box<dyn KindSettings>, serde_json::Error> {
        read_json::<PostgresSettings>(value)
    }

    fn count(&self, topology: &Topology) -> usize {
        settings(topology).map_or(0, |s| s.nodes)
    }

    fn count_setting(&self) -> &'static str {
        "topology.postgres.nodes"
    }

    fn describe(&self, topology: &Topology) -> Option<String> {
        let s = settings(topology)?;
        Some(format!(
            "{} PostgreSQL (db1 primary, streaming replication, {}, no failover manager)",
            s.nodes,
            if s.synchronous {
                "synchronous"
            } else {
                "asynchronous"
            }
        ))
    }

    fn packages(&self) -> &'static [&'static str] {
        &["postgresql-15"]
    }

    fn versions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("postgresql", PG_VERSION_CMD)]
    }

    fn has_disk(&self) -> bool {
        true
    }

    fn specs(&self, render: &Render<'_>) -> Vec<NodeSpec> {
        let Some(settings) = settings(render.topology) else {
            return Vec::new();
        };
        let vrrp = keepalived::settings(render.topology);
        (1..=settings.nodes)
            .map(|i| {
                let me = name(i);
                let mut files = vec![
                    FileSpec {
                        path: START_PATH.into(),
                        contents: start_script(&me, settings),
                        mode: 0o755,
                    },
                    FileSpec {
                        path: HBA_PATH.into(),
                        contents: HBA.into(),
                        mode: 0o644,
                    },
                ];
                if let Some(secrets) = render.secrets.in_files() {
                    files.push(FileSpec {
                        path: SECRETS_PATH.into(),
                        contents: format!(
                            "FIREDRILL_SUPERUSER_PASSWORD={}\nFIREDRILL_REPLICATION_PASSWORD={}\n",
                            secrets.superuser, secrets.replication
                        ),
                        mode: 0o600,
                    });
                }
                if let Some(vrrp) = vrrp {
                    let peers: Vec<String> =
                        (1..=settings.nodes).filter(|j| *j != i).map(name).collect();
                    files.extend(keepalived::node_files(vrrp, &me, &peers));
                }
                NodeSpec {
                    name: me,
                    kind: super::POSTGRES,
                    image: None,
                    cmd: vec![START_PATH.into()],
                    user: Some("root".into()),
                    files,
                    ports: vec![PG_PORT],
                    fixed_ports: vec![],
                    cap_add: vec!["NET_ADMIN".into()],
                    disks: vec![Disk {
                        path: DATA_MOUNT.into(),
                        size: DISK_SIZE,
                        shared: None,
                    }],
                    secret_env: match render.secrets {
                        SecretsAt::Files(_) => vec![],
                        SecretsAt::Env => PASSWORD_ENV.to_vec(),
                    },
                    env: vec![],
                    health: Some(Health {
                        command: format!("{BIN}/pg_isready -q -h /tmp -p {PG_PORT}"),
                        interval: Duration::from_secs(2),
                        timeout: Duration::from_secs(3),
                        retries: 3,
                        start_period: Duration::from_secs(60),
                    }),
                }
            })
            .collect()
    }

    fn serves(&self) -> Option<Serves> {
        Some(Serves {
            protocol: Protocol::Postgres,
            port: PG_PORT,
            replicas: None,
            tier: None,
        })
    }

    fn database(&self) -> Option<Protocol> {
        Some(Protocol::Postgres)
    }

    /// The server itself, over a connection of its own: in recovery or not, its timeline and
    /// WAL position, and on a primary the standbys streaming from it.
    fn self_report<'a>(
        &self,
        cluster: &'a Cluster,
        node: &'a Node,
        timeout: Duration,
    ) -> Option<BoxFuture<'a, Result<RoleReport, String>>> {
        Some(Box::pin(async move {
            let ask = async {
                let db = cluster.connect(node, timeout).await.map_err(|e| e.text())?;
                let row = db
                    .query_one(ROLE_SQL, &[])
                    .await
                    .map_err(|e| crate::client::pg_error_text(&e))?;
                Ok(report(
                    row.get(0),
                    row.get(1),
                    row.get(2),
                    row.get(3),
                    row.get(4),
                ))
            };
            tokio::time::timeout(timeout * 2, ask)
                .await
                .unwrap_or_else(|_| Err("timeout".into()))
        }))
    }
}

/// In recovery; the timeline (a primary's from its current WAL file, a standby's from the WAL
/// it receives, or replays when it receives none); the position written (a primary) or
/// received (a standby); the position replayed; the standbys streaming.
const ROLE_SQL: &str = "SELECT pg_is_in_recovery(), \
     CASE WHEN pg_is_in_recovery() \
       THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), \
                     (SELECT timeline_id FROM pg_control_checkpoint())) \
       ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END, \
     (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() \
       ELSE pg_current_wal_lsn() END - '0/0')::bigint, \
     (pg_last_wal_replay_lsn() - '0/0')::bigint, \
     ARRAY(SELECT application_name FROM pg_stat_replication \
           WHERE state = 'streaming' ORDER BY application_name)";

fn report(
    in_recovery: bool,
    timeline: Option<i32>,
    position: Option<i64>,
    replayed: Option<i64>,
    streaming: Vec<String>,
) -> RoleReport {
    let bytes = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    RoleReport {
        role: if in_recovery {
            Role::Replica
        } else {
            Role::Leader
        },
        state: "running".into(),
        epoch: timeline.and_then(|t| u32::try_from(t).ok()),
        position: bytes(position),
        replayed: if in_recovery { bytes(replayed) } else { None },
        streaming,
    }
}

/// The variables the start script reads the passwords from when no file holds them.
const PASSWORD_ENV: [SecretEnv; 2] = [
    SecretEnv {
        var: "FIREDRILL_SUPERUSER_PASSWORD",
        secret: super::super::Secret::Superuser,
    },
    SecretEnv {
        var: "FIREDRILL_REPLICATION_PASSWORD",
        secret: super::super::Secret::Replication,
    },
];

/// Local connections trusted (the track script, the operator's procedure inside the node);
/// every other one by password, md5 as the Patroni nodes do.
const HBA: &str = "local all all trust\n\
                   host replication replicator all md5\n\
                   host all all all md5\n";

/// The server's settings, on its command line so that a clone's copied configuration never
/// overrides them; a standby's connection to db1 among them (ignored once promoted).
fn server_settings(me: &str, settings: &PostgresSettings) -> Vec<String> {
    let standbys: Vec<String> = (2..=settings.nodes).map(name).collect();
    let mut out = vec![
        "listen_addresses=*".to_owned(),
        "unix_socket_directories=/tmp".to_owned(),
        format!("hba_file={HBA_PATH}"),
        format!("{NODE_SETTING}={me}"),
        "wal_level=replica".to_owned(),
        "hot_standby=on".to_owned(),
        "max_wal_senders=10".to_owned(),
        "max_connections=200".to_owned(),
        "wal_keep_size=512MB".to_owned(),
        // md5, not SCRAM, as on the Patroni nodes: a reconnect storm must not cost PBKDF2
        // rounds per connection.
        "password_encryption=md5".to_owned(),
        format!(
            "primary_conninfo=host={} port={PG_PORT} user=replicator passfile={PGPASS} \
             application_name={me} connect_timeout=2",
            first()
        ),
    ];
    // db1's standbys only: a promoted standby has none, and would wait for itself
    if settings.synchronous && me == first() {
        out.push(format!(
            "synchronous_standby_names=ANY 1 ({})",
            standbys.join(", ")
        ));
    }
    out
}

/// The node's first process: prepares the data directory (db1 initialises it and creates the
/// replication user; a standby clones db1 once it answers and marks itself a standby), runs
/// the server as `postgres` and keepalived beside it when configured, and on SIGTERM shuts
/// the server down fast. A data directory already there (a restart) is used as it is.
pub fn start_script(me: &str, settings: &PostgresSettings) -> String {
    let args: String = server_settings(me, settings)
        .iter()
        .map(|s| format!(" -c '{s}'"))
        .collect();
    let prepare = if me == first() {
        format!(
            "setpriv --reuid=postgres --regid=postgres --init-groups -- {BIN}/initdb -D {DATA_DIR} \
             -U postgres -E UTF8 -k --no-sync > /dev/null\n  \
             printf \"ALTER ROLE postgres PASSWORD '%s';\\nCREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '%s';\\n\" \
             \"$FIREDRILL_SUPERUSER_PASSWORD\" \"$FIREDRILL_REPLICATION_PASSWORD\" \\\n    \
             | setpriv --reuid=postgres --regid=postgres --init-groups -- {BIN}/postgres --single \
             -D {DATA_DIR} -c password_encryption=md5 postgres > /dev/null 2>&1"
        )
    } else {
        format!(
            "until {BIN}/pg_isready -q -h {primary} -p {PG_PORT} -t 1; do sleep 0.2; done\n  \
             setpriv --reuid=postgres --regid=postgres --init-groups -- env PGPASSFILE={PGPASS} \
             {BIN}/pg_basebackup -h {primary} -p {PG_PORT} -U replicator -D {DATA_DIR} -X stream \
             -c fast --no-sync\n  \
             touch {DATA_DIR}/standby.signal && chown postgres:postgres {DATA_DIR}/standby.signal",
            primary = first(),
        )
    };
    format!(
        "#!/bin/sh\n\
         # firedrill: {me}'s PostgreSQL, and keepalived beside it when configured\n\
         set -eu\n\
         [ -f {SECRETS_PATH} ] && . {SECRETS_PATH}\n\
         printf '*:*:*:replicator:%s\\n' \"$FIREDRILL_REPLICATION_PASSWORD\" > {PGPASS}\n\
         chown postgres:postgres {PGPASS} && chmod 600 {PGPASS}\n\
         install -d -o postgres -g postgres -m 700 {DATA_DIR}\n\
         if [ ! -s {DATA_DIR}/PG_VERSION ]; then\n  \
         {prepare}\n\
         fi\n\
         setpriv --reuid=postgres --regid=postgres --init-groups -- {BIN}/postgres -D {DATA_DIR}{args} &\n\
         server=$!\n\
         helper=\n\
         if [ -x {run} ]; then {run} & helper=$!; fi\n\
         trap 'kill -INT $server 2> /dev/null; [ -n \"$helper\" ] && kill -TERM $helper 2> /dev/null; wait $server; exit 0' TERM INT\n\
         wait $server\n",
        run = keepalived::RUN_PATH,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> PostgresSettings {
        PostgresSettings {
            nodes: 2,
            synchronous: false,
        }
    }

    #[test]
    fn a_standby_clones_db1_and_follows_it_and_only_db1_initialises() {
        let db1 = start_script("db1", &pair());
        assert!(db1.contains("/initdb -D /data/pg"), "{db1}");
        assert!(!db1.contains("pg_basebackup"), "{db1}");
        let db2 = start_script("db2", &pair());
        assert!(!db2.contains("initdb"), "{db2}");
        assert!(
            db2.contains("pg_basebackup -h db1 -p 5432 -U replicator"),
            "{db2}"
        );
        assert!(db2.contains("touch /data/pg/standby.signal"), "{db2}");
        assert!(db2.contains("-c 'firedrill.node=db2'"), "{db2}");
        assert!(
            db2.contains("-c 'primary_conninfo=host=db1 port=5432 user=replicator passfile=/tmp/pgpass application_name=db2 connect_timeout=2'"),
            "{db2}"
        );
        // the passwords come from the secrets file or the environment, never the script
        assert!(db1.contains("\"$FIREDRILL_SUPERUSER_PASSWORD\""), "{db1}");
    }

    #[test]
    fn synchronous_replication_waits_for_any_one_standby() {
        let settings = PostgresSettings {
            nodes: 3,
            synchronous: true,
        };
        let args = server_settings("db1", &settings);
        assert!(args.contains(&"synchronous_standby_names=ANY 1 (db2, db3)".to_owned()));
        assert!(
            !server_settings("db2", &settings)
                .iter()
                .any(|s| s.starts_with("synchronous_standby_names"))
        );
        assert!(
            !server_settings("db1", &pair())
                .iter()
                .any(|s| s.starts_with("synchronous_standby_names"))
        );
    }

    #[test]
    fn the_server_reports_its_role_from_recovery() {
        let primary = report(false, Some(2), Some(100), Some(90), vec!["db2".into()]);
        assert_eq!(primary.role, Role::Leader);
        assert_eq!(primary.epoch, Some(2));
        assert_eq!(primary.replayed, None);
        assert_eq!(primary.streaming, ["db2"]);
        let standby = report(true, Some(1), Some(100), Some(90), vec![]);
        assert_eq!(standby.role, Role::Replica);
        assert_eq!(standby.replayed, Some(90));
        assert!(standby.serves_as_replica());
    }
}
