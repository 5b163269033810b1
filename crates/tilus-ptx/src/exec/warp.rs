//! Warp collectives: `mma.sync.m16n8k16`, `ldmatrix`, `shfl.sync.bfly`/`idx`. They run once all
//! lanes of a warp wait at them (see [`super::control`]).

use super::float::canon;
use super::memory::{effective, shared_range};
use super::{val32, Env, State, Thread};
use crate::ir::{Addr, Reg, Space, Src};

/// Where each lane's registers sit in the matrices of the warp collectives, as tables.
///
/// With `g = lane / 4` and `t = lane % 4` (PTX ISA, "Matrix Fragments for mma.m16n8k16
/// with floating point type"): element `i` of a lane's A fragment is half `i % 2` (low half
/// first) of register `i / 2`; element `i` of B likewise; element `i` of C/D is register
/// `i`. The functions take `lane` modulo 32 and `i` modulo the fragment size, so they never
/// panic.
pub mod fragments {
    /// (row, column) offsets of A element `i` from `(g, 2t)`.
    const A: [(usize, usize); 8] = [
        (0, 0),
        (0, 1),
        (8, 0),
        (8, 1),
        (0, 8),
        (0, 9),
        (8, 8),
        (8, 9),
    ];
    /// (row, column) offsets of B element `i` from `(2t, g)`.
    const B: [(usize, usize); 4] = [(0, 0), (1, 0), (8, 0), (9, 0)];
    /// (row, column) offsets of C/D element `i` from `(g, 2t)`.
    const C: [(usize, usize); 4] = [(0, 0), (0, 1), (8, 0), (8, 1)];

    fn gt(lane: usize) -> (usize, usize) {
        let lane = lane % 32;
        (lane / 4, lane % 4)
    }

    /// (row, column) in the 16×16 A matrix of element `i` (0..8) of `lane`'s A fragment.
    pub fn mma_a_coord(lane: usize, i: usize) -> (usize, usize) {
        let (g, t) = gt(lane);
        let (dr, dc) = A[i % 8];
        (g + dr, 2 * t + dc)
    }

    /// (row, column) in the 16×8 B matrix (k × n) of element `i` (0..4) of `lane`'s B
    /// fragment.
    pub fn mma_b_coord(lane: usize, i: usize) -> (usize, usize) {
        let (g, t) = gt(lane);
        let (dr, dc) = B[i % 4];
        (2 * t + dr, g + dc)
    }

    /// (row, column) in the 16×8 C/D matrix of element `i` (0..4) of `lane`'s accumulator.
    pub fn mma_c_coord(lane: usize, i: usize) -> (usize, usize) {
        let (g, t) = gt(lane);
        let (dr, dc) = C[i % 4];
        (g + dr, 2 * t + dc)
    }

    /// (row, column) in one 8×8 matrix of `ldmatrix` of 16-bit half `half` (0 low, 1 high)
    /// of the register `lane` receives; `trans` for `.trans`.
    pub fn ldmatrix_coord(lane: usize, half: usize, trans: bool) -> (usize, usize) {
        let lane = lane % 32;
        let (major, minor) = (lane / 4, 2 * (lane % 4) + half % 2);
        if trans {
            (minor, major)
        } else {
            (major, minor)
        }
    }
}

use fragments::{ldmatrix_coord, mma_a_coord, mma_b_coord, mma_c_coord};

/// IEEE binary16 bits to `f32` (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = (h as u32 & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    match exp {
        0 => {
            // Zero or subnormal: man · 2^-24, exact in f32.
            let v = man as f32 * f32::from_bits(0x3380_0000);
            if sign != 0 {
                -v
            } else {
                v
            }
        }
        31 => f32::from_bits(sign | 0x7f80_0000 | (man << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (man << 13)),
    }
}

/// bfloat16 bits to `f32` (exact).
pub(crate) fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

fn half(regs: &[u64], r: Reg, i: usize) -> u16 {
    (regs[r as usize] >> (16 * (i % 2))) as u16
}

/// `mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32` over a full warp.
pub(crate) fn mma(
    bf16: bool,
    d: [Reg; 4],
    a: [Reg; 4],
    b: [Reg; 2],
    c: [Reg; 4],
    warp: &mut [Thread],
) {
    let dec = if bf16 { bf16_to_f32 } else { f16_to_f32 };
    let mut ma = [[0f32; 16]; 16];
    let mut mb = [[0f32; 8]; 16];
    let mut mc = [[0f32; 8]; 16];
    for (lane, th) in warp.iter().enumerate() {
        for i in 0..8 {
            let (row, col) = mma_a_coord(lane, i);
            ma[row][col] = dec(half(&th.regs, a[i / 2], i));
        }
        for i in 0..4 {
            let (row, col) = mma_b_coord(lane, i);
            mb[row][col] = dec(half(&th.regs, b[i / 2], i));
            let (row, col) = mma_c_coord(lane, i);
            mc[row][col] = f32::from_bits(th.regs[c[i] as usize] as u32);
        }
    }
    let mut md = [[0f32; 8]; 16];
    for (m, row) in md.iter_mut().enumerate() {
        for (n, out) in row.iter_mut().enumerate() {
            let mut acc = mc[m][n];
            for k in 0..16 {
                // The product of two 16-bit floats is exact in f32 (barring bf16 overflow
                // or underflow); the sum rounds to nearest even.
                let prod = ma[m][k] * mb[k][n];
                acc += prod;
            }
            *out = acc;
        }
    }
    for (lane, th) in warp.iter_mut().enumerate() {
        for (i, &di) in d.iter().enumerate() {
            let (row, col) = mma_c_coord(lane, i);
            th.regs[di as usize] = canon(md[row][col]) as u64;
        }
    }
}

