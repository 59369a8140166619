use thiserror::Error;

/// Why an action did not complete. Only [`StepError::Failed`] is an outcome of the drill; the
/// others are trouble of the harness, which ends the drill (exit 2).
#[derive(Debug, Error)]
pub enum StepError {
    /// The system under test refused it or could not complete it: recorded as the step's
    /// outcome, `failed` with this reason, and the drill goes on.
    #[error("{reason}")]
    Failed { reason: String },
    /// The Docker engine failed the harness, or a container was not this run's.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// Anything else the harness itself could not do.
    #[error("{0}")]
    Harness(String),
}

impl StepError {
    /// A recorded failure with this reason.
    pub fn failed(reason: impl Into<String>) -> StepError {
        StepError::Failed {
            reason: reason.into(),
        }
    }
}

/// A step the harness could not carry out: the drill's error.
#[derive(Debug, Error)]
#[error("step {step} ({action}) could not run: {source}")]
pub struct StepRunError {
    /// Its number in the scenario, from 1.
    pub step: usize,
    pub action: String,
    #[source]
    pub source: StepError,
}
