//! Local-array views, shared memory (sub-word stores from many threads, barriers),
//! `cp.async`, loops and scalar parameters through WGSL legalization: bit-exact against the
//! original on the thread interpreter, and naga-valid WGSL.

mod wgsl_support;

use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;
use tilus_lower::artifact::{GridExpr, ParamBinding};
use tilus_lower::backend::legalize::legalize_wgsl;
use tilus_lower::backend::wgsl::emit::emit_wgsl;
use tilus_lower::error::LowerError;
use tilus_lower::thread_ir::interp::Arg;
use tilus_lower::thread_ir::{
    BinaryOp, BufferId, BufferKind, Expr, ExprId, KernelBuilder, LocalId, LocalRef, MemRef,
    MmaShape, Param, ParamKind, Space, Stmt, ThreadKernel, Ty,
};
use wgsl_support::{caps, check, random_buffer, zero_buffer, Rng};

fn int(bits: u8, signed: bool) -> DType {
    DType::Int { bits, signed }
}

fn pointer(b: &mut KernelBuilder, name: &str, dtype: DType) -> BufferId {
    let i = b.kernel.params.len() as u32;
    let buf = b.buffer(name, dtype, BufferKind::Param(i));
    b.kernel.params.push(Param {
        name: name.into(),
        kind: ParamKind::Pointer(buf),
        dtype: None,
    });
    buf
}

fn scalar(b: &mut KernelBuilder, name: &str, ty: Ty, dtype: Option<DType>) -> ExprId {
    let i = b.kernel.params.len() as u32;
    b.kernel.params.push(Param {
        name: name.into(),
        kind: ParamKind::Scalar(ty),
        dtype,
    });
    b.expr(Expr::Param(i))
}

fn at(array: LocalId, slot: u32) -> LocalRef {
    LocalRef { array, slot }
}

fn gmem(buf: BufferId, index: ExprId) -> MemRef {
    MemRef {
        space: Space::Global(buf),
        index,
    }
}

fn global_id(b: &mut KernelBuilder, threads: u32) -> ExprId {
    let bid = b.block_idx(Axis::X);
    let t = b.i32(threads as i32);
    let base = b.mul(bid, t);
    let tid = b.thread_idx();
    b.add(base, tid)
}

/// Loads `bytes` u8 per thread, views them as `dtype`, adds one to every slot (wrapping),
/// views back and stores the bytes; also stores every slot as f32.
fn view_kernel(dtype: DType, bytes: u32) -> ThreadKernel {
    let threads = 32;
    let slots = bytes * 8 / dtype.bits();
    let mut b = KernelBuilder::new("views", threads);
    let (x, f, y) = (
        pointer(&mut b, "x", int(8, false)),
        pointer(&mut b, "f", DType::F32),
        pointer(&mut b, "y", int(8, false)),
    );
    b.kernel.grid = vec![GridExpr::Const(2)];
    let raw = b.local("raw", int(8, false), bytes);
    let v = b.local("v", dtype, slots);
    let fl = b.local("fl", DType::F32, slots);
    let gid = global_id(&mut b, threads);
    let nb = b.i32(bytes as i32);
    let i = b.mul(gid, nb);
    b.push(Stmt::Load {
        dst: at(raw, 0),
        src: gmem(x, i),
        width: bytes,
        mask: None,
    });
    b.push(Stmt::View { dst: v, src: raw });
    for s in 0..slots {
        let e = b.read_local(v, s);
        let ef = b.cast(Ty::F32, e);
        b.push(Stmt::SetLocal {
            dst: at(fl, s),
            value: ef,
        });
        let one = b.konst(tilus_lower::thread_ir::Const::of_code(dtype, 1));
        let e1 = b.add(e, one);
        b.push(Stmt::SetLocal {
            dst: at(v, s),
            value: e1,
        });
    }
    b.push(Stmt::View { dst: raw, src: v });
    let ns = b.i32(slots as i32);
    let j = b.mul(gid, ns);
    b.push(Stmt::Store {
        dst: gmem(f, j),
        src: at(fl, 0),
        width: slots,
        mask: None,
    });
    b.push(Stmt::Store {
        dst: gmem(y, i),
        src: at(raw, 0),
        width: bytes,
        mask: None,
    });
    b.finish()
}

