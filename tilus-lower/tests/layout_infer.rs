//! Layout inference on small kernels built with the Rust builder.

use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::layout::atoms::mma_block;
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::layout::{auto_local_spatial, local, parse_layout, RegisterLayout};
use tilus_ir::program::{Function, Program, TensorId, Unroll};
use tilus_ir::verify::{verify, VerifiedProgram};
use tilus_lower::layout_infer::{
    default_layout, infer, validate, LayoutAssignment, LayoutInferError,
};
use tilus_lower::target::{Target, TargetCaps, WgslCaps};
use tilus_lower::thread_ir::MmaShape;

const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};
const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};

/// A target with m16n8k16 tensor cores (the MMA-layout rules these tests are about).
fn target() -> TargetCaps {
    TargetCaps {
        mma: vec![MmaShape::M16N8K16],
        ..Target::Wgsl(WgslCaps::default()).caps()
    }
}

fn verified(f: Function) -> VerifiedProgram {
    verify(Program { functions: vec![f] }).expect("the test kernel verifies")
}

fn run(f: Function) -> (VerifiedProgram, Result<LayoutAssignment, LayoutInferError>) {
    let p = verified(f);
    let r = infer(&p, 0, &target());
    (p, r)
}

fn func(p: &VerifiedProgram) -> &Function {
    &p.program().functions[0]
}

fn reg<'a>(p: &VerifiedProgram, a: &'a LayoutAssignment, name: &str) -> &'a RegisterLayout {
    let t: TensorId = func(p).tensor_by_name(name).expect("tensor exists");
    a.register.get(&t).expect("tensor has a register layout")
}

fn layout(s: &str) -> RegisterLayout {
    parse_layout(s).expect("a valid layout expression")
}

