//! The drill's faults as they run: the scenario's schedule, and on a game day the faults people
//! inject and heal by hand. One book holds every fault's state, so that a fault healed by hand
//! is not healed again by its schedule, two faults never hit one node at once, and `down` heals
//! what is still in effect.

use crate::fault::{self, FaultError, Resolver};
use crate::history::{At, Clock, Event, FaultEvent};
use crate::live::FaultNow;
use crate::progress::{DrillEvent, Progress};
use crate::scenario::{Fault, Scenario};
use crate::topology::{Cluster, Node};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The span a fault's injection and heal run in: its number as the reports give it (from 1)
/// and its kind, inside the run's span.
fn fault_span(index: usize, fault: &Fault) -> tracing::Span {
    tracing::info_span!("fault", number = index + 1, kind = fault.kind.verb().name())
}

/// Every fault of the run, by index (the scenario's first, then those injected by hand).
pub(super) struct FaultBook {
    entries: Mutex<Vec<Entry>>,
}

struct Entry {
    fault: Fault,
    by_hand: bool,
    state: State,
}

#[derive(Clone)]
enum State {
    /// Not injected yet.
    Scheduled,
    /// Being injected or healed.
    Busy,
    InEffect {
        nodes: Vec<Node>,
        since: At,
    },
    /// Healed, or a one-off (nothing to heal).
    Over,
}

/// Where a fault's recorded actions go.
pub(super) struct Sink<'a> {
    pub events: &'a mpsc::UnboundedSender<Event>,
    pub progress: &'a Progress,
}

impl Sink<'_> {
    fn record(&self, event: FaultEvent) -> FaultEvent {
        self.progress.send(DrillEvent::fault(&event));
        let _ = self.events.send(Event::Fault(event.clone()));
        event
    }
}

/// Why a fault by hand was not injected or healed: the session says it, the drill goes on.
pub(super) type Refusal = String;

impl FaultBook {
    pub fn new(scheduled: &[Fault]) -> FaultBook {
        FaultBook {
            entries: Mutex::new(
                scheduled
                    .iter()
                    .map(|fault| Entry {
                        fault: fault.clone(),
                        by_hand: false,
                        state: State::Scheduled,
                    })
                    .collect(),
            ),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().expect("fault book lock")
    }

    /// Every fault, scheduled or by hand, in index order: the record's `scenario.faults`.
    pub fn faults(&self) -> Vec<Fault> {
        self.lock().iter().map(|e| e.fault.clone()).collect()
    }

    /// The faults in effect now, for `status`.
    pub fn in_effect(&self) -> Vec<FaultNow> {
        self.lock()
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.state {
                State::InEffect { nodes, since } => Some(FaultNow {
                    number: i + 1,
                    kind: e.fault.kind.name().to_owned(),
                    nodes: nodes.iter().map(|n| n.name.clone()).collect(),
                    since: *since,
                    heal_at: e.fault.duration.map(|d| since.plus(d)),
                    by_hand: e.by_hand,
                }),
                _ => None,
            })
            .collect()
    }

