//! Runs every file of the seed corpus (`fuzz/corpus/<target>/`) and of the regressions
//! (`fuzz/regressions/<target>/`, each crash the fuzzer ever found) through its target, without
//! the fuzzer: what once crashed stays fixed, in CI.

use std::path::Path;

#[test]
fn every_corpus_and_regression_file_passes_its_target() {
    ccaas_fuzz::install_panic_watch();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (name, target) in ccaas_fuzz::TARGETS {
        let mut files = 0;
        for kind in ["corpus", "regressions"] {
            let dir = root.join(kind).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok() && !ccaas_fuzz::take_panicked(), "{name}: {} fails", path.display());
                files += 1;
            }
        }
        assert!(files > 0, "no seed corpus for {name} under fuzz/corpus/{name}");
        ran += files;
    }
    eprintln!("{ran} corpus and regression files passed");
}
