//! The harness's own footprint during a drill, and the write rate at which the harness itself
//! becomes the bottleneck.
//!
//! For each write rate in `FOOTPRINT_RATES` (default `100,200,500,1000`; the scenario format
//! allows at most 1000/s), `FIREDRILL_BENCH_RUNS` times (default 1), runs the release binary as
//! a child process (`firedrill run SCENARIO --reports TMP`) on the default stack with no fault:
//! the shipped primary-crash scenario's topology and workload (2 readers at 20/s through the
//! replica endpoint) at that rate for `FOOTPRINT_DURATION` (default 30s), with
//! `FOOTPRINT_WRITERS` connections kept open (default 4, the scenario's). Of the child process
//! alone (not Docker, not the containers) it measures:
//! - peak RSS: `ru_maxrss` from `wait4` on the child (the whole run), and `VmHWM` from
//!   `/proc/PID/status` when the workload ended;
//! - CPU (`utime + stime` from `/proc/PID/stat`, and from `wait4` at exit) split into phases by
//!   the child's progress lines on stderr: bring-up (start to the drill's first line), workload
//!   (to "workload done"; reported as % of one core over that span) and after (read-back,
//!   teardown, reports);
//! - the scheduling delay of each write attempt, from the run's record (read through
//!   `firedrill::store::load`): its recorded invoke instant minus the instant the schedule
//!   started it at, `(seq - 1) · period` on the run's clock with `period = 1 s / rate`. The
//!   invoke instant is taken first thing in the attempt's task, before it takes a connection,
//!   so neither connecting nor the database counts: what is left is the harness's timer and task
//!   scheduling;
//! - beside it, the floor any scheduler has on this host at that moment: the same cadence of
//!   empty tasks on a bare tokio runtime in the bench's own process during the workload
//!   (tokio's timer has 1 ms ticks and rounds deadlines up; the host's run queue adds its
//!   waits), so that the harness's own share of the delay can be told from the host's;
//! - what the database did with the writes (latency p50/p99, outcomes, `not_sent` attempts the
//!   harness's own connection cap held back), so that a saturated database is told apart from a
//!   saturated harness.
//!
//! Prints a row per run and per rate the medians, checks the targets at 100/s (peak RSS ≤ 50
//! MB, ≤ 10 % of a core during the workload) and names the first rate whose p99 scheduling
//! delay exceeds 1 ms, saying so when the bare schedule exceeded it too, and the first whose
//! p99 is over twice the bare schedule's (the harness's own lag, on a host whose floor is
//! above 1 ms). A benchmark, not a test: it needs Docker and the base image (`firedrill image
//! build`), and asserts nothing about speed.
//!
//! `cargo bench --bench footprint`

mod common;

use common::median;
use firedrill::history::{ErrorKind, Outcome, WriteOp};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RSS_TARGET_MB: f64 = 50.0;
const CPU_TARGET_PERCENT: f64 = 10.0;
const DELAY_LIMIT_MS: f64 = 1.0;
/// A harness p99 delay over this many times the bare schedule's is the harness's own lag.
const OWN_LAG_FACTOR: f64 = 2.0;

/// The default scenario's shape (scenarios/patroni-primary-crash.toml) without its fault, at
/// `rate` writes per second through `writers` kept connections for `duration`; objectives that hold with no fault, so a healthy
/// run exits 0.
fn scenario(rate: u32, writers: usize, duration: Duration) -> String {
    format!(
        r#"name = "footprint-{rate}"
description = "The harness's footprint: the default stack, no fault, {rate} writes/s"
duration = "{duration}"

[topology]
etcd = 3

[topology.patroni]
nodes = 3
ttl = "10s"
loop_wait = "2s"
retry_timeout = "3s"
maximum_lag_on_failover = 1048576

[topology.haproxy]
check = "patroni-rest"
inter = "1s"
fall = 3
rise = 2

[workload]
writers = {writers}
rate = {rate}
through = "haproxy"
connect_timeout = "1s"
write_timeout = "1s"
readers = 2
read_rate = 20
read_through = "replica"

[objectives]
lost_writes = "== 0"
split_brain = false
leader_changes = "== 0"
"#,
        duration = humantime::format_duration(duration)
    )
}

/// CPU time (user + system) of a live process so far, from /proc/PID/stat.
fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name may hold spaces: the fields are counted after its closing parenthesis
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// The peak resident set so far (`VmHWM`), in kB.
fn hwm_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// An instant of the child's run, with its CPU time then.
#[derive(Clone, Copy, Debug)]
struct Mark {
    at: Instant,
    cpu: Duration,
    hwm_kb: Option<u64>,
}

#[derive(Default)]
struct Marks {
    workload_began: Option<Mark>,
    workload_done: Option<Mark>,
    /// The bare schedule run beside the workload.
    bare: Option<std::thread::JoinHandle<Vec<f64>>>,
}

