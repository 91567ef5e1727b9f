#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/ (run from anywhere; it is deterministic).

The seeds are small valid inputs of each target, from which the fuzzer mutates: protobuf
messages encoded by hand (field numbers from Fabric's protos), the deploy tests' fixture
certificate and network config, and a package built by ccaas-package (given as argv[1])."""
import os, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value

def message(kind, txid=b"", payload=b"", channel=b""):
    out = field(1, kind)
    if payload:
        out += field(3, payload)
    if txid:
        out += field(4, txid)
    if channel:
        out += field(7, channel)
    return out

def chaincode_input(*args):
    return b"".join(field(1, a) for a in args)

def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# chaincode_message
write("chaincode_message", "register", message(1, payload=field(1, b"basic_1.0:abc")))
write("chaincode_message", "transaction", message(6, b"tx1", chaincode_input(b"ReadAsset", b"asset1"), b"mychannel"))
write("chaincode_message", "get_state", message(9, b"tx1", field(1, b"asset1"), b"mychannel"))
write("chaincode_message", "ready_batching", message(4, payload=field(1, 1) + field(2, 1000) + field(3, 1) + field(4, 1000)))

# handler_sequence: see fuzz/src/handler.rs for the format
def step(kind, txid, payload):
    return bytes([kind, txid, len(payload)]) + payload
write("handler_sequence", "handshake_then_read", b"\x00\x00" + step(6, 0, b"g") + step(13, 0, b"value"))
write("handler_sequence", "range_and_reply_twice", b"\x00\x00" + step(6, 1, b"r\x00p") + step(13, 1, b"") + step(13, 1, b""))
write("handler_sequence", "batching_ready", b"\x00\x08" + field(1, 1) + field(2, 100) + step(6, 2, b"p\x00m\x00f") + step(13, 2, b""))
write("handler_sequence", "before_handshake", b"\x01" + step(6, 0, b"g") + step(2, 0, b""))

# composite_key
write("composite_key", "composite", b"\x00asset\x00owner\x00a1\x00")
write("composite_key", "simple", b"asset1")
write("composite_key", "empty_attribute", b"\x00t\x00\x00")

# contract_arguments
for name, text in [("int", b"42"), ("float", b"-1.5e3"), ("bool", b"True"), ("empty", b""),
                   ("asset", b'{"ID":"a1","size":5,"owner":null,"tags":["x"]}'), ("list", b"[1,2,3]"),
                   ("tuple", b'[7,"x"]'), ("variant", b"Red"), ("variant_json", b'{"Rgb":[1,2,3]}'),
                   ("map", b'{"a":1.5}')]:
    write("contract_arguments", name, text)

# identity
fixtures = os.path.join(root, "deploy", "tests", "fixtures")
cert = open(os.path.join(fixtures, "user1-cert.pem"), "rb").read()
write("identity", "creator", field(1, b"Org1MSP") + field(2, cert))
pem_body = b"".join(l for l in cert.splitlines() if not l.startswith(b"-----"))
import base64
write("identity", "certificate_der", base64.b64decode(pem_body))
# The same certificate with text before it, RFC 1421 headers and CRLF line ends (Go's pem.Decode
# reads them all), and an idemix identity (SerializedIdemixIdentity: ou 3, role 4).
crlf = b"\r\n".join(cert.splitlines())
crlf = crlf.replace(b"-----\r\n", b"-----\r\nProc-Type: 4,TEST\r\n\r\n", 1)
write("identity", "creator_pem_headers", field(1, b"Org1MSP") + field(2, b"Bag Attributes\r\n" + crlf))
write("identity", "creator_idemix", field(1, b"idemixMSP") + field(2, field(3, field(1, b"org1.department1")) + field(4, field(1, b"idemixMSP") + field(2, 2))))

# package_inspect
if len(sys.argv) > 1:
    package = open(sys.argv[1], "rb").read()
    write("package_inspect", "ccaas_package", package)
    write("package_inspect", "truncated", package[: len(package) // 2])
write("package_inspect", "empty", b"")

# connection_template
for name, text in [("plain", b"cc:7052"), ("peername", b"{{.peername}}_cc:7052"), ("ipv6", b"[::1]:7052"),
                   ("if", b"{{if .x}}a{{else}}b{{end}}:1"), ("pipeline", b'{{printf "%s" .peername | html}}:9')]:
    write("connection_template", name, text)

# network_config
write("network_config", "hlf_operator", open(os.path.join(fixtures, "network-org1.yaml"), "rb").read())
write("network_config", "minimal", b"organizations: {}\npeers: {}\n")
