//! The SIMT a16wX GEMM: the small-M (decode) path for targets without tensor cores.
//!
//! Same contract as [`crate::a16wx()`], `C = A · dequant(W)ᵀ`, but built for SIMT targets
//! (WGSL today, the CPU later) and for `M ≤ 16`:
//!
//! - **Weights column-major, streamed once.** Each output column `n` stores its `K` codes as
//!   one little-endian bit stream padded to `Kpad = ceil(K/32)·32` codes, so the buffer is
//!   `u32 [N, Kpad·bits/32]` ([`pack_simt_host`]). A thread reads `ks` consecutive codes of a
//!   column as `ks·bits/32` whole words (a vector load) and every weight byte is read by one
//!   thread of one block.
//! - **K split across threads.** A block has `threads_n × threads_k` threads; thread
//!   `t = tn·threads_k + tk` owns `cols_per_thread` consecutive columns and, in every k-tile
//!   of `BK = threads_k·ks`, the `ks` codes `[tk·ks, (tk+1)·ks)`. It keeps one `f32` partial
//!   sum per (row, column); the `threads_k` partials are combined once at the end
//!   (a cross-thread `reduce`).
//! - **Exact `f32` dequantization, scale factored out.** Per k-tile and row:
//!   `t = Σ_j a_j·(q_j − z)` over the thread's `ks` codes, then `partial += t·s`. Every
//!   `a·(q − z)` is exact in `f32` (an `f16`/`bf16` value times at most 9 significant bits),
//!   so only the sums and the one product by the scale round; there is no `f16` arithmetic
//!   and no rounding of the dequantized weight to the activation dtype.
//!
//! The tile program states all of this (views, broadcasts, reductions), so the tile
//! interpreter computes exactly what a backend computes: the result is bit-identical on
//! every backend that does not contract `t·s + partial` into a fused multiply-add
//! (lavapipe does not; the error bound [`crate::host::simt_error_bound`] covers both).
//!
//! Kernel parameters: `m, n, k: i32`, `a: *act [M, K]`, `b: *u32` packed weights,
//! `scales: *act [G, N]`, `zeros: *act [G, N]` (asymmetric only), `c: *act [M, N]`.
//! Grid `(cdiv(N, BN), cdiv(M, BM))`.

use tilus_ir::builder::{KernelBuilder, Tile};
use tilus_ir::dtype::{pack, DType};
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::inst::{Operand, TileBinaryOp};
use tilus_ir::layout::{replicated, spatial, RegisterLayout};
use tilus_ir::program::{Function, Unroll};

use crate::config::{is_activation_type, is_weight_type, GroupSize, QuantMode};
use crate::error::{KernelError, Result};
use crate::gemm::NamedLet;
use crate::packed::check_codes;
use crate::quant::symmetric_zero;

const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};

/// Tile configuration of the SIMT a16wX GEMM (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SimtConfig {
    /// Activation (and output, scale, zero point) dtype: `f16` or `bf16`.
    pub act: DType,
    /// Weight dtype: every a16wX weight type ([`is_weight_type`]), `f16` included.
    pub wtype: DType,
    /// Quantization group size along `k`; a multiple of `block_k`, or per channel.
    pub group: GroupSize,
    /// Symmetric or asymmetric quantization.
    pub mode: QuantMode,
    /// Rows of `A`/`C` per block (1 to 16).
    pub block_m: usize,
    /// Threads along `n`.
    pub threads_n: usize,
    /// Threads along `k` (their partial sums are reduced at the end).
    pub threads_k: usize,
    /// Consecutive columns per thread.
    pub cols_per_thread: usize,
    /// Consecutive codes per thread per k-tile; `ks·bits` must be a multiple of 32.
    pub ks: usize,
    /// The kernel assumes `k % k_multiple == 0` (`assume`; launches with another `k` are
    /// refused), which lets the activation rows load as vectors. 1 assumes nothing.
    pub k_multiple: u32,
    /// The kernel assumes `n % n_multiple == 0`, which lets each thread store its columns of
    /// `C` as whole words (no atomics). 1 assumes nothing.
    pub n_multiple: u32,
}

