//! The Rust snippets of the README and of the guide's pages cannot rot: each is a file under
//! `readme/`, checked to equal the document's text, and compiled here with a test that runs its
//! main flow through the in-process emulator. (The same documents are also compiled as the test
//! kit's doctests.)

use std::path::Path;

/// Each document with a ```rust block, and its snippet files in the order of its blocks. A file
/// may appear in several documents (the README repeats its page's first snippet).
const DOCUMENTS: [(&str, &[&str]); 3] = [
    ("README.md", &["counter.rs", "first_test.rs"]),
    ("docs/writing-chaincode.md", &["counter.rs", "hello.rs"]),
    ("docs/testing.md", &["create_then_read.rs", "couchdb_peer.rs", "init_then_read.rs"]),
];

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
fn snippet_files_are_the_documents_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (document, snippets) in DOCUMENTS {
        let text = std::fs::read_to_string(root.join(document)).unwrap_or_else(|e| panic!("{document}: {e}"));
        let blocks = rust_blocks(&text);
        assert_eq!(
            blocks.len(),
            snippets.len(),
            "{document} has {} rust snippets; list each in DOCUMENTS",
            blocks.len()
        );
        for (block, file) in blocks.iter().zip(snippets) {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/readme").join(file);
            let copy = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(&copy, block, "{file} differs from its snippet in {document}: copy the document's text into it");
        }
    }
}

/// The README's "Write a contract" and docs/writing-chaincode.md: the contract API snippet.
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

/// docs/writing-chaincode.md: the low-level trait snippet.
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

/// The README's "Test it": a `#[tokio::test]` itself.
mod first_test {
    include!("readme/first_test.rs");
}

/// docs/testing.md: the first snippet is a `#[tokio::test]` itself.
mod create_then_read {
    include!("readme/create_then_read.rs");
}

/// docs/testing.md: a seeded CouchDB peer.
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

/// docs/testing.md: Init on a chaincode defined with `--init-required`.
mod init_then_read {
    include!("readme/init_then_read.rs");

    #[tokio::test]
    async fn runs() {
        init_then_read().await.unwrap();
    }
}
