use thiserror::Error;

#[derive(Debug, Error)]
pub enum FaultError {
    #[error("cannot resolve fault target {target}: {reason}")]
    Target { target: String, reason: String },
    #[error("failed to {action} on {node}: {message}")]
    Action {
        action: String,
        node: String,
        message: String,
    },
}
