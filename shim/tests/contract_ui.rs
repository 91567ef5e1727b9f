//! Compile-fail tests: misuse of the contract macros gets a readable error.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p ccaas-shim --test contract_ui`.

#[test]
fn macro_misuse_is_reported() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