#[test]
fn local_views_u8_as_u4_and_i6() {
    for (dtype, bytes) in [
        (int(4, false), 4),
        (int(6, true), 6),
        (int(6, true), 3),
        (int(3, false), 12),
    ] {
        let k = view_kernel(dtype, bytes);
        let slots = (bytes * 8 / dtype.bits()) as usize;
        let n = 64 * bytes as usize;
        let mut rng = Rng(u64::from(bytes) + 100);
        let args = [
            random_buffer(&mut rng, int(8, false), n),
            zero_buffer(DType::F32, 64 * slots),
            zero_buffer(int(8, false), n),
        ];
        check(&k, &args);
    }
}

/// Every thread stores one `dtype` element into shared memory at `tid`, then (after a
/// barrier) reads the element of thread `(tid + shift) % threads` and stores it.
fn shared_kernel(dtype: DType, threads: u32, shift: i32) -> ThreadKernel {
    let mut b = KernelBuilder::new("shared_rotate", threads);
    let (x, y) = (pointer(&mut b, "x", dtype), pointer(&mut b, "y", dtype));
    b.kernel.grid = vec![GridExpr::Const(2)];
    let bytes = (threads * dtype.bits()).div_ceil(8);
    let sh = b.shared("buf", dtype, 16, threads);
    b.kernel.shared_bytes = 16 + bytes;
    let l = b.local("e", dtype, 1);
    let tid = b.thread_idx();
    let gid = global_id(&mut b, threads);
    b.push(Stmt::Load {
        dst: at(l, 0),
        src: gmem(x, gid),
        width: 1,
        mask: None,
    });
    b.push(Stmt::Store {
        dst: MemRef {
            space: Space::Shared(sh),
            index: tid,
        },
        src: at(l, 0),
        width: 1,
        mask: None,
    });
    b.push(Stmt::Barrier);
    let s = b.i32(shift);
    let moved = b.add(tid, s);
    let t = b.i32(threads as i32);
    let other = b.rem(moved, t);
    b.push(Stmt::Load {
        dst: at(l, 0),
        src: MemRef {
            space: Space::Shared(sh),
            index: other,
        },
        width: 1,
        mask: None,
    });
    b.push(Stmt::Store {
        dst: gmem(y, gid),
        src: at(l, 0),
        width: 1,
        mask: None,
    });
    b.finish()
}

#[test]
fn shared_sub_word_stores_from_many_threads() {
    for dtype in [
        int(4, false),
        int(3, true),
        int(6, false),
        DType::F16,
        mini(3, 2),
        int(32, true),
    ] {
        let k = shared_kernel(dtype, 64, 5);
        let mut rng = Rng(u64::from(dtype.bits()));
        let args = [random_buffer(&mut rng, dtype, 128), zero_buffer(dtype, 128)];
        let c = check(&k, &args);
        assert!(c.wgsl.contains("workgroupBarrier();"), "{}", c.wgsl);
    }
}

fn mini(exp: u8, mant: u8) -> DType {
    DType::MiniFloat { exp, mant }
}

