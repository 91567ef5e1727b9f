//! Calling a chaincode through a peer's Gateway, as `peer chaincode query` and `invoke` do:
//! [`query`] has one peer evaluate the call and commits nothing; [`invoke`] has it endorsed (by
//! the organizations the endorsement policy needs, as the Gateway finds them, or by those given),
//! submits it to the orderer and waits for its validation code. The arguments are read as the peer
//! CLI reads them ([`parse_ctor`], [`parse_transient`]).

use std::collections::BTreeMap;

use base64::Engine;
use ccaas_protos::common::{Envelope, Payload};
use ccaas_protos::gateway::{EndorseRequest, EvaluateRequest};
use ccaas_protos::protos::{
    ChaincodeAction, ChaincodeActionPayload, ProposalResponsePayload, Transaction, TxValidationCode,
};
use prost::Message;

use crate::client::Node;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::proposal::{self, Invocation};

/// A call of a chaincode function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    /// The chaincode's name on the channel.
    pub chaincode: String,
    /// The arguments (the first is the function), transient data, and the `Init` flag.
    pub invocation: Invocation,
    /// MSP IDs. For [`invoke`], the organizations that endorse; for [`query`], those whose peers
    /// may answer. Empty: the Gateway chooses.
    pub orgs: Vec<String>,
}

impl Call {
    /// "invoke CreateAsset on basic", for messages.
    pub fn describe(&self, verb: &str) -> String {
        let function = self.invocation.args.first().map(|f| String::from_utf8_lossy(f)).unwrap_or_default();
        format!("{verb} {function} on {}", self.chaincode)
    }
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The transaction ID of the proposal.
    pub tx_id: String,
    /// The chaincode's response payload.
    pub payload: Vec<u8>,
    /// For [`invoke`]: where and how the transaction was committed.
    pub commit: Option<Commit>,
}

impl Outcome {
    /// `{"tx_id", "payload", "payload_encoding"}`, plus `"block"` and `"status"` for a
    /// transaction. The payload is text if it is UTF-8 (`"payload_encoding": "utf-8"`), else
    /// base64 (`"base64"`).
    pub fn to_json(&self) -> serde_json::Value {
        let (payload, encoding) = match std::str::from_utf8(&self.payload) {
            Ok(text) => (text.to_string(), "utf-8"),
            Err(_) => (base64::engine::general_purpose::STANDARD.encode(&self.payload), "base64"),
        };
        let mut doc = serde_json::json!({"tx_id": self.tx_id, "payload": payload, "payload_encoding": encoding});
        if let Some(c) = &self.commit {
            doc["block"] = c.block.into();
            doc["status"] = c.status.clone().into();
        }
        doc
    }
}

/// A committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The block it is in.
    pub block: u64,
    /// Its validation code, e.g. `VALID` or `MVCC_READ_CONFLICT`.
    pub status: String,
}

impl Commit {
    /// Whether the peers applied it.
    pub fn is_valid(&self) -> bool {
        self.status == TxValidationCode::Valid.as_str_name()
    }
}

/// Evaluates `call` through `gateway` (Gateway `Evaluate`): one peer runs it; nothing is
/// committed. A chaincode error (status 400 or more) is [`Error::Chaincode`].
pub async fn query(gateway: &Node, identity: &Identity, channel: &str, call: &Call) -> Result<Outcome> {
    let p = proposal::for_invocation(identity, channel, &call.chaincode, &call.invocation);
    let request = EvaluateRequest {
        transaction_id: p.tx_id.clone(),
        channel_id: channel.into(),
        proposed_transaction: Some(proposal::sign(identity, &p)),
        target_organizations: call.orgs.clone(),
    };
    let response = gateway.evaluate(request, &call.describe("query")).await?;
    Ok(Outcome { tx_id: p.tx_id, payload: response.payload.to_vec(), commit: None })
}

