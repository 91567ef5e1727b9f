//! Byte-exact archive writing (USTAR + gzip) and tolerant archive reading.

use std::io::{Cursor, Read};

use crate::error::{Error, Result};

/// Deflate level of the pinned `miniz_oxide` compressor. Changing it changes every ID.
const DEFLATE_LEVEL: u8 = 9;

/// gzip header: magic, CM=deflate, FLG=0 (no name, no extra, no comment), MTIME=0,
/// XFL=2 (maximum compression), OS=255 (unknown).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff];

/// Largest decompressed stream accepted when reading (packages are small; this bounds
/// hostile input).
const MAX_DECOMPRESSED: u64 = 512 * 1024 * 1024;

/// Compresses `data` into a single-member gzip stream with a fixed header (no name, no
/// timestamp) and the pinned compressor at a fixed level: the same input always gives the same
/// bytes, which is what makes package IDs and image digests reproducible.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, DEFLATE_LEVEL);
    let mut out = Vec::with_capacity(deflated.len() + 18);
    out.extend_from_slice(&GZIP_HEADER);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A USTAR header for a regular file with every variable field fixed: mode 0644,
/// uid/gid 0, empty user/group names, mtime 0.
fn ustar_header(name: &str, size: u64) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).map_err(|e| Error::Spec(format!("cannot store '{name}' in a USTAR header: {e}")))?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

/// A tar stream of regular files, in the given order, ending with the two zero blocks
/// (no padding to a 10240-byte record).
pub(crate) fn tar(entries: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let header = ustar_header(name, data.len() as u64)?;
        builder.append(&header, *data).map_err(|e| Error::Spec(format!("cannot add '{name}' to the archive: {e}")))?;
    }
    builder.into_inner().map_err(|e| Error::Spec(format!("cannot finish the archive: {e}")))
}

/// `gzip(tar(entries))`.
pub(crate) fn tar_gz(entries: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    Ok(gzip(&tar(entries)?))
}

/// Decompresses a (possibly multi-member) gzip stream, as Go's `gzip.Reader` does.
pub(crate) fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).take(MAX_DECOMPRESSED + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(std::io::Error::other("decompressed size exceeds 512 MiB"));
    }
    Ok(out)
}

/// One tar entry as Go's `archive/tar` reader reports it.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    /// `header.Name` (long names and PAX paths already applied).
    pub name: String,
    /// `header.Typeflag`, with the legacy `'\0'` mapped to `'0'` or `'5'` like Go does.
    pub typeflag: u8,
    pub data: Vec<u8>,
}

pub(crate) const TYPE_REG: u8 = b'0';
pub(crate) const TYPE_DIR: u8 = b'5';

/// Reads every entry of an uncompressed tar stream.
pub(crate) fn read_tar(data: &[u8]) -> std::result::Result<Vec<RawEntry>, String> {
    let mut archive = tar::Archive::new(Cursor::new(data));
    let entries = archive.entries().map_err(|e| format!("error inspecting next tar header: {e}"))?;
    let mut out = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("error inspecting next tar header: {e}"))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut typeflag = entry.header().entry_type().as_byte();
        if typeflag == 0 {
            typeflag = if name.ends_with('/') { TYPE_DIR } else { TYPE_REG };
        }
        let mut body = Vec::new();
        entry.read_to_end(&mut body).map_err(|e| format!("could not read {name} from tar: {e}"))?;
        out.push(RawEntry { name, typeflag, data: body });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_header_is_fixed_and_roundtrips() {
        let gz = gzip(b"hello hello hello");
        assert_eq!(&gz[..10], &GZIP_HEADER);
        assert_eq!(gunzip(&gz).unwrap(), b"hello hello hello");
        assert_eq!(gunzip(&gzip(b"")).unwrap(), b"");
    }

    #[test]
    fn tar_headers_are_fixed() {
        let t = tar(&[("a.json", b"{}"), ("b", b"")]).unwrap();
        // two headers, one data block, two zero blocks, no record padding
        assert_eq!(t.len(), 512 * 5);
        let h = &t[..512];
        assert_eq!(&h[..7], b"a.json\0");
        assert_eq!(&h[100..108], b"0000644\0"); // mode
        assert_eq!(&h[108..116], b"0000000\0"); // uid
        assert_eq!(&h[116..124], b"0000000\0"); // gid
        assert_eq!(&h[136..148], b"00000000000\0"); // mtime
        assert_eq!(h[156], b'0'); // regular file
        assert_eq!(&h[257..265], b"ustar\x0000"); // USTAR magic + version
        assert!(h[265..297].iter().all(|b| *b == 0)); // uname
        assert!(h[297..329].iter().all(|b| *b == 0)); // gname
        assert!(t[512 * 3..].iter().all(|b| *b == 0));
        let entries = read_tar(&t).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "a.json");
        assert_eq!(entries[0].data, b"{}");
    }
}
