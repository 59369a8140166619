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
    /// A target that is not a container of this run (isolation).
    #[error("fault {kind} on {node}: {source}")]
    Isolation {
        kind: String,
        node: String,
        #[source]
        source: Box<crate::engine::EngineError>,
    },
    #[error(
        "fault {fault} ({kind}) not {action} within {} (the [bounds] fault bound)",
        humantime::format_duration(*.bound)
    )]
    Timeout {
        fault: usize,
        kind: String,
        action: String,
        bound: std::time::Duration,
    },
    #[error("fault {kind} cannot be injected on this host: {reason}")]
    Unsupported { kind: String, reason: String },
}

impl FaultError {
    pub(crate) fn action(
        action: impl Into<String>,
        node: &str,
    ) -> impl FnOnce(String) -> FaultError {
        let (action, node) = (action.into(), node.to_string());
        move |message| FaultError::Action {
            action,
            node,
            message,
        }
    }
}
