//! Compose export: a scenario's topology as a compose file (format 2.4, which Debian's
//! docker-compose 1.29 and compose v2 both read), so an operator can start by hand the stack
//! firedrill drills.
//!
//! Everything comes from the stack's own plan, rendered as a drill renders it, with one
//! difference: the secrets are in the nodes' environment, not their files
//! ([`SecretsAt::Env`]), so that the configuration files written beside the compose file hold
//! none. The passwords go into an env file beside it (`.env`, which compose reads by itself),
//! generated once and never overwritten. Nothing in the export is random: the same scenario
//! gives the same files.
//!
//! What a drill does that the file mirrors: the same image, commands, users, files (bind-mounted
//! read-only), capabilities, an init as PID 1, a tmpfs /tmp, in-memory disks held by a keeper
//! container, one network, every port published on 127.0.0.1 (on the host port the scenario
//! fixed, or one the engine chooses), and the plan's start order (a group starts once the one
//! before it has started). Health checks are each kind's own ([`Health`]).

use super::containers::{TMP, published_ports};
use super::disks::{KEEPER_CMD, disk_name, kept_at, volume_options};
use super::kind::Render;
use super::stacks::{self, ClientEndpoint, Ready, ReadyBound, StartGroup};
use super::{Cluster, Health, Node, NodeSpec, Secret, Secrets, SecretsAt, TopologyError};
use crate::engine::{EngineError, LABEL_COMPOSE, label_filter};
use crate::progress::Progress;
use crate::scenario::Scenario;
use bollard::Docker;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The compose file format: health checks, `depends_on` conditions, tmpfs, init and labels on
/// networks and volumes, in a format docker-compose 1.29 reads as well as compose v2.
pub const FILE_VERSION: &str = "2.4";
/// The env file beside the compose file, holding the passwords.
pub const ENV_FILE: &str = ".env";
/// The service holding every node's disk mounted (a drill's disk keeper).
pub const KEEPER: &str = "disks";

/// Why an export could not be made, written or attached to.
#[derive(Debug, Error)]
pub enum ComposeError {
    #[error("no stack named {0:?}")]
    NoStack(String),
    #[error("node {node} has two files named {name}: {first} and {second}")]
    FileClash {
        node: String,
        name: String,
        first: String,
        second: String,
    },
    #[error("failed to write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no value for {var}", path.display())]
    EnvMissing { path: PathBuf, var: &'static str },
    #[error(
        "the {stack} stack's export cannot run the application image {image}: it is told the \
         database's address, and the virtual IP's is known only once the compose tool has made \
         the network (firedrill's reference server computes it; a drill tells your image)"
    )]
    OwnAppImageAtVirtualIp { stack: &'static str, image: String },
}

/// Where an export's clients connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAt {
    /// A service's port, published on 127.0.0.1.
    Service(String, u16),
    /// The virtual IP on the project's network (its last usable address), this port, over the
    /// bridge.
    VirtualIp(u16),
    /// Wherever the arbiters (Sentinels, this service prefix and port) name the primary
    /// (`service`).
    Discovery {
        arbiter: String,
        port: u16,
        service: String,
    },
}

impl ClientAt {
    /// How to connect, in one line for the compose file's heading and the command's output.
    pub fn how(&self, tool: &str) -> String {
        match self {
            ClientAt::Service(service, port) => format!(
                "{tool} port {service} {port}   (the host port on 127.0.0.1; user postgres)"
            ),
            ClientAt::VirtualIp(port) => format!(
                "the virtual IP, port {port}: the project network's last usable address \
                 (`docker network inspect`), over the bridge from this host; user postgres"
            ),
            ClientAt::Discovery {
                arbiter,
                port,
                service,
            } => format!(
                "ask a {arbiter} for the master ({tool} port {arbiter}1 {port}, then `SENTINEL \
                 get-master-addr-by-name {service}`): its address on the project network, over \
                 the bridge from this host"
            ),
        }
    }
}

/// A scenario's topology as compose sees it: the compose file and the configuration files
/// beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The scenario's name: every object's `io.firedrill.compose` label.
    pub scenario: String,
    pub image: String,
    /// The compose file's text.
    pub compose: String,
    /// The configuration files, by path relative to the compose file's directory
    /// (`pg1/patroni.yml`).
    pub files: Vec<ExportFile>,
    /// The services, in start order, the disk keeper first if there is one.
    pub services: Vec<String>,
    /// The service clients connect through, and its port in the container.
    pub client_endpoint: ClientAt,
    /// The service in front of the application tier and its HTTP port in the container, if the
    /// topology has a tier.
    pub tier_endpoint: Option<(String, u16)>,
}

/// How to reach an application tier's HTTP endpoint with `tool`.
pub fn tier_how(tool: &str, (service, port): &(String, u16)) -> String {
    format!(
        "{tool} port {service} {port}   (HTTP, the host port on 127.0.0.1: POST /writes/{{seq}}, \
         GET /writes/latest)"
    )
}

