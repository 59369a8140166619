//! Readiness: conditions polled until they hold, never fixed sleeps; what was reached on the
//! way, for progress and for the error when the bound passes first.

use super::{Cluster, Node, TopologyError};
use crate::progress::{DrillEvent, Progress};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(100);

/// The bound on bring-up: readiness is waited for until `started + within`.
#[derive(Clone, Copy, Debug)]
pub struct ReadyBound {
    pub started: Instant,
    pub within: Duration,
}

impl ReadyBound {
    pub fn deadline(self) -> Instant {
        self.started + self.within
    }
}

/// The conditions reached so far, each noted on the progress with the time it took.
pub(super) struct Reached<'a> {
    bound: ReadyBound,
    progress: &'a Progress,
    reached: Vec<String>,
}

impl<'a> Reached<'a> {
    pub fn new(bound: ReadyBound, progress: &'a Progress) -> Self {
        Reached {
            bound,
            progress,
            reached: Vec::new(),
        }
    }

    pub fn note(&mut self, what: String) {
        self.progress.send(DrillEvent::Reached {
            condition: what.clone(),
            after: self.bound.started.elapsed(),
        });
        self.reached.push(what);
    }

    /// The bound passed while waiting for `waiting`.
    pub fn not_ready(&self, waiting: &str) -> TopologyError {
        TopologyError::NotReady {
            waited: self.bound.within,
            reached: if self.reached.is_empty() {
                "nothing".into()
            } else {
                self.reached.join(", ")
            },
            waiting: waiting.into(),
        }
    }
}

/// Waits until `node`, started alone, has bootstrapped the stack and reports itself leader.
pub(super) async fn wait_bootstrapped(
    cluster: &Cluster,
    node: &Node,
    bound: ReadyBound,
    progress: &Progress,
) -> Result<(), TopologyError> {
    poll_until(bound.deadline(), || async {
        matches!(
            cluster.self_report(node, Duration::from_secs(1)).await,
            Some(Ok(report)) if report.leads()
        )
    })
    .await
    .ok_or_else(|| TopologyError::NotReady {
        waited: bound.within,
        reached: "containers started".into(),
        waiting: format!("{} to bootstrap the cluster as its leader", node.name),
    })?;
    progress.send(DrillEvent::Bootstrapped {
        node: node.name.clone(),
        after: bound.started.elapsed(),
    });
    Ok(())
}

/// Polls `condition` every 100 ms until it returns true (or `Some`) or the deadline passes.
pub(super) async fn poll_until<F, Fut, T>(deadline: Instant, mut condition: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: Truthy,
{
    loop {
        let value = condition().await;
        if value.truthy() {
            return Some(value);
        }
        if Instant::now() + POLL > deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

pub(super) trait Truthy {
    fn truthy(&self) -> bool;
}

impl Truthy for bool {
    fn truthy(&self) -> bool {
        *self
    }
}

impl<T> Truthy for Option<T> {
    fn truthy(&self) -> bool {
        self.is_some()
    }
}
