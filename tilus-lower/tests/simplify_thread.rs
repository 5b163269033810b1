//! The simplifier on thread kernels (`simplify::thread::simplify_kernel`): real kernels
//! (vector add, GEMM, the a16wX GEMM with and without `mma` and split-K, the weight packers)
//! compute bit-identical results after simplification, get much cheaper, print like hand-written
//! index code; limits are respected; `i32` wrap-around is never simplified away.
//!
//! The timing test is ignored by default (run it in release:
//! `cargo test --release -p tilus-lower --test simplify_thread -- --ignored --nocapture`).

mod lower_support;
mod wgsl_support;

use std::time::{Duration, Instant};

use lower_support::{lower_with, verified, Rng};
use tilus_ir::dtype::DType;
use tilus_ir::interp::{Arg, HostBuffer};
use tilus_ir::program::Function;
use tilus_kernels::pack::{pack_program, unpack_program};
use tilus_kernels::{a16wx, gemm, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode};
use tilus_lower::artifact::GridExpr;
use tilus_lower::layout_infer::infer;
use tilus_lower::simplify::thread::{node_cost, simplify_kernel, SimplifyReport};
use tilus_lower::simplify::{Limits, StopReason};
use tilus_lower::target::Target;
use tilus_lower::thread_ir::interp::{run_kernel, RunOptions};
use tilus_lower::thread_ir::verify::verify;
use tilus_lower::thread_ir::{
    BinaryOp, BufferKind, KernelBuilder, LocalRef, MemRef, Param, ParamKind, Space, Stmt,
    ThreadKernel, Ty,
};
use tilus_lower::tile_to_thread::LowerOptions;

const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};
const I3: DType = DType::Int {
    bits: 3,
    signed: true,
};
const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// Lowers function 0 of `f` with inferred layouts.
fn lower(f: Function, mma: bool) -> ThreadKernel {
    let p = verified(f);
    let layouts = infer(&p, 0, &Target::Wgsl(Default::default()).caps())
        .unwrap_or_else(|e| panic!("layout inference: {e}"));
    let opts = LowerOptions {
        max_shared_bytes: 96 * 1024,
        mma,
        shuffle: mma,
    };
    lower_with(&p, &layouts, &opts)
}

fn simplify(k: &ThreadKernel, limits: &Limits) -> (ThreadKernel, SimplifyReport) {
    let (s, report) = simplify_kernel(k, limits).unwrap_or_else(|e| panic!("simplify: {e}"));
    if let Err(e) = verify(&s) {
        panic!("the simplified kernel does not verify: {e}\n{s}");
    }
    (s, report)
}

/// Random arguments: scalars by name, every buffer `len` random elements.
fn random_args(k: &ThreadKernel, scalars: &[(&str, i64)], len: usize, seed: u64) -> Vec<Arg> {
    let mut rng = Rng(seed | 1);
    k.params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Scalar(_) => {
                let v = scalars.iter().find(|(n, _)| *n == p.name);
                Arg::Int(v.unwrap_or_else(|| panic!("no value for #{}", p.name)).1)
            }
            ParamKind::Pointer(b) => {
                let d = k.buffers[b].dtype;
                let codes = if d.is_float() {
                    rng.values(d, len, 2.0)
                } else {
                    rng.codes(d, len)
                };
                Arg::Buffer(HostBuffer::from_codes(d, &codes))
            }
        })
        .collect()
}

/// Runs both kernels on the same arguments; every buffer must end bit-identical.
fn same_results(a: &ThreadKernel, b: &ThreadKernel, args: &[Arg]) {
    let run = |k: &ThreadKernel| {
        let mut x = args.to_vec();
        run_kernel(k, &mut x, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}\n{k}"));
        x
    };
    let (x, y) = (run(a), run(b));
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        if let (Arg::Buffer(p), Arg::Buffer(q)) = (p, q) {
            let first = p.codes().iter().zip(&q.codes()).position(|(u, v)| u != v);
            assert!(
                first.is_none(),
                "{}: argument {i} differs at element {first:?}\n{b}",
                a.name
            );
        }
    }
}

fn check_kernel(f: Function, mma: bool, scalars: &[(&str, i64)], len: usize) -> SimplifyReport {
    let k = lower(f, mma);
    let (s, report) = simplify(&k, &Limits::default());
    for seed in [1, 2] {
        same_results(&k, &s, &random_args(&k, scalars, len, seed));
    }
    report
}

fn cfg(wtype: DType, mode: QuantMode, group: GroupSize) -> A16WxConfig {
    A16WxConfig::default_for(DType::F16, wtype, group, mode)
}