    /// Injects fault `index` (a scheduled one, or one added by hand) and records it.
    async fn inject(
        &self,
        (cluster, resolver, clock): (&Cluster, &Resolver<'_>, Clock),
        index: usize,
        nodes: Option<Vec<Node>>,
        sink: &Sink<'_>,
    ) -> Result<FaultEvent, FaultError> {
        let (fault, by_hand) = {
            let mut entries = self.lock();
            entries[index].state = State::Busy;
            (entries[index].fault.clone(), entries[index].by_hand)
        };
        let span = fault_span(index, &fault);
        let injected = match nodes {
            Some(nodes) => {
                fault::inject_on(cluster, resolver, index, &fault, nodes, clock)
                    .instrument(span.clone())
                    .await
            }
            None => {
                fault::inject(cluster, resolver, index, &fault, clock)
                    .instrument(span.clone())
                    .await
            }
        };
        span.in_scope(|| match &injected {
            Ok((_, event)) => tracing::info!(node = %event.node, at = %event.at, "injected"),
            Err(e) => tracing::info!("not injected: {e}"),
        });
        let mut entries = self.lock();
        match injected {
            Ok((nodes, mut event)) => {
                event.by_hand = by_hand;
                if by_hand {
                    // injected when a person said so, not on a schedule
                    event.scheduled_at = None;
                    entries[index].fault.at = event.at.as_duration();
                }
                entries[index].state = match fault.kind.verb().healing() {
                    fault::Healing::OneOff { .. } => State::Over,
                    _ => State::InEffect {
                        nodes,
                        since: event.at,
                    },
                };
                Ok(sink.record(event))
            }
            Err(e) => {
                entries[index].state = State::Over;
                Err(e)
            }
        }
    }

    /// Heals fault `index` if it is in effect (`None` otherwise: healed by hand already, or a
    /// one-off), and records it.
    async fn heal(
        &self,
        cluster: &Cluster,
        clock: Clock,
        index: usize,
        by_hand: bool,
        sink: &Sink<'_>,
    ) -> Option<Result<FaultEvent, FaultError>> {
        let (fault, nodes, state) = {
            let mut entries = self.lock();
            let State::InEffect { nodes, .. } = entries[index].state.clone() else {
                return None;
            };
            let state = std::mem::replace(&mut entries[index].state, State::Busy);
            (entries[index].fault.clone(), nodes, state)
        };
        let span = fault_span(index, &fault);
        let healed = fault::heal(cluster, index, &fault, &nodes, clock)
            .instrument(span.clone())
            .await;
        span.in_scope(|| match &healed {
            Ok(event) => tracing::info!(node = %event.node, at = %event.at, "healed"),
            Err(e) => tracing::info!("not healed: {e}"),
        });
        let mut entries = self.lock();
        Some(match healed {
            Ok(mut event) => {
                entries[index].state = State::Over;
                event.by_hand = by_hand;
                if entries[index].by_hand {
                    event.scheduled_at = None;
                }
                Ok(sink.record(event))
            }
            Err(e) => {
                // still in effect, as far as anyone knows
                entries[index].state = state;
                Err(e)
            }
        })
    }

    /// Adds a fault a person asked for, after checking its nodes are free: its index, and the
    /// nodes it will hit.
    pub async fn add_by_hand(
        &self,
        resolver: &Resolver<'_>,
        fault: Fault,
    ) -> Result<(usize, Vec<Node>), Refusal> {
        let nodes = resolver
            .resolve(&fault.target)
            .await
            .map_err(|e| e.to_string())?;
        let mut entries = self.lock();
        for (i, e) in entries.iter().enumerate() {
            let State::InEffect { nodes: held, .. } = &e.state else {
                continue;
            };
            if let Some(node) = nodes.iter().find(|n| held.iter().any(|h| h.name == n.name)) {
                return Err(format!(
                    "{} is already hit by fault {} ({}): one fault at a time on a node; heal it \
                     first (`firedrill heal {}`)",
                    node.name,
                    i + 1,
                    e.fault.kind.name(),
                    i + 1
                ));
            }
        }
        entries.push(Entry {
            fault,
            by_hand: true,
            state: State::Scheduled,
        });
        Ok((entries.len() - 1, nodes))
    }

    /// Injects the fault `add_by_hand` added; a fault that could not be injected is taken out of
    /// the book again (it never happened), and the reason is the refusal.
    pub async fn inject_by_hand(
        &self,
        ctx: (&Cluster, &Resolver<'_>, Clock),
        (index, nodes): (usize, Vec<Node>),
        bound: Duration,
        sink: &Sink<'_>,
    ) -> Result<FaultEvent, Refusal> {
        let outcome = tokio::time::timeout(bound, self.inject(ctx, index, Some(nodes), sink)).await;
        let refusal = match outcome {
            Ok(Ok(event)) => return Ok(event),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "not injected within {} (the [bounds] fault bound)",
                humantime::format_duration(bound)
            ),
        };
        let mut entries = self.lock();
        if entries.len() == index + 1 {
            entries.pop();
        }
        Err(refusal)
    }

    /// Heals fault `number` (from 1), or with `None` every fault in effect, by hand.
    pub async fn heal_by_hand(
        &self,
        cluster: &Cluster,
        clock: Clock,
        number: Option<usize>,
        bound: Duration,
        sink: &Sink<'_>,
    ) -> Result<Vec<FaultEvent>, Refusal> {
        let indices: Vec<usize> = match number {
            Some(n) => {
                let entries = self.lock();
                match entries.get(n.wrapping_sub(1)).map(|e| &e.state) {
                    None => {
                        return Err(format!(
                            "no fault {n}: this session has {} fault{}",
                            entries.len(),
                            if entries.len() == 1 { "" } else { "s" }
                        ));
                    }
                    Some(State::InEffect { .. }) => vec![n - 1],
                    Some(State::Scheduled) => {
                        return Err(format!("fault {n} is not injected yet"));
                    }
                    Some(State::Busy) => {
                        return Err(format!("fault {n} is being injected or healed"));
                    }
                    Some(State::Over) => {
                        return Err(format!("fault {n} is not in effect (healed, or a one-off)"));
                    }
                }
            }
            None => self
                .lock()
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.state, State::InEffect { .. }))
                .map(|(i, _)| i)
                .collect(),
        };
        let heals = indices.iter().map(|&i| async move {
            let healed =
                tokio::time::timeout(bound, self.heal(cluster, clock, i, true, sink)).await;
            match healed {
                Ok(Some(Ok(event))) => Ok(Some(event)),
                Ok(None) => Ok(None),
                Ok(Some(Err(e))) => Err(format!("fault {}: {e}", i + 1)),
                Err(_) => Err(format!(
                    "fault {}: not healed within {}",
                    i + 1,
                    humantime::format_duration(bound)
                )),
            }
        });
        let mut healed = Vec::new();
        let mut refused = Vec::new();
        for outcome in futures_util::future::join_all(heals).await {
            match outcome {
                Ok(Some(event)) => healed.push(event),
                Ok(None) => {}
                Err(e) => refused.push(e),
            }
        }
        match refused.is_empty() {
            true => Ok(healed),
            false => Err(refused.join("; ")),
        }
    }

    /// When each fault injected by hand with a duration is due to be healed: (instant, index).
    pub fn hand_heals_due(&self) -> Vec<(At, usize)> {
        self.lock()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.by_hand)
            .filter_map(|(i, e)| match (&e.state, e.fault.duration) {
                (State::InEffect { since, .. }, Some(d)) => Some((since.plus(d), i)),
                _ => None,
            })
            .collect()
    }

    /// Heals fault `index` as its own duration says (a fault by hand given `--duration`).
    pub async fn heal_when_due(
        &self,
        cluster: &Cluster,
        clock: Clock,
        index: usize,
        bound: Duration,
        sink: &Sink<'_>,
    ) -> Result<(), FaultError> {
        match tokio::time::timeout(bound, self.heal(cluster, clock, index, false, sink)).await {
            Ok(Some(Err(e))) => Err(e),
            Ok(_) => Ok(()),
            Err(_) => Err(timed_out(&self.lock()[index].fault, index, "healed", bound)),
        }
    }
}

