//! serde's `rename_all` rules, for transaction names, object fields and enum variants.

use syn::LitStr;

/// A `rename_all` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Lower,
    Upper,
    Pascal,
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
    fn variants() {
        assert_eq!(Rule::Snake.apply_to_variant("DarkBlue"), "dark_blue");
        assert_eq!(Rule::Camel.apply_to_variant("DarkBlue"), "darkBlue");
        assert_eq!(Rule::ScreamingSnake.apply_to_variant("DarkBlue"), "DARK_BLUE");
    }
}
