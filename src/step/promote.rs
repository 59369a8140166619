//! promote: the operator's procedure for a pair with no failover manager, run from the standby
//! as a runbook has it: wait until the primary has been unreachable from the standby for a
//! while (or act at once), fence the old primary (power it off: its container killed, so it can
//! never come back as a second primary), promote the standby (`pg_promote()`, which waits for
//! the promotion to complete). The virtual IP follows on its own: keepalived's track script
//! sees the new primary. The step records each instant; the measurements read them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Action, Context, Done, StepError};
use crate::fault::{Key, KeyForm};
use crate::history::At;
use crate::scenario::{KeyError, StepInput, Topology};
use crate::topology::kinds::{POSTGRES, postgres};
use crate::topology::{Cluster, Node, PG_PORT};

pub struct Promote;

/// How the old primary is fenced before the standby is promoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fence {
    /// Its container killed (SIGKILL), as a power fence turns a machine off.
    Kill,
    /// Not fenced: the procedure trusts that the primary is gone (the known-bad way).
    None,
}

/// `promote`'s keys, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoteParams {
    /// The standby to promote.
    pub node: String,
    /// Act once the primary has been unreachable from the standby this long; `None`: at once.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub when_unreachable: Option<Duration>,
    pub fence: Fence,
    /// The operator's own promotion script, run in the standby as root instead of
    /// `pg_promote()`; the step waits for the standby to leave recovery after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

/// How often the standby checks the primary while it waits, how long one check may take
/// (`pg_isready -t` and `timeout`, whole seconds: libpq takes 2 s at least), and how long the
/// engine may take to run one.
const CHECK_EVERY: Duration = Duration::from_millis(500);
const CHECK_TIMEOUT_SECS: u64 = 2;
const CHECK_BOUND: Duration = Duration::from_secs(5);
/// How long `pg_promote()` waits for the promotion to complete.
const PROMOTE_WAIT_SECS: u64 = 60;

impl Action for Promote {
    type Params = PromoteParams;
    const NAME: &'static str = "promote";
    const SUMMARY: &'static str = "the operator's promotion of a standby in a pair: with \
         `when_unreachable`, once the primary has been unreachable from the standby that long; \
         fences the old primary (`fence = \"kill\"`, the default, or \"none\") and promotes the \
         standby with pg_promote(), or with the operator's own `script`; the virtual IP follows";
    const KEYS: &'static [Key] = &[
        Key {
            name: "node",
            form: KeyForm::Text,
        },
        Key {
            name: "when_unreachable",
            form: KeyForm::Text,
        },
        Key {
            name: "fence",
            form: KeyForm::Text,
        },
        Key {
            name: "script",
            form: KeyForm::Text,
        },
    ];

    fn params(input: &mut StepInput<'_>) -> Result<PromoteParams, KeyError> {
        let node = match input.text("node") {
            None => postgres::name(2),
            Some(node) => {
                if input.kind_of(node.get_ref()) != Some(postgres::NAME) {
                    return Err(input.invalid(
                        node.span(),
                        "node",
                        format!(
                            "expected a PostgreSQL standby of the pair, found {:?}",
                            node.get_ref()
                        ),
                    ));
                }
                if *node.get_ref() == postgres::first() {
                    return Err(input.invalid(
                        node.span(),
                        "node",
                        format!(
                            "expected a standby, found {:?}: {} is the primary the pair starts \
                             with",
                            node.get_ref(),
                            postgres::first()
                        ),
                    ));
                }
                node.into_inner()
            }
        };
        let when_unreachable = match input.text("when_unreachable") {
            None => None,
            Some(text) => match humantime::parse_duration(text.get_ref()) {
                Ok(d) if !d.is_zero() => Some(d),
                _ => {
                    return Err(input.invalid(
                        text.span(),
                        "when_unreachable",
                        format!(
                            "expected a duration above zero such as \"5s\", found {:?}",
                            text.get_ref()
                        ),
                    ));
                }
            },
        };
        let fence = match input.text("fence") {
            None => Fence::Kill,
            Some(text) => match text.get_ref().as_str() {
                "kill" => Fence::Kill,
                "none" => Fence::None,
                other => {
                    return Err(input.invalid(
                        text.span(),
                        "fence",
                        format!("unknown fence {other:?}, expected one of: kill, none"),
                    ));
                }
            },
        };
        let script = match input.text("script") {
            Some(text) if text.get_ref().trim().is_empty() => {
                return Err(input.invalid(
                    text.span(),
                    "script",
                    "expected the promotion script's text (a multi-line string), found an empty \
                     one",
                ));
            }
            script => script.map(Spanned::into_inner),
        };
        Ok(PromoteParams {
            node,
            when_unreachable,
            fence,
            script,
        })
    }

