//! Byte-exact archive writing (USTAR + gzip) and tolerant archive reading.

use std::cell::Cell;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// Deflate level of the pinned `miniz_oxide` compressor. Changing it changes every ID.
const DEFLATE_LEVEL: u8 = 9;

/// gzip header: magic, CM=deflate, FLG=0 (no name, no extra, no comment), MTIME=0,
/// XFL=2 (maximum compression), OS=255 (unknown).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff];

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

/// Most bytes one package may decompress to, its layers together (the outer tar, then the tar
/// inside `code.tar.gz`). The peer takes a package in one gRPC message of at most 100 MiB and a
/// ccaas or k8s package is a few KiB, so anything that decompresses to more is refused as a
/// likely gzip bomb, as soon as it gets there.
pub const MAX_DECOMPRESSED: u64 = 100 * 1024 * 1024;

/// The decompressed bytes of one package read so far, every layer counted.
///
/// Memory bound of a read: [`read_layer`] keeps nothing of its stream but the decompressor's
/// window and one tar header; what the callers keep (metadata.json, connection.json,
/// META-INF files, entry names) was decompressed first and so was counted here, and
/// [`TarEntry::read_all`] allocates an entry's buffer only when its size fits in what is left.
/// A package read therefore holds at most [`MAX_DECOMPRESSED`] bytes of its contents, whatever
/// its headers claim.
#[derive(Debug)]
pub(crate) struct Budget {
    used: Cell<u64>,
    limit: u64,
}

impl Budget {
    /// A budget of [`MAX_DECOMPRESSED`] bytes.
    pub(crate) fn new() -> Budget {
        Budget { used: Cell::new(0), limit: MAX_DECOMPRESSED }
    }

    /// Bytes of the budget not used yet.
    pub(crate) fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used.get())
    }
}

/// The error a [`Gunzip`] returns once the budget is spent: its limit.
#[derive(Debug)]
struct OverBudget(u64);

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} bytes decompressed", self.0)
    }
}

impl std::error::Error for OverBudget {}

/// A gzip decoding error (as opposed to a tar error), told apart when reading a layer.
#[derive(Debug)]
struct BadGzip(io::Error);

impl std::fmt::Display for BadGzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BadGzip {}

/// Decompresses a (possibly multi-member) gzip stream as Go's `gzip.Reader` does, counting what
/// it produces against a [`Budget`].
struct Gunzip<'b, R: Read> {
    decoder: MultiGzDecoder<R>,
    budget: &'b Budget,
}

impl<R: Read> Read for Gunzip<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (used, limit) = (self.budget.used.get(), self.budget.limit);
        if used > limit {
            return Err(io::Error::other(OverBudget(limit)));
        }
        // Never more than one byte past the limit, however big `buf` is.
        let room = usize::try_from(limit - used + 1).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.decoder.read(&mut buf[..want]).map_err(|e| io::Error::new(e.kind(), BadGzip(e)))?;
        let used = used + n as u64;
        self.budget.used.set(used);
        if used > limit {
            return Err(io::Error::other(OverBudget(limit)));
        }
        Ok(n)
    }
}

/// Why reading a layer stopped.
#[derive(Debug)]
pub(crate) enum LayerError {
    /// A rule of the caller, or the budget: reported as is.
    Package(Error),
    /// The gzip stream is broken (Go: the `gzip.Reader`'s error).
    Gzip(String),
    /// The tar stream is broken (the message is Go's `archive/tar` wording).
    Tar(String),
}

impl From<Error> for LayerError {
    fn from(e: Error) -> Self {
        LayerError::Package(e)
    }
}