/// The child's end as `wait4` saw it.
struct Exit {
    code: i32,
    cpu: Duration,
    max_rss_kb: u64,
}

/// Waits for `pid` and takes its own resource usage (not that of earlier children).
fn wait4(pid: u32) -> Exit {
    let mut status = 0;
    // SAFETY: rusage is plain data, zeroed is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as libc::pid_t, "wait4 on the drill");
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Exit {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss as u64,
    }
}

/// The value at quantile `q` (nearest rank) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One drill's figures.
struct Figures {
    rate: u32,
    peak_rss_mb: f64,
    workload_rss_mb: f64,
    cpu_bring_up: f64,
    cpu_workload_percent: f64,
    workload_secs: f64,
    cpu_after: f64,
    delay_ms: [f64; 3],
    /// p50 and p99 of the bare schedule beside it.
    bare_ms: [f64; 2],
    latency_ms: [f64; 2],
    outcomes: BTreeMap<&'static str, usize>,
    errors: BTreeMap<ErrorKind, usize>,
    /// What the drill said kept it from completing (exit 2 with a run directory).
    problems: Vec<String>,
}

/// Scheduling delay of each write in ms: its invoke minus its scheduled instant,
/// `(seq - first) · period` where the writer numbered its first attempt `first` and started
/// attempt k at k · period (src/workload/writer.rs, schedule.rs).
fn delays_ms(writes: &[&WriteOp], rate: u32) -> Vec<f64> {
    let period = Duration::from_secs(1) / rate.max(1);
    let first = writes.iter().map(|w| w.seq).min().unwrap_or(1);
    let mut delays: Vec<f64> = writes
        .iter()
        .map(|w| {
            let scheduled = period.as_nanos() as i128 * i128::from(w.seq - first);
            let delay = i128::from(w.invoke.0) - scheduled;
            // an attempt cannot start before its instant: if one did, the layout assumed
            // here is not the writer's
            assert!(
                delay >= 0,
                "write {} invoked {delay} ns before its scheduled instant",
                w.seq
            );
            delay as f64 / 1e6
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    delays
}

/// The same cadence with nothing else to do: a tokio runtime of the bench's own (as many
/// workers as firedrill's) starting empty tasks at `rate` for `duration` and taking each one's
/// delay as the writer does (its instant read first thing in its task), in ms, sorted. Run
/// beside the drill's workload, on the same host at the same time, it is the floor that tokio's
/// timer (1 ms ticks, deadlines rounded up) and the host's run queue give any scheduler there.
fn bare_schedule(rate: u32, duration: Duration) -> Vec<f64> {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let period = Duration::from_secs(1) / rate.max(1);
    let mut delays = rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let mut k = 0;
        while period * k < duration {
            let scheduled = start + period * k;
            tokio::time::sleep_until(scheduled).await;
            tasks.spawn(async move { scheduled.elapsed().as_secs_f64() * 1e3 });
            k += 1;
        }
        tasks.join_all().await
    });
    delays.sort_by(f64::total_cmp);
    delays
}

