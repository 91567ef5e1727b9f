//! The same chaincode on the low-level [`Chaincode`] trait, routing by hand the way
//! fabric-contract-api-go does for the Go sample.
//!
//! This was the asset-transfer-basic example before the contract API could reproduce
//! contract-api-go byte for byte; it stays in the test kit as the baseline the contract API is
//! measured against (`ccaas-peer bench --chaincode contract,lowlevel`) and checked against (the
//! integration tests run both and compare every response). The example's `SmartContract`
//! (`examples/asset-transfer-basic`) is the chaincode to read and to copy.
//!
//! The Go chaincode is `contractapi.NewChaincode(&SmartContract{})`; its dispatcher decides the
//! function names, how arguments are counted and converted, how results are serialized, and the
//! error texts for everything that goes wrong before the sample's own code runs. This module
//! reproduces that for the eight transactions, over [`transactions`].

use ccaas_shim::{Chaincode, ChaincodeStub, Response};

pub use self::params::{parse_int, ConversionError};

use self::asset::list_to_json;
use self::transactions::{
    asset_exists, create_asset, delete_asset, get_all_assets, init_ledger, read_asset, transfer_asset, update_asset,
};
mod asset;
mod error;
mod ledger;
mod params;
pub mod transactions;

pub use self::asset::Asset;
pub use self::error::TxError;
pub use self::ledger::WorldState;

/// asset-transfer-basic on the low-level trait.
///
/// ```no_run
/// # async fn example(stub: &ccaas_shim::ChaincodeStub) {
/// use ccaas_shim::Chaincode;
/// let response = ccaas_testkit::testing::lowlevel::AssetTransfer.invoke(stub).await;
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetTransfer;

impl Chaincode for AssetTransfer {
    /// Without a function name, succeeds with `Default initiator successful.` as the Go contract
    /// API does; otherwise runs the function like [`invoke`](Chaincode::invoke).
    async fn init(&self, stub: &ChaincodeStub) -> Response {
        let (function, _) = stub.function_and_parameters();
        if function.is_empty() {
            return Response::success(DEFAULT_INIT_PAYLOAD);
        }
        self.invoke(stub).await
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, params) = stub.function_and_parameters();
        let result = invoke(stub, &function, &params).await;
        if let Err(e) = &result {
            tracing::debug!(tx_id = stub.tx_id(), function, error = %e, "transaction failed");
        }
        result.into()
    }
}

/// The contract's name, the Go struct's type name. A function may be called as `ReadAsset` or as
/// `SmartContract:ReadAsset`.
pub const CONTRACT_NAME: &str = "SmartContract";

/// What `Init` returns when called without a function name.
pub const DEFAULT_INIT_PAYLOAD: &str = "Default initiator successful.";

/// The transactions, with their Go method names and parameter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transaction {
    InitLedger,
    CreateAsset,
    ReadAsset,
    UpdateAsset,
    DeleteAsset,
    AssetExists,
    TransferAsset,
    GetAllAssets,
}

impl Transaction {
    const ALL: [Transaction; 8] = [
        Transaction::InitLedger,
        Transaction::CreateAsset,
        Transaction::ReadAsset,
        Transaction::UpdateAsset,
        Transaction::DeleteAsset,
        Transaction::AssetExists,
        Transaction::TransferAsset,
        Transaction::GetAllAssets,
    ];

    fn name(self) -> &'static str {
        match self {
            Transaction::InitLedger => "InitLedger",
            Transaction::CreateAsset => "CreateAsset",
            Transaction::ReadAsset => "ReadAsset",
            Transaction::UpdateAsset => "UpdateAsset",
            Transaction::DeleteAsset => "DeleteAsset",
            Transaction::AssetExists => "AssetExists",
            Transaction::TransferAsset => "TransferAsset",
            Transaction::GetAllAssets => "GetAllAssets",
        }
    }

    /// How many arguments the Go method takes after the transaction context.
    fn arity(self) -> usize {
        match self {
            Transaction::InitLedger | Transaction::GetAllAssets => 0,
            Transaction::ReadAsset | Transaction::DeleteAsset | Transaction::AssetExists => 1,
            Transaction::TransferAsset => 2,
            Transaction::CreateAsset | Transaction::UpdateAsset => 5,
        }
    }

    /// The transaction `name` selects: the Go API upper-cases its first letter before the lookup,
    /// so `readAsset` calls `ReadAsset` too.
    fn find(name: &str) -> Option<Transaction> {
        let name = first_letter_upper(name);
        Transaction::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Go's `toFirstRuneUpperCase` (with `unicode.ToUpper`'s one-to-one mapping).
