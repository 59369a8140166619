//! The phases of a failover run by arbiters (Redis Sentinel), from what they announced on
//! their own and from their answers to clients asking where the primary is. Each is a time
//! from `F`, the instant the fault's injection began, inside the fault's window.

use super::rto::Window;
use crate::history::{Announcement, RoleSample, RoleView};
use std::time::Duration;

/// The authorities clients ask where the primary is (Redis Sentinel's `get-master-addr-by-name`),
/// by their source's name: their answers are what a client connecting then is told. Other
/// authorities name a leader to the stack's own nodes (etcd's leader key, to Patroni).
const ASKED_BY_CLIENTS: &[&str] = &["sentinel"];

/// A phase: how long after `F` it was seen, and who saw it or what it was about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Phase {
    pub time: Duration,
    pub by: String,
}

/// The history's announcements ordered by arrival.
pub(crate) fn ordered<'a>(
    announcements: impl Iterator<Item = &'a Announcement>,
) -> Vec<&'a Announcement> {
    let mut all: Vec<&Announcement> = announcements.collect();
    all.sort_by_key(|a| a.at);
    all
}

/// The first announcement named `name` about `node` as a master that arrived in `window`:
/// **subjectively down** (`+sdown`: one Sentinel thinks the master down after
/// `down-after-milliseconds`), **objectively down** (`+odown`: a quorum agrees), **arbiter
/// election** (`+elected-leader`: a majority of Sentinels voted for the one that fails over).
/// From `F` to its arrival; `by`: the Sentinel that announced it.
pub(crate) fn announced(
    announcements: &[&Announcement],
    window: Window,
    name: &str,
    node: &str,
) -> Option<Phase> {
    announcements
        .iter()
        .filter(|a| a.at >= window.start && window.before_end(a.at))
        .find(|a| {
            a.name == name
                && a.about.as_deref() == Some(node)
                && a.about_role.as_deref() == Some("master")
        })
        .map(|a| Phase {
            time: a.at.since(window.start),
            by: a.from.clone(),
        })
}

/// **Clients told the new master**: where clients ask arbiters for the primary
/// ([`ASKED_BY_CLIENTS`]: Sentinel), from `F` to the `received` instant of the first answer,
/// sent in `window`, naming a node other than `old_leader`: a client asking that arbiter then
/// would connect to the new master. `by`: the node it named.
pub(crate) fn clients_told(
    authorities: &[&RoleSample],
    window: Window,
    old_leader: &str,
) -> Option<Phase> {
    authorities
        .iter()
        .filter(|p| p.view == RoleView::Authority && ASKED_BY_CLIENTS.contains(&p.source.as_str()))
        .filter(|p| p.sent >= window.start && window.before_end(p.sent))
        .filter(|p| p.node.as_deref().is_some_and(|n| n != old_leader))
        .min_by_key(|p| p.received)
        .map(|p| Phase {
            time: p.received.since(window.start),
            by: p.node.clone().unwrap_or_default(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::ms;
    use crate::history::At;

    /// The instant of the first announcement at or after `at`.
    fn first_after(announcements: &[&Announcement], at: At) -> Option<At> {
        announcements.iter().map(|a| a.at).find(|&t| t >= at)
    }

    fn said(from: &str, at: At, name: &str, about: Option<(&str, &str)>) -> Announcement {
        Announcement {
            source: "sentinel".into(),
            from: from.into(),
            at,
            name: name.into(),
            text: String::new(),
            about: about.map(|(n, _)| n.into()),
            about_role: about.map(|(_, r)| r.into()),
        }
    }

    fn named(asked: &str, sent: At, node: Option<&str>) -> RoleSample {
        RoleSample::authority(
            "sentinel",
            asked,
            sent,
            At(sent.0 + 1_000_000),
            node.map(Into::into),
        )
    }

    #[test]
    fn phases_are_the_first_announcements_about_the_old_master_in_the_window() {
        let all = [
            said("sentinel1", ms(50), "+sdown", Some(("redis1", "master"))),
            said("sentinel2", ms(2100), "+sdown", Some(("redis2", "slave"))),
            said("sentinel2", ms(2200), "+sdown", Some(("redis1", "master"))),
            said("sentinel3", ms(2300), "+odown", Some(("redis1", "master"))),
            said(
                "sentinel3",
                ms(2400),
                "+elected-leader",
                Some(("redis1", "master")),
            ),
            said("sentinel3", ms(2500), "+tilt", None),
        ];
        let announcements = ordered(all.iter());
        let w = Window {
            start: ms(100),
            end: None,
        };
        let sdown = announced(&announcements, w, "+sdown", "redis1").unwrap();
        assert_eq!(
            (sdown.time, sdown.by.as_str()),
            (Duration::from_millis(2100), "sentinel2")
        );
        let odown = announced(&announcements, w, "+odown", "redis1").unwrap();
        assert_eq!(odown.time, Duration::from_millis(2200));
        let elected = announced(&announcements, w, "+elected-leader", "redis1").unwrap();
        assert_eq!(elected.by, "sentinel3");
        let bounded = Window {
            start: ms(100),
            end: Some(ms(2250)),
        };
        assert_eq!(announced(&announcements, bounded, "+odown", "redis1"), None);
        assert_eq!(first_after(&announcements, ms(2450)), Some(ms(2500)));
    }

    #[test]
    fn clients_are_told_by_the_first_answer_naming_another_master() {
        let answers = [
            named("sentinel1", ms(90), Some("redis2")), // before F
            named("sentinel1", ms(200), Some("redis1")),
            named("sentinel2", ms(3000), None),
            named("sentinel2", ms(3300), Some("redis2")),
            named("sentinel3", ms(3200), Some("redis2")),
        ];
        let authorities: Vec<&RoleSample> = answers.iter().collect();
        let w = Window {
            start: ms(100),
            end: None,
        };
        let told = clients_told(&authorities, w, "redis1").unwrap();
        assert_eq!(
            (told.time, told.by.as_str()),
            (Duration::from_millis(3101), "redis2")
        );
        // an authority clients do not ask (etcd's leader key, read by Patroni) tells no client
        let etcd = [RoleSample::authority(
            "etcd",
            "etcd1",
            ms(3000),
            ms(3001),
            Some("pg2".into()),
        )];
        let etcd: Vec<&RoleSample> = etcd.iter().collect();
        assert_eq!(clients_told(&etcd, w, "pg1"), None);
    }
}
