//! The validated scenario: what the rest of firedrill works from. Every value here has been
//! checked; nothing downstream re-validates.

use super::settings::{KindSettings, Settings};
use crate::fault::FaultSpec;
use crate::step::ActionSpec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The runbook procedure this scenario rehearses ("1. Primary node crash").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// How long the workload runs, from its start.
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// Where it was read from and the sha256 of the file's bytes.
    pub source: Source,
    /// A user-supplied image to run instead of firedrill's own base image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub topology: Topology,
    pub workload: Workload,
    /// Named sets of nodes faults can target (`group:NAME`), in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    pub faults: Vec<Fault>,
    /// Actions at an instant (`[[step]]`), in the order they run. Absent from run.json when
    /// there are none, so every record written before steps existed loads unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    pub objectives: Vec<Objective>,
    /// How long each step may take before firedrill gives up (`[bounds]`); runs recorded before
    /// bounds existed load with the defaults.
    #[serde(default)]
    pub bounds: Bounds,
}

/// The longest firedrill waits for each step of a drill before it gives up on it. Every bound
/// is more than zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bounds {
    /// From the containers created to the cluster ready (etcd healthy, a leader, replicas
    /// streaming, HAProxy routing to the leader). 120 s by default.
    #[serde(with = "humantime_serde")]
    pub bring_up: Duration,
    /// Each fault's injection, and each heal, separately; each step's action. 60 s by
    /// default.
    #[serde(with = "humantime_serde")]
    pub fault: Duration,
    /// After the workload ends: waiting for a writable leader to read back from. 60 s by
    /// default.
    #[serde(with = "humantime_serde")]
    pub recovery: Duration,
    /// One reading of every row back from that leader (retried within `recovery`). 60 s by
    /// default.
    #[serde(with = "humantime_serde")]
    pub read_back: Duration,
}

impl Bounds {
    pub const DEFAULT_BRING_UP: Duration = Duration::from_secs(120);
    pub const DEFAULT_FAULT: Duration = Duration::from_secs(60);
    pub const DEFAULT_RECOVERY: Duration = Duration::from_secs(60);
    pub const DEFAULT_READ_BACK: Duration = Duration::from_secs(60);
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            bring_up: Bounds::DEFAULT_BRING_UP,
            fault: Bounds::DEFAULT_FAULT,
            recovery: Bounds::DEFAULT_RECOVERY,
            read_back: Bounds::DEFAULT_READ_BACK,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    /// Node names (validated against the topology).
    pub nodes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub path: PathBuf,
    pub sha256: String,
}

/// The HA layout and each node kind's settings, held by kind (`[topology.patroni]` is the
/// patroni kind's): every kind reads and checks its own table (`topology::kinds`).
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// The HA layout the nodes make (`topology::stacks`); runs recorded before stacks existed
    /// were all "patroni".
    pub stack: String,
    /// Each kind's settings the topology has, in the registry's order; a kind left out has no
    /// nodes (an optional kind whose table is absent).
    pub kinds: Vec<Box<dyn KindSettings>>,
}

impl Topology {
    pub const DEFAULT_STACK: &'static str = "patroni";

    /// The settings of the kind whose settings type is `T`, if the topology has that kind.
    pub fn settings<T: Settings>(&self) -> Option<&T> {
        self.kinds
            .iter()
            .find_map(|settings| settings.as_any().downcast_ref::<T>())
    }
}

