//! What a command is doing right now (the step, the transaction and how far it got), for the
//! lines it prints when SIGINT or SIGTERM stops it: a re-run is safe, and these lines say what
//! may still land (a transaction already submitted can commit after the command is gone).

use std::sync::Mutex;

/// Each entry: its guard's id, the transaction ID if it is a transaction, and its line.
static NOW: Mutex<Vec<(u64, Option<String>, String)>> = Mutex::new(Vec::new());
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One thing in flight, listed by [`now`] until the guard is dropped.
#[derive(Debug)]
pub struct Guard(u64);

/// Lists `what` (e.g. `step: approve asset ...`) until the returned guard is dropped.
pub fn enter(what: impl Into<String>) -> Guard {
    push(None, what.into())
}

/// Lists the transaction `tx_id` with `what` (how far it got) until the guard is dropped; its ID
/// is among [`tx_ids`] meanwhile.
pub fn enter_transaction(tx_id: &str, what: impl Into<String>) -> Guard {
    push(Some(tx_id.to_string()), what.into())
}

fn push(tx_id: Option<String>, what: String) -> Guard {
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    lock().push((id, tx_id, what));
    Guard(id)
}

impl Guard {
    /// Says how far it got (replaces its line).
    pub fn update(&self, what: impl Into<String>) {
        if let Some(e) = lock().iter_mut().find(|(id, ..)| *id == self.0) {
            e.2 = what.into();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        lock().retain(|(id, ..)| *id != self.0);
    }
}

/// What is in flight, outermost first.
pub fn now() -> Vec<String> {
    lock().iter().map(|(.., w)| w.clone()).collect()
}

/// The IDs of the transactions in flight, outermost first.
pub fn tx_ids() -> Vec<String> {
    lock().iter().filter_map(|(_, tx_id, _)| tx_id.clone()).collect()
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(u64, Option<String>, String)>> {
    NOW.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_list_what_is_in_flight_until_dropped() {
        let step = enter("step: approve");
        let tx = enter_transaction("t1", "transaction t1: endorsing");
        tx.update("transaction t1: submitted");
        let listed = now();
        assert!(
            listed.ends_with(&["step: approve".to_string(), "transaction t1: submitted".to_string()]),
            "{listed:?}"
        );
        assert!(tx_ids().contains(&"t1".to_string()) && !tx_ids().contains(&"step: approve".to_string()));
        drop(tx);
        assert!(!now().iter().any(|l| l.contains("t1")));
        assert!(!tx_ids().contains(&"t1".to_string()));
        drop(step);
        assert!(!now().iter().any(|l| l == "step: approve"));
    }
}
