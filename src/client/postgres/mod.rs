//! The PostgreSQL client. Every statement is sent unnamed (`query_typed`: Parse, Bind,
//! Describe, Execute, Sync with an empty statement name, in one round trip) or as a simple
//! query, never prepared under a name: a named statement lives on one server connection, and a
//! pooler in transaction mode (pgBouncer 1.18) hands the next transaction another one, where
//! "s0" does not exist.

#[cfg(test)]
mod fake_server;
mod outcome;

pub use outcome::error_text;

use super::{Accepted, Client, Connection, Endpoint, Failure, Protocol, Seen, Stored};
use futures_util::future::BoxFuture;
use outcome::{connect_failure, sent_failure};
use tokio_postgres::NoTls;
use tokio_postgres::types::Type;

/// The table every write goes to: one row per sequence number.
pub const TABLE: &str = "firedrill_writes";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS firedrill_writes \
     (seq bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())";

/// The INSERT returns, from the server that accepted it, its node name (`firedrill.node`) and
/// its current timeline (the first 8 hex digits of the current WAL file's name).
const INSERT: &str = "INSERT INTO firedrill_writes (seq) VALUES ($1) \
     RETURNING current_setting('firedrill.node'), \
     ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";

/// The SELECT returns, from the server that answered it, its node name (`firedrill.node`),
/// whether it is in recovery (a replica), and whether the row of sequence number `$1` is there
/// (false when `$1` is NULL: no write to look for).
const SELECT: &str = "SELECT current_setting('firedrill.node'), pg_is_in_recovery(), \
     EXISTS(SELECT 1 FROM firedrill_writes WHERE seq = $1)";

/// Which node the read-back reads from, and whether it is in recovery.
const READ_BACK_NODE: &str = "SELECT current_setting('firedrill.node'), pg_is_in_recovery()";

const READ_BACK_ROWS: &str = "SELECT seq FROM firedrill_writes ORDER BY seq";

/// A session on `endpoint` for the harness's own statements (readiness, probes, faults), its
/// connection driven in the background: the workload's settings, none of its rules.
pub async fn session(endpoint: &Endpoint) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    Postgres::open(endpoint).await
}

/// Speaks PostgreSQL's wire protocol as the superuser of the endpoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct Postgres;

impl Postgres {
    fn config(endpoint: &Endpoint) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&endpoint.host)
            .port(endpoint.port)
            .user(&endpoint.user)
            .password(&endpoint.password)
            .dbname(&endpoint.dbname)
            .application_name("firedrill")
            .connect_timeout(endpoint.connect_timeout);
        config
    }

    /// A session, its connection driven in the background.
    async fn open(endpoint: &Endpoint) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = Postgres::config(endpoint).connect(NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }

    async fn read_all(endpoint: &Endpoint) -> Result<Stored, String> {
        let client = Postgres::open(endpoint).await.map_err(|e| error_text(&e))?;
        let row = client
            .query_typed_one(READ_BACK_NODE, &[])
            .await
            .map_err(|e| error_text(&e))?;
        let node: String = row.get(0);
        if row.get::<_, bool>(1) {
            return Err(format!("{node} is in recovery"));
        }
        let rows = client
            .query_typed(READ_BACK_ROWS, &[])
            .await
            .map_err(|e| error_text(&e))?;
        let present = rows
            .iter()
            .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
            .collect();
        Ok(Stored { node, present })
    }
}

impl Client for Postgres {
    fn protocol(&self) -> Protocol {
        Protocol::Postgres
    }

    fn schema(&self) -> String {
        format!("table {TABLE}")
    }

    fn prepare<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let client = Postgres::open(endpoint).await.map_err(|e| e.to_string())?;
            client
                .batch_execute(CREATE)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Connection>, Failure>> {
        Box::pin(async move {
            // The connection is the startup and authentication only, as an application's: no
            // round trip of our own before the first operation. Through a pooler (pgBouncer
            // authenticates clients itself) a paused pool then holds the write itself, as it
            // would the application's, rather than failing the harness's connect.
            let client = Postgres::open(endpoint)
                .await
                .map_err(|e| connect_failure(&e))?;
            Ok(Box::new(PostgresConnection { client }) as Box<dyn Connection>)
        })
    }

    fn read_back<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<Stored, String>> {
        Box::pin(Postgres::read_all(endpoint))
    }
}

struct PostgresConnection {
    client: tokio_postgres::Client,
}

