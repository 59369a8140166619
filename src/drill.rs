//! Runs a scenario: image, bring-up, workload, faults, recovery, read-back, teardown; returns
//! the record. Teardown runs on every path: success, failure, error, interruption, panic.

use crate::check;

use crate::engine::{self, EngineError, RunLabels};
use crate::fault::{self, FaultError};
use crate::history::{At, Clock, Event, History};
use crate::image::{self, ImageError};
use crate::observe;
use crate::progress::{DrillEvent, Progress, Step};
use crate::record::{Environment, RECORD_FORMAT, RunRecord, Timings};
use crate::scenario::Scenario;
use crate::step::{self, StepRunError};
use crate::topology::{Cluster, TopologyError};
use crate::workload;
use bollard::Docker;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Bound on removing a run's objects: an engine that hangs must not hold the command line.
const TEARDOWN_WITHIN: Duration = Duration::from_secs(120);
/// Bound on asking the engine whether it still answers, after a failed teardown.
const PING_WITHIN: Duration = Duration::from_secs(5);
/// Bound on reading the environment (versions) and the nodes' logs after the drill: a hung
/// engine leaves them empty rather than hold the run.
const AFTER_DRILL_WITHIN: Duration = Duration::from_secs(30);
/// The last lines of each node's output kept in the record. A node that restarts refuses the
/// replication probe's connection every tick until it is consistent, two log lines each (seen:
/// 312 of a restarted old primary's last 400, pushing its pg_rewind out of them); the whole of
/// a drill's log is a few hundred lines otherwise.
const LOG_TAIL: usize = 2000;
/// Slack over the scenario's bring-up bound for the whole of bring-up (creating the network,
/// disks and containers as well as the readiness wait, which the bound itself limits).
const BRING_UP_SLACK: Duration = Duration::from_secs(5);

/// How a drill is run, beyond what the scenario says.
#[derive(Clone, Debug)]
pub struct DrillOptions {
    /// Run this image instead of firedrill's base image.
    pub image: Option<String>,
    /// Cadence of the role probes.
    pub probe_interval: Duration,
    /// Seed of the random choices of targets (`replica:random`...); random when `None`. The
    /// seed used is in the record: passing it again repeats the same choices.
    pub seed: Option<u64>,
    pub progress: Progress,
}

impl Default for DrillOptions {
    fn default() -> Self {
        DrillOptions {
            image: None,
            probe_interval: crate::history::DEFAULT_PROBE_INTERVAL,
            seed: None,
            progress: Progress::default(),
        }
    }
}

/// Why a drill could not run (exit code 2). An objective that failed is not an error: it is in
/// the record's verdict.
#[derive(Debug, Error)]
pub enum DrillError {
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Topology(#[from] TopologyError),
    #[error(transparent)]
    Fault(#[from] FaultError),
    #[error(transparent)]
    Step(#[from] StepRunError),
    #[error(
        "bring-up did not finish within {} (the [bounds] bring_up bound): the docker engine did not answer",
        humantime::format_duration(*.bound)
    )]
    BringUpStuck { bound: Duration },
    #[error("interrupted{}", if *.removed { "; everything the run created was removed" } else { "" })]
    Interrupted { removed: bool },
    #[error("internal error (panic): {0}")]
    Panicked(String),
    #[error("the docker engine stopped answering during the run: {0}")]
    EngineGone(Box<DrillError>),
    #[error(
        "could not remove everything run {run_id} created: {source}; remove it with `firedrill clean --run {run_id}` (once the docker engine answers)"
    )]
    TeardownFailed {
        run_id: String,
        #[source]
        source: EngineError,
    },
    #[error(
        "removing run {run_id} did not finish within {}; remove it with `firedrill clean --run {run_id}` once the docker engine answers",
        humantime::format_duration(*.bound)
    )]
    TeardownStuck { run_id: String, bound: Duration },
    #[error("{error}; then {teardown}")]
    Teardown {
        error: Box<DrillError>,
        teardown: Box<DrillError>,
    },
}