/// Submits `call` through `gateway` (Gateway `Endorse`, `Submit`, `CommitStatus`) and waits until
/// it is in a block. A chaincode error is [`Error::Chaincode`]; a transaction the peers marked
/// invalid is still an [`Outcome`], with its code in [`Commit::status`].
pub async fn invoke(gateway: &Node, identity: &Identity, channel: &str, call: &Call) -> Result<Outcome> {
    let action = call.describe("invoke");
    let p = proposal::for_invocation(identity, channel, &call.chaincode, &call.invocation);
    let request = EndorseRequest {
        transaction_id: p.tx_id.clone(),
        channel_id: channel.into(),
        proposed_transaction: Some(proposal::sign(identity, &p)),
        endorsing_organizations: call.orgs.clone(),
    };
    let prepared = gateway.endorse_chaincode(request, &action).await?;
    let payload = transaction_result(&prepared)
        .map_err(|e| gateway.refused(&action, format!("the gateway's transaction is unreadable: {e}")))?;
    gateway.submit(identity, channel, &p.tx_id, prepared, &action).await?;
    tracing::info!(tx_id = %p.tx_id, %action, "submitted; waiting for the commit status");
    let committed = gateway.commit_status(identity, channel, &p.tx_id, &action).await?;
    Ok(Outcome { tx_id: p.tx_id, payload, commit: Some(Commit { block: committed.block, status: committed.code }) })
}

/// The chaincode's response payload in a prepared transaction (its first action's
/// `ChaincodeAction.response`).
fn transaction_result(envelope: &Envelope) -> std::result::Result<Vec<u8>, prost::DecodeError> {
    let payload = Payload::decode(envelope.payload.as_ref())?;
    let tx = Transaction::decode(payload.data.as_ref())?;
    let Some(action) = tx.actions.first() else { return Ok(Vec::new()) };
    let action = ChaincodeActionPayload::decode(action.payload.as_ref())?.action.unwrap_or_default();
    let response = ProposalResponsePayload::decode(action.proposal_response_payload.as_ref())?;
    let chaincode = ChaincodeAction::decode(response.extension.as_ref())?;
    Ok(chaincode.response.map(|r| r.payload.to_vec()).unwrap_or_default())
}

/// The arguments in the peer CLI's `-c`/`--ctor` JSON: `{"Args":["ReadAsset","asset1"]}`, or
/// `{"function":"ReadAsset","Args":["asset1"]}` (the function goes first). As in the peer CLI,
/// the keys match in any case, `Args` is required, and no other key is allowed.
pub fn parse_ctor(json: &str) -> Result<Vec<Vec<u8>>> {
    const FORMS: &str = r#"'{"Args":["ReadAsset","asset1"]}' or '{"function":"ReadAsset","Args":["asset1"]}'"#;
    let bad = |what: String| Error::Config(format!("-c {json}: {what}; write it as {FORMS}"));
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON ({e})")))?;
    let serde_json::Value::Object(fields) = value else { return Err(bad("not a JSON object".into())) };
    let (mut function, mut args) = (None, None);
    for (key, value) in &fields {
        let slot = match key.to_lowercase().as_str() {
            "function" => &mut function,
            "args" => &mut args,
            _ => return Err(bad(format!("unknown key '{key}' (only Args and function)"))),
        };
        if slot.replace(value).is_some() {
            return Err(bad(format!("'{key}' is given twice (keys match in any case)")));
        }
    }
    let args = match args.ok_or_else(|| bad("no Args".into()))? {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|a| a.as_str().map(str::to_string).ok_or_else(|| bad(format!("Args holds {a}, not a string"))))
            .collect::<Result<Vec<_>>>()?,
        other => return Err(bad(format!("Args is {other}, not an array of strings"))),
    };
    let function = match function {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(f)) => f.clone(),
        Some(other) => return Err(bad(format!("function is {other}, not a string"))),
    };
    let all: Vec<String> = if function.is_empty() { args } else { std::iter::once(function).chain(args).collect() };
    if all.is_empty() {
        return Err(bad("no function name (the first of Args, or function)".into()));
    }
    Ok(all.into_iter().map(String::into_bytes).collect())
}

