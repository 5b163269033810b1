//! Tile configurations of the kernels, and their validation.
//!
//! A configuration is a plain value; generators call `validate` first so that every
//! constraint fails with a sentence that names it, before any program is built.

use tilus_ir::dtype::DType;

use crate::error::{KernelError, Result};

/// How many consecutive `k` share one scale (and zero point).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupSize {
    /// Groups of this many elements along `k` (the last group may be shorter).
    Size(usize),
    /// One group spanning all of `k` (per output channel).
    PerChannel,
}

impl GroupSize {
    /// The number of groups `G` for a reduction length `k`: `ceil(k / size)`, or 1.
    pub fn num_groups(self, k: usize) -> usize {
        match self {
            GroupSize::Size(g) if g > 0 => k.div_ceil(g),
            _ => 1,
        }
    }

    /// The number of `k` in each group for a reduction length `k`.
    pub fn len(self, k: usize) -> usize {
        match self {
            GroupSize::Size(g) => g,
            GroupSize::PerChannel => k.max(1),
        }
    }
}

/// How weights are mapped to codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantMode {
    /// Zero maps to zero (or levels symmetric around zero for unsigned types); one scale
    /// per group.
    Symmetric,
    /// A scale and an integer zero point per group (integer weight types only).
    Asymmetric,
}

/// Tile configuration of the a16wX mixed-precision GEMM (see [`crate::a16wx()`]).
///
/// The block tile is one block-level MMA tile ([`tilus_ir::layout::atoms::mma_block`]):
/// `block_m = 16·wsm·wrm`, `block_n = 8·wsn·wrn`, `block_k = 16·wrk`, with
/// `warp_spatial = (wsm, wsn)` warps and `warp_repeat = (wrm, wrn, wrk)` repeats of the
/// m16n8k16 atom per warp. The block sizes are stated explicitly (they are what users tune
/// and read) and validated against the warp counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct A16WxConfig {
    /// Activation (and output, scale, zero point) dtype: `f16` or `bf16`.
    pub act: DType,
    /// Weight dtype: `u1`..`u8`, `i1`..`i8`, a minifloat, `f8e4m3fn` or `f8e5m2`.
    pub wtype: DType,
    /// Quantization group size along `k`; a multiple of `block_k`, or per channel.
    pub group: GroupSize,
    /// Symmetric or asymmetric quantization.
    pub mode: QuantMode,
    /// Rows of `A`/`C` per block.
    pub block_m: usize,
    /// Columns of `C` per block.
    pub block_n: usize,
    /// Reduction step per pipeline stage.
    pub block_k: usize,
    /// Warps along m and n: `(wsm, wsn)`.
    pub warp_spatial: (usize, usize),
    /// MMA atoms per warp along m, n and k: `(wrm, wrn, wrk)`.
    pub warp_repeat: (usize, usize, usize),
    /// Stages of the `copy_async` pipeline for the activation tile (≥ 1).
    pub num_stages: usize,
    /// Blocks sharing one output tile along `k` (≥ 1); partial sums are combined in a
    /// fixed order through semaphores.
    pub split_k: usize,
}

/// Which element types can be weights of the a16wX GEMM: every integer of 1 to 8 bits,
/// every minifloat, `f8e4m3fn` and `f8e5m2` — and `f16`, the a16w16 baseline that
/// benchmarks compare against (the same kernel, streaming 16-bit weights).
pub fn is_weight_type(d: DType) -> bool {
    match d {
        DType::Int { bits, .. } => (1..=8).contains(&bits),
        DType::F8E4M3FN | DType::F8E5M2 | DType::F16 => true,
        DType::MiniFloat { .. } => d.is_valid(),
        DType::F32 | DType::BF16 => false,
    }
}

/// Every low-precision weight type (1 to 8 bits), in [`DType::all`] order (the `f16`
/// baseline is not included).
pub fn weight_types() -> Vec<DType> {
    DType::all()
        .into_iter()
        .filter(|&d| is_weight_type(d) && d.bits() <= 8)
        .collect()
}

/// Whether `d` is an activation dtype of the a16wX GEMM (`f16` or `bf16`).
pub fn is_activation_type(d: DType) -> bool {
    matches!(d, DType::F16 | DType::BF16)
}

fn invalid(kernel: &'static str, reason: String) -> KernelError {
    KernelError::InvalidConfig { kernel, reason }
}

