//! Signature policies as Fabric writes them for collections (`--collections-config`'s
//! `policy`, e.g. `OR('Org1MSP.member', 'Org2MSP.admin')`), and their evaluation against the
//! proposal's creator, as the peer's `cauthdsl` evaluates a collection's member orgs policy.
//!
//! Grammar (`common/policydsl/policyparser.go`): `AND(p, ...)`, `OR(p, ...)`, `OutOf(n, p, ...)`
//! and principals `'<MSP id>.<role>'` with role `member`, `admin`, `client`, `peer` or `orderer`.
//! A principal is satisfied by an identity of that MSP: any identity for `member`, one whose
//! certificate carries the node OU of that name for the others (Fabric's NodeOUs). As in
//! `cauthdsl`, one identity satisfies at most one principal of a rule, so with a single creator
//! `AND('Org1MSP.member', 'Org1MSP.member')` is never satisfied. Signatures are not verified.

use serde::Serialize;

/// The roles a principal can name.
const ROLES: [&str; 5] = ["member", "admin", "client", "peer", "orderer"];

/// A parsed signature policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SignaturePolicy {
    /// Signed by an identity of `msp_id` in `role`.
    SignedBy {
        /// The MSP id.
        msp_id: String,
        /// `member`, `admin`, `client`, `peer` or `orderer`.
        role: String,
    },
    /// At least `n` of the rules.
    OutOf {
        /// How many rules must be satisfied.
        n: usize,
        /// The rules.
        rules: Vec<SignaturePolicy>,
    },
}

/// Who signed: an identity's MSP id and the node OUs of its certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signer {
    /// The MSP id.
    pub msp_id: String,
    /// The certificate's node OUs among `admin`, `client`, `peer` and `orderer`.
    pub node_ous: Vec<String>,
}

impl Signer {
    /// The signer a serialized identity (`msp.SerializedIdentity`) stands for. An identity
    /// whose certificate cannot be read has no node OUs (it can still be a `member`).
    pub fn of_creator(creator: &[u8]) -> Signer {
        use ccaas_protos::msp::SerializedIdentity;
        use prost::Message;
        let msp_id = SerializedIdentity::decode(creator).map(|s| s.mspid).unwrap_or_default();
        let node_ous = match ccaas_shim::identity::ClientIdentity::from_creator(creator) {
            Ok(identity) => ["admin", "client", "peer", "orderer"]
                .into_iter()
                .filter(|ou| identity.has_ou_value(ou).unwrap_or(false))
                .map(str::to_string)
                .collect(),
            Err(_) => Vec::new(),
        };
        Signer { msp_id, node_ous }
    }
}

impl SignaturePolicy {
    /// Parses Fabric's policy syntax.
    ///
    /// ```
    /// use ccaas_testkit::model::SignaturePolicy;
    /// let policy = SignaturePolicy::parse("OR('Org1MSP.member', AND('Org2MSP.admin', 'Org3MSP.peer'))").unwrap();
    /// assert_eq!(policy.msp_ids(), ["Org1MSP", "Org2MSP", "Org3MSP"]);
    /// assert!(SignaturePolicy::parse("OR('Org1MSP.owner')").unwrap_err().contains("role"));
    /// ```
    pub fn parse(text: &str) -> Result<SignaturePolicy, String> {
        let mut parser = Parser { text, at: 0 };
        let policy = parser.policy()?;
        parser.skip_spaces();
        if parser.at != text.len() {
            return Err(parser.error("unexpected text after the policy"));
        }
        Ok(policy)
    }

    /// `OR('<msp>.member', ...)`: any member of one of these orgs.
    pub fn any_member_of<S: AsRef<str>>(msp_ids: &[S]) -> SignaturePolicy {
        let rules = msp_ids
            .iter()
            .map(|m| SignaturePolicy::SignedBy { msp_id: m.as_ref().to_string(), role: "member".to_string() })
            .collect();
        SignaturePolicy::OutOf { n: 1, rules }
    }

    /// The MSP ids its principals name, sorted and without repeats (a collection's member orgs).
    pub fn msp_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        self.collect_msp_ids(&mut ids);
        ids.sort();
        ids.dedup();
        ids
    }

    fn collect_msp_ids(&self, ids: &mut Vec<String>) {
        match self {
            SignaturePolicy::SignedBy { msp_id, .. } => ids.push(msp_id.clone()),
            SignaturePolicy::OutOf { rules, .. } => rules.iter().for_each(|r| r.collect_msp_ids(ids)),
        }
    }

    /// Whether `signers` satisfy the policy (`cauthdsl`'s evaluation).
    pub fn is_satisfied_by(&self, signers: &[Signer]) -> bool {
        let mut used = vec![false; signers.len()];
        self.evaluate(signers, &mut used)
    }

    fn evaluate(&self, signers: &[Signer], used: &mut [bool]) -> bool {
        match self {
            SignaturePolicy::SignedBy { msp_id, role } => {
                let found = signers.iter().enumerate().find(|(i, signer)| {
                    !used[*i] && signer.msp_id == *msp_id && (role == "member" || signer.node_ous.contains(role))
                });
                match found {
                    Some((i, _)) => {
                        used[i] = true;
                        true
                    }
                    None => false,
                }
            }
            SignaturePolicy::OutOf { n, rules } => {
                let mut verified = 0;
                let mut attempt = used.to_vec();
                for rule in rules {
                    attempt.copy_from_slice(used);
                    if rule.evaluate(signers, &mut attempt) {
                        verified += 1;
                        used.copy_from_slice(&attempt);
                    }
                }
                verified >= *n
            }
        }
    }
}

