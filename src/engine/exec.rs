use super::EngineError;
use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

/// What a command run inside a container printed, and how it exited.
#[derive(Clone, Debug)]
pub struct ExecOutput {
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// `exec`, for at most `within`; errors as text beginning with `what` (what the command does,
/// on which node).
pub async fn exec_within(
    docker: &Docker,
    container: &str,
    user: Option<&str>,
    cmd: &[&str],
    (within, what): (std::time::Duration, &str),
) -> Result<ExecOutput, String> {
    tokio::time::timeout(within, exec(docker, container, user, cmd))
        .await
        .map_err(|_| {
            format!(
                "{what}: no answer within {}",
                humantime::format_duration(within)
            )
        })?
        .map_err(|e| format!("{what}: {e}"))
}

/// What a started command prints, as the engine streams it.
type Output = std::pin::Pin<
    Box<
        dyn futures_util::Stream<
                Item = Result<bollard::container::LogOutput, bollard::errors::Error>,
            > + Send,
    >,
>;

/// Creates and starts `cmd` in `container`, attached to its standard output (and its standard
/// error with `stderr`): the exec's id and its output (`None`: the engine did not attach).
async fn start(
    docker: &Docker,
    container: &str,
    user: Option<&str>,
    cmd: &[&str],
    stderr: bool,
) -> Result<(String, Option<Output>), EngineError> {
    let action = || format!("run {:?} in {container}", cmd.join(" "));
    let created = docker
        .create_exec(
            container,
            CreateExecOptions {
                attach_stdout: Some(true),
                attach_stderr: Some(stderr),
                user,
                cmd: Some(cmd.to_vec()),
                ..Default::default()
            },
        )
        .await
        .map_err(EngineError::call(action()))?;
    let output = match docker
        .start_exec(&created.id, None)
        .await
        .map_err(EngineError::call(action()))?
    {
        StartExecResults::Attached { output, .. } => Some(output),
        StartExecResults::Detached => None,
    };
    Ok((created.id, output))
}

/// Runs `cmd` inside `container` and waits for it to finish.
pub async fn exec(
    docker: &Docker,
    container: &str,
    user: Option<&str>,
    cmd: &[&str],
) -> Result<ExecOutput, EngineError> {
    let action = || format!("run {:?} in {container}", cmd.join(" "));
    let (id, output) = start(docker, container, user, cmd, true).await?;
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut output) = output {
        while let Some(chunk) = output.next().await {
            match chunk.map_err(EngineError::call(action()))? {
                bollard::container::LogOutput::StdErr { message } => {
                    stderr.push_str(&String::from_utf8_lossy(&message))
                }
                other => stdout.push_str(&String::from_utf8_lossy(&other.into_bytes())),
            }
        }
    }
    let inspect = docker
        .inspect_exec(&id)
        .await
        .map_err(EngineError::call(action()))?;
    Ok(ExecOutput {
        exit_code: inspect.exit_code,
        stdout,
        stderr,
    })
}

/// Runs `cmd` inside `container` and hands over what it prints on standard output, line by
/// line, as it prints it (a long-running watcher inside the node); the stream ends when the
/// command does (the container stopped). Standard error is dropped.
pub async fn exec_lines(
    docker: &Docker,
    container: &str,
    user: Option<&str>,
    cmd: &[&str],
) -> Result<futures_util::stream::BoxStream<'static, Result<String, EngineError>>, EngineError> {
    let action = format!("run {:?} in {container}", cmd.join(" "));
    let Some(output) = start(docker, container, user, cmd, false).await?.1 else {
        return Ok(futures_util::stream::empty().boxed());
    };
    // chunks do not follow lines: keep the unfinished tail for the next one
    let lines = output
        .scan(String::new(), move |pending, chunk| {
            let lines = match chunk {
                Ok(bollard::container::LogOutput::StdOut { message }) => {
                    pending.push_str(&String::from_utf8_lossy(&message));
                    let mut done = Vec::new();
                    while let Some(end) = pending.find('\n') {
                        done.push(Ok(pending[..end].to_owned()));
                        pending.drain(..=end);
                    }
                    done
                }
                Ok(_) => Vec::new(),
                Err(e) => vec![Err(EngineError::call(action.clone())(e))],
            };
            futures_util::future::ready(Some(futures_util::stream::iter(lines)))
        })
        .flatten();
    Ok(lines.boxed())
}
