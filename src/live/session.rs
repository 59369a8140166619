//! Where live sessions are and how commands reach them: one directory per session under the
//! sessions root, holding `control.sock` (the session's socket) and `session.json` (who it is).
//! A session whose `up` died leaves its directory: its socket no longer answers, so it is not
//! live, and the next `up` or `firedrill clean` removes it.

use super::{Answer, Request};
use serde::{Deserialize, Serialize};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

const SOCKET: &str = "control.sock";
const INFO: &str = "session.json";
/// A request is a line of JSON: a note or an inject of a few hundred bytes at most.
const MAX_REQUEST: usize = 64 * 1024;
/// How long a command waits to connect to a session (a live one answers at once).
pub const CONNECT_WITHIN: Duration = Duration::from_secs(2);

/// Who a live session is, as `session.json` holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub run_id: String,
    pub scenario: String,
    /// The `up` process.
    pub pid: u32,
    /// When it went live (RFC 3339): the latest live session is the default.
    pub started: String,
}

#[derive(Debug, Error)]
pub enum LiveError {
    #[error(
        "no live game-day session{}: start one with `firedrill up`",
        .run.as_ref().map(|r| format!(" {r}")).unwrap_or_default()
    )]
    NoSession { run: Option<String> },
    #[error("the sessions directory {}: {why}", .dir.display())]
    Directory { dir: PathBuf, why: String },
    #[error("session {run_id}: {why}")]
    Talk { run_id: String, why: String },
}

/// Where sessions live: `$FIREDRILL_SESSIONS`, else `$XDG_RUNTIME_DIR/firedrill`, else
/// `<temp dir>/firedrill-<uid>`.
pub fn sessions_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("FIREDRILL_SESSIONS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("firedrill");
    }
    std::env::temp_dir().join(format!("firedrill-{}", uid()))
}

/// This process's user id: the owner of `/proc/self`.
fn uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}

