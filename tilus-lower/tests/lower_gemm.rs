//! A GEMM with shared staging, `copy_async` (one and two stages, slices) and `dot`: the
//! defined fallback (shared scratch, k ascending, one fma per step) and the `mma` path
//! (m16n8k16 fragments) both reproduce the tile interpreter bit for bit.

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::interp::Arg;
use tilus_ir::layout::atoms::mma_block;
use tilus_ir::program::{Function, Unroll};
use tilus_lower::thread_ir::Stmt;
use tilus_lower::tile_to_thread::LowerOptions;

const BM: usize = 32;
const BN: usize = 32;
const BK: usize = 16;

fn gemm(dtype: DType, stages: usize) -> Function {
    let kb = KernelBuilder::new("gemm", 4);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let c = kb.pointer_param("c", DType::F32);
    kb.grid(&[n.cdiv(BN as i64), m.cdiv(BM as i64)]);
    let ga = kb.global_view(a, &[m, k]);
    let gb = kb.global_view(b, &[k, n]);
    let gc = kb.global_view(c, &[m, n]);
    let m0 = kb.block_idx(Axis::Y) * BM as i64;
    let n0 = kb.block_idx(Axis::X) * BN as i64;
    let sa = kb.alloc_shared(dtype, &[stages, BM, BK]).named("sa");
    let sb = kb.alloc_shared(dtype, &[stages, BK, BN]).named("sb");
    let acc = kb
        .alloc_register(DType::F32, &[BM, BN], Some(0.0))
        .named("acc");
    let kt = k.cdiv(BK as i64);
    let issue = |kk: tilus_ir::builder::Scalar<'_>, stage: tilus_ir::builder::Scalar<'_>| {
        let da = kb.slice(&sa, &[stage]);
        let db = kb.slice(&sb, &[stage]);
        kb.copy_async(&da, &ga, &[m0, kk * BK as i64]);
        kb.copy_async(&db, &gb, &[kk * BK as i64, n0]);
    };
    if stages > 1 {
        issue(kb.int(0), kb.int(0));
        kb.commit_group();
    }
    kb.for_range("k0", 0i64, kt, 1i64, Unroll::None, |k0| {
        if stages > 1 {
            let next = k0 + 1;
            kb.if_then(next.lt(kt), || issue(next, next % stages as i64));
            kb.commit_group();
            kb.wait_group(1);
        } else {
            issue(k0, kb.int(0));
            kb.commit_group();
            kb.wait_group(0);
        }
        kb.sync();
        let stage = if stages > 1 {
            k0 % stages as i64
        } else {
            kb.int(0)
        };
        let va = kb.slice(&sa, &[stage]);
        let vb = kb.slice(&sb, &[stage]);
        let ta = kb.load_shared(&va).named("ta");
        let tb = kb.load_shared(&vb).named("tb");
        kb.dot_acc(&ta, &tb, &acc);
        kb.sync();
    });
    kb.store_global(&gc, &acc, &[m0, n0]);
    kb.free_shared(&sa);
    kb.free_shared(&sb);
    kb.finish().expect("kernel")
}

fn args(dtype: DType, m: usize, n: usize, k: usize, seed: u64) -> Vec<Arg> {
    let mut rng = Rng(seed);
    vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        buf(dtype, &rng.values(dtype, m * k, 2.0)),
        buf(dtype, &rng.values(dtype, k * n, 2.0)),
        zeros(DType::F32, m * n),
    ]
}

fn count_stmts(body: &[Stmt], pred: &dyn Fn(&Stmt) -> bool) -> usize {
    body.iter()
        .map(|s| {
            usize::from(pred(s))
                + match s {
                    Stmt::For { body, .. } => count_stmts(body, pred),
                    Stmt::If {
                        then_body,
                        else_body,
                        ..
                    } => count_stmts(then_body, pred) + count_stmts(else_body, pred),
                    _ => 0,
                }
        })
        .sum()
}

#[test]
fn gemm_fallback_one_stage() {
    let p = verified(gemm(DType::F16, 1));
    let k = lower(&p, &layouts(&p, &[], &[]));
    assert!(count_stmts(&k.body, &|s| matches!(s, Stmt::CopyAsync { .. })) > 0);
    let (m, n, kk) = (45, 70, 40);
    let a = args(DType::F16, m, n, kk, 1);
    let out = run_both(&p, &k, &a);
    // Close to the exact product.
    let (x, y) = (out[0].to_f64(), out[1].to_f64());
    let c = out[2].to_f32();
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..kk).map(|l| x[i * kk + l] * y[l * n + j]).sum();
            assert!((f64::from(c[i * n + j]) - want).abs() < 1e-3, "c[{i},{j}]");
        }
    }
}

