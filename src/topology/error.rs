//! Why a topology could not be brought up.

use crate::engine::EngineError;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TopologyError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("failed to start node {node}: {message}")]
    Node { node: String, message: String },
    #[error("cluster not ready after {}: reached {reached}; still waiting for {waiting}", humantime::format_duration(*.waited))]
    NotReady {
        waited: Duration,
        reached: String,
        waiting: String,
    },
    /// pgBackRest's stanza-create, check or first backup failed: a drill that backs up cannot
    /// start without a repository that takes the WAL and a backup to restore from.
    #[error("the backup repository is not usable, so the drill cannot run: {message}")]
    Backups { message: String },
    #[error("failed to {action}: {message}")]
    Database { action: String, message: String },
    /// A host port the scenario fixed (`[topology.haproxy] port`) is held by another process.
    #[error(
        "{node}: host port {port} ({setting}) is already in use by another process; choose \
         another port or leave it unset"
    )]
    PortInUse {
        node: String,
        port: u16,
        /// The scenario setting that fixed the port.
        setting: String,
    },
    /// Other processes took a host port firedrill had chosen for the node, between its choice
    /// and the container's start, on every attempt.
    #[error(
        "failed to start node {node}: another process took a host port chosen for it before \
         its container started, {attempts} times in a row (each time with fresh ports); last: \
         {message}"
    )]
    PortsTaken {
        node: String,
        attempts: u32,
        /// The engine's last error.
        message: String,
    },
}
