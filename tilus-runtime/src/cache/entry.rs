//! One cache entry on disk: `tilus-artifact <FORMAT> <blake3 hex of the body>\n<JSON>`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tilus_lower::artifact::Artifact;

/// The entry format version (part of every key, so a new format never reads an old one).
pub const FORMAT: u32 = 1;

/// Why an entry was not usable.
#[derive(Debug)]
pub(crate) struct Corrupt(pub String);

/// What `tilus cache ls` shows of one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The kernel and its target (`a16wx_f16_u4 wgsl`), or why the entry is corrupt.
    pub summary: Result<String, String>,
}

fn parse(bytes: &[u8]) -> Result<Artifact, Corrupt> {
    let bad = |m: &str| Corrupt(m.to_string());
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("no header line"))?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| bad("header is not text"))?;
    let mut words = header.split(' ');
    if words.next() != Some("tilus-artifact") {
        return Err(bad("not a tilus artifact"));
    }
    if words.next() != Some(FORMAT.to_string().as_str()) {
        return Err(bad("another entry format"));
    }
    let sum = words.next().ok_or_else(|| bad("no checksum"))?;
    let body = &bytes[nl + 1..];
    if blake3::hash(body).to_hex().as_str() != sum {
        return Err(bad("checksum mismatch (truncated or edited)"));
    }
    serde_json::from_slice(body).map_err(|e| Corrupt(format!("unreadable artifact: {e}")))
}

/// The entry at `path`: `Ok(None)` when there is none, `Err` when it is corrupt.
pub(crate) fn read(path: &Path) -> Result<Option<Artifact>, Corrupt> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes).map(Some),
        // No entry (also when the directory itself cannot exist).
        Err(_) if !path.exists() => Ok(None),
        Err(e) => Err(Corrupt(e.to_string())),
    }
}

/// Writes the entry atomically: a unique temporary file in `dir`, then a rename.
pub(crate) fn write(dir: &Path, path: &Path, a: &Artifact) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let body = serde_json::to_vec(a).map_err(std::io::Error::other)?;
    let header = format!("tilus-artifact {FORMAT} {}\n", blake3::hash(&body).to_hex());
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(header.as_bytes())?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What `tilus cache ls` prints of the entry at `path`.
pub(crate) fn info(path: &Path) -> EntryInfo {
    let bytes = std::fs::read(path).unwrap_or_default();
    EntryInfo {
        path: path.to_path_buf(),
        bytes: bytes.len() as u64,
        summary: parse(&bytes)
            .map(|a| format!("{} {}", a.name, a.code.target()))
            .map_err(|c| c.0),
    }
}