fn first_letter_upper(name: &str) -> String {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut upper = first.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) if !first.is_uppercase() => std::iter::once(single).chain(chars).collect(),
        _ => name.to_owned(),
    }
}

/// The arguments of one call, converted as the Go contract API converts them.
struct Args<'a> {
    params: &'a [String],
    /// Whether the function was called by its exact name. Only then does the Go API find the
    /// transaction's metadata, which names parameters `param0`, `param1`, ... in its errors.
    named: bool,
}

impl<'a> Args<'a> {
    /// Checks the count: fewer arguments than parameters fail, extra ones are ignored (as in Go).
    fn new(tx: Transaction, called_as: &str, params: &'a [String]) -> Result<Self, TxError> {
        if params.len() < tx.arity() {
            return Err(TxError::new(format!(
                "incorrect number of params. Expected {}, received {}",
                tx.arity(),
                params.len()
            )));
        }
        Ok(Args { params, named: called_as == tx.name() })
    }

    fn string(&self, index: usize) -> &'a str {
        &self.params[index]
    }

    fn int(&self, index: usize) -> Result<isize, TxError> {
        parse_int(&self.params[index]).map_err(|e| {
            let name = if self.named { format!(" param{index}") } else { String::new() };
            TxError::new(format!("error managing parameter{name}. conversion error. {e}"))
        })
    }

    /// `id, color, size, owner, appraisedValue`, as `CreateAsset` and `UpdateAsset` take them.
    fn asset(&self) -> Result<Asset, TxError> {
        let size = self.int(2)?;
        let appraised_value = self.int(4)?;
        Ok(Asset::new(self.string(0), self.string(1), size, self.string(3), appraised_value))
    }
}

/// Runs `function` with `params` against `state` and returns the response payload.
///
/// Payloads are what the Go contract API's JSON serializer returns: an asset's JSON for
/// `ReadAsset`, `true`/`false` for `AssetExists`, the previous owner as-is for `TransferAsset`, a
/// JSON array for `GetAllAssets` (no bytes when there are no assets) and no bytes for the rest.
pub async fn invoke<S: WorldState>(state: &S, function: &str, params: &[String]) -> Result<Vec<u8>, TxError> {
    let (contract, name) = match function.rfind(':') {
        Some(at) => (&function[..at], &function[at + 1..]),
        None => (CONTRACT_NAME, function),
    };
    if contract != CONTRACT_NAME {
        return Err(TxError::new(format!("Contract not found with name {contract}")));
    }
    if name.is_empty() {
        return Err(TxError::new("Blank function name passed"));
    }
    let Some(tx) = Transaction::find(name) else {
        return Err(TxError::new(format!("Function {name} not found in contract {contract}")));
    };
    let args = Args::new(tx, name, params)?;

    match tx {
        Transaction::InitLedger => init_ledger(state).await.map(no_payload),
        Transaction::CreateAsset => create_asset(state, &args.asset()?).await.map(no_payload),
        Transaction::ReadAsset => read_asset(state, args.string(0)).await.map(|asset| asset.to_json()),
        Transaction::UpdateAsset => update_asset(state, &args.asset()?).await.map(no_payload),
        Transaction::DeleteAsset => delete_asset(state, args.string(0)).await.map(no_payload),
        Transaction::AssetExists => {
            asset_exists(state, args.string(0)).await.map(|exists| exists.to_string().into_bytes())
        }
        Transaction::TransferAsset => {
            transfer_asset(state, args.string(0), args.string(1)).await.map(String::into_bytes)
        }
        Transaction::GetAllAssets => get_all_assets(state).await.map(|assets| list_to_json(&assets)),
    }
}

