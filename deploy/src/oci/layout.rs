//! Hot-code layout for chaincode binaries.
//!
//! A chaincode server runs a small part of its code: start-up, the handshake with the peer, and
//! each transaction's path through tokio, h2, tonic, prost and the shim. The linker scatters those
//! functions over the whole text, and the kernel maps a binary's pages in 64 KiB runs around each
//! page touched, so an idle server kept 2.9 MiB of its 4.1 MiB of code resident. Placed next to
//! each other with the linker's `--symbol-ordering-file`, the same functions fill a few hundred
//! KiB (docs/benchmarks.md has the figures).
//!
//! The functions are listed in [`HOT_FUNCTIONS`] by name, demangled without crate hashes, so the
//! list applies to any chaincode built on the shim with the same dependency versions; a function
//! it names that a binary lacks is skipped. `bench/hot-functions.sh` regenerates it from a profile.

use std::collections::{HashMap, HashSet};

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

/// The functions a chaincode server runs, one per line (`bench/hot-functions.sh` writes it).
pub const HOT_FUNCTIONS: &str = include_str!("hot_functions.txt");

/// A symbol's name as the hot list spells it: demangled, without the crate hashes that change
/// from build to build. Names that are not Rust's (the C library's) are kept as they are.
///
/// ```
/// # use ccaas_deploy::layout::stable_name;
/// assert_eq!(stable_name("_ZN5tokio7runtime4task3raw4poll17h0123456789abcdefE"), "tokio::runtime::task::raw::poll");
/// assert_eq!(stable_name("__memcpy_avx_unaligned_erms"), "__memcpy_avx_unaligned_erms");
/// ```
pub fn stable_name(symbol: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(symbol))
}

/// The symbol ordering for `elf`: first the C library's IFUNC resolvers (a static binary runs
/// every one of them at start-up, to pick each string function's variant for the CPU, and they
/// are spread over its 400 KiB), then the mangled name of every function it defines whose
/// [`stable_name`] is in `hot_functions` (one per line, `#` comments), in the list's order.
pub fn symbol_order(elf: &[u8], hot_functions: &str) -> Result<Vec<String>, object::Error> {
    let file = object::File::parse(elf)?;
    let resolvers = ifunc_resolvers(&file)?;
    let mut by_name: HashMap<String, Vec<(u64, &str)>> = HashMap::new();
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for symbol in file.symbols() {
        if symbol.kind() != SymbolKind::Text || !symbol.is_definition() {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        if resolvers.contains(&symbol.address()) && seen.insert(name) {
            order.push(name.to_string());
        }
        by_name.entry(stable_name(name)).or_default().push((symbol.address(), name));
    }
    for wanted in list_entries(hot_functions) {
        let Some(symbols) = by_name.get_mut(wanted) else { continue };
        symbols.sort_unstable();
        for (_, name) in symbols.iter() {
            if seen.insert(*name) {
                order.push(name.to_string());
            }
        }
    }
    Ok(order)
}

/// Whether the chaincode binary `elf` can serve TLS: `Some(false)` when its symbol table has the
/// shim's functions and none of rustls' (it was built without the shim's `tls` feature), `Some(true)`
/// when it has both, `None` when it cannot tell (not an ELF file, no symbols, or no shim).
pub fn shim_serves_tls(elf: &[u8]) -> Option<bool> {
    let file = object::File::parse(elf).ok()?;
    let (mut shim, mut tls) = (false, false);
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        let name = stable_name(name);
        shim |= name.contains("ccaas_shim::");
        tls |= name.contains("rustls::");
        if shim && tls {
            break;
        }
    }
    shim.then_some(tls)
}

/// The addresses of the functions that `R_X86_64_IRELATIVE` relocations call (their addends).
fn ifunc_resolvers(file: &object::File) -> Result<HashSet<u64>, object::Error> {
    const R_X86_64_IRELATIVE: u64 = 37;
    let mut resolvers = HashSet::new();
    if file.architecture() != object::Architecture::X86_64 || !file.is_little_endian() {
        return Ok(resolvers);
    }
    for section in file.sections() {
        if !section.name()?.starts_with(".rela") {
            continue;
        }
        // Elf64_Rela: r_offset, r_info (type in the low 32 bits), r_addend; little-endian.
        for entry in section.data()?.chunks_exact(24) {
            let word = |at: usize| u64::from_le_bytes(entry[at..at + 8].try_into().expect("8 bytes"));
            if word(8) & 0xffff_ffff == R_X86_64_IRELATIVE {
                resolvers.insert(word(16));
            }
        }
    }
    Ok(resolvers)
}