/// A configuration file of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFile {
    /// Relative to the compose file's directory.
    pub path: PathBuf,
    pub contents: String,
    pub mode: u32,
}

/// What [`write`] wrote.
#[derive(Clone, Debug)]
pub struct Written {
    pub compose: PathBuf,
    pub files: Vec<PathBuf>,
    pub env: PathBuf,
    /// Whether the env file was made now (`false`: it was there and was left as it was).
    pub env_created: bool,
    /// Passwords the env file, found there, lacks: compose refuses to start without them.
    pub env_missing: Vec<&'static str>,
    /// The env file, found there, can be read by others than its owner.
    pub env_readable_by_others: bool,
}

/// The stack's plan for `scenario`, rendered with the secrets in the nodes' environment.
fn plan(
    scenario: &Scenario,
) -> Result<(&'static dyn stacks::Stack, Vec<StartGroup>), ComposeError> {
    let stack = stacks::named(&scenario.topology.stack)
        .ok_or_else(|| ComposeError::NoStack(scenario.topology.stack.clone()))?;
    // An own application image is told the database's address; the virtual IP's is known
    // only once the compose tool has made the network (the reference server computes it).
    let own_app_image = crate::topology::kinds::app::settings(&scenario.topology)
        .and_then(|tier| tier.image.as_deref());
    if let (ClientEndpoint::VirtualIp { .. }, Some(image)) =
        (stack.client_endpoint(), own_app_image)
    {
        return Err(ComposeError::OwnAppImageAtVirtualIp {
            stack: stack.name(),
            image: image.to_owned(),
        });
    }
    let groups = stack.plan(&Render {
        topology: &scenario.topology,
        secrets: SecretsAt::Env,
        run_id: &scenario.name,
        virtual_ip: None,
    });
    Ok((stack, groups))
}

/// The image an export runs: the scenario's own, or firedrill's base image.
pub fn image_of(scenario: &Scenario) -> String {
    scenario
        .image
        .clone()
        .unwrap_or_else(|| crate::image::base_recipe().tag())
}

/// Renders the export of `scenario`'s topology, running `image`.
pub fn export(scenario: &Scenario, image: &str) -> Result<Export, ComposeError> {
    let (stack, groups) = plan(scenario)?;
    let mut files = Vec::new();
    for spec in groups.iter().flat_map(|g| &g.specs) {
        files.extend(node_files(spec)?);
    }
    let client = match stack.client_endpoint() {
        ClientEndpoint::Node(endpoint) => ClientAt::Service(
            endpoint.to_owned(),
            groups
                .iter()
                .flat_map(|g| &g.specs)
                .find(|s| s.name == endpoint)
                .and_then(|s| s.kind.kind().serves())
                .map_or(0, |serves| serves.port),
        ),
        ClientEndpoint::VirtualIp { port } => ClientAt::VirtualIp(port),
        ClientEndpoint::Discovery {
            arbiter,
            port,
            service,
        } => ClientAt::Discovery {
            arbiter: arbiter.to_owned(),
            port,
            service: service.to_owned(),
        },
    };
    // The HTTP endpoint in front of an application tier, if the topology has one.
    let tier = groups.iter().flat_map(|g| &g.specs).find_map(|s| {
        let port = s.kind.kind().serves()?.tier?;
        s.ports.contains(&port).then(|| (s.name.clone(), port))
    });
    let label = &scenario.name;
    let mut out = String::new();
    header(&mut out, scenario, image, &client, tier.as_ref());
    let _ = writeln!(out, "version: {}\n\nservices:", quote(FILE_VERSION));

    // Volumes, by name, in the order the nodes name them: the keeper mounts each once.
    let mut volumes: Vec<(String, &super::Disk)> = Vec::new();
    for spec in groups.iter().flat_map(|g| &g.specs) {
        for (i, disk) in spec.disks.iter().enumerate() {
            let name = disk_name(&spec.name, i, disk);
            if !volumes.iter().any(|(v, _)| *v == name) {
                volumes.push((name, disk));
            }
        }
    }
    let mut services = Vec::new();
    if !volumes.is_empty() {
        keeper(&mut out, image, label, &volumes);
        services.push(KEEPER.to_owned());
    }

    // Each group waits for the last non-empty one before it to have started, as a drill's
    // bring-up does. The first waits for the keeper.
    let mut before: Option<Vec<&str>> = None;
    for group in groups.iter().filter(|g| !g.specs.is_empty()) {
        let depends: Vec<(&str, &str)> = match &before {
            Some(names) => names.iter().map(|n| (*n, "service_started")).collect(),
            None if !volumes.is_empty() => vec![(KEEPER, "service_started")],
            None => vec![],
        };
        for spec in &group.specs {
            service(&mut out, spec, image, label, &depends);
            services.push(spec.name.clone());
        }
        before = Some(group.specs.iter().map(|s| s.name.as_str()).collect());
    }

    let _ = writeln!(out, "\nnetworks:\n  default:");
    labels(&mut out, 4, label);
    if !volumes.is_empty() {
        let _ = writeln!(out, "\nvolumes:");
        for (name, disk) in &volumes {
            let _ = writeln!(out, "  {name}:\n    driver: local\n    driver_opts:");
            for (key, value) in volume_options(disk) {
                let _ = writeln!(out, "      {key}: {}", quote(&value));
            }
            labels(&mut out, 4, label);
        }
    }

    Ok(Export {
        scenario: scenario.name.clone(),
        image: image.to_owned(),
        compose: out,
        files,
        services,
        client_endpoint: client,
        tier_endpoint: tier,
    })
}

