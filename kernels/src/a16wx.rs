//! The a16wX mixed-precision GEMM: `C = A · dequant(W)ᵀ` with `f16`/`bf16` activations and
//! weights of any type of 1 to 8 bits (tilus.md §7).
//!
//! Kernel parameters, in order:
//! `m, n, k: i32`, `a: *act [M, K]`, `b: *u8` packed weights
//! `[ceil(K/BK), ceil(N/BN), tile_bytes]` ([`crate::packed`]), `scales: *act [G, N]`,
//! `zeros: *act [G, N]` (asymmetric mode only), `c: *act [M, N]`.
//! Grid `(cdiv(N, BN), cdiv(M, BM))`, with a third extent `split_k` when `split_k > 1`; `warp_spatial.0 · warp_spatial.1` warps.
//!
//! Per k-tile of the block's k range:
//! 1. the `A` tile `[BM, BK]` arrives in shared memory through the `copy_async` pipeline
//!    (zero-filled past `M` and `K`) and is read with `load_shared` (layout: the block MMA
//!    A layout);
//! 2. the packed weight tile is read with `load_global` as `tile_bytes` bytes (layout
//!    `Lbytes`) and `view`ed as `wtype [BK, BN]` with layout `Lw` (no data movement);
//! 3. dequantization: cast to the activation dtype, subtract the zero point (the `[1, BN]`
//!    zero row in asymmetric mode, the constant `(2^N − 1)/2` for unsigned symmetric, −0.5
//!    for `i1`), multiply by the `[1, BN]` scale row of the k-tile's group (broadcast).
//!    Every step is exact except the final product, which rounds once to the activation
//!    dtype. For weight types whose values are not all exactly representable in the
//!    activation dtype (`f6e5m0`, `f7e5m1`, `f7e6m0` with `f16`), the same steps run in
//!    `f32` and the result is cast to the activation dtype: again one rounding;
//! 4. `dot` into the `f32` accumulator `[BM, BN]` (block MMA C layout).
//!
//! Epilogue: cast to the activation dtype, masked store. With `split_k > 1`, block `z`
//! handles k-tiles `[z·per, (z+1)·per)` (`per = cdiv(cdiv(K, BK), split_k)`) and the
//! partial sums are combined in the order `z = 0, 1, …` through an `f32 [M, N]`
//! workspace, serialized by an `i32 [tiles_m, tiles_n]` semaphore tensor
//! (`requires_clean`): block `z` waits for `sem = z`, block 0 stores its partial, the middle
//! ones add theirs, the last adds, casts and stores `C` and resets the semaphore to 0; the
//! others release `z + 1`. The result is therefore independent of the block schedule.

use tilus_ir::builder::{KernelBuilder, Scalar, Tile};
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::layout::atoms;
use tilus_ir::program::Function;

use crate::config::{A16WxConfig, GroupSize, QuantMode};
use crate::error::Result;
use crate::gemm::{NamedLet, Pipeline};
use crate::packed::PackedFormat;
use crate::quant::symmetric_zero;

/// Whether every finite value of `wtype` converts exactly to `act`.
pub fn cast_is_exact(wtype: DType, act: DType) -> bool {
    let codes = 1u64 << wtype.bits().min(16);
    (0..codes).all(|c| {
        if wtype.is_nan_code(c) || wtype.is_inf_code(c) {
            return true;
        }
        let v = wtype.decode_f64(c);
        act.decode_f64(act.encode_f64(v)) == v
    })
}

/// The kernel name: `a16wx_<act>_<wtype>` (`_asym` appended in asymmetric mode).
pub fn a16wx_name(cfg: &A16WxConfig) -> String {
    let mode = match cfg.mode {
        QuantMode::Symmetric => "",
        QuantMode::Asymmetric => "_asym",
    };
    format!("a16wx_{}_{}{mode}", cfg.act, cfg.wtype)
}