fn drill(binary: &Path, rate: u32, writers: usize, duration: Duration) -> Figures {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("footprint.toml");
    std::fs::write(&file, scenario(rate, writers, duration)).expect("the scenario is written");
    let reports = dir.path().join("reports");
    let log_path = dir.path().join("stderr.log");
    // reaped by wait4 below, which also gives the child's own resource usage
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(binary)
        .arg("run")
        .arg(&file)
        .arg("--reports")
        .arg(&reports)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("stdout.txt")).expect("stdout file"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("firedrill starts");
    let pid = child.id();
    let marks = Arc::new(Mutex::new(Marks::default()));
    // The child's progress lines (plain, stderr not being a terminal) mark its phases: the
    // drill's line is sent just before the run's clock starts, "workload done" just after the
    // last attempt finished.
    let reader = {
        let (stderr, marks) = (child.stderr.take().expect("piped"), marks.clone());
        let mut log = std::fs::File::create(&log_path).expect("the log file");
        let drill_line = format!("] drill footprint-{rate} (");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mark = || Mark {
                    at: Instant::now(),
                    cpu: cpu_of(pid).unwrap_or_default(),
                    hwm_kb: hwm_of(pid),
                };
                let mut marks = marks.lock().expect("marks lock");
                if line.contains(&drill_line) && line.ends_with("...") {
                    marks.workload_began.get_or_insert_with(mark);
                    marks.bare = Some(std::thread::spawn(move || bare_schedule(rate, duration)));
                } else if line.contains("workload done") {
                    marks.workload_done.get_or_insert_with(mark);
                }
                let _ = writeln!(log, "{line}");
            }
        })
    };
    let exit = wait4(pid);
    reader.join().expect("the stderr reader");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let mut marks = marks.lock().expect("marks lock");
    let bare = marks
        .bare
        .take()
        .map(|t| t.join().expect("the bare schedule"))
        .unwrap_or_default();
    // the run directory, as the drill names it on stdout: written even when the drill exits 2
    // for a problem (e.g. attempts it could not send), which is then part of the figures
    let stdout = std::fs::read_to_string(dir.path().join("stdout.txt")).unwrap_or_default();
    let run_dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("reports: "))
        .map(PathBuf::from);
    let (Some(began), Some(done), Some(run_dir)) =
        (marks.workload_began, marks.workload_done, run_dir)
    else {
        eprintln!("{log}");
        panic!("the drill at {rate}/s did not run (exit {})", exit.code);
    };
    let problems = log
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .map(String::from)
        .collect();
    let record = firedrill::store::load(&firedrill::store::record_path(&run_dir))
        .expect("the run's record loads");
    let writes: Vec<&WriteOp> = record.history.writes().collect();
    let delays = delays_ms(&writes, record.scenario.workload.rate);
    let mut latency: Vec<f64> = writes
        .iter()
        .filter(|w| w.outcome == Outcome::Ok)
        .map(|w| w.complete.since(w.invoke).as_secs_f64() * 1e3)
        .collect();
    latency.sort_by(f64::total_cmp);
    let mut outcomes = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for w in &writes {
        let name = match w.outcome {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
            Outcome::NotSent => "not_sent",
        };
        *outcomes.entry(name).or_insert(0) += 1;
        if let Some(kind) = w.error_kind {
            *errors.entry(kind).or_insert(0) += 1;
        }
    }
    let workload = done.at.duration_since(began.at);
    Figures {
        rate,
        peak_rss_mb: exit.max_rss_kb as f64 / 1024.0,
        workload_rss_mb: done.hwm_kb.unwrap_or(0) as f64 / 1024.0,
        cpu_bring_up: began.cpu.as_secs_f64(),
        cpu_workload_percent: (done.cpu - began.cpu).as_secs_f64() / workload.as_secs_f64() * 100.0,
        workload_secs: workload.as_secs_f64(),
        cpu_after: exit.cpu.saturating_sub(done.cpu).as_secs_f64(),
        delay_ms: [
            quantile(&delays, 0.5),
            quantile(&delays, 0.99),
            delays.last().copied().unwrap_or(f64::NAN),
        ],
        bare_ms: [quantile(&bare, 0.5), quantile(&bare, 0.99)],
        latency_ms: [quantile(&latency, 0.5), quantile(&latency, 0.99)],
        outcomes,
        errors,
        problems,
    }
}

const COLUMNS: [&str; 13] = [
    "peak RSS",
    "RSS@wl",
    "CPU wl",
    "CPU up",
    "CPU after",
    "delay p50",
    "delay p99",
    "delay max",
    "bare p50",
    "bare p99",
    "write p50",
    "write p99",
    "outcomes",
];

fn header() {
    let cells: Vec<String> = COLUMNS.iter().map(|c| format!("{c:>9}")).collect();
    println!("{:>7} {}", "rate/s", cells.join(" "));
}

fn row(label: &str, f: &Figures) {
    let mb = |v: f64| format!("{v:.1}MB");
    let ms = |v: f64| format!("{v:.2}ms");
    let s = |v: f64| format!("{v:.2}s");
    let outcomes: Vec<String> = f.outcomes.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let cells = [
        mb(f.peak_rss_mb),
        mb(f.workload_rss_mb),
        format!("{:.1}%", f.cpu_workload_percent),
        s(f.cpu_bring_up),
        s(f.cpu_after),
        ms(f.delay_ms[0]),
        ms(f.delay_ms[1]),
        ms(f.delay_ms[2]),
        ms(f.bare_ms[0]),
        ms(f.bare_ms[1]),
        ms(f.latency_ms[0]),
        ms(f.latency_ms[1]),
    ];
    let cells: Vec<String> = cells.iter().map(|c| format!("{c:>9}")).collect();
    println!("{label:>7} {}  {}", cells.join(" "), outcomes.join(", "));
}

