//! A readable record of every message on a connection.
//!
//! Install a hook with [`EmulatorBuilder::transcript`](crate::EmulatorBuilder::transcript): it is
//! called for each message in either direction. [`Transcript`] is a ready-made hook that keeps the
//! entries; each entry prints as one line.
//!
//! ```text
//!    0.000s  cc→peer  REGISTER             name=basic_1.0:6a1f…
//!    0.001s  peer→cc  REGISTERED
//!    0.001s  peer→cc  READY                use_write_batch=false max_size_write_batch=1000 …
//!    0.002s  peer→cc  TRANSACTION          [3f2a9c1e@mychannel] args=["ReadAsset", "asset1"]
//!    0.002s  cc→peer  GET_STATE            [3f2a9c1e@mychannel] key="asset1"
//!    0.002s  peer→cc  RESPONSE             [3f2a9c1e@mychannel] 86 bytes {"AppraisedValue":300,…
//!    0.003s  cc→peer  COMPLETED            [3f2a9c1e@mychannel] status=200 payload=86 bytes
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccaas_protos::protos::{
    chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeId, ChaincodeInput, ChaincodeMessage, DelState,
    GetHistoryForKey, GetQueryResult, GetState, GetStateByRange, PutState, QueryResponse, QueryStateClose,
    QueryStateNext, Response,
};
use prost::Message;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Direction {
    /// From the emulated peer to the chaincode.
    PeerToChaincode,
    /// From the chaincode to the emulated peer.
    ChaincodeToPeer,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::PeerToChaincode => "peer→cc",
            Direction::ChaincodeToPeer => "cc→peer",
        })
    }
}

/// One message on the connection.
#[derive(Debug, Clone)]
pub struct TranscriptEntry {
    /// Time since the connection was opened.
    pub elapsed: Duration,
    /// Which way it went.
    pub direction: Direction,
    /// The message.
    pub message: ChaincodeMessage,
    /// For a RESPONSE or ERROR the peer sent: the request it answers (lets the payload be decoded).
    pub in_reply_to: Option<Type>,
}

impl TranscriptEntry {
    /// The message type's protocol name, e.g. `GET_STATE`.
    pub fn type_name(&self) -> String {
        type_name(self.message.r#type)
    }

    /// The message's type, if it is a known one.
    pub fn kind(&self) -> Option<Type> {
        Type::try_from(self.message.r#type).ok()
    }
}

impl fmt::Display for TranscriptEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = format!("{:>8.3}s  {:<7}  {:<19}", self.elapsed.as_secs_f64(), self.direction, self.type_name());
        let message = &self.message;
        if !message.txid.is_empty() || !message.channel_id.is_empty() {
            line.push_str(&format!("  [{}@{}]", crate::model::texts::short_txid(&message.txid), message.channel_id));
        }
        let details = describe_payload(message, self.in_reply_to);
        if !details.is_empty() {
            line.push(' ');
            line.push_str(&details);
        }
        f.write_str(line.trim_end())
    }
}

/// A function called with every message on a connection.
pub type TranscriptHook = Arc<dyn Fn(&TranscriptEntry) + Send + Sync>;

/// A hook that keeps every entry.
///
/// ```
/// let transcript = ccaas_testkit::Transcript::new();
/// let hook = transcript.hook(); // pass to EmulatorBuilder::transcript
/// # let _ = hook;
/// assert!(transcript.entries().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct Transcript {
    entries: Arc<Mutex<Vec<TranscriptEntry>>>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// The hook to install on an emulator.
    pub fn hook(&self) -> TranscriptHook {
        let entries = Arc::clone(&self.entries);
        Arc::new(move |entry: &TranscriptEntry| entries.lock().unwrap_or_else(|e| e.into_inner()).push(entry.clone()))
    }

    /// Every entry so far.
    pub fn entries(&self) -> Vec<TranscriptEntry> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The entries of one transaction.
    pub fn for_tx(&self, tx_id: &str) -> Vec<TranscriptEntry> {
        self.entries().into_iter().filter(|e| e.message.txid == tx_id).collect()
    }

    /// How many messages of `kind` went in `direction`.
    pub fn count(&self, direction: Direction, kind: Type) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|e| e.direction == direction && e.message.r#type == kind as i32)
            .count()
    }

    /// Every entry, one line each.
    pub fn render(&self) -> String {
        self.entries().iter().map(|e| format!("{e}\n")).collect()
    }
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcript").field("entries", &self.entries().len()).finish()
    }
}

