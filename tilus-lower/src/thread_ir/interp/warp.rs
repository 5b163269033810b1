//! Warp-collective intrinsics: `mma`, `ldmatrix` and `shuffle`, executed once every lane of
//! a warp has reached them.

use tilus_ir::dtype::DType;
use tilus_ir::layout::atoms::{mma_m16n8k16_a, mma_m16n8k16_b, mma_m16n8k16_c};
use tilus_ir::layout::RegisterLayout;

use super::super::{LocalRef, MemRef, Space, Stmt, ThreadKernel};
use super::error::{ThreadInterpError, ThreadInterpErrorKind};
use super::exec::{shared_get, Env, Thread};

type R<T> = Result<T, ThreadInterpError>;

fn err<T>(kind: ThreadInterpErrorKind, msg: impl Into<String>) -> R<T> {
    Err(ThreadInterpError::new(kind, msg))
}

fn at(r: LocalRef, i: u32) -> LocalRef {
    LocalRef {
        array: r.array,
        slot: r.slot + i,
    }
}

/// Gathers a fragment into a row-major matrix of `f64` values (exact decodes).
fn gather(
    k: &ThreadKernel,
    lanes: &[Thread<'_>],
    layout: &RegisterLayout,
    r: LocalRef,
    dtype: DType,
) -> R<Vec<f64>> {
    let shape = layout.shape().to_vec();
    let cols = shape.get(1).copied().unwrap_or(1);
    let mut m = vec![0.0f64; layout.num_elements()];
    for (lane, t) in lanes.iter().enumerate() {
        for s in 0..layout.local_size() {
            let idx = layout.index_of(lane, s).map_err(|e| {
                ThreadInterpError::new(ThreadInterpErrorKind::InvalidKernel, e.to_string())
            })?;
            let code = t.local_get(k, at(r, s as u32))?;
            if let Some(slot) = m.get_mut(idx[0] * cols + idx[1]) {
                *slot = dtype.decode_f64(code);
            }
        }
    }
    Ok(m)
}

/// Executes the warp intrinsic `stmt` for `lanes` (the warp's threads, lane order).
pub(crate) fn execute(
    env: &Env<'_>,
    shared: &[u8],
    lanes: &mut [Thread<'_>],
    stmt: &Stmt,
) -> R<()> {
    let k = env.k;
    match stmt {
        Stmt::Mma {
            dtype, a, b, c, d, ..
        } => {
            if lanes.len() != 32 {
                return err(
                    ThreadInterpErrorKind::InvalidKernel,
                    format!("mma needs a full warp of 32 lanes, got {}", lanes.len()),
                );
            }
            let (la, lb, lc) = (mma_m16n8k16_a(), mma_m16n8k16_b(), mma_m16n8k16_c());
            let am = gather(k, lanes, &la, *a, *dtype)?;
            let bm = gather(k, lanes, &lb, *b, *dtype)?;
            let cm = gather(k, lanes, &lc, *c, DType::F32)?;
            let mut dm = vec![0.0f32; 16 * 8];
            for i in 0..16 {
                for j in 0..8 {
                    let mut acc = cm[i * 8 + j] as f32;
                    for kk in 0..16 {
                        // Operands are exact f16/bf16 values, so exact in f32.
                        acc = (am[i * 16 + kk] as f32).mul_add(bm[kk * 8 + j] as f32, acc);
                    }
                    dm[i * 8 + j] = acc;
                }
            }
            for (lane, t) in lanes.iter_mut().enumerate() {
                for s in 0..lc.local_size() {
                    let idx = lc.index_of(lane, s).map_err(|e| {
                        ThreadInterpError::new(ThreadInterpErrorKind::InvalidKernel, e.to_string())
                    })?;
                    let v = dm[idx[0] * 8 + idx[1]];
                    t.local_set(k, at(*d, s as u32), u64::from(v.to_bits()))?;
                }
            }
            Ok(())
        }
        Stmt::LdMatrix {
            src,
            row,
            num,
            trans,
            dst,
        } => {
            let Some(alloc) = k.shared.try_get(*src) else {
                return err(
                    ThreadInterpErrorKind::InvalidKernel,
                    "dangling shared handle",
                );
            };
            let bits = alloc.dtype.bits().max(1);
            let per = 32 / bits; // elements per 32-bit register
            let row_len = 128 / bits; // elements per 16-byte row
            let mem = MemRef {
                space: Space::Shared(*src),
                index: *row,
            };
            // Row addresses come from lanes 8·i + r.
            let mut rows = Vec::with_capacity(32);
            for t in lanes.iter() {
                rows.push(t.eval(env, *row)?.as_index()?);
            }
            for m in 0..*num as usize {
                for (lane, t) in lanes.iter_mut().enumerate() {
                    for e in 0..per {
                        let (r, col) = if *trans {
                            (2 * (lane % 4) + e as usize, lane / 4)
                        } else {
                            (lane / 4, (lane % 4) * per as usize + e as usize)
                        };
                        let Some(&base) = rows.get(8 * m + r) else {
                            return err(
                                ThreadInterpErrorKind::InvalidKernel,
                                "ldmatrix needs a lane for every row",
                            );
                        };
                        if col >= row_len as usize {
                            return err(ThreadInterpErrorKind::InvalidKernel, "ldmatrix column");
                        }
                        let code = shared_get(k, shared, mem, base + col as i64)?;
                        t.local_set(k, at(*dst, m as u32 * per + e), code)?;
                    }
                }
            }
            Ok(())
        }
        Stmt::Shuffle { dst, value, lane } => {
            let dtype = k
                .locals
                .try_get(dst.array)
                .map(|a| a.dtype)
                .ok_or_else(|| {
                    ThreadInterpError::new(ThreadInterpErrorKind::InvalidKernel, "dangling local")
                })?;
            let mut offered = Vec::with_capacity(lanes.len());
            let mut from = Vec::with_capacity(lanes.len());
            for t in lanes.iter() {
                offered.push(t.eval(env, *value)?.to_code(dtype));
                from.push(t.eval(env, *lane)?.as_index()?);
            }
            for (t, src) in lanes.iter_mut().zip(from) {
                let Some(&code) = usize::try_from(src).ok().and_then(|s| offered.get(s)) else {
                    return err(
                        ThreadInterpErrorKind::InvalidKernel,
                        format!("shuffle from lane {src} of a warp of {}", offered.len()),
                    );
                };
                t.local_set(k, *dst, code)?;
            }
            Ok(())
        }
        _ => err(ThreadInterpErrorKind::InvalidKernel, "not a warp intrinsic"),
    }
}
