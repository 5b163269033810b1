//! `annotate_layout`, `annotate_shared_layout` (no effect at run time: layouts say where
//! elements live, not what they are) and `print`.

use std::fmt::Write as _;

use crate::program::TensorId;

use super::buffers::{read_window, Window};
use super::error::InterpError;
use super::exec::Cx;
use super::tile::{format_codes, TensorVal};

/// Global views larger than this are printed as their shape only.
const GLOBAL_PRINT_LIMIT: usize = 1 << 16;

/// `annotate_layout` / `annotate_shared_layout`: nothing to do.
pub(super) fn annotate(_cx: &mut Cx<'_, '_>) -> Result<(), InterpError> {
    Ok(())
}

/// `print`: formats the tile into the report when this block is traced. Shared tiles are
/// printed as they are (no race or wait check); global tensors print their whole view.
pub(super) fn print(cx: &mut Cx<'_, '_>, tensor: TensorId, label: &str) -> Result<(), InterpError> {
    if !cx.b.trace {
        return Ok(());
    }
    let dtype = cx.dtype_of(tensor)?;
    let (kind, shape, codes): (&str, Vec<usize>, Vec<u64>) =
        match cx.b.tensors.get(tensor.index()).cloned().flatten() {
            Some(TensorVal::Reg(r)) => ("register", r.shape, r.codes),
            Some(TensorVal::Shared(_)) => {
                let r = cx.shared(tensor)?;
                let (lo, hi) = r.range();
                let codes =
                    cx.b.shared
                        .get(r.alloc)
                        .and_then(|a| a.data.get(lo..hi))
                        .map(<[u64]>::to_vec)
                        .unwrap_or_default();
                ("shared", r.shape, codes)
            }
            Some(TensorVal::Global(g)) => {
                let shape: Vec<usize> = g.shape.iter().map(|&s| s.max(0) as usize).collect();
                let n = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
                if n.is_none_or(|n| n > GLOBAL_PRINT_LIMIT) {
                    // Too large to print: the shape only.
                    ("global (too large to print)", shape, Vec::new())
                } else {
                    let offs = vec![0i64; shape.len()];
                    let w = Window::new(&g, &offs, None, &shape)?;
                    ("global", shape.clone(), read_window(&cx.l.mem, &w)?)
                }
            }
            None => ("undefined", Vec::new(), Vec::new()),
        };
    let [x, y, z] = cx.b.idx;
    let mut s = String::new();
    let _ = write!(
        s,
        "{label}: {} = {kind} {dtype}{shape:?} in block ({x},{y},{z})\n{}",
        cx.name(tensor),
        format_codes(dtype, &shape, &codes)
    );
    cx.l.report.prints.push(s);
    Ok(())
}
