//! The one history of a run: every workload operation (writes and reads), fault action and probe
//! sample, stamped on one monotonic clock (see `clock`). Checkers are pure functions of this type.

mod clock;
mod event;
mod observed;
mod pool;

pub use clock::{At, Clock};
pub use event::{
    DEFAULT_PROBE_INTERVAL, ErrorKind, Event, FaultAction, FaultEvent, History, Outcome,
    ProbeSample, ReadBack, ReadOp, Role, WriteOp,
};
pub use observed::{LeaderKeySample, ProxySample, ProxyServer, ReplicaStat, ReplicationSample};
pub use pool::{PoolSample, PoolStat, ServerConnection};
