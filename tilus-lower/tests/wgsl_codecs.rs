//! The float codecs of WGSL legalization, run through the thread interpreter: `encode` on a
//! large sample of `f32` values and `decode` on every code, for every coded dtype and for
//! `f16` rounding, bit for bit against `tilus_ir::dtype`.

mod wgsl_support;

use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;
use tilus_lower::artifact::GridExpr;
use tilus_lower::backend::legalize::legalize_wgsl;
use tilus_lower::thread_ir::interp::{run_kernel, Arg, HostBuffer, RunOptions};
use tilus_lower::thread_ir::{
    BufferKind, Expr, ExprId, KernelBuilder, LocalRef, MemRef, Param, ParamKind, Space, Stmt,
    ThreadKernel, Ty,
};
use wgsl_support::{caps, word_args, Rng};

const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};
const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};
const THREADS: u32 = 256;

/// `out[i] = f(in[i])` for `i < n`, one element per thread.
fn map_kernel(
    name: &str,
    src: DType,
    dst: DType,
    f: impl FnOnce(&mut KernelBuilder, ExprId) -> ExprId,
) -> ThreadKernel {
    let mut b = KernelBuilder::new(name, THREADS);
    b.kernel.grid = vec![GridExpr::CeilDiv(
        Box::new(GridExpr::Param(0)),
        Box::new(GridExpr::Const(i64::from(THREADS))),
    )];
    b.kernel.params.push(Param {
        name: "n".into(),
        kind: ParamKind::Scalar(Ty::I32),
        dtype: Some(I32),
    });
    let bin = b.buffer("x", src, BufferKind::Param(1));
    let bout = b.buffer("y", dst, BufferKind::Param(2));
    for (name, buf) in [("x", bin), ("y", bout)] {
        b.kernel.params.push(Param {
            name: name.into(),
            kind: ParamKind::Pointer(buf),
            dtype: None,
        });
    }
    let lx = b.local("a", src, 1);
    let ly = b.local("c", dst, 1);
    let bid = b.block_idx(Axis::X);
    let k = b.i32(THREADS as i32);
    let base = b.mul(bid, k);
    let tid = b.thread_idx();
    let i = b.add(base, tid);
    let n = b.expr(Expr::Param(0));
    let inb = b.lt(i, n);
    let x = b.read_local(lx, 0);
    let y = f(&mut b, x);
    b.open();
    b.push(Stmt::Load {
        dst: LocalRef { array: lx, slot: 0 },
        src: MemRef {
            space: Space::Global(bin),
            index: i,
        },
        width: 1,
        mask: None,
    });
    b.push(Stmt::SetLocal {
        dst: LocalRef { array: ly, slot: 0 },
        value: y,
    });
    b.push(Stmt::Store {
        dst: MemRef {
            space: Space::Global(bout),
            index: i,
        },
        src: LocalRef { array: ly, slot: 0 },
        width: 1,
        mask: None,
    });
    let body = b.close();
    b.push(Stmt::If {
        cond: inb,
        then_body: body,
        else_body: Vec::new(),
    });
    b.finish()
}

/// Runs the legalized kernel (and the original) on `inputs`; returns both outputs.
fn run_both(k: &ThreadKernel, src: DType, dst: DType, inputs: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let n = inputs.len();
    let args = vec![
        Arg::Int(n as i64),
        Arg::Buffer(HostBuffer::from_codes(src, inputs)),
        Arg::Buffer(HostBuffer::from_codes(dst, &vec![0; n])),
    ];
    let legal = legalize_wgsl(k, &caps()).unwrap_or_else(|e| panic!("legalize: {e}"));
    let mut a = args.clone();
    run_kernel(k, &mut a, &RunOptions::default()).unwrap_or_else(|e| panic!("run: {e}"));
    let mut b = word_args(&args);
    run_kernel(&legal, &mut b, &RunOptions::default())
        .unwrap_or_else(|e| panic!("run legalized: {e}\n{legal}"));
    let out = |x: &Arg| match x {
        Arg::Buffer(h) => (0..n)
            .map(|i| tilus_ir::dtype::pack::get(dst.bits(), &h.bytes, i))
            .collect(),
        _ => Vec::new(),
    };
    (out(&a[2]), out(&b[2]))
}

