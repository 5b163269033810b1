//! Type rules of the instructions: the result type of each instruction, and the dtype and
//! shape agreement it requires of its operands.
//!
//! The builder and the parser call [`result_type`] to type new tensors; the verifier calls it
//! again on every instruction (plus the checks that need program order, such as use after
//! `free_shared`). Errors say what was expected; the caller adds which instruction and where.

use thiserror::Error;

use crate::dtype::DType;
use crate::inst::{InstKind, Operand};
use crate::program::{Function, TensorId, TensorType, VarType};

/// An operand of an instruction does not fit its rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct TypeError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, TypeError> {
    Err(TypeError(msg.into()))
}

/// The dtype of bool tiles (comparison results, `where` conditions).
pub const BOOL: DType = DType::Int {
    bits: 1,
    signed: false,
};

/// The type of a tensor handle, or an error for a dangling handle.
pub fn tensor_type(f: &Function, t: TensorId) -> Result<&TensorType, TypeError> {
    f.tensors
        .try_get(t)
        .map(|t| &t.ty)
        .ok_or_else(|| TypeError(format!("tensor handle {t:?} does not exist")))
}

fn name(f: &Function, t: TensorId) -> String {
    f.tensors
        .try_get(t)
        .map_or_else(|| format!("{t:?}"), |t| format!("%{}", t.name))
}

/// The dtype and shape of a register tensor, or an error naming what it is instead.
pub fn register(f: &Function, t: TensorId, role: &str) -> Result<(DType, Vec<usize>), TypeError> {
    match tensor_type(f, t)? {
        TensorType::Register { dtype, shape, .. } => Ok((*dtype, shape.clone())),
        other => err(format!(
            "{role} {} must be a register tensor, found a {} tensor",
            name(f, t),
            other.kind_name()
        )),
    }
}

fn shared(f: &Function, t: TensorId, role: &str) -> Result<(DType, Vec<usize>), TypeError> {
    match tensor_type(f, t)? {
        TensorType::Shared { dtype, shape, .. } => Ok((*dtype, shape.clone())),
        other => err(format!(
            "{role} {} must be a shared tensor, found a {} tensor",
            name(f, t),
            other.kind_name()
        )),
    }
}

fn global_rank(f: &Function, t: TensorId, role: &str) -> Result<(DType, usize), TypeError> {
    match tensor_type(f, t)? {
        TensorType::Global { dtype, shape, .. } => Ok((*dtype, shape.len())),
        other => err(format!(
            "{role} {} must be a global tensor, found a {} tensor",
            name(f, t),
            other.kind_name()
        )),
    }
}

/// NumPy broadcasting of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, TypeError> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return err(format!(
                    "shapes {a:?} and {b:?} do not broadcast (dim {i}: {da} vs {db})"
                ))
            }
        };
    }
    Ok(out)
}

/// Checks the `dims` of a global access and returns the tile rank it implies.
fn check_dims(
    dims: &Option<Vec<usize>>,
    global_rank: usize,
    tile_rank: usize,
) -> Result<(), TypeError> {
    match dims {
        None => {
            if tile_rank > global_rank {
                return err(format!(
                    "a tile of rank {tile_rank} cannot span a global tensor of rank {global_rank}"
                ));
            }
        }
        Some(d) => {
            if d.len() != tile_rank {
                return err(format!(
                    "dims {d:?} must list {tile_rank} dimensions (the tile's rank)"
                ));
            }
            if d.iter().any(|&x| x >= global_rank) {
                return err(format!(
                    "dims {d:?} out of range for a global tensor of rank {global_rank}"
                ));
            }
            if d.windows(2).any(|w| w[0] >= w[1]) {
                return err(format!("dims {d:?} must be strictly increasing"));
            }
        }
    }
    Ok(())
}

fn operand_shape(
    f: &Function,
    o: Operand,
    role: &str,
) -> Result<Option<(DType, Vec<usize>)>, TypeError> {
    match o {
        Operand::Tensor(t) => register(f, t, role).map(Some),
        Operand::Scalar(_) => Ok(None),
    }
}

fn reg(dtype: DType, shape: Vec<usize>) -> TensorType {
    TensorType::Register {
        dtype,
        shape,
        layout: None,
    }
}

