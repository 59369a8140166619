//! `firedrill up`: a game day. The stack comes up, its workload and probes run, and the session
//! answers `status`, `inject`, `heal`, `note` and `down` until someone ends it.

use super::format::Format;
use super::run::{DrillArgs, Signals, conclude, could_not_run};
use super::{DEFAULT_SCENARIO, EXIT_ERROR};
use clap::Args;
use firedrill::drill::{GameDayOptions, LiveSession};
use firedrill::record::Participant;
use firedrill::scenario;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The scenario (a file, or a shipped scenario's name): its topology, workload, schedule (faults and steps still fire at
    /// their instants) and objectives (judged over the whole session).
    #[arg(default_value = DEFAULT_SCENARIO)]
    scenario: PathBuf,
    #[command(flatten)]
    drill: DrillArgs,
    /// Someone taking part, as NAME:ROLE (`"Ana Lima:incident commander"`); repeat for each.
    #[arg(long = "participant", value_name = "NAME:ROLE")]
    participants: Vec<Participant>,
}

pub async fn up(args: UpArgs) -> u8 {
    let scenario = match scenario::open(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    super::note_earlier_reports(&args.drill.reports);
    let stop = CancellationToken::new();
    tokio::spawn(signalled(Signals::listen(), stop.clone()));
    let options = args.drill.options();
    let day = GameDayOptions {
        participants: args.participants.clone(),
        sessions: firedrill::live::sessions_root(),
        on_live: Box::new(announce),
        stop,
    };
    let started_wall = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let end = match firedrill::drill::game_day(&scenario, &options, day).await {
        Ok(end) => end,
        Err(e) => return could_not_run(&e, &scenario, started_wall, &options, &args.drill.reports),
    };
    let (code, dir, shown) = conclude(&end.record, Format::Table, &args.drill.reports);
    if let Some(down) = end.down {
        down.send(shown, dir.map(|d| d.display().to_string()), code)
            .await;
    }
    code
}

/// What people need to drive the session, once it is live. The password is shown here, on
/// the terminal, and nowhere else.
fn announce(live: &LiveSession) {
    let mut text = format!(
        "\ngame day {} is live (scenario {})\n",
        live.run_id, live.scenario
    );
    if let Some(url) = &live.connect {
        text.push_str(&format!(
            "  connect:  psql '{url}'\n            (the password is shown once, here; it is not written to the record)\n"
        ));
    }
    text.push_str(&format!(
        "  session:  {} (owner-only)\n  drive it: firedrill status [--watch] | inject KIND [--target T] [--duration D] [KEY=VALUE…]\n            | heal N|--all | note \"TEXT\" | down\n            (each finds the latest live session; --run {} names this one)\n  end it:   firedrill down, or Ctrl-C here: both heal, read back, judge and report\n",
        live.socket.display(),
        live.run_id
    ));
    eprintln!("{text}");
}

/// The first Ctrl-C or SIGTERM ends the session as `down` does; a second one quits at once,
/// leaving what remains to `firedrill clean`. What it says may find no terminal (a closed
/// one): the session ends all the same.
async fn signalled(mut signals: Signals, stop: CancellationToken) {
    signals.next().await;
    stop.cancel();
    say(
        "ending the game day: healing, reading back, judging, reporting and removing everything ... (interrupt again to quit now and leave it to `firedrill clean`)",
    );
    signals.next().await;
    say(
        "interrupted again: quitting before the session ended; run `firedrill clean` to remove what it left",
    );
    std::process::exit(i32::from(EXIT_ERROR));
}

/// A line on stderr, if there is still one to write to.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