/// A large sample of f32 bit patterns: every sign/exponent/top-mantissa combination with
/// low-bit patterns that make ties and sticky bits, plus random values.
fn f32_sample() -> Vec<u64> {
    const LOW: [u64; 8] = [0, 0x8000, 0x1000, 0x0fff, 0x7fff, 0x8001, 0x0001, 0xffff];
    let mut v: Vec<u64> = (0..=0xffffu64)
        .map(|hi| (hi << 16) | LOW[(hi as usize * 5) % 8])
        .collect();
    let mut rng = Rng(7);
    v.extend((0..8_000).map(|_| rng.next() & 0xffff_ffff));
    v
}

fn coded() -> Vec<DType> {
    let mut v = vec![DType::BF16, DType::F8E4M3FN, DType::F8E5M2];
    v.extend(
        DType::all()
            .into_iter()
            .filter(|d| matches!(d, DType::MiniFloat { .. })),
    );
    v
}

#[test]
fn encode_matches_dtype_on_a_large_f32_sample() {
    let sample = f32_sample();
    for d in coded() {
        let k = map_kernel("enc", DType::F32, U32, |b, x| b.encode(d, x));
        let (orig, legal) = run_both(&k, DType::F32, U32, &sample);
        for (i, &x) in sample.iter().enumerate() {
            let want = d.encode_f32(f32::from_bits(x as u32));
            assert_eq!(
                legal[i], want,
                "encode<{d}>({:#010x}): legalized {:#x}, dtype {want:#x}",
                x, legal[i]
            );
            assert_eq!(
                orig[i], legal[i],
                "encode<{d}>({x:#010x}): interpreter differs"
            );
        }
    }
}

#[test]
fn decode_matches_dtype_on_every_code() {
    for d in coded() {
        let codes: Vec<u64> = (0..=d.code_mask()).collect();
        let k = map_kernel("dec", U32, DType::F32, |b, x| b.decode(d, x));
        let (orig, legal) = run_both(&k, U32, DType::F32, &codes);
        for (i, &c) in codes.iter().enumerate() {
            let want = u64::from(d.decode_f32(c).to_bits());
            assert_eq!(
                legal[i], want,
                "decode<{d}>({c:#x}): legalized {:#x}",
                legal[i]
            );
            assert_eq!(
                orig[i], legal[i],
                "decode<{d}>({c:#x}): interpreter differs"
            );
        }
    }
}

#[test]
fn f16_round_trips_and_rounds_like_half() {
    // f32 → f16 (a cast: round to nearest even) then stored as f16.
    let sample = f32_sample();
    let k = map_kernel("to_f16", DType::F32, DType::F16, |b, x| b.cast(Ty::F16, x));
    let (orig, legal) = run_both(&k, DType::F32, DType::F16, &sample);
    for (i, &x) in sample.iter().enumerate() {
        let want = u64::from(half::f16::from_f32(f32::from_bits(x as u32)).to_bits());
        assert_eq!(legal[i], want, "f16({x:#010x})");
        assert_eq!(orig[i], want, "interpreter f16({x:#010x})");
    }
    // Every f16 code: f16 → f32.
    let codes: Vec<u64> = (0..=0xffff).collect();
    let k = map_kernel("from_f16", DType::F16, DType::F32, |b, x| {
        b.cast(Ty::F32, x)
    });
    let (orig, legal) = run_both(&k, DType::F16, DType::F32, &codes);
    assert_eq!(orig, legal);
    // Every f16 code moved through an f16 local unchanged (NaN payloads included).
    let k = map_kernel("copy_f16", DType::F16, DType::F16, |_, x| x);
    let (orig, legal) = run_both(&k, DType::F16, DType::F16, &codes);
    assert_eq!(orig, codes);
    assert_eq!(legal, codes);
}