/// `c[i] = a[i] + b[i]`, 1024 elements per block, 4 warps.
fn vector_add() -> Function {
    let kb = KernelBuilder::new("vector_add", 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("A", DType::F32);
    let b = kb.pointer_param("B", DType::F32);
    let c = kb.pointer_param("C", DType::F32);
    kb.grid(&[n.cdiv(1024)]);
    let ga = kb.global_view(a, &[n]).named("ga");
    let gb = kb.global_view(b, &[n]).named("gb");
    let gc = kb.global_view(c, &[n]).named("gc");
    let off = kb.block_idx(Axis::X) * 1024;
    let x = kb.load_global(&ga, &[off], &[1024]).named("x");
    let y = kb.load_global(&gb, &[off], &[1024]).named("y");
    let z = (x + y).named("z");
    kb.store_global(&gc, &z, &[off]);
    kb.finish().expect("builds")
}

#[test]
fn vector_add_gets_vectorized_1d_layouts() {
    let (p, a) = run(vector_add());
    let a = a.expect("infers");
    // 8 f32 per thread, 16-byte vectors: 4 elements.
    let want = local(&[2]).spatial(&[128]).local(&[4]);
    for name in ["x", "y", "z"] {
        assert_eq!(reg(&p, &a, name), &want, "%{name}");
    }
    assert_eq!(
        a.display(func(&p)),
        "%x: register f32[1024] = local(2).spatial(128).local(4)\n\
         %y: register f32[1024] = local(2).spatial(128).local(4)\n\
         %z: register f32[1024] = local(2).spatial(128).local(4)\n"
    );
}

fn load_kernel(dtype: DType, shape: [usize; 2], warps: u32, strided: bool) -> Function {
    let kb = KernelBuilder::new("load", warps);
    let m = kb.scalar_param("m", ScalarType::I32);
    let s = kb.scalar_param("s", ScalarType::I32);
    let x = kb.pointer_param("X", dtype);
    let y = kb.pointer_param("Y", dtype);
    kb.grid(&[1]);
    let gx = if strided {
        kb.global_view_strided(x, &[m, m], &[m, s])
    } else {
        kb.global_view(x, &[m, m])
    };
    let gy = kb.global_view(y, &[m, m]);
    let t = kb.load_global(&gx, &[0, 0], &shape).named("t");
    kb.store_global(&gy, &t, &[0, 0]);
    kb.finish().expect("builds")
}

#[test]
fn f16_64x64_load_with_4_warps_uses_16_byte_vectors() {
    let (p, a) = run(load_kernel(DType::F16, [64, 64], 4, false));
    let a = a.expect("infers");
    let l = reg(&p, &a, "t");
    assert_eq!(l, &layout("local(4,1).spatial(16,8).local(1,8)"));
    assert_eq!(l.to_string(), "local(4,1).spatial(16,8).local(1,8)");
    // Thread 9 holds (1, 8..15), then (17, 8..15), ...
    for j in 0..8 {
        assert_eq!(l.index_of(9, j).unwrap(), vec![1, 8 + j]);
        assert_eq!(l.index_of(9, 8 + j).unwrap(), vec![17, 8 + j]);
    }
}

#[test]
fn non_unit_last_stride_disables_vectors() {
    let (p, a) = run(load_kernel(DType::F16, [64, 64], 4, true));
    let a = a.expect("infers");
    assert_eq!(reg(&p, &a, "t"), &auto_local_spatial(128, &[64, 64]));
}

#[test]
fn default_layout_vector_widths() {
    // Sub-byte: u4 vectors of 32 elements (16 bytes).
    assert_eq!(
        default_layout(128, &[64, 64], U4, true),
        auto_local_spatial(128, &[64, 2]).local(&[1, 32])
    );
    // u3: 32 elements = 12 whole bytes.
    let u3 = DType::Int {
        bits: 3,
        signed: false,
    };
    assert_eq!(
        default_layout(128, &[64, 64], u3, true),
        auto_local_spatial(128, &[64, 2]).local(&[1, 32])
    );
    // Fewer elements than threads: no vectors, replicated threads.
    assert_eq!(
        default_layout(128, &[64], DType::F32, true),
        auto_local_spatial(128, &[64])
    );
    // A single u4 per row cannot make a whole byte.
    assert_eq!(
        default_layout(32, &[64, 1], U4, true),
        auto_local_spatial(32, &[64, 1])
    );
}

/// `y = x * scale` with a `[1, 64]` scale row (and a rank-1 bias), stored.
#[test]
fn elementwise_propagates_through_broadcasts() {
    let kb = KernelBuilder::new("scale", 4);
    let x = kb.pointer_param("X", DType::F16);
    let s = kb.pointer_param("S", DType::F16);
    let bias = kb.pointer_param("BIAS", DType::F16);
    let y = kb.pointer_param("Y", DType::F16);
    kb.grid(&[1]);
    let gx = kb.global_view(x, &[64, 64]);
    let gs = kb.global_view(s, &[1, 64]);
    let gb = kb.global_view(bias, &[64]);
    let gy = kb.global_view(y, &[64, 64]);
    let tx = kb.load_global(&gx, &[0, 0], &[64, 64]).named("tx");
    let ts = kb.load_global(&gs, &[0, 0], &[1, 64]).named("ts");
    let tb = kb.load_global(&gb, &[0], &[64]).named("tb");
    let prod = (tx * ts).named("prod");
    let out = (prod + tb).named("out");
    let neg = (-&out).named("neg");
    kb.store_global(&gy, &neg, &[0, 0]);
    let (p, a) = run(kb.finish().expect("builds"));
    let a = a.expect("infers");
    let lx = layout("local(4,1).spatial(16,8).local(1,8)");
    assert_eq!(reg(&p, &a, "tx"), &lx);
    for name in ["prod", "out", "neg"] {
        assert_eq!(reg(&p, &a, name), &lx, "%{name}");
    }
    assert_eq!(reg(&p, &a, "ts"), &lx.reduce(&[0], true).unwrap());
    assert_eq!(reg(&p, &a, "tb"), &lx.reduce(&[0], false).unwrap());
    // Every thread of a row-replica holds its scale elements.
    let ls = reg(&p, &a, "ts");
    assert_eq!(ls.num_threads(), 128);
    assert!(ls.is_replicated());
    validate(func(&p), &a).expect("valid");
}

#[test]
fn output_layout_flows_back_to_same_shape_inputs() {
    // The cast's input comes from a load, but the dot (higher priority) decides first and the
    // cast hands its layout back to the load.
    let kb = KernelBuilder::new("cast_dot", 4);
    let pa = kb.pointer_param("A", DType::F32);
    let pb = kb.pointer_param("B", DType::F16);
    kb.grid(&[1]);
    let ga = kb.global_view(pa, &[64, 32]);
    let gb = kb.global_view(pb, &[32, 64]);
    let a32 = kb.load_global(&ga, &[0, 0], &[64, 32]).named("a32");
    let a16 = a32.cast(DType::F16).named("a16");
    let b = kb.load_global(&gb, &[0, 0], &[32, 64]).named("b");
    let _d = kb.dot(&a16, &b, None, DType::F32).named("d");
    let (p, a) = run(kb.finish().expect("builds"));
    let a = a.expect("infers");
    let (la, lb, lc) = mma_block((2, 2), (2, 4, 2));
    assert_eq!(reg(&p, &a, "a16"), &la);
    assert_eq!(reg(&p, &a, "a32"), &la);
    assert_eq!(reg(&p, &a, "b"), &lb);
    assert_eq!(reg(&p, &a, "d"), &lc);
}

#[test]
fn reduce_result_lives_where_the_reduction_leaves_it() {
    let kb = KernelBuilder::new("row_sum", 4);
    let x = kb.pointer_param("X", DType::F32);
    let y = kb.pointer_param("Y", DType::F32);
    kb.grid(&[1]);
    let gx = kb.global_view(x, &[64, 64]);
    let gy = kb.global_view(y, &[64]);
    let gk = kb.global_view(y, &[64, 1]);
    let t = kb.load_global(&gx, &[0, 0], &[64, 64]).named("t");
    let r = t.sum(1, false).named("r");
    let k = t.sum(1, true).named("k");
    kb.store_global(&gy, &r, &[0]);
    kb.store_global(&gk, &k, &[0, 0]);
    let (p, a) = run(kb.finish().expect("builds"));
    let a = a.expect("infers");
    let lt = reg(&p, &a, "t");
    assert_eq!(lt, &layout("local(8,1).spatial(8,16).local(1,4)"));
    assert_eq!(reg(&p, &a, "r"), &lt.reduce(&[1], false).unwrap());
    assert_eq!(reg(&p, &a, "k"), &lt.reduce(&[1], true).unwrap());
}

fn dot_kernel(m: usize, n: usize, k: usize, warps: u32) -> Function {
    let kb = KernelBuilder::new("dot", warps);
    let pa = kb.pointer_param("A", DType::F16);
    let pb = kb.pointer_param("B", DType::F16);
    let pc = kb.pointer_param("C", DType::F32);
    kb.grid(&[1]);
    let ga = kb.global_view(pa, &[m, k]);
    let gb = kb.global_view(pb, &[k, n]);
    let gc = kb.global_view(pc, &[m, n]);
    let a = kb.load_global(&ga, &[0, 0], &[m, k]).named("a");
    let b = kb.load_global(&gb, &[0, 0], &[k, n]).named("b");
    let c = kb.dot(&a, &b, None, DType::F32).named("c");
    kb.store_global(&gc, &c, &[0, 0]);
    kb.finish().expect("builds")
}

#[test]
fn dot_64x64x32_with_4_warps_gets_mma_layouts() {
    let (p, a) = run(dot_kernel(64, 64, 32, 4));
    let a = a.expect("infers");
    // Registers per thread: (1,4) 72, (2,2) 64, (4,1) 72.
    let (la, lb, lc) = mma_block((2, 2), (2, 4, 2));
    assert_eq!(reg(&p, &a, "a"), &la);
    assert_eq!(reg(&p, &a, "b"), &lb);
    assert_eq!(reg(&p, &a, "c"), &lc);
    assert_eq!(la.local_size(), 32);
    assert_eq!(lb.local_size(), 32);
    assert_eq!(lc.local_size(), 32);
}

#[test]
fn dot_64x128x16_ties_go_to_the_smallest_wsm() {
    // (1,4) and (2,2) both need 88 registers; Tilus picks (1,4).
    let (p, a) = run(dot_kernel(64, 128, 16, 4));
    let a = a.expect("infers");
    let (la, lb, lc) = mma_block((1, 4), (4, 4, 1));
    assert_eq!(reg(&p, &a, "a"), &la);
    assert_eq!(reg(&p, &a, "b"), &lb);
    assert_eq!(reg(&p, &a, "c"), &lc);
}

#[test]
fn dot_without_mma_shape_gets_generic_layouts() {
    let (p, a) = run(dot_kernel(8, 8, 8, 1));
    let a = a.expect("infers");
    assert_eq!(reg(&p, &a, "a"), &auto_local_spatial(32, &[8, 8]));
    assert_eq!(reg(&p, &a, "b"), &auto_local_spatial(32, &[8, 8]));
    assert_eq!(reg(&p, &a, "c"), &auto_local_spatial(32, &[8, 8]));
}

#[test]
fn accumulator_loop_shares_the_mma_result_layout() {
    let kb = KernelBuilder::new("gemm", 4);
    let kk = kb.scalar_param("k", ScalarType::I32);
    let pa = kb.pointer_param("A", DType::F16);
    let pb = kb.pointer_param("B", DType::F16);
    let pc = kb.pointer_param("C", DType::F32);
    kb.grid(&[1]);
    let ga = kb.global_view(pa, &[kb.int(64), kk]);
    let gb = kb.global_view(pb, &[kk, kb.int(64)]);
    let gc = kb.global_view(pc, &[64, 64]);
    let acc = kb
        .alloc_register(DType::F32, &[64, 64], Some(0.0))
        .named("acc");
    kb.for_range("i", 0, kk.cdiv(32), 1, Unroll::None, |i| {
        let a = kb
            .load_global(&ga, &[kb.int(0), i * 32], &[64, 32])
            .named("a");
        let b = kb
            .load_global(&gb, &[i * 32, kb.int(0)], &[32, 64])
            .named("b");
        kb.dot_acc(&a, &b, &acc);
    });
    kb.store_global(&gc, &acc, &[0, 0]);
    let (p, a) = run(kb.finish().expect("builds"));
    let a = a.expect("infers");
    let (la, lb, lc) = mma_block((2, 2), (2, 4, 2));
    assert_eq!(reg(&p, &a, "acc"), &lc);
    assert_eq!(reg(&p, &a, "a"), &la);
    assert_eq!(reg(&p, &a, "b"), &lb);
}

/// u8 tile (annotated) → view u4 → cast f16 → mul by broadcast scales → dot.
fn view_chain(view_layout: &RegisterLayout) -> Function {
    let kb = KernelBuilder::new("a16w4", 4);
    let pa = kb.pointer_param("A", DType::F16);
    let pw = kb.pointer_param("W", U8);
    let ps = kb.pointer_param("S", DType::F16);
    let pc = kb.pointer_param("C", DType::F32);
    kb.grid(&[1]);
    let ga = kb.global_view(pa, &[64, 32]);
    let gw = kb.global_view(pw, &[32, 32]);
    let gs = kb.global_view(ps, &[1, 64]);
    let gc = kb.global_view(pc, &[64, 64]);
    let a = kb.load_global(&ga, &[0, 0], &[64, 32]).named("a");
    let w8 = kb.load_global(&gw, &[0, 0], &[32, 32]).named("w8");
    // 16 bytes per thread; every element held by two threads.
    let l8 = RegisterLayout::new(vec![32, 32], vec![32, 2, 16], vec![-2, 0, 1], vec![2])
        .expect("valid layout");
    kb.annotate_layout(&w8, &l8);
    let w4 = kb.view(&w8, U4, view_layout).named("w4");
    let wf = w4.cast(DType::F16).named("wf");
    let s = kb.load_global(&gs, &[0, 0], &[1, 64]).named("s");
    let ws = (wf * s).named("ws");
    let c = kb.dot(&a, &ws, None, DType::F32).named("acc");
    kb.store_global(&gc, &c, &[0, 0]);
    kb.finish().expect("builds")
}

#[test]
fn view_chain_infers_consistently() {
    let (la, lb, lc) = mma_block((2, 2), (2, 4, 2));
    let (p, a) = run(view_chain(&lb));
    let a = a.expect("infers");
    assert_eq!(reg(&p, &a, "w4"), &lb);
    assert_eq!(reg(&p, &a, "wf"), &lb);
    assert_eq!(reg(&p, &a, "ws"), &lb);
    assert_eq!(reg(&p, &a, "s"), &lb.reduce(&[0], true).unwrap());
    // The dot picks the split whose b layout is the one already there.
    assert_eq!(reg(&p, &a, "a"), &la);
    assert_eq!(reg(&p, &a, "acc"), &lc);
    validate(func(&p), &a).expect("valid");
}

#[test]
fn view_with_other_bits_per_thread_is_rejected() {
    // The 16 bytes per thread of %w8 are 32 u4 slots; this layout has 16 u4 per thread.
    let bad = auto_local_spatial(128, &[32, 8]).local(&[1, 8]);
    // The verifier rejects the view before layout inference runs.
    let e = verify(Program {
        functions: vec![view_chain(&bad)],
    })
    .expect_err("bits per thread differ");
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].inst.as_deref(), Some("view"), "{e}");
    assert_eq!(e.0[0].target.as_deref(), Some("%w4"), "{e}");
    assert!(e.contains("bits per thread differ"), "{e}");
    assert!(e.contains("%w8 holds 16 × u8 = 128 bits per thread"), "{e}");
    assert!(e.contains("16 × u4 = 64 bits"), "{e}");
    // Inference's own check of a view: the same layouts given to an inferred assignment.
    let (_, lb, _) = mma_block((2, 2), (2, 4, 2));
    let (p, a) = run(view_chain(&lb));
    let mut a = a.expect("infers");
    let w4 = func(&p).tensor_by_name("w4").expect("w4");
    a.register.insert(w4, bad);
    match validate(func(&p), &a) {
        Err(LayoutInferError::Invalid {
            inst,
            tensors,
            message,
            ..
        }) => {
            assert_eq!(inst, "view");
            assert_eq!(tensors, vec!["w8".to_string(), "w4".to_string()]);
            assert!(message.contains("128 bits"), "{message}");
        }
        other => panic!("expected a view error, got {other:?}"),
    }
}

