//! What a command prints: its progress, its result, and its failure (text, or one JSON object
//! with `--output json`), and the exit code of a failure.

use std::cell::RefCell;

use ccaas_deploy::rollout::RolloutError;
use ccaas_deploy::{Error, Kind};
use clap::ValueEnum;
use serde_json::{json, Value};

/// Exit code: other organizations must approve first.
pub(crate) const EXIT_WAITING: u8 = 3;

/// Result format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Sentences.
    Text,
    /// One JSON document.
    Json,
}

/// The kind of failure `e` is, and its exit code.
pub(crate) fn classify(e: &anyhow::Error) -> (Kind, u8) {
    if let Some(e) = e.downcast_ref::<Error>() {
        return (e.kind(), e.exit_code());
    }
    let kind = match e.downcast_ref::<RolloutError>() {
        Some(RolloutError::Failed { .. }) => Kind::Rollout,
        Some(RolloutError::Unreachable { .. }) => Kind::Connection,
        // A refusal of the API server, no cluster configured, an object of another owner in the way.
        Some(_) | None => Kind::Configuration,
    };
    (kind, kind.exit_code())
}

/// The failure as one JSON object: `kind`, `message`, `exit_code`, `retryable`, `tx_ids`, and
/// the fields of the command's result, if it printed one.
pub(crate) fn failure_json(kind: Kind, code: u8, message: &str, tx_ids: &[String], result: Option<Value>) -> Value {
    let mut v = match result {
        Some(Value::Object(m)) => Value::Object(m),
        Some(other) => json!({"result": other}),
        None => json!({}),
    };
    v["kind"] = json!(kind.name());
    v["message"] = json!(message);
    v["exit_code"] = json!(code);
    v["retryable"] = json!(kind.retryable());
    v["tx_ids"] = json!(tx_ids);
    v
}

/// Prints progress, the result, and the failure: with `--output json`, stdout gets exactly one
/// JSON object, the result's or the failure's (with the result's fields when there is one).
pub(crate) struct Printer {
    pub(crate) output: Output,
    result: RefCell<Option<Value>>,
    failure: RefCell<Option<(Kind, String, Vec<String>)>>,
}

impl Printer {
    pub(crate) fn new(output: Output) -> Printer {
        Printer { output, result: RefCell::default(), failure: RefCell::default() }
    }

    pub(crate) fn progress(&self, line: &str) {
        match self.output {
            Output::Text => println!("{line}"),
            Output::Json => eprintln!("{line}"),
        }
    }

    /// The result: `text` now, or `value` when the command ends.
    pub(crate) fn result(&self, text: &[String], value: Value) {
        match self.output {
            Output::Text => text.iter().for_each(|l| println!("{l}")),
            Output::Json => *self.result.borrow_mut() = Some(value),
        }
    }

    /// What failed, for a command that ends with a non-zero code it chose (not an error): its
    /// JSON gets these as `kind`, `message` and `tx_ids` (the transactions it made). The command
    /// says it on stderr itself.
    pub(crate) fn failed(&self, kind: Kind, message: impl Into<String>, tx_ids: Vec<String>) {
        *self.failure.borrow_mut() = Some((kind, message.into(), tx_ids));
    }

    /// Prints what is left to print for `result` and returns the exit code.
    pub(crate) fn finish(&self, result: anyhow::Result<u8>) -> u8 {
        let value = self.result.borrow_mut().take();
        let json = self.output == Output::Json;
        match result {
            Ok(0) => {
                if let (true, Some(v)) = (json, value) {
                    println!("{v}");
                }
                0
            }
            Ok(code) => {
                if json {
                    let (kind, message, tx_ids) = self.failure.borrow_mut().take().unwrap_or_else(|| {
                        let kind = Kind::ALL.into_iter().find(|k| k.exit_code() == code).unwrap_or(Kind::Refused);
                        (kind, format!("{} (see stderr)", kind.name()), Vec::new())
                    });
                    println!("{}", failure_json(kind, code, &message, &tx_ids, value));
                }
                code
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                let (kind, code) = classify(&e);
                if json {
                    let tx_ids = e.downcast_ref::<Error>().map(Error::tx_ids).unwrap_or_default();
                    println!("{}", failure_json(kind, code, &format!("{e:#}"), &tx_ids, value));
                }
                code
            }
        }
    }
}
