//! Local arrays: packed (`u32` words holding the array's bit stream) when the array takes
//! part in a `view`, unpacked (one carrier value or code per slot) otherwise.
//!
//! Slots are compile-time constants, so a packed slot is read with constant shifts and
//! written by a read-modify-write of its word(s); an element that straddles two words is
//! first captured in a variable, so that both word updates see the value from before the
//! write. A `view` copies words.

use std::collections::HashSet;

use tilus_ir::dtype::DType;

use super::floats;
use super::ops::{low_mask, Ops};
use super::{Legalizer, R, U32};
use crate::thread_ir::{
    ExprId, KernelBuilder, LocalArray, LocalId, LocalRef, Stmt, ThreadKernel, Ty,
};

/// How an input local array is stored in the output.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LocalRepr {
    /// One output slot per element, of [`unpacked_dtype`].
    Unpacked {
        /// The output array.
        array: LocalId,
        /// The input element type.
        dtype: DType,
    },
    /// `u32` words holding the bit stream.
    Packed {
        /// The output array.
        array: LocalId,
        /// The input element type.
        dtype: DType,
    },
}

/// The storage type of an unpacked array of `dtype`: the carrier for integers and `f32`,
/// the code (`u32`) for `f16` and the coded floats.
pub(crate) fn unpacked_dtype(dtype: DType) -> DType {
    match dtype {
        DType::Int { signed, .. } => DType::Int { bits: 32, signed },
        DType::F32 => DType::F32,
        _ => U32,
    }
}

/// Allocates the output arrays: packed for arrays that take part in a `view`.
pub(crate) fn plan(src: &ThreadKernel, b: &mut KernelBuilder) -> Vec<LocalRepr> {
    let mut viewed = HashSet::new();
    collect_views(&src.body, &mut viewed);
    src.locals
        .iter()
        .map(|(id, l)| {
            let name = l.name.clone();
            if viewed.contains(&id) {
                let len = (l.bits().div_ceil(32) as u32).max(1);
                let array = b.kernel.locals.alloc(LocalArray {
                    name,
                    dtype: U32,
                    len,
                });
                LocalRepr::Packed {
                    array,
                    dtype: l.dtype,
                }
            } else {
                let array = b.kernel.locals.alloc(LocalArray {
                    name,
                    dtype: unpacked_dtype(l.dtype),
                    len: l.len.max(1),
                });
                LocalRepr::Unpacked {
                    array,
                    dtype: l.dtype,
                }
            }
        })
        .collect()
}

fn collect_views(body: &[Stmt], out: &mut HashSet<LocalId>) {
    for s in body {
        match s {
            Stmt::View { dst, src } => {
                out.insert(*dst);
                out.insert(*src);
            }
            Stmt::For { body, .. } => collect_views(body, out),
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                collect_views(then_body, out);
                collect_views(else_body, out);
            }
            _ => {}
        }
    }
}

/// The code (`u32`, `n` bits at constant bit position `pos`) in a sequence of `u32` words.
pub(crate) fn extract_const(b: &mut KernelBuilder, words: &[ExprId], pos: u32, n: u32) -> ExprId {
    let (k, off) = ((pos / 32) as usize, pos % 32);
    let zero = b.u32(0);
    let w0 = words.get(k).copied().unwrap_or(zero);
    let lo = b.shr_k(w0, off);
    let v = if off + n > 32 {
        let w1 = words.get(k + 1).copied().unwrap_or(zero);
        let hi = b.shl_k(w1, 32 - off);
        b.or_(lo, hi)
    } else {
        lo
    };
    if off + n == 32 {
        // The code ends at the top of the word: nothing above it to mask.
        return v;
    }
    b.and_k(v, low_mask(n))
}

/// The carrier value of a code of `dtype`.
pub(crate) fn code_to_carrier(b: &mut KernelBuilder, dtype: DType, code: ExprId) -> ExprId {
    match dtype {
        DType::Int { bits, signed: true } => {
            let bits = u32::from(bits);
            let up = b.shl_k(code, 32 - bits.min(32));
            let s = b.bits_as(Ty::I32, up);
            b.shr_k(s, 32 - bits.min(32))
        }
        DType::Int { signed: false, .. } => code,
        DType::F32 => b.bits_as(Ty::F32, code),
        DType::F16 => floats::f16_code_to_f32(b, code),
        _ => code,
    }
}

/// The code (`u32`, masked to the dtype's bits) of a carrier value of `dtype`.
pub(crate) fn carrier_to_code(b: &mut KernelBuilder, dtype: DType, v: ExprId) -> ExprId {
    match dtype {
        DType::F32 => b.bits_as(Ty::U32, v),
        DType::F16 => floats::f32_to_f16_code(b, v),
        _ => {
            let u = b.bits_as(Ty::U32, v);
            b.and_k(u, low_mask(dtype.bits()))
        }
    }
}

/// The value an unpacked slot of `dtype` holds for the code `code`.
fn storage_of_code(b: &mut KernelBuilder, dtype: DType, code: ExprId) -> ExprId {
    match dtype {
        DType::Int { .. } | DType::F32 => code_to_carrier(b, dtype, code),
        _ => code,
    }
}