#[test]
fn conflicting_annotations_name_the_tensor() {
    let l1 = layout("local(4,1).spatial(16,8).local(1,8)");
    let l2 = auto_local_spatial(128, &[64, 64]);
    let kernel = |layouts: &[&RegisterLayout]| {
        let kb = KernelBuilder::new("conflict", 4);
        let x = kb.pointer_param("X", DType::F16);
        kb.grid(&[1]);
        let gx = kb.global_view(x, &[64, 64]);
        let t = kb.load_global(&gx, &[0, 0], &[64, 64]).named("tile");
        for l in layouts {
            kb.annotate_layout(&t, l);
        }
        kb.finish().expect("builds")
    };
    // The same layout twice is one layout.
    let (p, a) = run(kernel(&[&l1, &l1]));
    assert_eq!(reg(&p, &a.expect("infers"), "tile"), &l1);
    // Two different ones are rejected by the verifier, before layout inference, at the
    // later annotation, naming the tensor and both layouts.
    let e = verify(Program {
        functions: vec![kernel(&[&l1, &l1, &l2])],
    })
    .expect_err("conflict");
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].inst.as_deref(), Some("annotate_layout"), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("%tile"), "{msg}");
    assert!(
        msg.contains(&l1.to_string()) && msg.contains(&l2.to_string()),
        "{msg}"
    );
}