impl LayerError {
    /// Sorts an I/O error met while reading a layer: the budget, gzip, or else tar (`tar_msg`).
    fn from_io(e: io::Error, tar_msg: impl FnOnce(&io::Error) -> String) -> LayerError {
        match e.get_ref() {
            Some(inner) if inner.is::<BadGzip>() => LayerError::Gzip(inner.to_string()),
            Some(inner) => match inner.downcast_ref::<OverBudget>() {
                Some(OverBudget(limit)) => LayerError::Package(Error::TooLarge { limit: *limit }),
                None => LayerError::Tar(tar_msg(&e)),
            },
            None => LayerError::Tar(tar_msg(&e)),
        }
    }
}

/// One entry of a tar stream, as Go's `archive/tar` reader reports it.
pub(crate) struct TarEntry<'a> {
    /// `header.Name` (long names and PAX paths already applied).
    pub name: String,
    /// `header.Typeflag`, with the legacy `'\0'` mapped to `'0'` or `'5'` like Go does.
    pub typeflag: u8,
    /// The entry's data; what is not read is skipped (decompressed and counted, not kept).
    pub data: &'a mut dyn Read,
    /// The size the header claims.
    pub size: u64,
}

impl TarEntry<'_> {
    /// Reads the whole entry into memory, in a buffer of exactly the size its header claims,
    /// allocated only if that size fits in what is left of the budget (the bytes are then
    /// decompressed, and counted, to fill it). So what callers keep adds up to at most the
    /// budget, whatever the headers say.
    pub(crate) fn read_all(&mut self, budget: &Budget) -> Result<Vec<u8>, LayerError> {
        if self.size > budget.remaining() {
            return Err(LayerError::Package(Error::TooLarge { limit: budget.limit }));
        }
        let mut out = Vec::with_capacity(usize::try_from(self.size).unwrap_or(usize::MAX));
        let read = self.data.read_to_end(&mut out);
        let name = &self.name;
        read.map_err(|e| LayerError::from_io(e, |e| format!("could not read {name} from tar: {e}")))?;
        if out.len() as u64 != self.size {
            return Err(LayerError::Tar(format!("could not read {name} from tar: unexpected EOF")));
        }
        Ok(out)
    }
}

/// Reads one layer, a gzip stream holding a tar stream, entry by entry, without keeping it:
/// `visit` sees each entry in order and reads what it needs. The stream is then read to its end,
/// so a corrupt or truncated gzip stream is an error, as when the whole layer is decompressed.
pub(crate) fn read_layer<R: Read>(
    input: R,
    budget: &Budget,
    mut visit: impl FnMut(TarEntry<'_>) -> Result<(), LayerError>,
) -> Result<(), LayerError> {
    // No buffering: the tar reader asks for a header block or an entry's data at a time, so
    // the budget counts what was consumed.
    let mut archive = tar::Archive::new(Gunzip { decoder: MultiGzDecoder::new(input), budget });
    let header_err = |e: io::Error| LayerError::from_io(e, |e| format!("error inspecting next tar header: {e}"));
    for entry in archive.entries().map_err(header_err)? {
        let mut entry = entry.map_err(header_err)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut typeflag = entry.header().entry_type().as_byte();
        if typeflag == 0 {
            typeflag = if name.ends_with('/') { TYPE_DIR } else { TYPE_REG };
        }
        let size = entry.size();
        visit(TarEntry { name, typeflag, data: &mut entry, size })?;
    }
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| LayerError::from_io(e, |e| e.to_string()))?;
    Ok(())
}

pub(crate) const TYPE_REG: u8 = b'0';
pub(crate) const TYPE_DIR: u8 = b'5';

