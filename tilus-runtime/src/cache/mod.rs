//! The compile cache: compiled [`Artifact`]s kept in memory and on disk, so a kernel is
//! compiled once per machine, not once per process.
//!
//! # Keys
//! An entry's key is the blake3 hash of everything that decides the artifact: the cache
//! format, the compiler's build id ([`compiler_build`]: a hash of tilus-ir's and
//! tilus-lower's sources and version, fixed when tilus-runtime is built), the canonical text
//! of the verified program (tuning parameters are part of it: generators print them into
//! the program), the kernel's name, the target with all its capabilities (`Debug`), and the
//! compile options. An edited kernel, another target or device, or another compiler gives
//! another key; nothing is ever looked up by name.
//!
//! # Layout on disk
//! `$TILUS_CACHE_DIR`, else `$XDG_CACHE_HOME/tilus`, else `$HOME/.cache/tilus` (macOS
//! `~/Library/Caches/tilus`, Windows `%LOCALAPPDATA%\tilus`), holds `artifacts/<key>.art`:
//! a header line `tilus-artifact 1 <blake3 of the body>`, then the artifact as JSON. Files
//! are written to a temporary name in the same folder and renamed into place, so readers
//! see an old entry, a new one or none, never a partial one, and processes that compile the
//! same kernel at once both succeed (the last rename wins with identical bytes). An entry
//! whose checksum, header or JSON does not check out is treated as missing, recompiled
//! and overwritten ([`CacheOutcome::Recompiled`]); it is never trusted and never a panic.
//! A cache directory that cannot be written only costs the disk copy.

mod entry;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tilus_ir::verify::VerifiedProgram;
use tilus_lower::artifact::Artifact;
use tilus_lower::error::LowerError;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::Target;

pub use entry::{EntryInfo, FORMAT};

/// The compiler's build id (see the module doc).
pub fn compiler_build() -> &'static str {
    env!("TILUS_COMPILER_BUILD")
}

/// A cache key: the blake3 hash of a compilation's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl CacheKey {
    /// The key of compiling kernel `name` of `program` for `target` with `opts`.
    pub fn of(
        program: &VerifiedProgram,
        name: &str,
        target: &Target,
        opts: &CompileOptions,
    ) -> CacheKey {
        let mut h = blake3::Hasher::new();
        let mut part = |label: &str, text: &str| {
            h.update(label.as_bytes());
            h.update(&(text.len() as u64).to_le_bytes());
            h.update(text.as_bytes());
        };
        part("format", &FORMAT.to_string());
        part("compiler", compiler_build());
        part("program", &program.program().to_string());
        part("kernel", name);
        part("target", &format!("{target:?}"));
        part("options", &format!("{opts:?}"));
        CacheKey(*h.finalize().as_bytes())
    }
}

/// Where an artifact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Found in this process's memory.
    MemoryHit,
    /// Read from disk (checksum verified).
    DiskHit,
    /// Not cached: compiled (and stored).
    Compiled,
    /// A disk entry failed its checks: compiled again and the entry rewritten.
    Recompiled,
}

impl CacheOutcome {
    /// Whether nothing was compiled.
    pub fn is_hit(self) -> bool {
        matches!(self, CacheOutcome::MemoryHit | CacheOutcome::DiskHit)
    }
}

impl fmt::Display for CacheOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CacheOutcome::MemoryHit => "cache hit (memory)",
            CacheOutcome::DiskHit => "cache hit (disk)",
            CacheOutcome::Compiled => "compiled (cache miss)",
            CacheOutcome::Recompiled => "compiled (the cached entry was corrupt)",
        })
    }
}

/// A compile cache over one directory (or memory only).
#[derive(Debug)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<CacheKey, Arc<Artifact>>>,
}

/// The platform's cache directory for tilus (see the module doc), if one can be found.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TILUS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    if cfg!(target_os = "macos") {
        return home.map(|h| h.join("Library/Caches/tilus"));
    }
    if cfg!(windows) {
        return std::env::var_os("LOCALAPPDATA").map(|d| PathBuf::from(d).join("tilus"));
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(x).join("tilus"));
    }
    home.map(|h| h.join(".cache/tilus"))
}

impl CompileCache {
    /// A cache in `dir` (`None`: memory only).
    pub fn new(dir: Option<PathBuf>) -> CompileCache {
        CompileCache {
            dir,
            memory: Mutex::new(HashMap::new()),
        }
    }

    /// The process-wide cache in [`default_dir`] (read when first used).
    pub fn global() -> &'static CompileCache {
        static GLOBAL: OnceLock<CompileCache> = OnceLock::new();
        GLOBAL.get_or_init(|| CompileCache::new(default_dir()))
    }

    /// The directory, if the cache has one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn artifacts(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("artifacts"))
    }

    fn path(&self, key: &CacheKey) -> Option<PathBuf> {
        self.artifacts().map(|d| d.join(format!("{key}.art")))
    }

    /// The artifact of kernel `name` for `target`: from memory, from disk, or compiled (and
    /// stored), with where it came from.
    pub fn get_or_compile(
        &self,
        program: &VerifiedProgram,
        name: &str,
        target: &Target,
        opts: &CompileOptions,
    ) -> Result<(Arc<Artifact>, CacheOutcome), LowerError> {
        let key = CacheKey::of(program, name, target, opts);
        if let Some(a) = self.memory.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok((a, CacheOutcome::MemoryHit));
        }
        let mut outcome = CacheOutcome::Compiled;
        if let Some(path) = self.path(&key) {
            match entry::read(&path) {
                Ok(Some(a)) => {
                    let a = Arc::new(a);
                    self.remember(key, &a);
                    return Ok((a, CacheOutcome::DiskHit));
                }
                Ok(None) => {}
                Err(_) => outcome = CacheOutcome::Recompiled,
            }
        }
        let compiled = compile(program, name, target, opts)?;
        let artifact = compiled
            .artifact
            .ok_or_else(|| LowerError::Internal("the pipeline produced no artifact".into()))?;
        let a = Arc::new(artifact);
        if let (Some(dir), Some(path)) = (self.artifacts(), self.path(&key)) {
            // A cache that cannot be written only loses the disk copy.
            let _ = entry::write(&dir, &path, &a);
        }
        self.remember(key, &a);
        Ok((a, outcome))
    }

    fn remember(&self, key: CacheKey, a: &Arc<Artifact>) {
        if let Ok(mut m) = self.memory.lock() {
            m.insert(key, Arc::clone(a));
        }
    }

    /// The entries on disk (unreadable ones are listed as corrupt).
    pub fn list(&self) -> Vec<EntryInfo> {
        let Some(dir) = self.artifacts() else {
            return Vec::new();
        };
        let mut out: Vec<EntryInfo> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "art"))
            .map(|p| entry::info(&p))
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Removes every entry (and leftover temporary files) from disk and memory; returns how
    /// many files were removed.
    pub fn clear(&self) -> std::io::Result<usize> {
        if let Ok(mut m) = self.memory.lock() {
            m.clear();
        }
        let Some(dir) = self.artifacts() else {
            return Ok(0);
        };
        let mut n = 0;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".art") || name.ends_with(".tmp") {
                std::fs::remove_file(&p)?;
                n += 1;
            }
        }
        Ok(n)
    }
}
