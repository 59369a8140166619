//! Bad scenario files on the command line, without Docker: `run` and `validate` name the file,
//! line and column and what was expected, exit 2, and never reach for the engine.
//!
//! DOCKER_HOST points at a socket that does not exist, so that any attempt to reach Docker
//! would show as a Docker error on stderr instead of starting anything.

// It runs the `firedrill` binary, built with the `cli` feature only.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

const MINIMAL: &str = "name = \"bad\"\ndescription = \"a broken scenario\"\nduration = \"60s\"\n";

/// A bad file: its name, its bytes, where the error is and a phrase of what it says.
struct Case {
    file: &'static str,
    bytes: Vec<u8>,
    line_col: (usize, usize),
    says: &'static str,
}

fn case(file: &'static str, text: &str, line_col: (usize, usize), says: &'static str) -> Case {
    Case {
        file,
        bytes: text.as_bytes().to_vec(),
        line_col,
        says,
    }
}

fn cases() -> Vec<Case> {
    let mut huge = MINIMAL.as_bytes().to_vec();
    huge.resize(2 << 20, b'#');
    vec![
        case(
            "syntax.toml",
            &format!("{MINIMAL}[workload\nwriters = 4\n"),
            (4, 10),
            "invalid TOML: unclosed table, expected `]`",
        ),
        case(
            "unknown-key.toml",
            &format!("{MINIMAL}[topology.patroni]\nnods = 3\n"),
            (5, 1),
            "unknown key `nods` in [topology.patroni], did you mean `nodes`?",
        ),
        case(
            "wrong-type.toml",
            &format!("{MINIMAL}[workload]\nwriters = \"four\"\n"),
            (5, 11),
            "workload.writers: expected an integer, found string \"four\"",
        ),
        case(
            "no-nodes.toml",
            &format!("{MINIMAL}[topology.patroni]\nnodes = 0\n"),
            (5, 9),
            "topology.patroni.nodes: expected an integer from 1 to 9, found 0",
        ),
        case(
            "no-etcd.toml",
            &format!("{MINIMAL}[topology]\netcd = 0\n"),
            (5, 8),
            "Patroni needs a DCS",
        ),
        case(
            "missing-node.toml",
            &format!("{MINIMAL}[[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg7\"\n"),
            (7, 10),
            "no node \"pg7\" in the topology, which has pg1..pg3",
        ),
        case(
            "duplicate-table.toml",
            &format!("{MINIMAL}[workload]\nrate = 10\n[workload]\nwriters = 2\n"),
            (6, 2),
            "duplicate table `[workload]`",
        ),
        case(
            "late-fault.toml",
            &format!("{MINIMAL}[[fault]]\nat = \"90s\"\nkind = \"crash\"\ntarget = \"leader\"\n"),
            (5, 6),
            "expected an instant before the end of the run (1m)",
        ),
        case(
            "app-write-path-without-seq.toml",
            &format!("{MINIMAL}[topology.app]\nimage = \"team/api:1\"\nwrite_path = \"/commit\"\n"),
            (6, 14),
            "topology.app.write_path: expected a path beginning with / holding {seq} once, found \"/commit\"",
        ),
        case(
            "through-app-without-tier.toml",
            &format!("{MINIMAL}[workload]\nthrough = \"app\"\n"),
            (5, 11),
            "workload.through: expected \"haproxy\", found \"app\": the topology has no application servers",
        ),
        case(
            "pair-through-haproxy.toml",
            &format!("{MINIMAL}[topology]\nstack = \"pair\"\n[workload]\nthrough = \"haproxy\"\n"),
            (7, 11),
            "workload.through: expected no workload.through in the pair stack, found \"haproxy\"",
        ),
        case(
            "pair-through-app-without-tier.toml",
            &format!("{MINIMAL}[topology]\nstack = \"pair\"\n[workload]\nthrough = \"app\"\n"),
            (7, 11),
            "workload.through: expected no workload.through, found \"app\": the topology has no application servers",
        ),
        case(
            "pair-haproxy-table.toml",
            &format!("{MINIMAL}[topology]\nstack = \"pair\"\n[topology.haproxy]\ninter = \"1s\"\n"),
            (6, 1),
            "topology.haproxy: expected no [topology.haproxy] in a stack whose clients connect to a virtual IP",
        ),
        case(
            "pair-target-haproxy-without-tier.toml",
            &format!(
                "{MINIMAL}[topology]\nstack = \"pair\"\n[[fault]]\nat = \"5s\"\nkind = \"crash\"\ntarget = \"haproxy\"\n"
            ),
            (9, 10),
            "the topology has no haproxy node ([topology.app] is not set: in the pair stack HAProxy runs only in front of API servers)",
        ),
        case("empty.toml", "", (1, 1), "missing required keys"),
        Case {
            file: "huge.toml",
            bytes: huge,
            line_col: (1, 1),
            says: "file too large: expected a scenario file of at most 1048576 bytes",
        },
        Case {
            file: "binary.toml",
            bytes: b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\xf0\xff".to_vec(),
            line_col: (1, 1),
            says: "found the control character U+007F",
        },
        Case {
            file: "latin1.toml",
            bytes: b"name = \"bad\"\ndescription = \"caf\xe9\"\n".to_vec(),
            line_col: (2, 19),
            says: "expected UTF-8 text, found the byte 0xe9",
        },
    ]
}

