//! `global_view`, `alloc_global`, `alloc_shared`, `free_shared`, `alloc_register`, `slice`.
//!
//! Global views and workspaces become a buffer with extents and strides (expressions over
//! the parameters; a view whose extents read mutable variables snapshots them into
//! variables). Shared tiles get a static offset from the allocator (16-byte aligned, first
//! fit), sized by their layout (`SharedLayout::size`, swizzle included). Register tiles are
//! local arrays, filled with the initial value (or zeros). Slices add a base offset (global)
//! or fix leading indices (shared).

use tilus_ir::dtype::{pack, DType};
use tilus_ir::expr::{Expr as TE, ExprId as TExprId, ScalarType};
use tilus_ir::program::{Out, TensorId, VarId as TVarId};

use super::scalar::{self, convert};
use super::{GlobalInfo, Lower, SharedInfo, TensorInfo, TileView, VarKindMap, R};
use crate::error::LowerError;
use crate::grid::GridExpr;
use crate::thread_ir::{BufferKind, Const, ExprId, LocalRef, Stmt, Ty};

fn new_tensor(cx: &Lower<'_>, out: Option<Out>) -> R<TensorId> {
    match out {
        Some(Out::New(t)) => Ok(t),
        _ => cx.invalid("the instruction must define a new tensor"),
    }
}

/// Whether a tile expression reads only parameters, constants and the grid position (so it
/// can be used at any later point without a snapshot).
fn is_stable(cx: &Lower<'_>, e: TExprId, depth: usize) -> bool {
    if depth > 200 {
        return false;
    }
    match cx.f.exprs.try_get(e) {
        Some(TE::Int(_) | TE::Float(_) | TE::Bool(_) | TE::BlockIdx(_) | TE::GridDim(_)) => true,
        Some(TE::Var(v)) => matches!(cx.vars.get(v), Some(VarKindMap::Param(_))),
        Some(TE::Unary(_, a) | TE::Cast(_, a)) => is_stable(cx, *a, depth + 1),
        Some(TE::Binary(_, a, b)) => is_stable(cx, *a, depth + 1) && is_stable(cx, *b, depth + 1),
        Some(TE::Select(c, a, b)) => {
            is_stable(cx, *c, depth + 1)
                && is_stable(cx, *a, depth + 1)
                && is_stable(cx, *b, depth + 1)
        }
        None => false,
    }
}

/// Lowers an extent or stride to `i32`, snapshotting it into a variable when it reads
/// mutable variables.
fn stable_index(cx: &mut Lower<'_>, e: TExprId, what: &str) -> R<ExprId> {
    let v = cx.index_expr(e)?;
    if is_stable(cx, e, 0) {
        return Ok(v);
    }
    let var = cx.b.var(what, Ty::I32);
    cx.b.push(Stmt::Assign { var, value: v });
    Ok(cx.b.read_var(var))
}

/// Row-major strides of lowered extents.
fn row_major(cx: &mut Lower<'_>, shape: &[ExprId]) -> Vec<ExprId> {
    let mut strides = vec![cx.b.i32(1); shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = cx.b.mul(strides[d + 1], shape[d + 1]);
    }
    strides
}

/// `global_view`.
pub(super) fn global_view(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    ptr: TVarId,
    dtype: DType,
    shape: &[TExprId],
    strides: Option<&[TExprId]>,
) -> R<()> {
    let t = new_tensor(cx, out)?;
    let Some(VarKindMap::Pointer(buffer)) = cx.vars.get(&ptr).copied() else {
        return cx.invalid("global_view of something that is not a pointer parameter");
    };
    let name = cx.tensor_name(t);
    let ext: Vec<ExprId> = shape
        .iter()
        .map(|&e| stable_index(cx, e, &format!("{name}_extent")))
        .collect::<R<_>>()?;
    let st: Vec<ExprId> = match strides {
        Some(s) => s
            .iter()
            .map(|&e| stable_index(cx, e, &format!("{name}_stride")))
            .collect::<R<_>>()?,
        None => row_major(cx, &ext),
    };
    let base = cx.b.i32(0);
    let info = GlobalInfo {
        buffer,
        base,
        shape: ext,
        strides: st,
        dtype,
        tile_view: Some(TileView {
            shape: shape.to_vec(),
            strides: strides.map(<[TExprId]>::to_vec),
        }),
    };
    cx.tensors.insert(t, TensorInfo::Global(info));
    Ok(())
}

/// `alloc_global`: a workspace buffer, row-major.
pub(super) fn alloc_global(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    dtype: DType,
    shape: &[TExprId],
    requires_clean: bool,
) -> R<()> {
    let t = new_tensor(cx, out)?;
    let name = cx.tensor_name(t);
    let mut elements: Option<GridExpr> = None;
    for &e in shape {
        let g = scalar::grid_expr(cx.f, e).map_err(|reason| LowerError::NotHostEvaluable {
            what: format!("the size of workspace %{name}"),
            reason,
        })?;
        elements = Some(match elements {
            None => g,
            Some(p) => GridExpr::Mul(Box::new(p), Box::new(g)),
        });
    }
    let elements = elements.unwrap_or(GridExpr::Const(1));
    let buffer = cx.b.buffer(
        &name,
        dtype,
        BufferKind::Workspace {
            elements,
            requires_clean,
        },
    );
    let ext: Vec<ExprId> = shape.iter().map(|&e| cx.index_expr(e)).collect::<R<_>>()?;
    let strides = row_major(cx, &ext);
    let base = cx.b.i32(0);
    cx.tensors.insert(
        t,
        TensorInfo::Global(GlobalInfo {
            buffer,
            base,
            shape: ext,
            strides,
            dtype,
            tile_view: Some(TileView {
                shape: shape.to_vec(),
                strides: None,
            }),
        }),
    );
    Ok(())
}

