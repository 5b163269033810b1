//! `dot`: `d[m,n] = a[m,k] @ b[k,n] (+ c[m,n])`.
//!
//! When `m % 16 == 0`, `n % 8 == 0` and `k % 16 == 0`, the operands get the block-level
//! m16n8k16 layouts of [`mma_block`] for a warp split `(wsm, wsn)`, `wsm · wsn = warps`,
//! with `(m/16) % wsm == 0` and `(n/8) % wsn == 0`, repeated `(m/16/wsm, n/8/wsn, k/16)`
//! times (Tilus's `resolve_dot_config`). Among the splits whose estimated registers per
//! thread are below 224 it takes the one that agrees with the most operands already laid
//! out, then the one with the fewest registers (`(bytes of a + b + c fragments) / 4`), then
//! the smallest `wsm`. Without such a split, every operand gets the generic
//! `auto_local_spatial` layout of its shape.
//!
//! Operands that already have layouts keep them (the WGSL dot accepts any layouts); the
//! addend `c` and the result share a layout when either one is known.

use tilus_ir::dtype::DType;
use tilus_ir::layout::atoms::mma_block;
use tilus_ir::layout::{auto_local_spatial, RegisterLayout};
use tilus_ir::program::{Inst, TensorId};

use super::{invalid, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

/// Configurations whose estimate reaches this many registers per thread are rejected.
const MAX_REGISTERS: usize = 224;

/// One block-level MMA configuration.
#[derive(Clone, Debug)]
struct MmaConfig {
    /// Registers per thread (32-bit) of the a, b and c fragments.
    registers: usize,
    /// Layouts of a, b and c.
    layouts: (RegisterLayout, RegisterLayout, RegisterLayout),
}

/// The MMA configurations for an `m × n × k` dot over `warps` warps, smallest `wsm` first.
fn mma_configs(
    (m, n, k): (usize, usize, usize),
    warps: usize,
    op_bits: usize,
    acc_bits: usize,
) -> Vec<MmaConfig> {
    if m == 0
        || n == 0
        || k == 0
        || !m.is_multiple_of(16)
        || !n.is_multiple_of(8)
        || !k.is_multiple_of(16)
    {
        return Vec::new();
    }
    let (count_m, count_n, count_k) = (m / 16, n / 8, k / 16);
    let mut out = Vec::new();
    for wsm in 1..=warps {
        if !warps.is_multiple_of(wsm) {
            continue;
        }
        let wsn = warps / wsm;
        if !count_m.is_multiple_of(wsm) || !count_n.is_multiple_of(wsn) {
            continue;
        }
        let (wrm, wrn, wrk) = (count_m / wsm, count_n / wsn, count_k);
        // Fragment slots per thread of the m16n8k16 atoms: a 8, b 4, c 4.
        let bits = (wrm * wrk * 8 + wrn * wrk * 4) * op_bits + wrm * wrn * 4 * acc_bits;
        let registers = bits / 32;
        if registers >= MAX_REGISTERS {
            continue;
        }
        out.push(MmaConfig {
            registers,
            layouts: mma_block((wsm, wsn), (wrm, wrn, wrk)),
        });
    }
    out
}

/// Proposes layouts for the operands and the result that have none.
#[allow(clippy::too_many_arguments)]
pub(super) fn infer(
    ctx: &Ctx<'_>,
    inst: &Inst,
    a: TensorId,
    b: TensorId,
    c: Option<TensorId>,
    d: TensorId,
    acc_dtype: DType,
) -> Result<Vec<Assign>, LayoutInferError> {
    let (op_dtype, sa) = ctx.tile(a)?;
    let (_, sb) = ctx.tile(b)?;
    let (&[m, k], &[_, n]) = (sa, sb) else {
        return Err(invalid(
            ctx.f,
            inst,
            &[a, b],
            format!("dot needs 2-D operands, got {sa:?} and {sb:?}"),
        ));
    };
    let (ka, kb, kd) = (ctx.reg(a), ctx.reg(b), ctx.reg(d));
    let kc = c.and_then(|c| ctx.reg(c));
    if ka.is_some() && kb.is_some() && kd.is_some() && (c.is_none() || kc.is_some()) {
        return Ok(Vec::new());
    }

    let configs = mma_configs(
        (m, n, k),
        ctx.f.warps as usize,
        op_dtype.bits() as usize,
        acc_dtype.bits() as usize,
    );
    let agrees = |cfg: &MmaConfig| {
        let (la, lb, lc) = &cfg.layouts;
        [
            ka == Some(la),
            kb == Some(lb),
            kc == Some(lc),
            kd == Some(lc),
        ]
        .iter()
        .filter(|&&x| x)
        .count()
    };
    let mut best: Option<(&MmaConfig, usize)> = None;
    for cfg in &configs {
        let score = agrees(cfg);
        let better = match best {
            None => true,
            Some((b, s)) => score > s || (score == s && cfg.registers < b.registers),
        };
        if better {
            best = Some((cfg, score));
        }
    }
    let (la, lb, lc) = match best {
        Some((cfg, _)) => cfg.layouts.clone(),
        None => (
            auto_local_spatial(ctx.threads, &[m, k]),
            auto_local_spatial(ctx.threads, &[k, n]),
            auto_local_spatial(ctx.threads, &[m, n]),
        ),
    };
    let acc = kd.or(kc).cloned().unwrap_or(lc);
    let mut out = Vec::new();
    if ka.is_none() {
        out.push(Assign::Register(a, la));
    }
    if kb.is_none() {
        out.push(Assign::Register(b, lb));
    }
    if let Some(c) = c {
        if kc.is_none() {
            out.push(Assign::Register(c, acc.clone()));
        }
    }
    if kd.is_none() {
        out.push(Assign::Register(d, acc));
    }
    Ok(out)
}

/// Any layouts are accepted (the shapes and thread counts are checked for every tensor);
/// they only have to exist.
pub(super) fn validate(
    ctx: &Ctx<'_>,
    inst: &Inst,
    a: TensorId,
    b: TensorId,
    c: Option<TensorId>,
    d: TensorId,
) -> Result<(), LayoutInferError> {
    for t in [Some(a), Some(b), c, Some(d)].into_iter().flatten() {
        ctx.need_reg(inst, t)?;
    }
    Ok(())
}
