//! Chaincode-to-chaincode calls.

use ccaas_protos::protos::{chaincode_message::Type, ChaincodeId, ChaincodeInput, ChaincodeMessage, ChaincodeSpec};
use prost::Message;

use super::ChaincodeStub;
use crate::Response;

impl ChaincodeStub {
    /// Calls chaincode `name` with `args` in the same transaction and returns its response.
    ///
    /// With an empty `channel` the callee runs on this transaction's channel and its writes join
    /// this transaction; on another channel the call is read-only (the peer discards its writes).
    /// Failures (the peer refusing the call, the callee failing) come back as a status-500
    /// response carrying the message, as in the Go shim.
    pub async fn invoke_chaincode<A: AsRef<[u8]>>(&self, name: &str, args: &[A], channel: &str) -> Response {
        let target = if channel.is_empty() { name.to_string() } else { format!("{name}/{channel}") };
        let spec = ChaincodeSpec {
            chaincode_id: Some(ChaincodeId { name: target, ..Default::default() }),
            input: Some(ChaincodeInput {
                args: args.iter().map(|a| bytes::Bytes::copy_from_slice(a.as_ref())).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let payload = match self.link.call(Type::InvokeChaincode, &spec).await {
            Ok(payload) => payload,
            Err(e) => return Response::error(e.to_string()),
        };
        let nested = match ChaincodeMessage::decode(payload) {
            Ok(message) => message,
            Err(e) => return Response::error(format!("could not decode the called chaincode's reply: {e}")),
        };
        if nested.r#type != Type::Completed as i32 {
            return Response::error(String::from_utf8_lossy(&nested.payload).into_owned());
        }
        match ccaas_protos::protos::Response::decode(nested.payload) {
            Ok(response) => response.into(),
            Err(e) => Response::error(format!("could not decode the called chaincode's response: {e}")),
        }
    }
}
