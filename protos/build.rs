//! Compiles `proto/*.proto` with `protox` (pure Rust, no `protoc`) and generates prost messages and
//! tonic services. Every `bytes` field becomes `bytes::Bytes` so payloads move without copies.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "common.proto",
    "msp.proto",
    "queryresult.proto",
    "orderer.proto",
    "peer.proto",
    "lifecycle.proto",
    "gateway.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("proto");
    for file in FILES {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }
    let descriptors = protox::compile(FILES, [&proto_dir])?;
    tonic_prost_build::configure()
        .bytes(".")
        .build_client(true)
        .build_server(true)
        // `Chaincode.Connect` would clash with the generated `connect` constructor; clients use `new(channel)`.
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
