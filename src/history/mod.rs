//! The one history of a run: every workload operation, fault action and probe sample, stamped on
//! one monotonic clock (see `clock`). Checkers are pure functions of this type.

mod clock;
mod event;

pub use clock::{At, Clock};
pub use event::{
    Event, FaultAction, FaultEvent, History, Outcome, ProbeSample, ReadBack, Role, WriteOp,
};