/// Loads a scenario file and runs it with default options: the few lines a team's own test needs.
///
/// ```no_run
/// # async fn drill() -> Result<(), firedrill::DrillError> {
/// let record = firedrill::run_file("scenarios/patroni-primary-crash.toml").await?;
/// assert!(record.passed(), "{}", firedrill::report::table(&record));
/// # Ok(()) }
/// ```
pub async fn run_file(path: impl AsRef<std::path::Path>) -> Result<RunRecord, DrillError> {
    let scenario = crate::scenario::load(path.as_ref())?;
    run(&scenario, &DrillOptions::default()).await
}

/// Runs the scenario to completion.
pub async fn run(scenario: &Scenario, options: &DrillOptions) -> Result<RunRecord, DrillError> {
    run_until(scenario, options, std::future::pending()).await
}

/// Runs the scenario until it completes or `interrupt` resolves; tears everything down either
/// way before returning.
pub async fn run_until(
    scenario: &Scenario,
    options: &DrillOptions,
    interrupt: impl Future<Output = ()>,
) -> Result<RunRecord, DrillError> {
    let started = Instant::now();
    let mut interrupt = std::pin::pin!(interrupt);
    let docker = engine::connect().await?;
    // An image build takes minutes: an interruption ends it too (its mmdebstrap is killed).
    let image = tokio::select! {
        image = resolve_image(&docker, scenario, options) => image?,
        _ = &mut interrupt => return Err(DrillError::Interrupted { removed: true }),
    };
    let labels = RunLabels {
        run_id: format!("fd-{:08x}", rand::random::<u32>()),
        scenario: scenario.name.clone(),
    };
    let drill = AssertUnwindSafe(drill(
        &docker, scenario, options, &image.0, image.1, &labels,
    ))
    .catch_unwind();
    let result = tokio::select! {
        outcome = drill => outcome.unwrap_or_else(|panic| Err(DrillError::Panicked(panic_text(panic)))),
        _ = &mut interrupt => Err(DrillError::Interrupted { removed: false }),
    };
    // The caller's progress callback must not keep the teardown from running.
    let say = |event: &dyn Fn(&Progress)| {
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| event(&options.progress)));
    };
    let step = Step::Teardown {
        run_id: labels.run_id.clone(),
    };
    say(&|p| p.send(DrillEvent::Began { step: step.clone() }));
    let teardown_started = Instant::now();
    let teardown =
        match tokio::time::timeout(TEARDOWN_WITHIN, engine::remove_run(&docker, &labels.run_id))
            .await
        {
            Ok(removed) => removed
                .map(|_| ())
                .map_err(|source| DrillError::TeardownFailed {
                    run_id: labels.run_id.clone(),
                    source,
                }),
            Err(_) => Err(DrillError::TeardownStuck {
                run_id: labels.run_id.clone(),
                bound: TEARDOWN_WITHIN,
            }),
        };
    say(&|p| {
        p.send(DrillEvent::Ended {
            step: step.clone(),
            took: teardown_started.elapsed(),
        })
    });
    match (result, teardown) {
        (Ok(mut record), teardown) => {
            record.timings.wall = started.elapsed();
            // The drill was measured: keep the record, with the teardown's failure as a problem.
            if let Err(teardown) = teardown {
                record.problems.push(teardown.to_string());
            }
            Ok(record)
        }
        (Err(DrillError::Interrupted { .. }), Ok(_)) => {
            Err(DrillError::Interrupted { removed: true })
        }
        (Err(error), Ok(_)) => Err(error),
        (Err(error), Err(teardown)) => {
            // An error because the engine went away says so: the rest is its symptom.
            let engine_gone = !matches!(
                tokio::time::timeout(PING_WITHIN, docker.ping()).await,
                Ok(Ok(_))
            );
            let error = if engine_gone {
                DrillError::EngineGone(Box::new(error))
            } else {
                error
            };
            Err(DrillError::Teardown {
                error: Box::new(error),
                teardown: Box::new(teardown),
            })
        }
    }
}