impl SimtConfig {
    /// The default for `m` rows: `block_m` the next power of two of `m` (at most 4: more
    /// rows per block make the unrolled kernel large enough that drivers take seconds to
    /// compile it, for little gain),
    /// 32 threads along `n` with 4 columns each, no split of `k` across threads, and 32
    /// codes per thread and tile (`bits` words, 16 for `f16` weights). Measured on
    /// lavapipe (docs/perf.md): more columns per thread amortize the activation loads (8
    /// are 15% faster still at M = 1) but double the unrolled code; 4 keeps the WGSL of the
    /// a16w4 kernel under 40 KB and its compilation under 15 ms.
    pub fn default_for(
        act: DType,
        wtype: DType,
        group: GroupSize,
        mode: QuantMode,
        m: usize,
    ) -> Self {
        SimtConfig {
            act,
            wtype,
            group,
            mode,
            block_m: m.clamp(1, 4).next_power_of_two(),
            threads_n: 32,
            threads_k: 1,
            cols_per_thread: 4,
            ks: 32,
            k_multiple: 1,
            n_multiple: 1,
        }
    }

    /// This configuration specialized for `n` output columns and reduction length `k`: it
    /// assumes the largest powers of two (at most 32) that divide them.
    pub fn specialized_for(mut self, n: usize, k: usize) -> Self {
        self.k_multiple = 1 << k.trailing_zeros().min(5);
        self.n_multiple = 1 << n.trailing_zeros().min(5);
        self
    }

    /// Columns per block: `threads_n · cols_per_thread`.
    pub fn block_n(&self) -> usize {
        self.threads_n * self.cols_per_thread
    }

    /// Codes along `k` per k-tile: `threads_k · ks`.
    pub fn block_k(&self) -> usize {
        self.threads_k * self.ks
    }

    /// Threads per block.
    pub fn threads(&self) -> usize {
        self.threads_n * self.threads_k
    }

    /// Packed words a thread loads per column and tile: `ks·bits/32`.
    pub fn words_per_thread(&self) -> usize {
        self.ks * self.wtype.bits() as usize / 32
    }

    /// Checks dtypes, thread counts, the tile and the group size.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| KernelError::InvalidConfig {
            kernel: "a16wx_simt",
            reason,
        };
        if !is_activation_type(self.act) {
            return Err(KernelError::UnsupportedDType {
                role: "activation",
                dtype: self.act,
                expected: "f16 or bf16",
            });
        }
        if !is_weight_type(self.wtype) {
            return Err(KernelError::UnsupportedDType {
                role: "weight",
                dtype: self.wtype,
                expected:
                    "an integer of 1 to 8 bits, a minifloat f{n}e{E}m{M}, f8e4m3fn, f8e5m2 or f16",
            });
        }
        if self.mode == QuantMode::Asymmetric && !self.wtype.is_int() {
            return Err(KernelError::AsymmetricFloat(self.wtype));
        }
        if !(1..=16).contains(&self.block_m) {
            return Err(bad(format!(
                "block_m = {} must be 1 to 16 (one partial sum per row and column lives in \
                 registers)",
                self.block_m
            )));
        }
        let small = |v: usize, what: &str, max: usize| {
            if v == 0 || v > max {
                Err(bad(format!("{what} = {v} must be 1 to {max}")))
            } else {
                Ok(())
            }
        };
        small(self.threads_n, "threads_n", 1024)?;
        small(self.threads_k, "threads_k", 1024)?;
        small(self.cols_per_thread, "cols_per_thread", 16)?;
        small(self.ks, "ks", 256)?;
        if self.k_multiple == 0 || self.n_multiple == 0 {
            return Err(bad("k_multiple and n_multiple must be at least 1".into()));
        }
        let threads = self.threads();
        if threads > 1024 || !threads.is_multiple_of(32) {
            return Err(bad(format!(
                "threads_n·threads_k = {threads} must be a multiple of 32 (whole warps) and \
                 at most 1024"
            )));
        }
        let bits = self.wtype.bits() as usize;
        if !(self.ks * bits).is_multiple_of(32) {
            return Err(bad(format!(
                "ks·bits = {}·{bits} must be a multiple of 32: each thread loads whole \
                 packed words",
                self.ks
            )));
        }
        if let GroupSize::Size(g) = self.group {
            if g == 0 || !g.is_multiple_of(self.block_k()) {
                return Err(bad(format!(
                    "group size {g} must be a positive multiple of block_k = threads_k·ks = {} \
                     (one scale per column and k-tile)",
                    self.block_k()
                )));
            }
        }
        Ok(())
    }
}

