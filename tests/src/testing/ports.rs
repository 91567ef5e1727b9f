//! Ports for tests that start real networks on 127.0.0.1 (a Fabric testbed, a Kubernetes API
//! server, the chaincode servers their peers dial), so two test runs on one machine (or two test
//! binaries at once) never share a port: each test process takes a slot of ports of its own, and a
//! test's port is its slot's base plus a fixed offset the test picks.
//!
//! A process owns slot `k` (base `2000 + 4500·k`, `k` < 6) by listening on the slot's last port,
//! `base + 4499`, for as long as it runs; the next process finds that port taken and moves on to
//! the next slot. Every port stays below Linux's ephemeral range (32768-60999), where any client
//! socket may hold a port and make a testbed refuse it.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::OnceLock;

const FIRST_BASE: u16 = 2000;
const SLOT_WIDTH: u16 = 4500;
const SLOTS: u16 = 6;

/// This process's port at `offset` (below 4499) in its slot; the first call takes the slot.
///
/// # Panics
/// If `offset` is outside a slot, or all six slots are held by other processes.
pub fn port(offset: u16) -> u16 {
    assert!(offset < SLOT_WIDTH - 1, "port offset {offset} is outside a slot (0..{})", SLOT_WIDTH - 1);
    slot_base() + offset
}

fn slot_base() -> u16 {
    static SLOT: OnceLock<(TcpListener, u16)> = OnceLock::new();
    let (_, base) = SLOT.get_or_init(|| {
        for slot in 0..SLOTS {
            let base = FIRST_BASE + slot * SLOT_WIDTH;
            if let Ok(guard) = TcpListener::bind((Ipv4Addr::LOCALHOST, base + SLOT_WIDTH - 1)) {
                eprintln!("test ports: slot {slot}, ports {base}-{}", base + SLOT_WIDTH - 1);
                return (guard, base);
            }
        }
        panic!(
            "no free test port slot: the guard ports {} (every {SLOT_WIDTH}th from {}) are all taken; {SLOTS} \
             test processes with testbeds are already running on this machine: wait for one to end",
            FIRST_BASE + SLOT_WIDTH - 1,
            FIRST_BASE + SLOT_WIDTH - 1
        )
    });
    *base
}
