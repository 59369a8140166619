//! The commands that drive a live game day: `status`, `inject`, `heal`, `note`, `down`. Each
//! finds the session (the latest live one, or `--run ID`), asks it one thing and prints the
//! answer.

use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use firedrill::live::{self, Answer, Request, Status};
use firedrill::scenario::HandFault;
use std::io::IsTerminal;
use std::time::Duration;

/// A question answered from memory.
const QUICK: Duration = Duration::from_secs(10);
/// An injection or heal: bounded by the scenario's fault bound (1 min by default), plus target
/// resolution.
const FAULT_ACTION: Duration = Duration::from_secs(5 * 60);
/// `down`: heal, read back (bounded by recovery and read_back), judge, report, tear down.
const DOWN: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Args)]
pub struct Which {
    /// The session's run id (default: the latest live session).
    #[arg(long = "run", value_name = "ID")]
    run: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    which: Which,
    /// Redraw every second (plain lines when not on a terminal) until the session ends.
    #[arg(long)]
    watch: bool,
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// The fault kind, as in scenario files (`firedrill list --faults`).
    kind: String,
    /// Where, as in scenario files: `leader`, `replica:random`, `pg2`, `group:NAME`, ...
    #[arg(long, default_value = "leader")]
    target: String,
    /// Heal it after this long (`30s`); without it, it lasts until `heal` or `down`.
    #[arg(long)]
    duration: Option<String>,
    /// The kind's own keys, KEY=VALUE (a TOML value or text): `behind=16MB`.
    #[arg(value_name = "KEY=VALUE")]
    keys: Vec<String>,
    #[command(flatten)]
    which: Which,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "what")]
pub struct HealArgs {
    /// The fault's number, as `inject` and `status` print it.
    #[arg(group = "what")]
    fault: Option<usize>,
    /// Every fault in effect.
    #[arg(long, group = "what")]
    all: bool,
    #[command(flatten)]
    which: Which,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// The observation ("app showed 502s"); start it with `action:` for an action item.
    text: String,
    #[command(flatten)]
    which: Which,
}

/// Asks the session `which` names; prints why on failure.
async fn ask(which: &Which, request: &Request, within: Duration) -> Result<Answer, u8> {
    let root = live::sessions_root();
    let answer = async {
        let (info, socket) = live::find(&root, which.run.as_deref()).await?;
        live::ask((&info.run_id, &socket), request, within).await
    };
    match answer.await {
        Ok(Answer::Refused { error }) => {
            eprintln!("error: {error}");
            Err(EXIT_ERROR)
        }
        Ok(answer) => Ok(answer),
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_ERROR)
        }
    }
}

