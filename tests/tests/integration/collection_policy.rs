//! A collection's member orgs policy in Fabric's syntax: the peer evaluates it against the
//! proposal's creator (MSP id and node OU) for members-only reads and writes, and stores the
//! private values when its own org is named in it.

use crate::support;

use ccaas_testkit::model::CollectionConfig;
use ccaas_testkit::{Identity, PeerEmulator, TxOutcome};
use support::StubProbe;

async fn peer() -> PeerEmulator {
    let audit = CollectionConfig::with_policy("audit", "OR('Org1MSP.admin', 'Org2MSP.member')")
        .unwrap()
        .member_only_read(true)
        .member_only_write(true);
    PeerEmulator::builder().chaincode_name("basic").collection(audit).connect_chaincode(StubProbe).await.unwrap()
}

async fn put_as(peer: &PeerEmulator, creator: Identity) -> TxOutcome {
    peer.transaction("pput").args(["audit", "k", "v"]).creator(creator).submit().await.unwrap()
}

#[tokio::test]
async fn members_only_writes_follow_the_policy_roles() {
    let peer = peer().await;
    let refused =
        "tx creator does not have write access permission on privatedata in chaincodeName:basic collectionName: audit";
    // An Org1 client is not an Org1 admin; Org3 is not named at all.
    for outsider in [Identity::builder("Org1MSP", "alice").build(), Identity::builder("Org3MSP", "carol").build()] {
        let outcome = put_as(&peer, outsider).await;
        assert_eq!(outcome.status(), 500);
        assert!(outcome.response.message.ends_with(refused), "{}", outcome.response.message);
    }
    // An Org1 admin and any Org2 identity are members.
    for member in
        [Identity::builder("Org1MSP", "root").ou("admin").build(), Identity::builder("Org2MSP", "bob").build()]
    {
        assert!(put_as(&peer, member).await.is_committed());
    }
    // The peer (Org1MSP) is named in the policy, so it stores the value.
    assert_eq!(peer.ledger().private("basic", "audit", "k").unwrap(), "v");
}

#[tokio::test]
async fn members_only_reads_follow_the_policy_roles() {
    let peer = peer().await;
    let admin = Identity::builder("Org1MSP", "root").ou("admin").build();
    put_as(&peer, admin.clone()).await.assert_ok();
    let read = |creator: Identity| {
        let peer = peer.clone();
        async move { peer.transaction("pget").args(["audit", "k"]).creator(creator).evaluate().await.unwrap() }
    };
    assert_eq!(read(admin).await.status(), 200);
    let outcome = read(Identity::builder("Org1MSP", "alice").build()).await;
    assert!(outcome.response.message.contains("does not have read access permission"), "{outcome}");
}
