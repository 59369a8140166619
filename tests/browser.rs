//! The HTML report seen in a real browser: headless Chromium loads a rendered report from a
//! stored run, takes a screenshot, and its DOM must hold the timeline chart and the tables,
//! with nothing logged to the console (the page has no script and loads nothing, so any console
//! message means something went wrong). Without Chromium the test prints a visible skip; with
//! FIREDRILL_REQUIRE_BROWSER=1 or true (CI sets it and installs Chromium) it fails instead. The
//! quarterly report, rendered from a small history, is seen the same way.

// It runs the `firedrill` binary, built with the `cli` feature only.
#![cfg(feature = "cli")]

mod common;

use std::path::Path;
use std::process::Command;

const STORED_RUN: &str = "tests/fixtures/sample-run/run.json.gz";

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Runs headless Chromium on `page` with `args`; returns (stdout, stderr).
fn headless(browser: &str, profile: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "chromium failed: {stderr}");
    (stdout, stderr)
}

/// The browser to use; `None` (after a visible skip) without one, unless
/// FIREDRILL_REQUIRE_BROWSER=1 or true.
fn browser_or_skip() -> Option<&'static str> {
    let browser = chromium();
    if browser.is_none() {
        if common::required("FIREDRILL_REQUIRE_BROWSER") {
            panic!("FIREDRILL_REQUIRE_BROWSER is set but no chromium is installed");
        }
        common::skip(
            "browser",
            "chromium is not installed (Debian: apt-get install chromium)",
        );
    }
    browser
}

/// Takes a screenshot of `page` and checks it shows something; returns the DOM. The console
/// must stay silent both times.
fn screenshot_and_dom(browser: &str, dir: &Path, page: &Path, keep: &str) -> String {
    let profile = dir.join("profile");
    let shot = dir.join("shot.png");
    let (_, stderr) = headless(
        browser,
        &profile,
        page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    // A blank page compresses to a few kilobytes; the chart and tables do not.
    assert!(png.len() > 20_000, "screenshot of {} bytes", png.len());
    if let Ok(keep) = std::env::var(keep) {
        std::fs::copy(&shot, keep).unwrap();
    }
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    let (dom, stderr) = headless(browser, &profile, page, &["--dump-dom"]);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    dom
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let record = firedrill::store::load(Path::new(STORED_RUN)).expect("the stored run loads");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, firedrill::report::html(&record)).unwrap();
    let dom = screenshot_and_dom(browser, dir.path(), &page, "FIREDRILL_KEEP_SCREENSHOT");
    assert!(dom.contains("<svg"), "no chart in the rendered page");
    assert!(dom.contains("<table"), "no table in the rendered page");
    let objectives = record.verdict.objectives.iter().map(|o| o.measure.name());
    for text in [
        record.scenario.name.as_str(),
        &record.timings.initial_leader,
    ]
    .into_iter()
    .chain(objectives)
    {
        assert!(dom.contains(text), "{text:?} not in the rendered page");
    }
    // One lane per probed node in the chart.
    for node in ["pg1", "pg2", "pg3"] {
        assert!(dom.contains(node), "no lane for {node}");
    }
}

#[test]
fn the_quarterly_html_report_renders_in_headless_chromium() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    // A small history: a run in 2026-Q3, two in 2026-Q4, one of them failed.
    let stored = firedrill::store::load(Path::new(STORED_RUN)).expect("the stored run loads");
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    for (id, started, passed) in [
        ("q3", "2026-09-14T10:00:00.000Z", true),
        ("q4-a", "2026-10-20T10:00:00.000Z", true),
        ("q4-b", "2026-11-03T14:02:11.000Z", false),
    ] {
        let mut record = stored.clone();
        record.run_id = id.into();
        record.history.started_wall = started.into();
        // The stored run failed an objective: here every objective holds, or the first fails.
        for (i, objective) in record.verdict.objectives.iter_mut().enumerate() {
            objective.passed = passed || i > 0;
        }
        record.verdict.passed = passed;
        firedrill::report::write_run_dir(&record, &reports).unwrap();
    }
    let history = firedrill::report::read_history(&reports).unwrap();
    let verification =
        firedrill::report::verify_history(&history, &firedrill::report::scan_runs(&reports));
    assert!(verification.intact(), "{:?}", verification.problems);
    let options = firedrill::report::ReportOptions {
        prepared_by: Some("Dana Reyes".into()),
        reviewed_by: None,
        generated: std::time::SystemTime::now(),
        firedrill: "test".into(),
    };
    let quarterly = firedrill::report::quarterly_report(
        &firedrill::report::parsed_lines(&history),
        &verification,
        &firedrill::report::Period::quarter("2026-Q4").unwrap(),
        &options,
    );
    assert_eq!((quarterly.runs, quarterly.passed), (2, 1));
    let page = reports.join("quarterly/2026-Q4.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    std::fs::write(&page, firedrill::report::quarterly_html(&quarterly)).unwrap();

    let dom = screenshot_and_dom(
        browser,
        dir.path(),
        &page,
        "FIREDRILL_KEEP_QUARTERLY_SCREENSHOT",
    );
    assert!(dom.contains("Failover drills: 2026-Q4"), "no title");
    assert!(dom.contains("Run history intact"), "no chain status");
    // The per-scenario table: its header and the scenario's row.
    assert!(dom.contains("<h2 id=\"scenarios\">Runs by scenario</h2>\n<table>"));
    assert!(dom.contains("trend against 2026-Q3"));
    let procedure = stored.scenario.runbook.as_deref().unwrap_or("—");
    assert!(
        dom.contains(&format!(
            "<tr><td>{procedure}</td><td>{}</td><td class=\"num\">2</td>",
            stored.scenario.name
        )),
        "no row for the scenario"
    );
    // The failed run links its report, which exists where the link leads.
    let link = "../runs/2026-11-03T14-02-11Z-sample/report.html";
    assert!(
        dom.contains(&format!("href=\"{link}\"")),
        "no link to the failed run"
    );
    assert!(page.parent().unwrap().join(link).exists());
    // The sign-off, with blank cells to sign.
    assert!(
        dom.contains("<h2 id=\"sign-off\">Sign-off</h2>"),
        "no sign-off"
    );
    assert!(dom.contains("Dana Reyes"));
    assert!(dom.contains("<td class=\"blank\"></td>"));
}