fn no_payload(_: ()) -> Vec<u8> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::transactions::memory::MemoryState;
    use super::*;

    fn call(state: &MemoryState, function: &str, params: &[&str]) -> Result<String, String> {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime
            .block_on(invoke(state, function, &params))
            .map(|payload| String::from_utf8(payload).unwrap())
            .map_err(|e| e.to_string())
    }

    const ASSET1: &str = r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#;

    #[test]
    fn payloads_are_serialized_like_the_go_contract_api() {
        let state = MemoryState::default();
        assert_eq!(call(&state, "GetAllAssets", &[]), Ok(String::new()));
        assert_eq!(call(&state, "InitLedger", &[]), Ok(String::new()));
        assert_eq!(call(&state, "ReadAsset", &["asset1"]), Ok(ASSET1.to_owned()));
        assert_eq!(call(&state, "AssetExists", &["asset1"]), Ok("true".to_owned()));
        assert_eq!(call(&state, "AssetExists", &["asset9"]), Ok("false".to_owned()));
        assert_eq!(call(&state, "TransferAsset", &["asset3", "Christopher"]), Ok("Jin Soo".to_owned()));
        assert_eq!(call(&state, "CreateAsset", &["asset7", "pink", "3", "Zoe", "100"]), Ok(String::new()));
        assert_eq!(call(&state, "UpdateAsset", &["asset7", "pink", "4", "Zoe", "101"]), Ok(String::new()));
        assert_eq!(call(&state, "DeleteAsset", &["asset6"]), Ok(String::new()));

        let all = call(&state, "GetAllAssets", &[]).unwrap();
        assert!(all.starts_with(&format!("[{ASSET1},")), "{all}");
        assert!(all.contains(r#""ID":"asset3","Owner":"Christopher""#), "{all}");
        assert!(all.ends_with(r#"{"AppraisedValue":101,"Color":"pink","ID":"asset7","Owner":"Zoe","Size":4}]"#));
        assert!(!all.contains("asset6"));
    }

    #[test]
    fn contract_prefix_and_lower_case_first_letter_are_accepted() {
        let state = MemoryState::default();
        call(&state, "SmartContract:InitLedger", &[]).unwrap();
        assert_eq!(call(&state, "readAsset", &["asset1"]), Ok(ASSET1.to_owned()));
        assert_eq!(call(&state, "SmartContract:assetExists", &["asset1"]), Ok("true".to_owned()));
    }

    #[test]
    fn routing_errors_have_the_go_contract_api_texts() {
        let state = MemoryState::default();
        assert_eq!(call(&state, "Nope", &[]), Err("Function Nope not found in contract SmartContract".into()));
        assert_eq!(
            call(&state, "readasset", &[]),
            Err("Function readasset not found in contract SmartContract".into())
        );
        assert_eq!(call(&state, "GetName", &[]), Err("Function GetName not found in contract SmartContract".into()));
        assert_eq!(call(&state, "", &[]), Err("Blank function name passed".into()));
        assert_eq!(call(&state, "SmartContract:", &[]), Err("Blank function name passed".into()));
        assert_eq!(call(&state, "Other:ReadAsset", &[]), Err("Contract not found with name Other".into()));
        assert_eq!(call(&state, "a:b:ReadAsset", &["x"]), Err("Contract not found with name a:b".into()));
    }

    #[test]
    fn too_few_arguments_fail_and_extra_ones_are_ignored() {
        let state = MemoryState::default();
        assert_eq!(
            call(&state, "CreateAsset", &["asset1", "blue"]),
            Err("incorrect number of params. Expected 5, received 2".into())
        );
        assert_eq!(call(&state, "ReadAsset", &[]), Err("incorrect number of params. Expected 1, received 0".into()));
        assert_eq!(
            call(&state, "TransferAsset", &["asset1"]),
            Err("incorrect number of params. Expected 2, received 1".into())
        );
        assert_eq!(call(&state, "AssetExists", &["asset1", "extra"]), Ok("false".into()));
        assert_eq!(call(&state, "InitLedger", &["extra"]), Ok(String::new()));
    }

    #[test]
    fn bad_integers_name_the_parameter_like_the_go_contract_api() {
        let state = MemoryState::default();
        assert_eq!(
            call(&state, "CreateAsset", &["a", "blue", "five", "Tom", "x"]),
            Err("error managing parameter param2. conversion error. cannot convert passed value five to int".into())
        );
        assert_eq!(
            call(&state, "UpdateAsset", &["a", "blue", "5", "Tom", "3.5"]),
            Err("error managing parameter param4. conversion error. cannot convert passed value 3.5 to int".into())
        );
        // Without an exact name match the Go API has no parameter metadata, hence no name.
        assert_eq!(
            call(&state, "createAsset", &["a", "blue", "5", "Tom", "3.5"]),
            Err("error managing parameter. conversion error. cannot convert passed value 3.5 to int".into())
        );
        assert!(state.map.lock().unwrap().is_empty());
    }

    #[test]
    fn empty_integers_are_zero() {
        let state = MemoryState::default();
        call(&state, "CreateAsset", &["a", "", "", "", ""]).unwrap();
        assert_eq!(
            call(&state, "ReadAsset", &["a"]),
            Ok(r#"{"AppraisedValue":0,"Color":"","ID":"a","Owner":"","Size":0}"#.into())
        );
    }

    #[test]
    fn first_letter_upper_matches_go() {
        assert_eq!(first_letter_upper("readAsset"), "ReadAsset");
        assert_eq!(first_letter_upper("ReadAsset"), "ReadAsset");
        assert_eq!(first_letter_upper(""), "");
        assert_eq!(first_letter_upper("ßx"), "ßx");
        // unicode.ToUpper('ı') is 'I' in Go too.
        assert_eq!(first_letter_upper("ınitLedger"), "InitLedger");
    }
}
