//! `global_view`, `alloc_global`, `alloc_shared`, `free_shared`, `alloc_register`, `slice`.

use crate::dtype::DType;
use crate::expr::ExprId;
use crate::program::{TensorId, VarId};

use super::buffers::{row_major_strides, GlobalRef, HostBuffer};
use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::Cx;
use super::race::RaceState;
use super::scalar::to_code;
use super::tile::{numel, RegTile, SharedAlloc, SharedRef, TensorVal};

/// Most elements a workspace may have (2^34).
const MAX_WORKSPACE: i64 = 1 << 34;

fn extents(cx: &Cx<'_, '_>, shape: &[ExprId]) -> Result<Vec<i64>, InterpError> {
    let shape = cx.indices(shape)?;
    if let Some(&e) = shape.iter().find(|&&e| e < 0) {
        return fail(
            InterpErrorKind::InvalidValue,
            format!("negative extent {e} in shape {shape:?}"),
        );
    }
    Ok(shape)
}

/// `global_view`: a strided view of a pointer parameter's buffer.
pub(super) fn global_view(
    cx: &mut Cx<'_, '_>,
    ptr: VarId,
    shape: &[ExprId],
    strides: Option<&[ExprId]>,
) -> Result<TensorVal, InterpError> {
    let Some(buf) = cx.l.ptr_bufs.get(ptr.index()).copied().flatten() else {
        return fail(
            InterpErrorKind::InvalidProgram,
            "global_view of a variable that is not a pointer parameter",
        );
    };
    let shape = extents(cx, shape)?;
    let strides = match strides {
        Some(s) if s.len() != shape.len() => {
            return fail(
                InterpErrorKind::InvalidProgram,
                format!("{} strides for {} dimensions", s.len(), shape.len()),
            )
        }
        Some(s) => cx.indices(s)?,
        None => row_major_strides(&shape).ok_or_else(|| {
            InterpError::new(
                InterpErrorKind::InvalidValue,
                format!("shape {shape:?} overflows i64"),
            )
        })?,
    };
    Ok(TensorVal::Global(GlobalRef {
        buf,
        base: 0,
        shape,
        strides,
    }))
}

/// `alloc_global`: one zeroed workspace per launch and instruction, shared by all blocks.
pub(super) fn alloc_global(
    cx: &mut Cx<'_, '_>,
    dtype: DType,
    shape: &[ExprId],
    requires_clean: bool,
) -> Result<TensorVal, InterpError> {
    let shape = extents(cx, shape)?;
    let strides = row_major_strides(&shape);
    let n = shape
        .iter()
        .try_fold(1i64, |a, &b| a.checked_mul(b))
        .filter(|&n| n <= MAX_WORKSPACE);
    let (Some(n), Some(strides)) = (n, strides) else {
        return fail(
            InterpErrorKind::InvalidValue,
            format!("workspace of shape {shape:?} is larger than 2^34 elements"),
        );
    };
    let bytes = (n as u128 * u128::from(dtype.bits())).div_ceil(8);
    if bytes > u128::from(cx.l.max_workspace_bytes) {
        return fail(
            InterpErrorKind::InvalidValue,
            format!(
                "workspace of shape {shape:?} ({bytes} bytes) is larger than the interpreter's \
                 limit of {} bytes (RunOptions::max_workspace_bytes)",
                cx.l.max_workspace_bytes
            ),
        );
    }
    let buf = match cx.l.workspaces.get(&cx.id) {
        Some((buf, old)) => {
            if *old != shape {
                return fail(
                    InterpErrorKind::InvalidValue,
                    format!(
                        "the workspace was allocated with shape {old:?} by an earlier block or \
                         iteration, now {shape:?}: its shape must not depend on the block"
                    ),
                );
            }
            *buf
        }
        None => {
            let name = cx
                .inst
                .out
                .map_or_else(|| "workspace".to_string(), |o| cx.name(o.tensor()));
            let len = usize::try_from(n).unwrap_or(0);
            let buf =
                cx.l.mem
                    .add(HostBuffer::zeros(dtype, len), format!("workspace {name}"));
            cx.l.workspaces.insert(cx.id, (buf, shape.clone()));
            if requires_clean {
                if let Some(o) = cx.inst.out {
                    cx.l.clean.push((buf, o.tensor()));
                }
            }
            buf
        }
    };
    Ok(TensorVal::Global(GlobalRef {
        buf,
        base: 0,
        shape,
        strides,
    }))
}

