//! What cargo sets in a test process's environment for that test: a nested cargo build or a
//! `ccaas-deploy` child must not see it (build scripts track some of these variables, ring's
//! CARGO_MANIFEST_DIR among them, and a value the outer build did not see would make every nested
//! build recompile ring's dependents).

/// Whether cargo set the variable `name` for this test process.
pub fn set_for_this_test(name: &str) -> bool {
    matches!(
        name,
        "OUT_DIR"
            | "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_CRATE_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "CARGO_RUSTC_CURRENT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_")
}
