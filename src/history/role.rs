//! Who leads, per source: one sample type for every role source of every stack. A node's manager
//! answering about itself (Patroni; later Redis's `ROLE`, keepalived's VIP) is a *self report*;
//! a store or arbiter naming the leader (etcd's leader key; later Sentinel) is an *authority*.
//! Checkers read the views, never the source's name.

use super::At;
use serde::{Deserialize, Serialize};

/// A node's role as the source reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leader,
    Replica,
    /// Any other state (initialising, demoting, stopped PostgreSQL...).
    Other,
}

/// Whose view a role sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleView {
    /// The node answering about itself.
    SelfReport,
    /// A store or arbiter naming the leader.
    Authority,
    /// A node saying whether it holds the stack's virtual IP (from its own interface): the
    /// address clients connect to. The holder's role is `leader`, any other node's `other`.
    /// (Format 8 on.)
    Address,
}

/// The layout a sample was read in. run.json keeps a history as recorded (its digest in the run
/// history is the evidence every measurement is computed from), so a sample read from a format 1
/// or 2 record is written back in its old layout; every new sample is written as `role`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordedAs {
    #[default]
    Role,
    /// Format 1–2 `probe`: Patroni's answer about one node.
    Probe,
    /// Format 1–2 `leader_key`: one etcd member's answer for Patroni's leader key.
    LeaderKey,
}

/// One answer of one role source, held at some instant in `[sent, received]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleSample {
    /// The source's name: `patroni` (a node's manager about itself), `etcd` (the leader key, as
    /// one member answers).
    pub source: String,
    pub view: RoleView,
    /// Who was asked (`pg2`, `etcd3`).
    pub asked: String,
    /// The node the answer is about: the asked node itself for a self report; the node an
    /// authority names as leader (`None`: it names nobody, or did not answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub sent: At,
    pub received: At,
    /// `None` when the source did not answer (see `error`), or an authority named nobody; an
    /// authority naming a holder says `leader`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The leadership's generation: PostgreSQL's timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// Replication position: PostgreSQL's WAL bytes, written on a leader, received on a replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// The position a replica has replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed: Option<u64>,
    /// The source's own words for the state (`running`, `starting`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// On a leader: the replicas streaming from it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streaming: Vec<String>,
    /// The source did not answer: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub recorded_as: RecordedAs,
}

impl RoleSample {
    /// `node`'s answer about itself from `source`, with nothing in it yet (no role: fill in
    /// what it said, or `error`).
    pub fn self_report(source: &str, node: &str, sent: At, received: At) -> RoleSample {
        RoleSample {
            source: source.to_string(),
            view: RoleView::SelfReport,
            asked: node.to_string(),
            node: Some(node.to_string()),
            sent,
            received,
            role: None,
            epoch: None,
            position: None,
            replayed: None,
            state: None,
            streaming: Vec::new(),
            error: None,
            recorded_as: RecordedAs::Role,
        }
    }

    /// Authority `asked` (of `source`) naming `leader` as the leader, or nobody.
    pub fn authority(
        source: &str,
        asked: &str,
        sent: At,
        received: At,
        leader: Option<String>,
    ) -> RoleSample {
        RoleSample {
            view: RoleView::Authority,
            asked: asked.to_string(),
            role: leader.is_some().then_some(Role::Leader),
            node: leader,
            ..RoleSample::self_report(source, asked, sent, received)
        }
    }

    /// `node`'s answer on whether it holds the virtual IP `address`, from `source`.
    pub fn address(
        source: &str,
        node: &str,
        (sent, received): (At, At),
        answer: Result<bool, String>,
        address: &str,
    ) -> RoleSample {
        let empty = RoleSample {
            view: RoleView::Address,
            ..RoleSample::self_report(source, node, sent, received)
        };
        match answer {
            Ok(holds) => RoleSample {
                role: Some(if holds { Role::Leader } else { Role::Other }),
                state: Some(format!(
                    "{} {address}",
                    if holds { "holds" } else { "does not hold" }
                )),
                ..empty
            },
            Err(error) => RoleSample {
                error: Some(error),
                ..empty
            },
        }
    }

    pub fn is_self_report(&self) -> bool {
        self.view == RoleView::SelfReport
    }

    pub fn is_authority(&self) -> bool {
        self.view == RoleView::Authority
    }

