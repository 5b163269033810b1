//! Tile interpreter: launches, global memory and masking, sub-byte buffers, elementwise
//! operations, casts, reductions, `view`, printing and argument errors.

use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::{pack, DType};
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::inst::{Operand, TileBinaryOp, TileUnaryOp};
use tilus_ir::interp::{run, Arg, HostBuffer, InterpErrorKind, RunOptions, RunReport};
use tilus_ir::layout::{replicated, spatial, RegisterLayout};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::{verify, VerifiedProgram};

const F32: DType = DType::F32;
const F16: DType = DType::F16;
const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};
const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};

fn int(bits: u8, signed: bool) -> DType {
    DType::Int { bits, signed }
}

fn verified(f: Function) -> VerifiedProgram {
    match verify(Program { functions: vec![f] }) {
        Ok(v) => v,
        Err(e) => panic!("verifier rejected the test kernel: {e}"),
    }
}

fn run_ok(p: &VerifiedProgram, args: &mut [Arg]) -> RunReport {
    let name = p.program().functions[0].name.clone();
    match run(p, &name, args, &RunOptions::default()) {
        Ok(r) => r,
        Err(e) => panic!("run failed: {e}"),
    }
}

fn buf(a: &Arg) -> &HostBuffer {
    a.as_buffer().expect("a buffer argument")
}

/// c[i] = a[i] + b[i], 128 elements per block.
fn vector_add(dtype: DType) -> Function {
    let kb = KernelBuilder::new("vector_add", 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let c = kb.pointer_param("c", dtype);
    kb.grid(&[n.cdiv(128)]);
    let ga = kb.global_view(a, &[n]);
    let gb = kb.global_view(b, &[n]);
    let gc = kb.global_view(c, &[n]);
    let offset = kb.block_idx(Axis::X) * 128;
    let x = kb.load_global(&ga, &[offset], &[128]);
    let y = kb.load_global(&gb, &[offset], &[128]);
    let z = x + y;
    kb.store_global(&gc, &z, &[offset]);
    kb.finish().expect("kernel")
}

#[test]
fn vector_add_ragged() {
    let p = verified(vector_add(F32));
    for n in [1usize, 128, 300, 1000] {
        let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.37 - 5.0).collect();
        let b: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
        let mut args = vec![
            Arg::Int(n as i64),
            Arg::Buffer(HostBuffer::from_f32(F32, &a)),
            Arg::Buffer(HostBuffer::from_f32(F32, &b)),
            Arg::Buffer(HostBuffer::zeros(F32, n)),
        ];
        let report = run_ok(&p, &mut args);
        assert_eq!(report.blocks as usize, n.div_ceil(128));
        let c = buf(&args[3]).to_f32();
        for i in 0..n {
            assert_eq!(c[i].to_bits(), (a[i] + b[i]).to_bits(), "element {i}");
        }
        // Inputs are given back untouched.
        assert_eq!(buf(&args[1]).to_f32(), a);
    }
}