/// The kernel name: `a16wx_simt_<act>_<wtype>` (`_asym` appended in asymmetric mode).
pub fn simt_name(cfg: &SimtConfig) -> String {
    let mode = match cfg.mode {
        QuantMode::Symmetric => "",
        QuantMode::Asymmetric => "_asym",
    };
    format!("a16wx_simt_{}_{}{mode}", cfg.act, cfg.wtype)
}

/// The layouts of the kernel's tiles, derived from the configuration.
struct Layouts {
    /// Packed words `[BN, threads_k·W]`.
    words: RegisterLayout,
    /// Codes and products `[BN, threads_k, ks]`.
    codes: RegisterLayout,
    /// Activations `[1, BK]` (replicated over the `n` threads).
    act_row: RegisterLayout,
    /// Activations `[1, threads_k, ks]`.
    act3: RegisterLayout,
    /// Scale (and reduced output) columns `[BN, 1]` (replicated over the `k` threads).
    col: RegisterLayout,
    /// Zero points `[BN, 1, 1]`.
    col3: RegisterLayout,
    /// Partial sums `[BN, threads_k]`.
    partial: RegisterLayout,
    /// An output row `[1, BN]` (replicated over the `k` threads).
    out_row: RegisterLayout,
}

impl Layouts {
    fn new(cfg: &SimtConfig) -> Self {
        let (tn, tk, rn, ks) = (cfg.threads_n, cfg.threads_k, cfg.cols_per_thread, cfg.ks);
        let w = cfg.words_per_thread();
        Layouts {
            words: spatial(&[tn, tk]).local(&[rn, w]),
            codes: spatial(&[tn, tk, 1]).local(&[rn, 1, ks]),
            act_row: replicated(&[1, 1], tn).spatial(&[1, tk]).local(&[1, ks]),
            act3: replicated(&[1, 1, 1], tn)
                .spatial(&[1, tk, 1])
                .local(&[1, 1, ks]),
            col: spatial(&[tn, 1])
                .compose(&replicated(&[1, 1], tk))
                .local(&[rn, 1]),
            col3: spatial(&[tn, 1, 1])
                .compose(&replicated(&[1, 1, 1], tk))
                .local(&[rn, 1, 1]),
            partial: spatial(&[tn, tk]).local(&[rn, 1]),
            out_row: spatial(&[1, tn])
                .compose(&replicated(&[1, 1], tk))
                .local(&[1, rn]),
        }
    }
}