    /// Whether it reports the leader role.
    pub fn is_leader(&self) -> bool {
        self.role == Some(Role::Leader)
    }
}

/// A source's name as reports write it ("Patroni" for `patroni`); a name without one is written
/// as it is (`etcd`).
pub fn source_label(source: &str) -> &str {
    match source {
        "patroni" => "Patroni",
        "redis" => "Redis",
        "sentinel" => "Sentinel",
        other => other,
    }
}

/// Who answers for a source, as reports say it was asked ("its REST API" for `patroni`).
pub fn source_answerer(source: &str) -> &str {
    match source {
        "patroni" => "its REST API",
        "etcd" => "the leader key",
        "redis" => "ROLE",
        "sentinel" => "get-master-addr-by-name",
        _ => "its source",
    }
}

/// A format 1–2 `probe` event, as written then (owned when read, borrowed when written back).
#[derive(Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, L: Serialize + AsRef<[String]>",
    deserialize = "S: Deserialize<'de>, L: Deserialize<'de> + Default"
))]
pub(super) struct ProbeRecord<S = String, L = Vec<String>> {
    node: S,
    sent: At,
    received: At,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeline: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wal: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replayed: Option<u64>,
    #[serde(default, skip_serializing_if = "is_empty")]
    streaming: L,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<S>,
}

/// A format 1–2 `leader_key` event, as written then.
#[derive(Serialize, Deserialize)]
pub(super) struct LeaderKeyRecord<S = String> {
    member: S,
    sent: At,
    received: At,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<S>,
}

fn is_empty<L: AsRef<[String]>>(list: &L) -> bool {
    list.as_ref().is_empty()
}

impl From<ProbeRecord> for RoleSample {
    fn from(p: ProbeRecord) -> RoleSample {
        RoleSample {
            role: p.role,
            epoch: p.timeline,
            position: p.wal,
            replayed: p.replayed,
            state: p.state,
            streaming: p.streaming,
            error: p.error,
            recorded_as: RecordedAs::Probe,
            ..RoleSample::self_report("patroni", &p.node, p.sent, p.received)
        }
    }
}

impl From<LeaderKeyRecord> for RoleSample {
    fn from(k: LeaderKeyRecord) -> RoleSample {
        RoleSample {
            error: k.error,
            recorded_as: RecordedAs::LeaderKey,
            ..RoleSample::authority("etcd", &k.member, k.sent, k.received, k.holder)
        }
    }
}

impl RoleSample {
    /// The sample in the `probe` layout it was read in.
    pub(super) fn as_probe(&self) -> ProbeRecord<&str, &[String]> {
        ProbeRecord {
            node: self.node.as_deref().unwrap_or(&self.asked),
            sent: self.sent,
            received: self.received,
            role: self.role,
            timeline: self.epoch,
            state: self.state.as_deref(),
            wal: self.position,
            replayed: self.replayed,
            streaming: &self.streaming,
            error: self.error.as_deref(),
        }
    }

