//! Unit tests for chaincode, in-process: [`Emulator`].
//!
//! An [`Emulator`] serves your chaincode in the test's own process and drives it as a Fabric peer
//! does. Each transaction goes through the real shim handler over an in-process connection (no
//! gRPC, no sockets, no mock stub): the chaincode's `GET_STATE`, `PUT_STATE`, range queries,
//! events and so on are answered by the [peer model](crate::model), with Fabric's transaction
//! simulation. What a test can look at afterwards is what the peer would know: the response, the
//! event, the read and write sets, and the committed [`Ledger`].
//!
//! ```
//! use ccaas_shim::prelude::*;
//! use ccaas_testkit::Emulator;
//!
//! #[derive(Default)]
//! pub struct Notes;
//!
//! #[contract(rename_all = "PascalCase")]
//! impl Notes {
//!     #[transaction]
//!     async fn write(&self, ctx: &Context<'_>, key: String, text: String) -> Result<()> {
//!         Ok(ctx.stub().put_state(&key, text).await?)
//!     }
//!
//!     #[transaction(evaluate)]
//!     async fn read(&self, ctx: &Context<'_>, key: String) -> Result<String> {
//!         let value = ctx.stub().get_state(&key).await?;
//!         let value = value.ok_or_else(|| ContractError::failed(format!("{key} does not exist")))?;
//!         Ok(String::from_utf8_lossy(&value).into_owned())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let peer = Emulator::in_process(Notes).await;
//!
//! let outcome = peer.submit("Write", ["greeting", "hello"]).await.unwrap();
//! outcome.assert_ok();
//! assert_eq!(outcome.writes[0].key, "greeting");
//! assert_eq!(peer.state("greeting").unwrap(), "hello");
//!
//! assert_eq!(peer.evaluate("Read", ["greeting"]).await.unwrap().payload_str(), "hello");
//! peer.evaluate("Read", ["nope"]).await.unwrap().assert_error("nope does not exist");
//! # });
//! ```
//!
//! [`Emulator::in_process`] takes anything [`IntoChaincode`], as `ccaas_shim::run_from_env` does:
//! a `#[contract]` type (served alone in a `ContractChaincode`), a `ContractChaincode` with
//! several contracts, or any low-level `Chaincode`. Per-transaction options (creator, transient data, timestamp, channel, txid)
//! are on [`Emulator::tx`]; a ledger filled before the first transaction is set up with
//! [`Emulator::builder`].

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use std::borrow::Cow;

use ccaas_protos::protos::ChaincodeEvent;
pub use ccaas_shim::{AsChaincode, AsContract, IntoChaincode};
use serde::de::DeserializeOwned;

use crate::{EmulatorBuilder, EmulatorError, Identity, Ledger, PeerEmulator, TxBuilder, TxOutcome};

/// A peer for unit tests, serving one chaincode in this process. Cheap to clone; transactions
/// may run concurrently.
///
/// A thin layer over [`PeerEmulator`] (reach it with [`peer`](Self::peer) for everything else:
/// the transcript, the model's counters, protocol violations, raw messages).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use ccaas_shim::{Chaincode, ChaincodeStub, Response};
/// use ccaas_testkit::{Emulator, Identity};
///
/// /// A low-level chaincode that reports who called it, when, with which secret.
/// struct Whoami;
///
/// impl Chaincode for Whoami {
///     async fn invoke(&self, stub: &ChaincodeStub) -> Response {
///         let msp = stub.client_identity().map(|id| id.msp_id().to_string()).unwrap_or_default();
///         let secret = stub.transient().get("secret").cloned().unwrap_or_default();
///         let seconds = stub.tx_timestamp().map_or(0, |t| t.seconds);
///         Response::success(format!("{msp} {seconds} {}", String::from_utf8_lossy(&secret)))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let peer = Emulator::builder().seed([("asset1", "seeded")]).in_process(Whoami).await;
/// assert_eq!(peer.state("asset1").unwrap(), "seeded");
///
/// let outcome = peer
///     .tx("Whoami")
///     .creator(Identity::generate("Org2MSP", "alice"))
///     .transient("secret", "s3cr3t")
///     .timestamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
///     .evaluate()
///     .await
///     .unwrap();
/// assert_eq!(outcome.assert_ok().payload_str(), "Org2MSP 1700000000 s3cr3t");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Emulator {
    peer: PeerEmulator,
}

