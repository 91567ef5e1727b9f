//! Contract metadata: the JSON that `org.hyperledger.fabric:GetMetadata` returns.
//!
//! The shape is fabric-contract-api's (`contract-schema.json`, and contract-api-go's
//! `metadata/metadata.go`): `$schema`, `info`, `contracts` by name, each with `info`, `name`,
//! sorted `transactions` and a `default` flag, and `components.schemas` for object types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::Components;

/// The `$schema` of the metadata (fabric-chaincode-node's published contract schema).
pub const METADATA_SCHEMA: &str = "https://hyperledger.github.io/fabric-chaincode-node/main/api/contract-schema.json";

/// What a `META-INF/metadata.json` holds (the schema requires `info` and `contracts`). Each part
/// it gives replaces the generated one, as contract-api-go's `Append` does: `info` always (it is
/// required), `contracts` when not empty, `components` when it has schemas.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct FileMetadata {
    pub(crate) info: Info,
    pub(crate) contracts: BTreeMap<String, ContractMetadata>,
    #[serde(default)]
    pub(crate) components: Components,
}

/// The metadata of a whole chaincode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaincodeMetadata {
    /// The schema this document follows ([`METADATA_SCHEMA`]).
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The chaincode's title and version.
    pub info: Info,
    /// Every contract, including the system contract `org.hyperledger.fabric`, by name.
    pub contracts: BTreeMap<String, ContractMetadata>,
    /// The object types the transactions use.
    pub components: Components,
}

/// Title, version and description of a chaincode or a contract (`info` in the metadata).
///
/// ```
/// use ccaas_shim::contract::Info;
/// let info = Info::new("asset-transfer-basic", "1.0.0").description("Assets on a ledger");
/// assert_eq!(info.title, "asset-transfer-basic");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// A longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The title (contract-api-go writes `undefined` for a chaincode and the contract's name for
    /// a contract when none is set).
    pub title: String,
    /// Who to contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// The license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    /// The version (`latest` when none is set, as in contract-api-go).
    pub version: String,
}

impl Info {
    /// Info with a title and a version.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> Self {
        Info { title: title.into(), version: version.into(), ..Info::default() }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Fills an empty title and version as contract-api-go does.
    pub(crate) fn or_defaults(mut self, title: &str) -> Self {
        if self.title.is_empty() {
            self.title = title.to_string();
        }
        if self.version.is_empty() {
            self.version = "latest".to_string();
        }
        self
    }
}

/// Contact details in [`Info`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// A person or organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// License details in [`Info`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// The license's name.
    pub name: String,
    /// Where to read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The metadata of one contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractMetadata {
    /// The contract's info (optional in a metadata file).
    #[serde(default)]
    pub info: Info,
    /// The contract's name (the `Name` of `Name:Function`).
    pub name: String,
    /// Its transactions, sorted by name.
    pub transactions: Vec<TransactionMetadata>,
    /// Whether bare function names are routed to this contract (optional in a metadata file).
    #[serde(default)]
    pub default: bool,
}

impl ContractMetadata {
    /// A contract with no transactions yet.
    pub fn new(name: impl Into<String>, info: Info) -> Self {
        let name = name.into();
        ContractMetadata { info: info.or_defaults(&name), name, transactions: Vec::new(), default: false }
    }

    /// Adds a transaction, keeping them sorted by name as contract-api-go does.
    pub fn transaction(mut self, transaction: TransactionMetadata) -> Self {
        let at = self.transactions.partition_point(|t| t.name < transaction.name);
        self.transactions.insert(at, transaction);
        self
    }
}

/// The metadata of one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionMetadata {
    /// The transaction's name.
    pub name: String,
    /// `["submit", "SUBMIT"]` or `["evaluate", "EVALUATE"]`, as contract-api-go tags them
    /// (optional in a metadata file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<String>,
    /// The parameters after the context, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterMetadata>,
    /// The schema of the result, absent for transactions that return nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<Value>,
}

impl TransactionMetadata {
    /// A transaction that changes the ledger (clients *submit* it).
    pub fn submit(name: impl Into<String>) -> Self {
        Self::tagged(name, ["submit", "SUBMIT"])
    }

    /// A query (clients *evaluate* it).
    pub fn evaluate(name: impl Into<String>) -> Self {
        Self::tagged(name, ["evaluate", "EVALUATE"])
    }

    fn tagged(name: impl Into<String>, tags: [&str; 2]) -> Self {
        TransactionMetadata {
            name: name.into(),
            tag: tags.iter().map(|t| t.to_string()).collect(),
            parameters: Vec::new(),
            returns: None,
        }
    }

    /// Adds a parameter.
    pub fn parameter(mut self, name: impl Into<String>, schema: Value) -> Self {
        self.parameters.push(ParameterMetadata { name: name.into(), description: None, schema });
        self
    }

    /// Sets the result's schema.
    pub fn returns(mut self, schema: Value) -> Self {
        self.returns = Some(schema);
        self
    }

    /// Whether clients evaluate (rather than submit) this transaction.
    pub fn is_evaluate(&self) -> bool {
        self.tag.iter().any(|t| t.eq_ignore_ascii_case("evaluate"))
    }
}

/// One parameter of a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterMetadata {
    /// The parameter's name as written in the Rust signature.
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its JSON schema.
    pub schema: Value,
}
