//! Docker trouble: an image that is not there, a host port another process holds, and the engine
//! gone in the middle of a run. Each gives a clear error and exit code 2, and nothing of the run
//! is left once the engine answers (`firedrill clean` after the engine came back).
//! (No engine at all: `run_without_a_docker_engine_says_what_to_do_and_exits_2` in cli.rs.)

use crate::common;

use common::drill_cli::{DrillCli, clean_runs_of, crash_scenario, leftovers, run_dirs};
use std::path::{Path, PathBuf};
use tokio::net::{UnixListener, UnixStream};

fn write_scenario(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, crash_scenario(name, "30s", extra)).unwrap();
    path
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn a_missing_image_is_named_and_exits_2() {
    let rt = runtime();
    let Some(_turn) = rt.block_on(common::docker_turn(
        "docker_trouble::missing_image",
        common::Turn::Beside,
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("trouble-image-{:08x}", rand::random::<u32>());
    let scenario = write_scenario(dir.path(), &name, "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .arg("run")
        .arg(&scenario)
        .args(["--image", "firedrill/absent:none", "--reports"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("image firedrill/absent:none not found in the docker engine: it is the one --image names"),
        "{stderr}"
    );
    assert!(stderr.contains("leave out --image"), "{stderr}");
    assert!(rt.block_on(leftovers(&name)).is_empty());
}

#[test]
fn a_fixed_port_another_process_holds_is_named_and_exits_2() {
    let rt = runtime();
    let Some(_turn) = rt.block_on(common::docker_turn(
        "docker_trouble::port_taken",
        common::Turn::Beside,
    )) else {
        return;
    };
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("trouble-port-{:08x}", rand::random::<u32>());
    let text = crash_scenario(&name, "30s", "")
        .replace("rise = 2\n", &format!("rise = 2\nport = {port}\n"));
    let scenario = dir.path().join("port.toml");
    std::fs::write(&scenario, text).unwrap();
    let (code, rest) = DrillCli::start(&scenario, dir.path(), &[]).finish();
    assert_eq!(code, Some(2), "{rest:#?}");
    assert!(
        rest.iter().any(|l| l.contains(&format!(
            "host port {port} ([topology.haproxy] port) is already in use by another process"
        ))),
        "{rest:#?}"
    );
    drop(holder);
    assert!(rt.block_on(leftovers(&name)).is_empty());
}

/// A stand-in for the engine's socket that forwards to the real one until it is stopped: then
/// every connection through it closes and new ones are refused, as when dockerd dies.
struct EngineProxy {
    socket: PathBuf,
    rt: tokio::runtime::Runtime,
}

impl EngineProxy {
    fn start(dir: &Path) -> EngineProxy {
        let real = std::env::var("DOCKER_HOST")
            .ok()
            .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
            .unwrap_or_else(|| "/var/run/docker.sock".into());
        let socket = dir.join("docker.sock");
        let rt = runtime();
        let listener = rt.block_on(async { UnixListener::bind(&socket).unwrap() });
        rt.spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let real = real.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = UnixStream::connect(&real).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        EngineProxy { socket, rt }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The engine "dies": every task (the listener, each connection) is dropped.
    fn stop(self) {
        self.rt.shutdown_background();
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[test]
fn the_engine_gone_mid_run_is_said_and_clean_removes_the_rest_once_it_is_back() {
    let rt = runtime();
    let Some(_turn) = rt.block_on(common::docker_turn(
        "docker_trouble::engine_gone",
        common::Turn::Beside,
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("trouble-gone-{:08x}", rand::random::<u32>());
    let scenario = write_scenario(dir.path(), &name, "");
    let proxy = EngineProxy::start(dir.path());
    let mut cli = DrillCli::start(&scenario, dir.path(), &[("DOCKER_HOST", &proxy.host())]);
    // The cluster is up and the workload about to start; the crash is due 4 s later.
    cli.wait_for("seed ");
    proxy.stop();
    let (code, rest) = cli.finish();
    assert_eq!(code, Some(2), "{rest:#?}");
    let error = rest
        .iter()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{rest:#?}"));
    assert!(
        error.starts_with("error: the docker engine stopped answering during the run: "),
        "{error}"
    );
    assert!(
        error.contains("remove it with `firedrill clean --run fd-")
            && error.ends_with("(once the docker engine answers)"),
        "{error}"
    );
    // What the run reached is reported.
    let partial = run_dirs(dir.path());
    assert_eq!(partial.len(), 1, "{partial:?}");
    let report = std::fs::read_to_string(partial[0].join("report.md")).unwrap();
    assert!(
        report.contains("INCOMPLETE") && report.contains("seed "),
        "{report}"
    );

    // The engine is back: the run's objects are still there, and the dead run's are cleaned.
    let left = rt.block_on(leftovers(&name));
    assert!(left.containers.len() >= 7, "{left:?}");
    let stdout = rt.block_on(clean_runs_of(&name));
    assert!(stdout.contains("removed run fd-"), "{stdout}");
    assert!(rt.block_on(leftovers(&name)).is_empty());
}
