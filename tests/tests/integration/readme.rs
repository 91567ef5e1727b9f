//! The README's Rust snippets cannot rot: each is a file under `readme/`, checked to equal the
//! README's text, and compiled here with a test that runs its main flow through the in-process
//! emulator. (The README itself is also compiled as the test kit's doctests.)

use std::path::Path;

/// The snippet files, in the order of the README's ```rust blocks.
const SNIPPETS: [&str; 5] = ["counter.rs", "hello.rs", "create_then_read.rs", "couchdb_peer.rs", "init_then_read.rs"];

/// The bodies of the ```rust blocks of `markdown`.
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.starts_with("```rust") => current = Some(String::new()),
            None => {}
            Some(_) if line.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn snippet_files_are_the_readme_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = rust_blocks(&readme);
    assert_eq!(blocks.len(), SNIPPETS.len(), "the README has {} rust snippets; list each in SNIPPETS", blocks.len());
    for (block, file) in blocks.iter().zip(SNIPPETS) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/readme").join(file);
        let copy = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&copy, block, "{file} differs from its README snippet: copy the README text into it");
    }
}

/// "Writing chaincode": the contract API snippet.
#[allow(dead_code)] // the snippet's `main` serves from the environment; the test drives the contract
mod counter {
    include!("readme/counter.rs");

    use ccaas_testkit::{Emulator, Identity, NO_ARGS};

    #[tokio::test]
    async fn increments_gets_and_names_the_caller() {
        let peer = Emulator::in_process(Counter).await;
        peer.submit("Increment", ["apples", "5"]).await.unwrap().assert_ok();
        let outcome = peer.submit("Increment", ["apples", "2"]).await.unwrap();
        assert_eq!(outcome.assert_ok().payload_str(), "7");
        outcome.assert_event("Incremented", r#"{"key":"apples","value":7}"#);
        assert_eq!(peer.evaluate("Get", ["apples"]).await.unwrap().payload_str(), "7");
        assert_eq!(peer.evaluate("Get", ["pears"]).await.unwrap().payload_str(), "0");

        // A stub error passed on with `?` fails the transaction with the peer's text.
        peer.submit("Increment", ["", "1"]).await.unwrap().assert_error("key must not be an empty string");
        // A serde_json error passed on with `?` too.
        peer.seed([("broken", "not a number")]);
        let failed = peer.submit("Increment", ["broken", "1"]).await.unwrap();
        assert!(failed.status() == 500 && failed.message().starts_with("expected ident"), "{failed}");

        let whoami = peer.evaluate("Whoami", NO_ARGS).await.unwrap();
        assert_eq!(whoami.payload_str(), Identity::default_client().client_id());
    }
}

/// "Writing chaincode": the low-level trait snippet.
mod hello {
    include!("readme/hello.rs");

    use ccaas_testkit::Emulator;

    #[tokio::test]
    async fn puts_gets_and_refuses_unknown_functions() {
        let peer = Emulator::in_process(Hello).await;
        peer.submit("put", ["greeting", "hi"]).await.unwrap().assert_ok();
        assert_eq!(peer.evaluate("get", ["greeting"]).await.unwrap().payload_str(), "hi");
        peer.evaluate("nope", ccaas_testkit::NO_ARGS).await.unwrap().assert_error("unknown function nope");
    }
}

/// "Testing your chaincode": the first snippet is a `#[tokio::test]` itself.
mod create_then_read {
    include!("readme/create_then_read.rs");
}

/// "Testing your chaincode": a seeded CouchDB peer.
mod couchdb_peer {
    include!("readme/couchdb_peer.rs");

    #[tokio::test]
    async fn reads_the_seeded_asset() {
        let peer = couchdb_peer().await;
        let read = peer.evaluate("ReadAsset", ["asset1"]).await.unwrap();
        assert!(read.assert_ok().payload_str().contains(r#""Owner":"Tom""#), "{read}");
        assert_eq!(peer.peer().model().config().state_database, ccaas_testkit::StateDatabase::CouchDb);
    }
}

/// "Testing your chaincode": Init on a chaincode defined with `--init-required`.
mod init_then_read {
    include!("readme/init_then_read.rs");

    #[tokio::test]
    async fn runs() {
        init_then_read().await.unwrap();
    }
}