#[test]
fn vector_add_and_gemm_keep_their_results() {
    for d in [DType::F32, I3, DType::MiniFloat { exp: 2, mant: 1 }] {
        check_kernel(
            vector_add(d, 128).expect("builds"),
            false,
            &[("n", 300)],
            300,
        );
    }
    let small = GemmConfig {
        block_m: 16,
        block_n: 32,
        block_k: 16,
        warps: 2,
        num_stages: 2,
    };
    let dims = [("m", 20), ("n", 40), ("k", 24)];
    for d in [DType::F16, DType::F32] {
        check_kernel(gemm(d, small).expect("builds"), false, &dims, 1 << 12);
    }
}

#[test]
fn a16wx_keeps_its_results() {
    let dims = [("m", 5), ("n", 70), ("k", 100)];
    for mma in [false, true] {
        let c = cfg(U4, QuantMode::Symmetric, GroupSize::Size(32));
        check_kernel(a16wx(&c).expect("builds"), mma, &dims, 65536);
    }
    let c = cfg(I3, QuantMode::Asymmetric, GroupSize::PerChannel);
    check_kernel(
        a16wx(&c).expect("builds"),
        true,
        &[("m", 17), ("n", 64), ("k", 64)],
        65536,
    );
    let split = A16WxConfig {
        split_k: 3,
        ..cfg(U4, QuantMode::Asymmetric, GroupSize::Size(32))
    };
    check_kernel(
        a16wx(&split).expect("builds"),
        false,
        &[("m", 9), ("n", 64), ("k", 160)],
        65536,
    );
}

#[test]
fn packing_programs_keep_their_results() {
    for wtype in [U4, I3, DType::F8E5M2] {
        let c = cfg(wtype, QuantMode::Symmetric, GroupSize::PerChannel);
        let dims = [("n", 70), ("k", 45)];
        check_kernel(pack_program(&c).expect("builds"), false, &dims, 65536);
        check_kernel(unpack_program(&c).expect("builds"), false, &dims, 65536);
    }
}

/// The printed operands of the statements.
fn printed(k: &ThreadKernel) -> String {
    k.to_string()
}

#[test]
fn vector_add_indices_read_like_hand_written_code() {
    let k = lower(vector_add(DType::F32, 128).expect("builds"), false);
    let (s, report) = simplify(&k, &Limits::default());
    let text = printed(&s);
    println!("{text}\n{report:?}");
    // The block offset is a shift, the lower bound check is gone.
    assert!(
        text.contains("@a[(bid.x << 7) + tid] if (((bid.x << 7) + tid) < #n)"),
        "{text}"
    );
    assert!(!text.contains("0 <="), "{text}");
    assert!(report.cost_after < report.cost_before, "{report:?}");
}

#[test]
fn a16wx_u4_gets_much_cheaper() {
    let c = cfg(U4, QuantMode::Symmetric, GroupSize::Size(32));
    for mma in [false, true] {
        let k = lower(a16wx(&c).expect("builds"), mma);
        let (s, report) = simplify(&k, &Limits::default());
        let text = printed(&s);
        println!("{text}");
        println!(
            "a16wx f16 u4 (mma {mma}): cost {} -> {}, {} roots, {} subtrees, {} replaced, {:?}, {:?}",
            report.cost_before,
            report.cost_after,
            report.roots,
            report.subtrees,
            report.replaced,
            report.stop_reason,
            report.elapsed
        );
        assert!(report.cost_after * 2 < report.cost_before, "{report:?}");
        // Layout digits became shifts and masks.
        assert!(text.contains(">>") && text.contains(" & "), "{text}");
        assert!(
            !text.contains("tid / 32") && !text.contains("tid % 4"),
            "{text}"
        );
    }
}

#[test]
fn limits_are_respected() {
    let c = cfg(U4, QuantMode::Symmetric, GroupSize::Size(32));
    let k = lower(a16wx(&c).expect("builds"), true);
    let args = random_args(&k, &[("m", 5), ("n", 70), ("k", 100)], 65536, 3);
    let cases = [
        (
            Limits {
                iterations: 1,
                ..Limits::default()
            },
            StopReason::IterationLimit,
        ),
        (
            Limits {
                nodes: 50,
                ..Limits::default()
            },
            StopReason::NodeLimit,
        ),
        (
            Limits {
                time: Duration::ZERO,
                ..Limits::default()
            },
            StopReason::TimeLimit,
        ),
    ];
    for (limits, reason) in cases {
        let (s, report) = simplify(&k, &limits);
        assert_eq!(report.stop_reason, reason, "{limits:?}: {report:?}");
        same_results(&k, &s, &args);
    }
}

