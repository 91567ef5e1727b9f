//! Transaction arguments, converted as fabric-contract-api-go converts string arguments.

use std::fmt;

/// An argument that could not be converted to its parameter's type.
///
/// Displays as fabric-contract-api-go's basic type conversion error,
/// `cannot convert passed value <value> to int`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError {
    /// The argument as it was passed.
    pub value: String,
    /// The Go type it should have converted to.
    pub type_name: &'static str,
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot convert passed value {} to {}", self.value, self.type_name)
    }
}

impl std::error::Error for ConversionError {}

/// Converts an argument for a Go `int` parameter (Rust's `isize`), as the Go contract API does.
///
/// That is `strconv.Atoi`: an optional `+` or `-` followed by decimal digits, within the 64-bit
/// range, with no spaces, underscores, base prefixes or fractions. An empty argument is `0`.
///
/// ```
/// use ccaas_testkit::testing::lowlevel::parse_int;
/// assert_eq!(parse_int("300"), Ok(300));
/// assert_eq!(parse_int(""), Ok(0));
/// assert_eq!(parse_int("5kg").unwrap_err().to_string(), "cannot convert passed value 5kg to int");
/// ```
pub fn parse_int(value: &str) -> Result<isize, ConversionError> {
    if value.is_empty() {
        return Ok(0);
    }
    // `isize::from_str` accepts exactly Atoi's syntax: an optional sign, then ASCII digits.
    value.parse().map_err(|_| ConversionError { value: value.to_owned(), type_name: "int" })
}

#[cfg(test)]
mod tests {
    use super::parse_int;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn accepts_what_strconv_atoi_accepts() {
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(parse_int("+5"), Ok(5));
        assert_eq!(parse_int("-5"), Ok(-5));
        assert_eq!(parse_int("007"), Ok(7));
        assert_eq!(parse_int("9223372036854775807"), Ok(isize::MAX));
        assert_eq!(parse_int("-9223372036854775808"), Ok(isize::MIN));
    }

    #[test]
    fn an_empty_argument_is_zero() {
        assert_eq!(parse_int(""), Ok(0));
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn rejects_what_strconv_atoi_rejects() {
        for bad in [
            "abc",
            " 5",
            "5 ",
            "+",
            "-",
            "1_000",
            "0x10",
            "1e3",
            "5.0",
            "9223372036854775808",
            "-9223372036854775809",
            "١٢",
        ] {
            let err = parse_int(bad).expect_err(bad);
            assert_eq!(err.to_string(), format!("cannot convert passed value {bad} to int"));
        }
    }
}
