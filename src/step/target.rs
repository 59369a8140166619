//! target: marks the restore target on the current leader. In one statement the leader reads its
//! own clock (`clock_timestamp()`) and its WAL position (`pg_current_wal_lsn()`), and with
//! `restore_point = "NAME"` also writes a named restore point (`pg_create_restore_point`): what a
//! point-in-time restore later aims at (`--type=time`, `--type=lsn` or `--type=name`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio_postgres::types::Type;

use super::{Action, Context, Done, StepError};
use crate::fault::{Key, KeyForm};
use crate::history::{At, StepEvent, StepOutcome};
use crate::scenario::{KeyError, StepInput};
use crate::topology::{Cluster, Node, SessionError};

pub struct MarkTarget;

/// The longest restore point name PostgreSQL takes, in bytes (`MAXFNAMELEN - 1`): the server
/// refuses a longer one.
pub const MAX_RESTORE_POINT_LEN: usize = 63;

/// A named restore point to create as well, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetParams {
    pub restore_point: Option<String>,
}

/// What a `target` step recorded, as its `values` hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetMark {
    /// The leader the target was marked on.
    pub node: String,
    /// The leader's `clock_timestamp()`, RFC 3339 with its offset, to the microsecond.
    pub target_time: String,
    /// `target_time` on the run's clock (see [`on_run_clock`]).
    pub target_at: At,
    /// The leader's `pg_current_wal_lsn()` then, as PostgreSQL writes it (`0/3000060`).
    pub target_lsn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_point: Option<String>,
    /// Where `pg_create_restore_point` wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_point_lsn: Option<String>,
}

impl TargetMark {
    /// What a `target` step that completed recorded; `None` for any other step.
    pub fn of(step: &StepEvent) -> Option<TargetMark> {
        if step.action != MarkTarget::NAME || step.outcome != StepOutcome::Done {
            return None;
        }
        let values = serde_json::Value::Object(step.values.clone().into_iter().collect());
        serde_json::from_value(values).ok()
    }
}

/// A WAL position as PostgreSQL writes it (`16/B374D848`: the high and low 32 bits in hex) in
/// bytes.
pub fn lsn_bytes(lsn: &str) -> Option<u64> {
    let (high, low) = lsn.split_once('/')?;
    let high = u32::from_str_radix(high, 16).ok()?;
    let low = u32::from_str_radix(low, 16).ok()?;
    Some(u64::from(high) << 32 | u64::from(low))
}

/// One statement, so that the clock and the position are read together. PostgreSQL evaluates a
/// target list left to right: the clock, then the position, then the restore point (which
/// writes WAL after that position).
const MARK: &str = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, \
                    pg_current_wal_lsn()::text, NULL::text";
const MARK_WITH_POINT: &str = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, \
                               pg_current_wal_lsn()::text, pg_create_restore_point($1)::text";

/// How long connecting to the leader may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(2);