/// A directory only this user can enter, made if missing; one made by someone else, or open to
/// others, is refused (another user could otherwise put a socket where commands look).
fn private_dir(dir: &Path) -> Result<(), LiveError> {
    let refuse = |why: String| LiveError::Directory {
        dir: dir.to_path_buf(),
        why,
    };
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| refuse(format!("cannot create it: {e}")))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| refuse(format!("cannot make it owner-only: {e}")))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    if meta.uid() != uid() {
        return Err(refuse(format!(
            "owned by user {}, not by this user ({})",
            meta.uid(),
            uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(refuse(format!(
            "open to other users (mode {:o}); expected 700",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

/// A live session's directory and socket; dropping it removes the directory.
#[derive(Debug)]
pub struct Session {
    dir: PathBuf,
    listener: Option<UnixListener>,
}

impl Session {
    /// Makes the session's directory under `root`, its socket (0600) and `session.json`.
    /// Directories of dead sessions under `root` are removed first.
    pub fn open(root: &Path, info: &SessionInfo) -> Result<Session, LiveError> {
        private_dir(root)?;
        remove_dead(root);
        let dir = root.join(&info.run_id);
        let failed = |why: String| LiveError::Directory {
            dir: dir.clone(),
            why,
        };
        std::fs::create_dir(&dir).map_err(|e| failed(format!("cannot create it: {e}")))?;
        // from here on, the directory goes with the session
        let mut session = Session {
            dir: dir.clone(),
            listener: None,
        };
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| failed(format!("cannot make it owner-only: {e}")))?;
        let socket = dir.join(SOCKET);
        let listener =
            UnixListener::bind(&socket).map_err(|e| failed(format!("cannot listen: {e}")))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| failed(format!("cannot make the socket owner-only: {e}")))?;
        let json = serde_json::to_vec_pretty(info).expect("session info serializes");
        std::fs::write(dir.join(INFO), json)
            .map_err(|e| failed(format!("cannot write {INFO}: {e}")))?;
        session.listener = Some(listener);
        Ok(session)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join(SOCKET)
    }

    /// The listener, once: [`serve`] takes it.
    pub fn take_listener(&mut self) -> Option<UnixListener> {
        self.listener.take()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes the directories of sessions whose socket no longer answers (their `up` died).
fn remove_dead(root: &Path) {
    for (dir, _) in sessions(root) {
        if std::os::unix::net::UnixStream::connect(dir.join(SOCKET)).is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Every session directory under `root` with its info, readable or not.
fn sessions(root: &Path) -> Vec<(PathBuf, Option<SessionInfo>)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(SOCKET).exists() || p.join(INFO).exists())
        .map(|p| {
            let info = std::fs::read(p.join(INFO))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            (p, info)
        })
        .collect()
}

/// The live session `run` names, or the latest live one: its info and socket.
pub async fn find(root: &Path, run: Option<&str>) -> Result<(SessionInfo, PathBuf), LiveError> {
    let none = || LiveError::NoSession {
        run: run.map(str::to_owned),
    };
    if root.exists() {
        private_dir(root)?;
    }
    let mut live = Vec::new();
    for (dir, info) in sessions(root) {
        let Some(info) = info else { continue };
        if run.is_some_and(|r| r != info.run_id) {
            continue;
        }
        let socket = dir.join(SOCKET);
        let answers = tokio::time::timeout(CONNECT_WITHIN, UnixStream::connect(&socket)).await;
        if matches!(answers, Ok(Ok(_))) {
            live.push((info, socket));
        }
    }
    // RFC 3339 in UTC sorts as time does
    live.into_iter()
        .max_by(|a, b| a.0.started.cmp(&b.0.started))
        .ok_or_else(none)
}

/// Sends `request` to the session at `socket` and waits for its answer, at most `within`.
pub async fn ask(
    (run_id, socket): (&str, &Path),
    request: &Request,
    within: Duration,
) -> Result<Answer, LiveError> {
    let talk = |why: String| LiveError::Talk {
        run_id: run_id.to_owned(),
        why,
    };
    let exchange = async {
        let mut stream = UnixStream::connect(socket)
            .await
            .map_err(|e| talk(format!("cannot connect: {e}")))?;
        let mut line = serde_json::to_vec(request).expect("requests serialize");
        line.push(b'\n');
        stream
            .write_all(&line)
            .await
            .map_err(|e| talk(format!("cannot send: {e}")))?;
        let mut answer = String::new();
        BufReader::new(stream)
            .read_line(&mut answer)
            .await
            .map_err(|e| talk(format!("cannot read the answer: {e}")))?;
        if answer.is_empty() {
            return Err(talk(
                "the session closed without answering (its `up` ended or died)".into(),
            ));
        }
        serde_json::from_str(&answer).map_err(|e| talk(format!("unreadable answer: {e}")))
    };
    tokio::time::timeout(within, exchange).await.map_err(|_| {
        talk(format!(
            "no answer within {}",
            humantime::format_duration(within)
        ))
    })?
}

/// One request received, and where its answer goes.
pub type Incoming = (Request, Reply);

/// Where a request's answer goes: the connection it came on.
#[derive(Debug)]
pub struct Reply {
    answer: oneshot::Sender<Answer>,
    written: oneshot::Receiver<()>,
}

impl Reply {
    pub fn send(self, answer: Answer) {
        let _ = self.answer.send(answer);
    }

    /// Sends the answer and waits, at most `within`, until it is written to the command: the
    /// last answer of a session must reach `down` before the process ends.
    pub async fn deliver(self, answer: Answer, within: Duration) {
        if self.answer.send(answer).is_ok() {
            let _ = tokio::time::timeout(within, self.written).await;
        }
    }
}

/// Accepts commands on `listener` until the receiver of `requests` is gone: each connection's
/// request is handed over, and its answer written back when it comes.
pub async fn serve(listener: UnixListener, requests: mpsc::Sender<Incoming>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("game-day socket: {e}");
                    continue;
                }
            },
            _ = requests.closed() => return,
        };
        let requests = requests.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            // a request longer than MAX_REQUEST is cut there, and so refused as unreadable
            let mut reader = BufReader::new(AsyncReadExt::take(read, MAX_REQUEST as u64));
            let answer = match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => match serde_json::from_str::<Request>(&line) {
                    Err(e) => Answer::Refused {
                        error: format!("unreadable request: {e}"),
                    },
                    Ok(request) => {
                        let (tx, rx) = oneshot::channel();
                        let (written_tx, written) = oneshot::channel();
                        let reply = Reply {
                            answer: tx,
                            written,
                        };
                        if requests.send((request, reply)).await.is_err() {
                            return;
                        }
                        match rx.await {
                            Ok(answer) => {
                                write_answer(&mut write, &answer).await;
                                let _ = written_tx.send(());
                                return;
                            }
                            Err(_) => return,
                        }
                    }
                },
            };
            write_answer(&mut write, &answer).await;
        });
    }
}

