//! Isolation: a fault acts only on containers the current run created. Before any action the
//! container is looked up by name and its run label compared with the run's id: a container of
//! another run, or one nobody labelled, is refused.

use super::{EngineError, LABEL_RUN};
use bollard::Docker;
use bollard::query_parameters::InspectContainerOptions;

/// Succeeds when `container` exists and carries `io.firedrill.run=<run_id>`.
pub async fn ensure_owned(
    docker: &Docker,
    container: &str,
    run_id: &str,
) -> Result<(), EngineError> {
    let inspected = docker
        .inspect_container(container, None::<InspectContainerOptions>)
        .await
        .map_err(EngineError::call(format!("inspect container {container}")))?;
    let label = inspected
        .config
        .and_then(|c| c.labels)
        .and_then(|labels| labels.get(LABEL_RUN).cloned());
    match label {
        Some(owner) if owner == run_id => Ok(()),
        owner => Err(EngineError::NotOurs {
            container: container.to_string(),
            run_id: run_id.to_string(),
            owner,
        }),
    }
}