#[test]
fn gemm_fallback_two_stages_bf16() {
    let p = verified(gemm(DType::BF16, 2));
    let k = lower(&p, &layouts(&p, &[], &[]));
    run_both(&p, &k, &args(DType::BF16, 64, 33, 50, 2));
}

#[test]
fn gemm_mma_fragments() {
    let p = verified(gemm(DType::F16, 2));
    let (la, lb, lc) = mma_block((2, 2), (1, 2, 1));
    let a = layouts(&p, &[("ta", la), ("tb", lb), ("acc", lc)], &[]);
    let opts = LowerOptions {
        max_shared_bytes: 48 * 1024,
        mma: true,
        ..LowerOptions::default()
    };
    let k = lower_with(&p, &a, &opts);
    assert!(
        count_stmts(&k.body, &|s| matches!(s, Stmt::Mma { .. })) > 0,
        "{k}"
    );
    run_both(&p, &k, &args(DType::F16, 64, 64, 48, 3));
    // The same layouts without mma take the fallback and give the same bits.
    let k2 = lower(&p, &a);
    assert_eq!(count_stmts(&k2.body, &|s| matches!(s, Stmt::Mma { .. })), 0);
    run_both(&p, &k2, &args(DType::F16, 64, 64, 48, 3));
}

#[test]
fn gemm_with_swizzled_shared_tiles() {
    use tilus_ir::layout::shared::{SharedLayout, Swizzle};
    let p = verified(gemm(DType::F16, 2));
    // Swizzles on the whole (stage-stacked) allocations, as bit operations on offsets.
    let sa = SharedLayout::row_major(&[2, BM, BK])
        .and_then(|l| l.with_swizzle(Swizzle::new(3, 1, 4)))
        .expect("layout");
    let sb = SharedLayout::row_major_swizzle(&[2, BK, BN], 2).expect("layout");
    assert!(sb.swizzle().is_some());
    let a = layouts(&p, &[], &[("sa", sa), ("sb", sb)]);
    let k = lower(&p, &a);
    assert!(k.to_string().contains(" ^ "), "{k}");
    run_both(&p, &k, &args(DType::F16, 40, 48, 64, 4));
}

#[test]
fn shared_memory_limit_is_enforced() {
    let p = verified(gemm(DType::F16, 2));
    let a = layouts(&p, &[], &[]);
    let opts = LowerOptions {
        max_shared_bytes: 1024,
        mma: false,
        ..LowerOptions::default()
    };
    let err = tilus_lower::tile_to_thread::lower_function_with(&p, 0, &a, &opts)
        .expect_err("too little shared memory");
    assert!(err.to_string().contains("shared memory"), "{err}");
}

/// With constant extents, `copy_async` moves 16-byte vectors (8 f16) per thread and the
/// shared loads and stores are vectorized too.
#[test]
fn copy_async_vectors_for_constant_extents() {
    let kb = KernelBuilder::new("stage", 4);
    let a = kb.pointer_param("a", DType::F16);
    let c = kb.pointer_param("c", DType::F16);
    kb.grid(&[2i64]);
    let ga = kb.global_view(a, &[128i64, 64]);
    let gc = kb.global_view(c, &[128i64, 64]);
    let r0 = kb.block_idx(Axis::X) * 64;
    let s = kb.alloc_shared(DType::F16, &[64, 64]);
    kb.copy_async(&s, &ga, &[r0, kb.int(0)]);
    kb.commit_group();
    kb.wait_all();
    kb.sync();
    let t = kb.load_shared(&s);
    let u = t * 2.0;
    kb.store_global(&gc, &u, &[r0, kb.int(0)]);
    kb.free_shared(&s);
    let p = verified(kb.finish().expect("kernel"));
    let k = lower(&p, &layouts(&p, &[], &[]));
    let wide = count_stmts(&k.body, &|s| matches!(s, Stmt::CopyAsync { width: 8, .. }));
    assert!(wide > 0, "{k}");
    let mut rng = Rng(8);
    run_both(
        &p,
        &k,
        &[
            buf(DType::F16, &rng.values(DType::F16, 128 * 64, 4.0)),
            zeros(DType::F16, 128 * 64),
        ],
    );
}