impl Connection for PostgresConnection {
    fn write(&mut self, seq: u64) -> BoxFuture<'_, Result<Accepted, Failure>> {
        Box::pin(async move {
            let seq = i64::try_from(seq).expect("sequence numbers fit i64");
            let row = self
                .client
                .query_typed_one(INSERT, &[(&seq, Type::INT8)])
                .await
                .map_err(|e| sent_failure(&e))?;
            let node: String = row.get(0);
            let timeline: i32 = row.get(1);
            Ok(Accepted {
                node,
                epoch: Some(u64::from(u32::try_from(timeline).unwrap_or(0))),
                via: None,
                status: None,
            })
        })
    }

    fn read_latest(&mut self, expected: Option<u64>) -> BoxFuture<'_, Result<Seen, Failure>> {
        Box::pin(async move {
            let seq = expected.map(|s| i64::try_from(s).expect("sequence numbers fit i64"));
            let row = self
                .client
                .query_typed_one(SELECT, &[(&seq, Type::INT8)])
                .await
                .map_err(|e| sent_failure(&e))?;
            Ok(Seen {
                node: row.get(0),
                replica: row.get(1),
                visible: row.get(2),
                cache: None,
                age: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::THIS_NODE_SQL;

    #[test]
    fn every_statement_uses_the_table_and_names_the_node() {
        assert!(CREATE.contains(&format!("EXISTS {TABLE} ")));
        assert!(INSERT.contains(&format!("INTO {TABLE} ")));
        assert!(SELECT.contains(&format!("FROM {TABLE} ")));
        assert!(READ_BACK_ROWS.contains(&format!("FROM {TABLE} ")));
        for sql in [INSERT, SELECT, READ_BACK_NODE] {
            assert!(sql.contains(THIS_NODE_SQL), "{sql}");
        }
        assert!(SELECT.contains("pg_is_in_recovery()"));
        assert!(READ_BACK_NODE.contains("pg_is_in_recovery()"));
    }

    fn local(port: u16) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            user: "postgres".into(),
            password: "secret".into(),
            dbname: "postgres".into(),
            connect_timeout: std::time::Duration::from_secs(2),
            discovery: None,
        }
    }

    /// Through a transaction-mode pooler every transaction may land on another server
    /// connection: a statement prepared under a name on one is unknown on the next. Every
    /// statement the client sends must be unnamed, on a reused connection too.
    #[tokio::test]
    async fn every_operation_works_without_a_named_statement() {
        let (port, seen, server) = fake_server::start().await;
        let endpoint = local(port);
        let client = Postgres;
        client.prepare(&endpoint).await.unwrap();
        let mut connection = client.connect(&endpoint).await.unwrap();
        for seq in [7, 8] {
            let accepted = connection.write(seq).await.unwrap();
            let expected = Accepted {
                via: None,
                status: None,
                node: fake_server::NODE.into(),
                epoch: Some(3),
            };
            assert_eq!(accepted, expected);
        }
        let read = connection.read_latest(Some(7)).await.unwrap();
        let expected = Seen {
            node: fake_server::NODE.into(),
            replica: true,
            visible: true,
            cache: None,
            age: None,
        };
        assert_eq!(read, expected);
        assert!(!connection.read_latest(None).await.unwrap().visible);
        let stored = client.read_back(&endpoint).await.unwrap();
        assert_eq!(stored.node, fake_server::NODE);
        assert_eq!(stored.present, [1, 2, 7]);
        server.abort();

        let seen = seen.lock().unwrap().clone();
        // 2 writes, 2 reads, the read-back's 2 statements: parsed and bound, each unnamed
        assert_eq!(seen.parsed.len(), 6, "{seen:?}");
        assert_eq!(seen.statement_names.len(), 12, "{seen:?}");
        assert!(
            seen.statement_names.iter().all(String::is_empty),
            "{seen:?}"
        );
        // The schema only: connecting sends nothing of its own (a paused pooler holds the first
        // write, not the harness's connect).
        assert_eq!(seen.simple, [CREATE]);
    }

    #[tokio::test]
    async fn a_write_s_failure_is_classified_by_the_postgres_rule() {
        use crate::history::{ErrorKind, Outcome};
        let (port, _, server) = fake_server::start().await;
        let endpoint = local(port);
        let mut connection = Postgres.connect(&endpoint).await.unwrap();
        let refused = connection
            .write(fake_server::READ_ONLY_SEQ as u64)
            .await
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::ReadOnly);
        assert_eq!(
            refused.text,
            "25006: cannot execute INSERT in a read-only transaction"
        );
        // the connection is still usable after a refused write
        assert!(connection.write(1).await.is_ok());
        let lost = connection
            .write(fake_server::LOST_SEQ as u64)
            .await
            .unwrap_err();
        assert_eq!(
            (lost.kind, lost.kind.outcome()),
            (ErrorKind::ConnectionLost, Outcome::Unknown)
        );
        assert!(lost.text.starts_with("connection lost: "), "{}", lost.text);
        server.abort();

        // nobody listens on a port just freed: the connect is refused, and failed
        let freed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = freed.local_addr().unwrap().port();
        drop(freed);
        let Err(refused) = Postgres.connect(&local(port)).await else {
            panic!("connected to a closed port");
        };
        assert_eq!(
            (refused.kind, refused.kind.outcome()),
            (ErrorKind::ConnectRefused, Outcome::Fail)
        );
        assert!(refused.text.starts_with("connect: "), "{}", refused.text);
    }
}
