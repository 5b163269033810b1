//! Warp intrinsics in a word-legal kernel (kept only by profiles with
//! [`super::Profile::warp_ops`]).
//!
//! A word-legal `mma` reads its operands as the registers the instruction takes: `a` is 4
//! `u32` words and `b` 2 words, each holding two 16-bit codes (the lower slot in the low
//! half, the order of `mma.sync`'s `.f16x2`/`.bf16x2` registers), and `c`/`d` are 4 `f32`
//! slots. The legalizer gathers the input fragments into such temporaries and writes `d`
//! back to its slots, so the emitter prints one instruction.
//!
//! A word-legal `ldmatrix` reads the `smem` word array: `row` is the word index of the
//! lane's 16-byte row, and `dst` is `num` `u32` words, word `i` the 32 bits the lane
//! receives of matrix `i` (two 16-bit elements, the lower slot in the low half, with or
//! without `trans`); the legalizer then writes the elements to their slots. (With `trans`
//! on words this is a form only the PTX emitter reads; the thread-IR verifier keeps `trans`
//! to 16-bit arrays.)
//!
//! A word-legal `shuffle` moves the legal 32-bit carrier of the value (`i32`, `u32`, `f32`)
//! into a temporary slot of that word type, then writes the slot's dtype from it.

use tilus_ir::dtype::DType;

use super::ops::Ops;
use super::{Legalizer, R, U32};
use crate::error::LowerError;
use crate::thread_ir::{ExprId, LocalRef, MmaShape, SharedId, Space, Stmt, Ty};

impl Legalizer<'_> {
    /// `mma` with operands `[a, b, c, d]` (input slots).
    pub(super) fn mma(
        &mut self,
        out: &mut Vec<Stmt>,
        shape: MmaShape,
        dtype: DType,
        [a, b, c, d]: [LocalRef; 4],
    ) -> R<()> {
        let MmaShape::M16N8K16 = shape;
        let wa = self.pairs(out, "mma_a", a, 4)?;
        let wb = self.pairs(out, "mma_b", b, 2)?;
        let wc = self.temp("mma_c", DType::F32, 4);
        for j in 0..4 {
            let v = self.read_slot(c.array, c.slot + j)?;
            out.push(Stmt::SetLocal {
                dst: LocalRef { array: wc, slot: j },
                value: v,
            });
        }
        let wd = self.temp("mma_d", DType::F32, 4);
        out.push(Stmt::Mma {
            shape,
            dtype,
            a: LocalRef { array: wa, slot: 0 },
            b: LocalRef { array: wb, slot: 0 },
            c: LocalRef { array: wc, slot: 0 },
            d: LocalRef { array: wd, slot: 0 },
        });
        for j in 0..4 {
            let v = self.b.read_local(wd, j);
            self.write_slot(
                out,
                LocalRef {
                    array: d.array,
                    slot: d.slot + j,
                },
                v,
            )?;
        }
        Ok(())
    }

    /// `words` `u32` words of 16-bit code pairs from the input slots at `r`.
    fn pairs(
        &mut self,
        out: &mut Vec<Stmt>,
        base: &'static str,
        r: LocalRef,
        words: u32,
    ) -> R<crate::thread_ir::LocalId> {
        let t = self.temp(base, U32, words);
        for j in 0..words {
            let lo = self.read_code(r.array, r.slot + 2 * j)?;
            let hi = self.read_code(r.array, r.slot + 2 * j + 1)?;
            let b = &mut self.b;
            let hi = b.shl_k(hi, 16);
            let value = b.or_(lo, hi);
            out.push(Stmt::SetLocal {
                dst: LocalRef { array: t, slot: j },
                value,
            });
        }
        Ok(t)
    }

    /// `ldmatrix` of 16-bit elements into input slots `dst ..` (see the module doc).
    pub(super) fn ldmatrix(
        &mut self,
        out: &mut Vec<Stmt>,
        src: SharedId,
        row: ExprId,
        num: u32,
        trans: bool,
        dst: LocalRef,
    ) -> R<()> {
        let a = self.src.shared.try_get(src).ok_or_else(|| {
            LowerError::InvalidProgram("ldmatrix of a dangling shared handle".into())
        })?;
        if a.dtype.bits() != 16 || !a.offset.is_multiple_of(16) {
            return Err(LowerError::InvalidProgram(format!(
                "ldmatrix of {} elements at byte {} (16-bit elements, 16-byte aligned rows)",
                a.dtype, a.offset
            )));
        }
        let smem = match self.mem(Space::Shared(src))?.space {
            Space::Shared(s) => s,
            Space::Global(_) => unreachable_space()?,
        };
        let r = self.expr(row)?;
        let b = &mut self.b;
        let u = b.cast(Ty::U32, r);
        let half = b.shr_k(u, 1);
        let w = b.add_k(half, a.offset / 4);
        let word = b.bits_as(Ty::I32, w);
        let t = self.temp("ldm", U32, num);
        out.push(Stmt::LdMatrix {
            src: smem,
            row: word,
            num,
            trans,
            dst: LocalRef { array: t, slot: 0 },
        });
        for i in 0..num {
            let v = self.b.read_local(t, i);
            let lo = self.b.and_k(v, 0xffff);
            let hi = self.b.shr_k(v, 16);
            self.write_code(
                out,
                LocalRef {
                    array: dst.array,
                    slot: dst.slot + 2 * i,
                },
                lo,
            )?;
            self.write_code(
                out,
                LocalRef {
                    array: dst.array,
                    slot: dst.slot + 2 * i + 1,
                },
                hi,
            )?;
        }
        Ok(())
    }
}

/// `dst` of every lane = `value` of lane `lane`: the carrier moves as a 32-bit word.
impl Legalizer<'_> {
    pub(super) fn shuffle(
        &mut self,
        out: &mut Vec<Stmt>,
        dst: LocalRef,
        value: ExprId,
        lane: ExprId,
    ) -> R<()> {
        let v = self.expr(value)?;
        let lane = self.expr(lane)?;
        let word = match self.b.kernel.ty(v) {
            Some(Ty::I32) => DType::Int {
                bits: 32,
                signed: true,
            },
            Some(Ty::U32) => U32,
            Some(Ty::F32) => DType::F32,
            other => {
                return Err(LowerError::InvalidProgram(format!(
                    "a shuffle of a {} value",
                    other.map_or("ill-typed", Ty::name)
                )))
            }
        };
        let t = self.temp("shfl", word, 1);
        out.push(Stmt::Shuffle {
            dst: LocalRef { array: t, slot: 0 },
            value: v,
            lane,
        });
        let got = self.b.read_local(t, 0);
        self.write_slot(out, dst, got)
    }
}

/// The error for shared memory that legalizes to a global buffer (never: shared memory
/// is `smem`).
fn unreachable_space() -> R<SharedId> {
    Err(LowerError::Internal(
        "shared memory legalized to a global buffer".into(),
    ))
}