/// Generates the SIMT a16wX kernel for `cfg` (validated first).
pub fn a16wx_simt(cfg: &SimtConfig) -> Result<Function> {
    cfg.validate()?;
    let l = Layouts::new(cfg);
    let (bm, bn, bk) = (cfg.block_m, cfg.block_n(), cfg.block_k());
    let tk = cfg.threads_k;
    let wt = tk * cfg.words_per_thread();
    let bits = cfg.wtype.bits() as i64;
    let act = cfg.act;
    let asym = cfg.mode == QuantMode::Asymmetric;
    let kb = KernelBuilder::new(&simt_name(cfg), (cfg.threads() / 32) as u32);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", act);
    let b = kb.pointer_param("b", U32);
    let scales = kb.pointer_param("scales", act);
    let zeros = asym.then(|| kb.pointer_param("zeros", act));
    let c = kb.pointer_param("c", act);
    kb.grid(&[n.cdiv(bn), m.cdiv(bm)]);
    if cfg.k_multiple > 1 {
        kb.assume_divisible(k, cfg.k_multiple);
    }
    if cfg.n_multiple > 1 {
        kb.assume_divisible(n, cfg.n_multiple);
    }

    let tiles_k = k.cdiv(bk as i64);
    let groups = match cfg.group {
        GroupSize::Size(g) => k.cdiv(g as i64),
        GroupSize::PerChannel => kb.int(1),
    };
    // Words per packed column: ceil(K/32)·bits.
    let col_words = k.cdiv(32) * bits;
    let ga = kb.global_view(a, &[m, k]).named("ga");
    let gb = kb.global_view(b, &[n, col_words]).named("gb");
    // Scales and zero points transposed: column n of a group is element [n, ·].
    let gs = kb
        .global_view_strided(scales, &[n, groups], &[kb.int(1), n])
        .named("gs");
    let gz = zeros.map(|z| {
        kb.global_view_strided(z, &[n, groups, kb.int(1)], &[kb.int(1), n, kb.int(1)])
            .named("gz")
    });
    let gc = kb.global_view(c, &[m, n]).named("gc");
    let row = (kb.block_idx(Axis::Y) * bm as i64).named_let(&kb, "row");
    let col = (kb.block_idx(Axis::X) * bn as i64).named_let(&kb, "col");

    let partials: Vec<Tile<'_>> = (0..bm)
        .map(|r| {
            let p = kb
                .alloc_register(DType::F32, &[bn, tk], Some(0.0))
                .named(&format!("part{r}"));
            kb.annotate_layout(&p, &l.partial);
            p
        })
        .collect();
    let const_zero = symmetric_zero(cfg.wtype);
    let group_len = match cfg.group {
        GroupSize::Size(g) => Some(g as i64),
        GroupSize::PerChannel => None,
    };

    kb.for_range("kt", 0, tiles_k, 1, Unroll::None, |kt| {
        let g = match group_len {
            Some(len) => kt * bk as i64 / len,
            None => kb.int(0),
        };
        let words = kb
            .load_global(&gb, &[col, kt * wt as i64], &[bn, wt])
            .named("wwords");
        kb.annotate_layout(&words, &l.words);
        let q = kb.view(&words, cfg.wtype, &l.codes).named("wq");
        let mut qf = q.cast(DType::F32).named("qf");
        match &gz {
            Some(gz) => {
                let z = kb
                    .load_global(gz, &[col, g, kb.int(0)], &[bn, 1, 1])
                    .named("zcol");
                kb.annotate_layout(&z, &l.col3);
                let zf = z.cast(DType::F32).named("zf");
                qf = (qf - zf).named("qz");
            }
            None if const_zero != 0.0 => qf = (qf - const_zero).named("qz"),
            None => {}
        }
        let s = kb.load_global(&gs, &[col, g], &[bn, 1]).named("scol");
        kb.annotate_layout(&s, &l.col);
        let sf = s.cast(DType::F32).named("sf");
        for (r, part) in partials.iter().enumerate() {
            let arow = kb
                .load_global(&ga, &[row + r as i64, kt * bk as i64], &[1, bk])
                .named(&format!("a{r}"));
            kb.annotate_layout(&arow, &l.act_row);
            let af = arow.cast(DType::F32).named(&format!("af{r}"));
            kb.annotate_layout(&af, &l.act_row);
            let a3 = kb.view(&af, DType::F32, &l.act3).named(&format!("a3_{r}"));
            let prod = (qf * a3).named(&format!("prod{r}"));
            let t = prod.sum(2, false).named(&format!("t{r}"));
            let ts = (t * sf).named(&format!("ts{r}"));
            kb.binary_into(
                part,
                TileBinaryOp::Add,
                Operand::Tensor(part.id),
                Operand::Tensor(ts.id),
            );
        }
    });

    for (r, part) in partials.iter().enumerate() {
        let total = part.sum(1, true).named(&format!("sum{r}"));
        kb.annotate_layout(&total, &l.col);
        let out = total.cast(act).named(&format!("out{r}"));
        kb.annotate_layout(&out, &l.col);
        // The thread's columns as a row of C: the same registers, stored contiguously.
        let orow = kb.view(&out, act, &l.out_row).named(&format!("orow{r}"));
        // The column offset as an expression (not the `col` variable), so that the compiler
        // sees it is a multiple of the block width and stores whole words.
        let col_x = kb.block_idx(Axis::X) * bn as i64;
        kb.store_global(&gc, &orow, &[row + r as i64, col_x]);
    }
    Ok(kb.finish()?)
}

/// Packs `[n, k]` row-major codes into the SIMT format: per column, the codes as one
/// little-endian bit stream padded with the zero code to `ceil(k/32)·32` codes, as `u32`
/// words `[n, ceil(k/32)·bits]` (little-endian bytes).
pub fn pack_simt_host(wtype: DType, codes: &[u64], n: usize, k: usize) -> Result<Vec<u8>> {
    check_codes(codes, n, k)?;
    let kpad = k.div_ceil(32) * 32;
    let mut column = vec![0u64; kpad];
    let mut out = Vec::with_capacity(n * kpad * wtype.bits() as usize / 8);
    for j in 0..n {
        column[..k].copy_from_slice(&codes[j * k..(j + 1) * k]);
        out.extend_from_slice(&pack::try_pack(wtype.bits(), &column)?);
    }
    Ok(out)
}