    /// The sample in the `leader_key` layout it was read in.
    pub(super) fn as_leader_key(&self) -> LeaderKeyRecord<&str> {
        LeaderKeyRecord {
            member: &self.asked,
            sent: self.sent,
            received: self.received,
            holder: self.node.as_deref(),
            error: self.error.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, History};

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_format_2_probe_loads_as_a_patroni_self_report_and_is_written_back_as_recorded() {
        let json = r#"{"type":"probe","node":"pg2","sent":10,"received":12,"role":"replica","timeline":3,"state":"running","wal":500,"replayed":480}"#;
        let Event::Role(r) = event(json) else {
            panic!("not a role sample");
        };
        assert_eq!(
            (r.source.as_str(), r.view),
            ("patroni", RoleView::SelfReport)
        );
        assert_eq!((r.asked.as_str(), r.node.as_deref()), ("pg2", Some("pg2")));
        assert_eq!((r.sent, r.received), (At(10), At(12)));
        assert_eq!(r.role, Some(Role::Replica));
        assert_eq!(
            (r.epoch, r.position, r.replayed),
            (Some(3), Some(500), Some(480))
        );
        assert_eq!(r.state.as_deref(), Some("running"));
        assert_eq!(r.recorded_as, RecordedAs::Probe);
        assert_eq!(serde_json::to_string(&Event::Role(r)).unwrap(), json);

        let leader = r#"{"type":"probe","node":"pg1","sent":1,"received":2,"role":"leader","timeline":1,"wal":9,"streaming":["pg2","pg3"]}"#;
        let Event::Role(r) = event(leader) else {
            panic!("not a role sample");
        };
        assert_eq!(r.streaming, ["pg2", "pg3"]);
        assert!(r.is_leader());
        assert_eq!(serde_json::to_string(&Event::Role(r)).unwrap(), leader);

        let silent =
            r#"{"type":"probe","node":"pg3","sent":1,"received":2,"error":"connection refused"}"#;
        let Event::Role(r) = event(silent) else {
            panic!("not a role sample");
        };
        assert_eq!(
            (r.role, r.error.as_deref()),
            (None, Some("connection refused"))
        );
        assert_eq!(serde_json::to_string(&Event::Role(r)).unwrap(), silent);
    }

    #[test]
    fn a_format_2_leader_key_loads_as_an_etcd_authority_and_is_written_back_as_recorded() {
        let held = r#"{"type":"leader_key","member":"etcd3","sent":5,"received":7,"holder":"pg1"}"#;
        let Event::Role(r) = event(held) else {
            panic!("not a role sample");
        };
        assert_eq!((r.source.as_str(), r.view), ("etcd", RoleView::Authority));
        assert_eq!(
            (r.asked.as_str(), r.node.as_deref()),
            ("etcd3", Some("pg1"))
        );
        assert_eq!(r.role, Some(Role::Leader));
        assert_eq!(r.recorded_as, RecordedAs::LeaderKey);
        assert_eq!(serde_json::to_string(&Event::Role(r)).unwrap(), held);

        for nobody in [
            r#"{"type":"leader_key","member":"etcd1","sent":5,"received":7}"#,
            r#"{"type":"leader_key","member":"etcd1","sent":5,"received":7,"error":"no quorum"}"#,
        ] {
            let Event::Role(r) = event(nobody) else {
                panic!("not a role sample");
            };
            assert_eq!((r.node.as_deref(), r.role), (None, None));
            assert_eq!(serde_json::to_string(&Event::Role(r)).unwrap(), nobody);
        }
    }

    #[test]
    fn new_samples_are_written_as_role_and_read_back_equal() {
        let report = RoleSample {
            role: Some(Role::Leader),
            epoch: Some(2),
            position: Some(1024),
            streaming: vec!["pg2".into()],
            ..RoleSample::self_report("patroni", "pg1", At(3), At(4))
        };
        let json = serde_json::to_string(&Event::Role(report.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"type":"role","source":"patroni","view":"self_report","asked":"pg1","node":"pg1","sent":3,"received":4,"role":"leader","epoch":2,"position":1024,"streaming":["pg2"]}"#
        );
        assert_eq!(event(&json), Event::Role(report.clone()));

        let key = RoleSample::authority("etcd", "etcd2", At(5), At(6), None);
        let json = serde_json::to_string(&Event::Role(key.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"type":"role","source":"etcd","view":"authority","asked":"etcd2","sent":5,"received":6}"#
        );
        assert_eq!(event(&json), Event::Role(key.clone()));

        // read by view, not by source name
        let redis = RoleSample::self_report("redis", "redis1", At(7), At(8));
        let mut h = History::new("x".into());
        h.extend([Event::Role(key), Event::Role(report), Event::Role(redis)]);
        let selves: Vec<&str> = h.self_reports().map(|r| r.asked.as_str()).collect();
        assert_eq!(selves, ["pg1", "redis1"]);
        let authorities: Vec<&str> = h.authority_reports().map(|r| r.asked.as_str()).collect();
        assert_eq!(authorities, ["etcd2"]);
        assert_eq!(h.role_samples().count(), 3);
    }

    #[test]
    fn sources_are_named_as_reports_name_them() {
        assert_eq!(source_label("patroni"), "Patroni");
        assert_eq!(source_label("etcd"), "etcd");
        assert_eq!(source_label("sentinel"), "Sentinel");
        assert_eq!(source_label("zookeeper"), "zookeeper");
        assert_eq!(source_answerer("redis"), "ROLE");
        assert_eq!(source_answerer("patroni"), "its REST API");
    }
}