/// Transient data from `--transient` values, each `KEY=VALUE` (the value's bytes as given) or,
/// when it starts with `{`, the peer CLI's `--transient` JSON: an object of base64 values.
pub fn parse_transient(values: &[String]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut map = BTreeMap::new();
    let mut add = |key: String, value: Vec<u8>| match map.insert(key.clone(), value) {
        Some(_) => Err(Error::Config(format!("--transient: key '{key}' is given twice; give each key once"))),
        None => Ok(()),
    };
    for value in values {
        if value.trim_start().starts_with('{') {
            let bad = |what: String| {
                Error::Config(format!(
                    "--transient {value}: {what}; the JSON form is the peer CLI's, an object of base64 values \
                     ('{{\"KEY\":\"BASE64\"}}'), or write KEY=VALUE"
                ))
            };
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(value).map_err(|e| bad(format!("not a JSON object ({e})")))?;
            for (key, v) in object {
                let bytes = match &v {
                    serde_json::Value::Null => Vec::new(),
                    serde_json::Value::String(s) => base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map_err(|e| bad(format!("the value of '{key}' is not base64 ({e})")))?,
                    other => return Err(bad(format!("the value of '{key}' is {other}, not a base64 string"))),
                };
                add(key, bytes)?;
            }
        } else {
            match value.split_once('=') {
                Some((key, v)) if !key.is_empty() => add(key.into(), v.as_bytes().to_vec())?,
                _ => {
                    return Err(Error::Config(format!(
                        "--transient {value}: not KEY=VALUE (nor the peer CLI's JSON object of base64 values)"
                    )))
                }
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Vec<String> {
        parse_ctor(json).unwrap().into_iter().map(|a| String::from_utf8(a).unwrap()).collect()
    }

    fn err(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn ctor_forms_of_the_peer_cli() {
        assert_eq!(args(r#"{"Args":["ReadAsset","asset1"]}"#), ["ReadAsset", "asset1"]);
        assert_eq!(args(r#"{"function":"ReadAsset","Args":["asset1"]}"#), ["ReadAsset", "asset1"]);
        // Go's JSON decoding matches field names in any case.
        assert_eq!(args(r#"{"args":["a"],"Function":"f"}"#), ["f", "a"]);
        assert_eq!(args(r#"{"ARGS":["InitLedger"]}"#), ["InitLedger"]);
        // An empty function adds nothing; null Args is no arguments.
        assert_eq!(args(r#"{"function":"","Args":["f","x"]}"#), ["f", "x"]);
        assert_eq!(args(r#"{"function":"GetAllAssets","Args":null}"#), ["GetAllAssets"]);
        assert_eq!(args(r#"{"Args":["f","ü 🚀",""]}"#), ["f", "ü 🚀", ""]);
    }

    #[test]
    fn bad_ctor_names_the_problem_and_the_forms() {
        let e = err(parse_ctor(r#"{"Args":["f",5]}"#));
        assert!(e.contains("Args holds 5, not a string") && e.contains(r#"'{"Args":["ReadAsset","asset1"]}'"#), "{e}");
        assert!(err(parse_ctor(r#"["f"]"#)).contains("not a JSON object"));
        assert!(err(parse_ctor("{Args:[f]}")).contains("not JSON (key must be a string"));
        assert!(err(parse_ctor(r#"{"function":"f"}"#)).contains(": no Args;"));
        assert!(err(parse_ctor(r#"{"Args":[],"ctor":1}"#)).contains("unknown key 'ctor' (only Args and function)"));
        assert!(err(parse_ctor(r#"{"Args":["a"],"args":["b"]}"#)).contains("'args' is given twice"));
        assert!(err(parse_ctor(r#"{"Args":"f"}"#)).contains(r#"Args is "f", not an array of strings"#));
        assert!(err(parse_ctor(r#"{"function":1,"Args":[]}"#)).contains("function is 1, not a string"));
        assert!(err(parse_ctor(r#"{"Args":[]}"#)).contains("no function name"));
    }

    #[test]
    fn transient_key_value_and_json() {
        let t = parse_transient(&[
            r#"asset_properties={"assetID":"a=1"}"#.into(),
            "empty=".into(),
            // The peer CLI's form: base64 values ("hello", "").
            r#"{"k1":"aGVsbG8=","k2":null}"#.into(),
        ])
        .unwrap();
        let expected: BTreeMap<String, Vec<u8>> = [
            ("asset_properties", br#"{"assetID":"a=1"}"#.to_vec()),
            ("empty", Vec::new()),
            ("k1", b"hello".to_vec()),
            ("k2", Vec::new()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(t, expected);
        assert!(parse_transient(&[]).unwrap().is_empty());
    }

    #[test]
    fn bad_transient_names_the_problem() {
        let e = err(parse_transient(&["novalue".into()]));
        assert!(e.contains("--transient novalue: not KEY=VALUE"), "{e}");
        assert!(err(parse_transient(&["=v".into()])).contains("not KEY=VALUE"));
        let e = err(parse_transient(&[r#"{"k":"not base64!"}"#.into()]));
        assert!(e.contains("the value of 'k' is not base64") && e.contains("or write KEY=VALUE"), "{e}");
        assert!(err(parse_transient(&[r#"{"k":1}"#.into()])).contains("the value of 'k' is 1, not a base64 string"));
        assert!(err(parse_transient(&["{oops".into()])).contains("not a JSON object"));
        let e = err(parse_transient(&["k=a".into(), r#"{"k":"Yg=="}"#.into()]));
        assert!(e.contains("key 'k' is given twice"), "{e}");
    }

    #[test]
    fn transient_data_is_in_the_proposal_but_not_in_the_transaction() {
        let invocation = Invocation {
            args: vec![b"CreateAsset".to_vec()],
            transient: [("secret".to_string(), b"s3cr3t".to_vec())].into(),
            is_init: true,
        };
        let p = proposal::build_invocation(b"creator", b"nonce", Default::default(), "ch", "cc", &invocation);
        let sent = ccaas_protos::protos::Proposal::decode(p.bytes.as_slice()).unwrap();
        let sent = ccaas_protos::protos::ChaincodeProposalPayload::decode(sent.payload.as_ref()).unwrap();
        assert_eq!(sent.transient_map.get("secret").map(|v| v.to_vec()), Some(b"s3cr3t".to_vec()));
        let spec = ccaas_protos::protos::ChaincodeInvocationSpec::decode(sent.input.as_ref()).unwrap();
        let input = spec.chaincode_spec.unwrap().input.unwrap();
        assert!(input.is_init);
        assert_eq!(input.args, vec![bytes::Bytes::from_static(b"CreateAsset")]);
        let in_tx = ccaas_protos::protos::ChaincodeProposalPayload::decode(p.payload.as_slice()).unwrap();
        assert!(in_tx.transient_map.is_empty());
        assert_eq!(in_tx.input, sent.input);
    }

    #[test]
    fn json_has_the_payload_as_text_or_base64() {
        let mut o = Outcome { tx_id: "ab".into(), payload: br#"{"ID":"a"}"#.to_vec(), commit: None };
        assert_eq!(
            o.to_json(),
            serde_json::json!({"tx_id": "ab", "payload": r#"{"ID":"a"}"#, "payload_encoding": "utf-8"})
        );
        o.payload = vec![0xff, 0x00, b'a'];
        o.commit = Some(Commit { block: 7, status: "MVCC_READ_CONFLICT".into() });
        assert_eq!(
            o.to_json(),
            serde_json::json!({"tx_id": "ab", "payload": "/wBh", "payload_encoding": "base64", "block": 7,
                               "status": "MVCC_READ_CONFLICT"})
        );
        assert!(!o.commit.unwrap().is_valid());
    }

    #[test]
    fn the_result_is_read_from_the_prepared_transaction() {
        let action = ChaincodeAction {
            response: Some(ccaas_protos::protos::Response {
                status: 200,
                payload: b"out".to_vec().into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let prp = ProposalResponsePayload { extension: action.encode_to_vec().into(), ..Default::default() };
        let cap = ChaincodeActionPayload {
            action: Some(ccaas_protos::protos::ChaincodeEndorsedAction {
                proposal_response_payload: prp.encode_to_vec().into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let tx = Transaction {
            actions: vec![ccaas_protos::protos::TransactionAction {
                payload: cap.encode_to_vec().into(),
                ..Default::default()
            }],
        };
        let payload = Payload { data: tx.encode_to_vec().into(), ..Default::default() };
        let envelope = Envelope { payload: payload.encode_to_vec().into(), ..Default::default() };
        assert_eq!(transaction_result(&envelope).unwrap(), b"out");
        assert!(transaction_result(&Envelope { payload: vec![0xff].into(), ..Default::default() }).is_err());
    }
}
