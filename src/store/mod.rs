//! A run's record on disk: `run.json.gz` (format 6 on: compact JSON, the history's bulky events
//! as tables, gzip), or `run.json` as older firedrills wrote it (plain JSON, formats 1–5).

mod file;
mod layout;

#[cfg(test)]
pub(crate) use file::edit_by_hand;
pub use file::{
    LoadError, PLAIN_RECORD_FILE, RECORD_FILE, decode, decompressed, encode, load, record_file,
    record_path, stored_json, write,
};
