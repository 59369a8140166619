use super::format::{Output, print_json};
use super::{DEFAULT_REPORTS, EXIT_ERROR, EXIT_FAILED, EXIT_PASSED};
use clap::Args;
use firedrill::report;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The reports directory: its history.jsonl and the run directories under runs/.
    #[arg(long, env = "FIREDRILL_REPORTS", default_value = DEFAULT_REPORTS)]
    reports: PathBuf,
    /// `json`: the verification as one document (`intact`, `summary`, `problems` with their line
    /// numbers, `notes`, the chain's head; `error` when the history cannot be read).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
}

pub fn verify(args: VerifyArgs) -> u8 {
    super::note_earlier_reports(&args.reports);
    let history = args.reports.join(report::HISTORY_FILE);
    let verification = match report::verify_reports(&args.reports) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            if args.format == Output::Json {
                print_json(&serde_json::json!({
                    "history": history.display().to_string(),
                    "intact": false,
                    "error": e.to_string(),
                }));
            }
            return EXIT_ERROR;
        }
    };
    match args.format {
        Output::Text => {
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
        }
        Output::Json => {
            #[derive(Serialize)]
            struct Verified<'a> {
                history: String,
                intact: bool,
                summary: String,
                #[serde(flatten)]
                verification: &'a report::Verification,
            }
            print_json(&Verified {
                history: history.display().to_string(),
                intact: verification.intact(),
                summary: verification.summary(),
                verification: &verification,
            });
        }
    }
    if verification.intact() {
        EXIT_PASSED
    } else {
        EXIT_FAILED
    }
}
