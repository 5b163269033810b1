//! `sum`, `max`, `min` over one dimension.
//!
//! The elements along the reduced dimension are combined in ascending index order starting
//! from the first one. Float sums round every partial sum to the tile's dtype (one `f32`
//! addition, then round to nearest even); integer sums wrap; `max`/`min` ignore NaN
//! operands and order `-0 < +0`.

use crate::inst::ReduceOp;
use crate::program::TensorId;

use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::Cx;
use super::scalar::{fmax, fmin, int_cmp};
use super::tile::{encode_f32, int_values, RegTile, TensorVal};

/// `reduce`.
pub(super) fn reduce(
    cx: &mut Cx<'_, '_>,
    op: ReduceOp,
    x: TensorId,
    dim: usize,
    keepdim: bool,
) -> Result<TensorVal, InterpError> {
    let t = cx.reg(x)?;
    let d = t.dtype;
    if dim >= t.shape.len() {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!(
                "{} over dim {dim} of a rank-{} tile",
                op.name(),
                t.shape.len()
            ),
        );
    }
    let outer: usize = t.shape[..dim].iter().product();
    let r = t.shape[dim];
    let inner: usize = t.shape[dim + 1..].iter().product();
    let mut shape = t.shape.clone();
    if keepdim {
        shape[dim] = 1;
    } else {
        shape.remove(dim);
    }
    let at = |o: usize, k: usize, i: usize| (o * r + k) * inner + i;
    let codes = if d.is_float() {
        let v = t.decode_f32();
        let exact = d == crate::dtype::DType::F32;
        let round = |s: f32| {
            if exact {
                s
            } else {
                d.decode_f32(d.encode_f32(s))
            }
        };
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let mut acc = v.get(at(o, 0, i)).copied().unwrap_or(0.0);
                for k in 1..r {
                    let x = v.get(at(o, k, i)).copied().unwrap_or(0.0);
                    acc = match op {
                        ReduceOp::Sum => round(acc + x),
                        ReduceOp::Max => fmax(acc, x),
                        ReduceOp::Min => fmin(acc, x),
                    };
                }
                out.push(acc);
            }
        }
        encode_f32(d, &out)
    } else {
        let v = int_values(d, &t.codes);
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let mut acc = v.get(at(o, 0, i)).copied().unwrap_or(0);
                for k in 1..r {
                    let x = v.get(at(o, k, i)).copied().unwrap_or(0);
                    acc = match op {
                        ReduceOp::Sum => acc.wrapping_add(x),
                        ReduceOp::Max => {
                            if int_cmp(x, acc, d).is_gt() {
                                x
                            } else {
                                acc
                            }
                        }
                        ReduceOp::Min => {
                            if int_cmp(x, acc, d).is_lt() {
                                x
                            } else {
                                acc
                            }
                        }
                    };
                }
                out.push(d.wrap_int(acc));
            }
        }
        out
    };
    Ok(TensorVal::Reg(RegTile {
        dtype: d,
        shape,
        codes,
    }))
}