/// `alloc_shared`: a static region of the block's shared memory.
pub(super) fn alloc_shared(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    dtype: DType,
    shape: &[usize],
) -> R<()> {
    let t = new_tensor(cx, out)?;
    let name = cx.tensor_name(t);
    let Some(layout) = cx.layouts.shared.get(&t).cloned() else {
        return Err(LowerError::MissingLayout {
            inst: cx.here(),
            tensor: name,
            kind: "shared",
        });
    };
    if layout.shape() != shape {
        return Err(LowerError::BadLayout {
            inst: cx.here(),
            tensor: name,
            reason: format!(
                "its shape {:?} is not the tensor's {shape:?}",
                layout.shape()
            ),
        });
    }
    let len = layout.size();
    let alloc = cx.new_shared(&name, dtype, len)?;
    cx.tensors.insert(
        t,
        TensorInfo::Shared(SharedInfo {
            alloc,
            root: t,
            layout,
            prefix: Vec::new(),
            shape: shape.to_vec(),
        }),
    );
    Ok(())
}

impl Lower<'_> {
    /// A shared allocation of `len` elements at a fresh static offset.
    pub(crate) fn new_shared(
        &mut self,
        name: &str,
        dtype: DType,
        len: usize,
    ) -> R<crate::thread_ir::SharedId> {
        let bytes = pack::packed_len(dtype.bits(), len) as u64;
        let key = self.b.kernel.shared.len() as u32;
        let (offset, peak) = self.alloc.alloc(bytes, key);
        let limit = u64::from(self.opts.max_shared_bytes);
        if peak > limit {
            return Err(LowerError::SharedMemoryExceeded {
                needed: peak,
                available: limit,
                inst: self.here(),
            });
        }
        let (Ok(offset), Ok(len)) = (u32::try_from(offset), u32::try_from(len)) else {
            return self.unsupported("shared allocation too large");
        };
        Ok(self.b.shared(name, dtype, offset, len))
    }

    /// Releases a shared allocation made by [`Lower::new_shared`].
    pub(crate) fn free_shared_alloc(&mut self, alloc: crate::thread_ir::SharedId) {
        self.alloc.free(alloc.index() as u32);
    }
}

/// `free_shared`.
pub(super) fn free_shared(cx: &mut Lower<'_>, tensor: TensorId) -> R<()> {
    let s = cx.shared(tensor)?;
    if s.root != tensor {
        return cx.invalid("free_shared of a slice (free the allocated tensor)");
    }
    cx.free_shared_alloc(s.alloc);
    Ok(())
}

/// `alloc_register`: every slot gets the initial value (converted to the dtype) or 0.
pub(super) fn alloc_register(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    dtype: DType,
    init: Option<TExprId>,
) -> R<()> {
    let (_, info) = cx.out_reg(out, dtype)?;
    let value = match init {
        Some(e) => {
            let (v, t) = cx.scalar_natural(e)?;
            convert(&mut cx.b, v, t, ScalarType::Data(dtype), false)
        }
        None => cx.b.konst(Const::zero(Ty::carrier(dtype))),
    };
    for slot in 0..info.layout.local_size() as u32 {
        cx.b.push(Stmt::SetLocal {
            dst: LocalRef {
                array: info.array,
                slot,
            },
            value,
        });
    }
    Ok(())
}

/// `slice`: fixes leading indices of a shared or global tensor.
pub(super) fn slice(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    src: TensorId,
    indices: &[TExprId],
) -> R<()> {
    let t = new_tensor(cx, out)?;
    let name = cx.tensor_name(t);
    let idx: Vec<ExprId> = indices
        .iter()
        .map(|&e| stable_index(cx, e, &format!("{name}_index")))
        .collect::<R<_>>()?;
    let info = match cx.info(src)?.clone() {
        TensorInfo::Global(g) => {
            let n = idx.len();
            if n >= g.shape.len() {
                return cx.invalid("slice fixes every dimension");
            }
            let mut base = g.base;
            for (i, &x) in idx.iter().enumerate() {
                let term = cx.b.mul(x, g.strides[i]);
                base = cx.b.add(base, term);
            }
            TensorInfo::Global(GlobalInfo {
                buffer: g.buffer,
                base,
                shape: g.shape[n..].to_vec(),
                strides: g.strides[n..].to_vec(),
                dtype: g.dtype,
                tile_view: None,
            })
        }
        TensorInfo::Shared(s) => {
            let n = idx.len();
            if n >= s.shape.len() {
                return cx.invalid("slice fixes every dimension");
            }
            let mut prefix = s.prefix.clone();
            prefix.extend(idx);
            TensorInfo::Shared(SharedInfo {
                alloc: s.alloc,
                root: s.root,
                layout: s.layout,
                prefix,
                shape: s.shape[n..].to_vec(),
            })
        }
        TensorInfo::Register(_) => return cx.invalid("slice of a register tensor"),
    };
    cx.tensors.insert(t, info);
    Ok(())
}
