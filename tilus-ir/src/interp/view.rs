//! `view`: reinterpret each thread's register bits with a new dtype, shape and layout.
//!
//! For every thread `t`, the codes of its slots `0..L_in` under the input layout are packed
//! as a little-endian bit stream in slot order (spec/dtypes.md packing) and unpacked as
//! `L_out` codes of the new dtype, which go to the output tile at the indices the output
//! layout gives thread `t`'s slots. Bits per thread must agree
//! (`bits_in * L_in == bits_out * L_out`) and both layouts must span the same threads.
//! An output element held by several threads (replication) must receive the same code from
//! all of them.

use std::rc::Rc;

use crate::dtype::{pack, DType};
use crate::layout::RegisterLayout;
use crate::program::{LayoutId, TensorId};

use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::{Cx, Launch};
use super::tile::{numel, RegTile, TensorVal};

fn flat(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (&i, &s)| acc * s + i)
}

fn unflat(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        let s = shape[d].max(1);
        idx[d] = i % s;
        i /= s;
    }
    idx
}

/// The row-major tile index of (thread, slot) at `thread * local_size + slot`, cached per
/// launch.
fn table(l: &mut Launch<'_>, id: LayoutId) -> Result<(Rc<[usize]>, RegisterLayout), InterpError> {
    let Some(layout) = l.f.layouts.try_get(id) else {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!("layout handle {id:?} does not exist"),
        );
    };
    if let Some(t) = l.layout_tables.get(&id) {
        return Ok((t.clone(), layout.clone()));
    }
    let (nt, ls) = (layout.num_threads(), layout.local_size());
    let mut v = Vec::with_capacity(nt * ls);
    for t in 0..nt {
        for s in 0..ls {
            let idx = layout
                .index_of(t, s)
                .map_err(|e| InterpError::new(InterpErrorKind::InvalidProgram, e.to_string()))?;
            v.push(flat(&idx, layout.shape()));
        }
    }
    let rc: Rc<[usize]> = v.into();
    l.layout_tables.insert(id, rc.clone());
    Ok((rc, layout.clone()))
}

/// `view`.
pub(super) fn view(
    cx: &mut Cx<'_, '_>,
    x: TensorId,
    dtype: DType,
    shape: &[usize],
    layout: LayoutId,
) -> Result<TensorVal, InterpError> {
    let Some(&in_id) = cx.l.info.register_layouts.get(&x) else {
        return fail(
            InterpErrorKind::MissingLayout,
            format!(
                "view of {} needs the register layout of its input; annotate it with \
                 annotate_layout",
                cx.name(x)
            ),
        );
    };
    let (tin, lin) = table(cx.l, in_id)?;
    let (tout, lout) = table(cx.l, layout)?;
    let t = cx.reg(x)?;
    let mismatch = |msg: String| fail(InterpErrorKind::ViewMismatch, msg);
    if lin.shape() != t.shape.as_slice() {
        return mismatch(format!(
            "the input layout has shape {:?} but {} has shape {:?}",
            lin.shape(),
            cx.name(x),
            t.shape
        ));
    }
    if lout.shape() != shape {
        return mismatch(format!(
            "the output layout has shape {:?} but the view's shape is {shape:?}",
            lout.shape()
        ));
    }
    if lin.num_threads() != lout.num_threads() {
        return mismatch(format!(
            "the input layout spans {} threads, the output layout {}",
            lin.num_threads(),
            lout.num_threads()
        ));
    }
    let (bin, bout) = (t.dtype.bits(), dtype.bits());
    let (li, lo) = (lin.local_size(), lout.local_size());
    if bin as usize * li != bout as usize * lo {
        return mismatch(format!(
            "each thread holds {li} × {} = {} bits but the view needs {lo} × {dtype} = {} bits",
            t.dtype,
            bin as usize * li,
            bout as usize * lo
        ));
    }
    let n = numel(shape);
    const NONE: u32 = u32::MAX;
    let mut codes = vec![0u64; n];
    let mut holder = vec![NONE; n];
    let mut gathered = vec![0u64; li];
    let mut bytes = vec![0u8; pack::packed_len(bin, li)];
    let mut unpacked = vec![0u64; lo];
    let pack_err = |e: crate::dtype::DTypeError| {
        InterpError::new(InterpErrorKind::ViewMismatch, e.to_string())
    };
    for th in 0..lin.num_threads() {
        for (s, g) in gathered.iter_mut().enumerate() {
            let idx = tin.get(th * li + s).copied().unwrap_or(0);
            *g = t.codes.get(idx).copied().unwrap_or(0);
        }
        pack::pack_into(bin, &gathered, &mut bytes).map_err(pack_err)?;
        pack::unpack_into(bout, &bytes, &mut unpacked).map_err(pack_err)?;
        for (s, &code) in unpacked.iter().enumerate() {
            let idx = tout.get(th * lo + s).copied().unwrap_or(0);
            let (Some(c), Some(h)) = (codes.get_mut(idx), holder.get_mut(idx)) else {
                continue;
            };
            if *h == NONE {
                *c = code;
                *h = th as u32;
            } else if *c != code {
                return mismatch(format!(
                    "element {:?} of the view is held by threads {} and {th} (replicated in \
                     the output layout) but they give it different values ({} and {code})",
                    unflat(idx, shape),
                    *h,
                    *c
                ));
            }
        }
    }
    if let Some(i) = holder.iter().position(|&h| h == NONE) {
        return mismatch(format!(
            "element {:?} of the view is held by no thread of the output layout",
            unflat(i, shape)
        ));
    }
    Ok(TensorVal::Reg(RegTile {
        dtype,
        shape: shape.to_vec(),
        codes,
    }))
}
