//! Where the workload's clients connect, from the running cluster: the one place the workload
//! knows the cluster's layout. The cluster hands out PostgreSQL connection settings today;
//! they become protocol-free [`Endpoint`]s here.

use crate::client::Endpoint;
use crate::scenario::ReadEndpoint;
use crate::topology::{Cluster, Node};
use std::time::Duration;

/// The client endpoint (the proxy), where writes and primary reads go.
pub(super) fn client_endpoint(cluster: &Cluster, connect_timeout: Duration) -> Endpoint {
    node_endpoint(cluster, cluster.endpoint(), connect_timeout)
}

/// A node's own endpoint, past the proxy.
pub(super) fn node_endpoint(cluster: &Cluster, node: &Node, connect_timeout: Duration) -> Endpoint {
    from_config(&cluster.pg_config(node, connect_timeout))
}

/// Where reads go: the client endpoint, or the proxy's replica endpoint if it has one.
pub(super) fn read_endpoint(
    cluster: &Cluster,
    through: ReadEndpoint,
    connect_timeout: Duration,
) -> Result<Endpoint, String> {
    match through {
        ReadEndpoint::Primary => Ok(client_endpoint(cluster, connect_timeout)),
        ReadEndpoint::Replica => cluster
            .replica_endpoint_config(connect_timeout)
            .map(|config| from_config(&config))
            .ok_or_else(|| "haproxy has no replica endpoint".to_string()),
    }
}

fn from_config(config: &tokio_postgres::Config) -> Endpoint {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".into(),
    };
    let text = |s: Option<&str>| s.unwrap_or_default().to_string();
    Endpoint {
        host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        user: text(config.get_user()),
        password: config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default(),
        dbname: text(config.get_dbname()),
        connect_timeout: config.get_connect_timeout().copied().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_keeps_every_setting_of_the_cluster_s_config() {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(32771)
            .user("postgres")
            .password("pw")
            .dbname("postgres")
            .connect_timeout(Duration::from_millis(1500));
        let endpoint = from_config(&config);
        assert_eq!(
            endpoint,
            Endpoint {
                host: "127.0.0.1".into(),
                port: 32771,
                user: "postgres".into(),
                password: "pw".into(),
                dbname: "postgres".into(),
                connect_timeout: Duration::from_millis(1500),
            }
        );
    }
}
