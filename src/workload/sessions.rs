//! Connections kept open for one kind of operation, and a bound on how many are being opened at
//! once: shared by the writers and the readers, whatever the client's protocol.

use crate::client::{Client, Connection, Endpoint, Failure};
use crate::history::ErrorKind;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// At most this many connections are being opened at once, per pool. During an outage every
/// attempt needs a new connection; unbounded, a stall of the host piles up hundreds of them,
/// and the herd that lands when the leader answers again prolongs the very outage being
/// measured. Permits free up every connect timeout or sooner, so attempts keep starting all
/// along.
pub(super) const MAX_CONNECTING: usize = 32;

pub(super) struct Sessions {
    client: Arc<dyn Client>,
    /// How many idle connections are kept.
    keep: usize,
    connect_timeout: Duration,
    idle: Mutex<Vec<Box<dyn Connection>>>,
    connecting: Semaphore,
}

impl Sessions {
    pub fn new(client: Arc<dyn Client>, keep: usize, connect_timeout: Duration) -> Sessions {
        Sessions {
            client,
            keep,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
            connecting: Semaphore::new(MAX_CONNECTING),
        }
    }

    /// An idle connection, or a new one opened to `endpoint` (asked only then; its error means
    /// there is nowhere to connect). Waiting for a connection slot counts against the connect
    /// timeout, and the timeout bounds the TCP connection while twice it bounds the whole
    /// opening (handshake and first answer). On failure the operation was certainly not
    /// executed.
    pub async fn take(
        &self,
        endpoint: impl FnOnce() -> Result<Endpoint, String>,
    ) -> Result<Box<dyn Connection>, Failure> {
        if let Some(connection) = self.idle.lock().expect("sessions lock").pop() {
            return Ok(connection);
        }
        let _permit = tokio::time::timeout(self.connect_timeout, self.connecting.acquire())
            .await
            .map_err(|_| {
                Failure::new(
                    ErrorKind::TooManyConnecting,
                    format!("connect: {MAX_CONNECTING} connections already being opened"),
                )
            })?
            .expect("the semaphore is never closed");
        let endpoint = endpoint()
            .map_err(|e| Failure::new(ErrorKind::ConnectFailed, format!("connect: {e}")))?;
        tokio::time::timeout(self.connect_timeout * 2, self.client.connect(&endpoint))
            .await
            .unwrap_or_else(|_| Err(Failure::new(ErrorKind::ConnectTimeout, "connect: timeout")))
    }

    /// Keeps a connection that just worked: up to `keep` idle ones, and one more for each
    /// connection being opened meanwhile. Attempts that found none idle are the demand the
    /// kept number did not meet; dropping what they will need again makes the next attempts
    /// open connections too (a backend forked, a login), and on a loaded host that churn
    /// slowed every write until the whole run collapsed into connection timeouts. The extra
    /// ones go as demand falls: a connection given back with none being opened and `keep`
    /// already idle is closed.
    pub fn give_back(&self, connection: Box<dyn Connection>) {
        let opening = MAX_CONNECTING - self.connecting.available_permits();
        let mut idle = self.idle.lock().expect("sessions lock");
        if idle.len() < self.keep + opening {
            idle.push(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Accepted, Protocol, Seen, Stored};
    use futures_util::future::BoxFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the connections it opens; each write answers with the connection's number.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    struct Numbered(usize);

    impl Connection for Numbered {
        fn write(&mut self, _: u64) -> BoxFuture<'_, Result<Accepted, Failure>> {
            let node = format!("c{}", self.0);
            Box::pin(async move {
                Ok(Accepted {
                    node,
                    epoch: Some(1),
                    via: None,
                    status: None,
                })
            })
        }
        fn read_latest(&mut self, _: Option<u64>) -> BoxFuture<'_, Result<Seen, Failure>> {
            unreachable!("not read")
        }
    }

    impl Client for Counting {
        fn protocol(&self) -> Protocol {
            Protocol::Postgres
        }
        fn schema(&self) -> String {
            "nothing".into()
        }
        fn prepare<'a>(&'a self, _: &'a Endpoint) -> BoxFuture<'a, Result<(), String>> {
            unreachable!("not prepared")
        }
        fn connect<'a>(
            &'a self,
            _: &'a Endpoint,
        ) -> BoxFuture<'a, Result<Box<dyn Connection>, Failure>> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(Box::new(Numbered(n)) as Box<dyn Connection>) })
        }
        fn read_back<'a>(&'a self, _: &'a Endpoint) -> BoxFuture<'a, Result<Stored, String>> {
            unreachable!("not read back")
        }
    }

    fn anywhere() -> Result<Endpoint, String> {
        Ok(Endpoint {
            host: "127.0.0.1".into(),
            port: 1,
            user: "u".into(),
            password: String::new(),
            dbname: "d".into(),
            connect_timeout: Duration::from_secs(1),
            discovery: None,
        })
    }

    async fn node(connection: &mut Box<dyn Connection>) -> String {
        connection.write(0).await.unwrap().node
    }

    #[tokio::test]
    async fn connections_given_back_are_reused_up_to_the_number_kept() {
        let client = Arc::new(Counting::default());
        let sessions = Sessions::new(client.clone(), 1, Duration::from_secs(1));
        let mut a = sessions.take(anywhere).await.unwrap();
        let mut b = sessions.take(anywhere).await.unwrap();
        assert_eq!(
            (node(&mut a).await, node(&mut b).await),
            ("c0".into(), "c1".into())
        );
        sessions.give_back(a);
        sessions.give_back(b); // one too many: dropped
        let mut again = sessions
            .take(|| panic!("an idle connection was there"))
            .await
            .unwrap();
        assert_eq!(node(&mut again).await, "c0");
        let _fresh = sessions.take(anywhere).await.unwrap();
        assert_eq!(client.0.load(Ordering::SeqCst), 3);
    }

    /// While attempts are opening connections, the kept number did not meet the demand: a
    /// connection given back then is kept beyond it, and closed once the demand has gone.
    #[tokio::test]
    async fn connections_are_kept_beyond_the_number_while_others_are_being_opened() {
        let client = Arc::new(Counting::default());
        let sessions = Sessions::new(client.clone(), 1, Duration::from_secs(1));
        let a = sessions.take(anywhere).await.unwrap();
        let b = sessions.take(anywhere).await.unwrap();
        sessions.give_back(a);
        {
            // an attempt is opening a connection
            let _opening = sessions.connecting.acquire().await.unwrap();
            sessions.give_back(b); // kept: two idle
        }
        let _x = sessions.take(|| panic!("idle")).await.unwrap();
        let y = sessions.take(|| panic!("idle")).await.unwrap();
        assert_eq!(client.0.load(Ordering::SeqCst), 2);
        let z = sessions.take(anywhere).await.unwrap();
        sessions.give_back(y);
        sessions.give_back(z); // nobody opening, one idle already: closed
        assert_eq!(sessions.idle.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn nowhere_to_connect_is_a_failed_connect() {
        let sessions = Sessions::new(Arc::new(Counting::default()), 1, Duration::from_secs(1));
        let Err(failure) = sessions
            .take(|| Err("haproxy has no replica endpoint".into()))
            .await
        else {
            panic!("connected to nowhere");
        };
        assert_eq!(
            failure,
            Failure::new(
                ErrorKind::ConnectFailed,
                "connect: haproxy has no replica endpoint"
            )
        );
    }
}