impl A16WxConfig {
    /// The default tile for decode-like shapes: 4 warps in a row (`warp_spatial = (1, 4)`),
    /// `warp_repeat = (1, 2, 2)`, i.e. `block_m = 16`, `block_n = 64`, `block_k = 32`,
    /// a 2-stage pipeline and no split-K.
    pub fn default_for(act: DType, wtype: DType, group: GroupSize, mode: QuantMode) -> Self {
        A16WxConfig {
            act,
            wtype,
            group,
            mode,
            block_m: 16,
            block_n: 64,
            block_k: 32,
            warp_spatial: (1, 4),
            warp_repeat: (1, 2, 2),
            num_stages: 2,
            split_k: 1,
        }
    }

    /// A configuration with the block sizes derived from the warp counts.
    #[allow(clippy::too_many_arguments)]
    pub fn from_warps(
        act: DType,
        wtype: DType,
        group: GroupSize,
        mode: QuantMode,
        warp_spatial: (usize, usize),
        warp_repeat: (usize, usize, usize),
        num_stages: usize,
        split_k: usize,
    ) -> Self {
        A16WxConfig {
            act,
            wtype,
            group,
            mode,
            block_m: 16usize
                .saturating_mul(warp_spatial.0)
                .saturating_mul(warp_repeat.0),
            block_n: 8usize
                .saturating_mul(warp_spatial.1)
                .saturating_mul(warp_repeat.1),
            block_k: 16usize.saturating_mul(warp_repeat.2),
            warp_spatial,
            warp_repeat,
            num_stages,
            split_k,
        }
    }

    /// Warps per block (`wsm · wsn`).
    pub fn warps(&self) -> usize {
        self.warp_spatial.0 * self.warp_spatial.1
    }

    /// Register bytes of packed weights per thread per weight tile:
    /// `(4 · wrk · wrn slots) · bits / 8` (`None` when not a whole number).
    pub fn weight_bytes_per_thread(&self) -> Option<usize> {
        let bits = 4usize
            .checked_mul(self.warp_repeat.1)?
            .checked_mul(self.warp_repeat.2)?
            .checked_mul(self.wtype.bits() as usize)?;
        bits.is_multiple_of(8).then_some(bits / 8)
    }

    /// Checks the configuration: dtypes, the block/warp relations, the pipeline, split-K,
    /// the group size and the packed-weight byte count.
    pub fn validate(&self) -> Result<()> {
        const K: &str = "a16wx";
        if !is_activation_type(self.act) {
            return Err(KernelError::UnsupportedDType {
                role: "activation",
                dtype: self.act,
                expected: "f16 or bf16 (the m16n8k16 tensor-core operand types)",
            });
        }
        if !is_weight_type(self.wtype) {
            return Err(KernelError::UnsupportedDType {
                role: "weight",
                dtype: self.wtype,
                expected: "an integer of 1 to 8 bits, a minifloat f{n}e{E}m{M}, f8e4m3fn or f8e5m2",
            });
        }
        if self.mode == QuantMode::Asymmetric && !self.wtype.is_int() {
            return Err(KernelError::AsymmetricFloat(self.wtype));
        }
        let (wsm, wsn) = self.warp_spatial;
        let (wrm, wrn, wrk) = self.warp_repeat;
        if [wsm, wsn, wrm, wrn, wrk].contains(&0) {
            return Err(invalid(
                K,
                format!(
                    "warp_spatial {:?} and warp_repeat {:?} must be positive",
                    self.warp_spatial, self.warp_repeat
                ),
            ));
        }
        if [wrm, wrn, wrk].iter().any(|&r| r > 16) {
            return Err(invalid(
                K,
                format!(
                    "warp_repeat {:?}: at most 16 atoms per warp along each of m, n, k (more \
                     does not fit a thread's registers)",
                    self.warp_repeat
                ),
            ));
        }
        let warps = wsm.saturating_mul(wsn);
        if warps > 32 {
            return Err(invalid(
                K,
                format!("{warps} warps (warp_spatial {wsm}×{wsn}): a block has at most 32"),
            ));
        }
        // All factors are at most 32 here, so the products cannot overflow.
        let want = (16 * wsm * wrm, 8 * wsn * wrn, 16 * wrk);
        if (self.block_m, self.block_n, self.block_k) != want {
            return Err(invalid(
                K,
                format!(
                    "block (m, n, k) = ({}, {}, {}) must be one block-level m16n8k16 tile: \
                     (16·wsm·wrm, 8·wsn·wrn, 16·wrk) = {want:?} for warp_spatial {:?} and \
                     warp_repeat {:?}",
                    self.block_m, self.block_n, self.block_k, self.warp_spatial, self.warp_repeat
                ),
            ));
        }
        if self.num_stages == 0 || self.num_stages > 8 {
            return Err(invalid(
                K,
                format!("num_stages = {} must be 1 to 8", self.num_stages),
            ));
        }
        if self.split_k == 0 || self.split_k > 1024 {
            return Err(invalid(
                K,
                format!("split_k = {} must be 1 to 1024", self.split_k),
            ));
        }
        if let GroupSize::Size(g) = self.group {
            if g == 0 || g % self.block_k != 0 {
                return Err(invalid(
                    K,
                    format!(
                        "group size {g} must be a positive multiple of block_k = {} (each \
                         k-tile must lie in one quantization group so that one scale row \
                         serves it); use a smaller block_k or GroupSize::PerChannel",
                        self.block_k
                    ),
                ));
            }
        }
        if self.weight_bytes_per_thread().is_none() {
            return Err(invalid(
                K,
                format!(
                    "each thread holds 4·wrk·wrn = {} weights of {} bits = {} bits per tile, \
                     not a whole number of bytes, so the packed tile cannot be viewed as \
                     bytes; make wrk·wrn even",
                    4 * wrn * wrk,
                    self.wtype.bits(),
                    4 * wrn * wrk * self.wtype.bits() as usize
                ),
            ));
        }
        Ok(())
    }
}

