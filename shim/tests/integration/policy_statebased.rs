//! Key-level endorsement policies: the same bytes as Go's `pkg/statebased`.

use ccaas_shim::policy::{KeyEndorsementPolicy, PolicyError, RoleType};
use ccaas_shim::protos::common::{
    msp_principal::Classification, msp_role::MspRoleType, signature_policy, MspPrincipal, MspRole, SignaturePolicy,
    SignaturePolicyEnvelope,
};
use ccaas_shim::protos::prost::Message;

/// What Go's `policyFromMSPIDs` builds, written out independently from the protos: sorted
/// principals `ROLE`/`MSPRole{msp, role}`, `NOutOf{n: len, rules: SignedBy(i)…}`, version 0.
fn expected_envelope(orgs: &[(&str, MspRoleType)]) -> SignaturePolicyEnvelope {
    let signed_by = |i: i32| SignaturePolicy { r#type: Some(signature_policy::Type::SignedBy(i)) };
    SignaturePolicyEnvelope {
        version: 0,
        rule: Some(SignaturePolicy {
            r#type: Some(signature_policy::Type::NOutOf(signature_policy::NOutOf {
                n: orgs.len() as i32,
                rules: (0..orgs.len() as i32).map(signed_by).collect(),
            })),
        }),
        identities: orgs
            .iter()
            .map(|(msp, role)| MspPrincipal {
                principal_classification: Classification::Role as i32,
                principal: MspRole { msp_identifier: (*msp).into(), role: *role as i32 }.encode_to_vec().into(),
            })
            .collect(),
    }
}

#[test]
fn two_orgs_give_gos_bytes() {
    let mut ep = KeyEndorsementPolicy::new();
    // Added out of order: the principals are sorted by MSP ID.
    ep.add_orgs(RoleType::Peer, &["Org2MSP", "Org1MSP"]).unwrap();
    let bytes = ep.policy().unwrap();

    let expected = expected_envelope(&[("Org1MSP", MspRoleType::Peer), ("Org2MSP", MspRoleType::Peer)]);
    assert_eq!(bytes, expected.encode_to_vec());
    assert_eq!(ep.to_envelope(), expected);

    // The same, by hand from the protobuf wire format (what Go's proto.Marshal writes):
    #[rustfmt::skip]
    let by_hand: Vec<u8> = [
        &[0x12, 0x0c][..],                   // rule (field 2), 12 bytes
        &[0x12, 0x0a],                       //   n_out_of (field 2), 10 bytes
        &[0x08, 0x02],                       //     n = 2
        &[0x12, 0x02, 0x08, 0x00],           //     rules[0] = signed_by 0 (a oneof: 0 is written)
        &[0x12, 0x02, 0x08, 0x01],           //     rules[1] = signed_by 1
        &[0x1a, 0x0d],                       // identities[0] (field 3), 13 bytes
        &[0x12, 0x0b],                       //   principal (classification ROLE = 0 omitted)
        &[0x0a, 0x07], b"Org1MSP", &[0x10, 0x03], // MSPRole { msp_identifier, role: PEER }
        &[0x1a, 0x0d],                       // identities[1]
        &[0x12, 0x0b],
        &[0x0a, 0x07], b"Org2MSP", &[0x10, 0x03],
    ]
    .concat();
    assert_eq!(bytes, by_hand);
}

#[test]
fn round_trip_lists_the_same_orgs() {
    let mut ep = KeyEndorsementPolicy::new();
    ep.add_orgs(RoleType::Member, &["OrgB", "OrgA"]).unwrap();
    ep.add_orgs("PEER", &["OrgC"]).unwrap();
    let bytes = ep.policy().unwrap();

    let parsed = KeyEndorsementPolicy::from_bytes(&bytes).unwrap();
    assert_eq!(parsed.list_orgs(), ["OrgA", "OrgB", "OrgC"]);
    assert_eq!(parsed, ep);
    assert_eq!(parsed.policy().unwrap(), bytes);
    assert_eq!(
        bytes,
        expected_envelope(&[("OrgA", MspRoleType::Member), ("OrgB", MspRoleType::Member), ("OrgC", MspRoleType::Peer)])
            .encode_to_vec()
    );
}

