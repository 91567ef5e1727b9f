//! Bounds on the configuration files the tools parse (network configs, `ccaas-deploy.yaml`,
//! collections configs), checked before any parser sees them: their size, and how deeply YAML
//! flow collections (`[...]`, `{...}`) nest. The YAML parser takes time quadratic in that
//! depth (200 KB of `{a: {a: ...}}` took 35 s), while no real configuration nests more than a
//! few levels.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Largest configuration file read: 1 MiB (a network config with a few dozen peers and their
/// inline certificates is tens of KiB).
pub const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// Deepest nesting of YAML flow collections accepted (the YAML parser's own limit when it
/// builds values is 128 too; at this depth its quadratic cost is negligible).
pub const MAX_YAML_NESTING: usize = 128;

/// Reads a configuration file (`what` names it in errors), refusing one over
/// [`MAX_CONFIG_SIZE`] without reading more than that.
pub fn read_config(what: &'static str, path: &Path) -> Result<Vec<u8>> {
    let read_err = |cause| Error::Read { what, path: path.to_path_buf(), cause };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_SIZE + 1).read_to_end(&mut bytes).map_err(read_err)?;
    check_size(what, path, bytes.len() as u64)?;
    Ok(bytes)
}

/// Refuses configuration text over [`MAX_CONFIG_SIZE`] bytes.
pub(crate) fn check_size(what: &str, path: &Path, len: u64) -> Result<()> {
    if len <= MAX_CONFIG_SIZE {
        return Ok(());
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(len);
    Err(Error::Config(format!(
        "{what} {} is {size} bytes or more, over the {} MiB limit for configuration files; \
         is it the right file?",
        path.display(),
        MAX_CONFIG_SIZE >> 20
    )))
}

/// Refuses YAML text whose flow collections nest deeper than [`MAX_YAML_NESTING`], before the
/// YAML parser spends quadratic time on it.
pub(crate) fn check_yaml_nesting(what: &str, path: &Path, text: &[u8]) -> Result<()> {
    if flow_nesting(text) <= MAX_YAML_NESTING {
        return Ok(());
    }
    Err(Error::Config(format!(
        "{what} {}: [...] or {{...}} nested more than {MAX_YAML_NESTING} levels deep, the limit \
         (the YAML parser slows down quadratically with the depth, and no configuration needs it); \
         is it the right file?",
        path.display()
    )))
}

/// The deepest flow nesting of `text`, estimated two ways and the deeper one kept: every
/// bracket counted (which brackets inside strings can only lower by closing more than they
/// open), and the brackets the YAML scanner sees as tokens (outside comments, quoted scalars and
/// block scalars, found with its rules). A document that fools one estimate does not fool the
/// other without nesting brackets inside strings as deep as it nests real ones.
fn flow_nesting(text: &[u8]) -> usize {
    let mut all = (0usize, 0usize);
    for b in text {
        match b {
            b'[' | b'{' => {
                all.0 += 1;
                all.1 = all.1.max(all.0);
            }
            b']' | b'}' => all.0 = all.0.saturating_sub(1),
            _ => {}
        }
    }
    all.1.max(Tokens { s: text, i: 0, line: 0, depth: 0, deepest: 0 }.deepest())
}

/// A pass over YAML text following libyaml's scanner just enough to tell which brackets are
/// flow-collection tokens. Where it cannot tell (a plain scalar continued on the next line, a
/// quoted scalar over several lines), it counts brackets rather than skipping them.
struct Tokens<'a> {
    s: &'a [u8],
    i: usize,
    /// Where the current line starts.
    line: usize,
    depth: usize,
    deepest: usize,
}

fn blankz(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0)
}

fn flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

