//! The one history of a run: every workload operation (writes and reads), fault action, step,
//! role sample (`role`) and other probe sample, stamped on one monotonic clock (see `clock`).
//! Checkers are pure functions of this type.

mod announcement;
mod clock;
mod event;
mod observed;
mod pool;
mod role;
mod step;

pub use announcement::Announcement;
pub use clock::{At, Clock};
pub use event::{
    DEFAULT_PROBE_INTERVAL, ErrorKind, Event, FaultAction, FaultEvent, History, NoteEvent, Outcome,
    ReadBack, ReadOp, WriteOp,
};
pub use observed::{ProxySample, ProxyServer, ReplicaStat, ReplicationSample, Routing, TierServer};
pub use pool::{PoolSample, PoolStat, ServerConnection};
pub use role::{RecordedAs, Role, RoleSample, RoleView, source_answerer, source_label};
pub use step::{StepEvent, StepOutcome, Values};
