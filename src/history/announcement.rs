//! What a node announces on its own, as it happens: a Sentinel's events (`+sdown`, `+odown`,
//! `+elected-leader`, `+switch-master`, `+tilt`...) read from its Pub/Sub channels, stamped on
//! the run's clock when they arrive (format 10). A source of marks and phases, not of roles.

use super::At;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The source's name (`sentinel`).
    pub source: String,
    /// The node that announced it (`sentinel2`).
    pub from: String,
    /// When the harness received it.
    pub at: At,
    /// The event's name, as the source words it (`+odown`).
    pub name: String,
    /// The rest of it, as the source words it (`master firedrill 172.18.0.2 6379 #quorum 2/2`).
    pub text: String,
    /// The node it is about, when it names one the run has (`redis1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// What the node it is about is to the source (`master`, `slave`, `sentinel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about_role: Option<String>,
}
