//! The probes' common cadence.

use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// Calls `spawn` every `interval` until `stop`; `spawn` starts that tick's probes on the set,
/// each on its own task, so a hung target (each probe waits up to its own timeout) does not
/// slow the cadence of the others. Waits for the last probes to finish.
pub(super) async fn every<F>(interval: Duration, stop: CancellationToken, mut spawn: F)
where
    F: FnMut(&mut JoinSet<()>),
{
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut in_flight = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        spawn(&mut in_flight);
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
}
