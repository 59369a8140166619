use super::{EXIT_ERROR, EXIT_FAILED, EXIT_PASSED};
use clap::Args;
use firedrill::report;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The reports directory: its history.jsonl and the run directories under runs/.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
}

pub fn verify(args: VerifyArgs) -> u8 {
    let verification = match report::verify_reports(&args.reports) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let history = args.reports.join(report::HISTORY_FILE);
    for note in &verification.notes {
        println!("note: {note}");
    }
    for problem in &verification.problems {
        match problem.line {
            Some(line) => println!("{}:{line}: {}", history.display(), problem.message),
            None => println!("{}: {}", args.reports.display(), problem.message),
        }
    }
    println!("{}", verification.summary());
    if verification.intact() {
        EXIT_PASSED
    } else {
        EXIT_FAILED
    }
}
