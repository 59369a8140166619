use thiserror::Error;

/// Trouble with the Docker Engine, with what firedrill was doing at the time.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error(
        "cannot reach the docker engine: {source}; start dockerd (Debian: apt-get install docker.io) or set DOCKER_HOST"
    )]
    Unreachable {
        #[source]
        source: bollard::errors::Error,
    },
    #[error(
        "refused to act on container {container}: it is not this run's ({run_id}) but {}",
        match owner { Some(o) => format!("run {o}'s"), None => "not firedrill's".to_string() }
    )]
    NotOurs {
        container: String,
        run_id: String,
        owner: Option<String>,
    },
    #[error("docker engine: failed to {action}: {source}")]
    Call {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl EngineError {
    pub fn call(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> EngineError {
        let action = action.into();
        move |source| EngineError::Call { action, source }
    }
}
