//! What a drill rehearsed, in words shared by the reports: the topology, the workload and the
//! fault schedule as the scenario planned them.

use crate::scenario::Scenario;
use humantime::format_duration;

/// `3 etcd, 3 Patroni/PostgreSQL (ttl 30s, ...), HAProxy (patroni-rest check, ...)`: each kind
/// the topology has, as the kind describes its settings.
pub fn topology(s: &Scenario) -> String {
    crate::topology::KINDS
        .iter()
        .filter_map(|kind| kind.kind().describe(&s.topology))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `100 writes/s through HAProxy, 4 connections, ...; 20 reads/s through ...`.
pub fn workload(s: &Scenario) -> String {
    format!(
        "{} writes/s through HAProxy, {} connections, connect timeout {}, write timeout {}{}",
        s.workload.rate,
        s.workload.writers,
        format_duration(s.workload.connect_timeout),
        format_duration(s.workload.write_timeout),
        if s.workload.readers > 0 {
            format!(
                "; {} reads/s through the {} endpoint, {} connections",
                s.workload.read_rate,
                s.workload.read_through.name(),
                s.workload.readers
            )
        } else {
            String::new()
        },
    )
}

/// Each scheduled fault in a line: `at 10s: crash of leader, healed after 15s`.
pub fn fault_schedule(s: &Scenario) -> Vec<String> {
    s.faults
        .iter()
        .map(|f| {
            let extra = f.kind.schedule_note();
            format!(
                "at {}: {} of {}{extra}, {}",
                format_duration(f.at),
                f.kind.name(),
                f.target,
                match f.duration {
                    Some(d) => format!("healed after {}", format_duration(d)),
                    None => "not healed".to_string(),
                }
            )
        })
        .collect()
}

/// Each scheduled step in a line: `at 20s: target (restore point "x")`.
pub fn step_schedule(s: &Scenario) -> Vec<String> {
    s.steps
        .iter()
        .map(|step| {
            format!(
                "at {}: {}{}",
                format_duration(step.at),
                step.action.name(),
                step.action.schedule_note()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_says_when_what_and_whom() {
        let text = "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\n\
                    [[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"leader\"\nduration = \"15s\"\n\
                    [[fault]]\nat = \"40s\"\nkind = \"switchover\"\ntarget = \"leader\"\n";
        let s = crate::scenario::parse(std::path::Path::new("x.toml"), text).unwrap();
        assert_eq!(
            fault_schedule(&s),
            [
                "at 10s: crash of leader, healed after 15s",
                "at 40s: switchover of leader, not healed",
            ]
        );
        assert!(step_schedule(&s).is_empty());
        let steps = crate::report::steps_record().scenario;
        assert_eq!(
            step_schedule(&steps),
            [
                "at 1s: target",
                "at 3s: target (restore point \"after-failover\")"
            ]
        );
    }
}
