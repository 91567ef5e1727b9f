//! Field numbers are the contract with real peers: check the encoded bytes of the messages the
//! shim protocol depends on, independently of prost's own round trip.

use ccaas_protos::protos::{
    chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeMessage, PutStateMetadata, StateMetadata,
};
use prost::Message;

#[test]
fn chaincode_message_uses_fabric_field_numbers() {
    let msg = ChaincodeMessage {
        r#type: Type::GetState as i32,
        payload: bytes::Bytes::from_static(b"p"),
        txid: "t".into(),
        channel_id: "c".into(),
        ..Default::default()
    };
    // type=1 (varint 8), payload=3, txid=4, channel_id=7.
    assert_eq!(msg.encode_to_vec(), vec![0x08, 8, 0x1a, 1, b'p', 0x22, 1, b't', 0x3a, 1, b'c']);
}

#[test]
fn enum_values_match_fabric() {
    assert_eq!(Type::Response as i32, 13);
    assert_eq!(Type::Keepalive as i32, 18);
    assert_eq!(Type::PurgePrivateData as i32, 23);
    assert_eq!(Type::WriteBatchState as i32, 24);
    assert_eq!(Type::GetStateMultiple as i32, 25);
}

#[test]
fn put_state_metadata_skips_field_two() {
    let msg = PutStateMetadata {
        key: "k".into(),
        collection: "c".into(),
        metadata: Some(StateMetadata { metakey: "m".into(), value: bytes::Bytes::new() }),
    };
    assert_eq!(msg.encode_to_vec(), vec![0x0a, 1, b'k', 0x1a, 1, b'c', 0x22, 3, 0x0a, 1, b'm']);
}

#[test]
fn additional_params_field_numbers() {
    let params = ChaincodeAdditionalParams {
        use_write_batch: true,
        max_size_write_batch: 1000,
        use_get_multiple_keys: true,
        max_size_get_multiple_keys: 1000,
    };
    assert_eq!(params.encode_to_vec(), vec![0x08, 1, 0x10, 0xe8, 0x07, 0x18, 1, 0x20, 0xe8, 0x07]);
}

#[test]
fn timestamp_from_system_time_counts_from_the_epoch() {
    use ccaas_protos::google::protobuf::Timestamp;
    use std::time::{Duration, UNIX_EPOCH};

    let at = |seconds, nanos| Timestamp { seconds, nanos };
    assert_eq!(Timestamp::from(UNIX_EPOCH), at(0, 0));
    assert_eq!(Timestamp::from(UNIX_EPOCH + Duration::new(1_700_000_000, 5)), at(1_700_000_000, 5));
    // Before the epoch: negative seconds, nanoseconds still counted forward.
    assert_eq!(Timestamp::from(UNIX_EPOCH - Duration::new(1, 500_000_000)), at(-2, 500_000_000));
    assert_eq!(Timestamp::from(UNIX_EPOCH - Duration::new(2, 0)), at(-2, 0));
    // Field numbers: seconds=1 (varint), nanos=2 (varint).
    assert_eq!(at(1, 2).encode_to_vec(), vec![0x08, 1, 0x10, 2]);
}

#[test]
fn timestamp_displays_as_rfc_3339_like_go() {
    use ccaas_protos::google::protobuf::Timestamp;

    let shown = |seconds, nanos| Timestamp { seconds, nanos }.to_string();
    assert_eq!(shown(0, 0), "1970-01-01T00:00:00Z");
    assert_eq!(shown(1_700_000_000, 5), "2023-11-14T22:13:20.000000005Z");
    assert_eq!(shown(1_700_000_000, 120_000_000), "2023-11-14T22:13:20.12Z");
    // 2000 is a leap year (divisible by 400); 2100 is not.
    assert_eq!(shown(951_782_400, 0), "2000-02-29T00:00:00Z");
    assert_eq!(shown(4_107_542_400, 0), "2100-03-01T00:00:00Z");
    assert_eq!(shown(253_402_300_799, 999_999_999), "9999-12-31T23:59:59.999999999Z");
    // Before the epoch, and nanoseconds out of range carried into the seconds.
    assert_eq!(shown(-1, 500_000_000), "1969-12-31T23:59:59.5Z");
    assert_eq!(shown(0, -1), "1969-12-31T23:59:59.999999999Z");
    assert_eq!(shown(59, 1_000_000_000), "1970-01-01T00:01:00Z");
    assert_eq!(shown(-62_135_596_800, 0), "0001-01-01T00:00:00Z");
}
