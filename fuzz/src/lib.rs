//! The bodies of the fuzz targets: everything that parses bytes from the network or from a user's
//! files. `fuzz/cargo-fuzz` wraps each in a libFuzzer target (`fuzz/run` runs them), and
//! `tests/corpus.rs` runs every file of the seed corpus and of the regressions through them in CI,
//! without the fuzzer. A target fails by panicking, and the shim's own tasks are watched too: a
//! panic anywhere in the process is a failure (see [`install_panic_watch`]).
#![forbid(unsafe_code)]

mod handler;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use ccaas_protos::protos::ChaincodeMessage;
use prost::Message;

pub use handler::handler_sequence;

/// A fuzz target's body: takes any bytes, panics on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("chaincode_message", chaincode_message),
    ("handler_sequence", handler_sequence),
    ("composite_key", composite_key),
    ("contract_arguments", contract_arguments),
    ("identity", identity),
    ("package_inspect", package_inspect),
    ("connection_template", connection_template),
    ("network_config", network_config),
];

static PANICKED: AtomicBool = AtomicBool::new(false);
static WATCH: Once = Once::new();

/// Records panics of any thread (the shim runs connections and transactions on tasks whose
/// panics would otherwise be caught and logged), keeping the default report.
pub fn install_panic_watch() {
    WATCH.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// Whether a panic happened since the last call.
pub fn take_panicked() -> bool {
    PANICKED.swap(false, Ordering::SeqCst)
}

/// `ChaincodeMessage` decoding: anything decodes or errors, and what decodes survives a round trip.
pub fn chaincode_message(data: &[u8]) {
    if let Ok(message) = ChaincodeMessage::decode(data) {
        let again = ChaincodeMessage::decode(message.encode_to_vec().as_slice()).expect("re-encoded message decodes");
        assert_eq!(again, message);
    }
}

/// Composite keys: splitting never panics, and what splits re-creates the same key.
pub fn composite_key(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok((object_type, attributes)) = ccaas_shim::split_composite_key(text) {
        if let Ok(again) = ccaas_shim::create_composite_key(&object_type, &attributes) {
            assert_eq!(again, text, "split then create changed the key");
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Asset {
    #[serde(rename = "ID")]
    id: String,
    size: i32,
    owner: Option<String>,
    tags: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
enum Color {
    Red,
    Rgb(u8, u8, u8),
}

/// Contract arguments: the conversion of a client's string to each kind of parameter type the
/// contract API accepts returns a value or an error, never panics.
pub fn contract_arguments(data: &[u8]) {
    use ccaas_shim::contract::__private::arg;
    let args = vec![String::from_utf8_lossy(data).into_owned()];
    let _ = arg::<i8>(&args, 0, "p", "i8");
    let _ = arg::<u64>(&args, 0, "p", "u64");
    let _ = arg::<i128>(&args, 0, "p", "i128");
    let _ = arg::<f64>(&args, 0, "p", "f64");
    let _ = arg::<bool>(&args, 0, "p", "bool");
    let _ = arg::<char>(&args, 0, "p", "char");
    let _ = arg::<String>(&args, 0, "p", "String");
    let _ = arg::<Option<u32>>(&args, 0, "p", "Option<u32>");
    let _ = arg::<Vec<i64>>(&args, 0, "p", "Vec<i64>");
    let _ = arg::<(u8, String)>(&args, 0, "p", "(u8, String)");
    let _ = arg::<std::collections::BTreeMap<String, f32>>(&args, 0, "p", "BTreeMap<String, f32>");
    let _ = arg::<Asset>(&args, 0, "p", "Asset");
    let _ = arg::<Color>(&args, 0, "p", "Color");
    let _ = arg::<serde_json::Value>(&args, 0, "p", "Value");
    let _ = arg::<Vec<u8>>(&args, 0, "p", "Vec<u8>");
}

/// The client identity parser: a creator (`SerializedIdentity`), and a bare DER certificate.
pub fn identity(data: &[u8]) {
    if let Ok(identity) = ccaas_shim::identity::ClientIdentity::from_creator(data) {
        let _ = identity.id();
        let _ = identity.msp_id();
        let _ = identity.attribute("hf.EnrollmentID");
    }
    let _ = ccaas_shim::identity::Certificate::from_der(data);
}

/// `ccaas-package inspect` and `id` on arbitrary archive bytes.
pub fn package_inspect(data: &[u8]) {
    let report = ccaas_package::inspect(data);
    let id = ccaas_package::package_id(data);
    if let (Ok(report), Ok(id)) = (report, id) {
        assert_eq!(report.package_id, id);
    }
}

/// The connection.json address template parser and the address validator.
pub fn connection_template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = ccaas_package::template::parse(text);
    let _ = ccaas_package::connection::validate_address(text);
}

/// The network-config loader of `ccaas-deploy` (hlf-operator YAML), and the lookups on it.
pub fn network_config(data: &[u8]) {
    if let Ok(config) = ccaas_deploy::network_config::NetworkConfig::parse(data, Path::new("fuzz.yaml")) {
        for org in config.orgs_with_user("admin") {
            let _ = config.organization(&org);
        }
    }
}
