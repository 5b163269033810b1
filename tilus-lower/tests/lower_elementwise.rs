//! Elementwise operations with broadcasting and scalar operands, every unary and binary
//! operation on float and integer tiles, and `where`: the thread interpreter must agree with
//! the tile interpreter bit for bit.

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::inst::{Operand, TileBinaryOp, TileUnaryOp};
use tilus_ir::interp::Arg;
use tilus_ir::program::Function;

const M: usize = 16;
const N: usize = 32;

/// out[i, j] = where(y < hi, y, hi) with y = max(x * s + bias[j] - row[i], 0).
fn broadcast_kernel(dtype: DType) -> Function {
    let kb = KernelBuilder::new("bcast", 2);
    let m = kb.scalar_param("m", ScalarType::I32);
    let s = kb.scalar_param("s", ScalarType::F32);
    let x = kb.pointer_param("x", dtype);
    let bias = kb.pointer_param("bias", dtype);
    let row = kb.pointer_param("row", dtype);
    let out = kb.pointer_param("out", dtype);
    kb.grid(&[m.cdiv(M as i64)]);
    let gx = kb.global_view(x, &[m, kb.int(N as i64)]);
    let gb = kb.global_view(bias, &[N as i64]);
    let gr = kb.global_view(row, &[m, kb.int(1)]);
    let go = kb.global_view(out, &[m, kb.int(N as i64)]);
    let r0 = kb.block_idx(Axis::X) * M as i64;
    let tx = kb.load_global(&gx, &[r0, kb.int(0)], &[M, N]);
    let tb = kb.load_global(&gb, &[0i64], &[N]).named("bias_t");
    let tr = kb
        .load_global(&gr, &[r0, kb.int(0)], &[M, 1])
        .named("row_t");
    let y = tx * s;
    let y = y + tb;
    let y = y - tr;
    let y = y.max(0.0);
    let c = y.lt(1.5);
    let z = kb.where_(&c, Operand::Tensor(y.id), 1.5f64.into_operand_helper(&kb));
    kb.store_global(&go, &z, &[r0, kb.int(0)]);
    kb.finish().expect("kernel")
}

trait ScalarOperand {
    fn into_operand_helper(self, kb: &KernelBuilder) -> Operand;
}
impl ScalarOperand for f64 {
    fn into_operand_helper(self, kb: &KernelBuilder) -> Operand {
        Operand::Scalar(kb.float(self).id)
    }
}

#[test]
fn broadcast_scalars_and_where() {
    for dtype in [DType::F32, DType::F16, DType::BF16, DType::F8E4M3FN] {
        let p = verified(broadcast_kernel(dtype));
        let a = layouts(&p, &[], &[]);
        let k = lower(&p, &a);
        let m = 37;
        let mut rng = Rng(3);
        run_both(
            &p,
            &k,
            &[
                Arg::Int(m as i64),
                Arg::Float(0.7),
                buf(dtype, &rng.values(dtype, m * N, 3.0)),
                buf(dtype, &rng.values(dtype, N, 1.0)),
                buf(dtype, &rng.values(dtype, m, 1.0)),
                zeros(dtype, m * N),
            ],
        );
    }
}

#[test]
fn broadcast_with_hand_written_layouts() {
    let p = verified(broadcast_kernel(DType::F16));
    let full = tilus_ir::layout::auto_local_spatial(64, &[M, N]);
    let a = auto_layouts(
        &p,
        &[
            ("bias_t", full.reduce(&[0], false).expect("reduce")),
            ("row_t", full.reduce(&[1], true).expect("reduce")),
        ],
        &[],
    );
    let k = lower(&p, &a);
    let m = 20;
    let mut rng = Rng(4);
    run_both(
        &p,
        &k,
        &[
            Arg::Int(m as i64),
            Arg::Float(-1.5),
            buf(DType::F16, &rng.values(DType::F16, m * N, 3.0)),
            buf(DType::F16, &rng.values(DType::F16, N, 1.0)),
            buf(DType::F16, &rng.values(DType::F16, m, 1.0)),
            zeros(DType::F16, m * N),
        ],
    );
}

