//! `tilus cache ls|clear`: the compile cache on disk (`$TILUS_CACHE_DIR`, else the platform
//! cache directory).

use std::fmt::Write as _;

use clap::Subcommand;
use tilus_runtime::cache::{compiler_build, CompileCache};

use super::{CliError, CmdResult};

/// The compile cache.
#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// List the cached artifacts: file, size, kernel and target (or why it is corrupt).
    Ls,
    /// Remove every cached artifact.
    Clear,
}

/// Runs `tilus cache …`.
pub fn cache(cmd: &CacheCommand) -> CmdResult {
    let cache = CompileCache::global();
    let Some(dir) = cache.dir() else {
        return Err(CliError(
            "no cache directory: set TILUS_CACHE_DIR or HOME".into(),
        ));
    };
    let mut out = String::new();
    match cmd {
        CacheCommand::Ls => {
            let entries = cache.list();
            let _ = writeln!(
                out,
                "cache: {} (compiler build {}), {} entries",
                dir.display(),
                compiler_build(),
                entries.len()
            );
            for e in entries {
                let name = e
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let what = match e.summary {
                    Ok(s) => s,
                    Err(why) => format!("CORRUPT: {why} (recompiled on next use)"),
                };
                let _ = writeln!(out, "{name}  {:>9} B  {what}", e.bytes);
            }
        }
        CacheCommand::Clear => {
            let n = cache
                .clear()
                .map_err(|e| CliError(format!("clearing {}: {e}", dir.display())))?;
            let _ = writeln!(out, "removed {n} files from {}", dir.display());
        }
    }
    Ok(out)
}
