//! The workload's cadence: operations started on a fixed schedule, each on its own task, so
//! that one is in flight at every instant of an outage.

use crate::history::{At, Clock, Event};
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Starts `op(k)` for k = 0, 1, 2... at run instants k·`period` until `stop` is cancelled (at a
/// scripted drill's end, or a game day's `down`), each concurrently, and sends the event each one ends with. Waits for
/// the last to finish.
pub(super) async fn on_schedule<F, Fut>(
    clock: Clock,
    period: Duration,
    stop: &CancellationToken,
    events: &UnboundedSender<Event>,
    mut op: F,
) where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Event> + Send + 'static,
{
    let mut in_flight = JoinSet::new();
    let mut next = At::default();
    let mut k = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(clock.instant(next)) => {}
            _ = stop.cancelled() => break,
        }
        let operation = op(k);
        let events = events.clone();
        in_flight.spawn(async move {
            let _ = events.send(operation.await);
        });
        // Reap finished operations as we go so the set stays small.
        while in_flight.try_join_next().is_some() {}
        k += 1;
        next = next.plus(period);
    }
    while in_flight.join_next().await.is_some() {}
}
