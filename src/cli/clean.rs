use super::format::{Output, print_json};
use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use firedrill::engine::{self, Leftovers, RunInfo};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Remove the objects of live runs too: a run whose firedrill process still runs on this
    /// host, or that was started from another host. Says what it will remove before removing.
    #[arg(long)]
    all: bool,
    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only this run (its id, `fd-…`, as in labels and run.json); repeatable.
    #[arg(long = "run", value_name = "RUN_ID")]
    runs: Vec<String>,
    /// `json`: one document at the end, each run found with what was done to it (`kept`,
    /// `would remove`, `removed`), why a live one was kept, and its objects.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
}

/// What `clean` did, as `--format json` prints it.
#[derive(Debug, Default, Serialize)]
struct Cleaned {
    dry_run: bool,
    runs: Vec<RunCleaned>,
    /// Runs named with --run that the engine has nothing of.
    not_found: Vec<String>,
    /// Why clean stopped: the engine did not answer, or a removal failed (that run's action is
    /// `failed`, and the runs after it keep `would remove`: they were not tried).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct RunCleaned {
    run_id: String,
    scenario: String,
    pid: String,
    host: String,
    /// `kept`, `would remove`, `removed` or `failed`.
    action: &'static str,
    /// Why the run counts as live (kept without --all, removed with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<String>,
    /// Its objects: those removed when it was removed, else those found.
    objects: Leftovers,
}

pub async fn clean(args: CleanArgs) -> u8 {
    let text = args.format == Output::Text;
    let mut cleaned = Cleaned {
        dry_run: args.dry_run,
        ..Cleaned::default()
    };
    let result = clean_runs(&args, &mut cleaned, |line| {
        if text {
            println!("{line}");
        }
    })
    .await;
    if let Err(e) = &result {
        cleaned.error = Some(e.to_string());
    }
    if !text {
        print_json(&cleaned);
    }
    match result {
        Ok(0) if args.dry_run || !text => EXIT_PASSED,
        Ok(0) => {
            println!("nothing to clean");
            EXIT_PASSED
        }
        Ok(n) => {
            if text {
                println!("removed the objects of {n} run(s)");
            }
            EXIT_PASSED
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

/// Why a run's objects may not be removed without `--all`; `None` for a dead run of this host.
fn alive(run: &RunInfo, this_host: &str) -> Option<String> {
    if run.host != this_host {
        Some(format!("started on host {}", run.host))
    } else if pid_alive(&run.pid) {
        Some(format!("pid {} still running", run.pid))
    } else {
        None
    }
}

/// Says what will be removed, then (unless a dry run) removes it: the objects of every dead run
/// (its firedrill process is gone from this host), or of every run with `--all`. Returns how
/// many runs were cleaned; `cleaned` holds what was found and done, `say` each step as a line.
async fn clean_runs(
    args: &CleanArgs,
    cleaned: &mut Cleaned,
    say: impl Fn(String),
) -> Result<usize, engine::EngineError> {
    let docker = engine::connect().await?;
    let this_host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut plan = Vec::new();
    let runs = engine::list_runs(&docker).await?;
    for id in &args.runs {
        if !runs.iter().any(|r| &r.run_id == id) {
            say(format!("no run {id} in the docker engine"));
            cleaned.not_found.push(id.clone());
        }
    }
    for run in runs {
        if !args.runs.is_empty() && !args.runs.contains(&run.run_id) {
            continue;
        }
        let found = &run.objects;
        let what = format!(
            "run {} (scenario {}, pid {} on {}): {} container(s), {} network(s), {} volume(s)",
            run.run_id,
            run.scenario,
            run.pid,
            run.host,
            found.containers.len(),
            found.networks.len(),
            found.volumes.len()
        );
        let live = alive(&run, &this_host);
        let action = match &live {
            Some(why) if !args.all => {
                say(format!(
                    "kept run {}: {why} (use --all to remove it anyway)",
                    run.run_id
                ));
                "kept"
            }
            Some(why) => {
                say(format!("will remove {what}, although {why}"));
                "would remove"
            }
            None => {
                say(format!("will remove {what}"));
                "would remove"
            }
        };
        cleaned.runs.push(RunCleaned {
            run_id: run.run_id.clone(),
            scenario: run.scenario.clone(),
            pid: run.pid.clone(),
            host: run.host.clone(),
            action,
            live,
            objects: run.objects.clone(),
        });
        if action != "kept" {
            plan.push(cleaned.runs.len() - 1);
        }
    }
    if args.dry_run {
        say("dry run: nothing removed".to_owned());
        return Ok(0);
    }
    for &i in &plan {
        let entry = &mut cleaned.runs[i];
        let removed = match engine::remove_run(&docker, &entry.run_id).await {
            Ok(removed) => removed,
            Err(e) => {
                entry.action = "failed";
                return Err(e);
            }
        };
        say(format!(
            "removed run {}: {} container(s), {} network(s), {} volume(s)",
            entry.run_id,
            removed.containers.len(),
            removed.networks.len(),
            removed.volumes.len()
        ));
        entry.action = "removed";
        entry.objects = removed;
    }
    Ok(plan.len())
}

fn pid_alive(pid: &str) -> bool {
    !pid.is_empty() && std::path::Path::new("/proc").join(pid).exists()
}
