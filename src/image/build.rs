use super::Recipe;
use crate::engine::EngineError;
use crate::progress::{DrillEvent, Progress, Step};
use bollard::Docker;
use bollard::query_parameters::CreateImageOptions;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;
use thiserror::Error;
use tokio::io::AsyncBufReadExt;
use tokio::process::Command;

#[derive(Debug, Error)]
pub enum ImageError {
    #[error(
        "cannot build the base image: mmdebstrap is not installed (Debian: apt-get install mmdebstrap), or name an image of your own with --image"
    )]
    MmdebstrapMissing,
    #[error(
        "cannot build the base image: no Debian apt sources found at {tried}; set FIREDRILL_APT_SOURCES to a sources file"
    )]
    NoAptSources { tried: String },
    #[error("image build failed: mmdebstrap exited with {status}: {tail}")]
    Mmdebstrap { status: String, tail: String },
    #[error("image build failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "image {name} not found in the docker engine: it is {from}; no registry is used, so build or load it first, or {instead}",
        from = from.describe(),
        instead = from.instead()
    )]
    Missing { name: String, from: ImageSource },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Wheels(#[from] super::WheelError),
}

/// Who chose the image a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// firedrill's own base image, built from its recipe when missing.
    Base,
    /// The scenario file's `image` key.
    Scenario,
    /// The command line's `--image` (or `DrillOptions::image`), which overrides the scenario's.
    Option,
    /// `[topology.app] image`: the application servers' own image (beside the run's).
    AppServers,
}

impl ImageSource {
    fn describe(&self) -> &'static str {
        match self {
            ImageSource::Base => "firedrill's base image",
            ImageSource::Scenario => "the one the scenario's `image` key names",
            ImageSource::Option => "the one --image names",
            ImageSource::AppServers => {
                "the application servers' own, named by `[topology.app] image`"
            }
        }
    }

    fn instead(&self) -> &'static str {
        match self {
            ImageSource::Base => "run `firedrill image build`",
            ImageSource::Scenario => {
                "remove `image` from the scenario to run firedrill's base image"
            }
            ImageSource::Option => "leave out --image to run firedrill's base image",
            ImageSource::AppServers => {
                "remove `image` from [topology.app] to run firedrill's reference server"
            }
        }
    }
}

/// An image present in the engine.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageRef {
    pub tag: String,
    pub id: String,
    /// Whether this call built it (false: it was already there).
    pub built: bool,
}

/// Returns the recipe's image, building it first if the engine does not have it.
pub async fn ensure(
    docker: &Docker,
    recipe: &Recipe,
    progress: &Progress,
) -> Result<ImageRef, ImageError> {
    let tag = recipe.tag();
    let present = |id| ImageRef {
        tag: tag.clone(),
        id,
        built: false,
    };
    if let Some(id) = image_id(docker, &tag).await? {
        return Ok(present(id));
    }
    // One build of a recipe at a time on this machine: drills started together on a fresh
    // machine (a team's tests, CI) would each run mmdebstrap for the same image. The others
    // wait for the first and find its image.
    let _building = build_lock(&tag).await?;
    if let Some(id) = image_id(docker, &tag).await? {
        return Ok(present(id));
    }
    build(docker, recipe, progress).await
}

fn build_lock_path(tag: &str) -> std::path::PathBuf {
    let name: String = tag
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    std::env::temp_dir().join(format!("firedrill-build-{name}.lock"))
}

/// An exclusive lock on a file named after the tag in the temporary directory, held until the
/// returned file is dropped.
async fn build_lock(tag: &str) -> Result<std::fs::File, ImageError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(build_lock_path(tag))?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(std::io::Error::other)?
        .map_err(ImageError::from)
}

/// The id of an image by name, if the engine has it.
pub async fn image_id(docker: &Docker, name: &str) -> Result<Option<String>, EngineError> {
    match docker.inspect_image(name).await {
        Ok(image) => Ok(image.id),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(EngineError::call(format!("inspect image {name}"))(e)),
    }
}