#[test]
fn int_to_float_conversions_round_once() {
    let mut rng = Rng(11);
    let mut ints: Vec<u64> = (0..20_000).map(|_| rng.next() & 0xffff_ffff).collect();
    for e in 0..32 {
        for d in [0u64, 1, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x101] {
            ints.push(((1u64 << e) + d) & 0xffff_ffff);
            ints.push(((1u64 << e).wrapping_sub(d)) & 0xffff_ffff);
            ints.push((0u64.wrapping_sub(1u64 << e).wrapping_add(d)) & 0xffff_ffff);
        }
    }
    ints.extend([0, 0x8000_0000, 0x7fff_ffff, 0xffff_ffff]);
    for (name, src, f) in [
        ("i32_f32", I32, 0),
        ("u32_f32", U32, 0),
        ("i32_bf16", I32, 1),
        ("u32_e4m3", U32, 2),
        ("i32_f16", I32, 3),
    ] {
        let (dst, conv): (DType, fn(&mut KernelBuilder, ExprId) -> ExprId) = match f {
            0 => (DType::F32, |b, x| b.cast(Ty::F32, x)),
            1 => (U32, |b, x| b.encode(DType::BF16, x)),
            2 => (U32, |b, x| b.encode(DType::F8E4M3FN, x)),
            _ => (DType::F16, |b, x| b.cast(Ty::F16, x)),
        };
        let k = map_kernel(name, src, dst, conv);
        let (orig, legal) = run_both(&k, src, dst, &ints);
        for (i, &x) in ints.iter().enumerate() {
            if f == 1 {
                // Also against an exact oracle written independently of both.
                let want = int_to_bf16(i64::from(x as u32 as i32));
                assert_eq!(legal[i], want, "{name}({x:#x})");
            }
            assert_eq!(orig[i], legal[i], "{name}({x:#x})");
        }
    }
}

/// The bf16 code nearest to an integer (round to nearest even, from the exact value).
fn int_to_bf16(x: i64) -> u64 {
    let sign = if x < 0 { 0x8000 } else { 0 };
    let mag = x.unsigned_abs();
    let top = 63 - mag.leading_zeros() as i64;
    let rounded = if mag == 0 || top < 8 {
        mag
    } else {
        let shift = (top - 7) as u32;
        let q = mag >> shift;
        let rem = mag & ((1 << shift) - 1);
        let half = 1 << (shift - 1);
        let q = if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        };
        q << shift
    };
    // `rounded` has at most 8 significant bits: exact in f32 and in bf16.
    u64::from(half::bf16::from_f32(rounded as f32).to_bits()) | sign
}

#[test]
fn bf16_encode_of_wide_values_rounds_once() {
    // `half::bf16::from_f64` rounds through the top bits of the f64; ours must not.
    let x = f64::from(0x36a0_01c5u32);
    assert_eq!(DType::BF16.encode_f64(x), 0x4e5b);
    assert_eq!(int_to_bf16(0x36a0_01c5), 0x4e5b);
}

#[test]
fn float_to_int_and_min_max_follow_the_interpreter() {
    let sample = f32_sample();
    type Conv = fn(&mut KernelBuilder, ExprId) -> ExprId;
    let cases: [(&str, DType, Conv); 5] = [
        ("f32_i32", I32, |b, x| b.cast(Ty::I32, x)),
        ("f32_u32", U32, |b, x| b.cast(Ty::U32, x)),
        ("f32_bool", U32, |b, x| {
            let t = b.cast(Ty::Bool, x);
            b.cast(Ty::U32, t)
        }),
        ("min0", DType::F32, |b, x| {
            let z = b.f32(-0.0);
            b.binary(tilus_lower::thread_ir::BinaryOp::Min, x, z)
        }),
        ("max1", DType::F32, |b, x| {
            let one = b.f32(1.0);
            b.binary(tilus_lower::thread_ir::BinaryOp::Max, one, x)
        }),
    ];
    for (name, dst, conv) in cases {
        let k = map_kernel(name, DType::F32, dst, conv);
        let (orig, legal) = run_both(&k, DType::F32, dst, &sample);
        for (i, &x) in sample.iter().enumerate() {
            assert_eq!(orig[i], legal[i], "{name}({x:#010x})");
        }
    }
}