impl Tokens<'_> {
    fn peek(&self, k: usize) -> u8 {
        self.s.get(self.i + k).copied().unwrap_or(0)
    }

    fn open(&mut self) {
        self.depth += 1;
        self.deepest = self.deepest.max(self.depth);
    }

    /// Consumes one line break, if there.
    fn line_break(&mut self) -> bool {
        if matches!(self.peek(0), b'\r' | b'\n') {
            self.i += if self.peek(0) == b'\r' && self.peek(1) == b'\n' { 2 } else { 1 };
            self.line = self.i;
            return true;
        }
        false
    }

    /// Skips to the end of the line (not its break).
    fn rest_of_line(&mut self) {
        while !matches!(self.peek(0), b'\r' | b'\n' | 0) {
            self.i += 1;
        }
    }

    fn deepest(mut self) -> usize {
        while self.i < self.s.len() {
            // Between tokens: blanks, line breaks, comments.
            match self.peek(0) {
                b' ' | b'\t' => self.i += 1,
                b'\r' | b'\n' => {
                    self.line_break();
                }
                b'#' => self.rest_of_line(),
                b'%' if self.i == self.line => self.rest_of_line(),
                0 => self.i += 1,
                c => self.token(c),
            }
        }
        self.deepest
    }

    fn token(&mut self, c: u8) {
        let flow = self.depth > 0;
        match c {
            b'[' | b'{' => {
                self.open();
                self.i += 1;
            }
            b']' | b'}' => {
                self.depth = self.depth.saturating_sub(1);
                self.i += 1;
            }
            b',' => self.i += 1,
            b'-' if blankz(self.peek(1)) => self.i += 1,
            b'?' | b':' if flow || blankz(self.peek(1)) => self.i += 1,
            b'&' | b'*' => {
                self.i += 1;
                while self.peek(0).is_ascii_alphanumeric() || matches!(self.peek(0), b'-' | b'_') {
                    self.i += 1;
                }
            }
            b'!' if self.peek(1) == b'<' => {
                while !matches!(self.peek(0), b'>' | b'\r' | b'\n' | 0) {
                    self.i += 1;
                }
                self.i += 1;
            }
            b'!' => {
                self.i += 1;
                while self.peek(0).is_ascii_alphanumeric() || b"-_;/?:@&=+$.%!~*'()".contains(&self.peek(0)) {
                    self.i += 1;
                }
            }
            b'|' | b'>' if !flow => self.block_scalar(),
            b'\'' | b'"' => self.quoted(c),
            _ => self.plain(flow),
        }
    }

    /// A single- or double-quoted scalar. Brackets after its first line break count as
    /// openers (closers do not): if this is not the quoted scalar the parser sees, nothing the
    /// parser sees as nesting was skipped.
    fn quoted(&mut self, quote: u8) {
        self.i += 1;
        let mut multi_line = false;
        loop {
            match self.peek(0) {
                _ if self.i >= self.s.len() => return,
                b'\\' if quote == b'"' && !matches!(self.peek(1), b'\r' | b'\n') => self.i += 2,
                b'\'' if quote == b'\'' && self.peek(1) == b'\'' => self.i += 2,
                q if q == quote => {
                    self.i += 1;
                    return;
                }
                b'\r' | b'\n' => {
                    self.line_break();
                    multi_line = true;
                }
                b'[' | b'{' if multi_line => {
                    self.open();
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
    }

    /// A plain scalar, with the ends libyaml gives it: `: `, ` #`, and in flow context `,[]{}`.
    /// In block context it ends at the line break, and the next line is read as tokens (the
    /// parser may continue the scalar there: brackets in it are then counted, never skipped).
    fn plain(&mut self, flow: bool) {
        loop {
            while !blankz(self.peek(0)) {
                let c = self.peek(0);
                if (c == b':' && (blankz(self.peek(1)) || flow && flow_indicator(self.peek(1))))
                    || flow && flow_indicator(c)
                {
                    return;
                }
                self.i += 1;
            }
            let mut broke = false;
            loop {
                match self.peek(0) {
                    b' ' | b'\t' => self.i += 1,
                    b'\r' | b'\n' => broke |= self.line_break(),
                    _ => break,
                }
            }
            let document_marker = self.i == self.line
                && (self.s[self.i..].starts_with(b"---") || self.s[self.i..].starts_with(b"..."))
                && blankz(self.peek(3));
            if matches!(self.peek(0), b'#' | 0) || (broke && !flow) || document_marker {
                return;
            }
        }
    }

    /// `|` or `>` and its content: the lines indented more than the key (or sequence entry) it
    /// belongs to, at the indentation of the first of them (or the one its header gives).
    fn block_scalar(&mut self) {
        let mut key = self.line;
        while self.s.get(key) == Some(&b' ') {
            key += 1;
        }
        while self.s.get(key) == Some(&b'-') && self.s.get(key + 1).is_some_and(|b| blankz(*b)) {
            key += 1;
            while self.s.get(key) == Some(&b' ') {
                key += 1;
            }
        }
        let parent = key - self.line;
        self.i += 1;
        let mut indent = None;
        while matches!(self.peek(0), b'+' | b'-' | b'1'..=b'9') {
            if self.peek(0).is_ascii_digit() {
                indent = Some(parent + usize::from(self.peek(0) - b'0'));
            }
            self.i += 1;
        }
        self.rest_of_line();
        while self.line_break() {
            let mut n = 0;
            while self.peek(n) == b' ' {
                n += 1;
            }
            if matches!(self.peek(n), b'\r' | b'\n' | 0) {
                self.i += n;
                continue;
            }
            let content = *indent.get_or_insert(n);
            if n <= parent || n < content {
                self.i = self.line;
                return;
            }
            self.rest_of_line();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner's estimate alone.
    fn tokens(text: &[u8]) -> usize {
        Tokens { s: text, i: 0, line: 0, depth: 0, deepest: 0 }.deepest()
    }

    #[test]
    fn real_configs_nest_little() {
        let profile = br#"{"peers": {"peer0": {"url": "grpcs://p:7051", "tlsCACerts": {"pem": ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"]}, "grpcOptions": {"ssl-target-name-override": "p"}}}}"#;
        assert_eq!(flow_nesting(profile), 5);
        let up = b"chaincode:\n  address: \"{{.peername}}-asset:7052\"\n  signature_policy: \"OR('Org1MSP.member')\"\nkubernetes:\n  env: {RUST_LOG: info}\n  resources: {requests: {cpu: 50m}}\n  tolerations: []\n";
        assert_eq!(flow_nesting(up), 2);
        assert_eq!(tokens(b"a: b # [[[[\n"), 0, "comments");
    }

    #[test]
    fn brackets_the_scanner_does_not_see_do_not_count() {
        // Closers in strings cannot hide real nesting.
        let fake_closers: String = "[\"]]]]]\", ".repeat(200) + &"]".repeat(200);
        assert_eq!(flow_nesting(fake_closers.as_bytes()), 200);
        let fake_closers: String = "['a'']]]]]'', b', ".repeat(200) + &"]".repeat(200);
        assert_eq!(flow_nesting(fake_closers.as_bytes()), 200);
        // A block scalar's content is not tokens; what follows it is.
        let block = format!("a: |\n  \"x]]]]\n  y\nb: {}1{}\n", "[".repeat(5), "]".repeat(5));
        assert_eq!(tokens(block.as_bytes()), 5);
        // `a "b` is a plain scalar: its quote does not start a string.
        let plain = format!("k: a \"b\nx: {}\"{}", "[".repeat(7), "]".repeat(7));
        assert_eq!(tokens(plain.as_bytes()), 7);
    }

    #[test]
    fn any_bytes_are_scanned_to_the_end() {
        let alphabet = b"[]{},:-?#'\"|>!&*% \t\r\n\0ab1";
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            let all = text.iter().filter(|b| matches!(b, b'[' | b'{')).count();
            assert!(flow_nesting(&text) <= all);
        }
    }

    #[test]
    fn nesting_over_the_limit_is_refused_naming_it() {
        let path = Path::new("org1.yaml");
        let deep = |n: usize| format!("{}1{}", "{a: ".repeat(n), "}".repeat(n));
        assert!(check_yaml_nesting("network config", path, deep(MAX_YAML_NESTING).as_bytes()).is_ok());
        let e = check_yaml_nesting("network config", path, deep(MAX_YAML_NESTING + 1).as_bytes()).unwrap_err();
        assert!(e.to_string().contains("network config org1.yaml: [...] or {...} nested more than 128 levels"), "{e}");
    }

    #[test]
    fn oversized_files_are_refused_naming_size_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        std::fs::write(&path, vec![b'#'; MAX_CONFIG_SIZE as usize + 10]).unwrap();
        let e = read_config("network config", &path).unwrap_err().to_string();
        assert!(e.contains("big.yaml is 1048586 bytes or more, over the 1 MiB limit"), "{e}");
        std::fs::write(&path, vec![b'#'; MAX_CONFIG_SIZE as usize]).unwrap();
        assert_eq!(read_config("network config", &path).unwrap().len() as u64, MAX_CONFIG_SIZE);
    }
}