/// Builds the recipe's image: mmdebstrap writes a root file system tarball to stdout, streamed
/// straight into the engine's import. A failed mmdebstrap aborts the import, so no half image is
/// ever tagged.
pub async fn build(
    docker: &Docker,
    recipe: &Recipe,
    progress: &Progress,
) -> Result<ImageRef, ImageError> {
    let started = Instant::now();
    let step = Step::ImageBuild { tag: recipe.tag() };
    progress.send(DrillEvent::Began { step: step.clone() });
    let mmdebstrap = which("mmdebstrap").ok_or(ImageError::MmdebstrapMissing)?;
    let sources = apt_sources()?;
    // The installed packages, written by a last hook to a file of the host: mmdebstrap runs its
    // hooks before it writes the tarball, so the file is complete when the first byte arrives.
    let manifest_file = tempfile::NamedTempFile::new()?;
    let manifest_path = super::wheels::shell_quote(&manifest_file.path().display().to_string());
    let mut manifest_hook = format!(
        "--customize-hook=chroot \"$1\" dpkg-query -W -f='${{Package}}=${{Version}}\\n' > {manifest_path}"
    );
    let wheel_dir = tempfile::tempdir()?;
    let mut wheel_hooks = Vec::new();
    if !recipe.wheels.is_empty() {
        super::wheels::download(&recipe.wheels, wheel_dir.path()).await?;
        wheel_hooks = super::wheels::install_hooks(&recipe.wheels, wheel_dir.path());
        manifest_hook.push_str(&format!(
            " && {} >> {manifest_path}",
            super::wheels::manifest_hook()
        ));
    }
    let mut child = Command::new(mmdebstrap)
        .arg(format!("--variant={}", recipe.variant))
        .arg(format!("--include={}", recipe.packages.join(",")))
        .args(
            recipe
                .customize
                .iter()
                .map(|h| format!("--customize-hook={h}"))
                .chain(wheel_hooks.iter().map(|h| format!("--customize-hook={h}"))),
        )
        .arg(manifest_hook)
        .arg(recipe.suite)
        .arg("-")
        .arg(&sources)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    // mmdebstrap's "I: ..." lines are the build's progress; keep the tail for errors.
    let progress_lines = progress.clone();
    let stderr_task = tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut tail: Vec<String> = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            progress_lines.send(DrillEvent::BuildOutput { line: line.clone() });
            tail.push(line);
            if tail.len() > 20 {
                tail.remove(0);
            }
        }
        tail
    });

    // The first bytes of the tarball: by then the manifest is written (or mmdebstrap failed).
    let mut first = vec![0u8; 64 << 10];
    let n = tokio::io::AsyncReadExt::read(&mut stdout, &mut first).await?;
    first.truncate(n);
    let manifest = std::fs::read_to_string(manifest_file.path()).unwrap_or_default();
    let mut changes = recipe.changes.clone();
    if let Some(label) = package_labels(&manifest) {
        changes.push(label);
    }

    // The tarball, then the exit status: an error item aborts the import request.
    let (status_tx, status_rx) = tokio::sync::oneshot::channel::<std::io::Result<()>>();
    let tarball =
        futures_util::stream::once(
            async move { Ok::<_, std::io::Error>(bytes::Bytes::from(first)) },
        )
        .chain(tokio_util::io::ReaderStream::new(stdout))
        .chain(
            futures_util::stream::once(async move {
                match status_rx.await {
                    Ok(Err(e)) => Some(Err(e)),
                    _ => None,
                }
            })
            .filter_map(|item| async move { item }),
        );
    let tag = recipe.tag();
    let (repo, version) = tag.split_once(':').expect("tags have a colon");
    let import = docker
        .create_image(
            Some(CreateImageOptions {
                from_src: Some("-".into()),
                repo: Some(repo.into()),
                tag: Some(version.into()),
                changes: changes.clone(),
                ..Default::default()
            }),
            Some(bollard::body_try_stream(tarball)),
            None,
        )
        .try_collect::<Vec<_>>();
    let waiter = async {
        let status = child.wait().await;
        let outcome = match &status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(std::io::Error::other(format!("mmdebstrap exited with {s}"))),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        };
        let _ = status_tx.send(outcome);
        status
    };
    let (imported, status) = tokio::join!(import, waiter);
    let tail = stderr_task.await.unwrap_or_default().join("\n");
    let status = status?;
    if !status.success() {
        return Err(ImageError::Mmdebstrap {
            status: status.to_string(),
            tail,
        });
    }
    imported.map_err(EngineError::call(format!("import image {tag}")))?;
    let id = image_id(docker, &tag)
        .await?
        .ok_or_else(|| ImageError::Missing {
            name: tag.clone(),
            from: ImageSource::Base,
        })?;
    progress.send(DrillEvent::Ended {
        step,
        took: started.elapsed(),
    });
    Ok(ImageRef {
        tag,
        id,
        built: true,
    })
}

