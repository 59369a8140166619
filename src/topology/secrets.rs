/// Passwords generated for one run. They go into the containers' configuration and the
/// workload's connections, never into reports, run.json or logs (Debug is redacted).
#[derive(Clone)]
pub struct Secrets {
    pub superuser: String,
    pub replication: String,
    pub rewind: String,
}

impl Secrets {
    pub fn generate() -> Self {
        let password = || format!("{:032x}", rand::random::<u128>());
        Secrets {
            superuser: password(),
            replication: password(),
            rewind: password(),
        }
    }

    /// Every secret, for checks that none leaked into an output.
    pub fn all(&self) -> [&str; 3] {
        [&self.superuser, &self.replication, &self.rewind]
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}
