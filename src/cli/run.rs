use super::format::{Format, note};
use super::{DEFAULT_REPORTS, DEFAULT_SCENARIO, EXIT_ERROR, EXIT_FAILED, EXIT_PASSED, progress};
use clap::Args;
use firedrill::{DrillOptions, report, scenario};
use std::path::PathBuf;
use tokio::signal::unix::{Signal, SignalKind, signal};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario: a file, or the name of a shipped scenario (`firedrill list`).
    #[arg(default_value = DEFAULT_SCENARIO)]
    scenario: PathBuf,
    #[command(flatten)]
    drill: DrillArgs,
    /// What to print on stdout after the drill (the run directory holds every report whatever
    /// this says): the terminal summary, or one report alone, its notes then going to stderr.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How a drill is run and where it reports: `run`'s and `up`'s options alike.
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Run this image (already in the engine) instead of the scenario's `image` or firedrill's
    /// base image.
    #[arg(long)]
    image: Option<String>,
    /// Where run directories and the run history (history.jsonl) are written.
    #[arg(long, env = "FIREDRILL_REPORTS", default_value = DEFAULT_REPORTS)]
    pub reports: PathBuf,
    /// Seed for the random choices of fault targets; the seed used is printed and stored in
    /// the run record, and passing it again repeats the same choices.
    #[arg(long)]
    seed: Option<u64>,
}

impl DrillArgs {
    /// The drill's options, its progress shown on the terminal.
    pub fn options(&self) -> DrillOptions {
        DrillOptions {
            image: self.image.clone(),
            seed: self.seed,
            progress: progress::terminal(),
            ..DrillOptions::default()
        }
    }
}

pub async fn run(args: RunArgs) -> u8 {
    let scenario = match scenario::open(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    super::note_earlier_reports(&args.drill.reports);
    let signals = Signals::listen();
    let options = args.drill.options();
    let started_wall = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let record = match firedrill::run_until(&scenario, &options, interrupted(signals)).await {
        Ok(record) => record,
        Err(e) => return could_not_run(&e, &scenario, started_wall, &options, &args.drill.reports),
    };
    conclude(&record, args.format, &args.drill.reports).0
}

/// Says why the drill could not run and, once anything was started, writes a report of how far
/// it got. Exit code 2.
pub(super) fn could_not_run(
    error: &firedrill::DrillError,
    scenario: &scenario::Scenario,
    started_wall: String,
    options: &DrillOptions,
    reports: &std::path::Path,
) -> u8 {
    eprintln!("error: {error}");
    let journal = options.progress.journal();
    if !journal.is_empty() {
        let partial = report::PartialRun::new(scenario, started_wall, error.to_string(), &journal);
        match report::write_partial(&partial, reports) {
            Ok(dir) => eprintln!("partial report (steps reached): {}", dir.display()),
            Err(e) => eprintln!("error: cannot write the partial report: {e}"),
        }
    }
    EXIT_ERROR
}

/// Prints the record as `format` asks, writes its run directory; the exit code, the run
/// directory if written, and what was printed (the verdict as people read it).
pub(super) fn conclude(
    record: &firedrill::RunRecord,
    format: Format,
    reports: &std::path::Path,
) -> (u8, Option<PathBuf>, String) {
    // a report that cannot be printed still leaves the run directory to be written
    let (printed, shown) = match format.document(record) {
        Ok(document) if format == Format::Table => {
            println!("{document}");
            (true, document)
        }
        Ok(document) => {
            print!("{document}");
            (true, document)
        }
        Err(e) => {
            eprintln!("error: {e}");
            (false, String::new())
        }
    };
    note!(
        format,
        "seed: {} (repeat with --seed {})",
        record.seed,
        record.seed
    );
    let dir = match report::write_run_dir(record, reports) {
        Ok(dir) => {
            note!(format, "reports: {}", dir.display());
            dir
        }
        Err(e) => {
            eprintln!("error: cannot write the reports: {e}");
            return (EXIT_ERROR, None, shown);
        }
    };
    let code = if !record.problems.is_empty() {
        // A step that overran its bound (the read-back): what needs it was not measured.
        for problem in &record.problems {
            eprintln!("error: the drill did not complete: {problem}");
        }
        EXIT_ERROR
    } else if !printed {
        EXIT_ERROR
    } else if record.passed() {
        EXIT_PASSED
    } else {
        // an objective failed, or none was stated (not judged): nothing was shown to hold
        EXIT_FAILED
    };
    (code, Some(dir), shown)
}

/// SIGINT (Ctrl-C) and SIGTERM, listened to from before the run starts, so that neither is
/// lost: not during the image build, nor between the first signal and the second.
pub(super) struct Signals {
    int: Option<Signal>,
    term: Option<Signal>,
}

impl Signals {
    pub(super) fn listen() -> Signals {
        Signals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The next SIGINT or SIGTERM (never, if neither could be listened to).
    pub(super) async fn next(&mut self) {
        async fn on(s: &mut Option<Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = on(&mut self.int) => {}
            _ = on(&mut self.term) => {}
        }
    }
}

/// Resolves on the first Ctrl-C or SIGTERM; the drill then tears down and says so. A second one
/// during the teardown quits at once, leaving what remains to `firedrill clean`.
async fn interrupted(mut signals: Signals) {
    signals.next().await;
    eprintln!(
        "interrupted: removing everything this run created ... (interrupt again to quit now and leave it to `firedrill clean`)"
    );
    tokio::spawn(async move {
        signals.next().await;
        eprintln!(
            "interrupted again: quitting before the teardown finished; run `firedrill clean` to remove what this run left"
        );
        std::process::exit(i32::from(EXIT_ERROR));
    });
}
