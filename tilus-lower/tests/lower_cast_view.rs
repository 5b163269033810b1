//! Casts from sub-byte and 8-bit dtypes to f16/f32, sub-byte global loads and stores, and
//! `view` between byte tiles and sub-byte tiles with annotated layouts.

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::interp::Arg;
use tilus_ir::layout::atoms::mma_m16n8k16_b;
use tilus_ir::layout::{local, spatial};
use tilus_ir::program::Function;

/// out[i] = cast(x[i]) for i < n, 128 elements per block; the input is re-stored in its own
/// dtype to a second buffer (a sub-byte store).
fn cast_kernel(from: DType, to: DType) -> Function {
    let kb = KernelBuilder::new("cast", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    let x = kb.pointer_param("x", from);
    let copy = kb.pointer_param("copy", from);
    let out = kb.pointer_param("out", to);
    kb.grid(&[n.cdiv(128)]);
    let gx = kb.global_view(x, &[n]);
    let gc = kb.global_view(copy, &[n]);
    let go = kb.global_view(out, &[n]);
    let off = kb.block_idx(Axis::X) * 128;
    let t = kb.load_global(&gx, &[off], &[128]);
    kb.store_global(&gc, &t, &[off]);
    let c = t.cast(to);
    kb.store_global(&go, &c, &[off]);
    kb.finish().expect("kernel")
}

#[test]
fn casts_to_f16_and_f32() {
    let froms = [
        int(4, false),
        int(3, true),
        int(6, true),
        int(8, false),
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::MiniFloat { exp: 2, mant: 1 },
        DType::MiniFloat { exp: 2, mant: 3 },
        DType::F8E4M3FN,
        DType::F8E5M2,
        DType::BF16,
    ];
    for (i, from) in froms.into_iter().enumerate() {
        for to in [DType::F16, DType::F32, DType::BF16] {
            let p = verified(cast_kernel(from, to));
            let k = lower(&p, &layouts(&p, &[], &[]));
            let n = 300;
            let mut rng = Rng(40 + i as u64);
            run_both(
                &p,
                &k,
                &[
                    Arg::Int(n as i64),
                    buf(from, &rng.codes(from, n)),
                    zeros(from, n),
                    zeros(to, n),
                ],
            );
        }
    }
}

#[test]
fn casts_from_floats_saturate_into_ints_and_minifloats() {
    let tos = [
        int(4, false),
        int(3, true),
        int(8, true),
        int(32, true),
        int(32, false),
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::MiniFloat { exp: 2, mant: 1 },
        DType::F8E4M3FN,
        DType::F8E5M2,
    ];
    for (i, to) in tos.into_iter().enumerate() {
        for from in [DType::F32, DType::F16] {
            let p = verified(cast_kernel(from, to));
            let k = lower(&p, &layouts(&p, &[], &[]));
            let n = 256;
            let mut rng = Rng(70 + i as u64);
            // Every bit pattern: NaNs, infinities, huge and tiny values.
            run_both(
                &p,
                &k,
                &[
                    Arg::Int(n as i64),
                    buf(from, &rng.codes(from, n)),
                    zeros(from, n),
                    zeros(to, n),
                ],
            );
        }
    }
}

/// Loads 4 bytes per thread and views them as 8 nibbles per thread, then casts to f16.
fn view_u8_u4_kernel() -> Function {
    let kb = KernelBuilder::new("view_u4", 1);
    let x = kb.pointer_param("x", int(8, false));
    let out = kb.pointer_param("out", DType::F16);
    kb.grid(&[1i64]);
    let gx = kb.global_view(x, &[128i64]);
    let go = kb.global_view(out, &[256i64]);
    let bytes = kb.load_global(&gx, &[0i64], &[128]);
    kb.annotate_layout(&bytes, &spatial(&[32]).local(&[4]));
    let nib = kb.view(&bytes, int(4, false), &spatial(&[32]).local(&[8]));
    let h = nib.cast(DType::F16).named("h");
    kb.store_global(&go, &h, &[0i64]);
    kb.finish().expect("kernel")
}

#[test]
fn view_u8_as_u4() {
    let p = verified(view_u8_u4_kernel());
    let k = lower(&p, &layouts(&p, &[("h", spatial(&[32]).local(&[8]))], &[]));
    let mut rng = Rng(5);
    let bytes = rng.codes(int(8, false), 128);
    let out = run_both(
        &p,
        &k,
        &[buf(int(8, false), &bytes), zeros(DType::F16, 256)],
    );
    // Nibble 2i is the low half of byte i.
    let h = out[1].to_f32();
    for i in 0..128 {
        assert_eq!(h[2 * i], (bytes[i] & 15) as f32);
        assert_eq!(h[2 * i + 1], (bytes[i] >> 4) as f32);
    }
}

/// Tilus's int6 weight pattern: 6 bytes per thread (`local(3).spatial(32).local(2)`) viewed as
/// a 16×16 i6 tile laid out as `local(1,2) * mma_b` (8 elements per thread), cast to f32.
fn view_u8_i6_kernel() -> Function {
    let kb = KernelBuilder::new("view_i6", 1);
    let x = kb.pointer_param("x", int(8, false));
    let out = kb.pointer_param("out", DType::F32);
    kb.grid(&[1i64]);
    let gx = kb.global_view(x, &[192i64]);
    let go = kb.global_view(out, &[16i64, 16]);
    let bytes = kb.load_global(&gx, &[0i64], &[192]);
    kb.annotate_layout(&bytes, &local(&[3]).spatial(&[32]).local(&[2]));
    let w = kb.view(
        &bytes,
        int(6, true),
        &local(&[1, 2]).compose(&mma_m16n8k16_b()),
    );
    let f = w.cast(DType::F32).named("h");
    kb.store_global(&go, &f, &[0i64, 0]);
    kb.finish().expect("kernel")
}

#[test]
fn view_u8_as_i6_mma_fragments() {
    let p = verified(view_u8_i6_kernel());
    let lw = local(&[1, 2]).compose(&mma_m16n8k16_b());
    let k = lower(&p, &layouts(&p, &[("h", lw)], &[]));
    let mut rng = Rng(9);
    let bytes = rng.codes(int(8, false), 192);
    run_both(
        &p,
        &k,
        &[buf(int(8, false), &bytes), zeros(DType::F32, 256)],
    );
}

/// A sub-byte tile copied global → global through registers with a 2-D view and an offset
/// that is not byte-aligned.
fn sub_byte_copy_kernel(dtype: DType) -> Function {
    let kb = KernelBuilder::new("copy2d", 2);
    let rows = kb.scalar_param("rows", ScalarType::I32);
    let x = kb.pointer_param("x", dtype);
    let out = kb.pointer_param("out", dtype);
    kb.grid(&[rows.cdiv(8)]);
    let gx = kb.global_view(x, &[rows, kb.int(33)]);
    let go = kb.global_view(out, &[rows, kb.int(33)]);
    let r0 = kb.block_idx(Axis::X) * 8;
    let t = kb.load_global(&gx, &[r0, kb.int(1)], &[8, 32]);
    kb.store_global(&go, &t, &[r0, kb.int(0)]);
    kb.finish().expect("kernel")
}

#[test]
fn sub_byte_global_load_store() {
    for dtype in [
        int(1, false),
        int(2, true),
        int(3, false),
        int(4, true),
        int(5, true),
        int(7, false),
    ] {
        let p = verified(sub_byte_copy_kernel(dtype));
        let k = lower(&p, &layouts(&p, &[], &[]));
        let rows = 21;
        let mut rng = Rng(u64::from(dtype.bits()));
        run_both(
            &p,
            &k,
            &[
                Arg::Int(rows as i64),
                buf(dtype, &rng.codes(dtype, rows * 33)),
                buf(dtype, &rng.codes(dtype, rows * 33)),
            ],
        );
    }
}
