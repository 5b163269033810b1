//! Global and shared memory as 32-bit words: loads, stores, `cp.async` and atomics.
//!
//! An access of `w` elements of `n` bits at element index `i` covers the bits
//! `[base + i·n, base + (i+w)·n)` of the word stream. Three shapes (module documentation
//! of [`super`]): *aligned* (the first bit is provably a multiple of 32: whole words at
//! constant bit offsets), a *window* of at most 32 bits at a computed offset (one word, or
//! two when it may cross a boundary), and *per element* (a window per element). Stores
//! that do not provably cover whole words use `atomicAnd`/`atomicOr`.

use tilus_ir::dtype::DType;

use super::locals::extract_const;
use super::ops::{low_mask, Ops};
use super::{Legalizer, R, U32};
use crate::error::LowerError;
use crate::thread_ir::{
    AtomicOp, BinaryOp, Const, ExprId, KernelBuilder, LocalId, LocalRef, MemRef, Space, Stmt, Ty,
    UnaryOp,
};

/// Where the elements of an input memory space live in the output.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mem {
    /// The output space (a word buffer or `smem`).
    pub(super) space: Space,
    /// Its word type: `u32`, or `i32`/`f32` for buffers of those element types.
    word: DType,
    /// Bit offset of element 0 in the word stream.
    base: u64,
    /// Bits per element.
    n: u32,
}

fn word_ty(word: DType) -> Ty {
    match word {
        DType::F32 => Ty::F32,
        DType::Int { signed: true, .. } => Ty::I32,
        _ => Ty::U32,
    }
}

fn not_(b: &mut KernelBuilder, x: ExprId) -> ExprId {
    match b.konst_of(x) {
        Some(Const::U32(v)) => b.u32(!v),
        _ => b.unary(UnaryOp::Not, x),
    }
}

/// Appends `body`, guarded by `mask` when there is one.
fn guarded(out: &mut Vec<Stmt>, mask: Option<ExprId>, body: Vec<Stmt>) {
    match mask {
        Some(cond) if !body.is_empty() => out.push(Stmt::If {
            cond,
            then_body: body,
            else_body: Vec::new(),
        }),
        _ => out.extend(body),
    }
}