impl Emulator {
    /// Serves `chaincode` in this process and connects to it, with the defaults: chaincode name
    /// `basic`, channel `mychannel`, an empty ledger, and [`Identity::default_client`] as the
    /// creator.
    ///
    /// # Panics
    /// If the chaincode does not complete the registration handshake.
    pub async fn in_process<K, C: IntoChaincode<K>>(chaincode: C) -> Emulator {
        Emulator::builder().in_process(chaincode).await
    }

    /// Options for the emulator: ledger contents, names, default creator.
    pub fn builder() -> UnitBuilder {
        UnitBuilder { peer: PeerEmulator::builder(), seed: Vec::new() }
    }

    /// Submits `function` with `args`: the chaincode runs it, and its writes are committed if
    /// the peer endorses the response (status 200..400).
    ///
    /// A transaction the chaincode fails is an `Ok` outcome with its status and message; `Err`
    /// means the transaction did not complete (the chaincode answered ERROR, broke the protocol,
    /// or timed out).
    pub async fn submit<I, A>(&self, function: &str, args: I) -> Result<TxOutcome, EmulatorError>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        self.tx(function).args(args).submit().await
    }

    /// Evaluates `function` with `args`: the chaincode runs it, nothing is committed.
    pub async fn evaluate<I, A>(&self, function: &str, args: I) -> Result<TxOutcome, EmulatorError>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        self.tx(function).args(args).evaluate().await
    }

    /// A transaction with options: `.args(..)`, `.arg(..)`, `.creator(..)`, `.transient(..)`,
    /// `.timestamp(..)`, `.channel(..)`, `.tx_id(..)`, `.init()`; then
    /// [`submit`](TxBuilder::submit) or [`evaluate`](TxBuilder::evaluate).
    pub fn tx(&self, function: &str) -> TxBuilder {
        self.peer.transaction(function.to_string())
    }

    /// The committed ledger (every namespace, with versions and history).
    pub fn ledger(&self) -> &Arc<Ledger> {
        self.peer.ledger()
    }

    /// The committed value of `key` in the chaincode's namespace.
    pub fn state(&self, key: &str) -> Option<Bytes> {
        self.ledger().get(self.chaincode_name(), key)
    }

    /// Commits `entries` to the chaincode's namespace as one transaction (an empty value deletes
    /// the key).
    pub fn seed<K, V>(&self, entries: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<String>,
        V: Into<Bytes>,
    {
        self.ledger().seed(self.chaincode_name(), entries);
    }

    /// The chaincode's name: its namespace in the ledger.
    pub fn chaincode_name(&self) -> &str {
        self.peer.chaincode_name()
    }

    /// The emulator underneath.
    pub fn peer(&self) -> &PeerEmulator {
        &self.peer
    }
}

/// Options of an [`Emulator`] (see [`Emulator::builder`]).
#[must_use = "the builder does nothing until `in_process`"]
pub struct UnitBuilder {
    peer: EmulatorBuilder,
    seed: Vec<(String, Bytes)>,
}

impl fmt::Debug for UnitBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnitBuilder").field("seed", &self.seed.len()).finish_non_exhaustive()
    }
}

impl UnitBuilder {
    /// The chaincode's name, its ledger namespace (default `basic`).
    pub fn chaincode_name(mut self, name: impl Into<String>) -> Self {
        self.peer = self.peer.chaincode_name(name);
        self
    }