/// The image the run uses: `--image` (the options') over the scenario's `image` key over
/// firedrill's base image (built if missing). A named image must already be in the engine.
async fn resolve_image(
    docker: &Docker,
    scenario: &Scenario,
    options: &DrillOptions,
) -> Result<(image::ImageRef, image::ImageSource), DrillError> {
    let named = match (&options.image, &scenario.image) {
        (Some(name), _) => Some((name, image::ImageSource::Option)),
        (None, Some(name)) => Some((name, image::ImageSource::Scenario)),
        (None, None) => None,
    };
    match named {
        Some((name, from)) => {
            let id = image::image_id(docker, name)
                .await?
                .ok_or_else(|| ImageError::Missing {
                    name: name.clone(),
                    from,
                })?;
            let image = image::ImageRef {
                tag: name.clone(),
                id,
                built: false,
            };
            Ok((image, from))
        }
        None => Ok((
            image::ensure(docker, &image::base_recipe(), &options.progress).await?,
            image::ImageSource::Base,
        )),
    }
}

async fn drill(
    docker: &Docker,
    scenario: &Scenario,
    options: &DrillOptions,
    image: &image::ImageRef,
    image_from: image::ImageSource,
    labels: &RunLabels,
) -> Result<RunRecord, DrillError> {
    let progress = &options.progress;
    let bring_up = scenario.bounds.bring_up;
    let cluster = Arc::new(
        tokio::time::timeout(
            bring_up + BRING_UP_SLACK,
            Cluster::up(docker, scenario, &image.tag, labels, bring_up, progress),
        )
        .await
        .map_err(|_| DrillError::BringUpStuck { bound: bring_up })??,
    );
    let client = cluster.protocol.client();
    workload::prepare(client.as_ref(), &cluster).await?;
    fault::preflight(&cluster, &scenario.faults).await?;
    let seed = options.seed.unwrap_or_else(rand::random);
    progress.send(DrillEvent::Seed { seed });

    let w = &scenario.workload;
    let step = Step::Drill {
        scenario: scenario.name.clone(),
        duration: scenario.duration,
        rate: w.rate,
        reads: (w.readers > 0).then(|| (w.read_rate, w.read_through.name().to_string())),
    };
    progress.send(DrillEvent::Began { step: step.clone() });
    let drill_started = Instant::now();
    let clock = Clock::start();
    let history_started =
        humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<Event>();
    let stop_probes = CancellationToken::new();
    let probes = tokio::spawn(observe::probe_all(
        cluster.clone(),
        clock,
        options.probe_interval,
        events_tx.clone(),
        stop_probes.clone(),
    ));
    // Dropping the guard (on error or interruption) stops the probes and writers.
    let _stop_on_exit = stop_probes.clone().drop_guard();
    let acked = Arc::new(workload::Acknowledged::default());
    let writes = AbortOnDrop(tokio::spawn(workload::run_writes(
        client.clone(),
        cluster.clone(),
        scenario.workload.clone(),
        clock,
        workload::Until::at(At::from_duration(scenario.duration)),
        events_tx.clone(),
        1,
        acked.clone(),
    )));
    // Without readers this returns at once.
    let reads = AbortOnDrop(tokio::spawn(workload::run_reads(
        client.clone(),
        cluster.clone(),
        scenario.workload.clone(),
        clock,
        workload::Until::at(At::from_duration(scenario.duration)),
        events_tx.clone(),
        acked,
    )));

    // A fault that could not be injected leaves a drill that proves nothing: it is an error.
    // Steps run beside the faults, on the same clock; a failed step is an outcome, recorded.
    let resolver = fault::Resolver::new(&cluster, &scenario.groups, seed);
    let ((), steps) = tokio::try_join!(
        async {
            run_faults(&cluster, &resolver, scenario, clock, &events_tx, progress)
                .await
                .map_err(DrillError::from)
        },
        async {
            run_steps(&cluster, scenario, clock, &events_tx, progress)
                .await
                .map_err(DrillError::from)
        },
    )?;
    let mut problems = Vec::new();
    // A task that panicked leaves a history with a hole: the drill is an error, not a result.
    joined(writes.wait().await)?;
    joined(reads.wait().await)?;
    progress.send(DrillEvent::WorkloadDone);
    let bounds = &scenario.bounds;
    // A cluster lost and not restored has nothing to read back: the failed restore is the
    // drill's outcome (its objectives judge it), not trouble of the harness.
    let restore_failed = steps
        .iter()
        .rev()
        .find(|s| s.action == step::RESTORE)
        .is_some_and(|s| s.outcome != crate::history::StepOutcome::Done);
    let read_back = if restore_failed {
        progress.send(DrillEvent::Note {
            text: "no read-back: the restore failed, no cluster to read back from".into(),
        });
        None
    } else {
        Some(
            workload::read_back(
                client.as_ref(),
                &cluster,
                clock,
                bounds.recovery,
                bounds.read_back,
            )
            .await,
        )
    };
    match read_back {
        None => {}
        Some(Ok(read_back)) => {
            progress.send(DrillEvent::ReadBack {
                rows: read_back.present.len(),
                node: read_back.node.clone(),
            });
            let _ = events_tx.send(Event::ReadBack(read_back));
        }
        Some(Err(e)) => problems.push(e.to_string()),
    }
    stop_probes.cancel();
    joined(probes.await)?;
    let drill_took = drill_started.elapsed();
    progress.send(DrillEvent::Ended {
        step,
        took: drill_took,
    });
    drop(events_tx);

    let mut events = Vec::new();
    while let Some(event) = events_rx.recv().await {
        events.push(event);
    }
    let mut history = History::new(history_started);
    history.probe_interval = Some(options.probe_interval);
    history.extend(events);

    // Read from the engine after the drill: bounded, empty if it does not answer in time.
    let (versions, packages, docker_version, logs) =
        tokio::time::timeout(AFTER_DRILL_WITHIN, async {
            tokio::join!(
                cluster.versions(),
                cluster.packages(),
                docker.version(),
                cluster.logs(LOG_TAIL)
            )
        })
        .await
        .map(|(versions, packages, docker_version, logs)| {
            let docker_version = docker_version.ok().and_then(|v| v.version);
            (versions, packages, docker_version.unwrap_or_default(), logs)
        })
        .unwrap_or_default();
    let environment = Environment {
        firedrill: env!("CARGO_PKG_VERSION").to_string(),
        image: image.tag.clone(),
        image_id: image.id.clone(),
        image_from: Some(image_from),
        versions,
        packages_sha256: (!packages.is_empty()).then(|| image::packages_sha256(&packages)),
        packages,
        config_digests: cluster.config_digests.clone(),
        host_os: host_os(),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        docker: docker_version,
    };
    let measurements = check::measure(&history);
    let verdict = check::judge(&scenario.objectives, &measurements);
    // What the measurements show went wrong with the run itself (the harness throttled its own
    // load, failed writes found committed) keeps it from passing.
    problems.extend(measurements.problems());
    Ok(RunRecord {
        format: RECORD_FORMAT,
        run_id: labels.run_id.clone(),
        seed,
        scenario: scenario.clone(),
        environment,
        timings: Timings {
            bring_up: cluster.bring_up,
            drill: drill_took,
            wall: Duration::ZERO,
            initial_leader: cluster.initial_leader.clone(),
        },
        history,
        measurements,
        verdict,
        problems,
        game_day: None,
        logs,
    })
}