#[test]
fn sub_byte_buffers_u3_and_i6() {
    // u3: c = a + b wraps modulo 8; 37 elements straddle bytes.
    let p = verified(vector_add(int(3, false)));
    let n = 37;
    let a: Vec<u64> = (0..n).map(|i| (i * 5 % 8) as u64).collect();
    let b: Vec<u64> = (0..n).map(|i| (i * 3 % 8) as u64).collect();
    let mut args = vec![
        Arg::Int(n as i64),
        Arg::Buffer(HostBuffer::from_codes(int(3, false), &a)),
        Arg::Buffer(HostBuffer::from_codes(int(3, false), &b)),
        Arg::Buffer(HostBuffer::zeros(int(3, false), n)),
    ];
    run_ok(&p, &mut args);
    let want: Vec<u64> = (0..n).map(|i| (a[i] + b[i]) % 8).collect();
    assert_eq!(buf(&args[3]).codes(), want);
    assert_eq!(buf(&args[3]).bytes, pack::pack(3, &want));

    // i6: signed wrap-around.
    let i6 = int(6, true);
    let p = verified(vector_add(i6));
    let n = 50;
    let a: Vec<i64> = (0..n).map(|i| (i as i64 * 7) % 64 - 32).collect();
    let b: Vec<i64> = (0..n).map(|i| 31 - (i as i64 * 3) % 64).collect();
    let mut args = vec![
        Arg::Int(n as i64),
        Arg::Buffer(HostBuffer::from_i64(i6, &a).expect("in range")),
        Arg::Buffer(HostBuffer::from_i64(i6, &b).expect("in range")),
        Arg::Buffer(HostBuffer::zeros(i6, n)),
    ];
    run_ok(&p, &mut args);
    let want: Vec<i64> = (0..n)
        .map(|i| ((a[i] + b[i] + 32).rem_euclid(64)) - 32)
        .collect();
    assert_eq!(buf(&args[3]).to_i64(), want);
    let codes: Vec<u64> = want.iter().map(|&v| (v as u64) & 63).collect();
    assert_eq!(buf(&args[3]).bytes, pack::pack(6, &codes));
}

/// Loads a [4, 4] tile of a [5, 7] i32 tensor at (r, c) and stores it at the same place of
/// an output of the same shape.
fn masked_copy() -> Function {
    let kb = KernelBuilder::new("masked", 1);
    let r = kb.scalar_param("r", ScalarType::I32);
    let c = kb.scalar_param("c", ScalarType::I32);
    let src = kb.pointer_param("src", I32);
    let dst = kb.pointer_param("dst", I32);
    kb.grid(&[1]);
    let gs = kb.global_view(src, &[5, 7]);
    let gd = kb.global_view(dst, &[5, 7]);
    let t = kb.load_global(&gs, &[r, c], &[4, 4]);
    let t2 = t + 1000i64;
    kb.store_global(&gd, &t2, &[r, c]);
    kb.finish().expect("kernel")
}

#[test]
fn out_of_bounds_loads_read_zero_and_stores_are_dropped() {
    let p = verified(masked_copy());
    let src: Vec<i64> = (0..35).collect();
    for (r, c) in [(3i64, 5i64), (-1, -2), (0, 0), (4, 6), (10, 10)] {
        let mut args = vec![
            Arg::Int(r),
            Arg::Int(c),
            Arg::Buffer(HostBuffer::from_i64(I32, &src).expect("i32")),
            Arg::Buffer(HostBuffer::from_i64(I32, &vec![-1; 35]).expect("i32")),
        ];
        run_ok(&p, &mut args);
        let out = buf(&args[3]).to_i64();
        for i in 0..5i64 {
            for j in 0..7i64 {
                let inside = (r..r + 4).contains(&i) && (c..c + 4).contains(&j);
                let want = if inside {
                    src[(i * 7 + j) as usize] + 1000
                } else {
                    -1
                };
                assert_eq!(
                    out[(i * 7 + j) as usize],
                    want,
                    "({r},{c}) element ({i},{j})"
                );
            }
        }
    }
}

#[test]
fn lying_view_is_an_error() {
    // The view claims 64 elements of a 10-element buffer.
    let kb = KernelBuilder::new("liar", 1);
    let a = kb.pointer_param("a", F32);
    kb.grid(&[1]);
    let g = kb.global_view(a, &[64]);
    let _ = kb.load_global(&g, &[kb.int(0)], &[32]);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![Arg::Buffer(HostBuffer::zeros(F32, 10))];
    let e = run(&p, "liar", &mut args, &RunOptions::default()).expect_err("must fail");
    assert_eq!(e.kind, InterpErrorKind::OutOfBounds);
    let msg = e.to_string();
    assert!(
        msg.contains("in kernel `liar`, block (0,0,0), `load_global`"),
        "{msg}"
    );
    assert!(msg.contains("`a`"), "{msg}");
}

