//! Bring-up, firedrill against compose, side by side: the default scenario's stack brought up
//! `FIREDRILL_BENCH_RUNS` times each way (default 5), alternating, to the same readiness
//! conditions (one Patroni leader, every replica streaming, HAProxy routing to the leader), and
//! removed after each. Prints every run, both medians and their ratio. A benchmark, not a
//! test: it needs Docker and a compose tool (`docker-compose` or `docker compose`), builds the
//! base image if missing, and asserts nothing about speed.
//!
//! firedrill is timed as a drill records it (`timings.bring_up`: its first container created
//! to ready) and as a whole (`Cluster::up`, with the network and the disks); compose from `up
//! -d` to ready, which creates its network and volumes too.
//!
//! `cargo bench --bench bring_up`

mod common;

use common::median;
use firedrill::engine::RunLabels;
use firedrill::progress::Progress;
use firedrill::topology::{Cluster, compose};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const READY_WITHIN: Duration = Duration::from_secs(120);

/// The compose tool: `docker-compose`, or the `docker compose` plugin.
fn compose_tool() -> Option<Vec<&'static str>> {
    let works = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    [vec!["docker-compose"], vec!["docker", "compose"]]
        .into_iter()
        .find(|tool| works(tool))
}

fn compose(tool: &[&str], file: &Path, project: &str, args: &[&str]) {
    let out = Command::new(tool[0])
        .args(&tool[1..])
        .arg("-f")
        .arg(file)
        .args(["-p", project])
        .args(args)
        .output()
        .expect("the compose tool runs");
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        tool.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    let runs: usize = std::env::var("FIREDRILL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let Some(tool) = compose_tool() else {
        eprintln!("bring_up: no compose tool (docker-compose or docker compose): nothing measured");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let docker = rt
        .block_on(firedrill::engine::connect())
        .expect("a docker engine");
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/patroni-primary-crash.toml");
    let scenario = firedrill::scenario::load(&path).expect("the default scenario loads");
    let image = rt
        .block_on(firedrill::image::ensure(
            &docker,
            &firedrill::image::base_recipe(),
            &Progress::default(),
        ))
        .expect("the base image");
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("docker-compose.yml");
    let export = compose::export(&scenario, &image.tag).expect("the export");
    let written = compose::write(&export, &file).expect("the export is written");

    let (mut firedrill_first, mut firedrill_whole, mut by_compose) = (vec![], vec![], vec![]);
    for k in 0..runs {
        // firedrill
        let labels = RunLabels {
            run_id: format!("fd-{:08x}", rand::random::<u32>()),
            scenario: format!("bench-bring-up-{k}"),
        };
        let started = Instant::now();
        let up = rt.block_on(Cluster::up(
            &docker,
            &scenario,
            &image.tag,
            &labels,
            READY_WITHIN,
            &Progress::default(),
        ));
        let whole = started.elapsed();
        rt.block_on(firedrill::engine::remove_run(&docker, &labels.run_id))
            .expect("the run is removed");
        let cluster = up.expect("firedrill brings the stack up");
        firedrill_first.push(cluster.bring_up.as_secs_f64());
        firedrill_whole.push(whole.as_secs_f64());

        // compose
        let project = format!("fdbench{:08x}", rand::random::<u32>());
        let started = Instant::now();
        compose(&tool, &file, &project, &["up", "-d"]);
        let ready = rt.block_on(async {
            let secrets = compose::read_secrets(&written.env).map_err(|e| e.to_string())?;
            let cluster = compose::attach(&docker, &project, &scenario, secrets)
                .await
                .map_err(|e| e.to_string())?;
            compose::ready(&cluster, &scenario, READY_WITHIN, &Progress::default())
                .await
                .map_err(|e| e.to_string())
        });
        let took = started.elapsed();
        compose(&tool, &file, &project, &["down", "-v", "--remove-orphans"]);
        ready.expect("the compose stack comes ready");
        by_compose.push(took.as_secs_f64());
        println!(
            "run {}: firedrill {:.2}s (first container to ready; {:.2}s in all), {} {:.2}s",
            k + 1,
            firedrill_first[k],
            firedrill_whole[k],
            tool.join(" "),
            by_compose[k]
        );
    }
    let (first, whole, other) = (
        median(firedrill_first),
        median(firedrill_whole),
        median(by_compose),
    );
    println!(
        "median of {runs}: firedrill {first:.2}s (first container to ready), {whole:.2}s in all; {} {other:.2}s; ratio firedrill/compose {:.2} ({:.2} in all)",
        tool.join(" "),
        first / other,
        whole / other
    );
}