    fn lacks(topology: &Topology) -> Option<String> {
        postgres::settings(topology)
            .is_none()
            .then(|| "a promotion needs a pair's standby: [topology] stack = \"pair\"".into())
    }

    /// Its own wait for the primary to be unreachable comes on top of the fault bound.
    fn bound(params: &PromoteParams, bounds: &crate::scenario::Bounds) -> Duration {
        bounds.fault + params.when_unreachable.unwrap_or_default() * 3
    }

    fn schedule_note(params: &PromoteParams) -> String {
        let when = params.when_unreachable.map_or(String::new(), |d| {
            format!(
                " once the primary is unreachable for {}",
                humantime::format_duration(d)
            )
        });
        let fence = match params.fence {
            Fence::Kill => "fencing the old primary",
            Fence::None => "not fencing the old primary",
        };
        format!(" of {}{when}, {fence}", params.node)
    }

    async fn run(ctx: Context<'_>, params: &PromoteParams) -> Result<Done, StepError> {
        let cluster = ctx.cluster;
        let standby = node(cluster, &params.node)?;
        let old = cluster
            .nodes_of(POSTGRES)
            .find(|n| n.name == cluster.initial_leader && n.name != standby.name)
            .cloned()
            .ok_or_else(|| {
                StepError::failed(format!(
                    "no primary to take over from: {} is the one the pair started with",
                    standby.name
                ))
            })?;
        ctx.ensure_owned(&standby).await?;
        ctx.ensure_owned(&old).await?;
        let started = ctx.clock.now();
        let mut done = Done::default()
            .value("node", &standby.name)
            .value("old_primary", &old.name);
        let mut detail = Vec::new();
        if let Some(wait) = params.when_unreachable {
            let since = unreachable_for(ctx, &standby, &old, wait).await?;
            detail.push(format!(
                "{} unreachable from {} since {} for {}",
                old.name,
                standby.name,
                since,
                humantime::format_duration(wait)
            ));
            done = done.value("unreachable_since", since);
        }
        let decided = ctx.clock.now();
        done = done.value("decided_at", decided);
        if params.fence == Fence::Kill {
            fence(cluster, &old).await?;
            let fenced = ctx.clock.now();
            detail.push(format!("killed {}", old.name));
            done = done.value("fenced_at", fenced);
        }
        let promoting = ctx.clock.now();
        match &params.script {
            None => promote(cluster, &standby).await?,
            Some(script) => {
                let said = run_script(cluster, &standby, &old, script).await?;
                detail.push(format!("the promotion script ran{said}"));
                wait_promoted(cluster, &standby).await?;
            }
        }
        let promoted = ctx.clock.now();
        detail.push(format!(
            "promoted {} ({:.3}s)",
            standby.name,
            (promoted
                .as_duration()
                .saturating_sub(promoting.as_duration()))
            .as_secs_f64()
        ));
        done.detail = Some(detail.join("; "));
        Ok(done
            .value("promote_sent_at", promoting)
            .value("promoted_at", promoted)
            .during(started, promoted))
    }
}

fn node(cluster: &Cluster, name: &str) -> Result<Node, StepError> {
    cluster
        .node(name)
        .cloned()
        .ok_or_else(|| StepError::Harness(format!("no node {name} in the cluster")))
}