/// A kernel over `#p` (unknown sign and size) and `threadIdx`: stores `(#p * 2) / 2`,
/// `(#p + 1) > #p` and `((tid / 4) * 4 + tid % 4) + #p` to `out[3 * tid + i]`.
fn overflow_kernel() -> ThreadKernel {
    let mut b = KernelBuilder::new("overflow", 4);
    b.kernel.params.push(Param {
        name: "p".into(),
        kind: ParamKind::Scalar(Ty::I32),
        dtype: Some(I32),
    });
    let out = b.buffer("out", I32, BufferKind::Param(1));
    b.kernel.params.push(Param {
        name: "out".into(),
        kind: ParamKind::Pointer(out),
        dtype: None,
    });
    b.kernel.grid = vec![GridExpr::Const(1)];
    let x = b.local("x", I32, 3);
    let p = b.expr(tilus_lower::thread_ir::Expr::Param(0));
    let (one, two, three, four) = (b.i32(1), b.i32(2), b.i32(3), b.i32(4));
    let t = b.thread_idx();
    let p2 = b.mul(p, two);
    let v0 = b.div(p2, two);
    let p1 = b.add(p, one);
    let gt = b.binary(BinaryOp::Gt, p1, p);
    let v1 = b.cast(Ty::I32, gt);
    let q = b.div(t, four);
    let q4 = b.mul(q, four);
    let r = b.rem(t, four);
    let tt = b.add(q4, r);
    let v2 = b.add(tt, p);
    for (slot, v) in [v0, v1, v2].into_iter().enumerate() {
        let dst = LocalRef {
            array: x,
            slot: slot as u32,
        };
        b.push(Stmt::SetLocal { dst, value: v });
        let t3 = b.mul(t, three);
        let s = b.i32(slot as i32);
        let index = b.add(t3, s);
        b.push(Stmt::Store {
            dst: MemRef {
                space: Space::Global(out),
                index,
            },
            src: dst,
            width: 1,
            mask: None,
        });
    }
    b.finish()
}

#[test]
fn i32_wrap_around_is_not_simplified_away() {
    let k = overflow_kernel();
    verify(&k).unwrap_or_else(|e| panic!("{e}\n{k}"));
    let (s, report) = simplify(&k, &Limits::default());
    let text = printed(&s);
    println!("{text}\n{report:?}");
    // The bounded part is simplified, the parts with `#p` keep their operations.
    assert!(text.contains("(#p * 2) / 2"), "{text}");
    assert!(text.contains("(#p + 1) > #p"), "{text}");
    assert!(text.contains("tid + #p"), "{text}");
    for p in [
        i64::from(i32::MAX),
        i64::from(i32::MAX) - 1,
        1 << 30,
        -(1 << 30) - 3,
        7,
    ] {
        let args = vec![Arg::Int(p), Arg::Buffer(HostBuffer::zeros(I32, 12))];
        same_results(&k, &s, &args);
    }
}

#[test]
fn costs_are_tree_costs_of_the_operands() {
    let k = overflow_kernel();
    let (_, report) = simplify(&k, &Limits::default());
    // Recompute `cost_before` from `node_cost`.
    fn tree(k: &ThreadKernel, e: tilus_lower::thread_ir::ExprId) -> u64 {
        let n = k.exprs[e];
        let kids: u64 = match n {
            tilus_lower::thread_ir::Expr::Binary(_, a, b) => tree(k, a) + tree(k, b),
            tilus_lower::thread_ir::Expr::Cast(_, a)
            | tilus_lower::thread_ir::Expr::Unary(_, a) => tree(k, a),
            _ => 0,
        };
        node_cost(&n) + kids
    }
    let mut want = 0;
    for s in &k.body {
        match s {
            Stmt::SetLocal { value, .. } => want += tree(&k, *value),
            Stmt::Store { dst, .. } => want += tree(&k, dst.index),
            _ => {}
        }
    }
    assert_eq!(report.cost_before, want);
    assert_eq!(report.roots, 6);
}

