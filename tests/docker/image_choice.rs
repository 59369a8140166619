//! The image a run uses: the scenario's `image` key is honoured (the nodes run it and the record
//! names it), `--image` overrides it, and a missing one is named with where it came from. The
//! record's package digest is the one the image was labelled with when built.

use crate::common;

use bollard::query_parameters::{RemoveImageOptions, TagImageOptions};
use common::drill_cli::{DrillCli, containers_of, leftovers, run_dirs};
use firedrill::progress::Progress;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The shipped default scenario without its fault, `duration` long, `image` set to `image`.
fn scenario_naming(dir: &Path, name: &str, image: &str) -> PathBuf {
    let text = common::shipped_with(
        "patroni-primary-crash",
        &[
            (
                "name = \"patroni-primary-crash\"",
                &format!("name = \"{name}\"\nimage = \"{image}\""),
            ),
            ("duration = \"40s\"", "duration = \"8s\""),
        ],
    );
    let fault =
        text[text.find("[[fault]]").unwrap()..text.find("[objectives]").unwrap()].to_string();
    let text = text.replace(&fault, "");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `firedrill run FILE --reports DIR [extra...]`: exit code and stderr.
fn run(scenario: &Path, reports: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .arg("run")
        .arg(scenario)
        .arg("--reports")
        .arg(reports)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_image_key_is_the_image_the_nodes_run() {
    let Some(_turn) = common::docker_turn("image_choice::scenario_key", common::Turn::Beside).await
    else {
        return;
    };
    let docker = firedrill::engine::connect().await.unwrap();
    let base = firedrill::image::ensure(
        &docker,
        &firedrill::image::base_recipe(),
        &Progress::default(),
    )
    .await
    .unwrap();
    // A copy of the base image under a name of the test's own.
    let suffix = format!("{:08x}", rand::random::<u32>());
    let copy = format!("firedrill-test/retagged:{suffix}");
    docker
        .tag_image(
            &base.tag,
            Some(TagImageOptions {
                repo: Some("firedrill-test/retagged".into()),
                tag: Some(suffix.clone()),
            }),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("image-key-{suffix}");
    let scenario = scenario_naming(dir.path(), &name, &copy);

    let body = async {
        // --image overrides the key: a missing --image fails though the key's image exists.
        let (code, stderr) = run(&scenario, dir.path(), &["--image", "firedrill/absent:none"]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains(
                "image firedrill/absent:none not found in the docker engine: it is the one --image names"
            ),
            "{stderr}"
        );

        // Without --image the nodes run the key's image, and the record says so.
        let mut drill = DrillCli::start(&scenario, dir.path(), &[]);
        drill.wait_for(&format!("drill {name}"));
        let containers = containers_of(&name).await;
        let images: BTreeSet<String> = containers.iter().filter_map(|c| c.image.clone()).collect();
        assert!(containers.len() >= 7, "{containers:#?}");
        assert_eq!(
            images,
            BTreeSet::from([copy.clone()]),
            "the nodes ran another image"
        );
        let (code, rest) = drill.finish();
        assert!(matches!(code, Some(0 | 1)), "{rest:#?}");
        let run_dir = run_dirs(dir.path()).pop().expect("a run directory");
        let record = firedrill::store::load(&run_dir.join("run.json.gz")).unwrap();
        let record = serde_json::to_value(record).unwrap();
        assert_eq!(record["environment"]["image"], copy.as_str());
        assert_eq!(record["environment"]["image_from"], "scenario");
        assert_eq!(record["environment"]["image_id"], base.id.as_str());
        assert_eq!(record["scenario"]["image"], copy.as_str());

        // The packages that ran are the ones the image was built with: the record's digest is
        // the base image's label, and the list holds the PostgreSQL whose version ran.
        let labels = docker
            .inspect_image(&base.tag)
            .await
            .unwrap()
            .config
            .and_then(|c| c.labels)
            .unwrap_or_default();
        let label_digest = labels
            .get(firedrill::image::LABEL_PACKAGES_SHA256)
            .expect("the base image carries its package digest");
        let listed = firedrill::image::parse_packages(&labels[firedrill::image::LABEL_PACKAGES]);
        assert_eq!(&firedrill::image::packages_sha256(&listed), label_digest);
        assert_eq!(
            record["environment"]["packages_sha256"],
            label_digest.as_str()
        );
        let postgres = record["environment"]["packages"]["postgresql-15"]
            .as_str()
            .expect("postgresql-15 among the packages");
        assert_eq!(listed["postgresql-15"], postgres);
        let ran = record["environment"]["versions"]["postgresql"]
            .as_str()
            .unwrap();
        let upstream = postgres.split(['-', '+']).next().unwrap();
        assert!(ran.contains(upstream), "{ran} ran, package {postgres}");
    };
    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(body)).await;
    let _ = docker
        .remove_image(
            &copy,
            Some(RemoveImageOptions {
                noprune: true,
                ..Default::default()
            }),
            None,
        )
        .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    assert!(leftovers(&name).await.is_empty());
}

#[tokio::test]
async fn a_missing_scenario_image_is_named_with_its_key_and_exits_2() {
    let Some(_turn) = common::docker_turn("image_choice::missing", common::Turn::Beside).await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("image-missing-{:08x}", rand::random::<u32>());
    let scenario = scenario_naming(dir.path(), &name, "firedrill/absent:none");
    let (code, stderr) = run(&scenario, dir.path(), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "image firedrill/absent:none not found in the docker engine: it is the one the scenario's `image` key names"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("remove `image` from the scenario"),
        "{stderr}"
    );
    assert!(
        run_dirs(dir.path()).is_empty(),
        "a report was written for a run that never started"
    );
    assert!(leftovers(&name).await.is_empty());
}