impl Legalizer<'_> {
    pub(super) fn mem(&self, space: Space) -> R<Mem> {
        let dangling = || LowerError::InvalidProgram(format!("memory space {space:?} dangles"));
        match space {
            Space::Global(b) => {
                let dtype = self.src.buffers.try_get(b).ok_or_else(dangling)?.dtype;
                let new = self.buffers.get(b.index()).copied().ok_or_else(dangling)?;
                Ok(Mem {
                    space: Space::Global(new),
                    word: super::word_dtype(dtype),
                    base: 0,
                    n: dtype.bits(),
                })
            }
            Space::Shared(s) => {
                let a = self.src.shared.try_get(s).ok_or_else(dangling)?;
                let smem = self.smem.ok_or_else(dangling)?;
                Ok(Mem {
                    space: Space::Shared(smem),
                    word: U32,
                    base: u64::from(a.offset) * 8,
                    n: a.dtype.bits(),
                })
            }
        }
    }

    /// Word index (`i32`) and bit offset in the word (`u32`, below 32) of element
    /// `index + j` (`index` already legal).
    fn locate(&mut self, m: &Mem, index: ExprId, j: u32) -> (ExprId, ExprId) {
        let b = &mut self.b;
        let jj = b.i32(j as i32);
        let i = b.add(index, jj);
        let u = b.cast(Ty::U32, i);
        let word_base = (m.base / 32) as u32;
        let (word, off) = if m.n.is_power_of_two() && m.base.is_multiple_of(32) {
            let per = 32 / m.n;
            let w = b.shr_k(u, per.trailing_zeros());
            let r = b.and_k(u, per - 1);
            (b.add_k(w, word_base), b.shl_k(r, m.n.trailing_zeros()))
        } else {
            // u = 32q + r, so u·n = 32·q·n + r·n without overflow.
            let q = b.shr_k(u, 5);
            let r = b.and_k(u, 31);
            let n = b.u32(m.n);
            let rn = b.op(BinaryOp::Mul, r, n);
            let t = b.add_k(rn, (m.base % 32) as u32);
            let qn = b.op(BinaryOp::Mul, q, n);
            let w = b.add_k(qn, word_base);
            let carry = b.shr_k(t, 5);
            (b.op(BinaryOp::Add, w, carry), b.and_k(t, 31))
        };
        (b.bits_as(Ty::I32, word), off)
    }

    /// The word index of element `index` when its first bit is provably word-aligned.
    fn aligned_word(&mut self, m: &Mem, index_src: ExprId, index: ExprId) -> Option<ExprId> {
        if !m.base.is_multiple_of(32) {
            return None;
        }
        let s = m.n.trailing_zeros();
        let t = self.facts.align_log2(index_src);
        if t + s < 5 {
            return None;
        }
        let b = &mut self.b;
        let u = b.cast(Ty::U32, index);
        let q = b.shr_k(u, 5u32.saturating_sub(s));
        let odd = b.u32(m.n >> s);
        let w = b.op(BinaryOp::Mul, q, odd);
        let w = b.add_k(w, (m.base / 32) as u32);
        Some(b.bits_as(Ty::I32, w))
    }

    /// `log2` of the provable alignment (in bits, at most a word) of element `index`.
    fn bit_align(&mut self, m: &Mem, index_src: ExprId) -> u32 {
        let t = self.facts.align_log2(index_src) + m.n.trailing_zeros();
        let base = if m.base == 0 {
            5
        } else {
            m.base.trailing_zeros()
        };
        t.min(5).min(base)
    }

    /// [`Self::locate`], with the word index and the offset assigned to fresh variables
    /// (they are used by several statements).
    fn locate_vars(
        &mut self,
        out: &mut Vec<Stmt>,
        m: &Mem,
        index: ExprId,
        j: u32,
    ) -> (ExprId, ExprId) {
        let (word, off) = self.locate(m, index, j);
        (self.assign(out, "wi", word), self.assign(out, "sh", off))
    }

    /// `var = value` for a fresh variable; returns the variable's value.
    fn assign(&mut self, out: &mut Vec<Stmt>, name: &'static str, value: ExprId) -> ExprId {
        if self.b.konst_of(value).is_some() {
            return value;
        }
        let ty = self.b.ty(value);
        let var = self.temp_var(name, ty);
        out.push(Stmt::Assign { var, value });
        self.b.read_var(var)
    }

    /// Reads `w` elements; returns their codes (`u32`, zero where the mask is false).
    fn load_codes(
        &mut self,
        out: &mut Vec<Stmt>,
        m: &Mem,
        index_src: ExprId,
        w: u32,
        mask: Option<ExprId>,
    ) -> R<Vec<ExprId>> {
        let index = self.expr(index_src)?;
        let (n, total) = (m.n, w * m.n);
        if let Some(w0) = self.aligned_word(m, index_src, index) {
            let k = total.div_ceil(32);
            let t = self.temp("ld", m.word, k);
            out.push(load_stmt(t, 0, m.space, w0, k, mask));
            let words: Vec<ExprId> = (0..k)
                .map(|i| {
                    let v = self.b.read_local(t, i);
                    self.b.bits_as(Ty::U32, v)
                })
                .collect();
            return Ok((0..w)
                .map(|j| extract_const(&mut self.b, &words, j * n, n))
                .collect());
        }
        if total <= 32 {
            // A window of at most 32 bits at a computed offset: one word, or two when it
            // may cross a word boundary (the second read masked off when it does not).
            let crossing = total > 1 << self.bit_align(m, index_src);
            let (word, off) = self.locate_vars(out, m, index, 0);
            let t = self.temp("ld", m.word, if crossing { 2 } else { 1 });
            out.push(load_stmt(t, 0, m.space, word, 1, mask));
            let lo = self.b.read_local(t, 0);
            let lo = self.b.bits_as(Ty::U32, lo);
            let mut window = self.b.op(BinaryOp::Shr, lo, off);
            if crossing {
                let (hi, hi_mask) = self.upper_part(word, off, total, mask);
                out.push(load_stmt(t, 1, m.space, hi, 1, Some(hi_mask)));
                let b = &mut self.b;
                let v = b.read_local(t, 1);
                let v = b.bits_as(Ty::U32, v);
                let v = b.shl_k(v, 1);
                let k31 = b.u32(31);
                let back = b.op(BinaryOp::Sub, k31, off);
                let v = b.op(BinaryOp::Shl, v, back);
                window = b.or_(window, v);
            }
            let window = self.assign(out, "win", window);
            return Ok((0..w)
                .map(|j| extract_const(&mut self.b, &[window], j * n, n))
                .collect());
        }
        // Element by element.
        let straddles = !32u32.is_multiple_of(n);
        let per = if straddles { 2 } else { 1 };
        let t = self.temp("ld", m.word, per * w);
        let mut codes = Vec::with_capacity(w as usize);
        for j in 0..w {
            let (word, off) = self.locate_vars(out, m, index, j);
            out.push(load_stmt(t, per * j, m.space, word, 1, mask));
            let b = &mut self.b;
            let lo = b.read_local(t, per * j);
            let lo = b.bits_as(Ty::U32, lo);
            let mut v = b.op(BinaryOp::Shr, lo, off);
            if straddles {
                let (hi, hi_mask) = self.upper_part(word, off, n, mask);
                out.push(load_stmt(t, per * j + 1, m.space, hi, 1, Some(hi_mask)));
                let b = &mut self.b;
                let x = b.read_local(t, per * j + 1);
                let x = b.bits_as(Ty::U32, x);
                let x = b.shl_k(x, 1);
                let k31 = b.u32(31);
                let back = b.op(BinaryOp::Sub, k31, off);
                let x = b.op(BinaryOp::Shl, x, back);
                v = b.or_(v, x);
            }
            codes.push(self.b.and_k(v, low_mask(n)));
        }
        Ok(codes)
    }

    /// The next word and the condition for `bits` bits at offset `off` to reach into it
    /// (and the access mask).
    fn upper_part(
        &mut self,
        word: ExprId,
        off: ExprId,
        bits: u32,
        mask: Option<ExprId>,
    ) -> (ExprId, ExprId) {
        let b = &mut self.b;
        let limit = b.u32(32 - bits);
        let crosses = b.op(BinaryOp::Gt, off, limit);
        let cond = match mask {
            Some(c) => b.and_(c, crosses),
            None => crosses,
        };
        let one = b.i32(1);
        (b.add(word, one), cond)
    }

    /// Writes codes (`u32`, at most `n` bits each) to consecutive elements.
    fn store_codes(
        &mut self,
        out: &mut Vec<Stmt>,
        m: &Mem,
        index_src: ExprId,
        codes: &[ExprId],
        mask: Option<ExprId>,
    ) -> R<()> {
        let index = self.expr(index_src)?;
        let w = codes.len() as u32;
        let (n, total) = (m.n, w * m.n);
        let mut body = Vec::new();
        if let Some(w0) = self.aligned_word(m, index_src, index) {
            let full = total / 32;
            if full > 0 {
                let t = self.temp("st", m.word, full);
                for k in 0..full {
                    let v = assemble_word(&mut self.b, codes, n, k);
                    let value = self.b.bits_as(word_ty(m.word), v);
                    body.push(Stmt::SetLocal {
                        dst: LocalRef { array: t, slot: k },
                        value,
                    });
                }
                body.push(store_stmt(m.space, w0, t, 0, full, None));
            }
            if !total.is_multiple_of(32) {
                let v = assemble_word(&mut self.b, codes, n, full);
                let bits = self.b.u32(low_mask(total % 32));
                let k = self.b.i32(full as i32);
                let word = self.b.add(w0, k);
                atomic_update(&mut self.b, &mut body, m.space, word, bits, v);
            }
        } else if total <= 32 {
            let crossing = total > 1 << self.bit_align(m, index_src);
            let (word, off) = self.locate_vars(&mut body, m, index, 0);
            let v = assemble_word(&mut self.b, codes, n, 0);
            let v = self.assign(&mut body, "val", v);
            self.window_update(&mut body, m, word, off, total, v, crossing);
        } else {
            for (j, &c) in codes.iter().enumerate() {
                let (word, off) = self.locate_vars(&mut body, m, index, j as u32);
                self.window_update(&mut body, m, word, off, n, c, !32u32.is_multiple_of(n));
            }
        }
        guarded(out, mask, body);
        Ok(())
    }

    /// Stores the low `bits` bits of `v` at bit `off` of word `word` (and of the next word
    /// when they may reach into it) with atomics.
    #[allow(clippy::too_many_arguments)]
    fn window_update(
        &mut self,
        body: &mut Vec<Stmt>,
        m: &Mem,
        word: ExprId,
        off: ExprId,
        bits: u32,
        v: ExprId,
        crossing: bool,
    ) {
        let b = &mut self.b;
        let ones = b.u32(low_mask(bits));
        let lo_bits = b.op(BinaryOp::Shl, ones, off);
        let lo_v = b.op(BinaryOp::Shl, v, off);
        atomic_update(b, body, m.space, word, lo_bits, lo_v);
        if crossing {
            let (hi, crosses) = self.upper_part(word, off, bits, None);
            let b = &mut self.b;
            let k31 = b.u32(31);
            let back = b.op(BinaryOp::Sub, k31, off);
            let ones_hi = b.shr_k(ones, 1);
            let hi_bits = b.op(BinaryOp::Shr, ones_hi, back);
            let v_hi = b.shr_k(v, 1);
            let v_hi = b.op(BinaryOp::Shr, v_hi, back);
            let mut then_body = Vec::new();
            atomic_update(b, &mut then_body, m.space, hi, hi_bits, v_hi);
            body.push(Stmt::If {
                cond: crosses,
                then_body,
                else_body: Vec::new(),
            });
        }
    }

    /// `Load`: direct word moves when the memory and the array agree word for word.
    pub(super) fn load(
        &mut self,
        out: &mut Vec<Stmt>,
        dst: LocalRef,
        src: MemRef,
        w: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let m = self.mem(src.space)?;
        let mask = mask.map(|c| self.expr(c)).transpose()?;
        if let Some((array, slot, words)) = self.direct(&m, dst, w)? {
            let index = self.expr(src.index)?;
            if let Some(w0) = self.aligned_word(&m, src.index, index) {
                out.push(load_stmt(array, slot, m.space, w0, words, mask));
                return Ok(());
            }
        }
        let codes = self.load_codes(out, &m, src.index, w, mask)?;
        for (j, code) in codes.into_iter().enumerate() {
            let r = LocalRef {
                array: dst.array,
                slot: dst.slot + j as u32,
            };
            self.write_code(out, r, code)?;
        }
        Ok(())
    }

    /// `Store`: direct word moves when the memory and the array agree word for word.
    pub(super) fn store(
        &mut self,
        out: &mut Vec<Stmt>,
        dst: MemRef,
        src: LocalRef,
        w: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let m = self.mem(dst.space)?;
        let mask = mask.map(|c| self.expr(c)).transpose()?;
        if let Some((array, slot, words)) = self.direct(&m, src, w)? {
            let index = self.expr(dst.index)?;
            if let Some(w0) = self.aligned_word(&m, dst.index, index) {
                out.push(store_stmt(m.space, w0, array, slot, words, mask));
                return Ok(());
            }
        }
        let codes = (0..w)
            .map(|j| self.read_code(src.array, src.slot + j))
            .collect::<R<Vec<_>>>()?;
        self.store_codes(out, &m, dst.index, &codes, mask)
    }

    /// The output (array, first slot, words) when `w` elements at `r` are stored exactly
    /// like whole words of the memory.
    fn direct(&mut self, m: &Mem, r: LocalRef, w: u32) -> R<Option<(LocalId, u32, u32)>> {
        let total = w * m.n;
        if !total.is_multiple_of(32) {
            return Ok(None);
        }
        if m.n == 32 {
            if let Some(array) = self.unpacked_words(r, m.word)? {
                return Ok(Some((array, r.slot, w)));
            }
        }
        if m.word == U32 {
            if let Some((array, k)) = self.packed_words(r)? {
                return Ok(Some((array, k, total / 32)));
            }
        }
        Ok(None)
    }

    /// `cp.async` as a synchronous copy (zeros where the mask is false).
    pub(super) fn copy(
        &mut self,
        out: &mut Vec<Stmt>,
        dst: MemRef,
        src: MemRef,
        w: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let (ms, md) = (self.mem(src.space)?, self.mem(dst.space)?);
        let mask = mask.map(|c| self.expr(c)).transpose()?;
        let (is, id) = (self.expr(src.index)?, self.expr(dst.index)?);
        let total = w * ms.n;
        if total.is_multiple_of(32) {
            if let (Some(ws), Some(wd)) = (
                self.aligned_word(&ms, src.index, is),
                self.aligned_word(&md, dst.index, id),
            ) {
                let k = total / 32;
                if self.profile.async_copy
                    && matches!(ms.space, Space::Global(_))
                    && matches!(md.space, Space::Shared(_))
                {
                    // A word-legal cp.async: `k` words (the emitter splits it into 16-, 8-
                    // and 4-byte copies by the alignment it proves).
                    out.push(Stmt::CopyAsync {
                        dst: MemRef {
                            space: md.space,
                            index: wd,
                        },
                        src: MemRef {
                            space: ms.space,
                            index: ws,
                        },
                        width: k,
                        mask,
                    });
                    return Ok(());
                }
                let t = self.temp("cp", ms.word, k);
                out.push(load_stmt(t, 0, ms.space, ws, k, mask));
                let t = if ms.word == md.word {
                    t
                } else {
                    // Same bits, other word type (an f32 buffer into `smem`).
                    let u = self.temp("cpw", md.word, k);
                    for j in 0..k {
                        let v = self.b.read_local(t, j);
                        let value = self.b.bits_as(word_ty(md.word), v);
                        out.push(Stmt::SetLocal {
                            dst: LocalRef { array: u, slot: j },
                            value,
                        });
                    }
                    u
                };
                out.push(store_stmt(md.space, wd, t, 0, k, None));
                return Ok(());
            }
        }
        let codes = self.load_codes(out, &ms, src.index, w, mask)?;
        self.store_codes(out, &md, dst.index, &codes, None)
    }

    /// An input atomic (on 32-bit elements): the element is the word.
    pub(super) fn atomic(
        &mut self,
        out: &mut Vec<Stmt>,
        op: AtomicOp,
        dst: MemRef,
        value: ExprId,
    ) -> R<()> {
        let dst = self.word_ref(dst, "an atomic")?;
        let value = self.expr(value)?;
        out.push(Stmt::Atomic { op, dst, value });
        Ok(())
    }

    /// The output word of a 32-bit element (atomics, semaphores).
    pub(super) fn word_ref(&mut self, r: MemRef, what: &str) -> R<MemRef> {
        let m = self.mem(r.space)?;
        if m.n != 32 || !m.base.is_multiple_of(32) {
            return Err(LowerError::InvalidProgram(format!(
                "{what} on elements that are not 32-bit words"
            )));
        }
        let index = self.expr(r.index)?;
        let k = self.b.i32((m.base / 32) as i32);
        let index = self.b.add(index, k);
        Ok(MemRef {
            space: m.space,
            index,
        })
    }
}

