//! PEM, read as Go's `pem.Decode` (`encoding/pem`) reads it, in its current form (the fixes of
//! CVE-2025-61723 and golang/go#76027 included): find the first `\n-----END ` line, then the
//! last `-----BEGIN ` before it that starts a line (or the input); the BEGIN line must end with
//! `-----` (its label may be anything); `Key: value` header lines up to the first line without a
//! colon are skipped; the END line must repeat the label, end with `-----` and nothing but spaces
//! or tabs may follow on it; the body is standard base64 with padding, where spaces, tabs, CR
//! and LF are ignored and the unused bits of the last character need not be zero. When a
//! candidate block fails any of this, the search goes on after its END line.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"\n-----END ";
const DASHES: &[u8] = b"-----";

/// Go's `base64.StdEncoding` (not `Strict`): padding required, non-zero trailing bits allowed.
const GO_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// The bytes of the first PEM block in `data`, whatever its label. When there is none, the error
/// says why the last candidate block was rejected, or is `None` when `data` has no
/// `-----BEGIN ` at all.
pub(super) fn decode(data: &[u8]) -> Result<Vec<u8>, Option<&'static str>> {
    let mut rest = data;
    // Where the search goes on in `rest` (Go's endTrailerIndex); negative after headers that
    // ran past the END line.
    let mut skip: isize = 0;
    let mut failure = None;
    loop {
        let Some(after) = usize::try_from(skip).ok().and_then(|skip| rest.get(skip..)) else {
            return Err(failure);
        };
        rest = after;
        let Some(end) = find(rest, END) else {
            return Err(failure.or_else(|| find(data, BEGIN).map(|_| "no -----END line after the -----BEGIN line")));
        };
        let mut end_index = end as isize;
        skip = end_index + END.len() as isize;
        let begin = match rfind(&rest[..end], BEGIN) {
            Some(begin) if begin == 0 || rest[begin - 1] == b'\n' => begin,
            _ => {
                failure = Some("an -----END line without a -----BEGIN line at the start of a line before it");
                continue;
            }
        };
        let mut advance = |rest: &mut &[u8], by: usize| {
            *rest = &rest[by..];
            end_index -= by as isize;
            skip -= by as isize;
        };
        advance(&mut rest, begin + BEGIN.len());
        let (type_line, _, consumed) = get_line(rest);
        advance(&mut rest, consumed);
        let Some(label) = type_line.strip_suffix(DASHES) else {
            failure = Some("the -----BEGIN line does not end with -----");
            continue;
        };

        let mut headers = false;
        loop {
            if rest.is_empty() {
                // Go gives up here rather than searching further.
                return Err(Some("the headers run to the end of the input"));
            }
            let (line, _, consumed) = get_line(rest);
            if !line.contains(&b':') {
                break;
            }
            headers = true;
            advance(&mut rest, consumed);
        }
        if headers && end_index < 0 {
            failure = Some("the headers run past the -----END line");
            continue;
        }

        // Without headers, the END line may follow the BEGIN line directly (end_index is -1).
        let trailer = usize::try_from(skip).ok().and_then(|skip| rest.get(skip..)).unwrap_or_default();
        let matches = trailer.len() >= label.len() + DASHES.len() && {
            let (trailer, rest_of_line) = trailer.split_at(label.len() + DASHES.len());
            trailer.starts_with(label) && trailer.ends_with(DASHES) && get_line(rest_of_line).0.is_empty()
        };
        if !matches {
            failure = Some("the -----END line does not match the -----BEGIN line");
            continue;
        }

        let Ok(end_index) = usize::try_from(end_index) else { return Ok(Vec::new()) };
        let body: Vec<u8> =
            rest[..end_index].iter().copied().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
        match GO_BASE64.decode(body) {
            Ok(bytes) => return Ok(bytes),
            Err(_) => failure = Some("the base64 text is invalid"),
        }
    }
}