#[test]
fn strided_views_and_dims() {
    // A transposed view: g[i, j] = buffer[j * 3 + i] for a [3, 4] view of 12 elements.
    let kb = KernelBuilder::new("strided", 1);
    let a = kb.pointer_param("a", I32);
    let o = kb.pointer_param("o", I32);
    kb.grid(&[1]);
    let g = kb.global_view_strided(a, &[3, 4], &[1, 3]);
    let go = kb.global_view(o, &[3, 4]);
    let t = kb.load_global(&g, &[kb.int(0), kb.int(0)], &[3, 4]);
    kb.store_global(&go, &t, &[kb.int(0), kb.int(0)]);
    // A 1-D tile spanning dimension 0 of the view at column 2, stored into row 0 of o...
    let col = kb.load_global_dims(&g, &[kb.int(0), kb.int(2)], &[3], &[0]);
    // ...and written back over column 3 of o.
    kb.store_global_dims(&go, &col, &[kb.int(0), kb.int(3)], &[0]);
    let p = verified(kb.finish().expect("kernel"));
    let src: Vec<i64> = (0..12).collect();
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_i64(I32, &src).expect("i32")),
        Arg::Buffer(HostBuffer::zeros(I32, 12)),
    ];
    run_ok(&p, &mut args);
    let out = buf(&args[1]).to_i64();
    for i in 0..3 {
        for j in 0..3 {
            assert_eq!(out[i * 4 + j], (j * 3 + i) as i64);
        }
        assert_eq!(out[i * 4 + 3], (2 * 3 + i) as i64, "column 3 row {i}");
    }
}

/// Loads n elements of `from`, casts them to `to`, stores them.
fn cast_kernel(from: DType, to: DType, n: usize) -> VerifiedProgram {
    let kb = KernelBuilder::new("cast", 1);
    let a = kb.pointer_param("a", from);
    let o = kb.pointer_param("o", to);
    kb.grid(&[1]);
    let ga = kb.global_view(a, &[n]);
    let go = kb.global_view(o, &[n]);
    let x = kb.load_global(&ga, &[kb.int(0)], &[n]);
    let y = x.cast(to);
    kb.store_global(&go, &y, &[kb.int(0)]);
    verified(kb.finish().expect("kernel"))
}

fn run_cast(from: DType, to: DType, codes: &[u64]) -> Vec<u64> {
    let p = cast_kernel(from, to, codes.len());
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_codes(from, codes)),
        Arg::Buffer(HostBuffer::zeros(to, codes.len())),
    ];
    run_ok(&p, &mut args);
    buf(&args[1]).codes()
}

#[test]
fn cast_tables_to_f16_and_back() {
    for d in [
        int(4, false),
        int(4, true),
        DType::minifloat(2, 1).expect("f4e2m1"),
        DType::minifloat(3, 2).expect("f6e3m2"),
    ] {
        let n = 1usize << d.bits();
        let codes: Vec<u64> = (0..n as u64).collect();
        let halves = run_cast(d, F16, &codes);
        for (c, h) in codes.iter().zip(&halves) {
            let want = half::f16::from_f64(d.decode_f64(*c)).to_bits();
            assert_eq!(*h, u64::from(want), "{d} code {c} -> f16");
        }
        let back = run_cast(F16, d, &halves);
        assert_eq!(back, codes, "{d}: f16 -> {d} must give the codes back");
    }
}

#[test]
fn cast_saturates_wraps_and_rounds() {
    let vals = [20.0f32, -3.0, f32::NAN, 7.9, 15.5, -0.5];
    let codes: Vec<u64> = vals.iter().map(|&v| F16.encode_f32(v)).collect();
    assert_eq!(
        run_cast(F16, int(4, false), &codes),
        vec![15, 0, 0, 7, 15, 0]
    );
    // int -> int wraps: 9 -> i4 is -7 (code 0b1001), 200 (u8) -> i4 is 8 -> -8.
    assert_eq!(run_cast(U8, int(4, true), &[9, 200, 255]), vec![9, 8, 15]);
    // f32 -> f6e3m2 rounds to nearest even (0.1 -> 0.125) and saturates (100 -> 28).
    let f6 = DType::minifloat(3, 2).expect("f6e3m2");
    let codes: Vec<u64> = [0.1f32, 100.0, -100.0]
        .iter()
        .map(|&v| F32.encode_f32(v))
        .collect();
    let out = run_cast(F32, f6, &codes);
    let vals: Vec<f64> = out.iter().map(|&c| f6.decode_f64(c)).collect();
    assert_eq!(vals, vec![0.125, 28.0, -28.0]);
}

