//! [`ContractChaincode`]: contracts behind the [`Chaincode`] trait.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bytes::Bytes;

use super::error::MetadataFileError;
use super::metadata::{ChaincodeMetadata, ContractMetadata, FileMetadata, Info, TransactionMetadata, METADATA_SCHEMA};
use super::schema::{Components, Schema};
use super::{__private, Contract, ContractError};
use crate::{Chaincode, ChaincodeStub, Response};

/// The name of the system contract (contract-api-go's `SystemContractName`).
pub const SYSTEM_CONTRACT: &str = "org.hyperledger.fabric";

/// What [`Chaincode::init`] returns for an `Init` with no function name, as contract-api-go does.
pub const DEFAULT_INIT_MESSAGE: &str = "Default initiator successful.";

/// A chaincode made of contracts, routing `Contract:Function` names to their transactions.
///
/// * `Name:Function` runs `Function` of the contract `Name` (split at the last `:`);
/// * a bare `Function` runs in the default contract: the one added with
///   [`default_contract`](Self::default_contract), else the first one added;
/// * `org.hyperledger.fabric:GetMetadata` returns the [metadata](Self::metadata) as JSON;
/// * `Init` with no function name succeeds with [`DEFAULT_INIT_MESSAGE`]; otherwise `Init` routes
///   like `Invoke`.
///
/// Failures are status-500 responses with contract-api-go's messages (see [`ContractError`]).
///
/// ```
/// use ccaas_shim::contract::{contract, Context, ContractChaincode, Info};
///
/// #[derive(Default)]
/// pub struct Greeter;
///
/// #[contract]
/// impl Greeter {
///     #[transaction(evaluate)]
///     async fn hello(&self, _ctx: &Context<'_>, name: String) -> String {
///         format!("hello {name}")
///     }
/// }
///
/// let chaincode = ContractChaincode::new()
///     .info(Info::new("greetings", "1.0.0"))
///     .contract(Greeter);
/// assert!(chaincode.metadata_json().contains(r#""name":"hello""#));
/// ```
pub struct ContractChaincode {
    contracts: Vec<Box<dyn Contract>>,
    default: Option<usize>,
    info: Info,
    file_metadata: Option<FileMetadata>,
    metadata: OnceLock<String>,
}

impl Default for ContractChaincode {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ContractChaincode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.contracts.iter().map(|c| c.name()).collect();
        f.debug_struct("ContractChaincode")
            .field("contracts", &names)
            .field("default", &self.default_name())
            .field("info", &self.info)
            .field("metadata_file", &self.file_metadata.is_some())
            .finish()
    }
}

impl ContractChaincode {
    /// A chaincode with no contracts yet.
    pub fn new() -> Self {
        ContractChaincode {
            contracts: Vec::new(),
            default: None,
            info: Info::default(),
            file_metadata: None,
            metadata: OnceLock::new(),
        }
    }

    /// Adds a contract.
    ///
    /// # Panics
    /// If a contract with the same name was added already (contract-api-go's `NewChaincode`
    /// fails the same way), or if the contract is named `org.hyperledger.fabric`.
    pub fn contract(mut self, contract: impl Contract) -> Self {
        self.add(Box::new(contract));
        self
    }

    /// Adds a contract and makes it the default one, which runs bare function names.
    ///
    /// # Panics
    /// As [`contract`](Self::contract).
    pub fn default_contract(mut self, contract: impl Contract) -> Self {
        self.default = Some(self.add(Box::new(contract)));
        self
    }

    /// Sets the chaincode's `info` in the metadata (default: title `undefined`, version `latest`).
    pub fn info(mut self, info: Info) -> Self {
        self.info = info;
        self.metadata = OnceLock::new();
        self
    }