impl Action for MarkTarget {
    type Params = TargetParams;
    const NAME: &'static str = "target";
    const SUMMARY: &'static str = "marks the restore target on the leader: its clock \
         (clock_timestamp()) and WAL position in one statement, and a named restore point with \
         `restore_point`";
    const KEYS: &'static [Key] = &[Key {
        name: "restore_point",
        form: KeyForm::Text,
    }];

    fn params(input: &mut StepInput<'_>) -> Result<TargetParams, KeyError> {
        let Some(name) = input.text("restore_point") else {
            return Ok(TargetParams {
                restore_point: None,
            });
        };
        let text = name.get_ref();
        if text.is_empty() || text.len() > MAX_RESTORE_POINT_LEN {
            return Err(input.invalid(
                name.span(),
                "restore_point",
                format!(
                    "expected a restore point name of 1 to {MAX_RESTORE_POINT_LEN} bytes (what \
                     PostgreSQL keeps), found {text:?} ({} bytes)",
                    text.len()
                ),
            ));
        }
        Ok(TargetParams {
            restore_point: Some(name.into_inner()),
        })
    }

    async fn run(ctx: Context<'_>, params: &TargetParams) -> Result<Done, StepError> {
        let leader = leader(ctx.cluster).await?;
        let fail = |what: &str, e: SessionError| {
            StepError::failed(format!(
                "{what} on the leader {}: {}",
                leader.name,
                e.text()
            ))
        };
        let client = ctx
            .cluster
            .connect(&leader, CONNECT_WITHIN)
            .await
            .map_err(|e| fail("cannot connect", e))?;
        // The harness's instants around the statement: the server read its clock in between.
        let sent = ctx.clock.now();
        let sent_wall = SystemTime::now();
        let row = match &params.restore_point {
            Some(name) => {
                client
                    .query_typed_one(MARK_WITH_POINT, &[(name, Type::TEXT)])
                    .await
            }
            None => client.query_typed_one(MARK, &[]).await,
        }
        .map_err(|e| fail("cannot mark the target", e.into()))?;
        let answered = ctx.clock.now();
        let micros: i64 = row.get(0);
        let target_lsn: String = row.get(1);
        let restore_point_lsn: Option<String> = row.get(2);

        let target_time = rfc3339_micros(micros)
            .ok_or_else(|| StepError::failed(format!("the leader's clock read {micros} µs")))?;
        let (target_at, skew) = on_run_clock(micros, sent, sent_wall, answered);
        let mark = TargetMark {
            node: leader.name.clone(),
            target_time,
            target_at,
            target_lsn,
            restore_point: params.restore_point.clone(),
            restore_point_lsn,
        };
        let mut detail = format!(
            "on {}: {} at LSN {}",
            mark.node, mark.target_time, mark.target_lsn
        );
        if let (Some(name), Some(lsn)) = (&mark.restore_point, &mark.restore_point_lsn) {
            detail.push_str(&format!("; restore point {name:?} at {lsn}"));
        }
        if let Some(skew) = skew {
            detail.push_str(&format!(
                "; the leader's clock is {} off the harness's",
                humantime::format_duration(skew)
            ));
        }
        let mut done = Done::new(detail).during(sent, answered);
        if let serde_json::Value::Object(values) = serde_json::to_value(&mark).unwrap_or_default() {
            done.values = values.into_iter().collect();
        }
        Ok(done)
    }

    fn schedule_note(params: &TargetParams) -> String {
        match &params.restore_point {
            Some(name) => format!(" (restore point {name:?})"),
            None => String::new(),
        }
    }
}