/// Tile configuration of the plain GEMM (see [`crate::gemm()`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GemmConfig {
    /// Rows of `A`/`C` per block.
    pub block_m: usize,
    /// Columns of `B`/`C` per block.
    pub block_n: usize,
    /// Reduction step per pipeline stage.
    pub block_k: usize,
    /// Warps per block (1 to 32).
    pub warps: usize,
    /// Stages of the `copy_async` pipeline (≥ 1).
    pub num_stages: usize,
}

impl Default for GemmConfig {
    /// 64×64×32 tiles, 4 warps, 2 stages.
    fn default() -> Self {
        GemmConfig {
            block_m: 64,
            block_n: 64,
            block_k: 32,
            warps: 4,
            num_stages: 2,
        }
    }
}

impl GemmConfig {
    /// Checks positive tile sizes, the warp count, the pipeline depth and the shared-memory
    /// budget (stages × (A tile + B tile) ≤ 228 KiB, the largest per-block shared memory of
    /// current GPUs).
    pub fn validate(&self, dtype: DType) -> Result<()> {
        const K: &str = "gemm";
        if !matches!(dtype, DType::F16 | DType::BF16 | DType::F32) {
            return Err(KernelError::UnsupportedDType {
                role: "gemm operand",
                dtype,
                expected: "f16, bf16 or f32",
            });
        }
        if [self.block_m, self.block_n, self.block_k].contains(&0) {
            return Err(invalid(
                K,
                format!(
                    "block sizes ({}, {}, {}) must be positive",
                    self.block_m, self.block_n, self.block_k
                ),
            ));
        }
        if self.warps == 0 || self.warps > 32 {
            return Err(invalid(
                K,
                format!("warps = {} must be 1 to 32", self.warps),
            ));
        }
        if self.num_stages == 0 || self.num_stages > 8 {
            return Err(invalid(
                K,
                format!("num_stages = {} must be 1 to 8", self.num_stages),
            ));
        }
        let elems = self
            .block_k
            .saturating_mul(self.block_m.saturating_add(self.block_n))
            .saturating_mul(self.num_stages);
        let bytes = elems.saturating_mul(dtype.bits() as usize) / 8;
        if bytes > 228 * 1024 {
            return Err(invalid(
                K,
                format!(
                    "{} stages of A [{}, {}] and B [{}, {}] tiles of {dtype} need {bytes} bytes \
                     of shared memory, more than 228 KiB",
                    self.num_stages, self.block_m, self.block_k, self.block_k, self.block_n
                ),
            ));
        }
        Ok(())
    }
}
