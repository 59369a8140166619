//! The drill's one stream of typed events (image build, bring-up, seed, faults, the read-back,
//! teardown). The library sends them; the terminal renders them as lines, the partial report of a
//! drill that could not finish lists them from the journal, and being serializable they can be
//! recorded as they are.

use crate::history::{At, FaultAction, FaultEvent, StepEvent};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A long step: begun, then ended after some time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Building the base image.
    ImageBuild { tag: String },
    /// Bringing the stack up: how many nodes of each kind, in start order.
    BringUp { nodes: Vec<(String, usize)> },
    /// The drill itself: the workload and the faults.
    Drill {
        scenario: String,
        #[serde(with = "humantime_serde")]
        duration: Duration,
        /// Writes per second.
        rate: u32,
        /// Reads per second and the endpoint they go through, if the scenario reads.
        reads: Option<(u32, String)>,
    },
    /// A game day: the workload and the schedule until a person ends the session.
    GameDay {
        scenario: String,
        /// Writes per second.
        rate: u32,
        reads: Option<(u32, String)>,
    },
    /// Removing the run's containers, network and volumes.
    Teardown { run_id: String },
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::ImageBuild { tag } => write!(f, "building image {tag}"),
            Step::BringUp { nodes } => {
                let nodes: Vec<String> = nodes.iter().map(|(k, n)| format!("{n} {k}")).collect();
                write!(f, "bringing up {}", nodes.join(", "))
            }
            Step::Drill {
                scenario,
                duration,
                rate,
                reads,
            } => {
                let duration = humantime::format_duration(*duration);
                write!(f, "drill {scenario} ({duration} of writes at {rate}/s")?;
                if let Some((rate, through)) = reads {
                    write!(f, ", reads at {rate}/s through the {through} endpoint")?;
                }
                f.write_str(")")
            }
            Step::GameDay {
                scenario,
                rate,
                reads,
            } => {
                write!(f, "game day {scenario} (writes at {rate}/s")?;
                if let Some((rate, through)) = reads {
                    write!(f, ", reads at {rate}/s through the {through} endpoint")?;
                }
                f.write_str(" until `firedrill down`)")
            }
            Step::Teardown { run_id } => write!(f, "removing run {run_id}"),
        }
    }
}

/// One event of a drill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DrillEvent {
    Began {
        step: Step,
    },
    Ended {
        step: Step,
        #[serde(with = "humantime_serde")]
        took: Duration,
    },
    /// A line the image build printed.
    BuildOutput {
        line: String,
    },
    /// The bootstrap node leads the new cluster, `after` the bring-up began.
    Bootstrapped {
        node: String,
        #[serde(with = "humantime_serde")]
        after: Duration,
    },
    /// Every container runs, `took` after the first was created.
    ContainersStarted {
        count: usize,
        #[serde(with = "humantime_serde")]
        took: Duration,
    },
    /// A readiness condition of the stack holds, `after` the bring-up began.
    Reached {
        condition: String,
        #[serde(with = "humantime_serde")]
        after: Duration,
    },
    /// The seed of the run's random choices.
    Seed {
        seed: u64,
    },
    /// A fault injected or healed, as the history records it.
    Fault {
        action: FaultAction,
        kind: String,
        node: String,
        at: At,
        detail: Option<String>,
    },
    /// A step ran, as the history records it: done, or failed with the reason.
    Step {
        step: usize,
        action: String,
        /// When it was due.
        at: At,
        started: At,
        #[serde(with = "humantime_serde")]
        took: Duration,
        failed: Option<String>,
        detail: Option<String>,
    },
    /// The workload's last operations ended; the read-back starts.
    WorkloadDone,
    /// Every write was read back: how many rows, from which node.
    ReadBack {
        rows: usize,
        node: String,
    },
    /// Anything else worth a line.
    Note {
        text: String,
    },
}

