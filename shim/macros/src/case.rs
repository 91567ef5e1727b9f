//! serde's `rename_all` rules, for transaction names, object fields and enum variants.

use syn::LitStr;

/// A `rename_all` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Lower,
    Upper,
    Pascal,
    /// PascalCase keeping Go's initialisms: `client_account_id` is `ClientAccountID`.
    GoPascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

const RULES: &[(&str, Rule)] = &[
    ("lowercase", Rule::Lower),
    ("UPPERCASE", Rule::Upper),
    ("PascalCase", Rule::Pascal),
    ("GoPascalCase", Rule::GoPascal),
    ("camelCase", Rule::Camel),
    ("snake_case", Rule::Snake),
    ("SCREAMING_SNAKE_CASE", Rule::ScreamingSnake),
    ("kebab-case", Rule::Kebab),
    ("SCREAMING-KEBAB-CASE", Rule::ScreamingKebab),
];

impl Rule {
    pub(crate) fn parse(lit: &LitStr) -> syn::Result<Rule> {
        let value = lit.value();
        RULES.iter().find(|(name, _)| *name == value).map(|(_, rule)| *rule).ok_or_else(|| {
            let names: Vec<String> = RULES.iter().map(|(name, _)| format!("\"{name}\"")).collect();
            syn::Error::new(lit.span(), format!("unknown rename rule `{value}`; expected one of {}", names.join(", ")))
        })
    }

    /// Renames a snake_case name (a field or a method).
    pub(crate) fn apply_to_field(self, field: &str) -> String {
        match self {
            Rule::Lower | Rule::Snake => field.to_string(),
            Rule::Upper | Rule::ScreamingSnake => field.to_ascii_uppercase(),
            Rule::Pascal => pascal(field),
            Rule::GoPascal => go_pascal(field),
            Rule::Camel => {
                let pascal = pascal(field);
                let mut chars = pascal.chars();
                chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
            }
            Rule::Kebab => field.replace('_', "-"),
            Rule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// Renames a PascalCase name (an enum variant).
    pub(crate) fn apply_to_variant(self, variant: &str) -> String {
        match self {
            Rule::Pascal => variant.to_string(),
            Rule::GoPascal => go_pascal(&snake(variant)),
            Rule::Lower => variant.to_ascii_lowercase(),
            Rule::Upper => variant.to_ascii_uppercase(),
            Rule::Camel => {
                let mut chars = variant.chars();
                chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
            }
            Rule::Snake => snake(variant),
            Rule::ScreamingSnake => snake(variant).to_ascii_uppercase(),
            Rule::Kebab => snake(variant).replace('_', "-"),
            Rule::ScreamingKebab => snake(variant).to_ascii_uppercase().replace('_', "-"),
        }
    }
}

fn pascal(field: &str) -> String {
    let mut out = String::new();
    let mut capitalize = true;
    for c in field.chars() {
        if c == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(c.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// golint's `commonInitialisms`: words Go spells in capitals in exported names (`ID`, `URL`).
const GO_INITIALISMS: &[&str] = &[
    "ACL", "API", "ASCII", "CPU", "CSS", "DNS", "EOF", "GUID", "HTML", "HTTP", "HTTPS", "ID", "IP", "JSON", "LHS",
    "QPS", "RAM", "RHS", "RPC", "SLA", "SMTP", "SQL", "SSH", "TCP", "TLS", "TTL", "UDP", "UI", "UID", "UUID", "URI",
    "URL", "UTF8", "VM", "XML", "XMPP", "XSRF", "XSS",
];

/// PascalCase with Go's initialisms in capitals, as golint would have a Go name written:
/// `client_account_id` → `ClientAccountID`, `get_url` → `GetURL`, and a plural initialism
/// keeps its lowercase `s`: `get_asset_ids` → `GetAssetIDs`.
fn go_pascal(field: &str) -> String {
    let is_initialism = |word: &str| GO_INITIALISMS.contains(&word.to_ascii_uppercase().as_str());
    let mut out = String::new();
    for word in field.split('_').filter(|w| !w.is_empty()) {
        if is_initialism(word) {
            out.push_str(&word.to_ascii_uppercase());
        } else if let Some(stem) = word.strip_suffix('s').filter(|stem| stem.len() >= 2 && is_initialism(stem)) {
            out.push_str(&stem.to_ascii_uppercase());
            out.push('s');
        } else {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

fn snake(variant: &str) -> String {
    let mut out = String::new();
    for (i, c) in variant.char_indices() {
        if i > 0 && c.is_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// An identifier's name without `r#`.
pub(crate) fn unraw(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_string).unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::Rule;

    #[test]
    fn fields_and_methods() {
        assert_eq!(Rule::Pascal.apply_to_field("create_asset"), "CreateAsset");
        assert_eq!(Rule::Camel.apply_to_field("get_all_assets"), "getAllAssets");
        assert_eq!(Rule::ScreamingKebab.apply_to_field("a_b"), "A-B");
        assert_eq!(Rule::Snake.apply_to_field("read_asset"), "read_asset");
    }

    #[test]
    fn go_initialisms() {
        assert_eq!(Rule::GoPascal.apply_to_field("client_account_id"), "ClientAccountID");
        assert_eq!(Rule::GoPascal.apply_to_field("get_url"), "GetURL");
        assert_eq!(Rule::GoPascal.apply_to_field("read_json_api"), "ReadJSONAPI");
        assert_eq!(Rule::GoPascal.apply_to_field("get_asset_ids"), "GetAssetIDs");
        assert_eq!(Rule::GoPascal.apply_to_field("utf8_http_ttl"), "UTF8HTTPTTL");
        assert_eq!(Rule::GoPascal.apply_to_field("mint"), "Mint");
        assert_eq!(Rule::GoPascal.apply_to_field("balance_of"), "BalanceOf");
        // Words that only contain an initialism are words.
        assert_eq!(Rule::GoPascal.apply_to_field("identify_idle_ids2"), "IdentifyIdleIds2");
        assert_eq!(Rule::GoPascal.apply_to_field("is_valid"), "IsValid");
        assert_eq!(Rule::GoPascal.apply_to_variant("UserId"), "UserID");
    }

    #[test]
    fn variants() {
        assert_eq!(Rule::Snake.apply_to_variant("DarkBlue"), "dark_blue");
        assert_eq!(Rule::Camel.apply_to_variant("DarkBlue"), "darkBlue");
        assert_eq!(Rule::ScreamingSnake.apply_to_variant("DarkBlue"), "DARK_BLUE");
    }
}