    /// Serves the metadata in `path` (fabric-contract-api's `META-INF/metadata.json`) instead of
    /// the generated metadata, part by part as contract-api-go merges them: the file's `info`,
    /// its `contracts` unless empty, its `components` unless empty; the generated parts fill the
    /// rest. The file is read and checked now, so a bad file stops the chaincode at startup, not
    /// at the first `GetMetadata`. It only describes the chaincode: routing and argument
    /// handling still follow the contracts.
    ///
    /// ```
    /// use ccaas_shim::contract::{contract, Context, ContractChaincode};
    ///
    /// #[derive(Default)]
    /// pub struct Greeter;
    ///
    /// #[contract]
    /// impl Greeter {
    ///     #[transaction(evaluate)]
    ///     async fn hello(&self, _ctx: &Context<'_>) -> String { "hello".into() }
    /// }
    ///
    /// let dir = std::env::temp_dir().join(format!("metadata-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("metadata.json");
    /// std::fs::write(&file, r#"{"info": {"title": "Greetings", "version": "2.0.0"}, "contracts": {}}"#).unwrap();
    ///
    /// let chaincode = ContractChaincode::new().contract(Greeter).metadata_file(&file).unwrap();
    /// let metadata = chaincode.metadata();
    /// assert_eq!(metadata.info.title, "Greetings"); // from the file
    /// assert!(metadata.contracts.contains_key("Greeter")); // generated: the file's contracts are empty
    ///
    /// std::fs::write(&file, r#"{"info": {"title": "no version"}, "contracts": {}}"#).unwrap();
    /// let error = ContractChaincode::new().contract(Greeter).metadata_file(&file).unwrap_err();
    /// assert!(error.to_string().contains("missing field `version`"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn metadata_file(mut self, path: impl AsRef<Path>) -> Result<Self, MetadataFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| MetadataFileError::Read { path: path.into(), source })?;
        let file = serde_json::from_slice(&bytes)
            .map_err(|source| MetadataFileError::Invalid { path: path.into(), source })?;
        self.file_metadata = Some(file);
        self.metadata = OnceLock::new();
        Ok(self)
    }

    /// contract-api-go's convention: uses `META-INF/metadata.json` in the directory of the
    /// running executable (see [`metadata_file`](Self::metadata_file)) if that file exists, and
    /// the generated metadata alone if it does not. In a container image, copy `META-INF` next to
    /// the chaincode binary.
    pub fn metadata_file_beside_executable(self) -> Result<Self, MetadataFileError> {
        let executable = std::env::current_exe().map_err(MetadataFileError::NoExecutable)?;
        let path = Self::metadata_path_beside(&executable);
        if !path.exists() {
            tracing::debug!(path = %path.display(), "no contract metadata file; serving the generated metadata");
            return Ok(self);
        }
        self.metadata_file(path)
    }

    /// `<directory of executable>/META-INF/metadata.json`.
    fn metadata_path_beside(executable: &Path) -> PathBuf {
        executable.parent().unwrap_or(Path::new(".")).join("META-INF").join("metadata.json")
    }

    fn add(&mut self, contract: Box<dyn Contract>) -> usize {
        let name = contract.name();
        assert!(name != SYSTEM_CONTRACT, "the contract name {SYSTEM_CONTRACT} is reserved for the system contract");
        assert!(
            self.contracts.iter().all(|c| c.name() != name),
            "multiple contracts being merged into chaincode with name {name}"
        );
        self.contracts.push(contract);
        self.metadata = OnceLock::new();
        self.contracts.len() - 1
    }

    /// The name bare function names are routed to.
    pub fn default_name(&self) -> &str {
        self.contracts.get(self.default.unwrap_or(0)).map_or(SYSTEM_CONTRACT, |c| c.name())
    }

    /// The chaincode's metadata, as `org.hyperledger.fabric:GetMetadata` returns it.
    pub fn metadata(&self) -> ChaincodeMetadata {
        let mut components = Components::default();
        let default = self.default_name().to_string();
        let mut contracts: std::collections::BTreeMap<_, _> = self
            .contracts
            .iter()
            .map(|c| {
                let mut metadata = c.metadata(&mut components);
                metadata.default = metadata.name == default;
                (metadata.name.clone(), metadata)
            })
            .collect();
        let mut system = ContractMetadata::new(SYSTEM_CONTRACT, Info::default())
            .transaction(TransactionMetadata::evaluate("GetMetadata").returns(String::schema(&mut components)));
        system.default = default == SYSTEM_CONTRACT;
        contracts.insert(SYSTEM_CONTRACT.to_string(), system);
        let generated = ChaincodeMetadata {
            schema: METADATA_SCHEMA.to_string(),
            info: self.info.clone().or_defaults("undefined"),
            contracts,
            components,
        };
        match &self.file_metadata {
            None => generated,
            Some(file) => ChaincodeMetadata {
                schema: generated.schema,
                info: file.info.clone(),
                contracts: if file.contracts.is_empty() { generated.contracts } else { file.contracts.clone() },
                components: if file.components.schemas.is_empty() {
                    generated.components
                } else {
                    file.components.clone()
                },
            },
        }
    }

    /// The metadata as compact JSON (computed once).
    pub fn metadata_json(&self) -> &str {
        self.metadata.get_or_init(|| serde_json::to_string(&self.metadata()).expect("metadata is plain JSON"))
    }

    /// Runs the transaction the stub's arguments name and returns its payload.
    pub async fn execute(&self, stub: &ChaincodeStub) -> Result<Bytes, ContractError> {
        let (name, params) = stub.function_and_parameters();
        let (namespace, function) = match name.rfind(':') {
            Some(at) => (&name[..at], &name[at + 1..]),
            None => (self.default_name(), name.as_str()),
        };
        if namespace == SYSTEM_CONTRACT {
            return self.system(function, &params);
        }
        let contract = self
            .contracts
            .iter()
            .find(|c| c.name() == namespace)
            .ok_or_else(|| ContractError::ContractNotFound(namespace.to_string()))?;
        if function.is_empty() {
            return Err(ContractError::BlankFunction);
        }
        contract.invoke(stub, function, &params).await
    }

    fn system(&self, function: &str, params: &[String]) -> Result<Bytes, ContractError> {
        if function.is_empty() {
            return Err(ContractError::BlankFunction);
        }
        match &*__private::resolve(function, &["GetMetadata"]) {
            "GetMetadata" => {
                __private::check_count(params, 0)?;
                Ok(Bytes::copy_from_slice(self.metadata_json().as_bytes()))
            }
            _ => Err(__private::not_found(function, SYSTEM_CONTRACT)),
        }
    }
}

impl Chaincode for ContractChaincode {
    async fn init(&self, stub: &ChaincodeStub) -> Response {
        if stub.function_and_parameters().0.is_empty() {
            return Response::success(DEFAULT_INIT_MESSAGE);
        }
        self.invoke(stub).await
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        match self.execute(stub).await {
            Ok(payload) => Response::success(payload),
            Err(error) => {
                tracing::debug!(txid = %stub.tx_id(), %error, "contract transaction failed");
                error.into()
            }
        }
    }
}