fn firedrill(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .args(args)
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env_remove("FIREDRILL_LOG")
        .output()
        .unwrap()
}

/// Exit code 2, nothing on stdout, and one line on stderr: `error: FILE:LINE:COL: ...` saying
/// what the case says, and nothing of Docker or of bringing anything up.
fn check(command: &str, case: &Case, path: &Path, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = format!("{command} {}: {out:?}", case.file);
    assert_eq!(out.status.code(), Some(2), "{context}");
    assert!(out.stdout.is_empty(), "{context}");
    let (line, col) = case.line_col;
    let expected = format!("error: {}:{line}:{col}: ", path.display());
    assert!(stderr.starts_with(&expected), "{expected}\n{context}");
    assert!(stderr.contains(case.says), "{}\n{context}", case.says);
    assert_eq!(stderr.lines().count(), 1, "{context}");
    // the message after the file's name, which is the test's own temporary directory
    let lower = stderr[expected.len().min(stderr.len())..].to_lowercase();
    for word in [
        "docker",
        "bringing",
        "bring-up",
        "image",
        "container",
        "engine",
    ] {
        assert!(!lower.contains(word), "{word}\n{context}");
    }
}

#[test]
fn run_refuses_bad_files_before_docker() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    for case in cases() {
        let path = dir.path().join(case.file);
        std::fs::write(&path, &case.bytes).unwrap();
        let out = firedrill(&["run", "--reports", reports.to_str().unwrap()], &path);
        check("run", &case, &path, &out);
    }
    assert!(!reports.exists(), "a run directory was written");
}

#[test]
fn validate_refuses_bad_files_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases() {
        let path = dir.path().join(case.file);
        std::fs::write(&path, &case.bytes).unwrap();
        let out = firedrill(&["validate"], &path);
        check("validate", &case, &path, &out);
    }
}

/// With several files, `validate` reports every bad one, one line each, and still exits 2.
#[test]
fn validate_reports_every_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    let mut command = Command::new(env!("CARGO_BIN_EXE_firedrill"));
    command.arg("validate");
    for case in &cases {
        let path = dir.path().join(case.file);
        std::fs::write(&path, &case.bytes).unwrap();
        command.arg(&path);
    }
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/patroni-primary-crash.toml");
    let out = command
        .arg(&good)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{stderr}");
    for (line, case) in lines.iter().zip(&cases) {
        let path = dir.path().join(case.file);
        let (l, c) = case.line_col;
        assert!(
            line.starts_with(&format!("error: {}:{l}:{c}: ", path.display())),
            "{line}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok: patroni-primary-crash"), "{stdout}");
}
