//! Index arithmetic: which tile element a (thread, slot) holds, where an element lives in
//! shared and global memory, which operand slot an elementwise input comes from, how many
//! consecutive elements one access may move, and the static shared-memory allocator.

use tilus_ir::expr::{BinaryOp as TB, Expr as TE, ExprId as TExprId};
use tilus_ir::layout::RegisterLayout;

use super::{GlobalInfo, Lower, SharedInfo, R};
use crate::error::LowerError;
use crate::thread_ir::{BinaryOp, ExprId};

/// The static shared-memory allocator: first fit in program order, 16-byte aligned.
#[derive(Debug, Default)]
pub(crate) struct SharedAllocator {
    /// Live allocations: (start, end, key).
    live: Vec<(u64, u64, u32)>,
    peak: u64,
}

/// Alignment of every shared allocation, in bytes.
const ALIGN: u64 = 16;

impl SharedAllocator {
    /// Reserves `bytes` bytes for allocation `key`; returns the offset and the new peak.
    pub(crate) fn alloc(&mut self, bytes: u64, key: u32) -> (u64, u64) {
        self.live.sort_unstable();
        let mut at = 0u64;
        for &(s, e, _) in &self.live {
            if at + bytes <= s {
                break;
            }
            at = at.max(e.div_ceil(ALIGN) * ALIGN);
        }
        self.live.push((at, at + bytes, key));
        self.peak = self.peak.max(at + bytes);
        (at, self.peak)
    }

    /// Releases allocation `key`.
    pub(crate) fn free(&mut self, key: u32) {
        self.live.retain(|&(_, _, k)| k != key);
    }

    /// The peak number of bytes in use.
    pub(crate) fn peak_bytes(&self) -> u64 {
        self.peak
    }
}

/// The weight (place value) of every mode in its dimension: Π of the sizes of the less
/// significant modes of the dimension, with the dimension of each mode.
fn mode_weights(mode_shape: &[usize], dim_modes: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let mut out = vec![(0usize, 1usize); mode_shape.len()];
    for (d, modes) in dim_modes.iter().enumerate() {
        let mut w = 1usize;
        for &m in modes.iter().rev() {
            if let Some(slot) = out.get_mut(m) {
                *slot = (d, w);
            }
            w = w.saturating_mul(mode_shape.get(m).copied().unwrap_or(1));
        }
    }
    out
}