/// The functions a callgrind profile (`valgrind --tool=callgrind --demangle=no`) saw run, as
/// [`stable_name`]s, sorted and without duplicates: a hot list for [`symbol_order`].
pub fn functions_in_callgrind_profile(profile: &str) -> Vec<String> {
    let mut names: Vec<String> = profile
        .lines()
        .filter_map(|line| line.strip_prefix("fn=(").or_else(|| line.strip_prefix("cfn=(")))
        .filter_map(|rest| rest.split_once(") ").map(|(_, name)| name.trim()))
        .filter(|name| !name.starts_with("0x") && !name.starts_with('(') && !name.is_empty())
        .map(stable_name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn list_entries(list: &str) -> impl Iterator<Item = &str> {
    list.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_names_drop_the_hashes_of_both_manglings() {
        assert_eq!(stable_name("_ZN4core3fmt5write17h64ba8e9ea6f1e2a1E"), "core::fmt::write");
        // v0 mangling: `std::io::error::Error::new::<&str>`, whatever the crate hash.
        let v0 = "_RINvMs5_NtNtCsjrHSEGnQ3l9_3std2io5errorNtB6_5Error3newReEBa_";
        assert_eq!(stable_name(v0), "<std::io::error::Error>::new::<&str>");
    }

    #[test]
    fn a_callgrind_profile_gives_each_function_once() {
        let profile = "fn=(1) _ZN4core3fmt5write17h64ba8e9ea6f1e2a1E\ncalls=1 0\ncfn=(2) malloc\nfn=(1)\n\
                       cfn=(3) 0x00000000001ab70\nfn=(4) (below main)\ncfn=(2)\n\
                       fn=(5) _ZN4core3fmt5write17h1111111111111111E\n";
        assert_eq!(functions_in_callgrind_profile(profile), ["core::fmt::write", "malloc"]);
    }

    #[test]
    fn the_order_names_this_binarys_symbols_in_the_lists_order() {
        // This test binary is an ELF file with a symbol table; these two functions are in it (named
        // by where they are defined, oci/layout.rs, not by lib.rs's re-export).
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let list = "# comment\n\nccaas_deploy::oci::layout::list_entries\nno::such::function\n\
                    ccaas_deploy::oci::layout::stable_name\n";
        let order = symbol_order(&elf, list).unwrap();
        let names: Vec<String> = order.iter().map(|s| stable_name(s)).collect();
        let listed = names.iter().position(|n| n == "ccaas_deploy::oci::layout::list_entries");
        let stable = names.iter().position(|n| n == "ccaas_deploy::oci::layout::stable_name");
        assert!(matches!((listed, stable), (Some(a), Some(b)) if a < b), "list order not kept: {names:?}");
        assert!(names.iter().all(|n| n.starts_with("ccaas_deploy::oci::layout::")), "{names:?}");
        assert!(order.iter().all(|s| s.starts_with("_ZN") || s.starts_with("_R")), "{order:?}");
    }

    #[test]
    fn a_static_binarys_ifunc_resolvers_come_first() {
        // A static glibc program: its string functions are IFUNCs, resolved at start-up.
        let dir = tempfile::tempdir().unwrap();
        let (source, binary) = (dir.path().join("main.c"), dir.path().join("main"));
        std::fs::write(&source, "#include <string.h>\nint main(int c, char **v) { return (int)strlen(v[0]) + c; }\n")
            .unwrap();
        let built = std::process::Command::new("cc").arg("-static").arg("-o").arg(&binary).arg(&source).status();
        assert!(built.is_ok_and(|s| s.success()), "cc -static failed (build-static needs the same C toolchain)");
        let order = symbol_order(&std::fs::read(&binary).unwrap(), "main\n").unwrap();
        let main = order.iter().position(|s| s == "main").expect("main is listed");
        assert!(main > 0, "no IFUNC resolver placed before the list: {order:?}");
        assert!(order[..main].iter().any(|s| s.contains("strlen")), "{order:?}");
    }

    #[test]
    fn a_file_that_is_not_an_object_is_an_error() {
        assert!(symbol_order(b"not an ELF file", "main").is_err());
    }
}
