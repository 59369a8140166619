//! firedrill: chaos and failover drills for highly available database stacks.

pub mod history;
pub mod scenario;