/// Checks the primary from inside the standby every [`CHECK_EVERY`] until it has failed
/// every check for `wait`; returns the instant the first failed check of that run ended (the
/// primary had not answered by then). A check is `pg_isready`, cut off after
/// [`CHECK_TIMEOUT_SECS`] whatever libpq's own timeout does with a half-open connection; one
/// that the engine does not even finish within [`CHECK_BOUND`] (a starved host) fails too, as
/// an operator's check that hangs does.
async fn unreachable_for(
    ctx: Context<'_>,
    standby: &Node,
    primary: &Node,
    wait: Duration,
) -> Result<At, StepError> {
    let timeout = CHECK_TIMEOUT_SECS.to_string();
    let port = PG_PORT.to_string();
    let cmd = [
        "timeout",
        timeout.as_str(),
        "/usr/lib/postgresql/15/bin/pg_isready",
        "-q",
        "-h",
        primary.name.as_str(),
        "-p",
        port.as_str(),
        "-t",
        timeout.as_str(),
    ];
    let mut since: Option<At> = None;
    loop {
        let answer = tokio::time::timeout(
            CHECK_BOUND,
            crate::engine::exec(
                &ctx.cluster.docker,
                &standby.container,
                Some("postgres"),
                &cmd,
            ),
        )
        .await;
        let reachable = match answer {
            Ok(Ok(out)) => out.success(),
            Ok(Err(e)) => return Err(StepError::Engine(e)),
            Err(_) => false,
        };
        // a failed check says the primary gave no answer by the time it ended
        let ended = ctx.clock.now();
        if reachable {
            since = None;
        } else {
            let first = *since.get_or_insert(ended);
            if ended.as_duration() >= first.as_duration() + wait {
                return Ok(first);
            }
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

/// Kills the old primary's container; one already down is fenced as it is.
async fn fence(cluster: &Cluster, old: &Node) -> Result<(), StepError> {
    let running = cluster
        .docker
        .inspect_container(&old.container, None)
        .await
        .map_err(crate::engine::EngineError::call(format!(
            "inspect {}",
            old.name
        )))?
        .state
        .and_then(|s| s.running)
        .unwrap_or(false);
    if running {
        crate::fault::kill(cluster, std::slice::from_ref(old))
            .await
            .map_err(|e| StepError::failed(format!("fence {}: {e}", old.name)))?;
    }
    Ok(())
}

/// The operator's script, written to a file in the standby (under /root: Docker's tmpfs on
/// /tmp does not execute) and run as root there (its
/// `#!` line chooses the interpreter; without one, `sh`), with `FIREDRILL_NODE` (the
/// standby), `FIREDRILL_OLD_PRIMARY`, `PGDATA`, `PGHOST` (the local socket) and `PGUSER` set.
/// Exit 0 is done; its last line of output, if any, is returned for the detail.
async fn run_script(
    cluster: &Cluster,
    standby: &Node,
    old: &Node,
    script: &str,
) -> Result<String, StepError> {
    let wrapper = format!(
        "f=$(mktemp -p /root) && printf '%s' \"$1\" > \"$f\" && chmod 700 \"$f\" && \
         env FIREDRILL_NODE=\"$2\" FIREDRILL_OLD_PRIMARY=\"$3\" PGDATA={data} PGHOST=/tmp \
         PGUSER=postgres \"$f\" 2>&1; status=$?; rm -f \"$f\"; exit $status",
        data = crate::topology::kinds::patroni::DATA_DIR,
    );
    let out = crate::engine::exec_within(
        &cluster.docker,
        &standby.container,
        Some("root"),
        &[
            "sh",
            "-c",
            &wrapper,
            "promote",
            script,
            &standby.name,
            &old.name,
        ],
        (
            Duration::from_secs(PROMOTE_WAIT_SECS + 5),
            &format!("run the promotion script on {}", standby.name),
        ),
    )
    .await
    .map_err(StepError::failed)?;
    let last = out.stdout.lines().rev().find(|l| !l.trim().is_empty());
    if !out.success() {
        return Err(StepError::failed(format!(
            "the promotion script on {} exited {}{}",
            standby.name,
            out.exit_code.map_or("abnormally".into(), |c| c.to_string()),
            last.map_or(String::new(), |l| format!(": {}", l.trim()))
        )));
    }
    Ok(last.map_or(String::new(), |l| format!(" ({})", l.trim())))
}

/// Waits (at most [`PROMOTE_WAIT_SECS`]) for the standby to report itself a primary (the role
/// service: its server, not in recovery): a script that returned before its promotion
/// completed, or never promoted.
async fn wait_promoted(cluster: &Cluster, standby: &Node) -> Result<(), StepError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(PROMOTE_WAIT_SECS);
    loop {
        let report = cluster.self_report(standby, Duration::from_secs(1)).await;
        if matches!(report, Some(Ok(r)) if r.leads()) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StepError::failed(format!(
                "the promotion script exited 0, but {} was still in recovery {PROMOTE_WAIT_SECS} s \
                 later",
                standby.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `pg_promote()` on the standby, as the run's superuser, waiting for the promotion to
/// complete.
async fn promote(cluster: &Cluster, standby: &Node) -> Result<(), StepError> {
    let failed = |why: String| {
        StepError::failed(format!(
            "pg_promote() on {} did not promote it: {why}",
            standby.name
        ))
    };
    let ask = async {
        let db = cluster
            .connect(standby, Duration::from_secs(2))
            .await
            .map_err(|e| failed(e.text()))?;
        let row = db
            .query_one(
                &format!("SELECT pg_promote(true, {PROMOTE_WAIT_SECS})"),
                &[],
            )
            .await
            .map_err(|e| failed(crate::client::pg_error_text(&e)))?;
        match row.get::<_, bool>(0) {
            true => Ok(()),
            false => Err(failed(format!("not promoted within {PROMOTE_WAIT_SECS} s"))),
        }
    };
    tokio::time::timeout(Duration::from_secs(PROMOTE_WAIT_SECS + 5), ask)
        .await
        .unwrap_or_else(|_| Err(failed("no answer".into())))
}
