//! Hand-built thread kernels through WGSL legalization: the legalized kernel on the thread
//! interpreter equals the original bit for bit, and the emitted WGSL validates with naga.

mod wgsl_support;

use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;
use tilus_lower::artifact::GridExpr;
use tilus_lower::thread_ir::interp::Arg;
use tilus_lower::thread_ir::{
    BinaryOp, BufferId, BufferKind, Expr, ExprId, KernelBuilder, LocalRef, MemRef, Param,
    ParamKind, Space, Stmt, ThreadKernel, Ty,
};
use wgsl_support::{check, codes, random_buffer, zero_buffer, Rng};

const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

fn int(bits: u8, signed: bool) -> DType {
    DType::Int { bits, signed }
}

fn mini(exp: u8, mant: u8) -> DType {
    DType::MiniFloat { exp, mant }
}

fn scalar(b: &mut KernelBuilder, name: &str, ty: Ty) -> ExprId {
    let i = b.kernel.params.len() as u32;
    b.kernel.params.push(Param {
        name: name.into(),
        kind: ParamKind::Scalar(ty),
        dtype: Some(if ty == Ty::I32 { I32 } else { DType::F32 }),
    });
    b.expr(Expr::Param(i))
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

fn global(buf: BufferId, index: ExprId) -> MemRef {
    MemRef {
        space: Space::Global(buf),
        index,
    }
}

fn at(array: tilus_lower::thread_ir::LocalId, slot: u32) -> LocalRef {
    LocalRef { array, slot }
}

/// `blockIdx.x · threads + threadIdx.x`.
fn global_id(b: &mut KernelBuilder, threads: u32) -> ExprId {
    let bid = b.block_idx(Axis::X);
    let t = b.i32(threads as i32);
    let base = b.mul(bid, t);
    let tid = b.thread_idx();
    b.add(base, tid)
}

fn to_f32(b: &mut KernelBuilder, d: DType, v: ExprId) -> ExprId {
    match d {
        DType::Int { .. } | DType::F16 => b.cast(Ty::F32, v),
        DType::F32 => v,
        _ => b.decode(d, v),
    }
}

fn from_f32(b: &mut KernelBuilder, d: DType, v: ExprId) -> ExprId {
    match d {
        DType::Int { .. } => b.cast(Ty::carrier(d), v),
        DType::F32 => v,
        DType::F16 => b.cast(Ty::F16, v),
        _ => b.encode(d, v),
    }
}

#[test]
fn f32_vector_add() {
    let threads = 128;
    let mut b = KernelBuilder::new("vadd", threads);
    let n = scalar(&mut b, "n", Ty::I32);
    let (x, y, z) = (
        pointer(&mut b, "x", DType::F32),
        pointer(&mut b, "y", DType::F32),
        pointer(&mut b, "z", DType::F32),
    );
    b.kernel.grid = vec![GridExpr::CeilDiv(
        Box::new(GridExpr::Param(0)),
        Box::new(GridExpr::Const(i64::from(threads))),
    )];
    let (la, lb, lc) = (
        b.local("a", DType::F32, 1),
        b.local("b", DType::F32, 1),
        b.local("c", DType::F32, 1),
    );
    let i = global_id(&mut b, threads);
    let m = b.lt(i, n);
    b.push(Stmt::Load {
        dst: at(la, 0),
        src: global(x, i),
        width: 1,
        mask: Some(m),
    });
    b.push(Stmt::Load {
        dst: at(lb, 0),
        src: global(y, i),
        width: 1,
        mask: Some(m),
    });
    let (va, vb) = (b.read_local(la, 0), b.read_local(lb, 0));
    let sum = b.add(va, vb);
    b.push(Stmt::SetLocal {
        dst: at(lc, 0),
        value: sum,
    });
    b.push(Stmt::Store {
        dst: global(z, i),
        src: at(lc, 0),
        width: 1,
        mask: Some(m),
    });
    let k = b.finish();
    let mut rng = Rng(1);
    let n = 300;
    let args = [
        Arg::Int(n as i64),
        random_buffer(&mut rng, DType::F32, n),
        random_buffer(&mut rng, DType::F32, n),
        zero_buffer(DType::F32, n),
    ];
    let c = check(&k, &args);
    assert!(
        c.wgsl.contains("@compute @workgroup_size(128, 1, 1)"),
        "{}",
        c.wgsl
    );
}

#[test]
fn u32_vector_add_four_wide() {
    let threads = 32;
    let u32t = int(32, false);
    let mut b = KernelBuilder::new("vadd4", threads);
    let (x, y) = (pointer(&mut b, "x", u32t), pointer(&mut b, "y", u32t));
    b.kernel.grid = vec![GridExpr::Const(2)];
    let (la, lb) = (b.local("a", u32t, 4), b.local("b", u32t, 4));
    let gid = global_id(&mut b, threads);
    let four = b.i32(4);
    let i = b.mul(gid, four);
    b.push(Stmt::Load {
        dst: at(la, 0),
        src: global(x, i),
        width: 4,
        mask: None,
    });
    for s in 0..4 {
        let v = b.read_local(la, s);
        let w = b.add(v, v);
        b.push(Stmt::SetLocal {
            dst: at(lb, s),
            value: w,
        });
    }
    b.push(Stmt::Store {
        dst: global(y, i),
        src: at(lb, 0),
        width: 4,
        mask: None,
    });
    let k = b.finish();
    let mut rng = Rng(2);
    let args = [random_buffer(&mut rng, u32t, 256), zero_buffer(u32t, 256)];
    check(&k, &args);
}

/// Loads `vec` elements of `src` per thread (at an index that is a multiple of `vec`, or
/// shifted by a runtime offset), converts them to f32 (stored) and to `dst` via `x·1.5`
/// (stored at the same index).
fn convert_kernel(src: DType, dst: DType, vec: u32, offset: bool) -> ThreadKernel {
    let threads = 64;
    let mut b = KernelBuilder::new(format!("conv_{src}_{dst}_{vec}"), threads);
    let n = scalar(&mut b, "n", Ty::I32);
    let off = scalar(&mut b, "off", Ty::I32);
    let (x, f, y) = (
        pointer(&mut b, "x", src),
        pointer(&mut b, "f", DType::F32),
        pointer(&mut b, "y", dst),
    );
    b.kernel.grid = vec![GridExpr::CeilDiv(
        Box::new(GridExpr::Param(0)),
        Box::new(GridExpr::Const(i64::from(threads * vec))),
    )];
    let la = b.local("a", src, vec);
    let lf = b.local("fl", DType::F32, vec);
    let lc = b.local("c", dst, vec);
    let gid = global_id(&mut b, threads);
    let v = b.i32(vec as i32);
    let j = b.mul(gid, v);
    let i = if offset { b.add(j, off) } else { j };
    let end = b.add(j, v);
    let m = b.le(end, n);
    b.push(Stmt::Load {
        dst: at(la, 0),
        src: global(x, i),
        width: vec,
        mask: Some(m),
    });
    for s in 0..vec {
        let a = b.read_local(la, s);
        let xf = to_f32(&mut b, src, a);
        b.push(Stmt::SetLocal {
            dst: at(lf, s),
            value: xf,
        });
        let k = b.f32(1.5);
        let y15 = b.mul(xf, k);
        let c = from_f32(&mut b, dst, y15);
        b.push(Stmt::SetLocal {
            dst: at(lc, s),
            value: c,
        });
    }
    b.push(Stmt::Store {
        dst: global(f, j),
        src: at(lf, 0),
        width: vec,
        mask: Some(m),
    });
    b.push(Stmt::Store {
        dst: global(y, i),
        src: at(lc, 0),
        width: vec,
        mask: Some(m),
    });
    b.finish()
}

fn run_convert(src: DType, dst: DType, vec: u32, offset: bool) {
    let k = convert_kernel(src, dst, vec, offset);
    let n = (64 * vec * 2 - vec) as usize;
    let off = if offset { 3 } else { 0 };
    let mut rng = Rng(u64::from(vec) * 1000 + u64::from(src.bits()) * 10 + u64::from(dst.bits()));
    let args = [
        Arg::Int(n as i64),
        Arg::Int(off as i64),
        random_buffer(&mut rng, src, n + off),
        zero_buffer(DType::F32, n),
        random_buffer(&mut rng, dst, n + off + 5),
    ];
    let c = check(&k, &args);
    // The untouched tail of `y` keeps its codes.
    let before = codes(&args[4]);
    let after = codes(&c.out[4]);
    assert_eq!(before[n + off..], after[n + off..], "{src} -> {dst} x{vec}");
}

#[test]
fn sub_byte_int_loads_converts_stores() {
    for (src, dst) in [
        (int(3, true), int(4, false)),
        (int(4, false), int(3, true)),
        (int(6, false), int(5, true)),
        (int(8, true), int(7, false)),
        (int(2, false), int(16, true)),
    ] {
        for vec in [1, 2, 4, 8, 32] {
            for offset in [false, true] {
                run_convert(src, dst, vec, offset);
            }
        }
    }
}

#[test]
fn minifloat_and_fp8_loads_converts_stores() {
    for (src, dst) in [
        (mini(3, 2), int(6, false)),
        (int(6, false), mini(3, 2)),
        (mini(2, 1), DType::F8E4M3FN),
        (DType::F8E4M3FN, mini(2, 1)),
        (DType::F8E5M2, mini(2, 3)),
        (mini(1, 1), DType::F8E5M2),
    ] {
        for vec in [1, 4, 8, 32] {
            for offset in [false, true] {
                run_convert(src, dst, vec, offset);
            }
        }
    }
}

#[test]
fn half_precision_loads_converts_stores() {
    for (src, dst) in [
        (DType::BF16, DType::F16),
        (DType::F16, DType::BF16),
        (DType::F16, DType::F16),
        (DType::F8E4M3FN, DType::BF16),
        (DType::F32, DType::F16),
    ] {
        for vec in [1, 2, 8] {
            for offset in [false, true] {
                run_convert(src, dst, vec, offset);
            }
        }
    }
}

#[test]
fn f16_arithmetic_rounds_like_the_interpreter() {
    // c = a * b + a - b / 3, every step in f16.
    let threads = 64;
    let f16t = DType::F16;
    let mut b = KernelBuilder::new("f16_math", threads);
    let (x, y, z) = (
        pointer(&mut b, "x", f16t),
        pointer(&mut b, "y", f16t),
        pointer(&mut b, "z", f16t),
    );
    b.kernel.grid = vec![GridExpr::Const(4)];
    let (la, lb, lc) = (
        b.local("a", f16t, 1),
        b.local("b", f16t, 1),
        b.local("c", f16t, 1),
    );
    let i = global_id(&mut b, threads);
    b.push(Stmt::Load {
        dst: at(la, 0),
        src: global(x, i),
        width: 1,
        mask: None,
    });
    b.push(Stmt::Load {
        dst: at(lb, 0),
        src: global(y, i),
        width: 1,
        mask: None,
    });
    let (va, vb) = (b.read_local(la, 0), b.read_local(lb, 0));
    let p = b.mul(va, vb);
    let s = b.add(p, va);
    let three = b.konst(tilus_lower::thread_ir::Const::F16(0x4200));
    let q = b.div(vb, three);
    let r = b.sub(s, q);
    let mx = b.binary(BinaryOp::Max, r, va);
    b.push(Stmt::SetLocal {
        dst: at(lc, 0),
        value: mx,
    });
    b.push(Stmt::Store {
        dst: global(z, i),
        src: at(lc, 0),
        width: 1,
        mask: None,
    });
    let k = b.finish();
    let mut rng = Rng(5);
    let args = [
        random_buffer(&mut rng, f16t, 256),
        random_buffer(&mut rng, f16t, 256),
        zero_buffer(f16t, 256),
    ];
    check(&k, &args);
}
