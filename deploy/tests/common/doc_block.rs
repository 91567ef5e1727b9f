//! The commands a document shows, so tests run them exactly as written.

/// The first `sh` code block of the section under `heading` (the whole heading line, e.g.
/// `## From source to a running chaincode`) of `doc`, a file relative to the repository root. The
/// block must lie before the next `## ` heading.
pub fn sh_block(doc: &str, heading: &str) -> String {
    let path = format!("{}/../{doc}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let section =
        text.split(&format!("\n{heading}\n")).nth(1).unwrap_or_else(|| panic!("{doc} has no section '{heading}'"));
    let section = section.split("\n## ").next().unwrap();
    let block = section.split("```sh\n").nth(1).unwrap_or_else(|| panic!("{doc}'s '{heading}' has no sh block"));
    block.split("\n```").next().unwrap().to_string()
}