fn load_stmt(
    array: LocalId,
    slot: u32,
    space: Space,
    index: ExprId,
    width: u32,
    mask: Option<ExprId>,
) -> Stmt {
    Stmt::Load {
        dst: LocalRef { array, slot },
        src: MemRef { space, index },
        width,
        mask,
    }
}

fn store_stmt(
    space: Space,
    index: ExprId,
    array: LocalId,
    slot: u32,
    width: u32,
    mask: Option<ExprId>,
) -> Stmt {
    Stmt::Store {
        dst: MemRef { space, index },
        src: LocalRef { array, slot },
        width,
        mask,
    }
}

/// Word `k` of the bit stream of `codes` (`n` bits each, from bit 0).
fn assemble_word(b: &mut KernelBuilder, codes: &[ExprId], n: u32, k: u32) -> ExprId {
    let mut v = b.u32(0);
    for (j, &c) in codes.iter().enumerate() {
        let (lo, hi) = (j as u32 * n, (j as u32 + 1) * n);
        if hi <= 32 * k || lo >= 32 * (k + 1) {
            continue;
        }
        let piece = if lo >= 32 * k {
            b.shl_k(c, lo - 32 * k)
        } else {
            b.shr_k(c, 32 * k - lo)
        };
        v = b.or_(v, piece);
    }
    v
}

/// Replaces the bits `bits` of a `u32` word by `value` (which has no other bits set) with
/// two atomics, so that other threads' bits of the word are never overwritten.
fn atomic_update(
    b: &mut KernelBuilder,
    out: &mut Vec<Stmt>,
    space: Space,
    word: ExprId,
    bits: ExprId,
    value: ExprId,
) {
    let keep = not_(b, bits);
    let dst = MemRef { space, index: word };
    out.push(Stmt::Atomic {
        op: AtomicOp::And,
        dst,
        value: keep,
    });
    out.push(Stmt::Atomic {
        op: AtomicOp::Or,
        dst,
        value,
    });
}
