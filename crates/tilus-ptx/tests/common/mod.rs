//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use tilus_ptx::{launch, LaunchConfig, Memory, Module, ParamValue, PtxError, RunOptions, RunStats};

/// Assembles `text` with `$PTXAS` (when set) for the module's target, so that the
/// hand-written programs are checked to be real PTX.
pub fn ptxas(name: &str, text: &str) {
    let Ok(ptxas) = std::env::var("PTXAS") else {
        return;
    };
    let target = Module::parse(text)
        .map(|m| m.target().to_string())
        .unwrap_or("sm_80".into());
    // One directory per call: tests run on several threads and may share a name
    // (the f16 and bf16 mma tests both write `mma`), so a per-process directory races.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tilus-ptx-test-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("{name}.ptx"));
    std::fs::write(&path, text).unwrap();
    let out = Command::new(ptxas)
        .arg(format!("-arch={target}"))
        .arg(&path)
        .arg("-o")
        .arg(dir.join(format!("{name}.cubin")))
        .output()
        .expect("running $PTXAS");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "ptxas rejects {name}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Parses `text` (after checking it with ptxas) and panics with the error if it fails.
pub fn module(name: &str, text: &str) -> Module {
    ptxas(name, text);
    Module::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A 1-D launch config.
pub fn cfg(grid: u32, block: u32, smem: u32) -> LaunchConfig {
    LaunchConfig {
        grid: [grid, 1, 1],
        block: [block, 1, 1],
        dynamic_shared_bytes: smem,
    }
}

/// Runs `entry` with one pointer parameter per buffer.
pub fn run(
    m: &Module,
    entry: &str,
    cfg: LaunchConfig,
    buffers: Vec<Vec<u8>>,
) -> Result<(Memory, RunStats), PtxError> {
    let mut mem = Memory::new(buffers);
    let params: Vec<ParamValue> = (0..mem.buffers.len()).map(Memory::pointer).collect();
    let stats = launch(m, entry, &cfg, &params, &mut mem, &RunOptions::default())?;
    Ok((mem, stats))
}

pub fn bytes_u32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn bytes_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn f32s(b: &[u8]) -> Vec<f32> {
    u32s(b).into_iter().map(f32::from_bits).collect()
}

/// A deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 16) as u32
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }
}
