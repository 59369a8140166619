use super::format::{Format, note};
use super::{EXIT_ERROR, EXIT_FAILED, EXIT_PASSED};
use clap::Args;
use firedrill::check::{Judgement, NOT_JUDGED};
use firedrill::{analyze, report, store};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A run directory (firedrill-reports/runs/...) or its record file (run.json.gz; run.json of a run
    /// written before format 6).
    run: PathBuf,
    /// Print the verdict only; leave the record and the reports as they are.
    #[arg(long)]
    dry_run: bool,
    /// What to print on stdout: the terminal summary, or one report alone (of the run judged
    /// again), the verdict's notes then going to stderr.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Why the run is judged again ("definitions of issue 11"): kept, with what changed, on the
    /// line the run history gains when the record changes.
    #[arg(long)]
    reason: Option<String>,
}

pub fn analyze(args: AnalyzeArgs) -> u8 {
    let path = store::record_path(&args.run);
    let stored = match store::load(&path) {
        Ok(record) => record,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let analysis = analyze::reanalyze(&stored);
    let format = args.format;
    match format.document(&analysis.record) {
        Ok(document) if format == Format::Table => println!("{document}"),
        Ok(document) => print!("{document}"),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    if analysis.reproduced {
        note!(
            format,
            "verdict reproduced from the history: {}",
            match analysis.record.judgement() {
                Judgement::Passed => "PASS",
                Judgement::Failed => "FAIL",
                Judgement::NotJudged => NOT_JUDGED,
            }
        );
    } else {
        note!(format, "verdict differs from the stored one:");
        for change in &analysis.changes {
            note!(format, "  {change}");
        }
    }
    if !args.dry_run {
        let Some(dir) = path.parent() else {
            eprintln!("error: {} has no directory", path.display());
            return EXIT_ERROR;
        };
        let replaced = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return EXIT_ERROR;
            }
        };
        if let Err(e) = report::write_reports(&analysis.record, dir) {
            eprintln!(
                "error: cannot rewrite the reports in {}: {e}",
                dir.display()
            );
            return EXIT_ERROR;
        }
        note!(format, "reports rewritten: {}", dir.display());
        match report::record_reanalysis(
            dir,
            &analysis.record,
            &replaced,
            &analysis.changes,
            args.reason.as_deref(),
        ) {
            Ok(report::Reanalysis::Unchanged) => note!(format, "run record unchanged"),
            Ok(report::Reanalysis::NotInHistory(why)) => {
                note!(
                    format,
                    "run record changed; not recorded in a run history: {why}"
                )
            }
            Ok(report::Reanalysis::Appended { history, line }) => note!(
                format,
                "run record changed; line {} of {} records it (reanalyzed_from {})",
                line.seq,
                history.display(),
                line.reanalyzed_from.as_deref().unwrap_or("")
            ),
            Err(e) => {
                eprintln!("error: run record changed but the run history does not record it: {e}");
                return EXIT_ERROR;
            }
        }
    }
    // a run not judged showed nothing to hold: 1, as a failed objective
    if analysis.record.passed() {
        EXIT_PASSED
    } else {
        EXIT_FAILED
    }
}
