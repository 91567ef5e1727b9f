//! `address` rules: a `host:port` the peer can dial, possibly templated.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::template::{self, Segment};

/// Go's `net.SplitHostPort`, with its error texts. Brackets are removed from IPv6 hosts.
pub(crate) fn split_host_port(hostport: &str) -> std::result::Result<(&str, &str), String> {
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let Some(i) = hostport.rfind(':') else {
        return Err(MISSING_PORT.into());
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return Err("missing ']' in address".into());
        };
        if end + 1 == hostport.len() {
            return Err(MISSING_PORT.into());
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return Err(TOO_MANY_COLONS.into());
            }
            return Err(MISSING_PORT.into());
        }
        host = &hostport[1..end];
        (j, k) = (1, end + 1);
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return Err(TOO_MANY_COLONS.into());
        }
        (j, k) = (0, 0);
    }
    if hostport[j..].contains('[') {
        return Err("unexpected '[' in address".into());
    }
    if hostport[k..].contains(']') {
        return Err("unexpected ']' in address".into());
    }
    Ok((host, &hostport[i + 1..]))
}

fn check_port(port: &str) -> std::result::Result<(), String> {
    if port.is_empty() {
        return Err("missing port number after ':'".into());
    }
    match port.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) && port.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(format!("port '{port}' must be a number from 1 to 65535")),
    }
}

fn host_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A DNS name (underscores tolerated, as Docker and Kubernetes service names use them)
/// or an IPv4 literal.
pub(crate) fn check_hostname(host: &str) -> std::result::Result<(), String> {
    if host.is_empty() {
        return Err("host is empty".into());
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    if let Some(bad) = host.chars().find(|c| !host_char_ok(*c)) {
        return Err(format!("host '{host}' contains the invalid character {bad:?}"));
    }
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    if trimmed.len() > 253 {
        return Err(format!("host '{host}' is longer than 253 characters"));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(format!("host '{host}' has an empty DNS label"));
        }
        if label.len() > 63 {
            return Err(format!("host '{host}' has a DNS label longer than 63 characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("host '{host}' has a DNS label starting or ending with '-'"));
        }
    }
    Ok(())
}

fn check_literal(address: &str) -> std::result::Result<(), String> {
    if let Some(c) = address.chars().find(|c| c.is_whitespace()) {
        return Err(format!("contains whitespace {c:?}"));
    }
    let (host, port) = split_host_port(address)?;
    check_port(port)?;
    if address.starts_with('[') {
        let ip = host.split_once('%').map_or(host, |(ip, _zone)| ip);
        ip.parse::<Ipv6Addr>().map_err(|_| format!("'{host}' is not a valid IPv6 address"))?;
        return Ok(());
    }
    check_hostname(host)
}

/// The part of a templated address that can be checked without the builder config:
/// literal characters, and a literal port after the last literal `:`.
fn check_templated(segments: &[Segment]) -> std::result::Result<(), String> {
    // Actions become NUL markers; they can expand to anything.
    let shape: String = segments
        .iter()
        .map(|s| match s {
            Segment::Text(t) => t.clone(),
            Segment::Action => "\0".to_string(),
        })
        .collect();
    if let Some(bad) = shape.chars().find(|c| *c != '\0' && !host_char_ok(*c) && !matches!(c, ':' | '[' | ']' | '%')) {
        return Err(format!("contains the invalid character {bad:?}"));
    }
    if let Some(i) = shape.rfind(':') {
        let (host, port) = (&shape[..i], &shape[i + 1..]);
        if !port.contains('\0') {
            check_port(port)?;
        }
        if host.is_empty() {
            return Err("host is empty".into());
        }
    }
    Ok(())
}

/// Validates `address`: `host:port` with a non-empty host (DNS name, IPv4, or bracketed
/// IPv6 such as `[::1]:7052`) and a port from 1 to 65535. A templated address
/// (`{{.peername}}_cc:9999`) must be a valid Go template; its literal parts are checked.
///
/// ```
/// use ccaas_package::connection::validate_address;
/// assert!(validate_address("basic-ccaas.fabric.svc:7052").is_ok());
/// assert!(validate_address("[::1]:7052").is_ok());
/// assert!(validate_address("{{.peername}}_basic_ccaas:9999").is_ok());
/// assert!(validate_address("basic:0").is_err());
/// assert!(validate_address("basic").is_err());
/// ```
pub fn validate_address(address: &str) -> Result<()> {
    let fail = |reason: String| Error::Address { address: address.to_string(), reason };
    if address.is_empty() {
        return Err(fail("the address is empty (the peer: chaincode address not provided)".into()));
    }
    let parsed =
        template::parse(address).map_err(|e| Error::Template { field: "address".into(), message: e.to_string() })?;
    if parsed.has_actions() {
        check_templated(parsed.segments()).map_err(fail)
    } else {
        check_literal(address).map_err(fail)
    }
}

/// The host the peer will verify the server certificate against, if the address is not
/// templated.
pub(crate) fn literal_host(address: &str) -> Option<String> {
    if template::is_templated(address) {
        return None;
    }
    split_host_port(address).ok().map(|(h, _)| h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses() {
        for ok in [
            "peer0org1_basic_ccaas:9999",
            "basic.fabric.svc.cluster.local:7052",
            "10.0.0.1:7052",
            "[::1]:7052",
            "[fe80::1%eth0]:7052",
            "localhost:1",
            "h:65535",
        ] {
            assert!(validate_address(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "chaincode address not provided"),
            ("basic", "missing port in address"),
            ("basic:", "missing port number"),
            (":7052", "host is empty"),
            ("basic:0", "1 to 65535"),
            ("basic:65536", "1 to 65535"),
            ("basic:http", "1 to 65535"),
            ("::1:7052", "too many colons in address"),
            ("[::1]7052", "missing port in address"),
            ("[::1:7052", "missing ']' in address"),
            ("[zz]:7052", "not a valid IPv6 address"),
            ("bad host:7052", "whitespace"),
            ("a..b:7052", "empty DNS label"),
            ("a/b:7052", "invalid character"),
        ] {
            let err = validate_address(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn templated_addresses() {
        for ok in ["{{.peername}}_basic_ccaas:9999", "{{.address}}", "{{.host}}:{{.port}}", "cc-{{.peer}}.ns.svc:7052"]
        {
            assert!(validate_address(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("{{.peername}_basic:9999", "not a valid Go text/template"),
            ("{{.peername}}_basic:99999", "1 to 65535"),
            ("{{.peername}} x:7052", "invalid character"),
            (":{{.port}}", "host is empty"),
        ] {
            let err = validate_address(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