/// The comment heading the compose file.
fn header(
    out: &mut String,
    scenario: &Scenario,
    image: &str,
    client: &ClientAt,
    tier: Option<&(String, u16)>,
) {
    let _ = writeln!(
        out,
        "# The topology of the firedrill scenario {:?}, exported by `firedrill compose`.\n\
         # Regenerate it rather than edit it. The configuration files beside it are bind-mounted\n\
         # read-only; the passwords are in {ENV_FILE} beside it (generated once, never overwritten,\n\
         # owner-only), and no other file holds one.\n\
         #\n\
         # In this directory (or with `docker compose` for `docker-compose`):\n\
         #   start:   docker-compose up -d\n\
         #   connect: {connect}\n{api}\
         #   stop:    docker-compose down -v   (removes the containers, the network and the disks)\n\
         #\n\
         # Image {image}: {origin}.",
        scenario.name,
        connect = client.how("docker-compose"),
        api = tier.map_or_else(String::new, |t| format!(
            "#   api:     {}\n",
            tier_how("docker-compose", t)
        )),
        origin = if scenario.image.is_some() {
            "the scenario's own"
        } else {
            "firedrill's base image, built by `firedrill image build`"
        },
    );
}

/// The keeper: an idle container holding every disk mounted, so that a node stopped or killed
/// by hand finds its data again when it starts (a tmpfs volume is emptied when no container
/// mounts it).
fn keeper(out: &mut String, image: &str, label: &str, volumes: &[(String, &super::Disk)]) {
    let _ = writeln!(
        out,
        "  # Holds every node's disk (an in-memory volume) mounted, so that a node stopped or\n  \
         # killed by hand finds its data again when it starts.\n  {KEEPER}:"
    );
    let _ = writeln!(out, "    image: {}", quote(&escape_dollars(image)));
    let _ = writeln!(out, "    command: {}", flow(KEEPER_CMD.iter().copied()));
    let _ = writeln!(out, "    init: true\n    network_mode: \"none\"");
    labels(out, 4, label);
    let _ = writeln!(out, "    volumes:");
    for (name, _) in volumes {
        let _ = writeln!(
            out,
            "      - {}",
            quote(&format!("{name}:{}", kept_at(name)))
        );
    }
}

/// One node's service.
fn service(out: &mut String, spec: &NodeSpec, image: &str, label: &str, depends: &[(&str, &str)]) {
    let _ = writeln!(out, "  {}:", spec.name);
    let image = spec.image.as_deref().unwrap_or(image);
    let _ = writeln!(out, "    image: {}", quote(&escape_dollars(image)));
    let _ = writeln!(out, "    hostname: {}", quote(&spec.name));
    if let Some(user) = &spec.user {
        let _ = writeln!(out, "    user: {}", quote(user));
    }
    // none: the image's own command
    if !spec.cmd.is_empty() {
        let _ = writeln!(
            out,
            "    command: {}",
            flow(spec.cmd.iter().map(|a| escape_dollars(a)))
        );
    }
    // An init as PID 1 reaps the children Patroni and PostgreSQL leave behind.
    let _ = writeln!(out, "    init: true");
    if !spec.cap_add.is_empty() {
        let _ = writeln!(out, "    cap_add: {}", flow(spec.cap_add.iter()));
    }
    let _ = writeln!(
        out,
        "    tmpfs:\n      - {}",
        quote(&format!("{}:{}", TMP.0, TMP.1))
    );
    if !spec.secret_env.is_empty() || !spec.env.is_empty() {
        let _ = writeln!(out, "    environment:");
        for (var, value) in &spec.env {
            let _ = writeln!(out, "      {var}: {}", quote(&escape_dollars(value)));
        }
        for env in &spec.secret_env {
            let _ = writeln!(
                out,
                "      {}: {}",
                env.var,
                quote(&format!(
                    "${{{}:?is not set: run firedrill compose to generate {ENV_FILE}}}",
                    env.secret.var()
                ))
            );
        }
    }
    if !spec.ports.is_empty() {
        let _ = writeln!(out, "    ports:");
        for &port in &spec.ports {
            let host = spec
                .fixed_host_port(port)
                .map(|f| f.host.to_string())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "      - {}",
                quote(&format!("127.0.0.1:{host}:{port}"))
            );
        }
    }
    let mounts: Vec<String> = spec
        .files
        .iter()
        .map(|f| format!("./{}:{}:ro", file_path(spec, f).display(), f.path))
        .chain(
            spec.disks
                .iter()
                .enumerate()
                .map(|(i, d)| format!("{}:{}", disk_name(&spec.name, i, d), d.path)),
        )
        .collect();
    if !mounts.is_empty() {
        let _ = writeln!(out, "    volumes:");
        for mount in &mounts {
            let _ = writeln!(out, "      - {}", quote(mount));
        }
    }
    labels(out, 4, label);
    if let Some(health) = &spec.health {
        healthcheck(out, health);
    }
    if !depends.is_empty() {
        let _ = writeln!(out, "    depends_on:");
        for (name, condition) in depends {
            let _ = writeln!(out, "      {name}:\n        condition: {condition}");
        }
    }
}

