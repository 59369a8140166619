//! The clients: write attempts on a fixed schedule through the client endpoint, each recorded
//! with its invoke and complete instants and outcome; and the final read-back.

mod read_back;
mod table;
mod writer;

pub use read_back::{ReadBackError, read_back};
pub use table::{TABLE, prepare};
pub use writer::run_writes;
