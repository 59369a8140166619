use super::EngineError;
use bollard::Docker;

/// Connects to the local engine (DOCKER_HOST or the default socket) and settles on the API
/// version both sides speak, so that endpoints the engine lacks fail clearly.
pub async fn connect() -> Result<Docker, EngineError> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|source| EngineError::Unreachable { source })?;
    docker
        .ping()
        .await
        .map_err(|source| EngineError::Unreachable { source })?;
    docker
        .negotiate_version()
        .await
        .map_err(|source| EngineError::Unreachable { source })
}
