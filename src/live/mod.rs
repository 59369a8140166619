//! A game day's live session: `firedrill up` keeps the drill running and answers the other
//! commands (`status`, `inject`, `heal`, `note`, `down`) on a Unix socket in the session's own
//! directory, owner-only (the directory 0700, the socket 0600): only the user who started the
//! session can drive it. Each command connects, sends one request as a JSON line and reads one
//! answer line.

mod session;
mod view;

pub use session::{
    CONNECT_WITHIN, Incoming, LiveError, Reply, Session, SessionInfo, ask, find, serve,
    sessions_root,
};
pub use view::{FaultNow, LiveView, NodeNow, OutageNow, RECENT, Status, WritesNow};

use crate::history::At;
use crate::scenario::HandFault;
use serde::{Deserialize, Serialize};

/// What a command asks the session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Status,
    Inject(HandFault),
    /// Heal fault `fault` (its number, from 1), or every fault in effect.
    Heal {
        fault: Option<usize>,
    },
    Note {
        text: String,
    },
    /// End the session: stop the workload, heal, read back, judge, report, tear down.
    Down,
}

/// The session's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Status(Box<Status>),
    /// Fault `fault` (from 1) injected: what the history recorded of it.
    Injected {
        fault: usize,
        said: String,
    },
    /// What each heal recorded, by fault number; empty when nothing was in effect.
    Healed {
        faults: Vec<(usize, String)>,
    },
    Noted {
        at: At,
    },
    /// The session ended: its verdict as `run` prints it, where its reports are, the exit code.
    Down {
        summary: String,
        reports: Option<String>,
        exit: u8,
    },
    /// Not done, and why (exit 2).
    Refused {
        error: String,
    },
}