/// The one node reporting itself leader, as the role service sees it now.
pub(super) async fn leader(cluster: &Cluster) -> Result<Node, StepError> {
    let roles = cluster.roles(Duration::from_secs(1)).await;
    let leaders: Vec<&Node> = roles
        .reports
        .iter()
        .filter(|(_, report)| report.as_ref().is_some_and(|r| r.leads()))
        .map(|(node, _)| node)
        .collect();
    match leaders.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(StepError::failed("no node reports itself leader")),
        many => Err(StepError::failed(format!(
            "several nodes report themselves leader: {}",
            many.iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Microseconds since the Unix epoch as RFC 3339 with its offset: `2026-11-28T05:59:46.123456+00:00`.
fn rfc3339_micros(micros: i64) -> Option<String> {
    let time = chrono::DateTime::from_timestamp_micros(micros)?;
    Some(time.to_rfc3339_opts(chrono::SecondsFormat::Micros, false))
}

/// The server's clock reading (`micros` since the Unix epoch) on the run's clock. Containers
/// share the host kernel's clock, so the server's `clock_timestamp()` and the harness's
/// `SystemTime` read one clock: the reading is `server − sent_wall` after `sent`. Wall-clock
/// times are subtracted only here, within one round trip, where a step of the clock is unlikely.
/// A reading outside `[sent, answered]` means the clocks are not one (an engine on another
/// host): the instant is then kept inside the round trip, and how far off the clock was is the
/// second value.
fn on_run_clock(
    micros: i64,
    sent: At,
    sent_wall: SystemTime,
    answered: At,
) -> (At, Option<Duration>) {
    let server_ns = i128::from(micros) * 1_000;
    let sent_ns = sent_wall
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let at = i128::from(sent.0) + (server_ns - sent_ns);
    let (low, high) = (i128::from(sent.0), i128::from(answered.0));
    let kept = at.clamp(low, high.max(low));
    let skew = (kept != at).then(|| Duration::from_nanos((at - kept).unsigned_abs() as u64));
    (At(kept as u64), skew)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_read_as_bytes() {
        assert_eq!(lsn_bytes("0/0"), Some(0));
        assert_eq!(lsn_bytes("0/3000060"), Some(0x300_0060));
        assert_eq!(lsn_bytes("16/B374D848"), Some(0x16_B374_D848));
        assert!(lsn_bytes("16/B374D848") > lsn_bytes("15/FFFFFFFF"));
        for bad in ["", "3000060", "0/", "/1", "x/1", "0/1/2", "100000000/0"] {
            assert_eq!(lsn_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_times_are_rfc3339_to_the_microsecond() {
        assert_eq!(
            rfc3339_micros(1_795_845_586_123_456).as_deref(),
            Some("2026-11-28T05:59:46.123456+00:00")
        );
        assert_eq!(
            rfc3339_micros(0).as_deref(),
            Some("1970-01-01T00:00:00.000000+00:00")
        );
    }

    #[test]
    fn the_server_clock_maps_onto_the_run_clock_within_the_round_trip() {
        let wall = UNIX_EPOCH + Duration::from_secs(1_795_845_586);
        let micros = 1_795_845_586_000_000_i64;
        let (sent, answered) = (At(20_000_000_000), At(20_004_000_000));
        // read 1.5 ms after the harness took its wall time
        assert_eq!(
            on_run_clock(micros + 1_500, sent, wall, answered),
            (At(20_001_500_000), None)
        );
        assert_eq!(on_run_clock(micros, sent, wall, answered), (sent, None));
        // a clock 2 s ahead, and one 1 s behind: kept inside the round trip, the skew said
        assert_eq!(
            on_run_clock(micros + 2_000_000, sent, wall, answered),
            (answered, Some(Duration::from_millis(1_996)))
        );
        assert_eq!(
            on_run_clock(micros - 1_000_000, sent, wall, answered),
            (sent, Some(Duration::from_secs(1)))
        );
    }

    #[test]
    fn a_mark_reads_back_from_its_step_only_when_done() {
        let mark = TargetMark {
            node: "pg1".into(),
            target_time: "2026-11-28T05:59:46.123456+00:00".into(),
            target_at: At(20_001_000_000),
            target_lsn: "0/3000060".into(),
            restore_point: Some("before-loss".into()),
            restore_point_lsn: Some("0/3000098".into()),
        };
        let serde_json::Value::Object(values) = serde_json::to_value(&mark).unwrap() else {
            panic!("not an object");
        };
        let mut step = StepEvent {
            step: 1,
            action: "target".into(),
            at: At(20_000_000_000),
            started: At(20_000_500_000),
            ended: At(20_002_000_000),
            outcome: StepOutcome::Done,
            detail: None,
            values: values.into_iter().collect(),
        };
        assert_eq!(TargetMark::of(&step), Some(mark));
        step.outcome = StepOutcome::Failed { reason: "x".into() };
        assert_eq!(TargetMark::of(&step), None);
    }

    #[test]
    fn the_statement_reads_the_clock_first_and_marks_in_one_round_trip() {
        for sql in [MARK, MARK_WITH_POINT] {
            let clock = sql.find("clock_timestamp()").unwrap();
            let lsn = sql.find("pg_current_wal_lsn()").unwrap();
            assert!(clock < lsn, "{sql}");
            assert_eq!(sql.matches("SELECT").count(), 1, "{sql}");
        }
        assert!(MARK_WITH_POINT.contains("pg_create_restore_point($1)"));
    }
}
