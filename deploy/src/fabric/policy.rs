//! Endorsement policies: Fabric's signature-policy language (`AND('Org1MSP.peer', ...)`, `OR`,
//! `OutOf(n, ...)`) compiled to a `SignaturePolicyEnvelope` the way the `peer` CLI does, and
//! channel-config policy references.

use ccaas_protos::common::msp_principal::Classification;
use ccaas_protos::common::msp_role::MspRoleType;
use ccaas_protos::common::signature_policy::{NOutOf, Type};
use ccaas_protos::common::{MspPrincipal, MspRole, SignaturePolicy, SignaturePolicyEnvelope};
use prost::Message;

/// Deepest nesting of `AND`/`OR`/`OutOf` accepted in a signature policy (real policies nest two
/// or three levels; the bound keeps the recursive parser's stack small).
pub const MAX_POLICY_NESTING: usize = 32;

/// Compiles a signature policy such as `OR('Org1MSP.peer', AND('Org2MSP.admin', 'Org3MSP.member'))`.
/// Principals are numbered in order of appearance, as Fabric's `policydsl.FromString` does.
/// Functions nested deeper than [`MAX_POLICY_NESTING`] are refused.
pub fn parse_signature_policy(text: &str) -> Result<SignaturePolicyEnvelope, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0, identities: Vec::new(), depth: 0 };
    let rule = p.expr()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected '{}' at position {} of the policy {text:?}", &text[p.i..], p.i));
    }
    Ok(SignaturePolicyEnvelope { version: 0, rule: Some(rule), identities: p.identities })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    identities: Vec<MspPrincipal>,
    /// Functions open at `i`.
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn expr(&mut self) -> Result<SignaturePolicy, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'\'') | Some(b'"') => self.principal(),
            Some(_) => {
                let at = self.i;
                if self.depth == MAX_POLICY_NESTING {
                    return Err(format!(
                        "the policy nests AND/OR/OutOf more than {MAX_POLICY_NESTING} levels deep (at position \
                         {at}), the limit: write it flatter (OutOf(n, ...) takes any number of principals)"
                    ));
                }
                let func = self.word();
                if !self.eat(b'(') {
                    return Err(format!("expected '(' after '{func}' at position {}", self.i));
                }
                let mut n = match func.to_ascii_lowercase().as_str() {
                    "and" => None,
                    "or" => Some(1),
                    "outof" => {
                        let w = self.word();
                        let n: i32 = w.parse().map_err(|_| format!("OutOf needs a number first, not '{w}'"))?;
                        if !self.eat(b',') {
                            return Err("expected ',' after OutOf's number".into());
                        }
                        Some(n)
                    }
                    _ => return Err(format!("unknown function '{func}' at position {at}: use AND, OR or OutOf")),
                };
                self.depth += 1;
                let mut rules = vec![self.expr()?];
                while self.eat(b',') {
                    rules.push(self.expr()?);
                }
                if !self.eat(b')') {
                    return Err(format!("expected ')' at position {}", self.i));
                }
                self.depth -= 1;
                let n = *n.get_or_insert(rules.len() as i32);
                Ok(SignaturePolicy { r#type: Some(Type::NOutOf(NOutOf { n, rules })) })
            }
            None => Err("the policy ends too early".into()),
        }
    }

    fn principal(&mut self) -> Result<SignaturePolicy, String> {
        let quote = self.s[self.i];
        self.i += 1;
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != quote {
            self.i += 1;
        }
        if self.i == self.s.len() {
            return Err("unterminated quote in the policy".into());
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        let (msp, role) = text
            .rsplit_once('.')
            .ok_or_else(|| format!("'{text}' is not 'MSPID.role' (role: member, admin, client, peer, orderer)"))?;
        let role = match role {
            "member" => MspRoleType::Member,
            "admin" => MspRoleType::Admin,
            "client" => MspRoleType::Client,
            "peer" => MspRoleType::Peer,
            "orderer" => MspRoleType::Orderer,
            other => {
                return Err(format!("unknown role '{other}' in '{text}': use member, admin, client, peer or orderer"))
            }
        };
        let principal = MspRole { msp_identifier: msp.into(), role: role as i32 }.encode_to_vec();
        self.identities
            .push(MspPrincipal { principal_classification: Classification::Role as i32, principal: principal.into() });
        Ok(SignaturePolicy { r#type: Some(Type::SignedBy(self.identities.len() as i32 - 1)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_of_two_peers() {
        let env = parse_signature_policy("OR('Org1MSP.peer', 'Org2MSP.peer')").unwrap();
        assert_eq!(env.identities.len(), 2);
        let Some(Type::NOutOf(n)) = env.rule.unwrap().r#type else { panic!("not NOutOf") };
        assert_eq!(n.n, 1);
        assert_eq!(n.rules.len(), 2);
        let role = MspRole::decode(env.identities[1].principal.as_ref()).unwrap();
        assert_eq!((role.msp_identifier.as_str(), role.role), ("Org2MSP", MspRoleType::Peer as i32));
    }

    #[test]
    fn nested_and_outof() {
        let env = parse_signature_policy("OutOf(2, 'A.member', AND('B.admin', \"C.client\"), 'D.orderer')").unwrap();
        assert_eq!(env.identities.len(), 4);
        let Some(Type::NOutOf(n)) = env.rule.unwrap().r#type else { panic!("not NOutOf") };
        assert_eq!((n.n, n.rules.len()), (2, 3));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse_signature_policy("XOR('A.peer')").unwrap_err().contains("unknown function 'XOR'"));
        assert!(parse_signature_policy("OR('A.boss')").unwrap_err().contains("unknown role 'boss'"));
        assert!(parse_signature_policy("OR('A.peer'").unwrap_err().contains("expected ')'"));
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |n: usize| format!("{}'A.peer'{}", "AND(".repeat(n), ")".repeat(n));
        assert!(parse_signature_policy(&nested(MAX_POLICY_NESTING)).is_ok());
        let e = parse_signature_policy(&nested(MAX_POLICY_NESTING + 1)).unwrap_err();
        assert!(e.contains("nests AND/OR/OutOf more than 32 levels deep (at position 128), the limit"), "{e}");
        // Deep enough to overflow the stack of a parser without the bound.
        let e = parse_signature_policy(&nested(1_000_000)).unwrap_err();
        assert!(e.contains("more than 32 levels"), "{e}");
    }
}
