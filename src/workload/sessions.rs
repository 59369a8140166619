//! Connections kept open for one kind of operation, each with its statement prepared, and a
//! bound on how many are being opened at once: shared by the writers and the readers.

use crate::history::ErrorKind;
use crate::topology::pg_error_text;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_postgres::{Client, Config, NoTls, Statement};

/// At most this many connections are being opened at once, per pool. During an outage every
/// attempt needs a new connection; unbounded, a stall of the host piles up hundreds of them,
/// and the herd that lands when the leader answers again prolongs the very outage being
/// measured. Permits free up every connect timeout or sooner, so attempts keep starting all
/// along.
pub(super) const MAX_CONNECTING: usize = 32;

/// An open connection with its prepared statement.
pub(super) struct Session {
    pub client: Client,
    pub statement: Statement,
}

pub(super) struct Sessions {
    sql: &'static str,
    /// How many idle sessions are kept.
    keep: usize,
    connect_timeout: Duration,
    idle: Mutex<Vec<Session>>,
    connecting: Semaphore,
}

impl Sessions {
    pub fn new(sql: &'static str, keep: usize, connect_timeout: Duration) -> Sessions {
        Sessions {
            sql,
            keep,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
            connecting: Semaphore::new(MAX_CONNECTING),
        }
    }

    /// An idle session, or a new one opened with `config` (asked only then; its error means
    /// there is nowhere to connect). Waiting for a connection slot counts against the connect
    /// timeout, and the timeout bounds the TCP connection while twice it bounds the handshake
    /// and the prepare too. On failure the operation was certainly not executed.
    pub async fn take(
        &self,
        config: impl FnOnce() -> Result<Config, String>,
    ) -> Result<Session, (ErrorKind, String)> {
        if let Some(session) = self.idle.lock().expect("sessions lock").pop() {
            return Ok(session);
        }
        let _permit = tokio::time::timeout(self.connect_timeout, self.connecting.acquire())
            .await
            .map_err(|_| {
                (
                    ErrorKind::TooManyConnecting,
                    format!("connect: {MAX_CONNECTING} connections already being opened"),
                )
            })?
            .expect("the semaphore is never closed");
        let config = config().map_err(|e| (ErrorKind::ConnectFailed, format!("connect: {e}")))?;
        let opening = async {
            let (client, connection) = config.connect(NoTls).await.map_err(|e| {
                (
                    connect_error_kind(&e),
                    format!("connect: {}", pg_error_text(&e)),
                )
            })?;
            tokio::spawn(connection);
            let statement = client.prepare(self.sql).await.map_err(|e| {
                (
                    ErrorKind::ConnectFailed,
                    format!("prepare: {}", pg_error_text(&e)),
                )
            })?;
            Ok(Session { client, statement })
        };
        tokio::time::timeout(self.connect_timeout * 2, opening)
            .await
            .unwrap_or_else(|_| Err((ErrorKind::ConnectTimeout, "connect: timeout".into())))
    }

    /// Keeps a session that just worked, up to `keep` idle ones.
    pub fn give_back(&self, session: Session) {
        let mut idle = self.idle.lock().expect("sessions lock");
        if idle.len() < self.keep {
            idle.push(session);
        }
    }
}

/// The kind of a failed connection attempt, from the first I/O error in its source chain:
/// refused, timed out, or anything else.
pub(super) fn connect_error_kind(e: &(dyn std::error::Error + 'static)) -> ErrorKind {
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