/// `ldmatrix.sync.aligned.m8n8.x{n}{.trans}.shared.b16` over a full warp. `Err` names the
/// lane whose row address is bad.
pub(crate) fn ldmatrix(
    n: u8,
    trans: bool,
    d: [Reg; 4],
    addr: Addr,
    warp: &mut [Thread],
    env: &mut Env,
) -> Result<(), (usize, String)> {
    let n = (n as usize).min(4);
    let mut rows = [[[0u8; 16]; 8]; 4];
    for (i, matrix) in rows.iter_mut().enumerate().take(n) {
        for (j, row) in matrix.iter_mut().enumerate() {
            let lane = 8 * i + j;
            let th = warp.get(lane).ok_or((lane, "missing lane".to_string()))?;
            let a = effective(&th.regs, addr, Space::Shared);
            let bytes = shared_range(env.shared, a, 16)
                .map_err(|m| (lane, format!("row {j} of matrix {i}: {m}")))?;
            row.copy_from_slice(bytes);
        }
    }
    let elem = |m: &[[u8; 16]; 8], (row, col): (usize, usize)| {
        u16::from_le_bytes([m[row][2 * col], m[row][2 * col + 1]]) as u64
    };
    for (lane, th) in warp.iter_mut().enumerate() {
        for (i, &di) in d.iter().enumerate().take(n) {
            let lo = elem(&rows[i], ldmatrix_coord(lane, 0, trans));
            let hi = elem(&rows[i], ldmatrix_coord(lane, 1, trans));
            th.regs[di as usize] = lo | (hi << 16);
        }
    }
    Ok(())
}

/// `shfl.sync.{bfly,idx}.b32 d, a, b, c, membermask` over the lanes of a warp that wait at
/// it: the source lane is `lane ^ b` (bfly) or `(lane & segmask) | (b & !segmask)` (idx),
/// kept only up to the segment's last lane (else the lane's own value). `Err` names the
/// offending lane.
pub(crate) fn shfl(
    idx: bool,
    d: Reg,
    a: Src,
    b: Src,
    c: Src,
    mask: Src,
    warp: &mut [Thread],
) -> Result<(), (usize, String)> {
    let waiting = |l: usize| warp.get(l).is_some_and(|t| t.state == State::Collective);
    let Some(first) = (0..warp.len()).find(|&l| waiting(l)) else {
        return Ok(());
    };
    let member = val32(&warp[first].regs, mask);
    for lane in 0..32 {
        let in_mask = (member >> lane) & 1 == 1;
        if waiting(lane) {
            let m = val32(&warp[lane].regs, mask);
            if m != member {
                return Err((
                    lane,
                    format!("membermask {m:#x} differs from lane {first}'s {member:#x}"),
                ));
            }
            if !in_mask {
                return Err((
                    lane,
                    format!("lane {lane} is not in its membermask {member:#x}"),
                ));
            }
        } else if in_mask {
            let why = if lane < warp.len() {
                "has exited"
            } else {
                "does not exist (partial warp)"
            };
            return Err((lane, format!("lane {lane} of membermask {member:#x} {why}")));
        }
    }
    let mut out = [0u32; 32];
    for (lane, o) in out.iter_mut().enumerate().take(warp.len()) {
        if !waiting(lane) {
            continue;
        }
        let r = &warp[lane].regs;
        let (bval, cval) = (val32(r, b) & 0x1f, val32(r, c));
        let clamp = cval & 0x1f;
        let segmask = (cval >> 8) & 0x1f;
        let max_lane = ((lane as u32) & segmask) | (clamp & !segmask);
        let mut j = if idx {
            ((lane as u32) & segmask) | (bval & !segmask)
        } else {
            lane as u32 ^ bval
        };
        if j > max_lane {
            j = lane as u32;
        }
        let j = j as usize;
        if !waiting(j) {
            return Err((lane, format!("source lane {j} does not take part")));
        }
        *o = val32(&warp[j].regs, a);
    }
    for (lane, th) in warp.iter_mut().enumerate() {
        if th.state == State::Collective {
            th.regs[d as usize] = out[lane] as u64;
        }
    }
    Ok(())
}
