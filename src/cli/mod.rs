//! The command line: the only place that prints.

mod analyze;
mod clean;
mod compose;
mod format;
mod list;
mod progress;
mod report;
mod run;
mod session;
mod shell;
mod up;
mod validate;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code: every objective held.
pub const EXIT_PASSED: u8 = 0;
/// Exit code: an objective failed, or the scenario has none (not judged).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the drill could not run (bad input, Docker trouble).
pub const EXIT_ERROR: u8 = 2;

/// The scenario `run` and `up` drill when none is named: a shipped one, by name.
pub const DEFAULT_SCENARIO: &str = firedrill::scenario::DEFAULT;

/// Where run directories and the run history go unless `--reports` or FIREDRILL_REPORTS says
/// otherwise: a directory of its own in the current one, whatever repository that is.
pub const DEFAULT_REPORTS: &str = "firedrill-reports";

/// Says so on stderr when `reports` is the default, the current directory holds no such
/// directory yet, but holds the run history of the default before it (`reports/`): going on
/// would start a second history, and the quarterly report would miss the first's runs.
pub fn note_earlier_reports(reports: &std::path::Path) {
    let earlier = std::path::Path::new("reports").join(firedrill::report::HISTORY_FILE);
    if reports == std::path::Path::new(DEFAULT_REPORTS) && !reports.exists() && earlier.is_file() {
        eprintln!(
            "note: {} holds the run history of firedrill's earlier default directory; this \
             command uses ./{DEFAULT_REPORTS}: pass --reports reports (or set \
             FIREDRILL_REPORTS=reports) to go on with that history",
            earlier.display()
        );
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "firedrill",
    version,
    about = "Chaos and failover drills for highly available database stacks",
    after_help = "Exit codes:\n  0  every objective held\n  1  an objective failed, or the scenario has no objectives (not judged)\n  2  the drill could not run (bad input, Docker trouble)\n  (verify and report exit 1 when the run history does not verify)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a drill: build and start the topology, run the workload, inject the faults, judge the
    /// objectives, write the reports, remove everything.
    Run(run::RunArgs),
    /// Start a game day: bring the scenario's stack up, run its workload, probes and schedule,
    /// and keep running until `firedrill down` (or Ctrl-C, which ends it the same way); people
    /// drive it meanwhile with `status`, `inject`, `heal` and `note`.
    ///
    /// The other commands reach the session through a Unix socket in its own owner-only
    /// directory under $FIREDRILL_SESSIONS, else $XDG_RUNTIME_DIR/firedrill, else
    /// <temp>/firedrill-<uid>; they find the latest live session, or the one --run names.
    Up(up::UpArgs),
    /// What a game day shows now: each node's role by every source, the leader, replication,
    /// HAProxy's view, the writes of the last 10 s, any outage in progress, the faults in effect.
    Status(session::StatusArgs),
    /// Inject a fault into a live game day, as a scenario's `[[fault]]` would (same kinds,
    /// targets and checks); prints its number.
    Inject(session::InjectArgs),
    /// Heal fault N of a live game day, or every fault in effect.
    Heal(session::HealArgs),
    /// Write down an observation on the game day's clock ("pager fired"); one starting with
    /// `action:` is an action item in the report.
    Note(session::NoteArgs),
    /// End a live game day: stop the workload, heal what is in effect, read back every write,
    /// judge the objectives, write the reports, remove everything; print the verdict. Exit code
    /// as for `run`.
    Down(session::Which),
    /// Judge a stored run again: recompute every measurement from the history in its record
    /// (run.json.gz, or the run.json of a run written before format 6), judge its objectives,
    /// say whether the verdict is the stored one, and rewrite its record and reports. No
    /// containers are involved. Exit code as for `run`.
    ///
    /// The record is left byte for byte as it was when nothing changed; a run.json is rewritten
    /// as run.json.gz. If the record's bytes change and the run is in its reports directory's
    /// history.jsonl, a line for the run as judged again, marked `reanalyzed_from` the digest of
    /// the replaced file, is appended to the history.
    Analyze(analyze::AnalyzeArgs),
    /// Check scenario files without Docker.
    Validate(validate::ValidateArgs),
    /// List the shipped scenarios (built into firedrill), or with --dir the scenario files in a
    /// directory: name, runbook step rehearsed, what to give `run`, description.
    ///
    /// Files that do not load are reported on stderr, with their file:line:col, after the table
    /// of the others; the exit code is then 2.
    List(list::ListArgs),
    /// Print a shipped scenario's file, to start one of your own from it:
    /// `firedrill show patroni-primary-crash > my-drill.toml`.
    Show {
        /// The shipped scenario's name (`firedrill list`).
        name: String,
    },
    /// Manage the base image.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Remove what dead runs left in Docker (containers, networks, volumes labelled by firedrill).
    Clean(clean::CleanArgs),
    /// Check the run history (reports/history.jsonl): every line parses, each holds the sha256
    /// of the line before it, and every run's record file (run.json.gz, or run.json) has the
    /// sha256 its line recorded.
    ///
    /// Prints each problem with its line number (an edited, removed, inserted, reordered or
    /// truncated line; an edited or missing run; a run no line records), then one summary line.
    /// Exit code: 0 intact, 1 a problem found, 2 the history cannot be read.
    Verify(verify::VerifyArgs),
    /// Write the quarterly report of the drills from the run history: per scenario and runbook
    /// procedure the runs, pass rate, RTO, writes lost and split brain against the period
    /// before, the failed runs and why, procedures left unrehearsed, the history's verification
    /// and a sign-off block.
    ///
    /// The report is printed and written to <reports>/quarterly/<period>.md (or .json).
    /// Exit code: 0 written, 1 written but the history did not verify, 2 bad period or
    /// unreadable history.
    Report(report::ReportArgs),
    /// Export a scenario's topology as a compose file, to start by hand the stack firedrill
    /// drills: the same image, configuration files, ports (on 127.0.0.1), start order and one
    /// network, with health checks. No Docker is needed to write it.
    ///
    /// The passwords go into an env file beside the compose file (.env, which compose reads by
    /// itself), generated only when it does not exist yet, readable by its owner only; no other
    /// file holds one. Every container, network and volume carries the label
    /// io.firedrill.compose=<scenario name>. Exit code: 0 written, 2 bad scenario or the files
    /// could not be written.
    Compose(compose::ComposeArgs),
    /// Print the completion script for a shell: `firedrill completions bash >
    /// ~/.local/share/bash-completion/completions/firedrill` (zsh: a file `_firedrill` in a
    /// directory of $fpath; fish: ~/.config/fish/completions/firedrill.fish).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `firedrill man > firedrill.1 && man ./firedrill.1`.
    Man,
}

impl Command {
    /// Whether it only reads and prints (nothing to tear down or finish writing).
    fn only_prints(&self) -> bool {
        matches!(
            self,
            Command::Validate(_)
                | Command::List(_)
                | Command::Show { .. }
                | Command::Completions { .. }
                | Command::Man
                | Command::Status(_)
        )
    }
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// Build the base image (mmdebstrap + import); reused while its recipe is unchanged.
    Build {
        /// Build even if an image with the recipe's tag exists.
        #[arg(long)]
        force: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.only_prints() {
        // Piped into `head`, it ends quietly as other Unix tools do, not with a panic about a
        // broken pipe. Not for the commands that act: a drill killed mid-way would leave its
        // containers behind.
        // SAFETY: called before any other thread exists; it only sets a signal disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Up(args) => up::up(args).await,
            Command::Status(args) => session::status(args).await,
            Command::Inject(args) => session::inject(args).await,
            Command::Heal(args) => session::heal(args).await,
            Command::Note(args) => session::note(args).await,
            Command::Down(which) => session::down(which).await,
            Command::Analyze(args) => analyze::analyze(args),
            Command::Validate(args) => validate::validate(args),
            Command::List(args) => list::list(args),
            Command::Show { name } => show(&name),
            Command::Image {
                command: ImageCommand::Build { force },
            } => image_build(force).await,
            Command::Clean(args) => clean::clean(args).await,
            Command::Verify(args) => verify::verify(args),
            Command::Report(args) => report::report(args),
            Command::Compose(args) => compose::compose(args),
            Command::Completions { shell } => shell::completions(shell),
            Command::Man => shell::man(),
        }
    });
    ExitCode::from(code)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FIREDRILL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn show(name: &str) -> u8 {
    match firedrill::scenario::shipped_text(name) {
        Ok(text) => {
            print!("{text}");
            EXIT_PASSED
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

async fn image_build(force: bool) -> u8 {
    let progress = progress::terminal();
    let result = async {
        let docker = firedrill::engine::connect().await?;
        let recipe = firedrill::image::base_recipe();
        let image = if force {
            firedrill::image::build(&docker, &recipe, &progress).await?
        } else {
            firedrill::image::ensure(&docker, &recipe, &progress).await?
        };
        Ok::<_, firedrill::image::ImageError>(image)
    }
    .await;
    match result {
        Ok(image) => {
            println!(
                "{} {} ({})",
                if image.built { "built" } else { "up to date:" },
                image.tag,
                &image.id
            );
            EXIT_PASSED
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}