/// How an event shows: it begins a step, ends one, or is a line within it.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape<'a> {
    Begin(&'a Step),
    Line(String),
    End(&'a Step, Duration),
}

impl DrillEvent {
    /// The event of a fault's injection or heal.
    pub fn fault(event: &FaultEvent) -> DrillEvent {
        DrillEvent::Fault {
            action: event.action,
            kind: event.kind.clone(),
            node: event.node.clone(),
            at: event.at,
            detail: event.detail.clone(),
        }
    }

    /// The event of a step that ran.
    pub fn step(event: &StepEvent) -> DrillEvent {
        DrillEvent::Step {
            step: event.step,
            action: event.action.clone(),
            at: event.at,
            started: event.started,
            took: event.took(),
            failed: event.failure().map(str::to_owned),
            detail: event.detail.clone(),
        }
    }

    pub fn shape(&self) -> Shape<'_> {
        let secs = |d: &Duration| d.as_secs_f64();
        Shape::Line(match self {
            DrillEvent::Began { step } => return Shape::Begin(step),
            DrillEvent::Ended { step, took } => return Shape::End(step, *took),
            DrillEvent::BuildOutput { line } => line.clone(),
            DrillEvent::Bootstrapped { node, after } => {
                format!("{node} bootstrapped the cluster ({:.1}s)", secs(after))
            }
            DrillEvent::ContainersStarted { count, took } => {
                format!("{count} containers started in {:.1}s", secs(took))
            }
            DrillEvent::Reached { condition, after } => {
                format!("{condition} ({:.1}s)", secs(after))
            }
            DrillEvent::Seed { seed } => {
                format!("seed {seed} (repeat the same choices with --seed {seed})")
            }
            DrillEvent::Fault {
                action,
                kind,
                node,
                at,
                detail,
            } => {
                let verb = match action {
                    FaultAction::Inject => "injected",
                    FaultAction::Heal => "healed",
                };
                match detail {
                    Some(detail) => format!("{at} {verb} {kind} on {node}: {detail}"),
                    None => format!("{at} {verb} {kind} on {node}"),
                }
            }
            DrillEvent::Step {
                step,
                action,
                at,
                started,
                took,
                failed,
                detail,
            } => {
                let mut line = format!("{started} step {step} {action}");
                // more than a scheduling hiccup: the step before it was still running
                if started.since(*at) >= Duration::from_millis(100) {
                    line.push_str(&format!(" (due at {at}, delayed by the step before it)"));
                }
                match failed {
                    None => line.push_str(&format!(": done in {}", short(*took))),
                    Some(reason) => {
                        line.push_str(&format!(": failed after {}: {reason}", short(*took)))
                    }
                }
                if let Some(detail) = detail {
                    line.push_str(&format!(" ({detail})"));
                }
                line
            }
            DrillEvent::WorkloadDone => "workload done; reading back every write".into(),
            DrillEvent::ReadBack { rows, node } => format!("read back {rows} rows from {node}"),
            DrillEvent::Note { text } => text.clone(),
        })
    }
}

/// A step's duration in a progress line: `12ms` below a second, `1.234s` above.
fn short(took: Duration) -> String {
    if took < Duration::from_millis(1) {
        format!("{:.2}ms", took.as_secs_f64() * 1000.0)
    } else if took < Duration::from_secs(1) {
        format!("{}ms", took.as_millis())
    } else {
        format!("{:.3}s", took.as_secs_f64())
    }
}

/// One event and when it happened, after the `Progress` was made.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    pub after: Duration,
    pub event: DrillEvent,
}

/// Where the drill's events go (the default sends them nowhere), and the journal of every event
/// sent: what a drill reached, for the partial report of a drill that could not finish.
#[derive(Clone)]
pub struct Progress {
    sink: Option<Arc<dyn Fn(DrillEvent) + Send + Sync>>,
    journal: Arc<Mutex<Vec<JournalEntry>>>,
    started: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            sink: None,
            journal: Arc::default(),
            started: Instant::now(),
        }
    }
}

impl Progress {
    pub fn new(sink: impl Fn(DrillEvent) + Send + Sync + 'static) -> Self {
        Progress {
            sink: Some(Arc::new(sink)),
            ..Progress::default()
        }
    }

