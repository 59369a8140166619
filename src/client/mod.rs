//! Clients by protocol: what the workload asks of a database, whatever it speaks. A client
//! writes a unique sequence number and says which node accepted it in which epoch, reads
//! whether the latest acknowledged write is visible, and reads every write back for the loss
//! check. Each protocol classifies its own errors (one rule, in its own module) into the
//! history's [`ErrorKind`]s; the workload around it (schedule, connection reuse, timeouts)
//! knows no protocol.

mod http;
mod postgres;
pub mod redis;

pub use self::redis::Redis;
pub use http::Http;
pub use postgres::{Postgres, error_text as pg_error_text, session as pg_session};

use crate::history::ErrorKind;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// Where and as whom a client connects, built by the caller from the running cluster.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub dbname: String,
    /// Bounds the TCP connection.
    pub connect_timeout: Duration,
    /// Where the client first asks for the primary's address (Redis Sentinel), if the stack's
    /// clients discover it: then `host` and `port` are unused.
    pub discovery: Option<Discovery>,
}

/// Where a client discovers the primary: the arbiters to ask, in order, and the name of what
/// they watch (Sentinel's master name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    /// `(host, port)` of each arbiter.
    pub arbiters: Vec<(String, u16)>,
    pub service: String,
}

impl std::fmt::Debug for Endpoint {
    // Never the password: endpoints end up in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("connect_timeout", &self.connect_timeout)
            .field("discovery", &self.discovery)
            .finish_non_exhaustive()
    }
}

/// A write the server acknowledged: the node that accepted it and its epoch there (PostgreSQL:
/// the timeline; Redis keeps none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub node: String,
    pub epoch: Option<u64>,
    /// Through an application tier: the server that answered.
    pub via: Option<String>,
    /// Through an application tier: the answer's HTTP status.
    pub status: Option<u16>,
}

/// What a read saw on the node that answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub node: String,
    /// The node answered as a replica (PostgreSQL: in recovery).
    pub replica: bool,
    /// The write looked for is there (false when none was looked for).
    pub visible: bool,
    /// Through a cache: how it served the answer (`hit`, `stale`, `miss`, `pass`).
    pub cache: Option<String>,
    /// Through a cache: the age of the object it served from, on a hit.
    pub age: Option<std::time::Duration>,
}

/// Every write found on a node that confirmed it takes writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub node: String,
    /// Every sequence number present, ascending.
    pub present: Vec<u64>,
}

/// Why an operation did not succeed: its kind (whose [`ErrorKind::outcome`] is the operation's
/// outcome) and the protocol's own words for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub text: String,
    /// The HTTP status of the answer, when an HTTP answer came.
    pub status: Option<u16>,
}

impl Failure {
    pub fn new(kind: ErrorKind, text: impl Into<String>) -> Failure {
        Failure {
            kind,
            text: text.into(),
            status: None,
        }
    }
}

/// A client of one protocol. Boxed futures keep it usable as `dyn Client`, chosen at run time.
pub trait Client: Send + Sync {
    fn protocol(&self) -> Protocol;

    /// What [`Client::prepare`] creates, for messages ("table firedrill_writes").
    fn schema(&self) -> String;

    /// Creates what the writes go to, if missing (idempotent).
    fn prepare<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<(), String>>;

    /// A connection for writes and reads, kept and reused by the workload. Once this returns,
    /// the server has answered on it: a failure here means no operation was sent.
    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Connection>, Failure>>;

    /// Every sequence number written, read from the node at `endpoint`, which must confirm it
    /// takes writes (a replica's answer could miss the last ones).
    fn read_back<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<Stored, String>>;
}

/// One open connection of a [`Client`].
pub trait Connection: Send {
    /// Writes `seq` (in its own transaction). A failure's kind says whether it may have been
    /// applied.
    fn write(&mut self, seq: u64) -> BoxFuture<'_, Result<Accepted, Failure>>;

    /// Whether the write of `expected` is visible on the node that answers.
    fn read_latest(&mut self, expected: Option<u64>) -> BoxFuture<'_, Result<Seen, Failure>>;
}

/// The registry of clients, by the protocol they speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Postgres,
    /// An application tier's HTTP API (firedrill's reference server's contract).
    Http,
    /// Redis's RESP, the primary found through Sentinel.
    Redis,
}

impl Protocol {
    pub const ALL: &'static [Protocol] = &[Protocol::Postgres, Protocol::Http, Protocol::Redis];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Postgres => "postgres",
            Protocol::Http => "http",
            Protocol::Redis => "redis",
        }
    }

    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The client that speaks this protocol.
    pub fn client(self) -> Arc<dyn Client> {
        match self {
            Protocol::Postgres => Arc::new(Postgres),
            Protocol::Http => Arc::new(Http::default()),
            Protocol::Redis => Arc::new(Redis),
        }
    }
}

/// An error with its whole source chain (`error connecting to server: connection refused`):
/// where the clients' libraries keep the cause.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// The kind of a failed connection attempt, from the first I/O error in its source chain:
/// refused, timed out, or anything else. Shared by every protocol over TCP.
pub fn connect_error_kind(e: &(dyn std::error::Error + 'static)) -> ErrorKind {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
                std::io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
                _ => ErrorKind::ConnectFailed,
            };
        }
        source = s.source();
    }
    ErrorKind::ConnectFailed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_is_found_by_its_name_and_gives_its_client() {
        for &p in Protocol::ALL {
            assert_eq!(Protocol::from_name(p.name()), Some(p));
            assert_eq!(p.client().protocol(), p);
        }
        assert_eq!(Protocol::from_name("mysql"), None);
    }

    #[test]
    fn an_endpoint_s_debug_form_hides_the_password() {
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port: 5432,
            user: "postgres".into(),
            password: "s3cret".into(),
            dbname: "postgres".into(),
            connect_timeout: Duration::from_secs(1),
            discovery: None,
        };
        let debug = format!("{endpoint:?}");
        assert!(debug.contains("5432"), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    /// An error wrapping another, as tokio-postgres wraps the I/O error of a failed connect.
    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error connecting to server")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn connect_errors_are_classified_by_the_io_error_in_their_chain() {
        use std::io::{Error, ErrorKind as Io};
        let kind = |io: Io| connect_error_kind(&Wrapped(Error::new(io, "x")));
        assert_eq!(kind(Io::ConnectionRefused), ErrorKind::ConnectRefused);
        assert_eq!(kind(Io::TimedOut), ErrorKind::ConnectTimeout);
        assert_eq!(kind(Io::ConnectionReset), ErrorKind::ConnectFailed);
        assert_eq!(kind(Io::UnexpectedEof), ErrorKind::ConnectFailed);
        // the text says "refused", the structure does not: not refused
        let text_only = Error::other("connection refused");
        assert_eq!(connect_error_kind(&text_only), ErrorKind::ConnectFailed);
        assert_eq!(
            connect_error_kind(&Error::from(Io::ConnectionRefused)),
            ErrorKind::ConnectRefused
        );
        let no_io = std::fmt::Error;
        assert_eq!(connect_error_kind(&no_io), ErrorKind::ConnectFailed);
    }
}