/// Fires every fault at its instant, heals those with a duration, in schedule order. Faults
/// the scenario schedules at the same instant start together: their injections (and heals due
/// at one instant) run concurrently, so none gets a head start of the others' duration.
async fn run_faults(
    cluster: &Cluster,
    resolver: &fault::Resolver<'_>,
    scenario: &Scenario,
    clock: Clock,
    events: &mpsc::UnboundedSender<Event>,
    progress: &Progress,
) -> Result<(), FaultError> {
    // Actions in time order: (instant, is_heal, fault index). At one instant heals come first:
    // a fault ending as another starts frees its nodes before they are hit again.
    let mut actions: Vec<(Duration, bool, usize)> = Vec::new();
    for (i, f) in scenario.faults.iter().enumerate() {
        actions.push((f.at, false, i));
        if let Some(d) = f.duration {
            actions.push((f.at + d, true, i));
        }
    }
    actions.sort_by_key(|&(when, is_heal, i)| (when, !is_heal, i));
    let mut hit: Vec<Vec<crate::topology::Node>> = vec![Vec::new(); scenario.faults.len()];
    let bound = scenario.bounds.fault;
    let timed_out = |i: usize, action: &str| FaultError::Timeout {
        fault: i + 1,
        kind: scenario.faults[i].kind.name().to_string(),
        action: action.to_string(),
        bound,
    };
    for group in actions.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (when, is_heal, _) = group[0];
        tokio::time::sleep_until(clock.instant(At::from_duration(when))).await;
        let faults = group.iter().map(|&(_, _, i)| i);
        if is_heal {
            let heals = faults.map(|i| {
                let healing = fault::heal(cluster, i, &scenario.faults[i], &hit[i], clock);
                async move { (i, tokio::time::timeout(bound, healing).await) }
            });
            let mut failed = None;
            for (i, healed) in futures_util::future::join_all(heals).await {
                match healed.map_err(|_| timed_out(i, "healed")).and_then(|r| r) {
                    Ok(event) => {
                        progress.send(DrillEvent::fault(&event));
                        let _ = events.send(Event::Fault(event));
                    }
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
            // Every action that took place is recorded before the first failure ends the drill.
            if let Some(e) = failed {
                return Err(e);
            }
        } else {
            let injections = faults.map(|i| {
                let injecting = fault::inject(cluster, resolver, i, &scenario.faults[i], clock);
                async move { (i, tokio::time::timeout(bound, injecting).await) }
            });
            let mut failed = None;
            for (i, injected) in futures_util::future::join_all(injections).await {
                match injected
                    .map_err(|_| timed_out(i, "injected"))
                    .and_then(|r| r)
                {
                    Ok((nodes, event)) => {
                        progress.send(DrillEvent::fault(&event));
                        let _ = events.send(Event::Fault(event));
                        hit[i] = nodes;
                    }
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Runs the scenario's steps one after another, each when due (`step::in_order`), and records
/// each whatever its outcome. Only harness trouble ends the drill.
async fn run_steps(
    cluster: &Cluster,
    scenario: &Scenario,
    clock: Clock,
    events: &mpsc::UnboundedSender<Event>,
    progress: &Progress,
) -> Result<Vec<crate::history::StepEvent>, StepRunError> {
    // what ran before each step, for actions that build on an earlier one (a restore on its
    // target)
    let ran = std::sync::Mutex::new(Vec::new());
    step::in_order(&scenario.steps, clock, |i| {
        let ran = &ran;
        async move {
            let earlier = ran.lock().expect("steps lock").clone();
            let event = step::run(
                cluster,
                i,
                &scenario.steps[i],
                &earlier,
                clock,
                (&scenario.topology, &scenario.bounds),
            )
            .await?;
            progress.send(DrillEvent::step(&event));
            let _ = events.send(Event::Step(event.clone()));
            ran.lock().expect("steps lock").push(event);
            Ok(())
        }
    })
    .await?;
    Ok(ran.into_inner().expect("steps lock"))
}

/// A task aborted when its handle is dropped (on error or interruption).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn wait(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A spawned task's outcome: its panic, if it panicked, becomes the drill's error.
fn joined<T>(outcome: Result<T, tokio::task::JoinError>) -> Result<T, DrillError> {
    outcome.map_err(|e| match e.try_into_panic() {
        Ok(panic) => DrillError::Panicked(panic_text(panic)),
        Err(e) => DrillError::Panicked(format!("a task ended early: {e}")),
    })
}

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn host_os() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_is_the_drill_s_error() {
        fn writer() {
            panic!("writer 3 found seq 7 twice");
        }
        let task = AbortOnDrop(tokio::spawn(async { writer() }));
        let error = joined(task.wait().await).unwrap_err();
        assert_eq!(
            error.to_string(),
            "internal error (panic): writer 3 found seq 7 twice"
        );
        let fine = AbortOnDrop(tokio::spawn(async { 42 }));
        assert_eq!(joined(fine.wait().await).unwrap(), 42);
    }
}