#[cfg(test)]
mod tests {
    use super::*;

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        MultiGzDecoder::new(gz).read_to_end(&mut out).unwrap();
        out
    }

    /// Every entry of a `.tar.gz` layer (name, typeflag, data), read within `budget`.
    fn entries(gz: &[u8], budget: &Budget) -> Result<Vec<(String, u8, Vec<u8>)>, LayerError> {
        let mut out = Vec::new();
        read_layer(gz, budget, |mut e| {
            let data = e.read_all(budget)?;
            out.push((e.name.clone(), e.typeflag, data));
            Ok(())
        })?;
        Ok(out)
    }

    fn too_large(r: Result<Vec<(String, u8, Vec<u8>)>, LayerError>) -> u64 {
        match r {
            Err(LayerError::Package(Error::TooLarge { limit })) => limit,
            other => panic!("expected the budget error, got {other:?}"),
        }
    }

    #[test]
    fn gzip_header_is_fixed_and_roundtrips() {
        let gz = gzip(b"hello hello hello");
        assert_eq!(&gz[..10], &GZIP_HEADER);
        assert_eq!(gunzip(&gz), b"hello hello hello");
        assert_eq!(gunzip(&gzip(b"")), b"");
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
        let entries = entries(&gzip(&t), &Budget::new()).unwrap();
        assert_eq!(entries, [("a.json".to_string(), TYPE_REG, b"{}".to_vec()), ("b".to_string(), TYPE_REG, vec![])]);
    }

    #[test]
    fn the_budget_counts_every_decompressed_byte_and_stops_one_past_it() {
        let gz = tar_gz(&[("zeros", &[0u8; 10_000])]).unwrap();
        // A header block, 10,000 bytes padded to 10,240, two zero blocks.
        let size = 512 + 10_240 + 1024;
        let exact = Budget { used: Cell::new(0), limit: size };
        entries(&gz, &exact).unwrap();
        assert_eq!(exact.used.get(), size);
        assert_eq!(exact.remaining(), 0);

        let short = Budget { used: Cell::new(0), limit: size - 1 };
        assert_eq!(too_large(entries(&gz, &short)), size - 1);
        assert_eq!(short.used.get(), size, "decompression stops one byte past the limit");

        // Skipped data counts too: the entry is not read, only skipped.
        let skip = Budget { used: Cell::new(0), limit: 4096 };
        let skipped = read_layer(gz.as_slice(), &skip, |_| Ok(()));
        assert!(matches!(skipped, Err(LayerError::Package(Error::TooLarge { limit: 4096 }))), "{skipped:?}");
        assert_eq!(skip.used.get(), 4097);
    }

    #[test]
    fn a_kept_entry_is_never_buffered_past_the_budget() {
        // The header claims 1 GiB; the data is 2,000 bytes of a truncated stream.
        let mut header = tar::Header::new_ustar();
        header.set_path("big").unwrap();
        header.set_size(1 << 30);
        header.set_cksum();
        let mut raw = header.as_bytes().to_vec();
        raw.extend_from_slice(&[7u8; 2000]);
        let raw = gzip(&raw);
        let budget = Budget::new();
        assert_eq!(too_large(entries(&raw, &budget)), MAX_DECOMPRESSED);
        assert!(budget.used.get() <= 8192, "refused before reading (or allocating) the data");

        // Within the budget, a header that claims more than the stream holds is a tar error.
        let mut header = tar::Header::new_ustar();
        header.set_path("big").unwrap();
        header.set_size(4000);
        header.set_cksum();
        let mut short = header.as_bytes().to_vec();
        short.extend_from_slice(&[7u8; 2000]);
        let r = entries(&gzip(&short), &Budget::new());
        assert!(matches!(&r, Err(LayerError::Tar(m)) if m.starts_with("could not read big from tar")), "{r:?}");
    }

    #[test]
    fn gzip_and_tar_errors_are_told_apart() {
        let r = entries(b"plain text", &Budget::new());
        assert!(matches!(&r, Err(LayerError::Gzip(m)) if m.contains("invalid gzip header")), "{r:?}");
        let mut truncated = tar_gz(&[("a", b"abc")]).unwrap();
        truncated.truncate(truncated.len() - 4);
        let r = entries(&truncated, &Budget::new());
        assert!(matches!(r, Err(LayerError::Gzip(_))), "{r:?}");
        let r = entries(&gzip(&[1u8; 512]), &Budget::new());
        assert!(matches!(&r, Err(LayerError::Tar(m)) if m.starts_with("error inspecting next tar header")), "{r:?}");
    }
}
