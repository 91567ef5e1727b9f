//! SIGINT and SIGTERM: the command stops where it is, says on stderr what was in flight (the
//! step, the transaction and how far it got) and exits 130 (SIGINT) or 143 (SIGTERM). A re-run
//! finishes the job: it reads the channel again and does only what is missing.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Exit code after SIGINT (128 + 2, as a shell reports it).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

pub struct Interrupts {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on.
    pub fn new() -> std::io::Result<Interrupts> {
        Ok(Interrupts { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
    }

    /// Waits for either, says what was in flight (on stderr), and returns the exit code, that
    /// message, and the IDs of the transactions in flight.
    pub async fn wait(mut self) -> (u8, String, Vec<String>) {
        let (name, code) = tokio::select! {
            _ = self.interrupt.recv() => ("SIGINT", EXIT_SIGINT),
            _ = self.terminate.recv() => ("SIGTERM", EXIT_SIGTERM),
        };
        let in_flight = ccaas_deploy::in_flight::now();
        let text = message(name, &in_flight);
        eprintln!("{text}");
        (code, text, ccaas_deploy::in_flight::tx_ids())
    }
}

fn message(signal: &str, in_flight: &[String]) -> String {
    let mut m = if in_flight.is_empty() {
        format!("interrupted by {signal}, with nothing in flight")
    } else {
        format!("interrupted by {signal} during:\n  {}", in_flight.join("\n  "))
    };
    m.push_str(
        "\nstopped; run the same command again to finish the job (it reads the channel again and does only what is \
         missing)",
    );
    m
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_message_lists_what_was_in_flight() {
        let m = super::message("SIGTERM", &["step: approve basic".into(), "transaction t1 (approve): sent".into()]);
        assert!(m.starts_with("interrupted by SIGTERM during:\n  step: approve basic\n  transaction t1"), "{m}");
        assert!(m.ends_with("does only what is missing)"), "{m}");
        assert!(super::message("SIGINT", &[]).starts_with("interrupted by SIGINT, with nothing in flight\n"));
    }

    #[test]
    fn a_persistent_conflict_exits_8() {
        let e = ccaas_deploy::Error::Conflict { step: "approve".into(), tx_ids: vec!["t1".into()], attempts: 4 };
        assert_eq!(crate::cli::output::classify(&e.into()).1, 8);
    }
}
