//! Package label rules: the peer's, and fabric-builder-k8s's stricter RFC 1035 rule.

use crate::error::{Error, Result};

/// Validates a label the way the peer does (`LabelRegexp = ^[[:alnum:]][[:alnum:]_.+-]*$`,
/// ASCII only), with the peer's error text.
///
/// ```
/// use ccaas_package::label::validate_label;
/// assert!(validate_label("basic_1.0").is_ok());
/// let err = validate_label("-bad").unwrap_err();
/// assert!(err.to_string().starts_with("invalid label '-bad'. Label must be non-empty"));
/// ```
pub fn validate_label(label: &str) -> Result<()> {
    let mut chars = label.chars();
    let ok = match chars.next() {
        Some(first) if first.is_ascii_alphanumeric() => {
            chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Label(format!(
            "invalid label '{label}'. Label must be non-empty, can only consist of \
             alphanumerics, symbols from '.+-_', and can only begin with alphanumerics"
        )))
    }
}

/// Validates a label for a fabric-builder-k8s (`type: "k8s"`) package: it must pass the
/// peer's rule and also be an RFC 1035 DNS label (`[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63
/// characters), because the builder uses it in Kubernetes object names and labels.
///
/// ```
/// use ccaas_package::label::validate_k8s_label;
/// assert!(validate_k8s_label("go-contract").is_ok());
/// assert!(validate_k8s_label("Go_contract").is_err());
/// ```
pub fn validate_k8s_label(label: &str) -> Result<()> {
    validate_label(label)?;
    let bytes = label.as_bytes();
    let mut problems = Vec::new();
    if bytes.len() > 63 {
        problems.push("must be no more than 63 characters".to_string());
    }
    let charset_ok = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let first_ok = bytes.first().is_some_and(u8::is_ascii_lowercase);
    let last_ok = bytes.last().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(charset_ok && first_ok && last_ok) {
        problems.push(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
             start with an alphabetic character, and end with an alphanumeric character \
             (regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
                .to_string(),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Label(format!(
            "invalid label '{label}' for a k8s package: fabric-builder-k8s requires an RFC 1035 \
             DNS label: {}",
            problems.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_rule() {
        for ok in ["a", "A1", "basic_1.0", "x+y-z", "0abc", "cc_1.0+build.7"] {
            assert!(validate_label(ok).is_ok(), "{ok}");
        }
        for bad in ["", "_a", ".a", "a b", "a/b", "a:b", "é", "a\u{e9}"] {
            assert!(validate_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn k8s_rule() {
        for ok in ["a", "go-contract", "a1", "a-1-b"] {
            assert!(validate_k8s_label(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in ["1a", "a-", "A", "a_b", "a.b", long.as_str()] {
            assert!(validate_k8s_label(bad).is_err(), "{bad}");
        }
        assert!(validate_k8s_label(&"a".repeat(63)).is_ok());
    }
}