fn main() {
    let runs: usize = std::env::var("FIREDRILL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut rates: Vec<u32> = std::env::var("FOOTPRINT_RATES")
        .unwrap_or_else(|_| "100,200,500,1000".into())
        .split(',')
        .map(|r| {
            r.trim()
                .parse()
                .expect("FOOTPRINT_RATES: rates per second, comma-separated")
        })
        .collect();
    rates.sort_unstable();
    let duration = std::env::var("FOOTPRINT_DURATION")
        .map(|d| humantime::parse_duration(&d).expect("FOOTPRINT_DURATION: a duration"))
        .unwrap_or(Duration::from_secs(30));
    let writers: usize = std::env::var("FOOTPRINT_WRITERS")
        .map(|w| {
            w.parse()
                .expect("FOOTPRINT_WRITERS: a number of connections")
        })
        .unwrap_or(4);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_firedrill"));
    println!(
        "footprint of {} ({runs} run(s) per rate, {} of writes each, {writers} writers, no fault)",
        binary.display(),
        humantime::format_duration(duration)
    );
    println!(
        "peak RSS: whole run (wait4); RSS@wl: peak when the workload ended; CPU wl: % of one \
         core during the workload; CPU up / after: seconds before / after it; delay: an \
         attempt's invoke minus its scheduled instant; bare: the same for empty tasks on a \
         bare tokio runtime in this process during the workload; write: latency of ok writes"
    );
    header();
    let mut medians = Vec::new();
    for &rate in &rates {
        let mut all = Vec::new();
        for run in 1..=runs {
            let f = drill(&binary, rate, writers, duration);
            row(&format!("{rate}#{run}"), &f);
            if !f.errors.is_empty() {
                let kinds: Vec<String> = f.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
                println!("{:>7} errors: {}", "", kinds.join(", "));
            }
            for problem in &f.problems {
                println!("{:>7} the drill: {problem}", "");
            }
            all.push(f);
        }
        let m = |get: &dyn Fn(&Figures) -> f64| median(all.iter().map(get).collect());
        medians.push(Figures {
            rate,
            peak_rss_mb: m(&|f| f.peak_rss_mb),
            workload_rss_mb: m(&|f| f.workload_rss_mb),
            cpu_bring_up: m(&|f| f.cpu_bring_up),
            cpu_workload_percent: m(&|f| f.cpu_workload_percent),
            workload_secs: m(&|f| f.workload_secs),
            cpu_after: m(&|f| f.cpu_after),
            delay_ms: [0, 1, 2].map(|i| m(&|f| f.delay_ms[i])),
            bare_ms: [0, 1].map(|i| m(&|f| f.bare_ms[i])),
            latency_ms: [0, 1].map(|i| m(&|f| f.latency_ms[i])),
            outcomes: all[0].outcomes.clone(),
            errors: BTreeMap::new(),
            problems: Vec::new(),
        });
    }
    println!("\nmedians of {runs} run(s) per rate (outcomes: the first run's)");
    header();
    for f in &medians {
        row(&f.rate.to_string(), f);
    }
    println!();
    if let Some(f) = medians.iter().find(|f| f.rate == 100) {
        let yes = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "at 100/s: peak RSS {:.1} MB (target ≤ {RSS_TARGET_MB} MB: {}), CPU {:.1} % of a core \
             over {:.1}s of workload (target ≤ {CPU_TARGET_PERCENT} %: {})",
            f.peak_rss_mb,
            yes(f.peak_rss_mb <= RSS_TARGET_MB),
            f.cpu_workload_percent,
            f.workload_secs,
            yes(f.cpu_workload_percent <= CPU_TARGET_PERCENT),
        );
    }
    match medians.iter().find(|f| f.delay_ms[1] > DELAY_LIMIT_MS) {
        Some(f) => {
            println!(
                "the harness is the bottleneck from {}/s: p99 scheduling delay {:.2} ms > \
                 {DELAY_LIMIT_MS} ms (a bare schedule beside it: p99 {:.2} ms)",
                f.rate, f.delay_ms[1], f.bare_ms[1]
            );
            if f.bare_ms[1] > DELAY_LIMIT_MS {
                println!(
                    "  a bare schedule with nothing else to do was above {DELAY_LIMIT_MS} ms too: \
                     that floor is tokio's timer and this host's run queue, not the drill's load"
                );
            }
        }
        None => println!(
            "the harness is not the bottleneck up to {}/s: p99 scheduling delay ≤ \
             {DELAY_LIMIT_MS} ms at every rate",
            rates.last().copied().unwrap_or(0)
        ),
    }
    // On a busy host the floor moves: where the harness's p99 leaves it is its own lag.
    match medians
        .iter()
        .find(|f| f.delay_ms[1] > OWN_LAG_FACTOR * f.bare_ms[1])
    {
        Some(f) => println!(
            "the harness lags behind the bare schedule from {}/s: p99 {:.2} ms, over \
             {OWN_LAG_FACTOR}× the bare {:.2} ms",
            f.rate, f.delay_ms[1], f.bare_ms[1]
        ),
        None => println!(
            "the harness keeps up with the bare schedule up to {}/s: p99 within \
             {OWN_LAG_FACTOR}× the bare schedule's at every rate",
            rates.last().copied().unwrap_or(0)
        ),
    }
}