/// run.json's layout: `{"stack": "patroni", "etcd": {...}, "patroni": {...}, ...}`, each kind's
/// settings under its name, as before kinds owned them.
impl Serialize for Topology {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1 + self.kinds.len()))?;
        map.serialize_entry("stack", &self.stack)?;
        for settings in &self.kinds {
            map.serialize_entry(settings.kind(), settings)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Topology {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::deserialize(deserializer)?;
        let stack = match fields.remove("stack") {
            None => Topology::DEFAULT_STACK.to_owned(),
            Some(serde_json::Value::String(stack)) => stack,
            Some(other) => {
                return Err(serde::de::Error::custom(format!(
                    "topology.stack: expected a string, found {other}"
                )));
            }
        };
        let mut kinds = fields
            .into_iter()
            .map(|(kind, value)| super::settings::from_json(&kind, value))
            .collect::<Result<Vec<_>, String>>()
            .map_err(serde::de::Error::custom)?;
        kinds.sort_by_key(|s| {
            crate::topology::KINDS
                .iter()
                .position(|k| k.name() == s.kind())
        });
        Ok(Topology { stack, kinds })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Client connections kept open; an attempt that finds none idle opens its own.
    pub writers: usize,
    /// Write attempts per second, all writers together, started on a fixed schedule.
    pub rate: u32,
    pub through: Endpoint,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Bound on one INSERT once sent; past it the write is `unknown`. Reads are bounded by it
    /// too.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// Client connections the readers keep open; 0 (the default): no readers, no reads.
    #[serde(default)]
    pub readers: usize,
    /// The endpoint reads go through.
    #[serde(default)]
    pub read_through: ReadEndpoint,
    /// Read attempts per second, all readers together, started on a fixed schedule; 0 without
    /// readers.
    #[serde(default)]
    pub read_rate: u32,
}

/// Where readers connect: HAProxy's replica endpoint or its client (primary) endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadEndpoint {
    /// HAProxy's `replicas` section: round-robin over the nodes that answer Patroni's
    /// `OPTIONS /replica` with 200 (running replicas). Only with the `patroni-rest` check.
    #[default]
    Replica,
    /// HAProxy's client endpoint, the one writes go through: the leader.
    Primary,
    /// Varnish in front of the application servers (`[topology.varnish]`): each read asks
    /// for the latest write over HTTP, and the cache says how it served it.
    Cache,
}

impl ReadEndpoint {
    pub const ALL: &'static [ReadEndpoint] = &[
        ReadEndpoint::Replica,
        ReadEndpoint::Primary,
        ReadEndpoint::Cache,
    ];

    /// The name written in scenario files and run.json ("replica").
    pub fn name(self) -> &'static str {
        match self {
            ReadEndpoint::Replica => "replica",
            ReadEndpoint::Primary => "primary",
            ReadEndpoint::Cache => "cache",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// HAProxy's client endpoint: the database's protocol, to the leader.
    Haproxy,
    /// HAProxy's HTTP endpoint in front of the application servers (`[topology.app]`): the
    /// writes are the application's requests.
    App,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Instant after the workload's start at which the fault is injected.
    #[serde(with = "humantime_serde")]
    pub at: Duration,
    /// What it does: a verb of `crate::fault::VERBS` with its checked parameters.
    pub kind: FaultSpec,
    pub target: Target,
    /// How long the fault lasts before it is healed; `None`: never healed during the run.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<Duration>,
}

/// An action at an instant (`[[step]]`): marking a restore target, taking a backup, restoring.
/// Unlike a fault it is no inject/heal pair: it runs once, takes some time and has an outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Instant after the workload's start at which it is due. Steps run one at a time in this
    /// order: a step still running at the next one's instant delays it.
    #[serde(with = "humantime_serde")]
    pub at: Duration,
    /// What it does: an action of `crate::step::ACTIONS` with its checked parameters.
    pub action: ActionSpec,
}

/// Who a fault hits, resolved when it fires. Written in scenario files as `leader` (or
/// `primary`), `replica` / `replica:random`, `replica:all`, `replica:most-lagging`,
/// `replica:least-lagging`, a node name (`pg1`, `etcd2`, `haproxy`), a kind (`etcd`, `patroni`,
/// `haproxy`: every node of it), `etcd:random` (one of them), or `group:NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Whichever node is the leader (primary) at fire time.
    Leader,
    /// Replicas of the leader at fire time.
    Replica(Pick),
    /// A node by name.
    Node(String),
    /// Every node of a kind (`etcd`, `patroni`, `haproxy`), or one of them at random.
    Kind { kind: String, random: bool },
    /// The members of a group defined in the scenario's `[groups]`.
    Group(String),
}

/// Which replica(s) a `replica` target takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pick {
    /// One, chosen by the run's seeded random generator.
    Random,
    All,
    /// The one furthest behind the leader (`pg_stat_replication` replay lag in bytes).
    MostLagging,
    LeastLagging,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Leader => f.write_str("leader"),
            Target::Replica(Pick::Random) => f.write_str("replica:random"),
            Target::Replica(Pick::All) => f.write_str("replica:all"),
            Target::Replica(Pick::MostLagging) => f.write_str("replica:most-lagging"),
            Target::Replica(Pick::LeastLagging) => f.write_str("replica:least-lagging"),
            Target::Node(name) => f.write_str(name),
            Target::Kind {
                kind,
                random: false,
            } => f.write_str(kind),
            Target::Kind { kind, random: true } => write!(f, "{kind}:random"),
            Target::Group(name) => write!(f, "group:{name}"),
        }
    }
}

