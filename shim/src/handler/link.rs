//! The one request path every stub call goes through: send a typed request for this transaction,
//! wait for the peer's RESPONSE or ERROR, hand back the payload.
//!
//! The peer accepts at most one outstanding request per (channel, txid) and silently drops a
//! second one, so requests of a transaction are serialized by an (uncontended, per-transaction)
//! async mutex around the reply receiver. There is no lock shared between transactions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};

use bytes::Bytes;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeMessage, QueryStateClose};
use prost::Message;
use tokio::sync::{mpsc, Mutex};

use crate::error::{Result, ShimError};
use crate::metrics::{Limit, Metrics};

/// Messages from the chaincode to the peer.
pub(crate) type Outbound = mpsc::Sender<ChaincodeMessage>;

/// The reply side of a transaction: RESPONSE or ERROR messages routed to it by the connection.
/// A RESPONSE or ERROR for a transaction: its type and payload, all a request needs of it. (A
/// whole `ChaincodeMessage` is ~280 bytes, and tokio's channel allocates 32 slots at once.)
pub(crate) struct Reply {
    pub(crate) kind: i32,
    pub(crate) payload: Bytes,
}

struct Replies {
    rx: mpsc::Receiver<Reply>,
    /// Requests whose caller was cancelled before the reply came; those replies are skipped.
    abandoned: usize,
}

/// One transaction's line to the peer.
pub(crate) struct TxLink {
    pub(crate) channel_id: String,
    pub(crate) txid: String,
    outbound: Outbound,
    replies: Mutex<Replies>,
    /// Requests sent and not yet answered, shared with the connection's routing (see `Route`).
    awaiting: Arc<AtomicUsize>,
    /// Iterators dropped before they were exhausted; closed before the next request.
    pending_closes: SyncMutex<Vec<String>>,
    /// The server's metrics (stub requests, write batches, the transaction's own).
    pub(crate) metrics: Metrics,
}

/// Marks a request as abandoned if the future awaiting its reply is dropped.
struct InFlight<'a> {
    replies: &'a mut Replies,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.replies.abandoned += 1;
        }
    }
}

impl TxLink {
    pub(crate) fn new(
        channel_id: String,
        txid: String,
        outbound: Outbound,
        rx: mpsc::Receiver<Reply>,
        awaiting: Arc<AtomicUsize>,
        metrics: Metrics,
    ) -> Self {
        TxLink {
            channel_id,
            txid,
            outbound,
            replies: Mutex::new(Replies { rx, abandoned: 0 }),
            awaiting,
            pending_closes: SyncMutex::new(Vec::new()),
            metrics,
        }
    }

    /// A message of this transaction, ready to send.
    pub(crate) fn message(&self, kind: Type, payload: Bytes) -> ChaincodeMessage {
        ChaincodeMessage {
            r#type: kind as i32,
            payload,
            txid: self.txid.clone(),
            channel_id: self.channel_id.clone(),
            ..Default::default()
        }
    }

    /// Sends a message that expects no reply (COMPLETED, ERROR).
    pub(crate) async fn send(&self, message: ChaincodeMessage) -> Result<()> {
        self.outbound.send(message).await.map_err(|_| ShimError::ConnectionClosed(type_name(Type::Completed)))
    }

    /// Sends `request` as a message of type `kind` and returns the payload of the peer's RESPONSE.
    pub(crate) async fn call(&self, kind: Type, request: &impl Message) -> Result<Bytes> {
        let payload = Bytes::from(request.encode_to_vec());
        let mut replies = self.replies.lock().await;
        self.flush_pending_closes(&mut replies).await?;
        self.exchange(&mut replies, kind, payload).await
    }

    /// Closes, before the transaction completes, the iterators that were dropped unfinished.
    pub(crate) async fn finish(&self) -> Result<()> {
        let mut replies = self.replies.lock().await;
        self.flush_pending_closes(&mut replies).await
    }

    /// Records an iterator to close before the next request (called from `Drop`).
    pub(crate) fn close_later(&self, iterator_id: String) {
        self.pending_closes.lock().unwrap_or_else(|e| e.into_inner()).push(iterator_id);
    }

    async fn flush_pending_closes(&self, replies: &mut Replies) -> Result<()> {
        loop {
            let next = self.pending_closes.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(id) = next else { return Ok(()) };
            let payload = Bytes::from(QueryStateClose { id }.encode_to_vec());
            self.exchange(replies, Type::QueryStateClose, payload).await?;
        }
    }

    async fn exchange(&self, replies: &mut Replies, kind: Type, payload: Bytes) -> Result<Bytes> {
        let name = type_name(kind);
        // Replies to requests whose callers gave up are still on their way: skip them.
        while replies.abandoned > 0 {
            replies.rx.recv().await.ok_or(ShimError::ConnectionClosed(name))?;
            replies.abandoned -= 1;
        }
        let message = self.message(kind, payload);
        if let Err(e) = check_size(&message, name) {
            tracing::warn!(error = %e, "stub request refused before sending; the call fails");
            self.metrics.limit_hit(Limit::MessageSize);
            return Err(e);
        }
        self.metrics.stub_request(kind);
        self.awaiting.fetch_add(1, Ordering::AcqRel);
        self.outbound.send(message).await.map_err(|_| ShimError::ConnectionClosed(name))?;
        let mut in_flight = InFlight { replies, done: false };
        let reply = in_flight.replies.rx.recv().await;
        in_flight.done = true;
        let reply = reply.ok_or(ShimError::ConnectionClosed(name))?;
        match Type::try_from(reply.kind) {
            Ok(Type::Response) => Ok(reply.payload),
            Ok(Type::Error) => Err(ShimError::Peer(String::from_utf8_lossy(&reply.payload).into_owned())),
            _ => Err(ShimError::UnexpectedReply { request: name, got: describe_type(reply.kind) }),
        }
    }
}

/// Refuses a message the gRPC layer would refuse to encode: sent anyway, it would end the whole
/// stream, and with it every other transaction of the connection.
pub(crate) fn check_size(message: &ChaincodeMessage, name: &str) -> Result<()> {
    let size = message.encoded_len();
    if size > crate::MAX_MESSAGE_SIZE {
        return Err(ShimError::InvalidArgument(format!(
            "{name} of {size} bytes is over the {} byte message limit between the chaincode and the peer",
            crate::MAX_MESSAGE_SIZE
        )));
    }
    Ok(())
}

/// The protocol name of a message type, e.g. `GET_STATE`.
pub(crate) fn type_name(kind: Type) -> &'static str {
    kind.as_str_name()
}

/// The protocol name of a raw message type number, or the number itself if it is unknown.
pub(crate) fn describe_type(raw: i32) -> String {
    Type::try_from(raw).map(|t| t.as_str_name().to_string()).unwrap_or_else(|_| format!("type {raw}"))
}
