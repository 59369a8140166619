use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use firedrill::engine;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Remove every firedrill object, including those of runs that may still be alive.
    #[arg(long)]
    all: bool,
}

pub async fn clean(args: CleanArgs) -> u8 {
    match clean_runs(args.all).await {
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

/// Removes the objects of every dead run (its firedrill process is gone from this host), or of
/// every run with `all`. Returns how many runs were cleaned.
async fn clean_runs(all: bool) -> Result<usize, engine::EngineError> {
    let docker = engine::connect().await?;
    let runs = engine::list_runs(&docker).await?;
    let this_host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut cleaned = 0;
    let mut kept: BTreeMap<String, String> = BTreeMap::new();
    for run in runs {
        let alive = run.host == this_host && pid_alive(&run.pid);
        if alive && !all {
            kept.insert(run.run_id.clone(), format!("pid {} still running", run.pid));
            continue;
        }
        if run.host != this_host && !all {
            kept.insert(run.run_id.clone(), format!("started on host {}", run.host));
            continue;
        }
        let removed = engine::remove_run(&docker, &run.run_id).await?;
        println!(
            "removed run {}: {} container(s), {} network(s), {} volume(s)",
            run.run_id,
            removed.containers.len(),
            removed.networks.len(),
            removed.volumes.len()
        );
        cleaned += 1;
    }
    for (run, why) in kept {
        println!("kept run {run}: {why} (use --all to remove it anyway)");
    }
    Ok(cleaned)
}

fn pid_alive(pid: &str) -> bool {
    std::path::Path::new("/proc").join(pid).exists()
}
