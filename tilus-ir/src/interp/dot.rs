//! `dot`: `a[m,k] @ b[k,n] (+ c[m,n])` accumulated in `acc_dtype`.
//!
//! For every output element, `acc = c[i,j]` (or 0), then for `kk` in `0..k` ascending:
//! `acc = round_acc(acc + a[i,kk] * b[kk,j])` with a single rounding per step: for an `f32`
//! accumulator and operands that are exact `f32`s (every float dtype, integers of at most 24
//! bits) this is `fma(a, b, acc)` in `f32`, which is what the compiled fallback computes;
//! otherwise the operands are decoded exactly, the product and the sum are computed in `f64`
//! (the product is exact for operands of at most 26 significant bits), and `round_acc` rounds
//! to the accumulator dtype (round to nearest even; toward zero with saturation for an integer
//! accumulator). With integer operands and an integer accumulator the sum is exact in `i64`
//! and wraps to the accumulator type. Backends may sum in another order (tensor cores do);
//! they must agree within the bound stated by their tests.

use crate::dtype::DType;
use crate::program::TensorId;

use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::Cx;
use super::tile::{decode_f64, int_values, RegTile, TensorVal};

fn dims2(t: &RegTile, what: &str) -> Result<(usize, usize), InterpError> {
    match t.shape.as_slice() {
        [r, c] => Ok((*r, *c)),
        s => fail(
            InterpErrorKind::InvalidProgram,
            format!("dot operand {what} must be 2-D, got shape {s:?}"),
        ),
    }
}

/// `dot`.
pub(super) fn dot(
    cx: &mut Cx<'_, '_>,
    a: TensorId,
    b: TensorId,
    c: Option<TensorId>,
    acc: DType,
) -> Result<TensorVal, InterpError> {
    let ta = cx.reg(a)?;
    let tb = cx.reg(b)?;
    let (m, k) = dims2(ta, "a")?;
    let (k2, n) = dims2(tb, "b")?;
    if k != k2 {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!("dot shapes disagree: a is [{m}, {k}], b is [{k2}, {n}]"),
        );
    }
    if ta.codes.len() != m * k || tb.codes.len() != k * n {
        return fail(
            InterpErrorKind::InvalidProgram,
            "dot operand tiles do not hold one code per element",
        );
    }
    let tc = match c {
        Some(c) => {
            let tc = cx.reg(c)?;
            if tc.shape != [m, n] || tc.dtype != acc || tc.codes.len() != m * n {
                return fail(
                    InterpErrorKind::InvalidProgram,
                    format!(
                        "dot addend is {}{:?}, expected {acc}[{m}, {n}]",
                        tc.dtype, tc.shape
                    ),
                );
            }
            Some(tc)
        }
        None => None,
    };
    let codes = if ta.dtype.is_int() && tb.dtype.is_int() && acc.is_int() {
        let av = int_values(ta.dtype, &ta.codes);
        let bv = transpose(&int_values(tb.dtype, &tb.codes), k, n);
        let cv = tc.map(|t| int_values(acc, &t.codes));
        let mut out = Vec::with_capacity(m * n);
        for i in 0..m {
            let arow = &av[i * k..(i + 1) * k];
            for j in 0..n {
                let bcol = &bv[j * k..(j + 1) * k];
                let mut s = cv.as_ref().map_or(0, |c| c[i * n + j]);
                for (x, y) in arow.iter().zip(bcol) {
                    s = s.wrapping_add(x.wrapping_mul(*y));
                }
                out.push(acc.wrap_int(s));
            }
        }
        out
    } else {
        // Operands every value of which is an f32 (all floats, and ints of at most 24 bits).
        let f32_exact = ta.dtype.is_float() || ta.dtype.bits() <= 24;
        let av = decode_f64(ta.dtype, &ta.codes);
        let bv = transpose(&decode_f64(tb.dtype, &tb.codes), k, n);
        let cv = tc.map(|t| decode_f64(acc, &t.codes));
        let mut out = Vec::with_capacity(m * n);
        for i in 0..m {
            let arow = &av[i * k..(i + 1) * k];
            for j in 0..n {
                let bcol = &bv[j * k..(j + 1) * k];
                let c0 = cv.as_ref().map_or(0.0, |c| c[i * n + j]);
                let code = if acc == DType::F32 && f32_exact {
                    // One rounding per step: fma(a, b, acc) in f32 (a and b are exact f32s).
                    let mut s = c0 as f32;
                    for (x, y) in arow.iter().zip(bcol) {
                        s = (*x as f32).mul_add(*y as f32, s);
                    }
                    u64::from(s.to_bits())
                } else if acc == DType::F32 {
                    let mut s = c0 as f32;
                    for (x, y) in arow.iter().zip(bcol) {
                        s = (f64::from(s) + x * y) as f32;
                    }
                    u64::from(s.to_bits())
                } else {
                    let mut s = c0;
                    for (x, y) in arow.iter().zip(bcol) {
                        s = acc.decode_f64(acc.encode_f64(s + x * y));
                    }
                    acc.encode_f64(s)
                };
                out.push(code);
            }
        }
        out
    };
    Ok(TensorVal::Reg(RegTile {
        dtype: acc,
        shape: vec![m, n],
        codes,
    }))
}

/// The `[cols, rows]` transpose of a row-major `[rows, cols]` array.
fn transpose<T: Copy + Default>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = vec![T::default(); rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            if let (Some(o), Some(&x)) = (out.get_mut(c * rows + r), v.get(r * cols + c)) {
                *o = x;
            }
        }
    }
    out
}