pub async fn status(args: StatusArgs) -> u8 {
    if !args.watch {
        return match ask(&args.which, &Request::Status, QUICK).await {
            Ok(Answer::Status(status)) => {
                print!("{}", render(&status));
                EXIT_PASSED
            }
            Ok(other) => unexpected(&other),
            Err(code) => code,
        };
    }
    let terminal = std::io::stdout().is_terminal();
    let mut shown = false;
    loop {
        let root = live::sessions_root();
        let asked = async {
            let (info, socket) = live::find(&root, args.which.run.as_deref()).await?;
            live::ask((&info.run_id, &socket), &Request::Status, QUICK).await
        };
        match asked.await {
            Ok(Answer::Status(status)) => {
                if terminal {
                    // clear the screen and draw from its top
                    print!("\x1b[2J\x1b[H{}", render(&status));
                } else {
                    println!("{}", render(&status));
                }
                shown = true;
            }
            Ok(Answer::Refused { error }) => {
                eprintln!("error: {error}");
                return EXIT_ERROR;
            }
            Ok(other) => return unexpected(&other),
            Err(e) if shown => {
                println!("the session ended ({e})");
                return EXIT_PASSED;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

pub async fn inject(args: InjectArgs) -> u8 {
    let mut keys = Vec::new();
    for pair in &args.keys {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                keys.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            _ => {
                eprintln!("error: {pair:?}: expected KEY=VALUE");
                return EXIT_ERROR;
            }
        }
    }
    let request = Request::Inject(HandFault {
        kind: args.kind,
        target: args.target,
        duration: args.duration,
        keys,
    });
    match ask(&args.which, &request, FAULT_ACTION).await {
        Ok(Answer::Injected { fault, said }) => {
            println!("fault {fault}: {said}");
            println!("heal it with: firedrill heal {fault}");
            EXIT_PASSED
        }
        Ok(other) => unexpected(&other),
        Err(code) => code,
    }
}

pub async fn heal(args: HealArgs) -> u8 {
    let request = Request::Heal {
        fault: if args.all { None } else { args.fault },
    };
    match ask(&args.which, &request, FAULT_ACTION).await {
        Ok(Answer::Healed { faults }) if faults.is_empty() => {
            println!("nothing was in effect");
            EXIT_PASSED
        }
        Ok(Answer::Healed { faults }) => {
            for (fault, said) in faults {
                println!("fault {fault}: {said}");
            }
            EXIT_PASSED
        }
        Ok(other) => unexpected(&other),
        Err(code) => code,
    }
}

pub async fn note(args: NoteArgs) -> u8 {
    let request = Request::Note { text: args.text };
    match ask(&args.which, &request, QUICK).await {
        Ok(Answer::Noted { at }) => {
            println!("noted at {at}");
            EXIT_PASSED
        }
        Ok(other) => unexpected(&other),
        Err(code) => code,
    }
}

pub async fn down(which: Which) -> u8 {
    eprintln!(
        "ending the game day: stopping the workload, healing, reading back, judging, reporting, removing everything ..."
    );
    match ask(&which, &Request::Down, DOWN).await {
        Ok(Answer::Down {
            summary,
            reports,
            exit,
        }) => {
            println!("{summary}");
            if let Some(reports) = reports {
                eprintln!("reports: {reports}");
            }
            exit
        }
        Ok(other) => unexpected(&other),
        Err(code) => code,
    }
}

fn unexpected(answer: &Answer) -> u8 {
    eprintln!("error: the session answered something else: {answer:?}");
    EXIT_ERROR
}

/// The session now, as lines for people.
fn render(s: &Status) -> String {
    let mut out = format!("game day {} ({}) at {}\n", s.run_id, s.scenario, s.now);
    let by_nodes = match s.leader_by_nodes.as_slice() {
        [] => "no node says it leads".to_owned(),
        [one] => format!("{one} says it leads"),
        many => format!("{} say they lead: SPLIT BRAIN?", many.join(" and ")),
    };
    // who names the leader: etcd by Patroni's key, the Sentinels by their answer to clients
    let named_by = match s.authority_source.as_deref() {
        None | Some("etcd") => "etcd's key".to_owned(),
        Some(source) => format!("{}'s answer", firedrill::history::source_label(source)),
    };
    out.push_str(&format!(
        "leader:   {} ({named_by}); {by_nodes}\n",
        s.leader_by_authority.as_deref().unwrap_or("none")
    ));
    let width = s
        .nodes
        .iter()
        .map(|n| n.node.len())
        .max()
        .unwrap_or(4)
        .max(4);
    for node in &s.nodes {
        let roles: Vec<String> = node
            .roles
            .iter()
            .map(|(source, said)| format!("{source}: {said}"))
            .collect();
        let mut line = format!("  {:width$}  {}", node.node, roles.join("; "));
        if let Some(state) = &node.replication {
            line.push_str(&format!("; {state}"));
        }
        if let Some(lag) = node.lag_bytes {
            line.push_str(&format!(", {lag} bytes behind"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if !s.proxy.is_empty() {
        let servers: Vec<String> = s
            .proxy
            .iter()
            .map(|(name, status)| format!("{name} {status}"))
            .collect();
        out.push_str(&format!("haproxy:  {}\n", servers.join(", ")));
    }
    let w = &s.writes;
    out.push_str(&format!(
        "writes:   last {}: {} ok, {} failed, {} unknown ({:.1} ok/s)\n",
        humantime::format_duration(w.window),
        w.ok,
        w.failed,
        w.unknown,
        w.ok_per_second
    ));
    out.push_str(&match &s.outage {
        None => "outage:   none\n".to_owned(),
        Some(o) => format!(
            "outage:   IN PROGRESS for {:.1}s{}\n",
            o.lasted.as_secs_f64(),
            o.since
                .map(|at| format!(" (no write acknowledged since {at})"))
                .unwrap_or_else(|| " (no write acknowledged yet)".into())
        ),
    });
    if s.faults.is_empty() {
        out.push_str("faults:   none in effect\n");
    }
    for f in &s.faults {
        out.push_str(&format!(
            "fault {}:  {} on {} since {}{}{}\n",
            f.number,
            f.kind,
            f.nodes.join(", "),
            f.since,
            f.heal_at
                .map(|at| format!(", healed at {at}"))
                .unwrap_or_default(),
            if f.by_hand { " (by hand)" } else { "" }
        ));
    }
    out.push_str(&format!("notes:    {}\n", s.notes));
    out
}
