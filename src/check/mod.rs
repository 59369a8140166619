//! Checkers: measurements and objectives over a `History`.
//!
//! Everything here is a pure function of the recorded history (and, for judging, the scenario's
//! objectives). Nothing talks to containers, so a stored run can be re-judged later and every
//! definition is tested against synthetic histories with planted truth.
//!
//! - [`measure`] computes [`Measurements`] (write counts, per-fault timings, RTO, lost and unknown
//!   writes, split brain, replication lag, time to full redundancy, leader changes);
//! - [`judge`] compares them with the objectives and returns a [`Verdict`].

mod lag;
mod leader;
mod loss;
mod measurements;
mod redundancy;
mod rto;
mod split_brain;
mod verdict;
mod writes;

#[cfg(test)]
pub(crate) mod testkit;

pub use loss::{LostWrites, UnknownWrites};
pub use measurements::{FaultMeasurements, Measurements, measure};
pub use split_brain::SplitBrain;
pub use verdict::{MeasuredValue, ObjectiveResult, Verdict, fmt_bytes, judge};
pub use writes::WriteCounts;
