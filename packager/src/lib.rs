#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Deterministic Hyperledger Fabric chaincode packages for chaincode-as-a-service
//! (the `ccaas` builder bundled with the peer) and for fabric-builder-k8s, their package
//! IDs, inspection with the peer's own rules, and TLS material for the chaincode server.
//!
//! * [`build_package`] turns a [`PackageSpec`] into bytes and a package ID, after
//!   validating everything the peer and the builder would otherwise reject at install
//!   time or, worse, when the chaincode is first invoked. It does no I/O and its output
//!   depends on nothing but the spec: same spec, same bytes, same ID, on any machine.
//! * [`write_package_atomically`] puts those bytes on disk (temp file, fsync, rename).
//! * [`package_id`] computes the ID of an existing file the way
//!   `peer lifecycle chaincode calculatepackageid` does.
//! * [`inspect`] parses a package back into a typed [`InspectReport`], including a
//!   [`ConnectionJson`] whose PEM fields can be used to dial a chaincode exactly as the
//!   peer would.
//! * [`tls::generate`] makes a CA, a chaincode server certificate and a peer client
//!   certificate.
//!
//! Package IDs made here differ from the ones `tar`/`peer` would give for the same
//! content (the compressor differs); they are stable across runs and machines, which is
//! what matters for approving one ID per organisation.
//!
//! ```
//! use ccaas_package::{build_package, inspect, ConnectionSpec, PackageSpec};
//!
//! let spec = PackageSpec::ccaas(
//!     "basic_1.0",
//!     ConnectionSpec::new("{{.peername}}_basic_ccaas:9999").dial_timeout("10s"),
//! );
//! let pkg = build_package(&spec)?;
//! let report = inspect(&pkg.bytes)?;
//! assert_eq!(report.package_id, pkg.package_id);
//! assert_eq!(report.metadata.label, "basic_1.0");
//! # Ok::<(), ccaas_package::Error>(())
//! ```

mod archive;
pub mod connection;
mod error;
mod gojson;
mod inspect;
pub mod k8s;
pub mod label;
pub mod meta_inf;
mod package;
mod package_id;
pub mod template;
pub mod tls;
pub mod write;

pub use archive::{gzip as deterministic_gzip, MAX_DECOMPRESSED};
pub use connection::{ConnectionJson, ConnectionSpec, DEFAULT_DIAL_TIMEOUT};
pub use error::{Error, Result};
pub use inspect::{inspect, CodeEntry, InspectReport, PackageKind};
pub use k8s::ImageJson;
pub use meta_inf::{read_meta_inf_dir, MetaInfFile};
pub use package::{build_package, write_package_atomically, BuiltPackage, CodeSpec, PackageSpec};
pub use package_id::{format_package_id, package_id, sha256_hex, PackageMetadata};
pub use write::write_file_atomically;
