use std::collections::HashMap;

/// The run id of the run that created an object. Every container, network and volume has it.
pub const LABEL_RUN: &str = "io.firedrill.run";
/// The pid of the firedrill process that created it, to tell live runs from dead ones.
pub const LABEL_PID: &str = "io.firedrill.pid";
/// The host that process ran on.
pub const LABEL_HOST: &str = "io.firedrill.host";
pub const LABEL_SCENARIO: &str = "io.firedrill.scenario";
/// On every object of a compose export (`firedrill compose`): the scenario exported. Such
/// objects carry no run id: `firedrill clean` leaves them to the operator who started them.
pub const LABEL_COMPOSE: &str = "io.firedrill.compose";

/// The labels of one run's objects.
#[derive(Clone, Debug)]
pub struct RunLabels {
    pub run_id: String,
    pub scenario: String,
}

impl RunLabels {
    /// The engine name of the run's container for a node (or helper) called `name`.
    pub fn container(&self, name: &str) -> String {
        format!("{}-{name}", self.run_id)
    }

    pub fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_RUN.to_string(), self.run_id.clone()),
            (LABEL_PID.to_string(), std::process::id().to_string()),
            (LABEL_HOST.to_string(), hostname()),
            (LABEL_SCENARIO.to_string(), self.scenario.clone()),
        ])
    }
}

/// A list filter matching a label (`key` alone) or a label value (`key=value`).
pub fn label_filter(selector: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![selector.to_string()])])
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