/// A bound on one measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub measure: Measure,
    pub bound: Bound,
}

/// The measurements an objective may bound. The name is the key used in scenario files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Write downtime (worst over the faults), a duration.
    Rto,
    /// Acknowledged writes missing from the final read-back, a count.
    LostWrites,
    /// Whether split brain was detected, a boolean.
    SplitBrain,
    /// Fault to first failed write (worst over the faults), a duration.
    DetectionTime,
    /// Fault to a different leader observed (worst over the faults), a duration.
    LeaderElectionTime,
    /// Fault to HAProxy routing to the new leader: it is UP, no replica is (worst over the
    /// failovers), a duration.
    ProxySwitchTime,
    /// Fault to HAProxy taking the old leader out of rotation: its server no longer UP (worst
    /// over the failovers), a duration.
    OldLeaderOutTime,
    /// Fault to a leader streaming to every node expected back (worst over the faults), a
    /// duration.
    TimeToFullRedundancy,
    /// WAL bytes the promoted replica had not received when it was elected (worst over the
    /// faults), a byte size.
    LagAtFailover,
    /// How many times the leader changed during the run, a count.
    LeaderChanges,
    /// Fault to a new leader observed on a higher timeline, its promotion finished (worst over
    /// the faults), a duration.
    PromotionTime,
    /// The longest span of acknowledged writes lost to one fault (`Measurements::RPO_DEFINITION`),
    /// zero when none was lost, a duration.
    Rpo,
    /// Reads that did not see a write acknowledged before they were invoked, on a replica or a
    /// primary, a count. Not measured without readers.
    StaleReads,
    /// Writes the system refused or certainly never ran (`fail`, not `unknown` nor the ones the
    /// harness never sent), over the whole run, a count.
    FailedWrites,
    /// The most server connections active (linked to a client) in one answer of one pooler, a
    /// count (the reports show it against the pool size).
    PoolPeakUse,
    /// How long the runbook's "pool exhausted" alert condition (server connections active over
    /// 90 % of the pool size) held on any pooler, a duration.
    PoolSaturatedTime,
    /// The most clients waiting for a server connection in one answer of one pooler, a count.
    ClientsWaiting,
    /// The longest a client had waited for a server connection (`maxwait`), a duration.
    ClientMaxWait,
    /// Server connections poolers still held to a demoted leader after a failover, a count.
    StaleServerConnections,
    /// Whether the last `restore` step completed (its node led), a boolean.
    RestoreCompleted,
    /// The restore's RTO: the cluster lost (the `lose-cluster` step's start) to the first write
    /// acknowledged on the restored cluster, a duration.
    RestoreTime,
    /// Writes acknowledged before the restore target that the restored cluster lacks, a count.
    LostBeforeTarget,
    /// Writes sent after the restore target, not acknowledged on the restored timeline, that the
    /// restored cluster holds, a count.
    PresentAfterTarget,
    /// The effective RPO of the restore: the target's time minus the last transaction recovery
    /// applied, a duration.
    RestoreRpo,
    /// The cluster lost to the restored leader streaming to every other node, a duration.
    RestoreRedundancyTime,
}

/// The families measurements come in: which sources a stack must offer for one to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// From the client's operations alone: every stack has them.
    WritePath,
    /// From a role source (who leads, per node): not applicable without one.
    Role,
    /// From a role source and the proxy's view of its servers.
    Proxy,
    /// From the readers' operations: measured only with readers.
    Reads,
    /// From a connection pooler's own figures: not applicable without a pooler.
    Pool,
    /// From a pooler's figures and a role source (who led when it was sampled).
    PoolRole,
    /// From the scenario's `restore` step and the steps before it (`target`, `lose-cluster`):
    /// not applicable without a restore step.
    Restore,
}

impl Family {
    /// Whether its measurements need a role source.
    pub fn needs_role_source(self) -> bool {
        matches!(self, Family::Role | Family::Proxy | Family::PoolRole)
    }