    /// The channel transactions run on (default `mychannel`).
    pub fn channel(mut self, channel_id: impl Into<String>) -> Self {
        self.peer = self.peer.channel(channel_id);
        self
    }

    /// Who submits transactions that do not set a [creator](TxBuilder::creator).
    pub fn creator(mut self, identity: Identity) -> Self {
        self.peer = self.peer.identity(identity);
        self
    }

    /// Entries committed to the chaincode's namespace before the first transaction (repeatable;
    /// all are committed as one block).
    pub fn seed<K, V>(mut self, entries: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<Bytes>,
    {
        self.seed.extend(entries.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Uses `ledger` (shared with other emulators, or prepared by the test) instead of a new one.
    pub fn ledger(mut self, ledger: Arc<Ledger>) -> Self {
        self.peer = self.peer.ledger(ledger);
        self
    }

    /// Any other [`EmulatorBuilder`] setting: the state database, the execute timeout, the
    /// READY parameters, a transcript hook...
    pub fn peer(mut self, configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Self {
        self.peer = configure(self.peer);
        self
    }

    /// Serves `chaincode` in this process and connects to it.
    ///
    /// # Panics
    /// If the chaincode does not complete the registration handshake.
    pub async fn in_process<K, C: IntoChaincode<K>>(self, chaincode: C) -> Emulator {
        let peer = match self.peer.connect_chaincode(chaincode.into_chaincode()).await {
            Ok(peer) => peer,
            Err(e) => panic!("the in-process chaincode did not register: {e}"),
        };
        if !self.seed.is_empty() {
            peer.ledger().seed(peer.chaincode_name(), self.seed);
        }
        Emulator { peer }
    }
}

/// No arguments, for a call without any: `peer.submit("InitLedger", NO_ARGS)` (or
/// `peer.tx("InitLedger").submit()`).
pub const NO_ARGS: [&str; 0] = [];

/// Assertions that read well in tests.
impl TxOutcome {
    /// The response message (empty on success).
    pub fn message(&self) -> &str {
        &self.response.message
    }

    /// Panics unless the chaincode answered status 200; returns the outcome for chaining.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.status() == 200, "expected status 200, got {self}");
        self
    }

    /// Panics unless the chaincode failed the transaction (status 400 or more) with exactly
    /// `message`; returns the outcome for chaining.
    #[track_caller]
    pub fn assert_error(&self, message: &str) -> &Self {
        assert!(
            self.status() >= 400 && self.response.message == message,
            "expected a failure with message {message:?}, got {self}"
        );
        self
    }

    /// The chaincode event's payload as text (invalid UTF-8 replaced), or `None` without an event.
    pub fn event_str(&self) -> Option<Cow<'_, str>> {
        self.event.as_ref().map(|event| String::from_utf8_lossy(&event.payload))
    }

    /// The response payload decoded from JSON as `T`: what a transaction returned, as a client
    /// application reads it.
    ///
    /// # Panics
    /// If the payload is not `T`'s JSON (an empty payload, a failed transaction's, included).
    ///
    /// ```
    /// use ccaas_shim::prelude::*;
    /// use ccaas_testkit::Emulator;
    ///
    /// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, Object)]
    /// pub struct Total {
    ///     pub sum: i64,
    ///     pub count: usize,
    /// }
    ///
    /// #[derive(Default)]
    /// pub struct Adder;
    ///
    /// #[contract]
    /// impl Adder {
    ///     #[transaction(evaluate)]
    ///     async fn add(&self, _ctx: &Context<'_>, numbers: Vec<i64>) -> Result<Total> {
    ///         Ok(Total { sum: numbers.iter().sum(), count: numbers.len() })
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let peer = Emulator::in_process(Adder).await;
    /// let outcome = peer.evaluate("add", ["[1, 2, 3]"]).await.unwrap();
    /// assert_eq!(outcome.assert_ok().payload_json::<Total>(), Total { sum: 6, count: 3 });
    /// # });
    /// ```
    #[track_caller]
    pub fn payload_json<T: DeserializeOwned>(&self) -> T {
        match serde_json::from_slice(&self.response.payload) {
            Ok(value) => value,
            Err(e) => panic!(
                "the payload is not a {}: {e}: {} (status {}, message {:?})",
                std::any::type_name::<T>(),
                crate::printable(&self.response.payload),
                self.status(),
                self.response.message
            ),
        }
    }

    /// The chaincode event named `name`, its payload decoded from JSON as `T`.
    ///
    /// # Panics
    /// Without an event, with an event of another name, or if the payload is not `T`'s JSON.
    #[track_caller]
    pub fn event_json<T: DeserializeOwned>(&self, name: &str) -> T {
        let event = self.expect_event(name);
        match serde_json::from_slice(&event.payload) {
            Ok(value) => value,
            Err(e) => panic!(
                "the payload of event {name:?} is not a {}: {e}: {}",
                std::any::type_name::<T>(),
                crate::printable(&event.payload)
            ),
        }
    }

    /// Panics unless the transaction set the chaincode event `name` with a payload equal to the
    /// JSON `payload` (compared as JSON values, so spacing and key order do not matter; a
    /// payload that is not JSON is compared as text); returns the outcome for chaining.
    ///
    /// ```
    /// use ccaas_shim::prelude::*;
    /// use ccaas_testkit::{Emulator, NO_ARGS};
    ///
    /// #[derive(Default)]
    /// pub struct Bell;
    ///
    /// #[contract]
    /// impl Bell {
    ///     #[transaction]
    ///     async fn ring(&self, ctx: &Context<'_>) -> Result<()> {
    ///         Ok(ctx.stub().set_event("Rang", r#"{"times": 1, "by": "me"}"#)?)
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let peer = Emulator::in_process(Bell).await;
    /// let outcome = peer.submit("ring", NO_ARGS).await.unwrap();
    /// outcome.assert_ok().assert_event("Rang", r#"{"by":"me","times":1}"#);
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Rang {
    ///     times: u32,
    /// }
    /// assert_eq!(outcome.event_json::<Rang>("Rang").times, 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn assert_event(&self, name: &str, payload: &str) -> &Self {
        let event = self.expect_event(name);
        let same = match (
            serde_json::from_slice::<serde_json::Value>(&event.payload),
            serde_json::from_str::<serde_json::Value>(payload),
        ) {
            (Ok(got), Ok(expected)) => got == expected,
            _ => event.payload == payload.as_bytes(),
        };
        assert!(
            same,
            "expected event {name:?} with payload {payload}, got payload {}",
            crate::printable(&event.payload)
        );
        self
    }

    /// Panics unless the transaction set no chaincode event; returns the outcome for chaining.
    #[track_caller]
    pub fn assert_no_event(&self) -> &Self {
        if let Some(event) = &self.event {
            panic!("expected no event, got {:?} with payload {}", event.event_name, crate::printable(&event.payload));
        }
        self
    }

    #[track_caller]
    fn expect_event(&self, name: &str) -> &ChaincodeEvent {
        match &self.event {
            Some(event) if event.event_name == name => event,
            Some(event) => panic!("expected event {name:?}, got event {:?} ({self})", event.event_name),
            None => panic!("expected event {name:?}, got no event ({self})"),
        }
    }
}

/// `status 200, payload "..."` or `status 500, message "..."`, plus the event's name if any.
impl fmt::Display for TxOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}", self.status())?;
        if !self.response.message.is_empty() || self.status() >= 400 {
            write!(f, ", message {:?}", self.response.message)?;
        }
        if !self.response.payload.is_empty() || self.status() < 400 {
            write!(f, ", payload {:?}", crate::printable(&self.response.payload))?;
        }
        if let Some(event) = &self.event {
            write!(f, ", event {:?}", event.event_name)?;
        }
        Ok(())
    }
}