fn healthcheck(out: &mut String, health: &Health) {
    let _ = writeln!(
        out,
        "    healthcheck:\n      test: {}\n      interval: {}\n      timeout: {}\n      \
         retries: {}\n      start_period: {}",
        flow(["CMD-SHELL".to_owned(), escape_dollars(&health.command)].iter()),
        duration(health.interval),
        duration(health.timeout),
        health.retries,
        duration(health.start_period),
    );
}

fn labels(out: &mut String, indent: usize, label: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(
        out,
        "{pad}labels:\n{pad}  {LABEL_COMPOSE}: {}",
        quote(label)
    );
}

/// Where a node's file is written, relative to the compose file: `<node>/<file name>`.
fn file_path(spec: &NodeSpec, file: &super::FileSpec) -> PathBuf {
    let name = Path::new(&file.path)
        .file_name()
        .map_or_else(|| file.path.clone().into(), |n| n.to_owned());
    Path::new(&spec.name).join(name)
}

/// A node's files as the export writes them; two of one name would overwrite each other.
fn node_files(spec: &NodeSpec) -> Result<Vec<ExportFile>, ComposeError> {
    let mut seen: BTreeMap<PathBuf, &str> = BTreeMap::new();
    let mut files = Vec::new();
    for file in &spec.files {
        let path = file_path(spec, file);
        if let Some(first) = seen.insert(path.clone(), &file.path) {
            return Err(ComposeError::FileClash {
                node: spec.name.clone(),
                name: path.display().to_string(),
                first: first.to_owned(),
                second: file.path.clone(),
            });
        }
        files.push(ExportFile {
            path,
            contents: file.contents.clone(),
            mode: file.mode,
        });
    }
    Ok(files)
}

/// A string as a YAML double-quoted scalar (JSON's escapes are YAML's).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serialises")
}

/// A YAML flow sequence of quoted strings.
fn flow<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// Compose reads `$` as the start of a variable everywhere in the file; `$$` is a literal one.
fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

/// A duration as compose reads it: `2s`, `500ms`.
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Writes the export: the compose file at `compose`, the configuration files beside it, and
/// the env file with fresh passwords if there is none yet (owner-only; one already there is
/// never touched).
pub fn write(export: &Export, compose: &Path) -> Result<Written, ComposeError> {
    let dir = compose
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = |path: &Path| {
        let path = path.to_owned();
        move |source| ComposeError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(written(dir))?;
    let mut files = Vec::new();
    for file in &export.files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(written(parent))?;
        }
        write_file(&path, file.contents.as_bytes(), file.mode).map_err(written(&path))?;
        files.push(path);
    }
    write_file(compose, export.compose.as_bytes(), 0o644).map_err(written(compose))?;

    let env = dir.join(ENV_FILE);
    let env_created = match create_private(
        &env,
        env_file(&export.scenario, &Secrets::generate()).as_bytes(),
    ) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(source) => return Err(ComposeError::Write { path: env, source }),
    };
    let (env_missing, env_readable_by_others) = if env_created {
        (Vec::new(), false)
    } else {
        let text = std::fs::read_to_string(&env).map_err(|source| ComposeError::Read {
            path: env.clone(),
            source,
        })?;
        let values = parse_env(&text);
        let missing = Secret::ALL
            .iter()
            .map(|s| s.var())
            .filter(|var| values.get(*var).is_none_or(|v| v.is_empty()))
            .collect();
        let mode = std::fs::metadata(&env)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()))
            .unwrap_or(0);
        (missing, mode & 0o077 != 0)
    };
    Ok(Written {
        compose: compose.to_owned(),
        files,
        env,
        env_created,
        env_missing,
        env_readable_by_others,
    })
}

