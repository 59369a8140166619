use std::sync::atomic::{AtomicU64, Ordering};

/// The highest sequence number among the writes acknowledged so far, shared by the writer, which
/// raises it as `ok` writes complete, and the readers, which look for that write.
///
/// The writer records a sequence number only after the write's complete instant was taken, and
/// a reader looks it up just before taking its read's invoke instant: whatever a read expects was
/// acknowledged (its `complete`) at or before the read's `invoke`.
#[derive(Debug, Default)]
pub struct Acknowledged {
    /// The highest acknowledged sequence number plus one; 0 while none was.
    next: AtomicU64,
}

impl Acknowledged {
    /// Records that the write of `seq` was acknowledged. Never lowers the highest: writes may
    /// complete out of order.
    pub fn record(&self, seq: u64) {
        self.next
            .fetch_max(seq.saturating_add(1), Ordering::Release);
    }

    /// The highest sequence number acknowledged so far; `None` before the first.
    pub fn highest(&self) -> Option<u64> {
        self.next.load(Ordering::Acquire).checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn keeps_the_highest_whatever_the_order() {
        let acked = Acknowledged::default();
        assert_eq!(acked.highest(), None);
        acked.record(0);
        assert_eq!(acked.highest(), Some(0));
        acked.record(5);
        acked.record(3);
        assert_eq!(acked.highest(), Some(5));
        acked.record(6);
        assert_eq!(acked.highest(), Some(6));
    }

    #[test]
    fn concurrent_writers_leave_the_highest() {
        let acked = Arc::new(Acknowledged::default());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let acked = acked.clone();
                std::thread::spawn(move || {
                    let mut last = None;
                    for k in (0..1000u64).rev() {
                        acked.record(k * 4 + t);
                        // never goes down
                        let now = acked.highest();
                        assert!(now >= last);
                        last = now;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(acked.highest(), Some(3999));
    }
}
