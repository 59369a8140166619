use sha2::{Digest, Sha256};

/// What goes into an image. Everything here is hashed into the tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// Image repository name; the tag is the recipe hash.
    pub repository: &'static str,
    pub suite: &'static str,
    pub variant: &'static str,
    pub packages: Vec<&'static str>,
    /// Dockerfile instructions applied on import (ENV, CMD...).
    pub changes: Vec<String>,
    /// Commands run inside the new root file system (mmdebstrap `--customize-hook`, `$1` is
    /// the root).
    pub customize: Vec<&'static str>,
    /// Python packages pinned from PyPI, installed after the Debian packages.
    pub wheels: Vec<super::Wheel>,
}

/// Bump when the way the recipe is turned into an image changes.
/// 2: the installed packages are recorded as image labels.
/// 3: wheels pinned from PyPI, installed by pip from its own wheel (their hooks are hashed too).
const RECIPE_FORMAT: u32 = 3;

/// What every image carries besides the kinds' own packages: the tools faults run inside
/// containers (iptables, iproute2, procps) and what the harness reads with (curl).
const TOOLS: &[&str] = &["iproute2", "iptables", "procps", "ca-certificates", "curl"];

/// The image every registered node kind runs from (`topology::KINDS`: PostgreSQL 15 with
/// Patroni, etcd, HAProxy...) with the tools.
pub fn base_recipe() -> Recipe {
    let mut packages: Vec<&'static str> = crate::topology::KINDS
        .iter()
        .flat_map(|kind| kind.kind().packages().iter().copied())
        .chain(TOOLS.iter().copied())
        .collect();
    packages.sort_unstable();
    packages.dedup();
    let mut wheels: Vec<super::Wheel> = crate::topology::KINDS
        .iter()
        .flat_map(|kind| kind.kind().wheels().iter().copied())
        .collect();
    wheels.sort_unstable();
    wheels.dedup();
    Recipe {
        wheels,
        repository: "firedrill/base",
        suite: "bookworm",
        variant: "minbase",
        packages,
        // The data directories' mount point, owned by postgres so that a fresh volume mounted
        // there is too.
        customize: vec!["chroot \"$1\" install -d -o postgres -g postgres -m 0700 /var/lib/firedrill"],
        changes: vec![
            "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "ENV LANG=C.UTF-8".into(),
            // The zone every node already ends up in, named: without it initdb compares the
            // system's clock rules with every zone file to pick one, 0.6-0.8 s of bootstrap.
            "ENV TZ=Etc/UTC".into(),
        ],
    }
}

impl Recipe {
    /// sha256 over everything that shapes the image, in a fixed order.
    pub fn digest(&self) -> String {
        let mut packages = self.packages.clone();
        packages.sort_unstable();
        let mut hash = Sha256::new();
        hash.update(format!(
            "format={RECIPE_FORMAT}\nsuite={}\nvariant={}\npackages={}\n",
            self.suite,
            self.variant,
            packages.join(",")
        ));
        for change in &self.changes {
            hash.update(format!("change={change}\n"));
        }
        for hook in &self.customize {
            hash.update(format!("customize={hook}\n"));
        }
        // pip, and how the wheels are installed and listed, are part of the image.
        let pip = (!self.wheels.is_empty()).then_some(super::PIP);
        for wheel in self.wheels.iter().chain(&pip) {
            hash.update(format!(
                "wheel={}=={} sha256={}\n",
                wheel.name, wheel.version, wheel.sha256
            ));
        }
        if !self.wheels.is_empty() {
            let hooks = super::wheels::install_hooks(&self.wheels, std::path::Path::new("DIR"));
            for hook in hooks.iter().chain([&super::wheels::manifest_hook()]) {
                hash.update(format!("wheel-hook={hook}\n"));
            }
        }
        hex::encode(hash.finalize())
    }

    /// `repository:<first 12 hex digits of the digest>`.
    pub fn tag(&self) -> String {
        format!("{}:{}", self.repository, &self.digest()[..12])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_image_carries_every_kind_and_the_tools() {
        let recipe = base_recipe();
        // Patroni is a pinned wheel (Debian's 3.0.2 has a split-brain bug), its dependencies
        // Debian's
        assert_eq!(recipe.wheels, [crate::topology::kinds::patroni::PATRONI]);
        assert!(!recipe.packages.contains(&"patroni"));
        for package in [
            "postgresql-15",
            "python3-psycopg2",
            "python3-etcd",
            "etcd-server",
            "etcd-client",
            "haproxy",
            "pgbackrest",
            "iptables",
        ] {
            assert!(recipe.packages.contains(&package), "{package}");
        }
    }

    #[test]
    fn tag_is_stable_under_package_order_and_changes_with_content() {
        let a = base_recipe();
        let mut b = base_recipe();
        b.packages.reverse();
        assert_eq!(a.tag(), b.tag());
        b.packages.push("strace");
        assert_ne!(a.tag(), b.tag());
        let mut c = base_recipe();
        c.changes.push("ENV X=1".into());
        assert_ne!(a.tag(), c.tag());
        let mut d = base_recipe();
        d.wheels[0].version = "3.0.5";
        assert_ne!(a.tag(), d.tag(), "another wheel is another image");
        assert!(a.tag().starts_with("firedrill/base:"));
    }
}
