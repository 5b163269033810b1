//! Shared helpers of the execution tests.
#![allow(dead_code)]

use tilus_ir::dtype::DType;
use tilus_ir::interp::RunOptions;
use tilus_kernels::host::{error_bound, error_stats, reference_gemm, round_to, ErrorStats};
use tilus_kernels::run::run_a16wx_interp;
use tilus_kernels::{dequantize, quantize, A16WxConfig, GroupSize, QuantMode};

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    pub fn vec(&mut self, len: usize, scale: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform() * scale).collect()
    }
}

/// Quantizes random weights, runs the a16wX GEMM on the interpreter and checks it against
/// the f64 reference within the documented bound. Returns the error statistics.
pub fn check_a16wx(
    m: usize,
    n: usize,
    k: usize,
    cfg: &A16WxConfig,
    opts: &RunOptions,
    seed: u64,
) -> ErrorStats {
    let mut rng = Rng::new(seed);
    // Weights with a per-row offset so asymmetric ranges are lopsided.
    let w: Vec<f32> = (0..n * k)
        .map(|i| rng.uniform() * 0.05 + if (i / k).is_multiple_of(3) { 0.02 } else { 0.0 })
        .collect();
    let a = rng.vec(m * k, 1.0);
    let q = quantize(&w, n, k, cfg.wtype, cfg.group, cfg.mode, cfg.act).expect("quantizes");
    let c = run_a16wx_interp(m, n, k, &a, &q, cfg, opts)
        .unwrap_or_else(|e| panic!("{} m={m} n={n} k={k}: {e}", cfg.wtype));
    let ar = round_to(cfg.act, &a);
    let wd = dequantize(&q);
    let r = reference_gemm(m, n, k, &ar, &wd);
    let st = error_stats(m, n, k, &c, &r, &ar, &wd, cfg.act);
    let bound = error_bound(cfg.act, k);
    if std::env::var("A16WX_DEBUG").is_ok() {
        eprintln!(
            "{} {} {:?} max_rel {:.3e} mean {:.3e} bound {:.3e} c[0]={} r[0]={}",
            cfg.wtype, cfg.act, cfg.mode, st.max_rel, st.mean_rel, bound, c[0], r[0]
        );
    }
    assert!(
        st.max_rel <= bound,
        "{} act {} {:?} {:?} m={m} n={n} k={k} split_k={}: max rel error {:.3e} > bound {:.3e} at {} (c = {}, ref = {})",
        cfg.wtype,
        cfg.act,
        cfg.mode,
        cfg.group,
        cfg.split_k,
        st.max_rel,
        bound,
        st.argmax,
        c[st.argmax],
        r[st.argmax]
    );
    st
}

/// The default config for a case.
pub fn cfg(act: DType, wtype: DType, group: GroupSize, mode: QuantMode) -> A16WxConfig {
    A16WxConfig::default_for(act, wtype, group, mode)
}
