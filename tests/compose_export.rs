//! `firedrill compose` without Docker: the exports shipped in docker-compose/ are exactly what
//! the command writes today, every topology the shipped scenarios run has one, the env file
//! rule holds, and a bad scenario fails as `validate` fails.

// It runs the `firedrill` binary, built with the `cli` feature only.
#![cfg(feature = "cli")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `firedrill ARGS`, in `dir`, with no Docker engine reachable (nothing here may need one).
fn firedrill(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("firedrill runs")
}

/// Every file under `dir`, by path relative to it, but the env files.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else if path.file_name().is_some_and(|n| n != ".env") {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(base).unwrap().to_owned(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The shipped exports: one directory per topology, named by the scenario exported.
fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("docker-compose"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Exports scenario `name` with the CLI into `dir/name/docker-compose.yml`.
fn export(dir: &Path, name: &str) -> PathBuf {
    let scenario = root().join("scenarios").join(format!("{name}.toml"));
    let out_dir = dir.join(name);
    let file = out_dir.join("docker-compose.yml");
    let output = firedrill(
        dir,
        &[
            "compose",
            scenario.to_str().unwrap(),
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "firedrill compose {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out_dir
}

#[test]
fn the_shipped_exports_are_what_firedrill_compose_writes() {
    let names = shipped();
    assert_eq!(
        names,
        [
            "api-over-patroni-failover",
            "pair-primary-crash-scripted-promotion",
            "pair-with-api-servers",
            "patroni-primary-crash",
            "pgbackrest-restore-pitr",
            "pgbouncer-primary-crash",
            "pgbouncer-restore-point",
            "redis-primary-crash",
            "varnish-grace-backend-down",
        ]
    );
    let tmp = tempfile::tempdir().unwrap();
    for name in &names {
        let fresh = tree(&export(tmp.path(), name));
        let ours = tree(&root().join("docker-compose").join(name));
        let regenerate = format!(
            "regenerate it: firedrill compose scenarios/{name}.toml -o \
             docker-compose/{name}/docker-compose.yml"
        );
        for (path, bytes) in &fresh {
            match ours.get(path) {
                None => panic!(
                    "docker-compose/{name}/{} is missing from the shipped export; {regenerate}",
                    path.display()
                ),
                Some(shipped) => assert!(
                    shipped == bytes,
                    "docker-compose/{name}/{} differs from what `firedrill compose` writes; \
                     {regenerate}",
                    path.display()
                ),
            }
        }
        if let Some(path) = ours.keys().find(|p| !fresh.contains_key(*p)) {
            panic!(
                "docker-compose/{name}/{} is not written by `firedrill compose` any more; \
                 remove it and {regenerate}",
                path.display()
            );
        }
    }
}

/// A compose file with the scenario's name taken out: what its topology is, whatever the
/// scenario's name and tunables (timings and pool sizes live in the configuration files).
fn layout(name: &str) -> String {
    let scenario =
        firedrill::scenario::load(&root().join("scenarios").join(format!("{name}.toml"))).unwrap();
    let export = firedrill::topology::compose::export(&scenario, "firedrill/base:layout").unwrap();
    export.compose.replace(&scenario.name, "NAME")
}

#[test]
fn every_topology_the_shipped_scenarios_drill_has_a_shipped_export() {
    let layouts: BTreeMap<String, String> = shipped()
        .into_iter()
        .map(|name| (layout(&name), name))
        .collect();
    assert_eq!(
        layouts.len(),
        shipped().len(),
        "two shipped exports are alike"
    );
    let mut scenarios: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    scenarios.sort();
    let mut covered = 0;
    for name in &scenarios {
        // The controls are setups broken on purpose, to prove a drill catches them.
        if name.starts_with("control-") {
            continue;
        }
        assert!(
            layouts.contains_key(&layout(name)),
            "scenarios/{name}.toml runs a topology no export in docker-compose/ has: ship \
             `firedrill compose scenarios/{name}.toml -o docker-compose/{name}/docker-compose.yml`"
        );
        covered += 1;
    }
    assert!(covered >= 20, "only {covered} scenarios checked");
}

#[test]
fn the_env_file_is_made_once_owner_only_and_named_on_the_terminal() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let scenario = root().join("scenarios/patroni-primary-crash.toml");
    // the default place: ./<scenario name>/docker-compose.yml
    let first = firedrill(tmp.path(), &["compose", scenario.to_str().unwrap()]);
    assert!(first.status.success());
    let stdout = String::from_utf8_lossy(&first.stdout);
    let dir = tmp.path().join("patroni-primary-crash");
    assert!(
        stdout.starts_with(
            "wrote patroni-primary-crash/docker-compose.yml: 8 services (disks, etcd1, etcd2, \
             etcd3, pg1, pg2, pg3, haproxy) and 4 configuration files\n\
             passwords: patroni-primary-crash/.env (generated now, readable by you only)\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(" -f patroni-primary-crash/docker-compose.yml up -d\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(" -f patroni-primary-crash/docker-compose.yml port haproxy 5432 "),
        "{stdout}"
    );
    assert!(
        stdout.contains(" -f patroni-primary-crash/docker-compose.yml down -v\n"),
        "{stdout}"
    );
    let env = dir.join(".env");
    let text = std::fs::read_to_string(&env).unwrap();
    let mode = std::fs::metadata(&env).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let passwords: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(_, v)| v))
        .collect();
    assert_eq!(passwords.len(), 3, "{}", text.lines().count());
    // no password on the terminal or in any other file
    for password in &passwords {
        assert_eq!(password.len(), 32);
        assert!(!stdout.contains(password));
        for (path, bytes) in tree(&dir) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(password),
                "{}",
                path.display()
            );
        }
    }

    // again: the operator's passwords stay
    let second = firedrill(tmp.path(), &["compose", scenario.to_str().unwrap()]);
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stdout)
            .contains("passwords: patroni-primary-crash/.env (already there, left as it was)\n")
    );
    assert_eq!(std::fs::read_to_string(&env).unwrap(), text);
}