/// The type of the tensor an instruction produces, checking its operands.
///
/// Instructions without a result give `Ok(None)` after their checks.
pub fn result_type(f: &Function, kind: &InstKind) -> Result<Option<TensorType>, TypeError> {
    let ty = match kind {
        InstKind::GlobalView {
            ptr,
            dtype,
            shape,
            strides,
        } => {
            let var = f
                .vars
                .try_get(*ptr)
                .ok_or_else(|| TypeError(format!("variable {ptr:?} does not exist")))?;
            match var.ty {
                VarType::Pointer(p) if p == *dtype => {}
                VarType::Pointer(p) => {
                    return err(format!("pointer `{}` points to {p}, not {dtype}", var.name))
                }
                VarType::Scalar(_) => {
                    return err(format!("`{}` is not a pointer parameter", var.name))
                }
            }
            if shape.is_empty() {
                return err("a global view needs at least one dimension");
            }
            if let Some(strides) = strides {
                if strides.len() != shape.len() {
                    return err(format!(
                        "{} strides given for {} dimensions",
                        strides.len(),
                        shape.len()
                    ));
                }
            }
            TensorType::Global {
                dtype: *dtype,
                shape: shape.clone(),
                strides: strides.clone(),
            }
        }
        InstKind::AllocGlobal { dtype, shape, .. } => {
            if shape.is_empty() {
                return err("a global workspace needs at least one dimension");
            }
            TensorType::Global {
                dtype: *dtype,
                shape: shape.clone(),
                strides: None,
            }
        }
        InstKind::AllocShared { dtype, shape } => {
            check_static_shape(shape)?;
            TensorType::Shared {
                dtype: *dtype,
                shape: shape.clone(),
                layout: None,
            }
        }
        InstKind::FreeShared { tensor } => {
            shared(f, *tensor, "freed tensor")?;
            return Ok(None);
        }
        InstKind::AllocRegister { dtype, shape, .. } => {
            check_static_shape(shape)?;
            reg(*dtype, shape.clone())
        }
        InstKind::Slice { src, indices } => match tensor_type(f, *src)? {
            TensorType::Shared { dtype, shape, .. } => {
                if indices.is_empty() || indices.len() >= shape.len() {
                    return err(format!(
                        "slice of a rank-{} shared tensor must fix 1 to {} leading indices, got {}",
                        shape.len(),
                        shape.len().saturating_sub(1),
                        indices.len()
                    ));
                }
                TensorType::Shared {
                    dtype: *dtype,
                    shape: shape[indices.len()..].to_vec(),
                    layout: None,
                }
            }
            TensorType::Global {
                dtype,
                shape,
                strides,
            } => {
                // A slice of a row-major tensor keeps row-major strides of the trailing dims.
                if indices.is_empty() || indices.len() >= shape.len() {
                    return err(format!(
                        "slice of a rank-{} global tensor must fix 1 to {} leading indices, got {}",
                        shape.len(),
                        shape.len().saturating_sub(1),
                        indices.len()
                    ));
                }
                TensorType::Global {
                    dtype: *dtype,
                    shape: shape[indices.len()..].to_vec(),
                    strides: strides.as_ref().map(|s| s[indices.len()..].to_vec()),
                }
            }
            TensorType::Register { .. } => return err("slice applies to shared or global tensors"),
        },
        InstKind::LoadGlobal {
            src,
            offsets,
            shape,
            dims,
        } => {
            let (dtype, rank) = global_rank(f, *src, "source")?;
            if offsets.len() != rank {
                return err(format!(
                    "{} offsets given for a global tensor of rank {rank}",
                    offsets.len()
                ));
            }
            check_static_shape(shape)?;
            check_dims(dims, rank, shape.len())?;
            reg(dtype, shape.clone())
        }
        InstKind::StoreGlobal {
            dst,
            src,
            offsets,
            dims,
        } => {
            let (gd, rank) = global_rank(f, *dst, "destination")?;
            let (rd, shape) = register(f, *src, "stored tile")?;
            if gd != rd {
                return err(format!("stored tile is {rd} but the global tensor is {gd}"));
            }
            if offsets.len() != rank {
                return err(format!(
                    "{} offsets given for a global tensor of rank {rank}",
                    offsets.len()
                ));
            }
            check_dims(dims, rank, shape.len())?;
            return Ok(None);
        }
        InstKind::LoadShared { src } => {
            let (dtype, shape) = shared(f, *src, "source")?;
            reg(dtype, shape)
        }
        InstKind::StoreShared { dst, src } => {
            let (sd, sshape) = shared(f, *dst, "destination")?;
            let (rd, rshape) = register(f, *src, "stored tile")?;
            if sd != rd || sshape != rshape {
                return err(format!(
                    "stored tile {rd}{rshape:?} does not match shared tensor {sd}{sshape:?}"
                ));
            }
            return Ok(None);
        }
        InstKind::CopyAsync {
            dst,
            src,
            offsets,
            dims,
        } => {
            let (sd, sshape) = shared(f, *dst, "destination")?;
            let (gd, rank) = global_rank(f, *src, "source")?;
            if sd != gd {
                return err(format!("copy_async from {gd} to a {sd} shared tensor"));
            }
            if offsets.len() != rank {
                return err(format!(
                    "{} offsets given for a global tensor of rank {rank}",
                    offsets.len()
                ));
            }
            check_dims(dims, rank, sshape.len())?;
            return Ok(None);
        }
        InstKind::CommitGroup | InstKind::WaitGroup { .. } | InstKind::WaitAll | InstKind::Sync => {
            return Ok(None)
        }
        InstKind::Dot { a, b, c, acc_dtype } => {
            let (ad, ashape) = register(f, *a, "operand a")?;
            let (bd, bshape) = register(f, *b, "operand b")?;
            if ashape.len() != 2 || bshape.len() != 2 {
                return err(format!(
                    "dot needs 2-D operands, got a{ashape:?} and b{bshape:?}"
                ));
            }
            if ashape[1] != bshape[0] {
                return err(format!(
                    "dot shapes disagree: a is {ashape:?}, b is {bshape:?} (a's k = {} but b's k = {})",
                    ashape[1], bshape[0]
                ));
            }
            if ad != bd {
                return err(format!(
                    "dot operands must have one dtype, got {ad} and {bd}"
                ));
            }
            let out = vec![ashape[0], bshape[1]];
            if let Some(c) = c {
                let (cd, cshape) = register(f, *c, "operand c")?;
                if cshape != out {
                    return err(format!("dot addend c is {cshape:?}, expected {out:?}"));
                }
                if cd != *acc_dtype {
                    return err(format!(
                        "dot addend c is {cd}, expected the accumulator dtype {acc_dtype}"
                    ));
                }
            }
            reg(*acc_dtype, out)
        }
        InstKind::Cast { x, dtype } => {
            let (_, shape) = register(f, *x, "operand")?;
            reg(*dtype, shape)
        }
        InstKind::Unary { op, x } => {
            let (d, shape) = register(f, *x, "operand")?;
            if op.float_only() && !d.is_float() {
                return err(format!("{} needs a float tile, got {d}", op.name()));
            }
            if matches!(op, crate::inst::TileUnaryOp::BitNot) && !d.is_int() {
                return err(format!("bitnot needs an integer tile, got {d}"));
            }
            reg(d, shape)
        }
        InstKind::Binary { op, a, b } => {
            let sa = operand_shape(f, *a, "operand a")?;
            let sb = operand_shape(f, *b, "operand b")?;
            let (dtype, shape) = match (sa, sb) {
                (Some((da, sa)), Some((db, sb))) => {
                    if da != db {
                        return err(format!(
                            "{} operands must have one dtype, got {da} and {db}",
                            op.name()
                        ));
                    }
                    (da, broadcast(&sa, &sb)?)
                }
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => {
                    return err(format!("{} needs at least one tile operand", op.name()))
                }
            };
            if op.int_only() && !dtype.is_int() {
                return err(format!("{} needs integer tiles, got {dtype}", op.name()));
            }
            reg(if op.is_comparison() { BOOL } else { dtype }, shape)
        }
        InstKind::Where { cond, x, y } => {
            let (cd, cshape) = register(f, *cond, "condition")?;
            if cd != BOOL {
                return err(format!(
                    "where condition must be a bool (u1) tile, got {cd}"
                ));
            }
            let sx = operand_shape(f, *x, "operand x")?;
            let sy = operand_shape(f, *y, "operand y")?;
            let (dtype, shape) = match (sx, sy) {
                (Some((dx, sx)), Some((dy, sy))) => {
                    if dx != dy {
                        return err(format!(
                            "where operands must have one dtype, got {dx} and {dy}"
                        ));
                    }
                    (dx, broadcast(&sx, &sy)?)
                }
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => return err("where needs at least one tile operand for x or y"),
            };
            reg(dtype, broadcast(&cshape, &shape)?)
        }
        InstKind::View {
            x,
            dtype,
            shape,
            layout,
        } => {
            register(f, *x, "operand")?;
            let l = f
                .layouts
                .try_get(*layout)
                .ok_or_else(|| TypeError(format!("layout handle {layout:?} does not exist")))?;
            if l.shape() != shape.as_slice() {
                return err(format!(
                    "view shape {shape:?} differs from its layout's shape {:?}",
                    l.shape()
                ));
            }
            TensorType::Register {
                dtype: *dtype,
                shape: shape.clone(),
                layout: Some(*layout),
            }
        }
        InstKind::Reduce {
            op,
            x,
            dim,
            keepdim,
        } => {
            let (d, shape) = register(f, *x, "operand")?;
            if *dim >= shape.len() {
                return err(format!(
                    "{} over dim {dim} of a rank-{} tile",
                    op.name(),
                    shape.len()
                ));
            }
            let mut out = shape.clone();
            if *keepdim {
                out[*dim] = 1;
            } else {
                out.remove(*dim);
            }
            reg(d, out)
        }
        InstKind::LockSemaphore { sem, index, .. }
        | InstKind::ReleaseSemaphore { sem, index, .. } => {
            let (d, rank) = global_rank(f, *sem, "semaphore")?;
            if d != (DType::Int {
                bits: 32,
                signed: true,
            }) {
                return err(format!("semaphores must be i32, got {d}"));
            }
            if index.len() != rank {
                return err(format!(
                    "{} indices given for a semaphore tensor of rank {rank}",
                    index.len()
                ));
            }
            return Ok(None);
        }
        InstKind::AnnotateLayout { tensor, layout } => {
            let (_, shape) = register(f, *tensor, "annotated tensor")?;
            let l = f
                .layouts
                .try_get(*layout)
                .ok_or_else(|| TypeError(format!("layout handle {layout:?} does not exist")))?;
            if l.shape() != shape.as_slice() {
                return err(format!(
                    "layout shape {:?} differs from the tensor's shape {shape:?}",
                    l.shape()
                ));
            }
            if l.num_threads() != f.num_threads() {
                return err(format!(
                    "layout spans {} threads but the block has {} ({} warps)",
                    l.num_threads(),
                    f.num_threads(),
                    f.warps
                ));
            }
            return Ok(None);
        }
        InstKind::AnnotateSharedLayout { tensor, layout } => {
            let (_, shape) = shared(f, *tensor, "annotated tensor")?;
            let l = f.shared_layouts.try_get(*layout).ok_or_else(|| {
                TypeError(format!("shared layout handle {layout:?} does not exist"))
            })?;
            if l.shape() != shape.as_slice() {
                return err(format!(
                    "layout shape {:?} differs from the tensor's shape {shape:?}",
                    l.shape()
                ));
            }
            return Ok(None);
        }
        InstKind::Print { tensor, .. } => {
            tensor_type(f, *tensor)?;
            return Ok(None);
        }
    };
    Ok(Some(ty))
}

/// Tile shapes must be non-empty with positive extents and at most 2^24 elements.
pub fn check_static_shape(shape: &[usize]) -> Result<(), TypeError> {
    if shape.is_empty() {
        return err("a tile needs at least one dimension");
    }
    if shape.contains(&0) {
        return err(format!("tile shape {shape:?} has an empty dimension"));
    }
    let mut n: usize = 1;
    for &d in shape {
        n = n.saturating_mul(d);
    }
    if n > 1 << 24 {
        return err(format!(
            "tile shape {shape:?} has {n} elements, more than the 2^24 allowed"
        ));
    }
    Ok(())
}