/// `cp.async` of `vec` u4 elements per thread into shared memory (masked at the tail),
/// commit, wait, barrier, then a loop over shared memory summing into an i32.
#[test]
fn copy_async_then_loop_over_shared() {
    let threads = 32;
    let u4 = int(4, false);
    for vec in [1u32, 8] {
        let mut b = KernelBuilder::new("cp_sum", threads);
        let n = scalar(&mut b, "n", Ty::I32, Some(int(32, true)));
        let (x, y) = (
            pointer(&mut b, "x", u4),
            pointer(&mut b, "y", int(32, true)),
        );
        b.kernel.grid = vec![GridExpr::Const(1)];
        let len = threads * vec;
        let sh = b.shared("tile", u4, 0, len);
        b.kernel.shared_bytes = len.div_ceil(2);
        let tid = b.thread_idx();
        let v = b.i32(vec as i32);
        let i = b.mul(tid, v);
        let end = b.add(i, v);
        let m = b.le(end, n);
        b.push(Stmt::CopyAsync {
            dst: MemRef {
                space: Space::Shared(sh),
                index: i,
            },
            src: gmem(x, i),
            width: vec,
            mask: Some(m),
        });
        b.push(Stmt::CommitGroup);
        b.push(Stmt::WaitGroup(0));
        b.push(Stmt::Barrier);
        let acc = b.var("acc", Ty::I32);
        let k = b.var("k", Ty::I32);
        let e = b.local("e", u4, 1);
        let out = b.local("o", int(32, true), 1);
        let zero = b.i32(0);
        b.push(Stmt::Assign {
            var: acc,
            value: zero,
        });
        let kv = b.read_var(k);
        b.open();
        b.push(Stmt::Load {
            dst: at(e, 0),
            src: MemRef {
                space: Space::Shared(sh),
                index: kv,
            },
            width: 1,
            mask: None,
        });
        let ev = b.read_local(e, 0);
        let ei = b.cast(Ty::I32, ev);
        let av = b.read_var(acc);
        let prod = b.mul(ei, kv);
        let sum = b.add(av, prod);
        b.push(Stmt::Assign {
            var: acc,
            value: sum,
        });
        let body = b.close();
        let (start, stop, step) = (b.i32(0), b.i32(len as i32), b.i32(1));
        b.push(Stmt::For {
            var: k,
            start,
            end: stop,
            step,
            body,
        });
        let av = b.read_var(acc);
        b.push(Stmt::SetLocal {
            dst: at(out, 0),
            value: av,
        });
        b.push(Stmt::Store {
            dst: gmem(y, tid),
            src: at(out, 0),
            width: 1,
            mask: None,
        });
        let kern = b.finish();
        let mut rng = Rng(9);
        let nval = len as i64 - i64::from(vec);
        let args = [
            Arg::Int(nval),
            random_buffer(&mut rng, u4, len as usize),
            zero_buffer(int(32, true), threads as usize),
        ];
        let c = check(&kern, &args);
        assert!(c.wgsl.contains("for (var"), "{}", c.wgsl);
    }
}

#[test]
fn scalar_parameters_of_every_carrier() {
    let threads = 16;
    let mut b = KernelBuilder::new("scalars", threads);
    let pf16 = scalar(&mut b, "h", Ty::F16, Some(DType::F16));
    let pbool = scalar(&mut b, "flag", Ty::Bool, None);
    let pi4 = scalar(&mut b, "q", Ty::I32, Some(int(4, true)));
    let pbf = scalar(&mut b, "s", Ty::U32, Some(DType::BF16));
    let pf = scalar(&mut b, "scale", Ty::F32, Some(DType::F32));
    let y = pointer(&mut b, "y", DType::F32);
    b.kernel.grid = vec![GridExpr::Const(1)];
    let o = b.local("o", DType::F32, 1);
    let tid = b.thread_idx();
    let h32 = b.cast(Ty::F32, pf16);
    let q = b.cast(Ty::F32, pi4);
    let s = b.decode(DType::BF16, pbf);
    let t = b.cast(Ty::F32, tid);
    let a = b.fma(t, pf, h32);
    let a = b.add(a, q);
    let a = b.mul(a, s);
    let neg = b.unary(tilus_lower::thread_ir::UnaryOp::Neg, a);
    let r = b.select(pbool, a, neg);
    b.push(Stmt::SetLocal {
        dst: at(o, 0),
        value: r,
    });
    b.push(Stmt::Store {
        dst: gmem(y, tid),
        src: at(o, 0),
        width: 1,
        mask: None,
    });
    let k = b.finish();
    let args = [
        Arg::Float(1.0 / 3.0),
        Arg::Int(1),
        Arg::Int(-3),
        Arg::Float(2.5),
        Arg::Float(0.75),
        zero_buffer(DType::F32, threads as usize),
    ];
    let c = check(&k, &args);
    let w = emit_wgsl(&c.legal, &caps()).expect("emit");
    let words: Vec<(usize, DType, u32)> = w
        .launch
        .params
        .iter()
        .filter_map(|p| match p {
            ParamBinding::Scalar { param, dtype, word } => Some((*param, *dtype, *word)),
            ParamBinding::Buffer { .. } => None,
        })
        .collect();
    assert_eq!(
        words,
        vec![
            (0, DType::F16, 0),
            (1, int(32, false), 1),
            (2, int(4, true), 2),
            (3, DType::BF16, 3),
            (4, DType::F32, 4)
        ]
    );
    assert_eq!(w.launch.scalar_words, 5);
    assert_eq!(w.launch.scalars_binding, 1);
    assert!(!w.wgsl().is_some_and(|m| m.uses_f16));
    assert!(!w.code.text().contains("enable f16"));
}

