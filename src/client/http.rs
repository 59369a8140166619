//! The HTTP client: writes and reads through an application tier (API servers behind a proxy)
//! by the contract firedrill's reference server keeps (README, "The application tier"):
//! `POST /writes/{seq}` answers `{"app", "node", "timeline", "committed"}`, `GET /writes/{seq}`
//! answers `{"app", "node", "replica", "visible"}`.
//!
//! The outcome rule, as for PostgreSQL: a request that reached no server is `fail`; one that
//! was sent and got no answer, or an answer that does not say, is `unknown`:
//! - connecting to the proxy failed: `connect_refused` / `connect_timeout` / `connect_failed`;
//! - `"committed": true` with 200: `ok`, accepted by the database node and timeline it names,
//!   through the server that answered;
//! - `"committed": false`: the server says it did not commit: `http_refused` (`fail`);
//! - `"committed": null`: the server lost its database connection during COMMIT:
//!   `http_unknown`;
//! - no contract in the answer: the proxy's own 503 (no server took the request, HAProxy
//!   retried and redispatched it as configured first): `http_no_server` (`fail`); its 502 or
//!   504, or anything else: `http_unknown`;
//! - the connection broke after the request was sent: `connection_lost` (`unknown`); no answer
//!   within the write timeout: `write_timeout` (the writer's bound).

use super::{
    Accepted, Client, Connection, Endpoint, Failure, Protocol, Seen, Stored, connect_error_kind,
    error_chain,
};
use crate::history::ErrorKind;
use crate::topology::kinds::varnish::{AGE_HEADER, CACHE_HEADER};
use futures_util::future::BoxFuture;
use serde::Deserialize;

/// Speaks HTTP to an application tier whose writes and reads are at `write_path` and
/// `read_path` (`{seq}`: the sequence number).
#[derive(Clone, Debug)]
pub struct Http {
    write_path: String,
    read_path: String,
    /// Reads through a cache: each asks this path for the latest write (one URL the cache
    /// keeps), instead of asking `read_path` for the expected one.
    latest_path: Option<String>,
}

impl Default for Http {
    /// The reference server's paths.
    fn default() -> Self {
        Http::new("/writes/{seq}", "/writes/{seq}")
    }
}

/// One kept-alive client connection (reqwest's pool of one host) and where it points.
struct HttpConnection {
    http: reqwest::Client,
    base: String,
    write_path: String,
    read_path: String,
    latest_path: Option<String>,
}

impl Http {
    pub fn new(write_path: &str, read_path: &str) -> Http {
        Http {
            write_path: write_path.to_owned(),
            read_path: read_path.to_owned(),
            latest_path: None,
        }
    }

    /// Reads through a cache, asking `latest_path` for the latest write (no writes).
    pub fn through_cache(latest_path: &str) -> Http {
        Http {
            latest_path: Some(latest_path.to_owned()),
            ..Http::default()
        }
    }

    fn open(&self, endpoint: &Endpoint) -> Result<HttpConnection, Failure> {
        let http = reqwest::Client::builder()
            .connect_timeout(endpoint.connect_timeout)
            .pool_max_idle_per_host(1)
            .build()
            .map_err(|e| Failure::new(ErrorKind::ConnectFailed, format!("connect: {e}")))?;
        Ok(HttpConnection {
            http,
            base: format!("http://{}:{}", endpoint.host, endpoint.port),
            write_path: self.write_path.clone(),
            read_path: self.read_path.clone(),
            latest_path: self.latest_path.clone(),
        })
    }
}

impl Client for Http {
    fn protocol(&self) -> Protocol {
        Protocol::Http
    }

    fn schema(&self) -> String {
        "application tier's writes (GET /writes/latest)".into()
    }

    /// The tier creates nothing itself (the database's table is made through the database's
    /// own client): this checks that a server answers from the table.
    fn prepare<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let connection = self.open(endpoint).map_err(|f| f.text)?;
            let url = format!("{}/writes/latest", connection.base);
            let response = connection
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| error_chain(&e))?;
            match response.status().as_u16() {
                200 => Ok(()),
                status => Err(format!(
                    "GET /writes/latest: HTTP {status}: {}",
                    response.text().await.unwrap_or_default()
                )),
            }
        })
    }

    /// No network: each request connects (or reuses a kept-alive connection) by itself, and
    /// its failure to connect is the write's `fail`.
    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Connection>, Failure>> {
        Box::pin(async move { Ok(Box::new(self.open(endpoint)?) as Box<dyn Connection>) })
    }

    /// The tier serves no read-back: the writes are read back from the database itself.
    fn read_back<'a>(&'a self, _endpoint: &'a Endpoint) -> BoxFuture<'a, Result<Stored, String>> {
        Box::pin(async {
            Err("an application tier is read back through its database, not over HTTP".into())
        })
    }
}

