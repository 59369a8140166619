//! Runs a scenario: image, bring-up, workload, faults, recovery, read-back, teardown; returns
//! the record. Teardown runs on every path: success, failure, error, interruption, panic.

mod faults;
mod game_day;
mod settle;

pub use game_day::{GameDayOptions, LiveSession};

use crate::check;

use crate::engine::{self, EngineError, RunLabels};
use crate::fault::{self, FaultError};
use crate::history::{Clock, Event, History};
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
use tracing::Instrument;

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
/// disks and containers as well as the readiness wait, which the bound itself limits). Only an
/// engine that stopped answering should use it up: creating a stack's containers took more
/// than 5 s on 2 busy cores, which turned a "not ready after" into this error.
const BRING_UP_SLACK: Duration = Duration::from_secs(30);

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
    #[error("game-day session: {0}")]
    Session(String),
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

/// Loads a scenario file (or, where no file has that name, the shipped scenario of that name)
/// and runs it with default options: the few lines a team's own test needs.
///
/// ```no_run
/// # async fn drill() -> Result<(), firedrill::DrillError> {
/// let record = firedrill::run_file("drills/our-primary-crash.toml").await?;
/// assert!(record.passed(), "{}", firedrill::report::table(&record));
/// let record = firedrill::run_file("patroni-network-split").await?; // a shipped one
/// assert!(record.passed(), "{}", firedrill::report::table(&record));
/// # Ok(()) }
/// ```
pub async fn run_file(path: impl AsRef<std::path::Path>) -> Result<RunRecord, DrillError> {
    let scenario = crate::scenario::open(path.as_ref())?;
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
    run_with(scenario, options, interrupt, None).await
}

/// What a game day returns: its record, and the `down` command waiting for the verdict (the
/// caller writes the reports first, then answers it with [`DownReply::send`]).
pub struct GameDayEnd {
    pub record: RunRecord,
    pub down: Option<DownReply>,
}

/// The `down` command that ended a game day, waiting for its answer.
pub struct DownReply(crate::live::Reply);

impl DownReply {
    /// Tells `down` the verdict as `up` printed it, where the reports are, and the exit code;
    /// returns once it is written to `down` (or after a few seconds if it cannot be).
    pub async fn send(self, summary: String, reports: Option<String>, exit: u8) {
        let answer = crate::live::Answer::Down {
            summary,
            reports,
            exit,
        };
        self.0.deliver(answer, Duration::from_secs(5)).await;
    }
}

/// Runs a game day: brings the scenario's topology up, starts its workload, probes and
/// schedule, then serves the session's commands (`status`, `inject`, `heal`, `note`) until
/// `down` or `day.stop`; then as a scripted drill ends: heals what is in effect, reads back,
/// judges, tears down.
pub async fn game_day(
    scenario: &Scenario,
    options: &DrillOptions,
    day: GameDayOptions,
) -> Result<GameDayEnd, DrillError> {
    let live = std::sync::atomic::AtomicBool::new(false);
    // Before the session is live, stopping interrupts the bring-up; after, the drill ends it.
    let interrupt = async {
        day.stop.cancelled().await;
        if live.load(std::sync::atomic::Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    };
    let session = GameDayRun {
        options: &day,
        live: &live,
        down: std::sync::Mutex::new(None),
    };
    let result = run_with(scenario, options, interrupt, Some(&session)).await;
    let down = session.down.into_inner().expect("down lock").map(DownReply);
    match result {
        Ok(record) => Ok(GameDayEnd { record, down }),
        Err(e) => {
            if let Some(DownReply(down)) = down {
                let answer = crate::live::Answer::Refused {
                    error: format!("the game day could not finish: {e}"),
                };
                down.deliver(answer, Duration::from_secs(5)).await;
            }
            Err(e)
        }
    }
}

/// A game day as the drill runs it.
struct GameDayRun<'a> {
    options: &'a GameDayOptions,
    /// Set once the session answers commands.
    live: &'a std::sync::atomic::AtomicBool,
    /// The `down` that ended it.
    down: std::sync::Mutex<Option<crate::live::Reply>>,
}

