//! `firedrill compose`: a scenario's topology as a compose file, to start by hand the stack
//! firedrill drills.

use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use firedrill::topology::compose;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// The scenario whose topology is exported: a file, or the name of a shipped scenario.
    scenario: PathBuf,
    /// The compose file to write (a directory: docker-compose.yml in it); the configuration
    /// files (one directory per node) and the env file go beside it. Default: ./<scenario
    /// name>/docker-compose.yml, the name both docker-compose and `docker compose` find by
    /// themselves in that directory.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The compose file's name when `-o` is not given.
const DEFAULT_FILE: &str = "docker-compose.yml";

pub fn compose(args: ComposeArgs) -> u8 {
    let scenario = match firedrill::scenario::open(&args.scenario) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let output = match args.output {
        None => Path::new(&scenario.name).join(DEFAULT_FILE),
        Some(dir) if dir.is_dir() || dir.as_os_str().to_string_lossy().ends_with('/') => {
            dir.join(DEFAULT_FILE)
        }
        Some(file) => file,
    };
    let image = compose::image_of(&scenario);
    let written = compose::export(&scenario, &image)
        .and_then(|export| Ok((compose::write(&export, &output)?, export)));
    let (written, export) = match written {
        Ok(done) => done,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    println!(
        "wrote {}: {} services ({}) and {} configuration file{}",
        written.compose.display(),
        export.services.len(),
        export.services.join(", "),
        written.files.len(),
        if written.files.len() == 1 { "" } else { "s" },
    );
    if written.env_created {
        println!(
            "passwords: {} (generated now, readable by you only)",
            written.env.display()
        );
    } else {
        println!(
            "passwords: {} (already there, left as it was)",
            written.env.display()
        );
    }
    for var in &written.env_missing {
        eprintln!(
            "warning: {} has no {var}: compose will refuse to start; add it, or remove the file \
             and run firedrill compose again to generate every password",
            written.env.display()
        );
    }
    if written.env_readable_by_others {
        eprintln!(
            "warning: {} can be read by others: chmod 600 it",
            written.env.display()
        );
    }
    match &scenario.image {
        Some(_) => println!("image: {image} (the scenario's own)"),
        None => println!(
            "image: {image} (firedrill's base image: `firedrill image build` makes it if the \
             engine lacks it; compose cannot pull it)"
        ),
    }
    let tool = if on_path("docker-compose") {
        "docker-compose"
    } else {
        "docker compose"
    };
    let file = written.compose.display();
    println!("start:   {tool} -f {file} up -d");
    println!(
        "connect: {}, password {} in the env file",
        export.client_endpoint.how(&format!("{tool} -f {file}")),
        firedrill::topology::Secret::Superuser.var()
    );
    if let Some(tier) = &export.tier_endpoint {
        println!(
            "api:     {}",
            firedrill::topology::compose::tier_how(&format!("{tool} -f {file}"), tier)
        );
    }
    println!("stop:    {tool} -f {file} down -v");
    EXIT_PASSED
}

/// Whether an executable of this name is on the PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(program))
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
                .unwrap_or(false)
        })
    })
}