/// A write's answer, as the contract has it; every field optional so that an answer outside
/// the contract is classified, not rejected.
#[derive(Deserialize)]
struct WriteAnswer {
    app: Option<String>,
    node: Option<String>,
    timeline: Option<u64>,
    /// Present and null: the server does not know.
    #[serde(default, deserialize_with = "present")]
    committed: Option<Option<bool>>,
    error: Option<String>,
}

/// The latest write's answer (through a cache).
#[derive(Deserialize)]
struct LatestAnswer {
    node: Option<String>,
    /// `null`: nothing written yet.
    seq: Option<u64>,
}

/// A read's answer.
#[derive(Deserialize)]
struct ReadAnswer {
    node: Option<String>,
    replica: Option<bool>,
    visible: Option<bool>,
}

/// `Some(value)` for a field that is present, even as null.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<bool>>, D::Error> {
    Option::<bool>::deserialize(d).map(Some)
}

impl HttpConnection {
    fn url(&self, path: &str, seq: u64) -> String {
        format!("{}{}", self.base, path.replace("{seq}", &seq.to_string()))
    }

    /// The latest write through the cache: visible when it is `expected` or later; how the cache
    /// served it and the object's age from its headers.
    async fn read_through_cache(
        &self,
        latest: &str,
        expected: Option<u64>,
    ) -> Result<Seen, Failure> {
        let response = self
            .http
            .get(format!("{}{latest}", self.base))
            .send()
            .await
            .map_err(|e| request_failure(&e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .filter(|v| !v.is_empty())
        };
        let cache = header(CACHE_HEADER);
        let age = header(AGE_HEADER)
            .and_then(|a| a.parse::<f64>().ok())
            .filter(|a| a.is_finite() && *a >= 0.0)
            .map(std::time::Duration::from_secs_f64);
        let answer = response.json::<LatestAnswer>().await.ok();
        match answer.filter(|_| status == 200) {
            Some(LatestAnswer {
                node: Some(node),
                seq,
            }) => Ok(Seen {
                node,
                replica: false,
                visible: matches!((seq, expected), (Some(s), Some(e)) if s >= e),
                cache,
                age,
            }),
            _ => Err(Failure {
                status: Some(status),
                ..Failure::new(
                    ErrorKind::HttpRefused,
                    format!(
                        "HTTP {status} through the cache ({})",
                        cache.unwrap_or_default()
                    ),
                )
            }),
        }
    }
}

impl Connection for HttpConnection {
    fn write(&mut self, seq: u64) -> BoxFuture<'_, Result<Accepted, Failure>> {
        Box::pin(async move {
            let url = self.url(&self.write_path, seq);
            let response = self
                .http
                .post(&url)
                .send()
                .await
                .map_err(|e| request_failure(&e))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| Failure {
                status: Some(status),
                ..request_failure(&e)
            })?;
            classify(status, &body)
        })
    }

    fn read_latest(&mut self, expected: Option<u64>) -> BoxFuture<'_, Result<Seen, Failure>> {
        Box::pin(async move {
            if let Some(latest) = self.latest_path.clone() {
                return self.read_through_cache(&latest, expected).await;
            }
            // Without a write to look for, seq 0 (never written) asks the same question.
            let url = self.url(&self.read_path, expected.unwrap_or(0));
            let response = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| request_failure(&e))?;
            let status = response.status().as_u16();
            let answer = response
                .json::<ReadAnswer>()
                .await
                .ok()
                .filter(|_| status == 200);
            match answer {
                Some(ReadAnswer {
                    node: Some(node),
                    replica: Some(replica),
                    visible: Some(visible),
                }) => Ok(Seen {
                    node,
                    replica,
                    visible: visible && expected.is_some(),
                    cache: None,
                    age: None,
                }),
                _ => Err(Failure {
                    status: Some(status),
                    ..Failure::new(ErrorKind::HttpRefused, format!("HTTP {status}"))
                }),
            }
        })
    }
}