/// Applies every unary op and every binary op (with itself reversed and with a scalar).
fn ops_kernel(dtype: DType, unary: &[TileUnaryOp], binary: &[TileBinaryOp]) -> Function {
    let kb = KernelBuilder::new("ops", 1);
    let a = kb.pointer_param("a", dtype);
    let b = kb.pointer_param("b", dtype);
    let out = kb.pointer_param("out", dtype);
    let bools = kb.pointer_param(
        "bools",
        DType::Int {
            bits: 1,
            signed: false,
        },
    );
    kb.grid(&[1i64]);
    let n = 64i64;
    let count = (unary.len() + 2 * binary.len()) as i64;
    let ga = kb.global_view(a, &[n]);
    let gb = kb.global_view(b, &[n]);
    let go = kb.global_view(out, &[count, n]);
    let gc = kb.global_view(bools, &[count, n]);
    let ta = kb.load_global(&ga, &[0i64], &[64]);
    let tb = kb.load_global(&gb, &[0i64], &[64]);
    let mut row = 0i64;
    for &op in unary {
        let r = kb.unary(op, &ta);
        kb.store_global(&go, &r, &[kb.int(row), kb.int(0)]);
        row += 1;
    }
    let scalar = if dtype.is_float() {
        Operand::Scalar(kb.float(1.25).id)
    } else {
        Operand::Scalar(kb.int(3).id)
    };
    for &op in binary {
        for rhs in [Operand::Tensor(tb.id), scalar] {
            let r = kb.binary(op, Operand::Tensor(ta.id), rhs);
            if op.is_comparison() {
                kb.store_global(&gc, &r, &[kb.int(row), kb.int(0)]);
            } else {
                kb.store_global(&go, &r, &[kb.int(row), kb.int(0)]);
            }
            row += 1;
        }
    }
    kb.finish().expect("kernel")
}

fn run_ops(dtype: DType, unary: &[TileUnaryOp], binary: &[TileBinaryOp], seed: u64) {
    let p = verified(ops_kernel(dtype, unary, binary));
    let k = lower(&p, &layouts(&p, &[], &[]));
    let count = unary.len() + 2 * binary.len();
    let mut rng = Rng(seed);
    let (a, mut b) = if dtype.is_float() {
        (rng.values(dtype, 64, 4.0), rng.values(dtype, 64, 4.0))
    } else {
        (rng.codes(dtype, 64), rng.codes(dtype, 64))
    };
    if !dtype.is_float() {
        // No division by zero; shift amounts of every kind.
        for c in b.iter_mut() {
            if dtype.int_value(*c) == 0 {
                *c = 1;
            }
        }
    }
    run_both(
        &p,
        &k,
        &[
            buf(dtype, &a),
            buf(dtype, &b),
            zeros(dtype, count * 64),
            zeros(
                DType::Int {
                    bits: 1,
                    signed: false,
                },
                count * 64,
            ),
        ],
    );
}

#[test]
fn float_ops() {
    use TileBinaryOp::*;
    use TileUnaryOp::*;
    let unary = [
        Neg, Abs, Exp, Exp2, Log, Sqrt, Rsqrt, Round, Floor, Ceil, Square, Sigmoid,
    ];
    let binary = [Add, Sub, Mul, Div, Rem, Min, Max, Eq, Ne, Lt, Le, Gt, Ge];
    for (i, dtype) in [
        DType::F32,
        DType::F16,
        DType::BF16,
        DType::F8E5M2,
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::MiniFloat { exp: 2, mant: 1 },
    ]
    .into_iter()
    .enumerate()
    {
        run_ops(dtype, &unary, &binary, 100 + i as u64);
    }
}

#[test]
fn int_ops() {
    use TileBinaryOp::*;
    use TileUnaryOp::*;
    let unary = [Neg, Abs, Square, BitNot];
    let binary = [
        Add, Sub, Mul, Div, Rem, Min, Max, Eq, Ne, Lt, Le, Gt, Ge, BitAnd, BitOr, BitXor, Shl, Shr,
    ];
    for (i, dtype) in [
        int(32, true),
        int(32, false),
        int(8, true),
        int(8, false),
        int(4, true),
        int(4, false),
        int(3, true),
        int(16, true),
    ]
    .into_iter()
    .enumerate()
    {
        run_ops(dtype, &unary, &binary, 200 + i as u64);
    }
}