#[test]
fn unknown_roles_fail_with_gos_text_and_change_nothing() {
    let mut ep = KeyEndorsementPolicy::new();
    for role in ["unknown", "ADMIN", "CLIENT", "ORDERER", "peer", ""] {
        let err = ep.add_orgs(role, &["Org1MSP"]).unwrap_err();
        assert_eq!(err, PolicyError::RoleTypeDoesNotExist(role.into()));
        assert_eq!(err.to_string(), format!("role type {role} does not exist"));
    }
    assert!(ep.list_orgs().is_empty());
    assert_eq!("MEMBER".parse::<RoleType>(), Ok(RoleType::Member));
    assert_eq!(RoleType::try_from("PEER".to_string()), Ok(RoleType::Peer));
    assert_eq!(RoleType::Peer.msp_role_type(), MspRoleType::Peer);
    assert_eq!(RoleType::Member.msp_role_type(), MspRoleType::Member);
}

#[test]
fn deleting_orgs() {
    // Go's TestDelAddOrg: start from Org1 (peer), add Org2, delete Org1 → only Org2.
    let start = expected_envelope(&[("Org1", MspRoleType::Peer)]).encode_to_vec();
    let mut ep = KeyEndorsementPolicy::from_bytes(&start).unwrap();
    assert_eq!(ep.list_orgs(), ["Org1"]);
    ep.add_orgs(RoleType::Peer, &["Org2"]).unwrap();
    ep.del_orgs(&["Org1"]);
    assert_eq!(ep.policy().unwrap(), expected_envelope(&[("Org2", MspRoleType::Peer)]).encode_to_vec());

    // Deleting what is not there is fine; deleting everything leaves Go's empty policy.
    ep.del_orgs(&["Org9", "Org2"]);
    assert!(ep.list_orgs().is_empty());
    assert_eq!(ep.policy().unwrap(), expected_envelope(&[]).encode_to_vec());
    assert_eq!(ep.policy().unwrap(), [0x12, 0x02, 0x12, 0x00]);
}

#[test]
fn adding_an_org_again_changes_its_role() {
    let mut ep = KeyEndorsementPolicy::new();
    ep.add_orgs(RoleType::Member, &["Org1"]).unwrap();
    ep.add_orgs(RoleType::Peer, &["Org1"]).unwrap();
    assert_eq!(ep.list_orgs(), ["Org1"]);
    assert_eq!(ep.to_envelope(), expected_envelope(&[("Org1", MspRoleType::Peer)]));
}

#[test]
fn parsing_keeps_role_principals_only_and_ignores_the_rule() {
    // An OR policy with an ADMIN role, an OU principal and a duplicate: Go keeps every ROLE
    // principal with its role (the last one per MSP wins) and rebuilds an AND of them.
    let ou = MspPrincipal {
        principal_classification: Classification::OrganizationUnit as i32,
        principal: b"\x0a\x04Org3".to_vec().into(),
    };
    let role = |msp: &str, role: MspRoleType| MspPrincipal {
        principal_classification: Classification::Role as i32,
        principal: MspRole { msp_identifier: msp.into(), role: role as i32 }.encode_to_vec().into(),
    };
    let envelope = SignaturePolicyEnvelope {
        version: 7,
        rule: Some(SignaturePolicy {
            r#type: Some(signature_policy::Type::NOutOf(signature_policy::NOutOf { n: 1, rules: vec![] })),
        }),
        identities: vec![
            role("Org2", MspRoleType::Peer),
            ou,
            role("Org1", MspRoleType::Admin),
            role("Org2", MspRoleType::Member),
        ],
    };
    let ep = KeyEndorsementPolicy::from_bytes(&envelope.encode_to_vec()).unwrap();
    assert_eq!(ep.list_orgs(), ["Org1", "Org2"]);
    assert_eq!(ep.to_envelope(), expected_envelope(&[("Org1", MspRoleType::Admin), ("Org2", MspRoleType::Member)]));
}

#[test]
fn bad_bytes_fail_with_gos_texts() {
    assert!(KeyEndorsementPolicy::from_bytes(&[]).unwrap().list_orgs().is_empty());

    let err = KeyEndorsementPolicy::from_bytes(b"\xff\xff").unwrap_err();
    assert!(matches!(err, PolicyError::Decode(_)));
    assert!(err.to_string().starts_with("Error unmarshaling to SignaturePolicy: "), "{err}");

    let bad_principal = SignaturePolicyEnvelope {
        identities: vec![MspPrincipal {
            principal_classification: Classification::Role as i32,
            principal: b"\xff\xff".to_vec().into(),
        }],
        ..Default::default()
    };
    let err = KeyEndorsementPolicy::from_bytes(&bad_principal.encode_to_vec()).unwrap_err();
    assert!(matches!(err, PolicyError::Principal(_)));
    assert!(err.to_string().starts_with("error unmarshaling msp principal: "), "{err}");
}
