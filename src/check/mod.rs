//! Checkers: measurements and objectives over a `History`.
//!
//! Everything here is a pure function of the recorded history (and, for judging, the scenario's
//! objectives). Nothing talks to containers, so a stored run can be re-judged later and every
//! definition is tested against synthetic histories with planted truth.
//!
//! - [`measure`] computes [`Measurements`] (write counts, errors by kind, per-fault timings, RTO
//!   and its resolution, write latency before, during and after each fault, promotion time, lost
//!   and unknown writes, split brain, replication lag, time to full redundancy, leader changes,
//!   and, with readers, stale reads; with poolers, pool use, the alert condition's spans,
//!   clients waiting and stale server connections; with a `restore` step, the restore checked
//!   against its target, its phases and its effective RPO, and the backups taken);
//! - [`judge`] compares them with the objectives and returns a [`Verdict`].

mod arbiter;
mod cache;
mod lag;
mod latency;
mod leader;
mod loss;
mod measurements;
mod offsets;
mod pool;
mod promotion;
mod proxy;
mod reads;
mod redundancy;
mod restore;
mod rto;
mod split_brain;
mod tier;
mod verdict;
mod writes;

#[cfg(test)]
pub(crate) mod testkit;

pub use cache::{CacheFault, CacheMeasurements};
pub use latency::{LatencyStats, WriteLatency};
pub use loss::{FailedCommitted, LostWrites, UnknownWrites};
pub use measurements::{
    FaultMeasurements, IncidentFault, Measurements, NO_POOLER, NO_ROLE_SOURCE, measure,
};
pub use pool::{PoolMeasurements, PoolerFigures, SaturatedSpan, StaleServers, over_alert};
pub use reads::{Reads, StaleRead};
pub use restore::{
    BackupTaken, NO_RESTORE, Resolved, RestoreMeasurements, RestorePhases, RestoreTruth, SeqList,
    SeqRange, effective_rpo, pg_timestamp,
};
pub use rto::{STABLE, UnconfirmedRecovery};
pub use split_brain::SplitBrain;
pub use tier::{Drain, TierMeasurements};
pub use verdict::{
    Judgement, MeasuredValue, NOT_JUDGED, ObjectiveResult, Verdict, fmt_bytes, judge,
};
pub use writes::WriteCounts;
