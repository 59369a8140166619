//! Python packages the base image takes from PyPI instead of Debian, where Debian's version has
//! a bug a drill would report as the stack's behaviour. Each is pinned by version and sha256:
//! pip downloads it on the host (`pip download --require-hashes`, from whatever index pip is
//! configured with), and pip itself, run from its own wheel inside the new root file system,
//! installs it there without any index.

use std::path::Path;
use tokio::process::Command;

/// One pinned wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wheel {
    pub name: &'static str,
    pub version: &'static str,
    /// sha256 of the wheel file, as PyPI lists it.
    pub sha256: &'static str,
}

impl Wheel {
    /// The wheel's file name (pure-Python wheels only).
    pub fn file(&self) -> String {
        format!("{}-{}-py3-none-any.whl", self.name, self.version)
    }

    /// The requirement line pip checks the download against.
    fn requirement(&self) -> String {
        format!(
            "{}=={} --hash=sha256:{}",
            self.name, self.version, self.sha256
        )
    }
}

/// pip, run from its wheel inside the image to install the others (the image has no pip).
pub const PIP: Wheel = Wheel {
    name: "pip",
    version: "24.0",
    sha256: "ba0d021a166865d2265246961bec0152ff124de910c5cc39f1156ce3fa7c69dc",
};

/// Where the wheels are copied inside the root file system while it is built.
const INSIDE: &str = "/tmp/firedrill-wheels";

/// Why the wheels could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error(
        "cannot build the base image: python3 with pip is needed to fetch {wheels} from PyPI (Debian: apt-get install python3-pip); or drill an image of your own (a scenario's `image` key, or --image on run and up)"
    )]
    PipMissing { wheels: String },
    #[error("cannot fetch {wheels}: pip download exited with {status}: {tail}")]
    Download {
        wheels: String,
        status: String,
        tail: String,
    },
    #[error("cannot fetch {wheels}: {source}")]
    Io {
        wheels: String,
        source: std::io::Error,
    },
}

/// Downloads `wheels` and pip's own into `dir`, each checked against its sha256.
pub async fn download(wheels: &[Wheel], dir: &Path) -> Result<(), WheelError> {
    let all: Vec<Wheel> = std::iter::once(PIP).chain(wheels.iter().copied()).collect();
    let named = all
        .iter()
        .map(|w| format!("{} {}", w.name, w.version))
        .collect::<Vec<_>>()
        .join(", ");
    let io = |source| WheelError::Io {
        wheels: named.clone(),
        source,
    };
    let requirements = dir.join("requirements.txt");
    let lines: String = all.iter().map(|w| w.requirement() + "\n").collect();
    std::fs::write(&requirements, lines).map_err(io)?;
    let output = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--require-hashes", "--disable-pip-version-check", "--quiet"])
        .arg("--dest")
        .arg(dir)
        .arg("--requirement")
        .arg(&requirements)
        .kill_on_drop(true)
        .output()
        .await;
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(WheelError::PipMissing { wheels: named });
        }
        Err(e) => return Err(io(e)),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named pip") {
        return Err(WheelError::PipMissing { wheels: named });
    }
    if !output.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        return Err(WheelError::Download {
            wheels: named,
            status: output.status.to_string(),
            tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(())
}

/// mmdebstrap customize hooks that install the wheels downloaded into `dir`: copy them into the
/// root, install them with pip run from its wheel (no index, no dependencies: those are Debian
/// packages of the recipe), remove the copies.
pub fn install_hooks(wheels: &[Wheel], dir: &Path) -> Vec<String> {
    let files: Vec<String> = wheels
        .iter()
        .map(|w| format!("{INSIDE}/{}", w.file()))
        .collect();
    vec![
        format!(
            "mkdir -p \"$1{INSIDE}\" && cp {}/*.whl \"$1{INSIDE}/\"",
            shell_quote(&dir.display().to_string())
        ),
        // A clean environment: the host's pip settings (an index, find-links) mean nothing here.
        format!(
            "chroot \"$1\" env -i PATH=/usr/bin:/bin python3 {INSIDE}/{pip}/pip install --no-index \
             --no-deps --no-cache-dir --break-system-packages \
             --root-user-action=ignore --disable-pip-version-check --quiet {files}",
            pip = PIP.file(),
            files = files.join(" ")
        ),
        format!("rm -rf \"$1{INSIDE}\""),
    ]
}

/// Python code printing `pypi:NAME=VERSION` for each distribution installed under /usr/local
/// (by pip from a wheel; Debian's are under /usr/lib): the image's package label and a run's
/// record (read from a running node) list the same.
pub const LIST_INSTALLED: &str = "import importlib.metadata as m; \
    [print('pypi:' + d.metadata['Name'].lower() + '=' + d.version) for d in m.distributions() \
    if str(d.locate_file('')).startswith('/usr/local/')]";

/// A customize hook printing what [`LIST_INSTALLED`] lists in the root (to stdout, which the
/// caller sends to the manifest).
pub fn manifest_hook() -> String {
    format!("chroot \"$1\" env -i PATH=/usr/bin:/bin python3 -c \"{LIST_INSTALLED}\"")
}

/// `text` as one shell word: in single quotes, each single quote in it closed, escaped and
/// opened again.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: Wheel = Wheel {
        name: "patroni",
        version: "3.0.4",
        sha256: "f43f7adcd0b498dd58888cbd4d123a30312e8ddc66bdbf9f400999af2d8d8655",
    };

    #[test]
    fn hooks_install_the_wheels_with_pip_from_its_own_wheel_and_leave_nothing() {
        let hooks = install_hooks(&[SAMPLE], Path::new("/tmp/w"));
        insta::assert_snapshot!(hooks.join("\n"), @r#"
        mkdir -p "$1/tmp/firedrill-wheels" && cp '/tmp/w'/*.whl "$1/tmp/firedrill-wheels/"
        chroot "$1" env -i PATH=/usr/bin:/bin python3 /tmp/firedrill-wheels/pip-24.0-py3-none-any.whl/pip install --no-index --no-deps --no-cache-dir --break-system-packages --root-user-action=ignore --disable-pip-version-check --quiet /tmp/firedrill-wheels/patroni-3.0.4-py3-none-any.whl
        rm -rf "$1/tmp/firedrill-wheels"
        "#);
        assert_eq!(shell_quote("/tmp/it's"), "'/tmp/it'\\''s'");
        insta::assert_snapshot!(manifest_hook(), @r#"chroot "$1" env -i PATH=/usr/bin:/bin python3 -c "import importlib.metadata as m; [print('pypi:' + d.metadata['Name'].lower() + '=' + d.version) for d in m.distributions() if str(d.locate_file('')).startswith('/usr/local/')]""#);
        assert_eq!(
            SAMPLE.requirement(),
            "patroni==3.0.4 --hash=sha256:f43f7adcd0b498dd58888cbd4d123a30312e8ddc66bdbf9f400999af2d8d8655"
        );
    }
}
