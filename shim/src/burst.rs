//! Logging refusals once per burst: a flood of refused connections or transactions gives one log
//! line when it starts and one every few seconds while it lasts, each with the count, not a line
//! per refusal.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after a line the next one waits, however many refusals happen meanwhile.
const QUIET: Duration = Duration::from_secs(5);

/// Counts refusals of one kind and says when to log them.
#[derive(Debug, Default)]
pub(crate) struct BurstLog {
    state: Mutex<(Option<Instant>, u64)>,
}

impl BurstLog {
    /// Records one refusal. Returns how many refusals the log line due now should report (this
    /// one and those held back since the last line), or `None` while the last line is recent.
    pub(crate) fn record(&self) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (last, held_back) = &mut *state;
        if last.is_some_and(|at| now.duration_since(at) < QUIET) {
            *held_back += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(held_back) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_logs_once_then_reports_what_it_held_back() {
        let log = BurstLog::default();
        assert_eq!(log.record(), Some(1));
        for _ in 0..999 {
            assert_eq!(log.record(), None);
        }
        // Pretend the quiet period is over.
        log.state.lock().unwrap().0 = Some(Instant::now() - QUIET);
        assert_eq!(log.record(), Some(1000));
        assert_eq!(log.record(), None);
    }
}
