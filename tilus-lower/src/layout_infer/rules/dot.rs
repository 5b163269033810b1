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
//! On a SIMT target (no matrix instructions) the operands get SIMT layouts instead
//! ([`simt_layouts`]): each thread owns a block of the result and holds its rows of `a` and
//! columns of `b` over all of `k`, so the dot is thread-local.
//!
//! Operands that already have layouts keep them (the WGSL dot accepts any layouts); the
//! addend `c` and the result share a layout when either one is known.

use tilus_ir::dtype::DType;
use tilus_ir::layout::atoms::mma_block;
use tilus_ir::layout::{auto_local_spatial, replicated, spatial, RegisterLayout};
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

    // SIMT layouts for a dot nothing else has laid out (a kernel that pins MMA-shaped
    // operands keeps them; the lowering then takes its general path).
    let untouched = ka.is_none() && kb.is_none() && kc.is_none() && kd.is_none();
    if ctx.simt && untouched {
        if let Some((la, lb, lc)) = simt_layouts((m, n, k), ctx.threads) {
            return Ok(assign_missing((a, b, c, d), (ka, kb, kc, kd), (la, lb, lc)));
        }
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
    Ok(assign_missing((a, b, c, d), (ka, kb, kc, kd), (la, lb, lc)))
}

/// The proposals for the operands without a layout; the addend and the result share one.
fn assign_missing(
    (a, b, c, d): (TensorId, TensorId, Option<TensorId>, TensorId),
    (ka, kb, kc, kd): (
        Option<&RegisterLayout>,
        Option<&RegisterLayout>,
        Option<&RegisterLayout>,
        Option<&RegisterLayout>,
    ),
    (la, lb, lc): (RegisterLayout, RegisterLayout, RegisterLayout),
) -> Vec<Assign> {
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
    out
}

/// SIMT layouts for an `m × n × k` dot over `threads` threads: the threads form a
/// `tm × tn` grid (`tm | m`, `tn | n`), thread `(i, j)` owns the `rm × rn` block of the
/// result at `(i·rm, j·rn)` (`c = spatial(tm, tn).local(rm, rn)`), holds its `rm` rows of
/// `a` over all of `k` (replicated over the `tn` threads of its row) and its `rn` columns of
/// `b` (replicated over the `tm` threads of its column). Among the grids, the one with the
/// fewest fragment registers (`rm·k + k·rn + rm·rn`), then the squarest block. `None` when no
/// grid divides the result (fewer elements than threads, say).
fn simt_layouts(
    (m, n, k): (usize, usize, usize),
    threads: usize,
) -> Option<(RegisterLayout, RegisterLayout, RegisterLayout)> {
    let mut best: Option<(usize, usize, usize)> = None;
    for tm in 1..=threads {
        if !threads.is_multiple_of(tm) || !m.is_multiple_of(tm) {
            continue;
        }
        let tn = threads / tm;
        if !n.is_multiple_of(tn) {
            continue;
        }
        let (rm, rn) = (m / tm, n / tn);
        let regs = rm * k + k * rn + rm * rn;
        let skew = rm.abs_diff(rn);
        if best.is_none_or(|(r, s, _)| (regs, skew) < (r, s)) {
            best = Some((regs, skew, tm));
        }
    }
    let (regs, _, tm) = best?;
    if regs >= 4 * MAX_REGISTERS {
        return None;
    }
    let tn = threads / tm;
    let (rm, rn) = (m / tm, n / tn);
    let lc = spatial(&[tm, tn]).local(&[rm, rn]);
    let la = spatial(&[tm, 1])
        .compose(&replicated(&[1, 1], tn))
        .local(&[rm, k]);
    let lb = replicated(&[1, 1], tm).spatial(&[1, tn]).local(&[k, rn]);
    Some((la, lb, lc))
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
