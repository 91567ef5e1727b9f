//! The checks the ccaas builder and the peer apply to `connection.json`, done up front.

use super::{address, parse_go_duration, validate_address, ConnectionJson};
use crate::error::{Error, Result};
use crate::template;
use crate::tls::check;

/// Validates `dial_timeout`: non-empty, a valid template, and (when not templated) a
/// non-negative Go duration. A zero duration is accepted with a warning.
pub fn validate_dial_timeout(value: &str, warnings: &mut Vec<String>) -> Result<()> {
    let fail = |reason: String| Error::DialTimeout { value: value.to_string(), reason };
    if value.is_empty() {
        return Err(fail(
            "it is empty; the ccaas builder writes \"\" and the peer then fails with \
             time: invalid duration \"\""
                .into(),
        ));
    }
    let parsed = template::parse(value).map_err(|e| template_error("dial_timeout", &e))?;
    if parsed.has_actions() {
        return Ok(());
    }
    let nanos = parse_go_duration(value).map_err(fail)?;
    if nanos < 0 {
        return Err(fail("a dial timeout must not be negative".into()));
    }
    if nanos == 0 {
        warnings.push("dial_timeout is zero: the peer uses its default of 3s".into());
    }
    Ok(())
}

fn template_error(field: &str, e: &template::TemplateError) -> Error {
    Error::Template { field: field.to_string(), message: e.to_string() }
}

/// Applies every rule the ccaas builder and the peer apply to a `connection.json`, and
/// returns warnings for things that are legal but probably unintended.
///
/// * the builder parses `address`, `dial_timeout` and (with TLS) the three PEM fields as Go
///   templates;
/// * the peer requires `address`; with TLS, `client_key` and `client_cert` when
///   `client_auth_required` (`chaincode tls key not provided`, `chaincode tls cert not
///   provided`), and `root_cert` (`chaincode tls root cert not provided`);
/// * non-templated PEM values must parse; the client key must belong to the client
///   certificate (EC P-256/P-384, RSA, Ed25519; PKCS#8, SEC1 or PKCS#1);
/// * with `server_cert`, the server certificate must chain to `root_cert` and its SANs
///   must cover the address host (and `domain` under client auth).
///
/// Templated values can only be checked for syntax: their output depends on each peer's
/// `CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG`.
pub fn validate_connection(conn: &ConnectionJson, server_cert: Option<&str>) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    validate_address(&conn.address)?;
    validate_dial_timeout(&conn.dial_timeout, &mut warnings)?;
    let pem_fields = [
        ("root_cert", conn.root_cert.as_str()),
        ("client_key", conn.client_key.as_str()),
        ("client_cert", conn.client_cert.as_str()),
    ];
    if conn.tls_required {
        for (field, value) in pem_fields {
            template::parse(value).map_err(|e| template_error(field, &e))?;
        }
        check_tls(conn, &mut warnings)?;
    } else {
        if conn.client_auth_required {
            warnings.push("client_auth_required is ignored because tls_required is false".into());
        }
        if pem_fields.iter().any(|(_, v)| !v.is_empty()) {
            warnings.push(
                "root_cert/client_key/client_cert are ignored (and dropped by the ccaas \
                 builder) because tls_required is false"
                    .into(),
            );
        }
    }
    if let Some(server) = server_cert {
        check_server(conn, server, &mut warnings)?;
    }
    if let Some(domain) = &conn.domain {
        check_domain(conn, domain, &mut warnings)?;
    }
    Ok(warnings)
}

fn check_tls(conn: &ConnectionJson, warnings: &mut Vec<String>) -> Result<()> {
    if conn.client_auth_required && conn.client_key.is_empty() {
        return Err(Error::Tls(
            "chaincode tls key not provided: client_auth_required is true but client_key is \
             empty (--client-key)"
                .into(),
        ));
    }
    if conn.client_auth_required && conn.client_cert.is_empty() {
        return Err(Error::Tls(
            "chaincode tls cert not provided: client_auth_required is true but client_cert is \
             empty (--client-cert)"
                .into(),
        ));
    }
    if conn.root_cert.is_empty() {
        return Err(Error::Tls(
            "chaincode tls root cert not provided: tls_required is true but root_cert is \
             empty (--tls-root-cert: the CA that signed the chaincode server's certificate)"
                .into(),
        ));
    }
    if template::is_templated(&conn.root_cert) {
        warnings.push("root_cert is templated: it is only checked on the peer".into());
    } else {
        check::root_bundle(&conn.root_cert, warnings)?;
    }
    if conn.client_auth_required {
        if template::is_templated(&conn.client_cert) || template::is_templated(&conn.client_key) {
            warnings.push("client_cert/client_key are templated: they are only checked on the peer".into());
        } else {
            check::client_pair(&conn.client_cert, &conn.client_key, warnings)?;
        }
    } else if !conn.client_cert.is_empty() || !conn.client_key.is_empty() {
        warnings.push(
            "client_cert/client_key are set but client_auth_required is false: the peer \
             does not present them"
                .into(),
        );
    }
    Ok(())
}

fn check_server(conn: &ConnectionJson, server: &str, warnings: &mut Vec<String>) -> Result<()> {
    if !conn.tls_required {
        return Err(Error::Spec("a server certificate can only be checked when TLS is on (--tls-root-cert)".into()));
    }
    let root = if template::is_templated(&conn.root_cert) {
        warnings.push("root_cert is templated: the server certificate chain is not checked".into());
        None
    } else {
        Some(conn.root_cert.as_str())
    };
    let mut names = Vec::new();
    match address::literal_host(&conn.address) {
        Some(host) => names.push(host),
        None => warnings.push("address is templated: the server certificate SANs are not checked against it".into()),
    }
    if conn.client_auth_required {
        names.extend(conn.domain.iter().cloned());
    }
    check::server_cert(server, root, &names)
}

fn check_domain(conn: &ConnectionJson, domain: &str, warnings: &mut Vec<String>) -> Result<()> {
    address::check_hostname(domain).map_err(|reason| Error::Spec(format!("invalid domain '{domain}': {reason}")))?;
    let mut w = format!(
        "domain '{domain}': the stock ccaas builder drops this field (its connection struct \
         has no domain), and the peer only honours it, as the TLS server name, when \
         client_auth_required is true"
    );
    if !conn.client_auth_required {
        w.push_str(" (it is false here, so domain has no effect)");
    }
    warnings.push(w);
    Ok(())
}