/// Generates the a16wX kernel for `cfg` (validated first).
pub fn a16wx(cfg: &A16WxConfig) -> Result<Function> {
    let fmt = PackedFormat::new(cfg)?;
    let (la, _, lc) = atoms::mma_block(cfg.warp_spatial, cfg.warp_repeat);
    let (bm, bn, bk) = (cfg.block_m, cfg.block_n, cfg.block_k);
    let act = cfg.act;
    let asym = cfg.mode == QuantMode::Asymmetric;
    let kb = KernelBuilder::new(&a16wx_name(cfg), cfg.warps() as u32);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", act);
    let b = kb.pointer_param(
        "b",
        DType::Int {
            bits: 8,
            signed: false,
        },
    );
    let scales = kb.pointer_param("scales", act);
    let zeros = asym.then(|| kb.pointer_param("zeros", act));
    let c = kb.pointer_param("c", act);
    if cfg.split_k == 1 {
        kb.grid(&[n.cdiv(bn), m.cdiv(bm)]);
    } else {
        kb.grid(&[n.cdiv(bn), m.cdiv(bm), kb.int(cfg.split_k as i64)]);
    }

    let tiles_k = k.cdiv(bk).named_let(&kb, "tiles_k");
    let groups = match cfg.group {
        GroupSize::Size(g) => k.cdiv(g),
        GroupSize::PerChannel => kb.int(1),
    };
    let ga = kb.global_view(a, &[m, k]).named("ga");
    let gb = kb
        .global_view(b, &[tiles_k, n.cdiv(bn), kb.int(fmt.tile_bytes as i64)])
        .named("gb");
    let gs = kb.global_view(scales, &[groups, n]).named("gs");
    let gz = zeros.map(|z| kb.global_view(z, &[groups, n]).named("gz"));
    let gc = kb.global_view(c, &[m, n]).named("gc");

    let tn = kb.block_idx(Axis::X).named_let(&kb, "tn");
    let tm = kb.block_idx(Axis::Y).named_let(&kb, "tm");
    let row = (tm * bm).named_let(&kb, "row");
    let col = (tn * bn).named_let(&kb, "col");
    // This block's k-tiles: all of them, or its share of the split.
    let (split, kt_begin, kt_end) = if cfg.split_k == 1 {
        (kb.int(0), None, tiles_k)
    } else {
        let split = kb.block_idx(Axis::Z).named_let(&kb, "split");
        let per = tiles_k.cdiv(cfg.split_k).named_let(&kb, "per_split");
        let begin = (split * per).min(tiles_k).named_let(&kb, "kt_begin");
        let end = (begin + per).min(tiles_k).named_let(&kb, "kt_end");
        (split, Some(begin), end)
    };

    let sa = kb.alloc_shared(act, &[cfg.num_stages, bm, bk]).named("sa");
    let acc = kb
        .alloc_register(DType::F32, &[bm, bn], Some(0.0))
        .named("acc");
    kb.annotate_layout(&acc, &lc);

    // The scale (and zero) rows of a group; per channel they are loaded once.
    let load_rows = |g: Scalar<'_>| {
        let s = kb.load_global(&gs, &[g, col], &[1, bn]).named("srow");
        let z = gz
            .as_ref()
            .map(|gz| kb.load_global(gz, &[g, col], &[1, bn]).named("zrow"));
        (s, z)
    };
    let fixed_rows = match cfg.group {
        GroupSize::PerChannel => Some(load_rows(kb.int(0))),
        GroupSize::Size(_) => None,
    };
    let direct = cast_is_exact(cfg.wtype, act);
    let const_zero = symmetric_zero(cfg.wtype);

    let pipeline = Pipeline {
        stages: cfg.num_stages,
        begin: kt_begin,
        end: kt_end,
    };
    let issue = |kt: Scalar<'_>, stage: Scalar<'_>| {
        let dst = kb.slice(&sa, &[stage]);
        kb.copy_async(&dst, &ga, &[row, kt * bk]);
    };
    let body = |kt: Scalar<'_>, stage: Scalar<'_>| {
        let view = kb.slice(&sa, &[stage]);
        let ta = kb.load_shared(&view).named("ta");
        kb.annotate_layout(&ta, &la);
        let bytes = kb
            .load_global_dims(&gb, &[kt, tn, kb.int(0)], &[fmt.tile_bytes], &[2])
            .named("wbytes");
        kb.annotate_layout(&bytes, &fmt.lbytes);
        let wq = kb.view(&bytes, cfg.wtype, &fmt.lw).named("wq");
        let (srow, zrow) = match fixed_rows {
            Some(rows) => rows,
            None => {
                let glen = match cfg.group {
                    GroupSize::Size(g) => g,
                    GroupSize::PerChannel => 1,
                };
                load_rows(kt * bk / glen)
            }
        };
        let w = dequantize_tile(&wq, srow, zrow, const_zero, act, direct);
        kb.dot_acc(&ta, &w, &acc);
    };
    pipeline.emit(&kb, issue, body);
    kb.free_shared(&sa);

    if cfg.split_k == 1 {
        let out = acc.cast(act).named("out");
        kb.store_global(&gc, &out, &[row, col]);
    } else {
        let last = (cfg.split_k - 1) as i64;
        let sem = kb
            .alloc_global(
                DType::Int {
                    bits: 32,
                    signed: true,
                },
                &[m.cdiv(bm), n.cdiv(bn)],
                true,
            )
            .named("sem");
        let ws = kb.alloc_global(DType::F32, &[m, n], false).named("partial");
        kb.lock_semaphore(&sem, &[tm, tn], split);
        kb.if_else(
            split.eq(0),
            || kb.store_global(&ws, &acc, &[row, col]),
            || {
                let part = kb.load_global(&ws, &[row, col], &[bm, bn]).named("part");
                kb.binary_into(
                    &acc,
                    tilus_ir::inst::TileBinaryOp::Add,
                    tilus_ir::inst::Operand::Tensor(acc.id),
                    tilus_ir::inst::Operand::Tensor(part.id),
                );
                kb.if_else(
                    split.eq(last),
                    || {
                        let out = acc.cast(act).named("out");
                        kb.store_global(&gc, &out, &[row, col]);
                    },
                    || kb.store_global(&ws, &acc, &[row, col]),
                );
            },
        );
        kb.if_else(
            split.eq(last),
            || kb.release_semaphore(&sem, &[tm, tn], 0),
            || kb.release_semaphore(&sem, &[tm, tn], split + 1),
        );
    }
    Ok(kb.finish()?)
}

/// `((cast(wq) − z) · s)` rounded once to `act` (see the module documentation).
fn dequantize_tile<'b>(
    wq: &Tile<'b>,
    srow: Tile<'b>,
    zrow: Option<Tile<'b>>,
    const_zero: f64,
    act: DType,
    direct: bool,
) -> Tile<'b> {
    let work = if direct { act } else { DType::F32 };
    let mut w = wq.cast(work).named("wf");
    match zrow {
        Some(z) => {
            let z = if direct { z } else { z.cast(work) };
            w = (w - z).named("wz");
        }
        None if const_zero != 0.0 => w = (w - const_zero).named("wz"),
        None => {}
    }
    let s = if direct { srow } else { srow.cast(work) };
    let w = (w * s).named("w");
    if direct {
        w
    } else {
        w.cast(act).named("w")
    }
}
