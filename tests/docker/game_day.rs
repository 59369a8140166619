//! Game days from the command line, against real containers: `up` in the background, people's
//! commands (`status`, `inject`, `heal`, `note`, `down`) from other processes, and what the
//! record keeps of them. Each test has its own sessions directory (FIREDRILL_SESSIONS), so
//! that it finds only its own sessions.

use crate::common;

use common::drill_cli::{DrillCli, clean_runs_of, crash_scenario, leftovers, run_dirs};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// The primary-crash scenario without its scheduled crash: the faults come by hand.
fn by_hand_scenario(dir: &Path, name: &str) -> PathBuf {
    let text = crash_scenario(name, "60s", "");
    let start = text
        .find("[[fault]]")
        .expect("the crash scenario has a fault");
    let end = start + text[start..].find("\n\n").expect("the fault table ends");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
    path
}

/// One test's game days: its runtime, its turn on the engine, its own sessions directory.
struct Days {
    rt: tokio::runtime::Runtime,
    _turn: tokio::sync::SemaphorePermit<'static>,
    dir: tempfile::TempDir,
    sessions: PathBuf,
}

/// A game day started by [`Days::up`], live.
struct Day {
    /// Its scenario's name, unique to it.
    name: String,
    reports: PathBuf,
    run: String,
    up: DrillCli,
}

impl Days {
    /// `None` (the skip printed) without a Docker engine.
    fn new(test: &str, turn: common::Turn) -> Option<Days> {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let turn = rt.block_on(common::docker_turn(test, turn))?;
        let dir = tempfile::tempdir().unwrap();
        let sessions = dir.path().join("sessions");
        Some(Days {
            rt,
            _turn: turn,
            dir,
            sessions,
        })
    }

    /// `firedrill up` on the by-hand scenario named `prefix-<random>`, its reports kept under
    /// the target directory; returns once it is live.
    fn up(&self, prefix: &str) -> Day {
        let name = format!("{prefix}-{:08x}", rand::random::<u32>());
        let scenario = by_hand_scenario(self.dir.path(), &name);
        let reports = kept_reports(&name);
        let mut up = DrillCli::command(
            "up",
            &scenario,
            &reports,
            &[("FIREDRILL_SESSIONS", self.sessions.to_str().unwrap())],
        );
        let run = live(&mut up);
        Day {
            name,
            reports,
            run,
            up,
        }
    }

    fn leftovers(&self, name: &str) -> firedrill::engine::Leftovers {
        self.rt.block_on(leftovers(name))
    }
}

