use super::{EngineError, LABEL_HOST, LABEL_PID, LABEL_RUN, LABEL_SCENARIO, label_filter};
use bollard::Docker;
use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a run left in Docker, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Leftovers {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    pub fn count(&self) -> usize {
        self.containers.len() + self.networks.len() + self.volumes.len()
    }
}

/// One labelled object: its name and labels.
type Labelled = (String, HashMap<String, String>);

/// The containers, networks and volumes carrying `selector`, with their labels.
async fn list_labelled(docker: &Docker, selector: &str) -> Result<[Vec<Labelled>; 3], EngineError> {
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(label_filter(selector)),
            ..Default::default()
        }))
        .await
        .map_err(EngineError::call("list containers"))?
        .into_iter()
        .filter_map(|c| {
            let name = c.names?.into_iter().next()?;
            Some((
                name.trim_start_matches('/').to_string(),
                c.labels.unwrap_or_default(),
            ))
        })
        .collect();
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(label_filter(selector)),
        }))
        .await
        .map_err(EngineError::call("list networks"))?
        .into_iter()
        .filter_map(|n| Some((n.name?, n.labels.unwrap_or_default())))
        .collect();
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(label_filter(selector)),
        }))
        .await
        .map_err(EngineError::call("list volumes"))?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.name, v.labels))
        .collect();
    Ok([containers, networks, volumes])
}

/// Lists the objects carrying `selector` (`io.firedrill.run` for every run's, or
/// `io.firedrill.run=<id>` for one run's).
pub async fn find_leftovers(docker: &Docker, selector: &str) -> Result<Leftovers, EngineError> {
    let [containers, networks, volumes] = list_labelled(docker, selector).await?;
    let names = |objects: Vec<Labelled>| objects.into_iter().map(|(name, _)| name).collect();
    Ok(Leftovers {
        containers: names(containers),
        networks: names(networks),
        volumes: names(volumes),
    })
}

/// Removes every container, network and volume of one run (containers first: a network in use
/// cannot go). Returns what was removed; keeps going past individual failures and reports the
/// first one at the end.
pub async fn remove_run(docker: &Docker, run_id: &str) -> Result<Leftovers, EngineError> {
    remove_matching(docker, &format!("{LABEL_RUN}={run_id}")).await
}

pub(crate) async fn remove_matching(
    docker: &Docker,
    selector: &str,
) -> Result<Leftovers, EngineError> {
    let found = find_leftovers(docker, selector).await?;
    let mut first_error = None;
    let removals = found
        .containers
        .iter()
        .map(|name| remove_container(docker, name));
    for result in futures_util::future::join_all(removals).await {
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    // A network or volume can be listed twice (one per driver scope); remove each once.
    for name in found.networks.iter().collect::<BTreeSet<_>>() {
        if let Err(e) = docker.remove_network(name).await {
            first_error.get_or_insert(EngineError::call(format!("remove network {name}"))(e));
        }
    }
    for name in found.volumes.iter().collect::<BTreeSet<_>>() {
        if let Err(e) = docker
            .remove_volume(name, Some(RemoveVolumeOptions { force: true }))
            .await
        {
            first_error.get_or_insert(EngineError::call(format!("remove volume {name}"))(e));
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// How long a container another caller is removing may take to go (a run's own teardown cut
/// short by a second Ctrl-C leaves its removals running in the engine).
const REMOVAL_IN_PROGRESS_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes a container with its anonymous volumes. One already gone counts as removed; one the
/// engine is already removing (409 "removal ... is already in progress") is waited for.
async fn remove_container(docker: &Docker, name: &str) -> Result<(), EngineError> {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    let call = EngineError::call(format!("remove container {name}"));
    let deadline = tokio::time::Instant::now() + REMOVAL_IN_PROGRESS_WITHIN;
    loop {
        match docker.remove_container(name, Some(options.clone())).await {
            Ok(()) => return Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(()),
            // asked again until it is gone: the other removal may fail and leave it there
            Err(
                e @ bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                },
            ) if e.to_string().contains("already in progress")
                && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => return Err(call(e)),
        }
    }
}

/// A run that has objects in Docker, as its labels describe it, and those objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    pub run_id: String,
    pub pid: String,
    pub host: String,
    pub scenario: String,
    pub objects: Leftovers,
}

/// Every run that has containers, networks or volumes in the engine (volumes too: a teardown
/// cut short may have left only them), from one listing of each.
pub async fn list_runs(docker: &Docker) -> Result<Vec<RunInfo>, EngineError> {
    let [containers, networks, volumes] = list_labelled(docker, LABEL_RUN).await?;
    let mut runs: BTreeMap<String, RunInfo> = BTreeMap::new();
    let lists: [fn(&mut Leftovers) -> &mut Vec<String>; 3] = [
        |l| &mut l.containers,
        |l| &mut l.networks,
        |l| &mut l.volumes,
    ];
    for (list_of, objects) in lists.into_iter().zip([containers, networks, volumes]) {
        for (name, labels) in objects {
            let get = |key: &str| labels.get(key).cloned().unwrap_or_default();
            let run = runs.entry(get(LABEL_RUN)).or_insert_with(|| RunInfo {
                run_id: get(LABEL_RUN),
                pid: get(LABEL_PID),
                host: get(LABEL_HOST),
                scenario: get(LABEL_SCENARIO),
                objects: Leftovers::default(),
            });
            let list = list_of(&mut run.objects);
            // A network or volume can be listed twice (one per driver scope).
            if !list.contains(&name) {
                list.push(name);
            }
        }
    }
    Ok(runs.into_values().collect())
}
