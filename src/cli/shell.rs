//! Shell conveniences generated from the same command definitions the parser uses, so that they
//! cannot drift from it: completion scripts (clap_complete) and the man page (clap_mangen).

use super::{Cli, EXIT_ERROR, EXIT_PASSED};
use clap::CommandFactory;
use std::io::Write;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "firedrill", &mut out);
    print(&out)
}

/// Prints the man page (roff): the commands, their options and the exit codes.
pub fn man() -> u8 {
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut out) {
        eprintln!("error: cannot render the man page: {e}");
        return EXIT_ERROR;
    }
    print(&out)
}

fn print(bytes: &[u8]) -> u8 {
    match std::io::stdout().lock().write_all(bytes) {
        Ok(()) => EXIT_PASSED,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            EXIT_ERROR
        }
    }
}
