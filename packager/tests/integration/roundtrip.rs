//! Property: `inspect(build(x))` gives back `x` — label, type, every connection.json
//! field including the TLS PEMs, the k8s image, and the META-INF files.

use crate::common;

use std::collections::BTreeMap;

use ccaas_package::{
    build_package, inspect, package_id, ConnectionSpec, ImageJson, MetaInfFile, PackageKind, PackageSpec,
};
use common::fixture;
use proptest::prelude::*;

fn address() -> impl Strategy<Value = String> {
    let host = "[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,4})?(\\.[a-z][a-z0-9]{0,5}){0,2}";
    prop_oneof![
        (host, 1u16..=65535).prop_map(|(h, p)| format!("{h}:{p}")),
        ("[a-z_]{1,10}", 1u16..=65535).prop_map(|(s, p)| format!("{{{{.peername}}}}_{s}:{p}")),
        (any::<[u8; 4]>(), 1u16..=65535).prop_map(|(ip, p)| format!("{}.{}.{}.{}:{p}", ip[0], ip[1], ip[2], ip[3])),
        (1u16..=65535).prop_map(|p| format!("[::1]:{p}")),
    ]
}

fn dial_timeout() -> impl Strategy<Value = String> {
    (1u32..10_000, prop_oneof![Just("ms"), Just("s"), Just("m"), Just("h")]).prop_map(|(n, unit)| format!("{n}{unit}"))
}

#[derive(Debug, Clone)]
enum Tls {
    Off,
    On,
    Mutual(&'static str),
}

fn tls() -> impl Strategy<Value = Tls> {
    prop_oneof![
        Just(Tls::Off),
        Just(Tls::On),
        Just(Tls::Mutual("client-ec")),
        Just(Tls::Mutual("client-p384")),
        Just(Tls::Mutual("client-rsa")),
    ]
}

fn meta_inf() -> impl Strategy<Value = Vec<MetaInfFile>> {
    let one = (
        proptest::option::of("[A-Za-z][A-Za-z0-9-]{0,8}"),
        "[a-zA-Z][a-zA-Z0-9_]{0,10}",
        proptest::collection::vec("[a-zA-Z][a-zA-Z0-9]{0,6}", 1..4),
    )
        .prop_map(|(coll, name, fields)| {
            let path = match coll {
                Some(c) => format!("statedb/couchdb/collections/{c}/indexes/{name}.json"),
                None => format!("statedb/couchdb/indexes/{name}.json"),
            };
            let body = serde_json::json!({"index": {"fields": fields}, "name": name});
            (path, serde_json::to_vec(&body).unwrap())
        });
    proptest::collection::vec(one, 0..5).prop_map(|files| {
        let unique: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
        unique.into_iter().map(|(p, c)| MetaInfFile::new(p, c)).collect()
    })
}

fn ccaas_spec() -> impl Strategy<Value = PackageSpec> {
    (
        "[a-zA-Z0-9][a-zA-Z0-9_.+-]{0,20}",
        address(),
        dial_timeout(),
        tls(),
        proptest::option::of("[a-z][a-z0-9]{0,10}(\\.[a-z]{1,5})?"),
        meta_inf(),
    )
        .prop_map(|(label, address, dial, tls, domain, meta)| {
            let mut conn = ConnectionSpec::new(address).dial_timeout(dial);
            match tls {
                Tls::Off => {}
                Tls::On => conn = conn.tls(fixture("ca.pem")),
                Tls::Mutual(name) => {
                    conn = conn
                        .tls(fixture("ca.pem"))
                        .client_auth(fixture(&format!("{name}.pem")), fixture(&format!("{name}.key")))
                }
            }
            if let Some(d) = domain {
                conn = conn.domain(d);
            }
            // Unsorted on purpose: the package sorts.
            let mut meta = meta;
            meta.reverse();
            PackageSpec::ccaas(label, conn).with_meta_inf(meta)
        })
}

fn sorted(mut files: Vec<MetaInfFile>) -> Vec<MetaInfFile> {
    files.sort();
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn inspect_returns_what_was_built(spec in ccaas_spec()) {
        let built = build_package(&spec).unwrap();
        let report = inspect(&built.bytes).unwrap();
        let ccaas_package::CodeSpec::Ccaas(conn_spec) = &spec.code else { unreachable!() };

        prop_assert_eq!(&report.package_id, &built.package_id);
        prop_assert_eq!(package_id(&built.bytes).unwrap(), built.package_id.clone());
        prop_assert_eq!(&report.metadata.label, &spec.label);
        prop_assert_eq!(&report.metadata.package_type, "ccaas");
        prop_assert_eq!(report.kind, PackageKind::Ccaas);

        let conn = report.connection.clone().unwrap();
        prop_assert_eq!(&conn, &conn_spec.to_connection_json().unwrap());
        prop_assert_eq!(&conn.address, &conn_spec.address);
        prop_assert_eq!(&conn.dial_timeout, &conn_spec.dial_timeout);
        prop_assert_eq!(conn.tls_required, conn_spec.tls_required);
        prop_assert_eq!(conn.client_auth_required, conn_spec.client_auth_required);
        prop_assert_eq!(&conn.root_cert, conn_spec.root_cert.as_deref().unwrap_or(""));
        prop_assert_eq!(&conn.client_cert, conn_spec.client_cert.as_deref().unwrap_or(""));
        prop_assert_eq!(&conn.client_key, conn_spec.client_key.as_deref().unwrap_or(""));
        prop_assert_eq!(&conn.domain, &conn_spec.domain);

        prop_assert_eq!(&report.meta_inf, &sorted(spec.meta_inf.clone()));
        prop_assert_eq!(&report.warnings, &built.warnings);
    }

    #[test]
    fn k8s_packages_round_trip(
        label in "[a-z]([a-z0-9-]{0,20}[a-z0-9])?",
        repo in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}",
        digest in "[0-9a-f]{64}",
        meta in meta_inf(),
    ) {
        let image = ImageJson::parse_reference(&format!("ghcr.io/{repo}@sha256:{digest}")).unwrap();
        let spec = PackageSpec::k8s(label.clone(), image.clone()).with_meta_inf(meta.clone());
        let built = build_package(&spec).unwrap();
        let report = inspect(&built.bytes).unwrap();
        prop_assert_eq!(report.kind, PackageKind::K8s);
        prop_assert_eq!(&report.metadata.package_type, "k8s");
        prop_assert_eq!(&report.metadata.label, &label);
        prop_assert_eq!(report.image, Some(image));
        prop_assert_eq!(report.connection, None);
        prop_assert_eq!(report.meta_inf, sorted(meta));
    }
}

