//! A game day: the drill runs until a person ends it, and answers the session's commands
//! meanwhile: `status` from the live view, `inject` and `heal` through the fault book (checked
//! and recorded as scheduled faults are, marked by hand), `note` into the history.

use super::DrillError;
use super::faults::{FaultBook, Sink};
use crate::fault::{self, Resolver};
use crate::history::{Clock, Event, FaultEvent, NoteEvent};
use crate::live::{Answer, LiveView, Request};
use crate::progress::DrillEvent;
use crate::record::Participant;
use crate::scenario::Scenario;
use crate::topology::Cluster;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The longest note: a sentence or a few, not a document.
const MAX_NOTE: usize = 2000;

/// What a game day adds to a drill.
pub struct GameDayOptions {
    /// Who takes part (`up --participant "Name:role"`).
    pub participants: Vec<Participant>,
    /// Where the session's directory is made (`live::sessions_root()`).
    pub sessions: PathBuf,
    /// Called once when the session is live, with how to reach it (the CLI prints it; the
    /// password it holds is never recorded).
    pub on_live: Box<dyn Fn(&LiveSession) + Send + Sync>,
    /// Cancelled to end the session as `down` does (Ctrl-C on `up`); before the session is live,
    /// it interrupts the bring-up instead (torn down, no report).
    pub stop: CancellationToken,
}

/// A live session, as `up` announces it.
pub struct LiveSession {
    pub run_id: String,
    pub scenario: String,
    pub socket: PathBuf,
    /// A `postgresql://` URL to the client endpoint, with the run's password: shown once.
    pub connect: Option<String>,
}

impl std::fmt::Debug for LiveSession {
    // Never the password: this can end up in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession")
            .field("run_id", &self.run_id)
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

/// How the session ended: `down`, with the command waiting for the verdict, or an interrupt.
pub(super) enum Ended {
    Down(crate::live::Reply),
    Interrupt,
}

/// What the session's loop works with.
pub(super) struct Live<'a> {
    pub cluster: &'a Cluster,
    pub resolver: &'a Resolver<'a>,
    pub book: &'a FaultBook,
    pub scenario: &'a Scenario,
    pub clock: Clock,
    pub view: Arc<Mutex<LiveView>>,
    pub sink: Sink<'a>,
}

/// Answers the session's commands until `down` or `stop`; heals faults injected by hand with a
/// duration when it is up. A heal due that fails ends the drill, as a scheduled one does.
pub(super) async fn answer(
    live: &Live<'_>,
    requests: &mut mpsc::Receiver<crate::live::Incoming>,
    stop: &CancellationToken,
) -> Result<Ended, DrillError> {
    let bound = live.scenario.bounds.fault;
    loop {
        let due = live.book.hand_heals_due().into_iter().min();
        let heal_due = async {
            match due {
                Some((at, _)) => tokio::time::sleep_until(live.clock.instant(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return Ok(Ended::Interrupt),
            _ = heal_due => {
                if let Some((_, index)) = due {
                    live.book
                        .heal_when_due(live.cluster, live.clock, index, bound, &live.sink)
                        .await?;
                }
            }
            incoming = requests.recv() => {
                let Some((request, reply)) = incoming else {
                    return Ok(Ended::Interrupt);
                };
                if request == Request::Down {
                    return Ok(Ended::Down(reply));
                }
                reply.send(one(live, request).await);
            }
        }
    }
}

/// The answer to one request other than `down`.
async fn one(live: &Live<'_>, request: Request) -> Answer {
    let refused = |error: String| Answer::Refused { error };
    match request {
        Request::Status => {
            let status = live.view.lock().expect("live view lock").status(
                (&live.cluster.run_id, &live.scenario.name),
                live.clock.now(),
                live.book.in_effect(),
            );
            Answer::Status(Box::new(status))
        }
        Request::Inject(hand) => {
            let fault = match crate::scenario::hand_fault(live.scenario, &hand) {
                Ok(fault) => fault,
                Err(e) => return refused(e.0),
            };
            // what the scenario's faults are checked for before the workload starts
            if let Err(e) = fault::preflight(live.cluster, std::slice::from_ref(&fault)).await {
                return refused(e.to_string());
            }
            let added = match live.book.add_by_hand(live.resolver, fault).await {
                Ok(added) => added,
                Err(e) => return refused(e),
            };
            let index = added.0;
            let ctx = (live.cluster, live.resolver, live.clock);
            match live
                .book
                .inject_by_hand(ctx, added, live.scenario.bounds.fault, &live.sink)
                .await
            {
                Ok(event) => Answer::Injected {
                    fault: index + 1,
                    said: said(&event),
                },
                Err(e) => refused(e),
            }
        }
        Request::Heal { fault } => {
            match live
                .book
                .heal_by_hand(
                    live.cluster,
                    live.clock,
                    fault,
                    live.scenario.bounds.fault,
                    &live.sink,
                )
                .await
            {
                Ok(events) => Answer::Healed {
                    faults: events.iter().map(|e| (e.fault + 1, said(e))).collect(),
                },
                Err(e) => refused(e),
            }
        }
        Request::Note { text } => {
            let text = text.trim();
            if text.is_empty() {
                return refused("expected a note, found an empty one".into());
            }
            if text.len() > MAX_NOTE {
                return refused(format!(
                    "expected a note of at most {MAX_NOTE} bytes, found {}",
                    text.len()
                ));
            }
            let note = NoteEvent {
                at: live.clock.now(),
                text: text.to_owned(),
            };
            live.sink.progress.send(DrillEvent::Note {
                text: format!("{} note: {}", note.at, note.text),
            });
            let at = note.at;
            let _ = live.sink.events.send(Event::Note(note));
            Answer::Noted { at }
        }
        Request::Down => refused("down is answered by the session's end".into()),
    }
}

/// One line on a fault action: `t+12.345s inject crash on pg1 (SIGKILL)`.
fn said(event: &FaultEvent) -> String {
    let nodes = match event.nodes.is_empty() {
        true => event.node.clone(),
        false => event.nodes.join(", "),
    };
    let action = match event.action {
        crate::history::FaultAction::Inject => "injected",
        crate::history::FaultAction::Heal => "healed",
    };
    let mut line = format!("{} {} {action} on {nodes}", event.at, event.kind);
    if let Some(detail) = &event.detail {
        line.push_str(&format!(" ({detail})"));
    }
    line
}
