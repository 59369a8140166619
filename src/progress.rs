//! Progress of long steps (image build, bring-up, the drill, recovery). The library reports;
//! the CLI decides how to show it (a spinner on a terminal, plain lines otherwise).

use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum ProgressEvent {
    /// A long step began.
    Begin { step: String },
    /// Something happened within the current step.
    Note { message: String },
    /// The step ended after `took`.
    End { step: String, took: Duration },
}

/// Where progress goes. The default sends it nowhere.
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>,
}

impl Progress {
    pub fn new(sink: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Progress {
            sink: Some(Arc::new(sink)),
        }
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
