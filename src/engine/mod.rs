//! The thin layer over the Docker Engine (bollard): connecting, the labels that mark what a run
//! owns, running commands inside containers, and removing a run's objects.

mod cleanup;
mod connect;
mod error;
mod exec;
mod labels;
mod owned;

pub use cleanup::{Leftovers, RunInfo, find_leftovers, list_runs, remove_run};
pub use connect::connect;
pub use error::EngineError;
pub use exec::{ExecOutput, exec, exec_lines, exec_within};
pub use labels::{
    LABEL_COMPOSE, LABEL_HOST, LABEL_PID, LABEL_RUN, LABEL_SCENARIO, RunLabels, label_filter,
};
pub use owned::ensure_owned;