/// Paths longer than the 100-byte USTAR name field go into the USTAR prefix field and
/// still come back intact (through our reader and through GNU tar).
#[test]
fn long_meta_inf_paths_use_the_ustar_prefix() {
    let coll = "c".repeat(90);
    let path = format!("statedb/couchdb/collections/{coll}/indexes/byOwnerAndColor.json");
    let body = br#"{"index":{"fields":["owner","color"]}}"#.to_vec();
    let spec = PackageSpec::ccaas("cc", ConnectionSpec::new("cc:7052"))
        .with_meta_inf(vec![MetaInfFile::new(path.clone(), body.clone())]);
    let built = build_package(&spec).unwrap();
    let report = inspect(&built.bytes).unwrap();
    assert_eq!(report.meta_inf, vec![MetaInfFile::new(path.clone(), body)]);
    assert!(report.code_entries[0].name.len() > 100);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.tgz"), &built.bytes).unwrap();
    let tar = |args: &[&str]| {
        let ok = std::process::Command::new("tar").args(args).current_dir(dir.path()).status().unwrap().success();
        assert!(ok, "tar {args:?}");
    };
    tar(&["-xzf", "p.tgz"]);
    tar(&["-xzf", "code.tar.gz"]);
    assert!(dir.path().join("META-INF").join(&path).is_file());

    let too_long = format!("statedb/couchdb/collections/{}/indexes/x.json", "c".repeat(200));
    let spec = PackageSpec::ccaas("cc", ConnectionSpec::new("cc:7052"))
        .with_meta_inf(vec![MetaInfFile::new(too_long, br#"{"index":{}}"#.to_vec())]);
    assert!(build_package(&spec).is_err());
}