impl std::fmt::Display for SignaturePolicy {
    /// Fabric's syntax: `OutOf(n, ...)`, or `OR(...)`/`AND(...)` where `n` is 1 or all.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignaturePolicy::SignedBy { msp_id, role } => write!(f, "'{msp_id}.{role}'"),
            SignaturePolicy::OutOf { n, rules } => {
                let list: Vec<String> = rules.iter().map(ToString::to_string).collect();
                match *n {
                    1 => write!(f, "OR({})", list.join(", ")),
                    n if n == rules.len() => write!(f, "AND({})", list.join(", ")),
                    n => write!(f, "OutOf({n}, {})", list.join(", ")),
                }
            }
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn error(&self, what: &str) -> String {
        format!("invalid policy {:?}: {what} at offset {}", self.text, self.at)
    }

    fn eat(&mut self, token: char) -> Result<(), String> {
        self.skip_spaces();
        if self.rest().starts_with(token) {
            self.at += token.len_utf8();
            Ok(())
        } else {
            Err(self.error(&format!("expected `{token}`")))
        }
    }

    fn policy(&mut self) -> Result<SignaturePolicy, String> {
        self.skip_spaces();
        if let Some(quote) = self.rest().chars().next().filter(|c| *c == '\'' || *c == '"') {
            return self.principal(quote);
        }
        let name_len = self.rest().find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(self.rest().len());
        let name = self.rest()[..name_len].to_ascii_lowercase();
        if !matches!(name.as_str(), "and" | "or" | "outof") {
            return Err(self.error("expected AND(...), OR(...), OutOf(n, ...) or a quoted 'MSP.role' principal"));
        }
        self.at += name_len;
        self.eat('(')?;
        let n = if name == "outof" {
            self.skip_spaces();
            let digits = self.rest().find(|c: char| !c.is_ascii_digit()).unwrap_or(self.rest().len());
            let n = self.rest()[..digits].parse().map_err(|_| self.error("OutOf needs a count first"))?;
            self.at += digits;
            self.eat(',')?;
            Some(n)
        } else {
            None
        };
        let mut rules = vec![self.policy()?];
        loop {
            self.skip_spaces();
            if self.rest().starts_with(',') {
                self.at += 1;
                rules.push(self.policy()?);
            } else {
                self.eat(')')?;
                break;
            }
        }
        let n = match (name.as_str(), n) {
            ("and", _) => rules.len(),
            ("or", _) => 1,
            (_, Some(n)) => n,
            _ => unreachable!("outof always has a count"),
        };
        Ok(SignaturePolicy::OutOf { n, rules })
    }

    fn principal(&mut self, quote: char) -> Result<SignaturePolicy, String> {
        self.at += 1;
        let Some(len) = self.rest().find(quote) else { return Err(self.error("unterminated principal")) };
        let principal = &self.rest()[..len];
        let parsed = principal.rsplit_once('.').filter(|(msp_id, role)| {
            !msp_id.is_empty()
                && msp_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && ROLES.contains(role)
        });
        let Some((msp_id, role)) = parsed else {
            return Err(self.error(&format!(
                "principal '{principal}' is not '<MSP id>.<role>' with role member, admin, client, peer or orderer"
            )));
        };
        let policy = SignaturePolicy::SignedBy { msp_id: msp_id.to_string(), role: role.to_string() };
        self.at += len + 1;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(msp_id: &str, ous: &[&str]) -> Signer {
        Signer { msp_id: msp_id.into(), node_ous: ous.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn parses_fabric_syntax_and_prints_it_back() {
        for text in [
            "OR('Org1MSP.member', 'Org2MSP.member')",
            "AND('Org1MSP.admin', 'Org2MSP.peer')",
            "OutOf(2, 'A.member', 'B.member', 'C.client')",
            "OR('Org1MSP.member', AND('Org2MSP.admin', 'Org3MSP.orderer'))",
        ] {
            assert_eq!(SignaturePolicy::parse(text).unwrap().to_string(), text);
        }
        let lower = SignaturePolicy::parse(r#" or ( "Org1MSP.member" ,'Org2.MSP-x.peer' ) "#).unwrap();
        assert_eq!(lower.to_string(), "OR('Org1MSP.member', 'Org2.MSP-x.peer')");
    }

    #[test]
    fn refuses_what_fabric_refuses() {
        for bad in [
            "",
            "OR()",
            "OR('Org1MSP.owner')",
            "OR('Org1MSP')",
            "XOR('A.member')",
            "OR('A.member'",
            "OutOf(x, 'A.member')",
            "OR('A.member') extra",
        ] {
            assert!(SignaturePolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn evaluates_roles_and_counts_like_cauthdsl() {
        let policy = SignaturePolicy::parse("OR('Org1MSP.member', 'Org2MSP.admin')").unwrap();
        assert!(policy.is_satisfied_by(&[signer("Org1MSP", &["client"])]));
        assert!(policy.is_satisfied_by(&[signer("Org2MSP", &["admin"])]));
        assert!(!policy.is_satisfied_by(&[signer("Org2MSP", &["client"])]));
        assert!(!policy.is_satisfied_by(&[signer("Org3MSP", &["admin"])]));
        // One identity satisfies one principal only.
        let twice = SignaturePolicy::parse("AND('Org1MSP.member', 'Org1MSP.member')").unwrap();
        assert!(!twice.is_satisfied_by(&[signer("Org1MSP", &[])]));
        assert!(twice.is_satisfied_by(&[signer("Org1MSP", &[]), signer("Org1MSP", &[])]));
        let two_of = SignaturePolicy::parse("OutOf(2, 'A.member', 'B.member', 'C.member')").unwrap();
        assert!(two_of.is_satisfied_by(&[signer("A", &[]), signer("C", &[])]));
        assert!(!two_of.is_satisfied_by(&[signer("B", &[])]));
    }
}