    /// Every event sent so far, in order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.journal.lock().expect("journal lock").clone()
    }

    pub fn send(&self, event: DrillEvent) {
        tracing::debug!(?event, "progress");
        self.journal
            .lock()
            .expect("journal lock")
            .push(JournalEntry {
                after: self.started.elapsed(),
                event: event.clone(),
            });
        if let Some(sink) = &self.sink {
            sink(event);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(event: DrillEvent) -> String {
        match event.shape() {
            Shape::Line(line) => line,
            other => panic!("not a line: {other:?}"),
        }
    }

    /// The lines of the README's sample drill, from the events that make them.
    #[test]
    fn events_read_as_the_drill_s_lines() {
        let bring_up = Step::BringUp {
            nodes: vec![
                ("etcd".into(), 3),
                ("patroni".into(), 3),
                ("haproxy".into(), 1),
            ],
        };
        assert_eq!(
            bring_up.to_string(),
            "bringing up 3 etcd, 3 patroni, 1 haproxy"
        );
        let ms = Duration::from_millis;
        let lines = [
            (
                DrillEvent::Bootstrapped {
                    node: "pg1".into(),
                    after: ms(7020),
                },
                "pg1 bootstrapped the cluster (7.0s)",
            ),
            (
                DrillEvent::ContainersStarted {
                    count: 7,
                    took: ms(7800),
                },
                "7 containers started in 7.8s",
            ),
            (
                DrillEvent::Reached {
                    condition: "etcd healthy (3 members)".into(),
                    after: ms(8230),
                },
                "etcd healthy (3 members) (8.2s)",
            ),
            (
                DrillEvent::Seed { seed: 7 },
                "seed 7 (repeat the same choices with --seed 7)",
            ),
            (
                DrillEvent::Fault {
                    action: FaultAction::Inject,
                    kind: "crash".into(),
                    node: "pg1".into(),
                    at: At::from_duration(ms(10044)),
                    detail: Some("SIGKILL to every process of pg1".into()),
                },
                "t+10.044s injected crash on pg1: SIGKILL to every process of pg1",
            ),
            (
                DrillEvent::Fault {
                    action: FaultAction::Heal,
                    kind: "pause".into(),
                    node: "pg2".into(),
                    at: At::from_duration(ms(20000)),
                    detail: None,
                },
                "t+20.000s healed pause on pg2",
            ),
            (
                DrillEvent::Step {
                    step: 2,
                    action: "target".into(),
                    at: At::from_duration(ms(20_000)),
                    started: At::from_duration(ms(20_001)),
                    took: Duration::from_micros(12_400),
                    failed: None,
                    detail: Some(
                        "on pg1: 2026-11-28T05:59:46.123456+00:00 at LSN 0/3000060".into(),
                    ),
                },
                "t+20.001s step 2 target: done in 12ms (on pg1: \
                 2026-11-28T05:59:46.123456+00:00 at LSN 0/3000060)",
            ),
            (
                DrillEvent::Step {
                    step: 3,
                    action: "target".into(),
                    at: At::from_duration(ms(30_000)),
                    started: At::from_duration(ms(31_500)),
                    took: ms(60_000),
                    failed: Some("no answer within 1m (the [bounds] fault bound)".into()),
                    detail: None,
                },
                "t+31.500s step 3 target (due at t+30.000s, delayed by the step before it): \
                 failed after 60.000s: no answer within 1m (the [bounds] fault bound)",
            ),
            (
                DrillEvent::WorkloadDone,
                "workload done; reading back every write",
            ),
            (
                DrillEvent::ReadBack {
                    rows: 4867,
                    node: "pg3".into(),
                },
                "read back 4867 rows from pg3",
            ),
        ];
        for (event, expected) in lines {
            assert_eq!(line(event), expected);
        }
        let drill = Step::Drill {
            scenario: "patroni-primary-crash".into(),
            duration: Duration::from_secs(60),
            rate: 100,
            reads: Some((20, "replica".into())),
        };
        assert_eq!(
            drill.to_string(),
            "drill patroni-primary-crash (1m of writes at 100/s, reads at 20/s through the \
             replica endpoint)"
        );
        let writes_only = Step::Drill {
            scenario: "patroni-primary-crash".into(),
            duration: Duration::from_secs(60),
            rate: 100,
            reads: None,
        };
        assert_eq!(
            writes_only.to_string(),
            "drill patroni-primary-crash (1m of writes at 100/s)"
        );
        let teardown = Step::Teardown {
            run_id: "fd-f9550e50".into(),
        };
        assert_eq!(teardown.to_string(), "removing run fd-f9550e50");
    }

    #[test]
    fn every_event_sent_is_journaled_in_order_and_given_to_the_sink() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        let progress = Progress::new(move |e| sink.lock().unwrap().push(e));
        let step = Step::Teardown {
            run_id: "fd-1".into(),
        };
        progress.send(DrillEvent::Began { step: step.clone() });
        progress.send(DrillEvent::Ended {
            step,
            took: Duration::from_secs(1),
        });
        let journal: Vec<DrillEvent> = progress.journal().into_iter().map(|j| j.event).collect();
        assert_eq!(journal, *got.lock().unwrap());
        assert!(matches!(journal[1].shape(), Shape::End(_, took) if took.as_secs() == 1));
    }

    #[test]
    fn an_event_round_trips_through_json() {
        let event = DrillEvent::Ended {
            step: Step::BringUp {
                nodes: vec![("etcd".into(), 3)],
            },
            took: Duration::from_millis(10800),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"event":"ended","step":{"step":"bring_up","nodes":[["etcd",3]]},"took":"10s 800ms"}"#
        );
        assert_eq!(serde_json::from_str::<DrillEvent>(&json).unwrap(), event);
    }
}