/// out = op(a, b) on [rows, cols] tiles with b broadcast from [cols].
fn binary_kernel(d: DType, op: TileBinaryOp, rows: usize, cols: usize) -> VerifiedProgram {
    let kb = KernelBuilder::new("bin", 1);
    let a = kb.pointer_param("a", d);
    let b = kb.pointer_param("b", d);
    let out_d = if op.is_comparison() { int(1, false) } else { d };
    let o = kb.pointer_param("o", out_d);
    kb.grid(&[1]);
    let ga = kb.global_view(a, &[rows, cols]);
    let gb = kb.global_view(b, &[cols]);
    let go = kb.global_view(o, &[rows, cols]);
    let x = kb.load_global(&ga, &[kb.int(0), kb.int(0)], &[rows, cols]);
    let y = kb.load_global(&gb, &[kb.int(0)], &[cols]);
    let z = kb.binary(op, Operand::Tensor(x.id), Operand::Tensor(y.id));
    kb.store_global(&go, &z, &[kb.int(0), kb.int(0)]);
    verified(kb.finish().expect("kernel"))
}

#[test]
fn binary_ops_broadcast_and_round() {
    let (rows, cols) = (3, 5);
    let a: Vec<f32> = (0..15).map(|i| i as f32 * 0.3 - 2.0).collect();
    let b: Vec<f32> = (0..5).map(|i| 1.0 / (i as f32 + 0.7)).collect();
    for (op, f) in [
        (TileBinaryOp::Add, (|x, y| x + y) as fn(f64, f64) -> f64),
        (TileBinaryOp::Mul, |x, y| x * y),
        (TileBinaryOp::Div, |x, y| x / y),
        (TileBinaryOp::Max, f64::max),
    ] {
        let p = binary_kernel(F16, op, rows, cols);
        let mut args = vec![
            Arg::Buffer(HostBuffer::from_f32(F16, &a)),
            Arg::Buffer(HostBuffer::from_f32(F16, &b)),
            Arg::Buffer(HostBuffer::zeros(F16, rows * cols)),
        ];
        run_ok(&p, &mut args);
        let (ha, hb) = (buf(&args[0]).to_f32(), buf(&args[1]).to_f32());
        let out = buf(&args[2]).codes();
        for i in 0..rows * cols {
            // The correctly rounded f16 result (computed in f64, rounded once).
            let exact = f(f64::from(ha[i]), f64::from(hb[i % cols]));
            let want = half::f16::from_f64(exact).to_bits();
            assert_eq!(out[i], u64::from(want), "{op:?} element {i}");
        }
    }
    // Comparisons give u1 tiles.
    let p = binary_kernel(F32, TileBinaryOp::Lt, rows, cols);
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_f32(F32, &a)),
        Arg::Buffer(HostBuffer::from_f32(F32, &b)),
        Arg::Buffer(HostBuffer::zeros(int(1, false), rows * cols)),
    ];
    run_ok(&p, &mut args);
    let want: Vec<u64> = (0..15).map(|i| u64::from(a[i] < b[i % cols])).collect();
    assert_eq!(buf(&args[2]).codes(), want);
}

