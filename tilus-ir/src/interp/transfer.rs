//! `load_global`, `store_global`, `load_shared`, `store_shared`.

use crate::dtype::DType;
use crate::expr::ExprId;
use crate::program::TensorId;

use super::buffers::{read_window, write_window, Window};
use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::Cx;
use super::tile::{RegTile, TensorVal};

impl Cx<'_, '_> {
    /// The dtype of a tensor, from its type.
    pub fn dtype_of(&self, t: TensorId) -> Result<DType, InterpError> {
        match self.l.f.tensors.try_get(t) {
            Some(t) => Ok(t.ty.dtype()),
            None => fail(
                InterpErrorKind::InvalidProgram,
                format!("tensor handle {t:?} does not exist"),
            ),
        }
    }
}

/// `load_global`: masked read of a tile (out-of-shape elements read as 0).
pub(super) fn load_global(
    cx: &mut Cx<'_, '_>,
    src: TensorId,
    offsets: &[ExprId],
    shape: &[usize],
    dims: Option<&[usize]>,
) -> Result<TensorVal, InterpError> {
    let offs = cx.indices(offsets)?;
    let dtype = cx.dtype_of(src)?;
    let g = cx.global(src)?;
    let w = Window::new(g, &offs, dims, shape)?;
    let codes = read_window(&cx.l.mem, &w)?;
    Ok(TensorVal::Reg(RegTile {
        dtype,
        shape: shape.to_vec(),
        codes,
    }))
}

/// `store_global`: masked write of a tile (out-of-shape elements are dropped).
pub(super) fn store_global(
    cx: &mut Cx<'_, '_>,
    dst: TensorId,
    src: TensorId,
    offsets: &[ExprId],
    dims: Option<&[usize]>,
) -> Result<(), InterpError> {
    let offs = cx.indices(offsets)?;
    let g = cx.global(dst)?.clone();
    let tile = cx.reg(src)?;
    let shape = tile.shape.clone();
    let codes = tile.codes.clone();
    let w = Window::new(&g, &offs, dims, &shape)?;
    write_window(&mut cx.l.mem, &w, &codes)
}

/// `load_shared`: the whole shared tensor into a register tile.
pub(super) fn load_shared(cx: &mut Cx<'_, '_>, src: TensorId) -> Result<TensorVal, InterpError> {
    let r = cx.shared(src)?;
    cx.shared_read(src, &r)?;
    let (lo, hi) = r.range();
    let Some((dtype, codes)) =
        cx.b.shared
            .get(r.alloc)
            .and_then(|a| a.data.get(lo..hi).map(|d| (a.dtype, d.to_vec())))
    else {
        return fail(
            InterpErrorKind::InvalidProgram,
            "shared region outside its allocation",
        );
    };
    Ok(TensorVal::Reg(RegTile {
        dtype,
        shape: r.shape,
        codes,
    }))
}

/// `store_shared`: a register tile into the whole shared tensor.
pub(super) fn store_shared(
    cx: &mut Cx<'_, '_>,
    dst: TensorId,
    src: TensorId,
) -> Result<(), InterpError> {
    let r = cx.shared(dst)?;
    cx.shared_write(dst, &r, false)?;
    let (lo, hi) = r.range();
    let codes = cx.reg(src)?.codes.clone();
    match cx
        .b
        .shared
        .get_mut(r.alloc)
        .and_then(|a| a.data.get_mut(lo..hi))
    {
        Some(d) if d.len() == codes.len() => {
            d.copy_from_slice(&codes);
            Ok(())
        }
        _ => fail(
            InterpErrorKind::InvalidProgram,
            "stored tile does not match the shared region",
        ),
    }
}
