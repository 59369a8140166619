//! Probes: samples of each node's state on the run's clock, recorded into the history.

mod patroni_roles;

pub use patroni_roles::probe_roles;
