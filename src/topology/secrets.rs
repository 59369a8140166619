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

    /// The value of one secret.
    pub fn get(&self, secret: Secret) -> &str {
        match secret {
            Secret::Superuser => &self.superuser,
            Secret::Replication => &self.replication,
            Secret::Rewind => &self.rewind,
        }
    }
}

/// One of the run's secrets, by name: what a node reads from its environment when its files
/// carry no secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Secret {
    Superuser,
    Replication,
    Rewind,
}

impl Secret {
    pub const ALL: [Secret; 3] = [Secret::Superuser, Secret::Replication, Secret::Rewind];

    /// The variable holding it in a compose export's env file (and in the containers that
    /// read it under no name of their own program's).
    pub fn var(self) -> &'static str {
        match self {
            Secret::Superuser => "FIREDRILL_SUPERUSER_PASSWORD",
            Secret::Replication => "FIREDRILL_REPLICATION_PASSWORD",
            Secret::Rewind => "FIREDRILL_REWIND_PASSWORD",
        }
    }
}

/// Where rendered nodes find the secrets.
#[derive(Clone, Copy, Debug)]
pub enum SecretsAt<'a> {
    /// Written into the configuration files that need them (a drill: the files live only in
    /// the run's containers).
    Files(&'a Secrets),
    /// In the nodes' environment (`NodeSpec::secret_env`); no file carries one (a compose
    /// export, whose files are written beside the compose file).
    Env,
}

impl<'a> SecretsAt<'a> {
    /// The secrets, when the files carry them.
    pub fn in_files(self) -> Option<&'a Secrets> {
        match self {
            SecretsAt::Files(secrets) => Some(secrets),
            SecretsAt::Env => None,
        }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}