fn type_name(raw: i32) -> String {
    Type::try_from(raw).map(|t| t.as_str_name().to_string()).unwrap_or_else(|_| format!("TYPE({raw})"))
}

fn quoted(key: &str) -> String {
    format!("{:?}", key)
}

fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 60;
    if bytes.is_empty() {
        return "0 bytes".to_string();
    }
    let text = crate::printable(bytes);
    let shown: String = text.chars().take(MAX).collect();
    let ellipsis = if text.chars().count() > MAX { "…" } else { "" };
    format!("{} bytes {shown}{ellipsis}", bytes.len())
}

/// A short human description of a message's payload.
pub fn describe_payload(message: &ChaincodeMessage, in_reply_to: Option<Type>) -> String {
    let payload = message.payload.clone();
    let Ok(kind) = Type::try_from(message.r#type) else { return preview(&payload) };
    match kind {
        Type::Register => ChaincodeId::decode(payload).map(|id| format!("name={}", id.name)).unwrap_or_default(),
        Type::Ready => ChaincodeAdditionalParams::decode(payload)
            .map(|p| {
                format!(
                    "use_write_batch={} max_size_write_batch={} use_get_multiple_keys={} max_size_get_multiple_keys={}",
                    p.use_write_batch, p.max_size_write_batch, p.use_get_multiple_keys, p.max_size_get_multiple_keys
                )
            })
            .unwrap_or_default(),
        Type::Init | Type::Transaction => ChaincodeInput::decode(payload)
            .map(|input| {
                let args: Vec<String> = input.args.iter().map(|a| crate::printable(a)).collect();
                format!("args={args:?}")
            })
            .unwrap_or_default(),
        Type::Completed => Response::decode(payload)
            .map(|r| {
                let mut text = format!("status={}", r.status);
                if !r.message.is_empty() {
                    text.push_str(&format!(" message={:?}", r.message));
                }
                text.push_str(&format!(" payload={}", preview(&r.payload)));
                if let Some(event) = &message.chaincode_event {
                    text.push_str(&format!(" event={:?}", event.event_name));
                }
                text
            })
            .unwrap_or_default(),
        Type::Error => format!("{:?}", String::from_utf8_lossy(&payload)),
        Type::GetState => GetState::decode(payload).map(|r| format!("key={}", quoted(&r.key))).unwrap_or_default(),
        Type::PutState => PutState::decode(payload)
            .map(|r| format!("key={} value={}", quoted(&r.key), preview(&r.value)))
            .unwrap_or_default(),
        Type::DelState => DelState::decode(payload).map(|r| format!("key={}", quoted(&r.key))).unwrap_or_default(),
        Type::GetStateByRange => GetStateByRange::decode(payload)
            .map(|r| format!("start={} end={}", quoted(&r.start_key), quoted(&r.end_key)))
            .unwrap_or_default(),
        Type::GetQueryResult => {
            GetQueryResult::decode(payload).map(|r| format!("query={}", r.query)).unwrap_or_default()
        }
        Type::GetHistoryForKey => {
            GetHistoryForKey::decode(payload).map(|r| format!("key={}", quoted(&r.key))).unwrap_or_default()
        }
        Type::QueryStateNext => QueryStateNext::decode(payload).map(|r| format!("id={}", r.id)).unwrap_or_default(),
        Type::QueryStateClose => QueryStateClose::decode(payload).map(|r| format!("id={}", r.id)).unwrap_or_default(),
        Type::Response => match in_reply_to {
            Some(
                Type::GetStateByRange
                | Type::GetQueryResult
                | Type::GetHistoryForKey
                | Type::QueryStateNext
                | Type::QueryStateClose,
            ) => QueryResponse::decode(payload)
                .map(|r| format!("{} rows has_more={} id={}", r.results.len(), r.has_more, r.id))
                .unwrap_or_default(),
            Some(Type::PutState | Type::DelState) => String::new(),
            _ => preview(&payload),
        },
        _ => {
            if payload.is_empty() {
                String::new()
            } else {
                preview(&payload)
            }
        }
    }
}
