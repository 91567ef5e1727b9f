//! A minimal peer for the contract tests: drives one in-process connection and answers
//! GET_STATE / PUT_STATE / DEL_STATE from a map. Writes are applied at once (no simulation).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use ccaas_shim::protos::protos::{
    chaincode_message::Type, ChaincodeInput, ChaincodeMessage, DelState, GetState, PutState,
};
use ccaas_shim::{Chaincode, ChaincodeService, Drain, InProcessConnection, Response};
use prost::Message;

/// The peer's side of one connection.
pub struct Peer {
    connection: InProcessConnection,
    /// The world state.
    pub state: HashMap<String, Bytes>,
    next_tx: u64,
}

impl Peer {
    /// Connects to `chaincode` and completes the handshake.
    pub async fn start<C: Chaincode>(chaincode: C) -> Peer {
        let service = ChaincodeService::new(Arc::new(chaincode), "contract-test:0", Drain::new());
        let mut peer = Peer { connection: service.connect_in_process(), state: HashMap::new(), next_tx: 0 };
        let register = peer.receive().await;
        assert_eq!(register.r#type, Type::Register as i32);
        peer.send(Type::Registered, Bytes::new(), "").await;
        peer.send(Type::Ready, Bytes::new(), "").await;
        peer
    }

    /// Submits a transaction with `args` (function name first).
    pub async fn invoke(&mut self, args: &[&str]) -> Response {
        self.run(Type::Transaction, args).await
    }

    /// Sends an INIT with `args`.
    pub async fn init(&mut self, args: &[&str]) -> Response {
        self.run(Type::Init, args).await
    }

    /// The payload of a successful invocation, as text; panics with the message otherwise.
    pub async fn ok(&mut self, args: &[&str]) -> String {
        let response = self.invoke(args).await;
        assert_eq!(response.status, 200, "{args:?} failed: {}", response.message);
        String::from_utf8(response.payload.to_vec()).expect("UTF-8 payload")
    }

    /// The message of a failed invocation; panics if it succeeded.
    pub async fn fail(&mut self, args: &[&str]) -> String {
        let response = self.invoke(args).await;
        assert_eq!(response.status, 500, "{args:?} should fail, returned {:?}", response.payload);
        response.message
    }

    async fn run(&mut self, kind: Type, args: &[&str]) -> Response {
        self.next_tx += 1;
        let txid = format!("tx{:04}", self.next_tx);
        let input = ChaincodeInput {
            args: args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect(),
            ..Default::default()
        };
        self.send(kind, Bytes::from(input.encode_to_vec()), &txid).await;
        loop {
            let message = self.receive().await;
            assert_eq!(message.txid, txid, "a message of another transaction");
            let reply = match Type::try_from(message.r#type) {
                Ok(Type::Completed) => {
                    return ccaas_shim::protos::protos::Response::decode(message.payload).expect("a Response").into();
                }
                Ok(Type::Error) => return Response::error(String::from_utf8_lossy(&message.payload).into_owned()),
                Ok(Type::GetState) => {
                    let request = GetState::decode(message.payload).expect("GetState");
                    self.state.get(&request.key).cloned().unwrap_or_default()
                }
                Ok(Type::PutState) => {
                    let request = PutState::decode(message.payload).expect("PutState");
                    self.state.insert(request.key, request.value);
                    Bytes::new()
                }
                Ok(Type::DelState) => {
                    let request = DelState::decode(message.payload).expect("DelState");
                    self.state.remove(&request.key);
                    Bytes::new()
                }
                other => panic!("the test peer does not answer {other:?}"),
            };
            self.send(Type::Response, reply, &txid).await;
        }
    }

    async fn send(&mut self, kind: Type, payload: Bytes, txid: &str) {
        let message = ChaincodeMessage {
            r#type: kind as i32,
            payload,
            txid: txid.to_string(),
            channel_id: if txid.is_empty() { String::new() } else { "mychannel".to_string() },
            ..Default::default()
        };
        self.connection.to_chaincode.send(message).await.expect("the chaincode is running");
    }

    async fn receive(&mut self) -> ChaincodeMessage {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), self.connection.from_chaincode.recv());
        next.await.expect("the chaincode answers").expect("the connection is open")
    }
}