async fn run_with(
    scenario: &Scenario,
    options: &DrillOptions,
    interrupt: impl Future<Output = ()>,
    day: Option<&GameDayRun<'_>>,
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
    // A library user's subscriber sees every event of the run under its id.
    let span = tracing::info_span!("drill", run_id = %labels.run_id, scenario = %scenario.name);
    let drill = AssertUnwindSafe(
        drill(&docker, scenario, options, &image.0, image.1, &labels, day).instrument(span.clone()),
    )
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
            .instrument(span)
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
    // The application servers' own image, if named, must be there too: before anything starts.
    if let Some(name) = crate::topology::kinds::app::settings(&scenario.topology)
        .and_then(|tier| tier.image.as_ref())
        && image::image_id(docker, name).await?.is_none()
    {
        return Err(ImageError::Missing {
            name: name.clone(),
            from: image::ImageSource::AppServers,
        }
        .into());
    }
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
    day: Option<&GameDayRun<'_>>,
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
    let reads = (w.readers > 0).then(|| (w.read_rate, w.read_through.name().to_string()));
    let step = match day {
        None => Step::Drill {
            scenario: scenario.name.clone(),
            duration: scenario.duration,
            rate: w.rate,
            reads,
        },
        Some(_) => Step::GameDay {
            scenario: scenario.name.clone(),
            rate: w.rate,
            reads,
        },
    };
    progress.send(DrillEvent::Began { step: step.clone() });
    let drill_started = Instant::now();
    let clock = Clock::start();
    let history_started =
        humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<Event>();
    // Every event is kept for the history; on a game day the live view sees each as it comes.
    let view = day.map(|_| {
        Arc::new(std::sync::Mutex::new(crate::live::LiveView::new(
            Duration::from_secs(1) / w.rate.max(1),
        )))
    });
    let failures = Arc::new(settle::FailureWatch::default());
    let collector = {
        let view = view.clone();
        let failures = failures.clone();
        AbortOnDrop(tokio::spawn(
            async move {
                let mut events = Vec::new();
                while let Some(event) = events_rx.recv().await {
                    failures.see(&event);
                    if let Some(view) = &view {
                        view.lock().expect("live view lock").record(&event);
                    }
                    events.push(event);
                }
                events
            }
            .in_current_span(),
        ))
    };
    // The workload stops at the scenario's end (later while a recovery in its last seconds is
    // unconfirmed: `settle`), or on a game day when the session ends. On a game day the
    // caller's stop (Ctrl-C on `up`) ends the session as `down` does.
    let stop = match day {
        Some(day) => day.options.stop.child_token(),
        None => CancellationToken::new(),
    };
    let (workload_end, _settle) = match day {
        None => {
            let end = CancellationToken::new();
            let settling = settle::end_workload(
                clock,
                scenario.duration,
                failures.clone(),
                Duration::from_secs(1) / w.rate.max(1),
                end.clone(),
            );
            (
                end,
                Some(AbortOnDrop(tokio::spawn(settling.in_current_span()))),
            )
        }
        Some(_) => (stop.clone(), None),
    };
    let stop_probes = CancellationToken::new();
    // Spawned tasks run in the run's span too (a library user's subscriber names the run).
    let probes = tokio::spawn(
        observe::probe_all(
            cluster.clone(),
            clock,
            options.probe_interval,
            events_tx.clone(),
            stop_probes.clone(),
        )
        .in_current_span(),
    );
    // Dropping the guard (on error or interruption) stops the probes and writers.
    let _stop_on_exit = stop_probes.clone().drop_guard();
    let acked = Arc::new(workload::Acknowledged::default());
    let writes = AbortOnDrop(tokio::spawn(
        workload::run_writes(
            workload::write_client(w.through, &scenario.topology, client.clone()),
            cluster.clone(),
            scenario.workload.clone(),
            clock,
            workload_end.clone(),
            events_tx.clone(),
            1,
            acked.clone(),
        )
        .in_current_span(),
    ));
    // Without readers this returns at once.
    let reads = AbortOnDrop(tokio::spawn(
        workload::run_reads(
            workload::read_client(w.read_through, &scenario.topology, client.clone()),
            cluster.clone(),
            scenario.workload.clone(),
            clock,
            workload_end.clone(),
            events_tx.clone(),
            acked,
        )
        .in_current_span(),
    ));

    // A fault that could not be injected leaves a drill that proves nothing: it is an error.
    // Steps run beside the faults, on the same clock; a failed step is an outcome, recorded.
    let resolver = fault::Resolver::new(&cluster, &scenario.groups, seed);
    let book = faults::FaultBook::new(&scenario.faults);
    let sink = || faults::Sink {
        events: &events_tx,
        progress,
    };
    let schedule = async {
        let ran = faults::run_schedule(
            (&cluster, &resolver, &book),
            scenario,
            clock,
            &stop,
            &sink(),
        )
        .await;
        // on a game day a scheduled fault that fails ends the session, as it ends a drill
        if ran.is_err() {
            stop.cancel();
        }
        ran.map_err(DrillError::from)
    };
    let steps = async {
        run_steps(&cluster, scenario, clock, &events_tx, progress, &stop)
            .await
            .map_err(DrillError::from)
    };
    let (steps, ended) = match day {
        None => {
            let ((), steps) = tokio::try_join!(schedule, steps)?;
            (steps, None)
        }
        Some(day) => {
            let live = game_day::Live {
                cluster: &cluster,
                resolver: &resolver,
                book: &book,
                scenario,
                clock,
                view: view.clone().expect("a game day has a live view"),
                sink: sink(),
            };
            let session = async {
                let ended = serve_session(&cluster, scenario, &live, day, &stop).await;
                stop.cancel();
                ended
            };
            let (ended, scheduled, steps) = tokio::join!(session, schedule, steps);
            let ended = ended?;
            scheduled?;
            let steps = steps?;
            (steps, Some(ended))
        }
    };
    let ended_by = match ended {
        None => None,
        Some(game_day::Ended::Down(reply)) => {
            *day.expect("a game day").down.lock().expect("down lock") = Some(reply);
            Some("down")
        }
        Some(game_day::Ended::Interrupt) => Some("interrupt"),
    };
    let mut problems = Vec::new();
    // A task that panicked leaves a history with a hole: the drill is an error, not a result.
    joined(writes.wait().await)?;
    joined(reads.wait().await)?;
    let workload_ended = clock.now();
    progress.send(DrillEvent::WorkloadDone);
    if day.is_some() {
        // what is still in effect is healed, by the hand that ended the session
        book.heal_by_hand(&cluster, clock, None, scenario.bounds.fault, &sink())
            .await
            .map_err(|refusal| {
                DrillError::Session(format!(
                    "could not heal what was in effect at the end: {refusal}"
                ))
            })?;
    }
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
    let events = joined(collector.wait().await)?;
    let mut history = History::new(history_started);
    history.probe_interval = Some(options.probe_interval);
    history.extend(events);

    // Read from the engine after the drill: bounded, empty if it does not answer in time.
    let (versions, packages, docker_version, logs) =
        tokio::time::timeout(AFTER_DRILL_WITHIN, async {
            tokio::join!(
                cluster.versions(&scenario.topology),
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
    // A game day's record holds the faults injected by hand beside the scheduled ones, and
    // lasts as long as its workload ran.
    let mut scenario = scenario.clone();
    let game_day = match (day, ended_by) {
        (Some(day), Some(ended_by)) => {
            scenario.faults = book.faults();
            scenario.duration = workload_ended.as_duration();
            Some(crate::record::GameDay {
                participants: day.options.participants.clone(),
                ended_by: ended_by.to_owned(),
            })
        }
        _ => None,
    };
    Ok(RunRecord {
        format: RECORD_FORMAT,
        run_id: labels.run_id.clone(),
        seed,
        scenario,
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
        game_day,
        logs,
    })
}

/// Opens the game day's session (its directory and socket), says it is live, and answers its
/// commands until it ends. The session's directory goes when this returns.
async fn serve_session(
    cluster: &Cluster,
    scenario: &Scenario,
    live: &game_day::Live<'_>,
    day: &GameDayRun<'_>,
    stop: &CancellationToken,
) -> Result<game_day::Ended, DrillError> {
    let info = crate::live::SessionInfo {
        run_id: cluster.run_id.clone(),
        scenario: scenario.name.clone(),
        pid: std::process::id(),
        started: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
    };
    let mut session = crate::live::Session::open(&day.options.sessions, &info)
        .map_err(|e| DrillError::Session(e.to_string()))?;
    let (tx, mut requests) = mpsc::channel(16);
    let listener = session.take_listener().expect("a new session listens");
    let server = AbortOnDrop(tokio::spawn(crate::live::serve(listener, tx)));
    let connect = cluster
        .primary_endpoint(scenario.workload.connect_timeout)
        .ok()
        .map(|e| {
            format!(
                "postgresql://{}:{}@{}:{}/{}",
                e.user, e.password, e.host, e.port, e.dbname
            )
        });
    day.live.store(true, std::sync::atomic::Ordering::SeqCst);
    (day.options.on_live)(&LiveSession {
        run_id: info.run_id.clone(),
        scenario: info.scenario.clone(),
        socket: session.socket(),
        connect,
    });
    let ended = game_day::answer(live, &mut requests, stop).await;
    // commands sent from now on find no session; those in flight are told it ended
    drop(server);
    drop(session);
    requests.close();
    while let Ok((_, reply)) = requests.try_recv() {
        reply.send(crate::live::Answer::Refused {
            error: "the session is ending".into(),
        });
    }
    ended
}

/// Runs the scenario's steps one after another, each when due (`step::in_order`), and records
/// each whatever its outcome. Only harness trouble ends the drill.
async fn run_steps(
    cluster: &Cluster,
    scenario: &Scenario,
    clock: Clock,
    events: &mpsc::UnboundedSender<Event>,
    progress: &Progress,
    stop: &CancellationToken,
) -> Result<Vec<crate::history::StepEvent>, StepRunError> {
    // what ran before each step, for actions that build on an earlier one (a restore on its
    // target)
    let ran = std::sync::Mutex::new(Vec::new());
    step::in_order(&scenario.steps, clock, stop, |i| {
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