#[test]
fn integer_division_by_zero_is_an_error() {
    let p = binary_kernel(I32, TileBinaryOp::Div, 2, 2);
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_i64(I32, &[7, -7, 8, 9]).expect("i32")),
        Arg::Buffer(HostBuffer::from_i64(I32, &[2, 0]).expect("i32")),
        Arg::Buffer(HostBuffer::zeros(I32, 4)),
    ];
    let e = run(&p, "bin", &mut args, &RunOptions::default()).expect_err("div by zero");
    assert_eq!(e.kind, InterpErrorKind::DivisionByZero);
    assert_eq!(e.inst.as_deref(), Some("div"));
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_i64(I32, &[7, -7, 8, -9]).expect("i32")),
        Arg::Buffer(HostBuffer::from_i64(I32, &[2, -4]).expect("i32")),
        Arg::Buffer(HostBuffer::zeros(I32, 4)),
    ];
    run_ok(&p, &mut args);
    assert_eq!(buf(&args[2]).to_i64(), vec![3, 1, 4, 2]);
}

#[test]
fn where_relu_unary_and_reduce() {
    let kb = KernelBuilder::new("misc", 1);
    let a = kb.pointer_param("a", F32);
    let relu = kb.pointer_param("relu", F32);
    let rows = kb.pointer_param("rows", F32);
    let cmax = kb.pointer_param("cmax", F32);
    let sq = kb.pointer_param("sq", F32);
    kb.grid(&[1]);
    let ga = kb.global_view(a, &[4, 8]);
    let x = kb.load_global(&ga, &[kb.int(0), kb.int(0)], &[4, 8]);
    let neg = x.lt(0.0f64);
    let r = kb.where_(
        &neg,
        Operand::Scalar(kb.float(0.0).id),
        Operand::Tensor(x.id),
    );
    kb.store_global(&kb.global_view(relu, &[4, 8]), &r, &[kb.int(0), kb.int(0)]);
    let s = x.sum(1, false);
    kb.store_global(&kb.global_view(rows, &[4]), &s, &[kb.int(0)]);
    let m = kb.reduce(tilus_ir::inst::ReduceOp::Max, &x, 0, true);
    kb.store_global(&kb.global_view(cmax, &[1, 8]), &m, &[kb.int(0), kb.int(0)]);
    let q = x.apply(TileUnaryOp::Square).apply(TileUnaryOp::Sqrt);
    kb.store_global(&kb.global_view(sq, &[4, 8]), &q, &[kb.int(0), kb.int(0)]);
    let p = verified(kb.finish().expect("kernel"));
    let av: Vec<f32> = (0..32).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_f32(F32, &av)),
        Arg::Buffer(HostBuffer::zeros(F32, 32)),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
        Arg::Buffer(HostBuffer::zeros(F32, 8)),
        Arg::Buffer(HostBuffer::zeros(F32, 32)),
    ];
    run_ok(&p, &mut args);
    let relu_want: Vec<f32> = av.iter().map(|&v| if v < 0.0 { 0.0 } else { v }).collect();
    assert_eq!(buf(&args[1]).to_f32(), relu_want);
    let rows_want: Vec<f32> = (0..4)
        .map(|r| {
            av[r * 8..r * 8 + 8]
                .iter()
                .fold(None, |acc: Option<f32>, &v| Some(acc.map_or(v, |a| a + v)))
        })
        .map(|v| v.unwrap_or(0.0))
        .collect();
    assert_eq!(buf(&args[2]).to_f32(), rows_want);
    let cmax_want: Vec<f32> = (0..8)
        .map(|c| (0..4).map(|r| av[r * 8 + c]).fold(f32::MIN, f32::max))
        .collect();
    assert_eq!(buf(&args[3]).to_f32(), cmax_want);
    let sq_want: Vec<f32> = av.iter().map(|&v| (v * v).sqrt()).collect();
    assert_eq!(buf(&args[4]).to_f32(), sq_want);
}

