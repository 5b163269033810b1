//! Loads, stores, reductions, parameters and `cp.async`.

use std::collections::VecDeque;

use super::{val, val32, Env, Thread};
use crate::ir::{Addr, MemOp, RedOp, Space};
use crate::{Memory, SHARED_BASE};

/// The opaque value `createpolicy` writes (policies only hint; they change no value).
const POLICY: u64 = 0x1000_0000_0000_0000;

/// One `cp.async` whose shared-memory write is outstanding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingCopy {
    /// Offset into the shared array.
    dst: usize,
    len: u8,
    bytes: [u8; 16],
}

/// A thread's outstanding `cp.async` copies.
#[derive(Debug, Clone, Default)]
pub(crate) struct CpQueue {
    /// Issued since the last `commit_group`.
    open: Vec<PendingCopy>,
    /// Committed groups, oldest first.
    groups: VecDeque<Vec<PendingCopy>>,
}

fn apply(copies: &[PendingCopy], shared: &mut [u8]) {
    for c in copies {
        let len = c.len as usize;
        if let Some(dst) = shared.get_mut(c.dst..c.dst + len) {
            dst.copy_from_slice(&c.bytes[..len]);
        }
    }
}

impl CpQueue {
    /// Forgets everything (a new block).
    pub(crate) fn clear(&mut self) {
        self.open.clear();
        self.groups.clear();
    }

    /// Completes all committed groups but the newest `keep`, and with `all` the uncommitted
    /// copies too.
    pub(crate) fn wait(&mut self, keep: usize, all: bool, shared: &mut [u8]) {
        let keep = if all { 0 } else { keep };
        while self.groups.len() > keep {
            if let Some(g) = self.groups.pop_front() {
                apply(&g, shared);
            }
        }
        if all {
            apply(&self.open, shared);
            self.open.clear();
        }
    }
}

/// The effective address of `addr` for thread registers `r`.
pub(crate) fn effective(r: &[u64], addr: Addr, space: Space) -> u64 {
    match space {
        Space::Global => r[addr.base as usize].wrapping_add(addr.offset as u64),
        // Shared addresses are 32-bit; an offset that leaves 0..2^32 stays out of range.
        Space::Shared => (r[addr.base as usize] as u32 as u64).wrapping_add(addr.offset as u64),
    }
}

/// Checks that `a` is aligned to `align`.
fn aligned(a: u64, align: usize, what: &str) -> Result<(), String> {
    if a.is_multiple_of(align as u64) {
        Ok(())
    } else {
        Err(format!(
            "{what} address {a:#x} is not aligned to {align} bytes"
        ))
    }
}

/// The bytes of the dynamic shared array at shared-window address `a`.
pub(crate) fn shared_range(shared: &mut [u8], a: u64, len: usize) -> Result<&mut [u8], String> {
    aligned(a, len, "shared")?;
    let size = shared.len();
    let start = a.wrapping_sub(SHARED_BASE as u64);
    let oob = || {
        format!(
            "shared address {a:#x} (+{len} bytes) is outside the dynamic shared array \
             {SHARED_BASE:#x}..{:#x} ({size} bytes)",
            SHARED_BASE as u64 + size as u64
        )
    };
    if a < SHARED_BASE as u64 || start.saturating_add(len as u64) > size as u64 {
        return Err(oob());
    }
    shared
        .get_mut(start as usize..start as usize + len)
        .ok_or_else(oob)
}

impl Env<'_> {
    /// The global bytes at `a`, checked for alignment to `align` and bounds.
    fn global_range(&mut self, a: u64, len: usize, align: usize) -> Result<&mut [u8], String> {
        aligned(a, align, "global")?;
        // The buffer `a` points into or just past, for the message.
        let located = (0..self.global.buffers.len()).find_map(|i| {
            let off = a.checked_sub(Memory::base(i))?;
            let size = self.global.buffers[i].len();
            (off <= size as u64).then_some((i, off, size))
        });
        let nbuf = self.global.buffers.len();
        match self.global.range_mut(a, len) {
            Some(s) => Ok(s),
            None => Err(match located {
                Some((i, off, size)) => format!(
                    "global access of {len} bytes at {a:#x} (buffer {i}, offset {off}) runs past \
                     the end of buffer {i} ({size} bytes)"
                ),
                None => format!(
                    "global address {a:#x} (+{len} bytes) is outside every buffer ({nbuf} buffers)"
                ),
            }),
        }
    }

    /// The bytes at `a` in `space`, naturally aligned to `len`.
    fn range(&mut self, space: Space, a: u64, len: usize) -> Result<&mut [u8], String> {
        match space {
            Space::Global => self.global_range(a, len, len),
            Space::Shared => shared_range(self.shared, a, len),
        }
    }
}

fn word(bytes: &[u8], k: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[4 * k..4 * k + 4]);
    u32::from_le_bytes(w)
}

/// Executes `op` for thread `th`.
pub(crate) fn exec(op: &MemOp, th: &mut Thread, env: &mut Env) -> Result<(), String> {
    let r = &mut th.regs;
    match *op {
        MemOp::LdParam { d, index } => {
            r[d as usize] = env
                .params
                .get(index as usize)
                .copied()
                .ok_or("parameter index out of range")?;
        }
        MemOp::Ld { space, n, d, addr } => {
            let n = n as usize;
            let bytes = env.range(space, effective(r, addr, space), 4 * n)?;
            for (k, &dk) in d.iter().enumerate().take(n) {
                r[dk as usize] = word(bytes, k) as u64;
            }
        }
        MemOp::St {
            space,
            n,
            src,
            addr,
        } => {
            let n = n as usize;
            let mut words = [0u32; 4];
            for (w, &s) in words.iter_mut().zip(&src).take(n) {
                *w = val32(r, s);
            }
            let bytes = env.range(space, effective(r, addr, space), 4 * n)?;
            for (k, w) in words.iter().enumerate().take(n) {
                bytes[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        MemOp::Red {
            space,
            op,
            addr,
            src,
        } => {
            let v = val32(r, src);
            let bytes = env.range(space, effective(r, addr, space), 4)?;
            let old = word(bytes, 0);
            let new = match op {
                RedOp::And => old & v,
                RedOp::Or => old | v,
            };
            bytes.copy_from_slice(&new.to_le_bytes());
        }
        MemOp::CpAsync {
            dst,
            src,
            size,
            src_size,
        } => {
            let len = size as usize;
            let src_len = val(r, src_size);
            if src_len > size as u64 {
                return Err(format!("src-size {src_len} is larger than cp-size {size}"));
            }
            let d = effective(r, dst, Space::Shared);
            shared_range(env.shared, d, len)?;
            let mut bytes = [0u8; 16];
            if src_len > 0 {
                let s = effective(r, src, Space::Global);
                let g = env.global_range(s, src_len as usize, len)?;
                bytes[..src_len as usize].copy_from_slice(g);
            }
            th.cp.open.push(PendingCopy {
                dst: (d - SHARED_BASE as u64) as usize,
                len: size,
                bytes,
            });
        }
        MemOp::CpCommit => {
            let group = std::mem::take(&mut th.cp.open);
            th.cp.groups.push_back(group);
        }
        MemOp::CpWaitGroup(n) => th.cp.wait(n as usize, false, env.shared),
        MemOp::CpWaitAll => th.cp.wait(0, true, env.shared),
        MemOp::CreatePolicy { d } => r[d as usize] = POLICY,
        MemOp::SmemAddr { d } => r[d as usize] = SHARED_BASE as u64,
    }
    Ok(())
}