async fn write_answer(write: &mut tokio::net::unix::OwnedWriteHalf, answer: &Answer) {
    let mut bytes = serde_json::to_vec(answer).expect("answers serialize");
    bytes.push(b'\n');
    let _ = write.write_all(&bytes).await;
    let _ = write.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(run_id: &str, started: &str) -> SessionInfo {
        SessionInfo {
            run_id: run_id.into(),
            scenario: "s".into(),
            pid: std::process::id(),
            started: started.into(),
        }
    }

    #[tokio::test]
    async fn a_command_reaches_the_latest_live_session_or_the_one_it_names() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().join("sessions");
        let mut first = Session::open(&root, &info("fd-00000001", "2026-11-28T10:00:00Z")).unwrap();
        let mut second =
            Session::open(&root, &info("fd-00000002", "2026-11-28T11:00:00Z")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&second.socket()), 0o600);
        for (session, name) in [(&mut first, "one"), (&mut second, "two")] {
            let (tx, mut rx) = mpsc::channel::<Incoming>(4);
            tokio::spawn(serve(session.take_listener().unwrap(), tx));
            tokio::spawn(async move {
                while let Some((request, reply)) = rx.recv().await {
                    reply.send(Answer::Refused {
                        error: format!("{name}: {request:?}"),
                    });
                }
            });
        }
        let (latest, socket) = find(&root, None).await.unwrap();
        assert_eq!(latest.run_id, "fd-00000002");
        let answer = ask(("fd-00000002", &socket), &Request::Status, CONNECT_WITHIN)
            .await
            .unwrap();
        assert_eq!(
            answer,
            Answer::Refused {
                error: "two: Status".into()
            }
        );
        let (named, socket) = find(&root, Some("fd-00000001")).await.unwrap();
        assert_eq!(named.run_id, "fd-00000001");
        let answer = ask(("fd-00000001", &socket), &Request::Down, CONNECT_WITHIN)
            .await
            .unwrap();
        assert_eq!(
            answer,
            Answer::Refused {
                error: "one: Down".into()
            }
        );
        assert!(matches!(
            find(&root, Some("fd-00000009")).await,
            Err(LiveError::NoSession { .. })
        ));

        // a session gone: its directory goes with it, and the other is the latest
        drop(second);
        let (latest, _) = find(&root, None).await.unwrap();
        assert_eq!(latest.run_id, "fd-00000001");
        drop(first);
        assert_eq!(
            find(&root, None).await.unwrap_err().to_string(),
            "no live game-day session: start one with `firedrill up`"
        );
    }

    #[test]
    fn a_sessions_directory_open_to_others_is_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = Session::open(root.path(), &info("fd-1", "x")).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("open to other users (mode 755); expected 700"),
            "{error}"
        );
    }
}
