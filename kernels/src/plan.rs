//! Which a16wX kernel runs a problem: the tensor-core-shaped tiled kernel ([`crate::a16wx()`])
//! or the SIMT small-M kernel ([`crate::simt`]), chosen by configuration.

use tilus_ir::dtype::DType;
use tilus_ir::program::Function;

use crate::a16wx::a16wx;
use crate::config::{A16WxConfig, GroupSize, QuantMode};
use crate::error::Result;
use crate::host::{error_bound, simt_error_bound};
use crate::packed::{pack_codes_host, PackedFormat};
use crate::quant::Quantized;
use crate::run::check_weights;
use crate::simt::{a16wx_simt, pack_simt_host, SimtConfig};

/// An a16wX kernel configuration of either kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum A16WxPlan {
    /// The tiled kernel with block-level m16n8k16 layouts (tensor cores where the target has
    /// them; the exact shared-memory `dot` elsewhere).
    Mma(A16WxConfig),
    /// The SIMT kernel: column-major packed weights, K split across threads, exact `f32`
    /// dequantization.
    Simt(SimtConfig),
}

/// Which kernel kind [`A16WxPlan::choose`] should pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// SIMT when the target has no tensor cores or `m ≤ 16`, else MMA.
    Auto,
    /// Always the SIMT kernel.
    Simt,
    /// Always the MMA-tiled kernel.
    Mma,
}

impl A16WxPlan {
    /// The default plan for an `m × n × k` problem on a target with (`has_mma`) or without
    /// tensor cores (the SIMT kernel is specialized for the divisibility of `n` and `k`).
    pub fn choose(
        kind: KernelKind,
        (act, wtype, group, mode): (DType, DType, GroupSize, QuantMode),
        (m, n, k): (usize, usize, usize),
        has_mma: bool,
    ) -> Self {
        let simt = match kind {
            KernelKind::Simt => true,
            KernelKind::Mma => false,
            KernelKind::Auto => !has_mma || m <= 16,
        };
        if simt {
            A16WxPlan::Simt(
                SimtConfig::default_for(act, wtype, group, mode, m).specialized_for(n, k),
            )
        } else {
            A16WxPlan::Mma(A16WxConfig::default_for(act, wtype, group, mode))
        }
    }

    /// `(act, wtype, group, mode)`.
    pub fn weights(&self) -> (DType, DType, GroupSize, QuantMode) {
        match self {
            A16WxPlan::Mma(c) => (c.act, c.wtype, c.group, c.mode),
            A16WxPlan::Simt(c) => (c.act, c.wtype, c.group, c.mode),
        }
    }

    /// The activation dtype.
    pub fn act(&self) -> DType {
        self.weights().0
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<()> {
        match self {
            A16WxPlan::Mma(c) => c.validate(),
            A16WxPlan::Simt(c) => c.validate(),
        }
    }

    /// The tile program.
    pub fn function(&self) -> Result<Function> {
        match self {
            A16WxPlan::Mma(c) => a16wx(c),
            A16WxPlan::Simt(c) => a16wx_simt(c),
        }
    }

    /// The packed weight buffer the kernel reads (bytes), from `q` (checked against the
    /// plan).
    pub fn pack(&self, q: &Quantized) -> Result<Vec<u8>> {
        check_weights(q, self.weights())?;
        match self {
            A16WxPlan::Mma(c) => pack_codes_host(&PackedFormat::new(c)?, &q.codes, q.n, q.k),
            A16WxPlan::Simt(c) => pack_simt_host(c.wtype, &q.codes, q.n, q.k),
        }
    }

    /// The documented bound on the relative error for reduction length `k`.
    pub fn error_bound(&self, k: usize) -> f64 {
        match self {
            A16WxPlan::Mma(c) => error_bound(c.act, k),
            A16WxPlan::Simt(c) => simt_error_bound(c.act, k),
        }
    }

    /// One line describing the tile.
    pub fn describe(&self) -> String {
        match self {
            A16WxPlan::Mma(c) => format!(
                "tile: mma {}x{}x{}, {} warps, {} stages, split_k {}",
                c.block_m,
                c.block_n,
                c.block_k,
                c.warps(),
                c.num_stages,
                c.split_k
            ),
            A16WxPlan::Simt(c) => format!(
                "tile: simt {}x{}x{}, {} threads ({} along n x {} along k), {} columns and {} codes per thread",
                c.block_m,
                c.block_n(),
                c.block_k(),
                c.threads(),
                c.threads_n,
                c.threads_k,
                c.cols_per_thread,
                c.ks
            ),
        }
    }
}