#[test]
fn unsupported_constructs_are_named() {
    let mut b = KernelBuilder::new("mma", 32);
    let a = b.local("a", DType::F16, 8);
    let bb = b.local("b", DType::F16, 4);
    let c = b.local("c", DType::F32, 4);
    b.push(Stmt::Mma {
        shape: MmaShape::M16N8K16,
        dtype: DType::F16,
        a: at(a, 0),
        b: at(bb, 0),
        c: at(c, 0),
        d: at(c, 0),
    });
    let err = legalize_wgsl(&b.finish(), &caps()).unwrap_err();
    assert!(matches!(err, LowerError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("mma"), "{err}");

    let mut b = KernelBuilder::new("wide", 32);
    b.local("w", int(64, true), 1);
    let err = legalize_wgsl(&b.finish(), &caps()).unwrap_err();
    assert!(err.to_string().contains("64-bit"), "{err}");

    let mut b = KernelBuilder::new("sem", 32);
    let s = pointer(&mut b, "s", int(32, true));
    let zero = b.i32(0);
    b.push(Stmt::SemAcquire {
        sem: gmem(s, zero),
        value: zero,
    });
    let err = legalize_wgsl(&b.finish(), &caps()).unwrap_err();
    assert!(err.to_string().contains("semaphore"), "{err}");

    let b = KernelBuilder::new("big", 2048);
    let err = legalize_wgsl(&b.finish(), &caps()).unwrap_err();
    assert!(err.to_string().contains("2048 threads"), "{err}");

    let mut b = KernelBuilder::new("fmod", 32);
    let l = b.local("x", DType::F32, 1);
    let x = b.read_local(l, 0);
    let r = b.binary(BinaryOp::Rem, x, x);
    b.push(Stmt::SetLocal {
        dst: at(l, 0),
        value: r,
    });
    let err = legalize_wgsl(&b.finish(), &caps()).unwrap_err();
    assert!(err.to_string().contains("remainder"), "{err}");
}

#[test]
fn emission_is_deterministic_and_names_are_sanitized() {
    let mut b = KernelBuilder::new("fn", 8);
    let y = pointer(&mut b, "let", int(32, true));
    b.kernel.grid = vec![GridExpr::Const(1)];
    let l = b.local("select", int(32, true), 1);
    let v = b.var("var", Ty::I32);
    let tid = b.thread_idx();
    let s = b.i32(3);
    let sh = b.binary(BinaryOp::Shl, tid, tid);
    let sr = b.binary(BinaryOp::Shr, sh, s);
    b.push(Stmt::Assign { var: v, value: sr });
    let vv = b.read_var(v);
    b.push(Stmt::SetLocal {
        dst: at(l, 0),
        value: vv,
    });
    b.push(Stmt::Store {
        dst: gmem(y, tid),
        src: at(l, 0),
        width: 1,
        mask: None,
    });
    let k = b.finish();
    let args = [zero_buffer(int(32, true), 8)];
    let c = check(&k, &args);
    let again = emit_wgsl(&c.legal, &caps())
        .expect("emit")
        .code
        .text()
        .to_string();
    assert_eq!(c.wgsl, again);
    for bad in ["fn fn(", "var var:", " let:", "var select:"] {
        assert!(!c.wgsl.contains(bad), "{bad} in\n{}", c.wgsl);
    }
}

#[test]
fn barriers_in_uniform_loops_and_branches() {
    // for r in 0..rounds { smem[tid] = acc; barrier; acc += smem[(tid + 1) % T]; barrier }
    let threads = 32;
    let u8t = int(8, false);
    let mut b = KernelBuilder::new("ring", threads);
    let rounds = scalar(&mut b, "rounds", Ty::I32, Some(int(32, true)));
    let y = pointer(&mut b, "y", u8t);
    b.kernel.grid = vec![GridExpr::Const(1)];
    let sh = b.shared("ring", u8t, 0, threads);
    b.kernel.shared_bytes = threads;
    let acc = b.local("acc", u8t, 1);
    let tmp = b.local("tmp", u8t, 1);
    let r = b.var("r", Ty::I32);
    let tid = b.thread_idx();
    let t1 = b.cast(Ty::U32, tid);
    b.push(Stmt::SetLocal {
        dst: at(acc, 0),
        value: t1,
    });
    b.open();
    b.push(Stmt::Store {
        dst: MemRef {
            space: Space::Shared(sh),
            index: tid,
        },
        src: at(acc, 0),
        width: 1,
        mask: None,
    });
    b.push(Stmt::Barrier);
    let one = b.i32(1);
    let next = b.add(tid, one);
    let t = b.i32(threads as i32);
    let next = b.rem(next, t);
    b.push(Stmt::Load {
        dst: at(tmp, 0),
        src: MemRef {
            space: Space::Shared(sh),
            index: next,
        },
        width: 1,
        mask: None,
    });
    let (a, c) = (b.read_local(acc, 0), b.read_local(tmp, 0));
    let sum = b.add(a, c);
    b.push(Stmt::SetLocal {
        dst: at(acc, 0),
        value: sum,
    });
    b.push(Stmt::Barrier);
    let body = b.close();
    let (zero, step) = (b.i32(0), b.i32(1));
    b.push(Stmt::For {
        var: r,
        start: zero,
        end: rounds,
        step,
        body,
    });
    let positive = b.lt(zero, rounds);
    b.open();
    b.push(Stmt::Barrier);
    b.push(Stmt::Store {
        dst: gmem(y, tid),
        src: at(acc, 0),
        width: 1,
        mask: None,
    });
    let then_body = b.close();
    b.push(Stmt::If {
        cond: positive,
        then_body,
        else_body: Vec::new(),
    });
    let k = b.finish();
    let args = [Arg::Int(5), zero_buffer(u8t, threads as usize)];
    check(&k, &args);
}

#[test]
fn the_emitter_rejects_kernels_that_are_not_legalized() {
    let mut b = KernelBuilder::new("raw", 8);
    let l = b.local("h", DType::F16, 1);
    let x = b.read_local(l, 0);
    let y = b.add(x, x);
    b.push(Stmt::SetLocal {
        dst: at(l, 0),
        value: y,
    });
    let err = emit_wgsl(&b.finish(), &caps()).expect_err("f16 storage");
    assert!(matches!(err, LowerError::InvalidProgram(_)), "{err}");
    assert!(err.to_string().contains("legalize_wgsl"), "{err}");
    let bad = tilus_lower::backend::wgsl::emit::validate_wgsl("fn f( {");
    assert!(bad.is_err());
}
