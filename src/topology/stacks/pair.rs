//! A primary/standby pair with no failover manager: PostgreSQL streaming from db1 to db2, a
//! virtual IP held by keepalived on the primary, clients connecting to the virtual IP. Nothing
//! promotes the standby but the operator's procedure (the `promote` step), as a document
//! platform's runbook does it. With `[topology.app]`, API servers behind HAProxy in front of it
//! all (the document platform's layout): the servers reach the database at the virtual IP,
//! HAProxy balances the clients over the servers and routes no database connection.

use super::super::kind::Render;
use super::super::kinds::{APP, HAPROXY, KEEPALIVED, POSTGRES, postgres};
use super::super::ready::{Reached, ReadyBound, poll_until};
use super::super::{Cluster, NodeKind, TopologyError};
use super::{ClientEndpoint, Ready, Stack, StartGroup};
use crate::client::Protocol;
use crate::progress::Progress;
use crate::scenario::{Family, Topology};
use futures_util::future::BoxFuture;
use std::time::{Duration, Instant};

pub struct PairStack;

impl Stack for PairStack {
    fn name(&self) -> &'static str {
        "pair"
    }

    fn summary(&self) -> &'static str {
        "a PostgreSQL primary and its standby, no failover manager, keepalived's virtual IP on \
         the primary, promotion by the operator's procedure"
    }

    fn kinds(&self) -> &'static [NodeKind] {
        &[POSTGRES, KEEPALIVED, HAPROXY, APP]
    }

    /// db1 first (it initialises the cluster), then the standbys, which clone it once it
    /// answers, with the application servers (their pools connect on demand) and HAProxy in
    /// front of them.
    fn plan(&self, render: &Render<'_>) -> Vec<StartGroup> {
        let mut first = POSTGRES.kind().specs(render);
        let mut rest = first.split_off(1.min(first.len()));
        rest.extend(HAPROXY.kind().specs(render));
        rest.extend(APP.kind().specs(render));
        vec![
            StartGroup {
                specs: first,
                bootstraps: true,
            },
            StartGroup {
                specs: rest,
                bootstraps: false,
            },
        ]
    }

    fn ready<'a>(
        &'a self,
        cluster: &'a Cluster,
        _topology: &'a Topology,
        bound: ReadyBound,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Ready, TopologyError>> {
        Box::pin(async move {
            let mut reached = Reached::new(bound, progress);
            let leader = wait_ready(cluster, bound.deadline(), &mut reached).await?;
            super::tier_ready(cluster, bound.deadline(), &mut reached).await?;
            Ok(Ready {
                leader,
                backup: None,
            })
        })
    }

    fn client_endpoint(&self) -> ClientEndpoint {
        ClientEndpoint::VirtualIp {
            port: super::super::PG_PORT,
        }
    }

    fn protocol(&self) -> Protocol {
        Protocol::Postgres
    }

    fn no_replica_reads(&self, _topology: &Topology) -> Option<&'static str> {
        Some(
            "in the pair stack: its clients reach the primary at the virtual IP, and nothing \
             balances readers over the standbys",
        )
    }

    fn leader_key(&self) -> Option<&'static str> {
        None
    }

    /// The servers report their own roles; no proxy, pooler or backup repository.
    fn lacks(&self, family: Family, topology: &Topology) -> Option<String> {
        match family {
            Family::WritePath | Family::Role | Family::Reads => None,
            Family::Proxy => Some(format!(
                "the pair stack has no proxy in front of the database: its clients connect to \
                 the virtual IP{}",
                match APP.kind().count(topology) {
                    0 => "",
                    _ => " (its HAProxy fronts only the application servers)",
                }
            )),
            Family::Pool | Family::PoolRole => {
                Some("the pair stack has no connection pooler".into())
            }
            Family::Restore => Some("the pair stack has no backup repository".into()),
        }
    }
}

/// Waits until db1 is the only primary, every standby streams from it, the virtual IP is on
/// db1 and the harness, connecting to the virtual IP, reaches db1's server.
async fn wait_ready(
    cluster: &Cluster,
    deadline: Instant,
    reached: &mut Reached<'_>,
) -> Result<String, TopologyError> {
    let primary = postgres::first();
    super::first_leads_every_other_following(
        cluster,
        POSTGRES,
        &primary,
        ("primary", "standby", "streaming"),
        deadline,
        reached,
    )
    .await?;
    let Some(vip) = cluster.client_entry.virtual_ip() else {
        return Ok(primary);
    };
    poll_until(deadline, || async {
        cluster
            .address_holders(Duration::from_secs(2))
            .await
            .is_ok_and(|holders| holders == [primary.clone()])
    })
    .await
    .ok_or_else(|| reached.not_ready(&format!("the virtual IP {vip} on {primary}")))?;
    reached.note(format!("virtual IP {vip} on {primary}"));
    // Only the bridge carries the virtual IP: a host that does not route to the run's network
    // (a remote engine, Docker Desktop's VM) cannot reach it.
    let last_error = std::sync::Mutex::new(String::new());
    let answered = poll_until(deadline, || async {
        cluster
            .serving_at_virtual_ip(Duration::from_secs(1))
            .await
            .inspect_err(|e| e.clone_into(&mut last_error.lock().expect("not poisoned")))
            .ok()
    })
    .await
    .flatten();
    match answered {
        Some(node) if node == primary => {
            reached.note(format!("the harness reaches {primary} at {vip}"));
            Ok(primary)
        }
        Some(other) => Err(reached.not_ready(&format!(
            "the harness to reach {primary} at {vip} ({other} answered there)"
        ))),
        None => Err(TopologyError::Node {
            node: "harness".into(),
            message: format!(
                "the harness cannot reach the virtual IP {vip} on the run's network: the pair \
                 stack's clients connect to it over the Docker bridge, which only a Linux host \
                 running the engine routes to (not a remote engine, not Docker Desktop's VM); \
                 {}",
                last_error.into_inner().expect("not poisoned")
            ),
        }),
    }
}