#[test]
fn a_directory_given_to_o_gets_the_default_file_name_and_the_scenarios_image_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("own-image.toml");
    let text = std::fs::read_to_string(root().join("scenarios/patroni-primary-crash.toml"))
        .unwrap()
        .replacen(
            "\n[topology]",
            "\nimage = \"registry.example/pg-ha:15\"\n[topology]",
            1,
        );
    assert!(text.contains("image = "), "{text}");
    std::fs::write(&path, text).unwrap();
    for out in ["existing", "new/"] {
        std::fs::create_dir_all(tmp.path().join("existing")).unwrap();
        let output = firedrill(tmp.path(), &["compose", path.to_str().unwrap(), "-o", out]);
        assert!(output.status.success(), "{out}");
        let file = tmp.path().join(out).join("docker-compose.yml");
        let compose = std::fs::read_to_string(&file).unwrap();
        assert!(
            compose.contains("    image: \"registry.example/pg-ha:15\"\n"),
            "{compose}"
        );
        assert!(!compose.contains("firedrill/base"));
        assert!(
            String::from_utf8_lossy(&output.stdout)
                .contains("image: registry.example/pg-ha:15 (the scenario's own)\n")
        );
    }
}

#[test]
fn a_bad_scenario_fails_as_validate_fails_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\ndescription = \"x\"\nduration = \"60s\"\n[topology.patroni]\nnodes = 0\n",
    )
    .unwrap();
    let missing = tmp.path().join("missing.toml");
    for file in [&bad, &missing] {
        let file = file.to_str().unwrap();
        let compose = firedrill(
            tmp.path(),
            &["compose", file, "-o", "out/docker-compose.yml"],
        );
        let validate = firedrill(tmp.path(), &["validate", file]);
        assert_eq!(compose.status.code(), Some(2), "{file}");
        assert_eq!(validate.status.code(), Some(2), "{file}");
        let said = String::from_utf8_lossy(&compose.stderr);
        assert!(said.starts_with(&format!("error: {file}")), "{said}");
        assert_eq!(said, String::from_utf8_lossy(&validate.stderr));
        assert!(compose.stdout.is_empty());
    }
    assert!(!tmp.path().join("out").exists());
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn help_says_where_the_files_go_and_the_secrets_rule() {
    let help = firedrill(&root(), &["compose", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for phrase in [
        "Default: ./<scenario name>/docker-compose.yml",
        "generated only when it does not exist yet",
        "io.firedrill.compose=<scenario name>",
        "2 bad scenario",
    ] {
        assert!(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains(phrase),
            "{phrase:?} in\n{text}"
        );
    }
}