/// Where a test's reports are kept, passing or not, to look at afterwards.
fn kept_reports(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("game-day")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `firedrill ARGS` with this test's sessions directory.
fn firedrill(sessions: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .args(args)
        .env("FIREDRILL_SESSIONS", sessions)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `status` until `until` holds of its output, for at most `within`; the last output.
fn status_until(
    sessions: &Path,
    run: &str,
    within: Duration,
    until: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + within;
    loop {
        let out = firedrill(sessions, &["status", "--run", run]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        if until(&stdout) {
            return stdout;
        }
        assert!(
            Instant::now() < deadline,
            "status never showed what was waited for within {within:?}; last:\n{stdout}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The leader `status` names by etcd's key.
fn leader(status: &str) -> Option<String> {
    let line = status.lines().find(|l| l.starts_with("leader:"))?;
    let name = line
        .trim_start_matches("leader:")
        .trim()
        .split(' ')
        .next()?;
    (name != "none").then(|| name.to_owned())
}

/// `up` is live: its run id, from its announcement.
fn live(up: &mut DrillCli) -> String {
    up.wait_for("is live");
    let line = up.seen.last().unwrap().clone();
    // the rest of the announcement
    up.wait_for("end it:");
    line.split_whitespace()
        .find(|w| w.starts_with("fd-"))
        .unwrap_or_else(|| panic!("no run id in {line:?}"))
        .to_owned()
}

/// The notes a record holds, in order.
fn notes(record: &serde_json::Value) -> Vec<String> {
    record["history"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "note")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

fn run_json(reports: &Path) -> serde_json::Value {
    let dirs = run_dirs(reports);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let record = firedrill::store::load(&dirs[0].join("run.json.gz")).unwrap();
    serde_json::to_value(record).unwrap()
}

#[test]
fn a_game_day_driven_by_hand_from_up_to_down() {
    let Some(days) = Days::new("game_day::by_hand", common::Turn::Beside) else {
        return;
    };
    let sessions = &days.sessions;
    let Day {
        name,
        reports,
        run,
        up,
    } = days.up("gameday");
    assert!(
        up.seen
            .iter()
            .any(|l| l.contains("connect:  psql 'postgresql://")),
        "{:#?}",
        up.seen
    );

    // the stack as it is: one leader by etcd and by itself, no fault, writes going through
    let before = status_until(sessions, &run, Duration::from_secs(20), |s| {
        leader(s).is_some_and(|l| s.contains(&format!("{l} says it leads")))
            && s.contains("outage:   none")
            && !s.contains(" 0 ok,")
    });
    let old = leader(&before).unwrap();
    assert!(before.contains("faults:   none in effect"), "{before}");

    // a kind or a target that does not exist: refused, exit 2, nothing injected
    let out = firedrill(sessions, &["inject", "crahs"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out).1.contains("did you mean \"crash\"?"), "{out:?}");
    let out = firedrill(sessions, &["inject", "crash", "--target", "pg9"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out).1.contains("--target: no node \"pg9\""),
        "{out:?}"
    );
    let out = firedrill(sessions, &["heal", "1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out).1.contains("no fault 1"), "{out:?}");

    // the leader crashed by hand: an outage, then another leader
    let out = firedrill(sessions, &["inject", "crash", "--target", "leader"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("fault 1: t+") && stdout.contains(&format!("crash injected on {old}")),
        "{stdout}"
    );
    let during = status_until(sessions, &run, Duration::from_secs(15), |s| {
        s.contains("outage:   IN PROGRESS")
    });
    assert!(
        during.contains(&format!("fault 1:  crash on {old}")),
        "{during}"
    );
    assert!(during.contains("(by hand)"), "{during}");
    let after = status_until(sessions, &run, Duration::from_secs(90), |s| {
        leader(s).is_some_and(|l| l != old) && s.contains("outage:   none")
    });
    let new = leader(&after).unwrap();
    // as people would, watch writes succeed for a while (the RTO's recovery is confirmed by
    // writes succeeding after it): every write of the last 10 s acknowledged
    status_until(sessions, &run, Duration::from_secs(60), |s| {
        s.contains(" ok, 0 failed, 0 unknown")
    });

    let out = firedrill(sessions, &["note", "app showed 502s"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out).0.starts_with("noted at t+"), "{out:?}");
    let out = firedrill(sessions, &["note", "action: alert on replication lag"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = firedrill(sessions, &["heal", "1"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("crash healed on {old}")),
        "{stdout}"
    );

    // someone watching: plain blocks (no terminal) until the session ends
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .args(["status", "--watch"])
        .env("FIREDRILL_SESSIONS", sessions)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // its first block drawn, the session ends under it
    let mut watched = std::io::BufReader::new(watch.stdout.take().unwrap());
    let mut shown = String::new();
    while !shown.contains("notes:") {
        let read = std::io::BufRead::read_line(&mut watched, &mut shown).unwrap();
        assert!(read > 0, "status --watch ended before drawing: {shown}");
    }
    let down = firedrill(sessions, &["down"]);
    std::io::Read::read_to_string(&mut watched, &mut shown).unwrap();
    let code = watch.wait().unwrap().code();
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.starts_with(&format!("game day {run} (")), "{shown}");
    assert!(
        !shown.contains('\x1b'),
        "no screen control off a terminal: {shown}"
    );
    assert!(
        shown.trim_end().ends_with(')') && shown.contains("the session ended ("),
        "{shown}"
    );
    let (stdout, stderr) = text(&down);
    let (up_code, rest) = up.finish();
    // down tells the verdict up printed, with its exit code: the verdict itself is the
    // system's (an asynchronous replica can lose the last writes a crashed leader acknowledged)
    assert_eq!(down.status.code(), up_code, "{stdout}{stderr}{rest:#?}");
    assert!(stderr.contains("reports: "), "{stderr}");
    let record = run_json(&reports);
    let passed = record["verdict"]["passed"] == true && record.get("problems").is_none();
    let (code, said) = if passed { (0, "PASS") } else { (1, "FAIL") };
    assert_eq!(down.status.code(), Some(code), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("result: {said}")), "{stdout}");

    // the record: a game day, the fault by hand measured, the notes
    assert_eq!(record["game_day"]["ended_by"], "down");
    let events = record["history"]["events"].as_array().unwrap();
    let faults: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "fault").collect();
    assert_eq!(faults.len(), 2, "{faults:#?}");
    assert!(
        faults
            .iter()
            .all(|f| f["by_hand"] == true && f["node"] == old.as_str())
    );
    assert_eq!(
        notes(&record),
        ["app showed 502s", "action: alert on replication lag"]
    );
    let measured = &record["measurements"]["faults"][0];
    assert_eq!(measured["old_leader"], old.as_str());
    assert_eq!(measured["new_leader"], new.as_str());
    assert!(measured["rto"].is_string(), "{measured:#}");
    assert_eq!(record["scenario"]["faults"].as_array().unwrap().len(), 1);

    // nothing left: no container, no session
    assert!(days.leftovers(&name).is_empty());
    let out = firedrill(sessions, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no live game-day session"), "{out:?}");
}

#[test]
fn down_without_a_live_session_says_so_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = firedrill(&dir.path().join("sessions"), &["down"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out)
            .1
            .contains("error: no live game-day session: start one with `firedrill up`"),
        "{out:?}"
    );
    let out = firedrill(
        &dir.path().join("sessions"),
        &["note", "x", "--run", "fd-00000000"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out)
            .1
            .contains("no live game-day session fd-00000000"),
        "{out:?}"
    );
}

#[test]
fn two_sessions_at_once_are_each_addressed_by_their_run() {
    // Two stacks: the machine's two drill slots.
    let Some(days) = Days::new("game_day::two_sessions", common::Turn::Alone) else {
        return;
    };
    let sessions = &days.sessions;
    let ups: Vec<(String, PathBuf, String, DrillCli)> = ["gameday-a", "gameday-b"]
        .into_iter()
        .map(|prefix| {
            let day = days.up(prefix);
            (day.name, day.reports, day.run, day.up)
        })
        .collect();
    for (_, _, run, _) in &ups {
        let status = status_until(sessions, run, Duration::from_secs(20), |s| {
            leader(s).is_some()
        });
        assert!(status.starts_with(&format!("game day {run} (")), "{status}");
        let out = firedrill(sessions, &["note", &format!("seen by {run}"), "--run", run]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    // without --run: the latest live session, the second one
    let out = firedrill(sessions, &["status"]);
    assert!(text(&out).0.contains(&ups[1].2), "{out:?}");
    // the second ended by `down`, the first by Ctrl-C on its `up`: both judge and report
    for (k, (name, reports, run, up)) in ups.into_iter().enumerate().rev() {
        let record = if k == 1 {
            let down = firedrill(sessions, &["down", "--run", &run]);
            let (code, rest) = up.finish();
            assert_eq!(down.status.code(), code, "{down:?}{rest:#?}");
            let record = run_json(&reports);
            assert_eq!(record["game_day"]["ended_by"], "down");
            record
        } else {
            up.signal("-INT");
            let (code, rest) = up.finish();
            assert!(matches!(code, Some(0 | 1)), "{code:?} {rest:#?}");
            let record = run_json(&reports);
            assert_eq!(record["game_day"]["ended_by"], "interrupt");
            record
        };
        assert_eq!(record["run_id"], run.as_str());
        assert_eq!(
            notes(&record),
            [format!("seen by {run}")],
            "each note in its own session"
        );
        assert!(days.leftovers(&name).is_empty());
    }
}

#[test]
fn up_killed_leaves_what_firedrill_clean_removes() {
    let Some(days) = Days::new("game_day::killed", common::Turn::Beside) else {
        return;
    };
    let sessions = &days.sessions;
    let Day { name, run, up, .. } = days.up("gameday-killed");
    up.signal("-KILL");
    let (code, _) = up.finish();
    assert_eq!(code, None, "killed by a signal");
    assert!(!days.leftovers(&name).is_empty(), "the stack outlives up");
    // its session is dead: commands do not find it
    let out = firedrill(sessions, &["status"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out).1.contains("no live game-day session"), "{out:?}");
    let cleaned = days.rt.block_on(clean_runs_of(&name));
    assert!(cleaned.contains(&run), "{cleaned}");
    assert!(days.leftovers(&name).is_empty());
}