/// A write's outcome from its answer (the rule in the module's comment).
fn classify(status: u16, body: &[u8]) -> Result<Accepted, Failure> {
    let answer = serde_json::from_slice::<WriteAnswer>(body).ok();
    let failure = |kind: ErrorKind, text: String| Failure {
        status: Some(status),
        ..Failure::new(kind, text)
    };
    let Some(answer) = answer.filter(|a| a.committed.is_some()) else {
        let kind = match status {
            503 => ErrorKind::HttpNoServer,
            _ => ErrorKind::HttpUnknown,
        };
        let text = String::from_utf8_lossy(body);
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(failure(
            kind,
            format!("HTTP {status} from the proxy: {first}"),
        ));
    };
    let from = answer.app.as_deref().unwrap_or("an unnamed server");
    let said = answer.error.as_deref().unwrap_or("no error given");
    match (answer.committed, status, answer.node, answer.timeline) {
        (Some(Some(true)), 200, Some(node), Some(timeline)) => Ok(Accepted {
            node,
            epoch: Some(timeline),
            via: answer.app,
            status: Some(status),
        }),
        (Some(Some(false)), ..) => Err(failure(
            ErrorKind::HttpRefused,
            format!("HTTP {status} from {from}, not committed: {said}"),
        )),
        (Some(None), ..) => Err(failure(
            ErrorKind::HttpUnknown,
            format!("HTTP {status} from {from}, commit unknown: {said}"),
        )),
        _ => Err(failure(
            ErrorKind::HttpUnknown,
            format!("HTTP {status} from {from}: an answer outside the contract"),
        )),
    }
}

/// A request that got no answer: refused or timed out while connecting (nothing was sent), or
/// broken after it was sent.
fn request_failure(e: &reqwest::Error) -> Failure {
    if e.is_connect() {
        return Failure::new(
            connect_error_kind(e),
            format!("connect: {}", error_chain(e)),
        );
    }
    Failure::new(
        ErrorKind::ConnectionLost,
        format!("connection lost: {}", error_chain(e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    fn outcome(status: u16, body: &str) -> Result<Accepted, (ErrorKind, Outcome, String)> {
        classify(status, body.as_bytes()).map_err(|f| {
            assert_eq!(f.status, Some(status));
            (f.kind, f.kind.outcome(), f.text)
        })
    }

    #[test]
    fn a_committed_write_names_the_server_the_node_and_the_timeline() {
        let body = r#"{"app": "app2", "node": "pg3", "timeline": 2, "committed": true}"#;
        assert_eq!(
            outcome(200, body).unwrap(),
            Accepted {
                node: "pg3".into(),
                epoch: Some(2),
                via: Some("app2".into()),
                status: Some(200),
            }
        );
    }

    #[test]
    fn the_server_s_word_decides_when_it_gives_one() {
        let refused = r#"{"app": "app1", "committed": false, "error": "25006: read-only"}"#;
        let (kind, out, text) = outcome(503, refused).unwrap_err();
        assert_eq!((kind, out), (ErrorKind::HttpRefused, Outcome::Fail));
        assert_eq!(text, "HTTP 503 from app1, not committed: 25006: read-only");

        let lost = r#"{"app": "app1", "committed": null, "error": "commit: server closed"}"#;
        let (kind, out, _) = outcome(503, lost).unwrap_err();
        assert_eq!((kind, out), (ErrorKind::HttpUnknown, Outcome::Unknown));

        // committed, but not with 200 or without the node: outside the contract, unknown
        let odd = r#"{"app": "app1", "committed": true}"#;
        let (kind, _, text) = outcome(200, odd).unwrap_err();
        assert_eq!(kind, ErrorKind::HttpUnknown);
        assert!(text.contains("outside the contract"), "{text}");
    }

    #[test]
    fn the_proxy_s_own_answers_say_whether_a_server_had_the_request() {
        let page = "<html><body><h1>503 Service Unavailable</h1>\nNo server is available";
        let (kind, out, text) = outcome(503, page).unwrap_err();
        assert_eq!((kind, out), (ErrorKind::HttpNoServer, Outcome::Fail));
        assert!(
            text.starts_with("HTTP 503 from the proxy: <html>"),
            "{text}"
        );
        for status in [502, 504, 500] {
            let (kind, out, _) = outcome(status, "<html>gateway</html>").unwrap_err();
            assert_eq!((kind, out), (ErrorKind::HttpUnknown, Outcome::Unknown));
        }
    }
}
