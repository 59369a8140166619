use super::{DEFAULT_REPORTS, EXIT_ERROR, EXIT_FAILED, EXIT_PASSED};
use clap::{ArgGroup, Args, ValueEnum};
use firedrill::report::{self, Period, ReportOptions};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("period").required(true).args(["quarter", "since"])))]
pub struct ReportArgs {
    /// The quarter, as YEAR-QN: 2026-Q4 is 2026-10-01 to 2026-12-31, UTC.
    #[arg(long, conflicts_with_all = ["since", "until"])]
    quarter: Option<String>,
    /// The first day of the period, YYYY-MM-DD (UTC), with --until.
    #[arg(long, requires = "until")]
    since: Option<String>,
    /// The last day of the period, included, YYYY-MM-DD (UTC), with --since.
    #[arg(long, requires = "since")]
    until: Option<String>,
    /// The reports directory: its history.jsonl and runs/; the report goes to its quarterly/.
    #[arg(long, env = "FIREDRILL_REPORTS", default_value = DEFAULT_REPORTS)]
    reports: PathBuf,
    /// The name to print as the report's preparer (with today's date); blank lines otherwise.
    #[arg(long, value_name = "NAME")]
    prepared_by: Option<String>,
    /// The name to print as the report's reviewer; blank lines otherwise.
    #[arg(long, value_name = "NAME")]
    reviewed_by: Option<String>,
    /// What to print on stdout. The Markdown and HTML reports are always written to
    /// quarterly/; json and junit are written there too when asked for.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A summary per scenario, the failed runs, the gaps and the history's status.
    Table,
    /// The quarterly report in Markdown.
    Md,
    /// The quarterly report as one self-contained HTML page.
    Html,
    /// The report's model.
    Json,
    /// JUnit XML: a test case per scenario (failing if a run failed), per unrehearsed
    /// procedure, and for the history's integrity.
    Junit,
}

pub fn report(args: ReportArgs) -> u8 {
    let period = match (&args.quarter, &args.since, &args.until) {
        (Some(quarter), _, _) => Period::quarter(quarter),
        (None, Some(since), Some(until)) => Period::days(since, until),
        _ => unreachable!("clap requires --quarter, or --since with --until"),
    };
    let period = match period {
        Ok(period) => period,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    super::note_earlier_reports(&args.reports);
    let history = match report::read_history(&args.reports) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let verification = report::verify_history(&history, &report::scan_runs(&args.reports));
    let options = ReportOptions {
        prepared_by: args.prepared_by,
        reviewed_by: args.reviewed_by,
        generated: std::time::SystemTime::now(),
        firedrill: env!("CARGO_PKG_VERSION").to_string(),
    };
    let quarterly = report::quarterly_report(
        &report::parsed_lines(&history),
        &verification,
        &period,
        &options,
    );
    let markdown = report::quarterly_markdown(&quarterly);
    let html = report::quarterly_html(&quarterly);
    let mut files = vec![("md", markdown.clone()), ("html", html.clone())];
    let text = match args.format {
        Format::Table => report::quarterly_table(&quarterly),
        Format::Junit => match report::quarterly_junit(&quarterly) {
            Ok(xml) => {
                files.push(("junit.xml", xml.clone()));
                xml
            }
            Err(e) => {
                eprintln!("error: cannot write the JUnit report: {e}");
                return EXIT_ERROR;
            }
        },
        Format::Md => markdown,
        Format::Html => html,
        Format::Json => {
            let json = report::quarterly_json(&quarterly);
            files.push(("json", json.clone()));
            json
        }
    };
    let dir = args.reports.join("quarterly");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return EXIT_ERROR;
    }
    let mut written = Vec::new();
    for (extension, content) in &files {
        let path = dir.join(format!("{}.{extension}", period.file_stem()));
        if let Err(e) = std::fs::write(&path, content) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_ERROR;
        }
        written.push(path);
    }
    print!("{text}");
    for path in written {
        eprintln!("report written: {}", path.display());
    }
    if verification.intact() {
        EXIT_PASSED
    } else {
        eprintln!(
            "the run history did not verify ({}): see `firedrill verify`",
            verification.summary()
        );
        EXIT_FAILED
    }
}
