//! A minimal DER reader: just enough to walk an X.509 certificate and its names the way Go's
//! `crypto/x509` (`parser.go`, built on `golang.org/x/crypto/cryptobyte`) does, keeping each
//! element's exact tag and bytes.

pub(crate) const TAG_BOOLEAN: u8 = 0x01;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_UTC_TIME: u8 = 0x17;
pub(crate) const TAG_GENERALIZED_TIME: u8 = 0x18;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;

/// One DER element: its identifier octet, its content and the whole encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'a> {
    /// The identifier octet: class, constructed bit and tag number.
    pub(crate) tag: u8,
    /// The content octets.
    pub(crate) content: &'a [u8],
    /// Identifier, length and content octets.
    pub(crate) full: &'a [u8],
}

/// Reads consecutive DER elements from a byte string.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Reads the next element, whatever its tag. Like cryptobyte: single-octet identifiers only
    /// (tag numbers below 31), definite lengths in their shortest form.
    pub(crate) fn read_any(&mut self) -> Option<Element<'a>> {
        let data = self.data;
        let tag = *data.first()?;
        if tag & 0x1f == 0x1f {
            return None; // high-tag-number form, which cryptobyte does not support
        }
        let mut pos = 1;
        let len_byte = *data.get(pos)?;
        pos += 1;
        let len = if len_byte & 0x80 == 0 {
            usize::from(len_byte)
        } else {
            let n = usize::from(len_byte & 0x7f);
            // 0x80 is BER's indefinite length; more than 4 length bytes is never valid here.
            if n == 0 || n > 4 {
                return None;
            }
            let bytes = data.get(pos..pos + n)?;
            pos += n;
            if bytes[0] == 0 {
                return None; // not the shortest form
            }
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return None; // should have used the short form
            }
            len
        };
        let end = pos.checked_add(len)?;
        let content = data.get(pos..end)?;
        let full = &data[..end];
        self.data = &data[end..];
        Some(Element { tag, content, full })
    }

    /// Reads the next element and checks that its identifier is the single byte `tag`.
    pub(crate) fn read_element(&mut self, tag: u8) -> Option<Element<'a>> {
        let mut probe = Reader { data: self.data };
        let element = probe.read_any()?;
        if element.tag != tag {
            return None;
        }
        self.data = probe.data;
        Some(element)
    }

    /// [`read_element`](Self::read_element), giving the content octets.
    pub(crate) fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.read_element(tag).map(|element| element.content)
    }

    /// Whether the next identifier octet is `tag` (cryptobyte's `PeekASN1Tag`).
    pub(crate) fn peek(&self, tag: u8) -> bool {
        self.data.first() == Some(&tag)
    }

    /// cryptobyte's `ReadOptionalASN1`: `Ok(None)` when the next element is not tagged `tag`,
    /// `Err(())` when it is but is malformed.
    pub(crate) fn read_optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, ()> {
        if !self.peek(tag) {
            return Ok(None);
        }
        self.read(tag).map(Some).ok_or(())
    }
}

/// cryptobyte's `checkASN1Integer`: an INTEGER's content is at least one byte, in the shortest
/// two's complement form.
pub(crate) fn integer_ok(content: &[u8]) -> bool {
    match content {
        [] => false,
        [first, second, ..] => !((*first == 0 && second & 0x80 == 0) || (*first == 0xff && second & 0x80 == 0x80)),
        [_] => true,
    }
}

/// cryptobyte's `ReadASN1BitString` rules: a padding count 0..=7, no padding without bits,
/// and padding bits that are zero.
pub(crate) fn bit_string_ok(content: &[u8]) -> bool {
    match content {
        [] => false,
        [padding] => *padding == 0,
        [padding, .., last] => *padding <= 7 && last & ((1u8 << padding) - 1) == 0,
    }
}

/// Parses the content octets of an OBJECT IDENTIFIER with cryptobyte's rules: at least one
/// byte, shortest-form base-128 arcs, each below 2^31.
pub(crate) fn parse_oid(content: &[u8]) -> Option<Vec<u32>> {
    let mut arcs = Vec::new();
    let mut rest = content;
    let first = read_base128(&mut rest)?;
    if first < 80 {
        arcs.push(first / 40);
        arcs.push(first % 40);
    } else {
        arcs.push(2);
        arcs.push(first - 80);
    }
    while !rest.is_empty() {
        arcs.push(read_base128(&mut rest)?);
    }
    Some(arcs)
}

fn read_base128(data: &mut &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    for i in 0..data.len() {
        if i == 5 {
            return None;
        }
        // Go: "Avoid overflowing int on a 32-bit platform" (ret >= 1<<(31-7) fails).
        if value >= 1 << (31 - 7) {
            return None;
        }
        let b = data[i];
        if i == 0 && b == 0x80 {
            return None; // not the shortest form
        }
        value = (value << 7) | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            *data = &data[i + 1..];
            return Some(value);
        }
    }
    None
}

/// DER length octets for `len`.
pub(crate) fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_arcs() {
        assert_eq!(parse_oid(&[0x55, 0x04, 0x03]), Some(vec![2, 5, 4, 3]));
        assert_eq!(
            parse_oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]),
            Some(vec![1, 2, 840, 113549, 1, 9, 1])
        );
        assert_eq!(parse_oid(&[0x88, 0x37]), Some(vec![2, 999]));
        assert_eq!(parse_oid(&[]), None);
        assert_eq!(parse_oid(&[0x55, 0x80, 0x01]), None); // non-minimal arc
        assert_eq!(parse_oid(&[0x55, 0x84]), None); // truncated arc
        assert_eq!(parse_oid(&[0x55, 0x88, 0x80, 0x80, 0x80, 0x00]), None); // 2^31
        assert_eq!(parse_oid(&[0x55, 0x87, 0xff, 0xff, 0xff, 0x7f]), Some(vec![2, 5, 0x7fff_ffff]));
    }

    #[test]
    fn lengths() {
        let mut out = Vec::new();
        encode_length(5, &mut out);
        encode_length(0x80, &mut out);
        encode_length(0x1234, &mut out);
        assert_eq!(out, [0x05, 0x81, 0x80, 0x82, 0x12, 0x34]);

        let long = [&[0x04, 0x81, 0x80][..], &[0u8; 0x80]].concat();
        let el = Reader::new(&long).read_any().unwrap();
        assert_eq!(el.content.len(), 0x80);
        // Long form for a short length, leading zero, indefinite length: all rejected.
        assert!(Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).read_any().is_none());
        assert!(Reader::new(&[0x04, 0x82, 0x00, 0x80]).read_any().is_none());
        assert!(Reader::new(&[0x30, 0x80, 0, 0]).read_any().is_none());
        // High tag number form is rejected, as cryptobyte does.
        assert!(Reader::new(&[0x9f, 0x81, 0x00, 0x01, 0xaa]).read_any().is_none());
        let el = Reader::new(&[0x0c, 0x01, b'a', 0xff]).read_any().unwrap();
        assert_eq!((el.tag, el.content, el.full), (0x0c, &b"a"[..], &[0x0c, 0x01, b'a'][..]));
    }
}
