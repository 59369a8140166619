//! Progress of long steps (image build, bring-up, the drill, recovery). The library reports;
//! the CLI decides how to show it (a spinner on a terminal, plain lines otherwise).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum ProgressEvent {
    /// A long step began.
    Begin { step: String },
    /// Something happened within the current step.
    Note { message: String },
    /// The step ended after `took`.
    End { step: String, took: Duration },
}

/// One progress event and when it happened, after the `Progress` was made.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    pub after: Duration,
    pub event: ProgressEvent,
}

/// Where progress goes (the default sends it nowhere), and the journal of every event sent: what
/// a drill reached, for the partial report of a drill that could not finish.
#[derive(Clone)]
pub struct Progress {
    sink: Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>,
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
    pub fn new(sink: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Progress {
            sink: Some(Arc::new(sink)),
            ..Progress::default()
        }
    }

    /// Every event sent so far, in order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.journal.lock().expect("journal lock").clone()
    }

    pub fn begin(&self, step: impl Into<String>) {
        self.send(ProgressEvent::Begin { step: step.into() });
    }

    pub fn note(&self, message: impl Into<String>) {
        self.send(ProgressEvent::Note {
            message: message.into(),
        });
    }

    pub fn end(&self, step: impl Into<String>, took: Duration) {
        self.send(ProgressEvent::End {
            step: step.into(),
            took,
        });
    }

    fn send(&self, event: ProgressEvent) {
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