#[test]
#[ignore = "timing; run in release"]
fn simplify_timing() {
    let c = cfg(U4, QuantMode::Symmetric, GroupSize::Size(32));
    let kernels = [
        ("a16wx f16 u4 mma", lower(a16wx(&c).expect("builds"), true)),
        ("a16wx f16 u4", lower(a16wx(&c).expect("builds"), false)),
        (
            "gemm f16 64x64x32",
            lower(
                gemm(DType::F16, GemmConfig::default()).expect("builds"),
                false,
            ),
        ),
    ];
    for (name, k) in &kernels {
        let reps = 20;
        let mut best = Duration::MAX;
        let mut last = None;
        for _ in 0..reps {
            let t = Instant::now();
            let r = simplify_kernel(k, &Limits::default()).expect("simplifies");
            best = best.min(t.elapsed());
            last = Some(r.1);
        }
        println!("{name}: best {best:?} over {reps} runs; {last:?}");
    }
}

/// `for $k in 0..8 { x = (k*4)/4 + k%8; out[4k + tid] = x }` and
/// `for $j in 0..#n { x = (j*4)/4; out[32 + j%8] = x }`: the constant loop bound makes
/// `k * 4` safe to fold, the parameter bound does not (`j * 4` may wrap), but `j ≥ 0` still
/// turns `j % 8` into a mask.
fn loops_kernel() -> ThreadKernel {
    let mut b = KernelBuilder::new("loops", 4);
    b.kernel.params.push(Param {
        name: "n".into(),
        kind: ParamKind::Scalar(Ty::I32),
        dtype: Some(I32),
    });
    let out = b.buffer("out", I32, BufferKind::Param(1));
    b.kernel.params.push(Param {
        name: "out".into(),
        kind: ParamKind::Pointer(out),
        dtype: None,
    });
    b.kernel.grid = vec![GridExpr::Const(1)];
    let x = b.local("x", I32, 1);
    let dst = LocalRef { array: x, slot: 0 };
    let n = b.expr(tilus_lower::thread_ir::Expr::Param(0));
    let (zero, one, four, eight, c32) = (b.i32(0), b.i32(1), b.i32(4), b.i32(8), b.i32(32));
    let t = b.thread_idx();
    let store = |b: &mut KernelBuilder, index| {
        b.push(Stmt::Store {
            dst: MemRef {
                space: Space::Global(out),
                index,
            },
            src: dst,
            width: 1,
            mask: None,
        })
    };
    for (name, end) in [("k", eight), ("j", n)] {
        let v = b.var(name, Ty::I32);
        b.open();
        let kv = b.read_var(v);
        let k4 = b.mul(kv, four);
        let q = b.div(k4, four);
        let r = b.rem(kv, eight);
        let (value, index) = if name == "k" {
            let k4t = b.add(k4, t);
            (b.add(q, r), k4t)
        } else {
            (q, b.add(c32, r))
        };
        b.push(Stmt::SetLocal { dst, value });
        store(&mut b, index);
        let body = b.close();
        b.push(Stmt::For {
            var: v,
            start: zero,
            end,
            step: one,
            body,
        });
    }
    b.finish()
}

#[test]
fn loop_ranges_are_used_only_where_sound() {
    let k = loops_kernel();
    verify(&k).unwrap_or_else(|e| panic!("{e}\n{k}"));
    let (s, report) = simplify(&k, &Limits::default());
    let text = printed(&s);
    println!("{k}\n{text}\n{report:?}");
    assert!(text.contains("%x[0] = $k + $k"), "{text}");
    assert!(text.contains("%x[0] = ($j * 4) / 4"), "{text}");
    assert!(text.contains("@out[($j & 7) + 32]"), "{text}");
    for n in [0, 5, 12] {
        let args = vec![Arg::Int(n), Arg::Buffer(HostBuffer::zeros(I32, 40))];
        same_results(&k, &s, &args);
    }
}

#[test]
fn simplified_kernels_legalize_and_validate_as_wgsl() {
    let target = Target::Wgsl(wgsl_support::caps());
    let c = cfg(U4, QuantMode::Symmetric, GroupSize::Size(32));
    let cases: [(Function, &[(&str, i64)]); 3] = [
        (vector_add(U4, 128).expect("builds"), &[("n", 300)]),
        (
            gemm(DType::F16, GemmConfig::default()).expect("builds"),
            &[("m", 70), ("n", 40), ("k", 50)],
        ),
        (
            a16wx(&c).expect("builds"),
            &[("m", 5), ("n", 70), ("k", 100)],
        ),
    ];
    for (f, scalars) in cases {
        let p = verified(f);
        let layouts = infer(&p, 0, &target.caps()).unwrap_or_else(|e| panic!("layouts: {e}"));
        let k = lower_with(&p, &layouts, &LowerOptions::for_target(&target));
        let (s, _) = simplify(&k, &Limits::default());
        wgsl_support::check(&s, &random_args(&s, scalars, 65536, 7));
    }
}