#[test]
fn mismatched_broadcast_annotation_is_reported_by_validation() {
    let kb = KernelBuilder::new("bad_scale", 4);
    let x = kb.pointer_param("X", DType::F16);
    let s = kb.pointer_param("S", DType::F16);
    kb.grid(&[1]);
    let gx = kb.global_view(x, &[64, 64]);
    let gs = kb.global_view(s, &[1, 64]);
    let tx = kb.load_global(&gx, &[0, 0], &[64, 64]).named("tx");
    let ts = kb.load_global(&gs, &[0, 0], &[1, 64]).named("ts");
    kb.annotate_layout(&ts, &auto_local_spatial(128, &[1, 64]));
    let y = (tx * ts).named("y");
    kb.store_global(&gx, &y, &[0, 0]);
    let (_, a) = run(kb.finish().expect("builds"));
    match a {
        Err(LayoutInferError::Invalid { inst, tensors, .. }) => {
            assert_eq!(inst, "mul");
            assert!(tensors.contains(&"ts".to_string()), "{tensors:?}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn tensor_no_rule_can_lay_out_is_named() {
    // An outer product of two annotated broadcast operands: nothing says how to lay out the
    // [64, 64] result.
    let kb = KernelBuilder::new("outer", 4);
    let x = kb.pointer_param("X", DType::F32);
    kb.grid(&[1]);
    let gr = kb.global_view(x, &[1, 64]);
    let gc = kb.global_view(x, &[64, 1]);
    let r = kb.load_global(&gr, &[0, 0], &[1, 64]).named("row");
    let c = kb.load_global(&gc, &[0, 0], &[64, 1]).named("col");
    let _o = (r * c).named("outer");
    let (_, a) = run(kb.finish().expect("builds"));
    match a {
        Err(LayoutInferError::Unresolved { tensor, kind, .. }) => {
            assert_eq!(tensor, "outer");
            assert_eq!(kind, "register");
        }
        other => panic!("expected an unresolved tensor, got {other:?}"),
    }
}

fn shared_kernel() -> Function {
    let kb = KernelBuilder::new("staged", 4);
    let pa = kb.pointer_param("A", DType::F16);
    let pb = kb.pointer_param("B", DType::F16);
    kb.grid(&[1]);
    let ga = kb.global_view(pa, &[64, 32]);
    let gb = kb.global_view(pb, &[64, 32]);
    let stages = kb.alloc_shared(DType::F16, &[2, 64, 32]).named("stages");
    let sw = kb.alloc_shared(DType::F16, &[64, 32]).named("sw");
    let swizzled = SharedLayout::row_major_swizzle(&[64, 32], 2).expect("swizzle");
    kb.annotate_shared_layout(&sw, &swizzled);
    let s0 = kb.slice(&stages, &[0]).named("s0");
    kb.copy_async(&s0, &ga, &[0, 0]);
    kb.copy_async(&sw, &gb, &[0, 0]);
    kb.wait_all();
    kb.sync();
    let x = kb.load_shared(&s0).named("x");
    let y = kb.load_shared(&sw).named("y");
    let z = (x + y).named("z");
    kb.store_global(&gb, &z, &[0, 0]);
    kb.free_shared(&stages);
    kb.free_shared(&sw);
    kb.finish().expect("builds")
}

#[test]
fn shared_tensors_are_row_major_unless_annotated() {
    let (p, a) = run(shared_kernel());
    let a = a.expect("infers");
    let f = func(&p);
    let sh = |name: &str| &a.shared[&f.tensor_by_name(name).unwrap()];
    assert_eq!(
        sh("stages"),
        &SharedLayout::row_major(&[2, 64, 32]).unwrap()
    );
    assert_eq!(sh("s0"), &SharedLayout::row_major(&[64, 32]).unwrap());
    assert_eq!(
        sh("sw"),
        &SharedLayout::row_major_swizzle(&[64, 32], 2).unwrap()
    );
    assert_eq!(
        a.display(f),
        "%stages: shared f16[2, 64, 32] = row_major(2,64,32)\n\
         %sw: shared f16[64, 32] = row_major(64,32).swizzle(3,2,3)\n\
         %s0: shared f16[64, 32] = row_major(64,32)\n\
         %x: register f16[64, 32] = local(2,1).spatial(32,4).local(1,8)\n\
         %y: register f16[64, 32] = local(2,1).spatial(32,4).local(1,8)\n\
         %z: register f16[64, 32] = local(2,1).spatial(32,4).local(1,8)\n"
    );
}

#[test]
fn an_annotated_slice_lays_out_its_parent() {
    let kb = KernelBuilder::new("slice_up", 4);
    let pa = kb.pointer_param("A", DType::F16);
    kb.grid(&[1]);
    let ga = kb.global_view(pa, &[64, 32]);
    let stages = kb.alloc_shared(DType::F16, &[3, 64, 32]).named("stages");
    let s1 = kb.slice(&stages, &[1]).named("s1");
    let swizzled = SharedLayout::row_major_swizzle(&[64, 32], 2).expect("swizzle");
    kb.annotate_shared_layout(&s1, &swizzled);
    kb.copy_async(&s1, &ga, &[0, 0]);
    kb.wait_all();
    kb.free_shared(&stages);
    let (p, a) = run(kb.finish().expect("builds"));
    let a = a.expect("infers");
    let f = func(&p);
    let parent = &a.shared[&f.tensor_by_name("stages").unwrap()];
    // Each stage starts at a multiple of 2048 elements; offsets within are swizzled alike.
    for idx in [[0, 5, 17], [1, 3, 0], [2, 63, 31]] {
        let want = idx[0] * 2048 + swizzled.offset(&idx[1..]).unwrap();
        assert_eq!(parent.offset(&idx).unwrap(), want, "{idx:?}");
    }
}

#[test]
fn inference_is_deterministic() {
    for make in [vector_add as fn() -> Function, shared_kernel, || {
        view_chain(&mma_block((2, 2), (2, 4, 2)).1)
    }] {
        let (p1, a1) = run(make());
        let (p2, a2) = run(make());
        let (a1, a2) = (a1.expect("infers"), a2.expect("infers"));
        assert_eq!(a1, a2);
        assert_eq!(a1.display(func(&p1)), a2.display(func(&p2)));
        let again = infer(&p1, 0, &target()).expect("infers");
        assert_eq!(a1, again);
    }
}

#[test]
fn display_of_a_gemm_with_a_scaled_operand() {
    let (p, a) = run(view_chain(&mma_block((2, 2), (2, 4, 2)).1));
    let a = a.expect("infers");
    assert_eq!(
        a.display(func(&p)),
        "%a: register f16[64, 32] = \
         spatial(2,1).local(2,4).replicated(2,1, threads=2).spatial(8,4).local(1,2)
%w8: register u8[32, 32] = replicated(1,1, threads=2).spatial(32,2).local(1,16)
%w4: register u4[32, 64] = \
         replicated(2,1, threads=2).spatial(1,2).column_local(2,4).column_spatial(4,8).local(2,1)
%wf: register f16[32, 64] = \
         replicated(2,1, threads=2).spatial(1,2).column_local(2,4).column_spatial(4,8).local(2,1)
%s: register f16[1, 64] = \
         replicated(1,1, threads=2).spatial(1,2).local(1,4).spatial(1,8).replicated(1,1, threads=4)
%ws: register f16[32, 64] = \
         replicated(2,1, threads=2).spatial(1,2).column_local(2,4).column_spatial(4,8).local(2,1)
%acc: register f32[64, 64] = spatial(2,2).local(2,4).local(2,1).spatial(8,4).local(1,2)
"
    );
}

#[test]
fn missing_function_is_an_error() {
    let p = verified(vector_add());
    assert_eq!(
        infer(&p, 3, &target()),
        Err(LayoutInferError::NoSuchFunction { index: 3, count: 1 })
    );
}

#[test]
fn validate_rejects_tampered_assignments() {
    let (p, a) = run(vector_add());
    let good = a.expect("infers");
    let f = func(&p);
    let z = f.tensor_by_name("z").unwrap();

    // Too few threads.
    let mut bad = good.clone();
    bad.register.insert(z, auto_local_spatial(64, &[1024]));
    let e = validate(f, &bad).expect_err("64 threads in a 128-thread block");
    assert!(e.to_string().contains("spans 64 threads"), "{e}");

    // The right threads, but not the layout of the operands.
    let mut bad = good.clone();
    bad.register.insert(z, auto_local_spatial(128, &[1024]));
    match validate(f, &bad) {
        Err(LayoutInferError::Invalid { inst, tensors, .. }) => {
            assert_eq!(inst, "add");
            assert_eq!(tensors, vec!["x".to_string(), "z".to_string()]);
        }
        other => panic!("expected an add error, got {other:?}"),
    }

    // Missing.
    let mut bad = good;
    bad.register.remove(&z);
    assert!(matches!(
        validate(f, &bad),
        Err(LayoutInferError::Unresolved { tensor, .. }) if tensor == "z"
    ));
}

#[test]
fn a_broadcast_operand_loaded_first_still_gets_the_reduced_layout() {
    // The [64, 1] scales are loaded before the tile they scale; their default layout must not
    // win over the broadcast of the result's layout.
    let kb = KernelBuilder::new("row_scale", 4);
    let x = kb.pointer_param("X", DType::F32);
    let s = kb.pointer_param("S", DType::F32);
    kb.grid(&[1]);
    let gx = kb.global_view(x, &[64, 64]);
    let gs = kb.global_view(s, &[64, 1]);
    let ts = kb.load_global(&gs, &[0, 0], &[64, 1]).named("ts");
    let tx = kb.load_global(&gx, &[0, 0], &[64, 64]).named("tx");
    let y = (tx * ts).named("y");
    kb.store_global(&gx, &y, &[0, 0]);
    let (p, a) = run(kb.finish().expect("builds"));
    let a = a.expect("infers");
    let lx = reg(&p, &a, "tx");
    assert_eq!(lx, &default_layout(128, &[64, 64], DType::F32, true));
    assert_eq!(reg(&p, &a, "y"), lx);
    assert_eq!(reg(&p, &a, "ts"), &lx.reduce(&[1], true).unwrap());
}