    /// Whether its measurements need a connection pooler.
    pub fn needs_pooler(self) -> bool {
        matches!(self, Family::Pool | Family::PoolRole)
    }

    /// Whether its measurements need a `restore` step in the scenario.
    pub fn needs_restore_step(self) -> bool {
        self == Family::Restore
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasureType {
    Duration,
    Count,
    /// A byte count, bounded by sizes like "<= 1MB" (`Bound::Count` holding bytes).
    Bytes,
    Bool,
}

impl Measure {
    pub const ALL: &'static [Measure] = &[
        Measure::Rto,
        Measure::LostWrites,
        Measure::SplitBrain,
        Measure::DetectionTime,
        Measure::LeaderElectionTime,
        Measure::ProxySwitchTime,
        Measure::OldLeaderOutTime,
        Measure::TimeToFullRedundancy,
        Measure::LagAtFailover,
        Measure::LeaderChanges,
        Measure::PromotionTime,
        Measure::Rpo,
        Measure::StaleReads,
        Measure::FailedWrites,
        Measure::PoolPeakUse,
        Measure::PoolSaturatedTime,
        Measure::ClientsWaiting,
        Measure::ClientMaxWait,
        Measure::StaleServerConnections,
        Measure::RestoreCompleted,
        Measure::RestoreTime,
        Measure::LostBeforeTarget,
        Measure::PresentAfterTarget,
        Measure::RestoreRpo,
        Measure::RestoreRedundancyTime,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Measure::Rto => "rto",
            Measure::LostWrites => "lost_writes",
            Measure::SplitBrain => "split_brain",
            Measure::DetectionTime => "detection_time",
            Measure::LeaderElectionTime => "leader_election_time",
            Measure::ProxySwitchTime => "proxy_switch_time",
            Measure::OldLeaderOutTime => "old_leader_out_time",
            Measure::TimeToFullRedundancy => "time_to_full_redundancy",
            Measure::LagAtFailover => "lag_at_failover",
            Measure::LeaderChanges => "leader_changes",
            Measure::PromotionTime => "promotion_time",
            Measure::Rpo => "rpo",
            Measure::StaleReads => "stale_reads",
            Measure::FailedWrites => "failed_writes",
            Measure::PoolPeakUse => "pool_peak_use",
            Measure::PoolSaturatedTime => "pool_saturated_time",
            Measure::ClientsWaiting => "clients_waiting",
            Measure::ClientMaxWait => "client_max_wait",
            Measure::StaleServerConnections => "stale_server_connections",
            Measure::RestoreCompleted => "restore_completed",
            Measure::RestoreTime => "restore_time",
            Measure::LostBeforeTarget => "lost_before_target",
            Measure::PresentAfterTarget => "present_after_target",
            Measure::RestoreRpo => "restore_rpo",
            Measure::RestoreRedundancyTime => "restore_redundancy_time",
        }
    }

    pub fn value_type(self) -> MeasureType {
        match self {
            Measure::Rto
            | Measure::DetectionTime
            | Measure::LeaderElectionTime
            | Measure::ProxySwitchTime
            | Measure::OldLeaderOutTime
            | Measure::TimeToFullRedundancy
            | Measure::PromotionTime
            | Measure::Rpo
            | Measure::PoolSaturatedTime
            | Measure::ClientMaxWait
            | Measure::RestoreTime
            | Measure::RestoreRpo
            | Measure::RestoreRedundancyTime => MeasureType::Duration,
            Measure::LostWrites
            | Measure::LeaderChanges
            | Measure::StaleReads
            | Measure::FailedWrites
            | Measure::PoolPeakUse
            | Measure::ClientsWaiting
            | Measure::StaleServerConnections
            | Measure::LostBeforeTarget
            | Measure::PresentAfterTarget => MeasureType::Count,
            Measure::LagAtFailover => MeasureType::Bytes,
            Measure::SplitBrain | Measure::RestoreCompleted => MeasureType::Bool,
        }
    }

