//! Where clients reach the nodes: each kind says which protocol it serves on which container
//! port ([`Serves`]); the run's superuser connects through the host port that port is published
//! on. The settings are protocol-free [`Endpoint`]s, what the clients take.

use super::{ClientEntry, Cluster, Node};
use crate::client::{Discovery, Endpoint, Protocol, pg_error_text, pg_session};
use std::time::Duration;
use thiserror::Error;

/// What clients connect to on a kind's nodes: a database server, a pooler or a proxy in front
/// of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serves {
    pub protocol: Protocol,
    /// The container port clients connect to.
    pub port: u16,
    /// A second port balancing connections over the replicas, if the kind offers one (and the
    /// node publishes it).
    pub replicas: Option<u16>,
    /// A port in front of an application tier (HTTP), if the kind offers one (and the node
    /// publishes it: only with an application tier).
    pub tier: Option<u16>,
}

/// Why no endpoint could be given for a node.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EndpointError {
    /// Only for a cluster not brought up by `Cluster::up`, which checks the endpoint started.
    #[error("the client endpoint {0} is not among the run's nodes")]
    NoClientEndpoint(String),
    #[error("clients connect to the virtual IP {0}, through no node")]
    AtVirtualIp(String),
    #[error("clients connect to the primary the {0} nodes name, through no node")]
    Discovered(&'static str),
    #[error("{node} ({kind}) serves no clients")]
    ServesNoClients { node: String, kind: &'static str },
    #[error("{node} does not publish its port {port}")]
    Unpublished { node: String, port: u16 },
    #[error("{0} has no replica endpoint")]
    NoReplicaEndpoint(String),
    #[error("no proxy publishes an endpoint in front of an application tier")]
    NoTierEndpoint,
    #[error("{node} serves {protocol}, not SQL")]
    NotSql {
        node: String,
        protocol: &'static str,
    },
}

/// Why a superuser session on a node could not be opened.
#[derive(Debug, Error)]
pub enum SessionError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}

impl SessionError {
    /// The error in the database's own words, as the PostgreSQL client words it.
    pub fn text(&self) -> String {
        match self {
            SessionError::Postgres(e) => pg_error_text(e),
            SessionError::Endpoint(e) => e.to_string(),
        }
    }

    /// The server closed the connection (through a published port the engine's proxy accepts a
    /// connection even when nothing listens in the container, then closes it).
    pub fn is_closed(&self) -> bool {
        matches!(self, SessionError::Postgres(e) if e.is_closed())
    }
}

impl Cluster {
    /// The client endpoint: the node the stack's clients connect through (HAProxy in the Patroni
    /// stack).
    pub fn endpoint(&self) -> Result<&Node, EndpointError> {
        match &self.client_entry {
            ClientEntry::Node(name) => self
                .node(name)
                .ok_or_else(|| EndpointError::NoClientEndpoint(name.clone())),
            ClientEntry::VirtualIp { address, .. } => {
                Err(EndpointError::AtVirtualIp(address.clone()))
            }
            ClientEntry::Discovery { arbiter, .. } => {
                Err(EndpointError::Discovered(arbiter.name()))
            }
        }
    }

    /// Where writes and primary reads go: the client endpoint's client port, or the virtual IP
    /// (reached over the run's bridge network, not a published port).
    pub fn primary_endpoint(&self, connect_timeout: Duration) -> Result<Endpoint, EndpointError> {
        match &self.client_entry {
            ClientEntry::VirtualIp { address, port } => Ok(Endpoint {
                host: address.clone(),
                ..superuser(&self.secrets.superuser, *port, connect_timeout)
            }),
            ClientEntry::Node(_) => self.endpoint_of(self.endpoint()?, connect_timeout),
            ClientEntry::Discovery {
                arbiter,
                port,
                service,
            } => Ok(Endpoint {
                discovery: Some(Discovery {
                    arbiters: self
                        .nodes_of(*arbiter)
                        .filter_map(|n| Some(("127.0.0.1".to_owned(), *n.ports.get(port)?)))
                        .collect(),
                    service: service.clone(),
                }),
                ..superuser(&self.secrets.superuser, 0, connect_timeout)
            }),
        }
    }