/// The image label holding the installed packages: `name=version` for each, by name,
/// separated by spaces (names and versions hold none).
pub const LABEL_PACKAGES: &str = "io.firedrill.packages";
/// The image label holding [`packages_sha256`] of those packages.
pub const LABEL_PACKAGES_SHA256: &str = "io.firedrill.packages.sha256";

/// The packages of a manifest (`name=version` items separated by spaces or newlines, in any
/// order), by name.
pub fn parse_packages(manifest: &str) -> BTreeMap<String, String> {
    manifest
        .split_whitespace()
        .filter_map(|item| item.split_once('='))
        .filter(|(name, version)| !name.is_empty() && !version.is_empty())
        .map(|(name, version)| (name.to_string(), version.to_string()))
        .collect()
}

/// sha256 of the packages as sorted `name=version` lines, each ending in a newline: the same
/// set of packages gives the same digest whatever order or separator they were listed with.
pub fn packages_sha256(packages: &BTreeMap<String, String>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (name, version) in packages {
        hash.update(format!("{name}={version}\n"));
    }
    hex::encode(hash.finalize())
}

/// The `LABEL` instruction carrying the manifest and its digest; `None` for an empty manifest.
fn package_labels(manifest: &str) -> Option<String> {
    let packages = parse_packages(manifest);
    if packages.is_empty() {
        return None;
    }
    let items: Vec<String> = packages.iter().map(|(n, v)| format!("{n}={v}")).collect();
    Some(format!(
        "LABEL {LABEL_PACKAGES}=\"{}\" {LABEL_PACKAGES_SHA256}=\"{}\"",
        items.join(" "),
        packages_sha256(&packages)
    ))
}

/// The host's own Debian apt sources: the mirror mmdebstrap installs from.
fn apt_sources() -> Result<PathBuf, ImageError> {
    let candidates: Vec<PathBuf> = match std::env::var_os("FIREDRILL_APT_SOURCES") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![
            "/etc/apt/sources.list.d/debian.sources".into(),
            "/etc/apt/sources.list".into(),
        ],
    };
    candidates
        .iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .map(|s| s.lines().any(is_active_source))
                .unwrap_or(false)
        })
        .cloned()
        .ok_or_else(|| ImageError::NoAptSources {
            tried: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn is_active_source(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("deb ") || line.starts_with("URIs:")
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_build_of_a_tag_waits_for_the_first() {
        let tag = format!("firedrill/lock-test:{:08x}", rand::random::<u32>());
        let first = build_lock(&tag).await.unwrap();
        let waiting = tokio::spawn({
            let tag = tag.clone();
            async move { build_lock(&tag).await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !waiting.is_finished(),
            "the second lock was taken while the first was held"
        );
        drop(first);
        waiting.await.unwrap().unwrap();
        // Another tag's build does not wait.
        let other = format!("{tag}-other");
        build_lock(&other).await.unwrap();
        for tag in [&tag, &other] {
            std::fs::remove_file(build_lock_path(tag)).unwrap();
        }
    }

    #[test]
    fn a_manifest_digest_depends_on_the_packages_not_their_listing() {
        let lines = parse_packages("zlib1g=1:1.2.13\npostgresql-15=15.10-0+deb12u1\n\n");
        let spaced = parse_packages("postgresql-15=15.10-0+deb12u1 zlib1g=1:1.2.13");
        assert_eq!(lines, spaced);
        assert_eq!(lines["zlib1g"], "1:1.2.13");
        assert_eq!(packages_sha256(&lines), packages_sha256(&spaced));
        let other = parse_packages("postgresql-15=15.11-0+deb12u1 zlib1g=1:1.2.13");
        assert_ne!(packages_sha256(&lines), packages_sha256(&other));
    }

    #[test]
    fn the_label_lists_every_package_and_its_digest() {
        let label = package_labels("b=2\na=1\n").unwrap();
        let digest = packages_sha256(&parse_packages("a=1 b=2"));
        assert_eq!(
            label,
            format!("LABEL {LABEL_PACKAGES}=\"a=1 b=2\" {LABEL_PACKAGES_SHA256}=\"{digest}\"")
        );
        assert_eq!(package_labels(""), None);
    }
}