/// `alloc_shared`: a new zeroed allocation of the block.
pub(super) fn alloc_shared(
    cx: &mut Cx<'_, '_>,
    dtype: DType,
    shape: &[usize],
) -> Result<TensorVal, InterpError> {
    let name = cx
        .inst
        .out
        .map_or_else(|| "shared tile".to_string(), |o| cx.name(o.tensor()));
    cx.b.shared.push(SharedAlloc {
        dtype,
        data: vec![0; numel(shape)],
        name,
        freed: None,
        race: RaceState::default(),
    });
    Ok(TensorVal::Shared(SharedRef {
        alloc: cx.b.shared.len() - 1,
        base: 0,
        shape: shape.to_vec(),
    }))
}

/// `free_shared`: releases the allocation behind `tensor`.
pub(super) fn free_shared(cx: &mut Cx<'_, '_>, tensor: TensorId) -> Result<(), InterpError> {
    let r = cx.shared(tensor)?;
    let full = SharedRef {
        alloc: r.alloc,
        base: 0,
        shape: vec![cx.b.shared.get(r.alloc).map_or(0, |a| a.data.len())],
    };
    cx.check_no_pending(tensor, &full, "frees")?;
    let id = cx.id;
    if let Some(a) = cx.b.shared.get_mut(r.alloc) {
        a.freed = Some(id);
        a.data = Vec::new();
        a.race.clear();
    }
    Ok(())
}

/// `alloc_register`: a tile filled with `init` converted to `dtype` (0 without).
pub(super) fn alloc_register(
    cx: &mut Cx<'_, '_>,
    dtype: DType,
    shape: &[usize],
    init: Option<ExprId>,
) -> Result<TensorVal, InterpError> {
    let code = match init {
        Some(e) => {
            let (v, t) = cx.eval().eval(e)?;
            to_code(v, t, dtype)
        }
        None => 0,
    };
    Ok(TensorVal::Reg(RegTile::filled(dtype, shape, code)))
}

fn check_slice_index(idx: &[i64], shape: &[i64]) -> Result<(), InterpError> {
    if idx.len() >= shape.len() {
        return fail(
            InterpErrorKind::InvalidProgram,
            format!(
                "slice fixes {} indices of a rank-{} tensor",
                idx.len(),
                shape.len()
            ),
        );
    }
    if let Some(d) = (0..idx.len()).find(|&d| idx[d] < 0 || idx[d] >= shape[d]) {
        return fail(
            InterpErrorKind::OutOfBounds,
            format!("slice index {idx:?} is outside the shape {shape:?} (dimension {d})"),
        );
    }
    Ok(())
}

/// `slice`: fixes leading indices; the result aliases the source.
pub(super) fn slice(
    cx: &mut Cx<'_, '_>,
    src: TensorId,
    indices: &[ExprId],
) -> Result<TensorVal, InterpError> {
    let idx = cx.indices(indices)?;
    let is_shared = matches!(
        cx.b.tensors.get(src.index()),
        Some(Some(TensorVal::Shared(_)))
    );
    if is_shared {
        let r = cx.shared(src)?;
        let shape: Vec<i64> = r.shape.iter().map(|&s| s as i64).collect();
        check_slice_index(&idx, &shape)?;
        let strides = row_major_strides(&shape).unwrap_or_default();
        let off: i64 = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        return Ok(TensorVal::Shared(SharedRef {
            alloc: r.alloc,
            base: r.base + off as usize,
            shape: r.shape[idx.len()..].to_vec(),
        }));
    }
    let g = cx.global(src)?;
    check_slice_index(&idx, &g.shape)?;
    let off = idx
        .iter()
        .zip(&g.strides)
        .try_fold(g.base, |acc, (&i, &s)| {
            i.checked_mul(s).and_then(|p| acc.checked_add(p))
        })
        .ok_or_else(|| {
            InterpError::new(InterpErrorKind::OutOfBounds, "slice offset overflows i64")
        })?;
    Ok(TensorVal::Global(GlobalRef {
        buf: g.buf,
        base: off,
        shape: g.shape[idx.len()..].to_vec(),
        strides: g.strides[idx.len()..].to_vec(),
    }))
}