#[test]
fn integer_reduce_wraps() {
    let i8t = int(8, true);
    let kb = KernelBuilder::new("isum", 1);
    let a = kb.pointer_param("a", i8t);
    let o = kb.pointer_param("o", i8t);
    kb.grid(&[1]);
    let x = kb.load_global(
        &kb.global_view(a, &[2, 4]),
        &[kb.int(0), kb.int(0)],
        &[2, 4],
    );
    let s = x.sum(1, false);
    kb.store_global(&kb.global_view(o, &[2]), &s, &[kb.int(0)]);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_i64(i8t, &[100, 100, 100, -1, -128, -1, 0, 0]).expect("i8")),
        Arg::Buffer(HostBuffer::zeros(i8t, 2)),
    ];
    run_ok(&p, &mut args);
    assert_eq!(buf(&args[1]).to_i64(), vec![43, 127]);
}

/// Loads `n_in` bytes with layout `lin`, views them as `to` with layout `lout`, stores the
/// result into a `to` buffer.
fn view_kernel(
    to: DType,
    in_shape: &[usize],
    lin: &RegisterLayout,
    lout: &RegisterLayout,
) -> VerifiedProgram {
    let kb = KernelBuilder::new("view", 1);
    let a = kb.pointer_param("a", U8);
    let o = kb.pointer_param("o", to);
    kb.grid(&[1]);
    let ga = kb.global_view(a, in_shape);
    let out_shape = lout.shape().to_vec();
    let go = kb.global_view(o, &out_shape);
    let zeros_in: Vec<_> = in_shape.iter().map(|_| kb.int(0)).collect();
    let zeros_out: Vec<_> = out_shape.iter().map(|_| kb.int(0)).collect();
    let x = kb.load_global(&ga, &zeros_in, in_shape);
    kb.annotate_layout(&x, lin);
    let y = kb.view(&x, to, lout);
    kb.store_global(&go, &y, &zeros_out);
    verified(kb.finish().expect("kernel"))
}

#[test]
fn view_bytes_as_sub_byte_types_is_bit_exact() {
    let bytes: Vec<u64> = (0..96u64).map(|i| (i * 37 + 11) % 256).collect();
    let packed = pack::pack(8, &bytes);
    for (to, l_out) in [
        (int(6, true), 4usize),
        (DType::minifloat(3, 2).expect("f6e3m2"), 4),
        (int(4, false), 6),
        (int(3, false), 8),
    ] {
        // Each of the 32 threads holds 3 consecutive bytes = 24 bits.
        let lin = spatial(&[32]).local(&[3]);
        let lout = spatial(&[32]).local(&[l_out]);
        let n_out = 32 * l_out;
        let p = view_kernel(to, &[96], &lin, &lout);
        let mut args = vec![
            Arg::Buffer(HostBuffer::from_codes(U8, &bytes)),
            Arg::Buffer(HostBuffer::zeros(to, n_out)),
        ];
        run_ok(&p, &mut args);
        let want = pack::unpack(to.bits(), &packed, n_out).expect("unpack");
        assert_eq!(buf(&args[1]).codes(), want, "view as {to}");
        assert_eq!(buf(&args[1]).bytes, packed, "view as {to}: same bits");
    }
    // 2-D: thread t holds row t (2 bytes) and sees 4 nibbles, low nibble first.
    let lin = spatial(&[32, 1]).local(&[1, 2]);
    let lout = spatial(&[32, 1]).local(&[1, 4]);
    let p = view_kernel(int(4, false), &[32, 2], &lin, &lout);
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_codes(U8, &bytes[..64])),
        Arg::Buffer(HostBuffer::zeros(int(4, false), 128)),
    ];
    run_ok(&p, &mut args);
    let out = buf(&args[1]).codes();
    for t in 0..32 {
        for j in 0..4 {
            assert_eq!(out[t * 4 + j], (bytes[t * 2 + j / 2] >> (4 * (j % 2))) & 15);
        }
    }
}