impl Legalizer<'_> {
    fn words_of(&mut self, array: LocalId, first: u32, count: u32) -> Vec<ExprId> {
        (first..first + count)
            .map(|k| self.b.read_local(array, k))
            .collect()
    }

    /// The carrier value of an input slot.
    pub(super) fn read_slot(&mut self, array: LocalId, slot: u32) -> R<ExprId> {
        match self.local(array)? {
            LocalRepr::Unpacked { array, dtype } => {
                let v = self.b.read_local(array, slot);
                Ok(if dtype == DType::F16 {
                    self.f16_value(v)
                } else {
                    v
                })
            }
            LocalRepr::Packed { dtype, .. } => {
                let code = self.read_code(array, slot)?;
                Ok(code_to_carrier(&mut self.b, dtype, code))
            }
        }
    }

    /// The code (`u32`) of an input slot.
    pub(super) fn read_code(&mut self, array: LocalId, slot: u32) -> R<ExprId> {
        match self.local(array)? {
            LocalRepr::Unpacked { array, dtype } => {
                let v = self.b.read_local(array, slot);
                Ok(match dtype {
                    DType::Int { signed: true, .. } | DType::F32 => {
                        carrier_to_code(&mut self.b, dtype, v)
                    }
                    _ => v,
                })
            }
            LocalRepr::Packed { array, dtype } => {
                let n = dtype.bits();
                let pos = slot * n;
                let count = if pos % 32 + n > 32 { 2 } else { 1 };
                let words = self.words_of(array, pos / 32, count);
                Ok(extract_const(&mut self.b, &words, pos % 32, n))
            }
        }
    }

    /// Writes a carrier value to an input slot (its low bits, like the thread IR).
    pub(super) fn write_slot(&mut self, out: &mut Vec<Stmt>, dst: LocalRef, v: ExprId) -> R<()> {
        match self.local(dst.array)? {
            LocalRepr::Unpacked { array, dtype } => {
                let b = &mut self.b;
                let value = match dtype {
                    DType::Int { bits, signed: true } if bits < 32 => {
                        let k = 32 - u32::from(bits);
                        let up = b.shl_k(v, k);
                        b.shr_k(up, k)
                    }
                    DType::Int {
                        bits,
                        signed: false,
                    } if bits < 32 => b.and_k(v, low_mask(u32::from(bits))),
                    DType::Int { .. } | DType::F32 => v,
                    _ => carrier_to_code(b, dtype, v),
                };
                out.push(Stmt::SetLocal {
                    dst: LocalRef {
                        array,
                        slot: dst.slot,
                    },
                    value,
                });
                Ok(())
            }
            LocalRepr::Packed { dtype, .. } => {
                let code = carrier_to_code(&mut self.b, dtype, v);
                self.write_code(out, dst, code)
            }
        }
    }

    /// Writes a code (`u32`, at most the dtype's bits) to an input slot.
    pub(super) fn write_code(&mut self, out: &mut Vec<Stmt>, dst: LocalRef, code: ExprId) -> R<()> {
        match self.local(dst.array)? {
            LocalRepr::Unpacked { array, dtype } => {
                let value = storage_of_code(&mut self.b, dtype, code);
                out.push(Stmt::SetLocal {
                    dst: LocalRef {
                        array,
                        slot: dst.slot,
                    },
                    value,
                });
                Ok(())
            }
            LocalRepr::Packed { array, dtype } => {
                let n = dtype.bits();
                let pos = dst.slot * n;
                let (k, off) = (pos / 32, pos % 32);
                let mask = low_mask(n);
                let code = if off + n > 32 {
                    // Two word updates: capture the value first.
                    let var = self.temp_var("ins", Ty::U32);
                    out.push(Stmt::Assign { var, value: code });
                    self.b.read_var(var)
                } else {
                    code
                };
                let b = &mut self.b;
                let w = b.read_local(array, k);
                let kept = b.and_k(w, !(mask << off));
                let ins = b.shl_k(code, off);
                let value = b.or_(kept, ins);
                out.push(Stmt::SetLocal {
                    dst: LocalRef { array, slot: k },
                    value,
                });
                if off + n > 32 {
                    let w = b.read_local(array, k + 1);
                    let kept = b.and_k(w, !(mask >> (32 - off)));
                    let ins = b.shr_k(code, 32 - off);
                    let value = b.or_(kept, ins);
                    out.push(Stmt::SetLocal {
                        dst: LocalRef { array, slot: k + 1 },
                        value,
                    });
                }
                Ok(())
            }
        }
    }

    /// `view dst = src`: both arrays are packed with the same number of words.
    pub(super) fn view(&mut self, out: &mut Vec<Stmt>, dst: LocalId, src: LocalId) -> R<()> {
        let (LocalRepr::Packed { array: d, .. }, LocalRepr::Packed { array: s, .. }) =
            (self.local(dst)?, self.local(src)?)
        else {
            return Err(crate::error::LowerError::InvalidProgram(
                "a viewed local array is not packed".into(),
            ));
        };
        let words = self.b.kernel.locals.try_get(s).map_or(0, |a| a.len);
        for k in 0..words {
            let value = self.b.read_local(s, k);
            out.push(Stmt::SetLocal {
                dst: LocalRef { array: d, slot: k },
                value,
            });
        }
        Ok(())
    }

    /// The output words of an input array that is packed, and whether `slot` starts a word.
    pub(super) fn packed_words(&self, r: LocalRef) -> R<Option<(LocalId, u32)>> {
        Ok(match self.local(r.array)? {
            LocalRepr::Packed { array, dtype } => {
                let pos = r.slot * dtype.bits();
                pos.is_multiple_of(32).then_some((array, pos / 32))
            }
            LocalRepr::Unpacked { .. } => None,
        })
    }

    /// The output array of an input array that is unpacked with 32-bit elements of the
    /// given storage type.
    pub(super) fn unpacked_words(&self, r: LocalRef, word: DType) -> R<Option<LocalId>> {
        Ok(match self.local(r.array)? {
            LocalRepr::Unpacked { array, dtype } if dtype == word => Some(array),
            _ => None,
        })
    }
}
