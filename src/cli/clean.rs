use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use firedrill::engine::{self, RunInfo};

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
}

pub async fn clean(args: CleanArgs) -> u8 {
    match clean_runs(&args).await {
        Ok(0) if args.dry_run => EXIT_PASSED,
        Ok(0) => {
            println!("nothing to clean");
            EXIT_PASSED
        }
        Ok(n) => {
            println!("removed the objects of {n} run(s)");
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
/// many runs were cleaned.
async fn clean_runs(args: &CleanArgs) -> Result<usize, engine::EngineError> {
    let docker = engine::connect().await?;
    let this_host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut plan = Vec::new();
    let runs = engine::list_runs(&docker).await?;
    for id in &args.runs {
        if !runs.iter().any(|r| &r.run_id == id) {
            println!("no run {id} in the docker engine");
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
        match alive(&run, &this_host) {
            Some(why) if !args.all => {
                println!(
                    "kept run {}: {why} (use --all to remove it anyway)",
                    run.run_id
                );
            }
            Some(why) => {
                println!("will remove {what}, although {why}");
                plan.push(run);
            }
            None => {
                println!("will remove {what}");
                plan.push(run);
            }
        }
    }
    if args.dry_run {
        println!("dry run: nothing removed");
        return Ok(0);
    }
    for run in &plan {
        let removed = engine::remove_run(&docker, &run.run_id).await?;
        println!(
            "removed run {}: {} container(s), {} network(s), {} volume(s)",
            run.run_id,
            removed.containers.len(),
            removed.networks.len(),
            removed.volumes.len()
        );
    }
    Ok(plan.len())
}

fn pid_alive(pid: &str) -> bool {
    !pid.is_empty() && std::path::Path::new("/proc").join(pid).exists()
}