/// The largest power of two (at most 2^12) known to divide the tile expression `e`.
pub(crate) fn pow2_divisor(f: &tilus_ir::program::Function, e: TExprId) -> u64 {
    const CAP: u32 = 12;
    fn tz(f: &tilus_ir::program::Function, e: TExprId, depth: u32) -> u32 {
        if depth > 64 {
            return 0;
        }
        match f.exprs.try_get(e) {
            Some(TE::Int(0)) => CAP,
            Some(TE::Int(c)) => c.trailing_zeros().min(CAP),
            Some(TE::Binary(TB::Mul, a, b)) => {
                (tz(f, *a, depth + 1) + tz(f, *b, depth + 1)).min(CAP)
            }
            Some(TE::Binary(TB::Add | TB::Sub, a, b)) => {
                tz(f, *a, depth + 1).min(tz(f, *b, depth + 1))
            }
            Some(TE::Binary(TB::Shl, a, b)) => match f.exprs.try_get(*b) {
                Some(TE::Int(s)) if (0..32).contains(s) => {
                    (tz(f, *a, depth + 1) + *s as u32).min(CAP)
                }
                _ => tz(f, *a, depth + 1),
            },
            Some(TE::Cast(_, a)) => tz(f, *a, depth + 1),
            // A parameter the kernel assumes divisible.
            Some(TE::Var(v)) => f
                .assumes
                .iter()
                .filter(|a| a.var == *v)
                .map(|a| a.divisor.trailing_zeros().min(CAP))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
    1u64 << tz(f, e, 0)
}

/// The number of consecutive slots that hold consecutive elements of the last dimension
/// (for every thread, starting at any slot that is a multiple of it).
pub(crate) fn register_run(l: &RegisterLayout) -> usize {
    let Some(&m) = l.local_modes().last() else {
        return 1;
    };
    let dims = l.dim_modes();
    match dims.last().and_then(|d| d.last()) {
        Some(&last) if last == m => l.mode_shape().get(m).copied().unwrap_or(1),
        _ => 1,
    }
}

/// The number of consecutive elements of the last dimension of a shared region that lie at
/// consecutive offsets, from any index of that dimension that is a multiple of it.
pub(crate) fn shared_run(s: &SharedInfo) -> usize {
    let l = &s.layout;
    let dims = l.dim_modes();
    let Some(&inner) = dims.last().and_then(|d| d.last()) else {
        return 1;
    };
    if l.mode_strides().get(inner) != Some(&1) {
        return 1;
    }
    let mut run = l.mode_shape().get(inner).copied().unwrap_or(1);
    for (m, &st) in l.mode_strides().iter().enumerate() {
        if m != inner {
            run = gcd(run, st);
        }
    }
    if let Some(sw) = l.swizzle() {
        if sw.bits > 0 {
            run = gcd(run, 1usize << sw.base.min(20));
        }
    }
    run
}

/// The number of consecutive global elements along the last tile dimension that are all
/// in or all out of bounds and contiguous, given the tile-level view.
pub(crate) fn global_run(
    f: &tilus_ir::program::Function,
    g: &GlobalInfo,
    offsets: &[TExprId],
    dims: &[usize],
) -> usize {
    let Some(view) = &g.tile_view else {
        return 1;
    };
    let rank = view.shape.len();
    if rank == 0 || dims.last() != Some(&(rank - 1)) {
        return 1;
    }
    let last = rank - 1;
    // A run of elements is all in or all out of bounds, and rows stay aligned, when the
    // extent (a constant or a runtime expression with a known power-of-two divisor) is a
    // multiple of it.
    let mut run = match f.exprs.try_get(view.shape[last]) {
        Some(TE::Int(c)) if *c <= 0 => return 1,
        _ => pow2_divisor(f, view.shape[last]),
    };
    if let Some(strides) = &view.strides {
        if !matches!(f.exprs.try_get(strides[last]), Some(TE::Int(1))) {
            return 1;
        }
        for &st in &strides[..last] {
            run = run.min(pow2_divisor(f, st));
        }
    }
    if let Some(&o) = offsets.get(last) {
        run = run.min(pow2_divisor(f, o));
    }
    run as usize
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The widest vector (power of two, at most 128 bits, whole bytes) that divides every run.
pub(crate) fn vector_width(runs: &[usize], bits: u32) -> u32 {
    let g = runs.iter().fold(0usize, |a, &r| gcd(a, r.max(1)));
    let mut w = 1u32;
    while (w * 2) as usize <= g && g.is_multiple_of((w * 2) as usize) && w * 2 * bits <= 128 {
        w *= 2;
    }
    while w > 1 && !(w * bits).is_multiple_of(8) {
        w /= 2;
    }
    w
}

impl Lower<'_> {
    /// The thread-dependent part of every tile coordinate of layout `l`: Σ over spatial
    /// modes of `((tid / stride) % size) · weight` (per dimension, `i32`).
    pub(crate) fn thread_part(&mut self, l: &RegisterLayout) -> Vec<ExprId> {
        let tid = self.b.thread_idx();
        self.thread_part_of(l, tid)
    }

    /// [`Lower::thread_part`] of the thread whose index is the `i32` expression `tid`.
    pub(crate) fn thread_part_of(&mut self, l: &RegisterLayout, tid: ExprId) -> Vec<ExprId> {
        let weights = mode_weights(l.mode_shape(), &l.dim_modes());
        let mut parts: Vec<ExprId> = (0..l.rank()).map(|_| self.b.i32(0)).collect();
        let sizes = l.spatial_sizes();
        let mut stride = 1usize;
        let mut digits = Vec::new();
        for (j, &e) in l.spatial_modes().iter().enumerate().rev() {
            let size = sizes[j];
            if e >= 0 {
                let m = e as usize;
                let st = self.b.i32(stride as i32);
                let q = self.b.div(tid, st);
                let digit = if j == 0 {
                    q
                } else {
                    let sz = self.b.i32(size as i32);
                    self.b.rem(q, sz)
                };
                digits.push((m, digit));
            }
            stride = stride.saturating_mul(size);
        }
        for (m, digit) in digits.into_iter().rev() {
            let (d, w) = weights[m];
            let wc = self.b.i32(w as i32);
            let term = self.b.mul(digit, wc);
            parts[d] = self.b.add(parts[d], term);
        }
        parts
    }

    /// The tile index held in `slot` of layout `l`, given its [`Lower::thread_part`].
    pub(crate) fn tile_index(
        &mut self,
        l: &RegisterLayout,
        thread_part: &[ExprId],
        slot: usize,
    ) -> R<Vec<ExprId>> {
        // Thread 0 has every spatial digit 0, so its index is the slot's contribution.
        let c = l
            .index_of(0, slot)
            .map_err(|e| LowerError::InvalidProgram(format!("{}: {e}", self.here())))?;
        Ok(thread_part
            .iter()
            .zip(c)
            .map(|(&p, c)| {
                let c = self.b.i32(c as i32);
                self.b.add(p, c)
            })
            .collect())
    }

    /// `true` for the lowest thread holding each element (replication digits all 0), or
    /// `None` when the layout is not replicated.
    pub(crate) fn first_holder(&mut self, l: &RegisterLayout) -> Option<ExprId> {
        if !l.is_replicated() {
            return None;
        }
        let sizes = l.spatial_sizes();
        let tid = self.b.thread_idx();
        let zero = self.b.i32(0);
        let mut stride = 1usize;
        let mut pred: Option<ExprId> = None;
        for (j, &e) in l.spatial_modes().iter().enumerate().rev() {
            let size = sizes[j];
            if e < 0 {
                let st = self.b.i32(stride as i32);
                let q = self.b.div(tid, st);
                let sz = self.b.i32(size as i32);
                let digit = self.b.rem(q, sz);
                let c = self.b.eq(digit, zero);
                pred = Some(match pred {
                    Some(p) => self.b.and(p, c),
                    None => c,
                });
            }
            stride = stride.saturating_mul(size);
        }
        pred
    }

    /// For every slot of `out`, the slot of `operand` (broadcast to `out`'s shape) holding
    /// the same element in the same thread.
    pub(crate) fn operand_slots(
        &self,
        out: &RegisterLayout,
        operand: &RegisterLayout,
        what: &str,
    ) -> R<Vec<u32>> {
        let n = out.local_size();
        if out == operand {
            return Ok((0..n as u32).collect());
        }
        let so = out.shape();
        let si = operand.shape();
        if si.len() > so.len() {
            return self.invalid(format!("{what} has a higher rank than the result"));
        }
        let lead = so.len() - si.len();
        let mismatch = |reason: String| LowerError::LayoutMismatch {
            inst: self.here(),
            reason,
        };
        let mut slots = Vec::with_capacity(n);
        for s in 0..n {
            let mut found: Option<usize> = None;
            for t in 0..out.num_threads() {
                let idx = out
                    .index_of(t, s)
                    .map_err(|e| LowerError::InvalidProgram(e.to_string()))?;
                let mapped: Vec<usize> = (0..si.len())
                    .map(|d| if si[d] == 1 { 0 } else { idx[d + lead] })
                    .collect();
                if !operand.holds(t, &mapped) {
                    return Err(mismatch(format!(
                        "thread {t} needs element {mapped:?} of {what} for result element \
                         {idx:?}, but {what}'s layout does not give it to that thread"
                    )));
                }
                let sl = operand
                    .slot_of(&mapped)
                    .map_err(|e| LowerError::InvalidProgram(e.to_string()))?;
                match found {
                    Some(f) if f != sl => {
                        return Err(mismatch(format!(
                            "{what}'s element for result slot {s} is in slot {f} of some \
                             threads and slot {sl} of others (layouts must agree)"
                        )))
                    }
                    _ => found = Some(sl),
                }
            }
            let Some(found) = found else {
                return self.invalid(format!("the result of {what} is laid out over no thread"));
            };
            slots.push(found as u32);
        }
        Ok(slots)
    }

    /// The element index (in its allocation) of tile index `idx` of a shared region.
    pub(crate) fn shared_index(&mut self, s: &SharedInfo, idx: &[ExprId]) -> ExprId {
        let l = &s.layout;
        let full: Vec<ExprId> = s.prefix.iter().chain(idx).copied().collect();
        let dims = l.dim_modes();
        let sizes = l.mode_shape().to_vec();
        let strides = l.mode_strides().to_vec();
        let mut off = self.b.i32(0);
        for (d, modes) in dims.iter().enumerate() {
            let Some(&x) = full.get(d) else { continue };
            let mut w = 1usize;
            let mut terms = Vec::new();
            for (p, &m) in modes.iter().enumerate().rev() {
                let wc = self.b.i32(w as i32);
                let q = self.b.div(x, wc);
                let digit = if p == 0 {
                    q
                } else {
                    let sz = self.b.i32(sizes[m] as i32);
                    self.b.rem(q, sz)
                };
                let st = self.b.i32(strides[m] as i32);
                terms.push(self.b.mul(digit, st));
                w = w.saturating_mul(sizes[m]);
            }
            for t in terms.into_iter().rev() {
                off = self.b.add(off, t);
            }
        }
        match l.swizzle() {
            Some(sw) if sw.bits > 0 => {
                let mask = (((1u64 << sw.bits) - 1) << (sw.base + sw.shift)) as i32;
                let mc = self.b.i32(mask);
                let sh = self.b.i32(sw.shift as i32);
                let hi = self.b.binary(BinaryOp::And, off, mc);
                let moved = self.b.binary(BinaryOp::Shr, hi, sh);
                self.b.binary(BinaryOp::Xor, off, moved)
            }
            _ => off,
        }
    }

    /// The element index and in-bounds mask of a tile element of a global view: `offsets`
    /// are the lowered start indices (one per global dimension), `dims` the global dimension
    /// of each tile dimension, `idx` the tile index.
    pub(crate) fn global_access(
        &mut self,
        g: &GlobalInfo,
        offsets: &[ExprId],
        dims: &[usize],
        idx: &[ExprId],
    ) -> (ExprId, ExprId) {
        let mut index = g.base;
        let mut mask = self.b.bool(true);
        let zero = self.b.i32(0);
        for (d, (&off, (&extent, &stride))) in offsets
            .iter()
            .zip(g.shape.iter().zip(&g.strides))
            .enumerate()
        {
            let pos = match dims.iter().position(|&x| x == d) {
                Some(k) => self.b.add(off, idx[k]),
                None => off,
            };
            let term = self.b.mul(pos, stride);
            index = self.b.add(index, term);
            let lo = self.b.le(zero, pos);
            let hi = self.b.lt(pos, extent);
            mask = self.b.and(mask, lo);
            mask = self.b.and(mask, hi);
        }
        (index, mask)
    }
}