#[test]
fn view_needs_matching_bits_and_a_known_layout() {
    // A view of a tile whose layout is unknown, or one that changes the bits per thread, is
    // rejected by the verifier before it can run.
    let kb = KernelBuilder::new("view", 1);
    let a = kb.pointer_param("a", U8);
    kb.grid(&[1]);
    let x = kb
        .load_global(&kb.global_view(a, &[32]), &[kb.int(0)], &[32])
        .named("x");
    let _ = kb
        .view(&x, int(4, false), &spatial(&[32]).local(&[2]))
        .named("y");
    let e = verify(Program {
        functions: vec![kb.finish().expect("kernel")],
    })
    .expect_err("no layout");
    assert!(e.contains("the layout of %x is not known"), "{e}");
    assert_eq!(e.0[0].inst.as_deref(), Some("view"), "{e}");
    assert_eq!(e.0[0].target.as_deref(), Some("%y"), "{e}");

    let kb = KernelBuilder::new("view", 1);
    let a = kb.pointer_param("a", U8);
    kb.grid(&[1]);
    let x = kb
        .load_global(&kb.global_view(a, &[32]), &[kb.int(0)], &[32])
        .named("x");
    kb.annotate_layout(&x, &spatial(&[32]));
    let _ = kb.view(&x, int(4, false), &spatial(&[32]).local(&[4]));
    let e = verify(Program {
        functions: vec![kb.finish().expect("kernel")],
    })
    .expect_err("bits");
    assert!(e.contains("bits per thread differ"), "{e}");
    assert!(e.contains("8 bits per thread"), "{e}");
    assert!(e.contains("4 × u4 = 16 bits"), "{e}");

    // What only the data decides is checked at run time: each of the 32 threads holds one
    // byte and sees it as the two nibbles of a tile every thread holds (replicated), so the
    // threads must agree on it.
    let kb = KernelBuilder::new("view", 1);
    let a = kb.pointer_param("a", U8);
    let o = kb.pointer_param("o", int(4, false));
    kb.grid(&[1]);
    let x = kb
        .load_global(&kb.global_view(a, &[32]), &[kb.int(0)], &[32])
        .named("x");
    kb.annotate_layout(&x, &spatial(&[32]));
    let y = kb.view(&x, int(4, false), &replicated(&[2], 32));
    kb.store_global(&kb.global_view(o, &[2]), &y, &[kb.int(0)]);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_codes(U8, &[0x5a; 32])),
        Arg::Buffer(HostBuffer::zeros(int(4, false), 2)),
    ];
    run_ok(&p, &mut args);
    assert_eq!(buf(&args[1]).codes(), vec![0xa, 0x5]);
    let mut bytes = vec![0x5a; 32];
    bytes[7] = 0x5b;
    let mut args = vec![
        Arg::Buffer(HostBuffer::from_codes(U8, &bytes)),
        Arg::Buffer(HostBuffer::zeros(int(4, false), 2)),
    ];
    let e = run(&p, "view", &mut args, &RunOptions::default()).expect_err("threads disagree");
    assert_eq!(e.kind, InterpErrorKind::ViewMismatch);
    assert!(
        e.message.contains("held by threads 0 and 7"),
        "{}",
        e.message
    );
}

#[test]
fn print_records_traced_blocks() {
    let kb = KernelBuilder::new("pr", 1);
    let a = kb.pointer_param("a", I32);
    kb.grid(&[3]);
    let x = kb.load_global(
        &kb.global_view(a, &[2, 2]),
        &[kb.int(0), kb.int(0)],
        &[2, 2],
    );
    kb.print(&x, "x");
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![Arg::Buffer(
        HostBuffer::from_i64(I32, &[1, -2, 3, 4]).expect("i32"),
    )];
    let opts = RunOptions {
        trace_blocks: Some(vec![[1, 0, 0]]),
        ..RunOptions::default()
    };
    let r = run(&p, "pr", &mut args, &opts).expect("run");
    assert_eq!(r.prints.len(), 1);
    assert!(r.prints[0].contains("block (1,0,0)"), "{}", r.prints[0]);
    assert!(
        r.prints[0].ends_with("[[1, -2],\n [3, 4]]"),
        "{}",
        r.prints[0]
    );
    let opts = RunOptions {
        print: true,
        ..RunOptions::default()
    };
    assert_eq!(
        run(&p, "pr", &mut args, &opts).expect("run").prints.len(),
        3
    );
    let r = run(&p, "pr", &mut args, &RunOptions::default()).expect("run");
    assert!(r.prints.is_empty());
    assert_eq!(r.instructions, 9);
}