fn timed_out(fault: &Fault, index: usize, action: &str, bound: Duration) -> FaultError {
    FaultError::Timeout {
        fault: index + 1,
        kind: fault.kind.name().to_string(),
        action: action.to_string(),
        bound,
    }
}

/// Fires every scheduled fault at its instant, heals those with a duration (unless healed by
/// hand first), in schedule order, until the schedule ends or `stop`. Faults the scenario
/// schedules at the same instant start together: their injections (and heals due at one
/// instant) run concurrently, so none gets a head start of the others' duration.
pub(super) async fn run_schedule(
    (cluster, resolver, book): (&Cluster, &Resolver<'_>, &FaultBook),
    scenario: &Scenario,
    clock: Clock,
    stop: &CancellationToken,
    sink: &Sink<'_>,
) -> Result<(), FaultError> {
    // Actions in time order: (instant, is_heal, fault index). At one instant heals come first:
    // a fault ending as another starts frees its nodes before they are hit again.
    let mut actions: Vec<(Duration, bool, usize)> = Vec::new();
    for (i, f) in scenario.faults.iter().enumerate() {
        actions.push((f.at, false, i));
        if let Some(d) = f.duration {
            actions.push((f.at + d, true, i));
        }
    }
    actions.sort_by_key(|&(when, is_heal, i)| (when, !is_heal, i));
    let bound = scenario.bounds.fault;
    for group in actions.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (when, is_heal, _) = group[0];
        tokio::select! {
            _ = tokio::time::sleep_until(clock.instant(At::from_duration(when))) => {}
            _ = stop.cancelled() => return Ok(()),
        }
        let faults = group.iter().map(|&(_, _, i)| i);
        let outcomes = if is_heal {
            let heals = faults.map(|i| async move {
                match tokio::time::timeout(bound, book.heal(cluster, clock, i, false, sink)).await {
                    Ok(healed) => healed.map(|r| r.map(|_| ())).unwrap_or(Ok(())),
                    Err(_) => Err(timed_out(&scenario.faults[i], i, "healed", bound)),
                }
            });
            futures_util::future::join_all(heals).await
        } else {
            let injections = faults.map(|i| async move {
                let injecting = book.inject((cluster, resolver, clock), i, None, sink);
                match tokio::time::timeout(bound, injecting).await {
                    Ok(injected) => injected.map(|_| ()),
                    Err(_) => Err(timed_out(&scenario.faults[i], i, "injected", bound)),
                }
            });
            futures_util::future::join_all(injections).await
        };
        // Every action that took place is recorded before the first failure ends the drill.
        if let Some(e) = outcomes.into_iter().find_map(Result::err) {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod span_tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    /// What the test's subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A library user's subscriber sees a fault's events under the run's id and the fault's
    /// number and kind.
    #[test]
    fn fault_events_name_the_run_and_the_fault() {
        let text = crate::scenario::shipped(crate::scenario::DEFAULT).unwrap();
        let scenario = crate::scenario::parse(std::path::Path::new("x.toml"), text).unwrap();
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let run = tracing::info_span!("drill", run_id = "fd-0000abcd");
            let _run = run.enter();
            fault_span(0, &scenario.faults[0]).in_scope(|| tracing::info!("injected"));
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            out.contains("drill{run_id=\"fd-0000abcd\"}:fault{number=1 kind=\"crash\"}: firedrill::drill::faults::span_tests: injected"),
            "{out}"
        );
    }
}