/// Go's `getLine`: the line up to `\n` (a `\r` before it dropped, trailing spaces and tabs
/// trimmed), what follows the `\n`, and how many bytes the line took with its `\n`.
fn get_line(data: &[u8]) -> (&[u8], &[u8], usize) {
    let (mut line, next) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (data[..i].strip_suffix(b"\r").unwrap_or(&data[..i]), i + 1),
        None => (data, data.len()),
    };
    while let [head @ .., b' ' | b'\t'] = line {
        line = head;
    }
    (line, &data[next..], next)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> Result<Vec<u8>, Option<&'static str>> {
        decode(text.as_bytes())
    }

    #[test]
    fn blocks_as_go_finds_them() {
        // "AQID" is 01 02 03.
        let ok = [
            "-----BEGIN X-----\nAQID\n-----END X-----\n",
            "-----BEGIN X-----\r\nAQID\r\n-----END X-----\r\n",
            "-----BEGIN X-----\nAQID\n-----END X-----", // no final newline
            "text before\n-----BEGIN X-----\nAQID\n-----END X-----\ntext after",
            "-----BEGIN X----- \t\nAQID\n-----END X----- \t\n", // trailing blanks on both lines
            "-----BEGIN A LABEL-----\nA Q\tI D\n-----END A LABEL-----\n", // blanks in the body
            "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n\nAQID\n-----END X-----\n",
            "-----BEGIN X-----\nAQ\nID\n-----END X-----\n",
            // The first BEGIN has no END of its own: the last BEGIN before the first END counts.
            "-----BEGIN Y-----\n-----BEGIN X-----\nAQID\n-----END X-----\n",
            // A broken block is skipped, the next one is used.
            "-----BEGIN X-----\n*\n-----END X-----\n-----BEGIN X-----\nAQID\n-----END X-----\n",
            "-----BEGIN X-----\nAQID\n-----END Y-----\n-----BEGIN X-----\nAQID\n-----END X-----\n",
        ];
        for text in ok {
            assert_eq!(block(text), Ok(vec![1, 2, 3]), "{text:?}");
        }
        assert_eq!(block("-----BEGIN X-----\n-----END X-----\n"), Ok(vec![]));
        assert_eq!(block("-----BEGIN X-----\n\n-----END X-----\n"), Ok(vec![]));
        // Go's decoder does not require zero trailing bits ("AQJ=" is 01 02 plus bits).
        assert_eq!(block("-----BEGIN X-----\nAQJ=\n-----END X-----\n"), Ok(vec![1, 2]));
    }

    #[test]
    fn what_go_rejects() {
        assert_eq!(block(""), Err(None));
        assert_eq!(block("not PEM at all"), Err(None));
        let bad = [
            ("-----BEGIN X-----\nAQID\n", "no -----END line after the -----BEGIN line"),
            ("  -----BEGIN X-----\nAQID\n-----END X-----\n", "an -----END line without a -----BEGIN line"),
            ("-----BEGIN X----\nAQID\n-----END X-----\n", "the -----BEGIN line does not end with -----"),
            ("-----BEGIN X-----\nAQID\n-----END Y-----\n", "the -----END line does not match"),
            ("-----BEGIN X-----\nAQID\n-----END X----\n", "the -----END line does not match"),
            ("-----BEGIN X-----\nAQID\n-----END X----- x\n", "the -----END line does not match"),
            ("-----BEGIN X-----\nAQI\n-----END X-----\n", "the base64 text is invalid"), // no padding
            ("-----BEGIN X-----\nAQ=D\n-----END X-----\n", "the base64 text is invalid"),
            ("-----BEGIN X-----\nAQID====\n-----END X-----\n", "the base64 text is invalid"),
            ("-----BEGIN X-----\nAQ-_\n-----END X-----\n", "the base64 text is invalid"), // URL alphabet
            ("-----BEGIN X-----\nk: v\n-----END X: -----\n", "the headers run to the end of the input"),
        ];
        for (text, reason) in bad {
            let err = block(text).unwrap_err().unwrap_or_default();
            assert!(err.starts_with(reason), "{text:?}: {err}");
        }
    }

    #[test]
    fn lines() {
        assert_eq!(get_line(b"ab \t\r\ncd"), (&b"ab"[..], &b"cd"[..], 6));
        assert_eq!(get_line(b"ab\r"), (&b"ab\r"[..], &b""[..], 3));
        assert_eq!(get_line(b"\n"), (&b""[..], &b""[..], 1));
        assert_eq!(get_line(b""), (&b""[..], &b""[..], 0));
    }
}