    /// The family it belongs to: what a stack must offer for it to apply (`validate` refuses
    /// an objective on a measurement the scenario's stack cannot give).
    pub fn family(self) -> Family {
        match self {
            Measure::Rto
            | Measure::LostWrites
            | Measure::DetectionTime
            | Measure::Rpo
            | Measure::FailedWrites => Family::WritePath,
            Measure::SplitBrain
            | Measure::LeaderElectionTime
            | Measure::TimeToFullRedundancy
            | Measure::LagAtFailover
            | Measure::LeaderChanges
            | Measure::PromotionTime => Family::Role,
            Measure::ProxySwitchTime | Measure::OldLeaderOutTime => Family::Proxy,
            Measure::StaleReads => Family::Reads,
            Measure::PoolPeakUse
            | Measure::PoolSaturatedTime
            | Measure::ClientsWaiting
            | Measure::ClientMaxWait => Family::Pool,
            Measure::StaleServerConnections => Family::PoolRole,
            Measure::RestoreCompleted
            | Measure::RestoreTime
            | Measure::LostBeforeTarget
            | Measure::PresentAfterTarget
            | Measure::RestoreRpo
            | Measure::RestoreRedundancyTime => Family::Restore,
        }
    }

    pub fn from_name(name: &str) -> Option<Measure> {
        Measure::ALL.iter().copied().find(|m| m.name() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Cmp {
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "==",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }

    pub fn holds<T: PartialOrd>(self, value: T, bound: T) -> bool {
        match self {
            Cmp::Lt => value < bound,
            Cmp::Le => value <= bound,
            Cmp::Eq => value == bound,
            Cmp::Ge => value >= bound,
            Cmp::Gt => value > bound,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Bound {
    Duration {
        cmp: Cmp,
        #[serde(with = "humantime_serde")]
        value: Duration,
    },
    Count {
        cmp: Cmp,
        value: u64,
    },
    /// The measurement must equal this value.
    Bool {
        value: bool,
    },
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Duration { cmp, value } => {
                write!(f, "{} {}", cmp.symbol(), humantime::format_duration(*value))
            }
            Bound::Count { cmp, value } => write!(f, "{} {}", cmp.symbol(), value),
            Bound::Bool { value } => write!(f, "== {value}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_by_family() {
        let of = |family: Family| -> Vec<&str> {
            Measure::ALL
                .iter()
                .filter(|m| m.family() == family)
                .map(|m| m.name())
                .collect()
        };
        assert_eq!(
            of(Family::WritePath),
            [
                "rto",
                "lost_writes",
                "detection_time",
                "rpo",
                "failed_writes"
            ]
        );
        assert_eq!(
            of(Family::Role),
            [
                "split_brain",
                "leader_election_time",
                "time_to_full_redundancy",
                "lag_at_failover",
                "leader_changes",
                "promotion_time"
            ]
        );
        assert_eq!(
            of(Family::Proxy),
            ["proxy_switch_time", "old_leader_out_time"]
        );
        assert_eq!(of(Family::Reads), ["stale_reads"]);
        assert!(Family::Role.needs_role_source() && Family::Proxy.needs_role_source());
        assert!(!Family::WritePath.needs_role_source() && !Family::Reads.needs_role_source());
        assert_eq!(
            of(Family::Pool),
            [
                "pool_peak_use",
                "pool_saturated_time",
                "clients_waiting",
                "client_max_wait"
            ]
        );
        assert_eq!(of(Family::PoolRole), ["stale_server_connections"]);
        assert!(Family::Pool.needs_pooler() && !Family::Pool.needs_role_source());
        assert!(Family::PoolRole.needs_pooler() && Family::PoolRole.needs_role_source());
        assert!(!Family::Role.needs_pooler() && !Family::WritePath.needs_pooler());
        assert_eq!(
            of(Family::Restore),
            [
                "restore_completed",
                "restore_time",
                "lost_before_target",
                "present_after_target",
                "restore_rpo",
                "restore_redundancy_time"
            ]
        );
        let restore = Measure::ALL
            .iter()
            .filter(|m| m.family().needs_restore_step());
        assert!(restore.clone().all(|m| m.family() == Family::Restore));
        assert!(!Family::Restore.needs_role_source() && !Family::Restore.needs_pooler());
        let types: Vec<MeasureType> = restore.map(|m| m.value_type()).collect();
        assert_eq!(
            types,
            [
                MeasureType::Bool,
                MeasureType::Duration,
                MeasureType::Count,
                MeasureType::Count,
                MeasureType::Duration,
                MeasureType::Duration
            ]
        );
    }
}
