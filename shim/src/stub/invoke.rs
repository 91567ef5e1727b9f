//! Chaincode-to-chaincode calls.

use bytes::Bytes;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeId, ChaincodeInput, ChaincodeMessage, ChaincodeSpec};
use prost::Message;

use super::ChaincodeStub;
use crate::error::ShimError;
use crate::handler::transaction::short_txid;
use crate::response::{Response, ERROR};

impl ChaincodeStub {
    /// Calls chaincode `name` with `args` in the same transaction and returns its response.
    ///
    /// With an empty `channel` the callee runs on this transaction's channel and its writes join
    /// this transaction, whatever the callee's status: a caller that goes on after a failed call
    /// keeps the callee's writes, as with the Go shim. On another channel the call is read-only
    /// (the peer discards its writes).
    ///
    /// Writes this transaction has collected in a write batch are sent before the call, so the
    /// callee runs on the simulation the writes would have made unbatched.
    ///
    /// A call that fails comes back as the Go shim returns it, status 500 with an **empty
    /// message** and the error in the **payload**:
    /// - the peer refused the call (ERROR reply): the payload is the peer's error text;
    /// - the callee failed in another way than COMPLETED: the payload is the callee's whole reply,
    ///   an encoded `ChaincodeMessage`;
    /// - the request could not be sent: the payload is `[<txid>] error sending INVOKE_CHAINCODE`.
    ///
    /// A callee that completes with an error status of its own (`Response::error`) comes back
    /// unchanged, message and all.
    pub async fn invoke_chaincode<A: AsRef<[u8]>>(&self, name: &str, args: &[A], channel: &str) -> Response {
        if let Err(e) = self.flush_write_batch().await {
            return failed(e.to_string());
        }
        let target = if channel.is_empty() { name.to_string() } else { format!("{name}/{channel}") };
        let spec = ChaincodeSpec {
            chaincode_id: Some(ChaincodeId { name: target, ..Default::default() }),
            input: Some(ChaincodeInput {
                args: args.iter().map(|a| Bytes::copy_from_slice(a.as_ref())).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let payload = match self.link.call(Type::InvokeChaincode, &spec).await {
            Ok(payload) => payload,
            Err(ShimError::Peer(text)) => return failed(text),
            Err(ShimError::ConnectionClosed(_)) => {
                return failed(format!("[{}] error sending INVOKE_CHAINCODE", short_txid(self.tx_id())))
            }
            Err(e) => return failed(e.to_string()),
        };
        let nested = match ChaincodeMessage::decode(payload.clone()) {
            Ok(message) => message,
            Err(e) => return failed(e.to_string()),
        };
        if nested.r#type != Type::Completed as i32 {
            return Response { status: ERROR, message: String::new(), payload };
        }
        match ccaas_protos::protos::Response::decode(nested.payload) {
            Ok(response) => response.into(),
            Err(e) => failed(e.to_string()),
        }
    }
}

/// A failed call as the Go shim's `createResponse(ERROR, text)` builds it.
fn failed(text: String) -> Response {
    Response { status: ERROR, message: String::new(), payload: Bytes::from(text) }
}
