//! Assembling emitted PTX with NVIDIA's `ptxas` (from the `nvidia-cuda-nvcc-cu12` wheel; no
//! GPU needed), for tests and the CLI: the module is written to a temporary file,
//! assembled for its architecture with `-v`, and the resource line is parsed. Nothing in
//! the compiler itself depends on `ptxas`.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

/// What `ptxas -v` reports about one kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PtxasReport {
    /// Registers per thread.
    pub registers: u32,
    /// Bytes of spill stores.
    pub spill_stores: u32,
    /// Bytes of spill loads.
    pub spill_loads: u32,
    /// Bytes of stack frame.
    pub stack: u32,
}

impl PtxasReport {
    /// Whether the kernel spills registers (or uses a stack frame).
    pub fn spills(&self) -> bool {
        self.spill_stores > 0 || self.spill_loads > 0 || self.stack > 0
    }
}

fn number_before(line: &str, word: &str) -> Option<u32> {
    let i = line.find(word)?;
    line[..i].split_whitespace().last()?.parse().ok()
}

/// Parses the `-v` output of `ptxas`.
pub fn parse_report(text: &str) -> PtxasReport {
    let mut r = PtxasReport::default();
    for line in text.lines() {
        if let Some(n) = number_before(line, "registers") {
            r.registers = n;
        }
        if let Some(n) = number_before(line, "bytes spill stores") {
            r.spill_stores = n;
        }
        if let Some(n) = number_before(line, "bytes spill loads") {
            r.spill_loads = n;
        }
        if let Some(n) = number_before(line, "bytes stack frame") {
            r.stack = n;
        }
    }
    r
}

/// Assembles `source` for `arch` (`sm_80`) with the `ptxas` at `ptxas`; an error carries
/// ptxas's message.
pub fn assemble(ptxas: &OsStr, source: &str, arch: &str) -> Result<PtxasReport, String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir();
    let stem = format!("tilus-ptxas-{}-{n}", std::process::id());
    let input: PathBuf = dir.join(format!("{stem}.ptx"));
    let output: PathBuf = dir.join(format!("{stem}.cubin"));
    std::fs::write(&input, source).map_err(|e| format!("writing {}: {e}", input.display()))?;
    let run = Command::new(ptxas)
        .arg(format!("-arch={arch}"))
        .arg("-v")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output();
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    let out = run.map_err(|e| format!("running ptxas ({}): {e}", ptxas.to_string_lossy()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(format!("ptxas rejected the module for {arch}:\n{text}"));
    }
    Ok(parse_report(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resource_lines() {
        let text = "ptxas info    : Compiling entry function 'k' for 'sm_80'\n\
                    ptxas info    : Function properties for k\n\
                    \x20   8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads\n\
                    ptxas info    : Used 47 registers, used 1 barriers, 392 bytes cmem[0]\n";
        let r = parse_report(text);
        assert_eq!(
            r,
            PtxasReport {
                registers: 47,
                spill_stores: 4,
                spill_loads: 12,
                stack: 8
            }
        );
        assert!(r.spills());
    }
}