    /// Which server answers at the virtual IP now (its `firedrill.node`): the harness reaches
    /// the address, and it is on that node.
    pub async fn serving_at_virtual_ip(&self, timeout: Duration) -> Result<String, String> {
        let endpoint = self.primary_endpoint(timeout).map_err(|e| e.to_string())?;
        let ask = async {
            let db = pg_session(&endpoint).await.map_err(|e| pg_error_text(&e))?;
            let row = db
                .query_one(&format!("SELECT {}", super::THIS_NODE_SQL), &[])
                .await
                .map_err(|e| pg_error_text(&e))?;
            Ok(row.get::<_, String>(0))
        };
        tokio::time::timeout(timeout * 2, ask)
            .await
            .unwrap_or_else(|_| Err(format!("no answer at {} within {timeout:?}", endpoint.host)))
    }

    /// Where reads through replicas go: the client endpoint's replica port (HAProxy's, with
    /// Patroni's checks; a `tcp` check knows no roles and publishes none).
    pub fn replica_endpoint(&self, connect_timeout: Duration) -> Result<Endpoint, EndpointError> {
        let node = self.endpoint()?;
        node.kind
            .kind()
            .serves()
            .and_then(|s| s.replicas)
            .and_then(|port| self.endpoint_at(node, port, connect_timeout).ok())
            .ok_or_else(|| EndpointError::NoReplicaEndpoint(node.name.clone()))
    }

    /// Where writes through the application tier go: the HTTP port of the proxy in front of it
    /// (HAProxy's `listen app`, with `[topology.app]`), the client endpoint or, where clients
    /// reach the database at a virtual IP, a proxy in front of the tier alone.
    pub fn tier_endpoint(&self, connect_timeout: Duration) -> Result<Endpoint, EndpointError> {
        let at = |node: &Node| {
            let port = node.kind.kind().serves().and_then(|s| s.tier)?;
            self.endpoint_at(node, port, connect_timeout).ok()
        };
        self.endpoint()
            .ok()
            .and_then(at)
            .or_else(|| self.nodes.iter().find_map(at))
            .ok_or(EndpointError::NoTierEndpoint)
    }

    /// A node's own client port, as the superuser: past the proxy, or the proxy itself.
    pub fn endpoint_of(
        &self,
        node: &Node,
        connect_timeout: Duration,
    ) -> Result<Endpoint, EndpointError> {
        self.endpoint_at(node, serves(node)?.port, connect_timeout)
    }

    /// The superuser's settings through the host port `container_port` is published on.
    pub fn endpoint_at(
        &self,
        node: &Node,
        container_port: u16,
        connect_timeout: Duration,
    ) -> Result<Endpoint, EndpointError> {
        let port =
            node.ports
                .get(&container_port)
                .copied()
                .ok_or_else(|| EndpointError::Unpublished {
                    node: node.name.clone(),
                    port: container_port,
                })?;
        Ok(superuser(&self.secrets.superuser, port, connect_timeout))
    }

    /// A superuser session on a node that serves PostgreSQL's protocol (a server, a pooler or
    /// the proxy in front of them), its connection driven in the background.
    pub async fn connect(
        &self,
        node: &Node,
        timeout: Duration,
    ) -> Result<tokio_postgres::Client, SessionError> {
        let serves = serves(node)?;
        let endpoint = self.endpoint_at(node, serves.port, timeout)?;
        match serves.protocol {
            Protocol::Postgres => Ok(pg_session(&endpoint).await?),
            other => Err(EndpointError::NotSql {
                node: node.name.clone(),
                protocol: other.name(),
            }
            .into()),
        }
    }
}

/// What the node's kind serves clients.
fn serves(node: &Node) -> Result<Serves, EndpointError> {
    node.kind
        .kind()
        .serves()
        .ok_or_else(|| EndpointError::ServesNoClients {
            node: node.name.clone(),
            kind: node.kind.name(),
        })
}

/// The run's superuser on 127.0.0.1:`port`.
fn superuser(password: &str, port: u16, connect_timeout: Duration) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        user: "postgres".into(),
        password: password.into(),
        dbname: "postgres".into(),
        connect_timeout,
        discovery: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_superuser_connects_on_the_loopback_to_the_published_port() {
        assert_eq!(
            superuser("pw", 32771, Duration::from_millis(1500)),
            Endpoint {
                host: "127.0.0.1".into(),
                port: 32771,
                user: "postgres".into(),
                password: "pw".into(),
                dbname: "postgres".into(),
                connect_timeout: Duration::from_millis(1500),
                discovery: None,
            }
        );
    }
}
