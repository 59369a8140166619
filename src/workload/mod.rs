//! The workload, whatever the client's protocol: write attempts on a fixed schedule through the
//! client endpoint, each recorded with its invoke and complete instants and outcome; optional
//! reads on a fixed schedule, each looking for the latest acknowledged write; and the final
//! read-back. The [`Client`](crate::client::Client) speaks the protocol and classifies errors.

mod acked;
mod endpoints;
mod read_back;
mod reader;
mod schedule;
mod sessions;
mod table;
mod writer;

pub use acked::Acknowledged;
pub use endpoints::{read_client, write_client};
pub use read_back::{ReadBackError, read_back};
pub use reader::run_reads;
pub use table::prepare;
pub use writer::run_writes;
