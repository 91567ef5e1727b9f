//! One INIT or TRANSACTION, from the peer's message to COMPLETED.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeInput, ChaincodeMessage};
use prost::Message;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::link::{check_size, TxLink};
use super::{TxEnv, TxKey};
use crate::contract::BoxFuture;
use crate::metrics::{Limit, Outcome};
use crate::response::{Response, ERROR, ERROR_THRESHOLD};
use crate::stub::ChaincodeStub;
use crate::Chaincode;

/// A [`Chaincode`] as a trait object, which is how the server holds it: the server's code (the
/// protocol handler, the HTTP/2 and gRPC layers, the accept loop) is then compiled once, in the
/// shim, instead of once per chaincode type in every chaincode binary. A transaction's call
/// costs one virtual call more; its future was boxed already.
pub(crate) trait DynChaincode: Send + Sync + 'static {
    /// [`Chaincode::init`] or [`Chaincode::invoke`], boxed.
    fn call<'a>(&'a self, stub: &'a ChaincodeStub, is_init: bool) -> BoxFuture<'a, Response>;
}

impl<C: Chaincode> DynChaincode for C {
    fn call<'a>(&'a self, stub: &'a ChaincodeStub, is_init: bool) -> BoxFuture<'a, Response> {
        // Boxed: a chaincode's future can be tens of KiB (every transaction's state machine), and
        // held by value it would be copied into the task at spawn and again on completion.
        if is_init {
            Box::pin(self.init(stub))
        } else {
            Box::pin(self.invoke(stub))
        }
    }
}

/// The first 8 characters of a txid, as the Go shim prints it in errors.
pub(crate) fn short_txid(txid: &str) -> &str {
    txid.get(..8).unwrap_or(txid)
}

/// An ERROR message for a transaction.
pub(crate) fn error_message(key: &TxKey, text: String) -> ChaincodeMessage {
    ChaincodeMessage {
        r#type: Type::Error as i32,
        payload: Bytes::from(text),
        txid: key.txid.clone(),
        channel_id: key.channel_id.clone(),
        ..Default::default()
    }
}

/// Runs one transaction and reports it. Never panics: a panicking chaincode becomes status 500,
/// and one that runs past the transaction timeout is cancelled and reported as ERROR.
pub(crate) async fn run(
    chaincode: Arc<dyn DynChaincode>,
    is_init: bool,
    message: ChaincodeMessage,
    key: TxKey,
    link: TxLink,
    done: mpsc::UnboundedSender<TxKey>,
    env: Arc<TxEnv>,
) {
    let link = Arc::new(link);
    let timeout = env.transaction_timeout;
    let input = ChaincodeInput::decode(message.payload.clone());
    let metrics = link.metrics.transaction(input.as_ref().ok().and_then(|i| i.args.first()).map(|f| &f[..]));
    let mut outcome = Outcome::Failed;
    let reply = match input {
        Err(e) => {
            let text = format!("[{}] failed to unmarshal input: {e}", short_txid(&key.txid));
            error_message(&key, text)
        }
        Ok(input) => {
            let decorations = input.decorations.into_iter().collect();
            match ChaincodeStub::new(Arc::clone(&link), env, input.args, decorations, message.proposal, is_init) {
                Err(e) => error_message(&key, format!("failed to create new ChaincodeStub: {e}")),
                Ok(stub) => {
                    // Dropping the future at the deadline cancels the chaincode where it waits and
                    // drops its iterators; the peer closes its side of them when it gets ERROR.
                    let run = async {
                        let response = execute(&*chaincode, &stub, is_init).await;
                        finish(&stub, &response, is_init).await.map(|()| response)
                    };
                    match tokio::time::timeout(timeout, run).await {
                        Ok(Ok(response)) => {
                            debug!(status = response.status, "transaction finished");
                            outcome = if response.status < ERROR_THRESHOLD { Outcome::Success } else { Outcome::Error };
                            completion(&link, &stub, response, is_init, &mut outcome)
                        }
                        Ok(Err(e)) => error_message(&key, e.to_string()),
                        Err(_) => {
                            outcome = Outcome::Timeout;
                            link.metrics.limit_hit(Limit::TransactionTimeout);
                            warn!(
                                ?timeout,
                                "transaction cancelled: it ran past the transaction timeout \
                                 (CHAINCODE_TRANSACTION_TIMEOUT); the peer gets ERROR for it"
                            );
                            let text = format!(
                                "[{}] the chaincode did not complete the transaction within {timeout:?} \
                                 (CHAINCODE_TRANSACTION_TIMEOUT); it was cancelled",
                                short_txid(&key.txid)
                            );
                            error_message(&key, text)
                        }
                    }
                }
            }
        }
    };
    metrics.finish(outcome);
    // Remove the route before the peer can see the outcome and reuse the txid.
    let _ = done.send(key);
    if link.send(reply).await.is_err() {
        warn!("the peer connection closed before the transaction's result could be sent; the peer retries or fails it");
    }
}

/// Before COMPLETED: flush the open write batch and close the iterators that were dropped
/// unfinished. The batch is flushed exactly when the Go shim flushes it (`handler.go`,
/// `handleTransaction` / `handleInit`): after every Invoke, whatever its status, and after an
/// Init unless it failed with status 500 or more (the peer then gets ERROR, not COMPLETED). So
/// the writes of a failed callee in a chaincode-to-chaincode call stay in the caller's
/// simulation, batched or not. A flush failure fails the transaction, as in the Go shim.
async fn finish(stub: &ChaincodeStub, response: &Response, is_init: bool) -> crate::Result<()> {
    if !(is_init && response.status >= ERROR) {
        stub.finish_write_batch().await?;
    }
    stub.link().finish().await
}

async fn execute(chaincode: &dyn DynChaincode, stub: &ChaincodeStub, is_init: bool) -> Response {
    let outcome = catch_unwind(chaincode.call(stub, is_init)).await;
    outcome.unwrap_or_else(|panic| {
        let reason = panic_message(panic.as_ref());
        warn!(%reason, "the chaincode panicked in this transaction; it fails with status 500 and the server goes on");
        Response::error(format!("chaincode panicked: {reason}"))
    })
}

/// Runs `future` to completion, or to the panic that one of its polls raised.
async fn catch_unwind<T>(mut future: Pin<Box<dyn Future<Output = T> + Send + '_>>) -> std::thread::Result<T> {
    std::future::poll_fn(|cx| match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
        Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panic)),
    })
    .await
}

/// COMPLETED with the response and event; a failed Init becomes ERROR, as in the Go shim. A
/// result over the message size limit becomes ERROR too: sent, it would end the whole stream.
/// A refused result makes the `outcome` [`Outcome::Failed`].
fn completion(
    link: &TxLink,
    stub: &ChaincodeStub,
    response: Response,
    is_init: bool,
    outcome: &mut Outcome,
) -> ChaincodeMessage {
    let event = stub.take_event();
    let mut message = if is_init && response.status >= ERROR {
        link.message(Type::Error, Bytes::from(response.message))
    } else {
        let payload = Bytes::from(ccaas_protos::protos::Response::from(response).encode_to_vec());
        link.message(Type::Completed, payload)
    };
    message.chaincode_event = event;
    match check_size(&message, "the transaction's result") {
        Ok(()) => message,
        Err(e) => {
            warn!(error = %e, "the transaction's result is too large to send; the peer gets ERROR for it");
            link.metrics.limit_hit(Limit::MessageSize);
            *outcome = Outcome::Failed;
            link.message(Type::Error, Bytes::from(e.to_string()))
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}
