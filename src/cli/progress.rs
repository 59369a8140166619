//! Progress on the terminal: a spinner when stderr is a terminal, plain timestamped lines
//! otherwise (CI logs).

use firedrill::progress::{Progress, Shape};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn terminal() -> Progress {
    let started = Instant::now();
    if std::io::stderr().is_terminal() {
        let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
        Progress::new(move |event| {
            let mut bar = bar.lock().expect("progress lock");
            match event.shape() {
                Shape::Begin(step) => {
                    let spinner = ProgressBar::new_spinner();
                    spinner.set_style(
                        ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {msg}")
                            .expect("static template"),
                    );
                    spinner.set_prefix(step.to_string());
                    spinner.enable_steady_tick(Duration::from_millis(120));
                    *bar = Some(spinner);
                }
                Shape::Line(message) => match bar.as_ref() {
                    Some(b) => b.set_message(message),
                    None => eprintln!("  {message}"),
                },
                Shape::End(step, took) => {
                    if let Some(b) = bar.take() {
                        b.finish_and_clear();
                    }
                    eprintln!("✓ {step}: {:.1}s", took.as_secs_f64());
                }
            }
        })
    } else {
        Progress::new(move |event| {
            let t = started.elapsed().as_secs_f64();
            match event.shape() {
                Shape::Begin(step) => eprintln!("[{t:7.1}s] {step} ..."),
                Shape::Line(message) => eprintln!("[{t:7.1}s]   {message}"),
                Shape::End(step, took) => {
                    eprintln!("[{t:7.1}s] {step}: done in {:.1}s", took.as_secs_f64())
                }
            }
        })
    }
}
