//! A team's own application image in the tier (`[topology.app] image`): its servers run the
//! image's own command, configured only by the environment the README documents, on their own
//! port and paths, checked by HAProxy on their own status path; the workload's requests use
//! their write path. And a missing own image stops the drill before anything starts.

use crate::common;

use bollard::models::ContainerConfig;
use bollard::query_parameters::{
    CommitContainerOptions, CreateContainerOptions, RemoveContainerOptions, RemoveImageOptions,
    UploadToContainerOptions,
};
use firedrill::history::Outcome;
use firedrill::progress::Progress;

/// The reference server, as a team's image would carry it: started by the image's command,
/// told everything by its environment, serving paths of its own.
const SERVER: &str = include_str!("../../src/topology/kinds/app.py");
const OWN_PATHS: &[(&str, &str)] = &[
    ("APP_WRITE_PATH", "/api/v1/commit/{seq}"),
    ("APP_READ_PATH", "/api/v1/rows/{seq}"),
    ("APP_STATUS_PATH", "/api/health"),
];

/// The shipped api-server-crash scenario without its fault, 8 s long, its servers from `image`
/// on port 9090 with the paths above.
fn scenario(dir: &std::path::Path, name: &str, image: &str) -> firedrill::scenario::Scenario {
    let text = common::shipped_with(
        "api-server-crash",
        &[
            ("name = \"api-server-crash\"", &format!("name = \"{name}\"")),
            ("duration = \"30s\"", "duration = \"8s\""),
            (
                "[topology.app]\nnodes = 3\n",
                &format!(
                    "[topology.app]\nnodes = 3\nimage = \"{image}\"\nport = 9090\n\
                     status = \"/api/health\"\nwrite_path = \"/api/v1/commit/{{seq}}\"\n\
                     read_path = \"/api/v1/rows/{{seq}}\"\n"
                ),
            ),
        ],
    );
    let fault =
        text[text.find("[[fault]]").unwrap()..text.find("[objectives]").unwrap()].to_string();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        text.replace(&fault, "").replace("rto = \"<= 5s\"\n", ""),
    )
    .unwrap();
    firedrill::scenario::load(&path).expect("the scenario is valid")
}

/// Commits a container of the base image holding the server as an image of the test's own,
/// whose command starts it; returns its name.
async fn build_own_image(docker: &bollard::Docker, base: &str, suffix: &str) -> String {
    let builder = format!("firedrill-test-builder-{suffix}");
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(builder.clone()),
                ..Default::default()
            }),
            bollard::models::ContainerCreateBody {
                image: Some(base.to_owned()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(SERVER.len() as u64);
    header.set_mode(0o644);
    archive
        .append_data(&mut header, "srv/app.py", SERVER.as_bytes())
        .unwrap();
    let archive = archive.into_inner().unwrap();
    docker
        .upload_to_container(
            &builder,
            Some(UploadToContainerOptions {
                path: "/".into(),
                ..Default::default()
            }),
            bollard::body_full(archive.into()),
        )
        .await
        .unwrap();
    let repo = "firedrill-test/own-api";
    docker
        .commit_container(
            CommitContainerOptions {
                container: Some(builder.clone()),
                repo: Some(repo.into()),
                tag: Some(suffix.into()),
                ..Default::default()
            },
            ContainerConfig {
                cmd: Some(vec!["python3".into(), "/srv/app.py".into()]),
                env: Some(OWN_PATHS.iter().map(|(k, v)| format!("{k}={v}")).collect()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    docker
        .remove_container(&builder, None::<RemoveContainerOptions>)
        .await
        .unwrap();
    format!("{repo}:{suffix}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_application_image_serves_on_its_own_port_and_paths() {
    if !common::docker_or_skip("app_image::own").await {
        return;
    }
    let docker = firedrill::engine::connect().await.unwrap();
    let base = firedrill::image::ensure(
        &docker,
        &firedrill::image::base_recipe(),
        &Progress::default(),
    )
    .await
    .unwrap();
    let suffix = format!("{:08x}", rand::random::<u32>());
    let image = build_own_image(&docker, &base.tag, &suffix).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), &format!("own-api-{suffix}"), &image);
    let record = common::drill("app_image::own", &scenario, common::Turn::Beside).await;
    docker
        .remove_image(&image, None::<RemoveImageOptions>, None)
        .await
        .unwrap();
    let record = record.unwrap();
    let table = common::see_table(&record);
    assert!(record.passed(), "{table}");
    // every server answered, through its own paths (the client's requests and HAProxy's checks
    // would find nothing at the reference server's)
    let tier = record.measurements.tier.as_ref().expect("a tier");
    assert_eq!(
        tier.answered.keys().collect::<Vec<_>>(),
        ["app1", "app2", "app3"],
        "{table}"
    );
    let writes: Vec<_> = record.history.writes().collect();
    assert!(
        writes
            .iter()
            .all(|w| w.outcome == Outcome::Ok && w.status == Some(200)),
        "{table}"
    );
    let samples: Vec<_> = record.history.proxy_samples().collect();
    let last = samples.last().expect("stats sampled");
    assert!(
        last.tier
            .iter()
            .all(|s| s.is_up() && s.check.starts_with("L7OK")),
        "{:?}",
        last.tier
    );
}

/// A missing own image is named, with where it came from, before any container is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_own_application_image_stops_the_drill_before_it_starts() {
    if !common::docker_or_skip("app_image::missing").await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = "firedrill-test/no-such-api:0";
    let scenario = scenario(dir.path(), "own-api-missing", missing);
    let err = firedrill::run(&scenario, &firedrill::DrillOptions::default())
        .await
        .expect_err("no such image");
    let text = err.to_string();
    assert!(
        text.contains(&format!("image {missing} not found in the docker engine"))
            && text.contains("[topology.app] image"),
        "{text}"
    );
}