/// Writes `bytes` to `path` (replacing it) with permissions `mode`.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Creates `path` readable and writable by its owner only, failing if it exists.
fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The env file's text: a comment, then each password.
fn env_file(scenario: &str, secrets: &Secrets) -> String {
    let mut text = format!(
        "# Passwords of the compose export of {scenario:?}, generated by `firedrill compose`.\n\
         # Keep this file to yourself; firedrill never overwrites it. The superuser is postgres.\n"
    );
    for secret in Secret::ALL {
        let _ = writeln!(text, "{}={}", secret.var(), secrets.get(secret));
    }
    text
}

/// `NAME=value` lines, as compose reads an env file (comments and blank lines skipped).
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The passwords in an export's env file.
pub fn read_secrets(env: &Path) -> Result<Secrets, ComposeError> {
    let text = std::fs::read_to_string(env).map_err(|source| ComposeError::Read {
        path: env.to_owned(),
        source,
    })?;
    let values = parse_env(&text);
    let get = |secret: Secret| {
        values
            .get(secret.var())
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or(ComposeError::EnvMissing {
                path: env.to_owned(),
                var: secret.var(),
            })
    };
    Ok(Secrets {
        superuser: get(Secret::Superuser)?,
        replication: get(Secret::Replication)?,
        rewind: get(Secret::Rewind)?,
    })
}