#[test]
fn arguments_are_checked() {
    let p = verified(vector_add(F32));
    let opts = RunOptions::default();
    let mut few = vec![Arg::Int(4)];
    let e = run(&p, "vector_add", &mut few, &opts).expect_err("count");
    assert_eq!(e.kind, InterpErrorKind::BadArgument);
    let mut wrong_dtype = vec![
        Arg::Int(4),
        Arg::Buffer(HostBuffer::zeros(F16, 4)),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
    ];
    let e = run(&p, "vector_add", &mut wrong_dtype, &opts).expect_err("dtype");
    assert_eq!(e.kind, InterpErrorKind::BadArgument);
    assert!(e.to_string().contains("`a`"), "{e}");
    let mut swapped = vec![
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
        Arg::Int(4),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
    ];
    let e = run(&p, "vector_add", &mut swapped, &opts).expect_err("kinds");
    assert_eq!(e.kind, InterpErrorKind::BadArgument);
    let e = run(&p, "nope", &mut swapped, &opts).expect_err("kernel");
    assert_eq!(e.kind, InterpErrorKind::UnknownKernel);
    let mut big = vec![
        Arg::Int(1 << 40),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
        Arg::Buffer(HostBuffer::zeros(F32, 4)),
    ];
    let e = run(&p, "vector_add", &mut big, &opts).expect_err("range");
    assert_eq!(e.kind, InterpErrorKind::BadArgument);
}

#[test]
fn step_limit_stops_long_runs() {
    let kb = KernelBuilder::new("spin", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[1]);
    let acc = kb.alloc_register(I32, &[4], Some(0.0));
    kb.for_range("i", 0, n, 1, tilus_ir::program::Unroll::None, |_| {
        kb.binary_into(
            &acc,
            TileBinaryOp::Add,
            Operand::Tensor(acc.id),
            Operand::Scalar(kb.int(1).id),
        );
    });
    let p = verified(kb.finish().expect("kernel"));
    let opts = RunOptions {
        max_steps: 1000,
        ..RunOptions::default()
    };
    let e = run(&p, "spin", &mut [Arg::Int(1_000_000)], &opts).expect_err("limit");
    assert_eq!(e.kind, InterpErrorKind::StepLimit);
    run(&p, "spin", &mut [Arg::Int(100)], &opts).expect("within the limit");
}

#[test]
fn host_buffers_round_trip() {
    let u3 = int(3, false);
    let b = HostBuffer::from_codes(u3, &[1, 2, 3, 4, 5, 6, 7, 0]);
    assert_eq!(b.bytes, vec![0xD1, 0x58, 0x1F]);
    assert!(HostBuffer::from_i64(int(4, false), &[16]).is_err());
    assert!(HostBuffer::from_i64(F16, &[2049]).is_err());
    let mut b = HostBuffer::from_i64(int(6, true), &[-3, 5, -32, 31]).expect("i6");
    assert_eq!(b.bytes, vec![0x7D, 0x01, 0x7E]);
    assert_eq!(b.get(4), None);
    b.set(1, 0x3F).expect("set");
    assert_eq!(b.to_i64(), vec![-3, -1, -32, 31]);
    assert_eq!(
        b.set(9, 0).map_err(|e| e.kind),
        Err(InterpErrorKind::OutOfBounds)
    );
    let f = HostBuffer::from_f64(F16, &[0.1, 65520.0]);
    assert_eq!(
        f.to_f64(),
        vec![half::f16::from_f64(0.1).to_f64(), f64::INFINITY]
    );
}
