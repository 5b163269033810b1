//! `sum`, `max`, `min` over a dimension held across threads (through shared memory) and
//! within threads, for float and integer tiles: bit-identical to the tile interpreter (same
//! ascending order, same per-step rounding).

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::inst::ReduceOp;
use tilus_ir::interp::Arg;
use tilus_ir::layout::{auto_local_spatial, local, RegisterLayout};
use tilus_ir::program::Function;

const M: usize = 16;
const N: usize = 64;

fn kernel(dtype: DType, op: ReduceOp, dim: usize, keepdim: bool) -> Function {
    let kb = KernelBuilder::new("reduce", 4);
    let x = kb.pointer_param("x", dtype);
    let out = kb.pointer_param("out", dtype);
    kb.grid(&[1i64]);
    let gx = kb.global_view(x, &[M as i64, N as i64]);
    let t = kb.load_global(&gx, &[0i64, 0], &[M, N]).named("x_t");
    let r = kb.reduce(op, &t, dim, keepdim).named("r_t");
    let extent = [M, N][1 - dim] as i64;
    if keepdim {
        let shape = if dim == 0 { [1, extent] } else { [extent, 1] };
        let go = kb.global_view(out, &shape);
        kb.store_global(&go, &r, &[0i64, 0]);
    } else {
        let go = kb.global_view(out, &[extent]);
        kb.store_global(&go, &r, &[0i64]);
    }
    kb.finish().expect("kernel")
}

fn check(dtype: DType, op: ReduceOp, dim: usize, keepdim: bool, lx: RegisterLayout, seed: u64) {
    let p = verified(kernel(dtype, op, dim, keepdim));
    let lr = lx.reduce(&[dim], keepdim).expect("reduce");
    let k = lower(&p, &layouts(&p, &[("x_t", lx), ("r_t", lr)], &[]));
    let mut rng = Rng(seed);
    let x = if dtype.is_float() {
        let mut v = rng.values(dtype, M * N, 8.0);
        // A NaN and signed zeros for max/min.
        v[5] = dtype.encode_f64(f64::NAN);
        v[70] = dtype.encode_f64(-0.0);
        v
    } else {
        rng.codes(dtype, M * N)
    };
    let extent = [M, N][1 - dim];
    run_both(&p, &k, &[buf(dtype, &x), zeros(dtype, extent)]);
}

#[test]
fn reduce_across_threads() {
    let lx = auto_local_spatial(128, &[M, N]);
    let mut seed = 1;
    for dtype in [
        DType::F32,
        DType::F16,
        DType::BF16,
        int(8, true),
        int(32, false),
    ] {
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min] {
            for (dim, keepdim) in [(0, false), (1, false), (1, true)] {
                check(dtype, op, dim, keepdim, lx.clone(), seed);
                seed += 1;
            }
        }
    }
}

#[test]
fn reduce_within_threads() {
    // Dimension 1 is local to every thread (rows spread over 16 threads, replicated 8×).
    let lx = auto_local_spatial(128, &[M, 1]).compose(&local(&[1, N]));
    let mut seed = 50;
    for dtype in [DType::F32, DType::F16, int(4, true)] {
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min] {
            for keepdim in [false, true] {
                check(dtype, op, 1, keepdim, lx.clone(), seed);
                seed += 1;
            }
        }
    }
    // The in-thread path needs no shared memory.
    let p = verified(kernel(DType::F32, ReduceOp::Sum, 1, false));
    let lr = lx.reduce(&[1], false).expect("reduce");
    let k = lower(&p, &layouts(&p, &[("x_t", lx), ("r_t", lr)], &[]));
    assert_eq!(k.shared_bytes, 0, "{k}");
}

#[test]
fn scalar_args_reach_reduce() {
    // Arg plumbing sanity: a 1-D f32 sum of 64 elements equals the sequential sum.
    let p = verified(kernel(DType::F32, ReduceOp::Sum, 1, false));
    let lx = auto_local_spatial(128, &[M, N]);
    let lr = lx.reduce(&[1], false).expect("reduce");
    let k = lower(&p, &layouts(&p, &[("x_t", lx), ("r_t", lr)], &[]));
    let x: Vec<u64> = (0..M * N)
        .map(|i| u64::from((i as f32 * 0.25).to_bits()))
        .collect();
    let out = run_both(&p, &k, &[buf(DType::F32, &x), zeros(DType::F32, M)]);
    let r = out[1].to_f32();
    for (i, &ri) in r.iter().enumerate() {
        let mut s = 0.0f32;
        for j in 0..N {
            s += ((i * N + j) as f32) * 0.25;
        }
        assert_eq!(ri, s);
    }
    let _ = Arg::Int(0);
}