/// The compose project a tool derives from a name: lower case, only letters, digits, `-`
/// and `_` kept (docker-compose 1.29's rule; compose v2 keeps the same characters).
pub fn project_name(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The cluster an export of `scenario` runs as compose project `project` (started by a compose
/// tool, not by firedrill): its nodes' containers found by compose's labels, their addresses
/// and published ports read from the engine, so that firedrill's own readiness conditions,
/// probes and faults can be pointed at it.
pub async fn attach(
    docker: &Docker,
    project: &str,
    scenario: &Scenario,
    secrets: Secrets,
) -> Result<Cluster, TopologyError> {
    let failed = |node: &str, message: String| TopologyError::Node {
        node: node.to_owned(),
        message,
    };
    let (stack, groups) = plan(scenario).map_err(|e| failed("harness", e.to_string()))?;
    let network = format!("{project}_default");
    let client_entry =
        super::cluster::client_entry(docker, &network, stack.client_endpoint()).await?;
    let mut nodes = Vec::new();
    for spec in groups.iter().flat_map(|g| &g.specs) {
        nodes.push(attach_node(docker, project, &network, spec).await?);
    }
    let config_digests = super::cluster::config_digests(groups.iter().flat_map(|g| &g.specs));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(4)
        .build()
        .map_err(|e| failed("harness", e.to_string()))?;
    Ok(Cluster {
        run_id: project.to_owned(),
        network,
        image: image_of(scenario),
        nodes,
        secrets,
        docker: docker.clone(),
        http,
        bring_up: Duration::ZERO,
        initial_leader: String::new(),
        config_digests,
        client_entry,
        leader_key: stack.leader_key().map(str::to_owned),
        protocol: stack.protocol(),
        initial_backup: None,
    })
}

/// The running container of service `spec.name` in compose project `project`.
async fn attach_node(
    docker: &Docker,
    project: &str,
    network: &str,
    spec: &NodeSpec,
) -> Result<Node, TopologyError> {
    let failed = |message: String| TopologyError::Node {
        node: spec.name.clone(),
        message,
    };
    let mut filters = label_filter(&format!("com.docker.compose.project={project}"));
    filters
        .entry("label".into())
        .or_default()
        .push(format!("com.docker.compose.service={}", spec.name));
    let found = docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(EngineError::call(format!(
            "list the containers of {}",
            spec.name
        )))?;
    let id = found.into_iter().find_map(|c| c.id).ok_or_else(|| {
        failed(format!(
            "no running container of service {} in compose project {project}",
            spec.name
        ))
    })?;
    let inspect = docker
        .inspect_container(&id, None)
        .await
        .map_err(EngineError::call(format!("inspect container {id}")))?;
    let container = inspect
        .name
        .as_deref()
        .map_or(id.clone(), |n| n.trim_start_matches('/').to_owned());
    let settings = inspect.network_settings.unwrap_or_default();
    let ip = settings
        .networks
        .as_ref()
        .and_then(|n| n.get(network))
        .and_then(|e| e.ip_address.clone())
        .filter(|ip| !ip.is_empty())
        .ok_or_else(|| {
            failed(format!(
                "container {container} has no address on network {network}"
            ))
        })?;
    let ports = published_ports(settings.ports);
    let published: BTreeSet<u16> = ports.keys().copied().collect();
    if let Some(port) = spec.ports.iter().find(|p| !published.contains(p)) {
        return Err(failed(format!(
            "container {container} publishes no host port for {port}"
        )));
    }
    Ok(Node {
        name: spec.name.clone(),
        kind: spec.kind,
        container,
        ip,
        ports,
    })
}

/// Waits, within `within`, until an attached cluster is ready by the conditions a drill's
/// bring-up waits for (the stack's own: for the patroni stack etcd healthy, one leader, every
/// replica streaming from it, HAProxy routing to it; with pgBackRest, the stanza created and
/// checked and a first backup).
pub async fn ready(
    cluster: &Cluster,
    scenario: &Scenario,
    within: Duration,
    progress: &Progress,
) -> Result<Ready, TopologyError> {
    let stack = stacks::named(&scenario.topology.stack).ok_or_else(|| TopologyError::Node {
        node: "harness".into(),
        message: format!("no stack named {:?}", scenario.topology.stack),
    })?;
    let bound = ReadyBound {
        started: Instant::now(),
        within,
    };
    stack
        .ready(cluster, &scenario.topology, bound, progress)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::kinds::{PATRONI, PGBOUNCER};

    fn scenario(name: &str) -> Scenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(format!("{name}.toml"));
        crate::scenario::load(&path).expect("a shipped scenario loads")
    }

    /// The plan as a drill renders it, with `secrets` in the files.
    fn drill_plan(scenario: &Scenario, secrets: &Secrets) -> Vec<NodeSpec> {
        let stack = stacks::named(&scenario.topology.stack).unwrap();
        stack
            .plan(&Render {
                topology: &scenario.topology,
                secrets: SecretsAt::Files(secrets),
                run_id: &scenario.name,
                virtual_ip: None,
            })
            .into_iter()
            .flat_map(|g| g.specs)
            .collect()
    }

    fn export_plan(scenario: &Scenario) -> Vec<NodeSpec> {
        plan(scenario)
            .unwrap()
            .1
            .into_iter()
            .flat_map(|g| g.specs)
            .collect()
    }

    fn known() -> Secrets {
        Secrets {
            superuser: "superuser-secret-0123".into(),
            replication: "replication-secret-4567".into(),
            rewind: "rewind-secret-89ab".into(),
        }
    }

    /// A PostgreSQL role's password in md5 form, as pgBouncer's auth file holds it.
    fn md5_form(secrets: &Secrets) -> String {
        use md5::{Digest, Md5};
        hex::encode(Md5::digest(format!("{}postgres", secrets.superuser)))
    }

    /// The pair's API servers: the reference server computes the virtual IP itself, so its
    /// export runs; an own image must be told it, which an export cannot do.
    #[test]
    fn an_own_application_image_over_a_virtual_ip_is_refused_in_an_export() {
        let mut scenario = scenario("pair-with-api-servers");
        let reference = export(&scenario, "firedrill/base:test").expect("the reference server");
        assert!(reference.services.iter().any(|s| s == "app1"));
        // the header says where the API is, beside where the database is
        assert_eq!(reference.tier_endpoint, Some(("haproxy".into(), 8080)));
        assert!(
            reference
                .compose
                .contains("#   api:     docker-compose port haproxy 8080   (HTTP"),
            "{}",
            reference.compose
        );
        let plain = export(
            &self::scenario("patroni-primary-crash"),
            "firedrill/base:test",
        )
        .unwrap();
        assert_eq!(plain.tier_endpoint, None);
        assert!(!plain.compose.contains("#   api:"));
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pair-with-api-servers.toml"),
        )
        .unwrap()
        .replace(
            "[topology.app]\n",
            "[topology.app]\nimage = \"team/api:1\"\n",
        );
        scenario = crate::scenario::parse(Path::new("scenarios/own.toml"), &text).unwrap();
        let err = export(&scenario, "firedrill/base:test")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the pair stack's export cannot run the application image team/api:1: it is told \
             the database's address, and the virtual IP's is known only once the compose tool \
             has made the network (firedrill's reference server computes it; a drill tells \
             your image)"
        );
        // a drill renders the image with the address it has
        let drill = stacks::named("pair").unwrap().plan(&Render {
            topology: &scenario.topology,
            secrets: SecretsAt::Files(&known()),
            run_id: "fd-test",
            virtual_ip: Some("172.18.255.254"),
        });
        let app1 = drill
            .iter()
            .flat_map(|g| &g.specs)
            .find(|s| s.name == "app1")
            .unwrap();
        assert!(
            app1.env
                .contains(&("FIREDRILL_DATABASE_HOST".into(), "172.18.255.254".into())),
            "{:?}",
            app1.env
        );
    }

    #[test]
    fn the_export_is_the_drills_plan_with_the_secrets_moved_to_the_environment() {
        for name in [
            "patroni-primary-crash",
            "pgbouncer-primary-crash",
            "pgbouncer-restore-point",
            "control-split-brain-tcp-proxy",
        ] {
            let scenario = scenario(name);
            let drill = drill_plan(&scenario, &known());
            let export = export_plan(&scenario);
            assert_eq!(drill.len(), export.len(), "{name}");
            for (d, e) in drill.iter().zip(&export) {
                let at = format!("{name}: {}", d.name);
                // the same containers...
                assert_eq!(
                    (
                        &d.name,
                        d.kind,
                        &d.user,
                        &d.ports,
                        &d.fixed_ports,
                        &d.cap_add,
                        &d.disks
                    ),
                    (
                        &e.name,
                        e.kind,
                        &e.user,
                        &e.ports,
                        &e.fixed_ports,
                        &e.cap_add,
                        &e.disks
                    ),
                    "{at}"
                );
                assert_eq!(d.health, e.health, "{at}");
                assert!(d.secret_env.is_empty(), "{at}");
                // ...whose files differ only where a drill's hold a secret
                for file in &e.files {
                    let same = d.files.iter().find(|f| f.path == file.path);
                    let same =
                        same.unwrap_or_else(|| panic!("{at}: {} only in the export", file.path));
                    if file.path == crate::topology::kinds::patroni::CONFIG_FILE {
                        let mut drill: serde_json::Value =
                            serde_json::from_str(&same.contents).unwrap();
                        let export: serde_json::Value =
                            serde_json::from_str(&file.contents).unwrap();
                        if let Some(users) = drill["postgresql"]["authentication"].as_object_mut() {
                            for user in users.values_mut() {
                                user.as_object_mut().unwrap().remove("password");
                            }
                        }
                        assert_eq!(drill, export, "{at}: {}", file.path);
                    } else if d.kind == PGBOUNCER {
                        let auth = |text: &str| {
                            text.lines()
                                .filter(|l| !l.starts_with("auth_file = "))
                                .collect::<Vec<_>>()
                                .join("\n")
                        };
                        assert_eq!(auth(&same.contents), auth(&file.contents), "{at}");
                    } else {
                        assert_eq!(same.contents, file.contents, "{at}: {}", file.path);
                    }
                }
                if d.kind == PGBOUNCER {
                    // the auth file is made at start from the environment instead
                    assert_eq!(d.files.len(), e.files.len() + 1, "{at}");
                    assert_eq!(
                        e.secret_env,
                        [crate::topology::SecretEnv {
                            var: Secret::Superuser.var(),
                            secret: Secret::Superuser
                        }]
                    );
                    assert_eq!(e.cmd[..2], ["sh", "-c"], "{at}");
                    assert!(
                        e.cmd[2].ends_with(&format!("exec {}", d.cmd.join(" "))),
                        "{at}"
                    );
                } else {
                    assert_eq!(d.files.len(), e.files.len(), "{at}");
                    assert_eq!(d.cmd, e.cmd, "{at}");
                }
                if d.kind == PATRONI {
                    let vars: Vec<_> = e.secret_env.iter().map(|s| (s.var, s.secret)).collect();
                    assert_eq!(
                        vars,
                        [
                            ("PATRONI_SUPERUSER_PASSWORD", Secret::Superuser),
                            ("PATRONI_REPLICATION_PASSWORD", Secret::Replication),
                            ("PATRONI_REWIND_PASSWORD", Secret::Rewind),
                        ],
                        "{at}"
                    );
                }
            }
        }
    }

    #[test]
    fn no_file_of_an_export_holds_a_secret_and_the_same_scenario_gives_the_same_files() {
        let secrets = known();
        for name in ["patroni-primary-crash", "pgbouncer-restore-point"] {
            let scenario = scenario(name);
            let export = export(&scenario, "firedrill/base:test").unwrap();
            assert_eq!(
                export,
                super::export(&scenario, "firedrill/base:test").unwrap()
            );
            // the drill's own files hold them: the comparison would catch a leak
            let drill: String = drill_plan(&scenario, &secrets)
                .iter()
                .flat_map(|s| s.files.iter().map(|f| f.contents.clone()))
                .collect();
            assert!(drill.contains(&secrets.superuser));
            for text in export
                .files
                .iter()
                .map(|f| &f.contents)
                .chain([&export.compose])
            {
                assert!(!text.contains("\"password\""), "{name}: {text}");
                for secret in secrets
                    .all()
                    .into_iter()
                    .chain([md5_form(&secrets).as_str()])
                {
                    assert!(!text.contains(secret), "{name}");
                }
            }
        }
    }

    #[test]
    fn services_follow_the_plan_and_every_object_carries_the_export_label() {
        let export = export(&scenario("pgbouncer-restore-point"), "img:1").unwrap();
        assert_eq!(
            export.services,
            [
                KEEPER,
                "etcd1",
                "etcd2",
                "etcd3",
                "pg1",
                "pg2",
                "pg3",
                "pgbouncer1",
                "pgbouncer2",
                "pgbouncer3",
                "haproxy"
            ]
        );
        assert_eq!(
            export.client_endpoint,
            ClientAt::Service("haproxy".to_owned(), 5432)
        );
        let label = format!("{LABEL_COMPOSE}: \"pgbouncer-restore-point\"");
        // 11 services, the network, 6 own disks and the shared repository
        assert_eq!(export.compose.matches(&label).count(), 11 + 1 + 6 + 1);
        assert!(
            export
                .compose
                .contains("\n  pgbackrest-repo:\n    driver: local\n")
        );
        for pg in ["pg1", "pg2", "pg3"] {
            assert!(export.compose.contains(&format!(
                "      - \"./{pg}/pgbackrest.conf:/etc/pgbackrest/pgbackrest.conf:ro\"\n"
            )));
        }
        assert_eq!(
            export
                .compose
                .matches("\"pgbackrest-repo:/var/lib/pgbackrest\"")
                .count(),
            3
        );
        // etcd once the keeper has started, pg1 once etcd has, every other node once pg1 has
        // (pg2 and pg3 cannot bootstrap: they wait for pg1 to lead and clone it)
        let depends = |service: &str| -> String {
            let section: Vec<&str> = export
                .compose
                .lines()
                .skip_while(|l| *l != format!("  {service}:"))
                .skip(1)
                .take_while(|l| l.starts_with("    "))
                .collect();
            let section = section.join("\n");
            section
                .split_once("    depends_on:\n")
                .map_or(String::new(), |(_, d)| d.to_owned())
        };
        assert!(depends("etcd1").contains("disks:\n        condition: service_started"));
        assert!(depends("pg1").contains("etcd3:\n        condition: service_started"));
        assert!(depends("pg1").contains("etcd3:\n        condition: service_started"));
        for service in ["pg2", "pgbouncer1", "haproxy"] {
            assert!(depends(service).contains("pg1:\n        condition: service_started"));
        }
        assert_eq!(depends(KEEPER), "");
    }

    #[test]
    fn a_fixed_port_is_published_on_it_and_the_others_on_ports_the_engine_chooses() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/patroni-primary-crash.toml");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("[topology.haproxy]\n", "[topology.haproxy]\nport = 15432\n");
        let scenario = crate::scenario::load_bytes(&path, text.as_bytes()).unwrap();
        let export = export(&scenario, "img:1").unwrap();
        assert!(
            export
                .compose
                .contains("      - \"127.0.0.1:15432:5432\"\n")
        );
        assert!(export.compose.contains("      - \"127.0.0.1::8404\"\n"));
        assert!(export.compose.contains("      - \"127.0.0.1::8008\"\n"));
        assert!(
            !export
                .compose
                .contains("\"127.0.0.1::5432\"\n      - \"127.0.0.1::8404")
        );
    }

    #[test]
    fn commands_keep_their_dollars_from_compose() {
        let export = export(&scenario("pgbouncer-primary-crash"), "img:1").unwrap();
        // every `$` compose would read as a variable is doubled, but the passwords'
        for line in export.compose.lines() {
            let mut rest = line;
            while let Some(at) = rest.find('$') {
                let after = &rest[at + 1..];
                assert!(
                    after.starts_with('$') || after.starts_with("{FIREDRILL_"),
                    "a lone $ in {line}"
                );
                rest = after.strip_prefix('$').unwrap_or(after);
            }
        }
        // the shell, not compose, reads the password in pgBouncer's command
        assert!(
            export
                .compose
                .contains("\\\"$$FIREDRILL_SUPERUSER_PASSWORD\\\"")
        );
    }

    #[test]
    fn the_env_file_is_made_once_owner_only_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let compose = dir.path().join("x").join("docker-compose.yml");
        let export = export(&scenario("patroni-primary-crash"), "img:1").unwrap();
        let first = write(&export, &compose).unwrap();
        assert!(first.env_created);
        assert_eq!(first.env, dir.path().join("x").join(ENV_FILE));
        let mode = std::fs::metadata(&first.env).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let secrets = read_secrets(&first.env).unwrap();
        assert_eq!(secrets.superuser.len(), 32);
        assert_ne!(secrets.superuser, secrets.replication);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("x/pg1/patroni.yml")).unwrap(),
            export.files[0].contents
        );
        assert_eq!(std::fs::read_to_string(&compose).unwrap(), export.compose);

        // an operator's own passwords stay, however the file is
        std::fs::write(&first.env, "FIREDRILL_SUPERUSER_PASSWORD=mine\n").unwrap();
        std::fs::set_permissions(&first.env, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = write(&export, &compose).unwrap();
        assert!(!again.env_created);
        assert_eq!(
            std::fs::read_to_string(&again.env).unwrap(),
            "FIREDRILL_SUPERUSER_PASSWORD=mine\n"
        );
        assert_eq!(
            again.env_missing,
            [
                "FIREDRILL_REPLICATION_PASSWORD",
                "FIREDRILL_REWIND_PASSWORD"
            ]
        );
        assert!(again.env_readable_by_others);
        let err = read_secrets(&again.env).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no value for FIREDRILL_REPLICATION_PASSWORD",
                again.env.display()
            )
        );
    }

    #[test]
    fn project_names_as_compose_derives_them() {
        assert_eq!(
            project_name("patroni-primary-crash"),
            "patroni-primary-crash"
        );
        assert_eq!(project_name("My Drill.v2"), "mydrillv2");
    }
}
