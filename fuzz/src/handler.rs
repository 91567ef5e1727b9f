//! The handler's state machine fed arbitrary message sequences by a fake peer, over the
//! in-process connection (no sockets): no input may panic the shim, and every input ends.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use ccaas_protos::protos::{ChaincodeInput, ChaincodeMessage};
use ccaas_shim::server::Limits;
use ccaas_shim::{Chaincode, ChaincodeService, ChaincodeStub, Drain, Response};
use prost::Message;
use tokio::runtime::Runtime;

use super::{install_panic_watch, take_panicked};

/// A chaincode whose arguments pick stub calls, so the fuzzer reaches every request path: `g`
/// get, `p` put, `d` delete, `m` metadata, `r` a range read 150 rows deep, `q` a paginated
/// query, `i` a chaincode-to-chaincode call, `f` a write batch flush.
struct Driven;

impl Chaincode for Driven {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        for arg in stub.args() {
            let _ = match arg.first() {
                Some(b'g') => stub.get_state("k").await.map(drop),
                Some(b'p') => stub.put_state("k", arg.clone()).await,
                Some(b'd') => stub.del_state("k").await,
                Some(b'm') => stub.put_state_metadata("k", "m", arg.clone()).await,
                Some(b'r') => match stub.get_state_by_range("", "").await {
                    Ok(mut rows) => {
                        for _ in 0..150 {
                            if !matches!(rows.next().await, Ok(Some(_))) {
                                break;
                            }
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Some(b'q') => stub.get_state_by_range_with_pagination("", "", 2, "").await.map(drop),
                Some(b'i') => {
                    stub.invoke_chaincode("other", &[&b"x"[..]], "").await;
                    Ok(())
                }
                Some(b'f') => stub.finish_write_batch().await,
                _ => Ok(()),
            };
        }
        Response::success("done")
    }
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"))
}

/// Reads messages from `data`: per message a type byte, a txid byte, a length byte and that many
/// payload bytes. TRANSACTION and INIT payloads become a `ChaincodeInput` whose arguments are the
/// payload split at zero bytes. An even first byte starts with REGISTERED and READY (with the
/// next bytes as READY's payload, so Fabric 3.1 capabilities get exercised too), so the fuzzer
/// spends its time past the handshake as well as in it.
fn messages(data: &[u8]) -> Vec<ChaincodeMessage> {
    let mut out = Vec::new();
    let mut rest = data;
    if let Some((&first, tail)) = rest.split_first() {
        if first % 2 == 0 {
            let ready_len = tail.first().map_or(0, |&n| usize::from(n % 16)).min(tail.len().saturating_sub(1));
            let ready_payload = tail.get(1..1 + ready_len).unwrap_or_default();
            out.push(ChaincodeMessage { r#type: 2, ..Default::default() }); // REGISTERED
            out.push(ChaincodeMessage {
                r#type: 4,
                payload: Bytes::copy_from_slice(ready_payload),
                ..Default::default()
            });
            rest = tail.get(1 + ready_len..).unwrap_or_default();
        }
    }
    while let [kind, txid, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        let kind = i32::from(*kind % 27);
        let payload = if kind == 6 || kind == 3 {
            let args = payload.split(|&b| b == 0).map(Bytes::copy_from_slice).collect();
            Bytes::from(ChaincodeInput { args, ..Default::default() }.encode_to_vec())
        } else {
            Bytes::copy_from_slice(payload)
        };
        out.push(ChaincodeMessage {
            r#type: kind,
            txid: format!("tx{}", txid % 4),
            channel_id: if txid & 0x80 == 0 { "ch".to_string() } else { String::new() },
            payload,
            ..Default::default()
        });
    }
    out
}

/// Drives one connection with the messages in `data`, then closes it.
pub fn handler_sequence(data: &[u8]) {
    install_panic_watch();
    let messages = messages(data);
    runtime().block_on(async {
        let limits = Limits { transaction_timeout: Duration::from_millis(50), ..Limits::default() };
        let service = ChaincodeService::new(Arc::new(Driven), "fuzz:1", Drain::new()).with_limits(limits);
        let mut connection = service.connect_in_process();
        for message in messages {
            if connection.to_chaincode.send(message).await.is_err() {
                break;
            }
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
            while connection.from_chaincode.try_recv().is_ok() {}
        }
        drop(connection.to_chaincode);
        // The connection ends once its input does; what it still sends is read and dropped.
        let drained = async { while connection.from_chaincode.recv().await.is_some() {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drained).await;
    });
    assert!(!take_panicked(), "the shim panicked on this message sequence");
}
