//! The per-instruction rules: one file per instruction family (the table atop
//! `tilus_ir::inst`), dispatched here by exhaustive `match` on [`InstKind`], so a new
//! instruction without a rule does not compile.
//!
//! Every family has up to three entry points:
//! - `fixed`: layouts an instruction pins before inference (annotations, `view` results);
//! - `infer`: layouts proposed for tensors that have none yet, from the ones known;
//! - `validate`: whether the final layouts of the instruction fit together.

mod annotate;
mod copy_async;
mod dot;
mod elementwise;
mod memory;
mod reduce;
mod sync;
mod transfer;
mod view;

use std::collections::HashSet;

use tilus_ir::dtype::DType;
use tilus_ir::inst::{InstKind, Operand};
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::layout::{auto_local_spatial, RegisterLayout};
use tilus_ir::program::{
    Function, Inst, InstId, LayoutId, Out, SharedLayoutId, TensorId, TensorType,
};

use super::{LayoutAssignment, LayoutInferError};

/// A layout decision.
#[derive(Clone, Debug)]
pub(crate) enum Assign {
    /// The register layout of a register tensor.
    Register(TensorId, RegisterLayout),
    /// The shared layout of a shared tensor.
    Shared(TensorId, SharedLayout),
}

/// What a rule sees: the function and the layouts known so far.
pub(crate) struct Ctx<'a> {
    /// The function.
    pub f: &'a Function,
    /// Threads per block (`32 × warps`).
    pub threads: usize,
    /// The layouts known so far (the final ones, when validating).
    pub known: &'a LayoutAssignment,
    /// The target has no matrix instructions: `dot` gets SIMT layouts.
    pub simt: bool,
}

impl Ctx<'_> {
    /// The register layout of `t`, if known.
    pub fn reg(&self, t: TensorId) -> Option<&RegisterLayout> {
        self.known.register.get(&t)
    }

    /// The shared layout of `t`, if known.
    pub fn shared(&self, t: TensorId) -> Option<&SharedLayout> {
        self.known.shared.get(&t)
    }

    /// The type of `t`.
    pub fn ty(&self, t: TensorId) -> Result<&TensorType, LayoutInferError> {
        self.f
            .tensors
            .try_get(t)
            .map(|x| &x.ty)
            .ok_or_else(|| LayoutInferError::Malformed(format!("tensor {t:?} does not exist")))
    }

    /// The dtype and shape of the register or shared tensor `t`.
    pub fn tile(&self, t: TensorId) -> Result<(DType, &[usize]), LayoutInferError> {
        match self.ty(t)? {
            TensorType::Register { dtype, shape, .. } | TensorType::Shared { dtype, shape, .. } => {
                Ok((*dtype, shape))
            }
            TensorType::Global { .. } => Err(LayoutInferError::Malformed(format!(
                "{} is a global tensor where a tile was expected",
                tensor_name(self.f, t)
            ))),
        }
    }

    /// Whether `t` is a shared tensor.
    pub fn is_shared(&self, t: TensorId) -> bool {
        self.ty(t).is_ok_and(TensorType::is_shared)
    }

    /// The register layout of `t`, or an error naming it (for validation).
    pub fn need_reg(&self, inst: &Inst, t: TensorId) -> Result<&RegisterLayout, LayoutInferError> {
        self.reg(t)
            .ok_or_else(|| invalid(self.f, inst, &[t], "the tensor has no register layout"))
    }

    /// The shared layout of `t`, or an error naming it (for validation).
    pub fn need_shared(&self, inst: &Inst, t: TensorId) -> Result<&SharedLayout, LayoutInferError> {
        self.shared(t)
            .ok_or_else(|| invalid(self.f, inst, &[t], "the tensor has no shared layout"))
    }
}

/// The name of a tensor, without the `%` sigil (its handle when it does not exist).
pub(crate) fn tensor_name(f: &Function, t: TensorId) -> String {
    f.tensors
        .try_get(t)
        .map_or_else(|| format!("{t:?}"), |x| x.name.clone())
}

/// An [`LayoutInferError::Invalid`] about `inst` and the tensors `ts`.
pub(crate) fn invalid(
    f: &Function,
    inst: &Inst,
    ts: &[TensorId],
    message: impl Into<String>,
) -> LayoutInferError {
    LayoutInferError::Invalid {
        inst: inst.kind.name().to_string(),
        loc: inst.loc,
        tensors: ts.iter().map(|&t| tensor_name(f, t)).collect(),
        message: message.into(),
    }
}

/// The instruction `id`.
pub(crate) fn inst(f: &Function, id: InstId) -> Result<&Inst, LayoutInferError> {
    f.insts
        .try_get(id)
        .ok_or_else(|| LayoutInferError::Malformed(format!("instruction {id:?} does not exist")))
}

/// The interned register layout `id`.
pub(crate) fn register_layout(
    f: &Function,
    id: LayoutId,
) -> Result<&RegisterLayout, LayoutInferError> {
    f.layouts
        .try_get(id)
        .ok_or_else(|| LayoutInferError::Malformed(format!("layout {id:?} does not exist")))
}

/// The interned shared layout `id`.
pub(crate) fn shared_layout(
    f: &Function,
    id: SharedLayoutId,
) -> Result<&SharedLayout, LayoutInferError> {
    f.shared_layouts
        .try_get(id)
        .ok_or_else(|| LayoutInferError::Malformed(format!("shared layout {id:?} does not exist")))
}

/// The tensor operands of an elementwise operand list (scalars dropped).
fn tensor_operands(ops: &[Operand]) -> Vec<TensorId> {
    ops.iter()
        .filter_map(|o| match o {
            Operand::Tensor(t) => Some(*t),
            Operand::Scalar(_) => None,
        })
        .collect()
}

/// The tensors an instruction reads or writes (operands first, then its result).
fn tensors(kind: &InstKind, out: Option<Out>) -> Vec<TensorId> {
    let mut ts = match kind {
        InstKind::GlobalView { .. }
        | InstKind::AllocGlobal { .. }
        | InstKind::AllocShared { .. }
        | InstKind::AllocRegister { .. }
        | InstKind::CommitGroup
        | InstKind::WaitGroup { .. }
        | InstKind::WaitAll
        | InstKind::Sync => Vec::new(),
        InstKind::FreeShared { tensor }
        | InstKind::AnnotateLayout { tensor, .. }
        | InstKind::AnnotateSharedLayout { tensor, .. }
        | InstKind::Print { tensor, .. } => vec![*tensor],
        InstKind::Slice { src, .. }
        | InstKind::LoadGlobal { src, .. }
        | InstKind::LoadShared { src } => vec![*src],
        InstKind::StoreGlobal { dst, src, .. }
        | InstKind::StoreShared { dst, src }
        | InstKind::CopyAsync { dst, src, .. } => vec![*dst, *src],
        InstKind::Dot { a, b, c, .. } => [Some(*a), Some(*b), *c].into_iter().flatten().collect(),
        InstKind::Cast { x, .. }
        | InstKind::Unary { x, .. }
        | InstKind::View { x, .. }
        | InstKind::Reduce { x, .. } => vec![*x],
        InstKind::Binary { a, b, .. } => tensor_operands(&[*a, *b]),
        InstKind::Where { cond, x, y } => {
            let mut v = vec![*cond];
            v.extend(tensor_operands(&[*x, *y]));
            v
        }
        InstKind::LockSemaphore { sem, .. } | InstKind::ReleaseSemaphore { sem, .. } => {
            vec![*sem]
        }
    };
    if let Some(o) = out {
        ts.push(o.tensor());
    }
    ts
}

/// The register and shared tensors an instruction touches (those that need layouts).
/// `print` and `annotate_*` are left out: they neither propose nor need anything.
pub(crate) fn laid_out_tensors(f: &Function, kind: &InstKind, out: Option<Out>) -> Vec<TensorId> {
    if matches!(
        kind,
        InstKind::Print { .. }
            | InstKind::AnnotateLayout { .. }
            | InstKind::AnnotateSharedLayout { .. }
    ) {
        return Vec::new();
    }
    tensors(kind, out)
        .into_iter()
        .filter(|&t| {
            f.tensors
                .try_get(t)
                .is_some_and(|x| x.ty.is_register() || x.ty.is_shared())
        })
        .collect()
}

/// Added to the priority of a default-layout rule whose tile is a broadcast operand.
const DEFERRED: u8 = 32;

/// Tensors that some elementwise instruction reads with broadcasting (a shape other than its
/// result's). Their layout should come from the result (reduced), not from a default, so the
/// rules that would give them a default go after every other rule.
pub(crate) fn broadcast_operands(f: &Function, insts: &[InstId]) -> HashSet<TensorId> {
    let mut set = HashSet::new();
    for &id in insts {
        let Some(inst) = f.insts.try_get(id) else {
            continue;
        };
        let ops = match &inst.kind {
            InstKind::Binary { a, b, .. } => tensor_operands(&[*a, *b]),
            InstKind::Where { cond, x, y } => {
                let mut v = vec![*cond];
                v.extend(tensor_operands(&[*x, *y]));
                v
            }
            _ => continue,
        };
        let shape_of = |t: TensorId| f.tensors.try_get(t).and_then(|x| x.ty.static_shape());
        let Some(out) = inst.out.and_then(|o| shape_of(o.tensor())) else {
            continue;
        };
        set.extend(ops.into_iter().filter(|&t| shape_of(t) != Some(out)));
    }
    set
}

/// The sort key of an instruction's rule: [`priority`], pushed after every other rule when the
/// rule would give a default layout to a broadcast operand (see [`broadcast_operands`]).
pub(crate) fn rank(kind: &InstKind, out: Option<Out>, broadcast: &HashSet<TensorId>) -> u8 {
    let seeded = match kind {
        InstKind::LoadGlobal { .. }
        | InstKind::LoadShared { .. }
        | InstKind::AllocRegister { .. } => out.map(Out::tensor),
        InstKind::StoreGlobal { src, .. } | InstKind::StoreShared { src, .. } => Some(*src),
        _ => None,
    };
    let deferred = seeded.is_some_and(|t| broadcast.contains(&t));
    priority(kind) + if deferred { DEFERRED } else { 0 }
}

/// The rule order (lower first), after Tilus's `order.py`.
pub(crate) fn priority(kind: &InstKind) -> u8 {
    match kind {
        InstKind::Slice { .. } => 0,
        InstKind::Dot { .. } => 1,
        InstKind::Cast { .. } | InstKind::Unary { .. } | InstKind::Binary { .. } => 2,
        InstKind::LoadGlobal { .. } => 3,
        InstKind::Reduce { .. } => 4,
        InstKind::Where { .. } => 5,
        InstKind::StoreGlobal { .. } => 6,
        InstKind::LoadShared { .. } | InstKind::StoreShared { .. } => 7,
        InstKind::CopyAsync { .. } => 8,
        InstKind::AllocShared { .. } => 9,
        InstKind::AllocRegister { .. } => 10,
        // These never propose anything.
        InstKind::GlobalView { .. }
        | InstKind::AllocGlobal { .. }
        | InstKind::FreeShared { .. }
        | InstKind::CommitGroup
        | InstKind::WaitGroup { .. }
        | InstKind::WaitAll
        | InstKind::View { .. }
        | InstKind::Sync
        | InstKind::LockSemaphore { .. }
        | InstKind::ReleaseSemaphore { .. }
        | InstKind::AnnotateLayout { .. }
        | InstKind::AnnotateSharedLayout { .. }
        | InstKind::Print { .. } => 11,
    }
}

/// The result tensor of an instruction that has one.
fn result(f: &Function, inst: &Inst) -> Result<TensorId, LayoutInferError> {
    inst.out
        .map(Out::tensor)
        .ok_or_else(|| invalid(f, inst, &[], "the instruction has no result tensor"))
}

/// Layouts an instruction pins before inference.
pub(crate) fn fixed(f: &Function, inst: &Inst) -> Result<Vec<Assign>, LayoutInferError> {
    match &inst.kind {
        InstKind::AnnotateLayout { tensor, layout } => {
            annotate::fixed_register(f, *tensor, *layout)
        }
        InstKind::AnnotateSharedLayout { tensor, layout } => {
            annotate::fixed_shared(f, *tensor, *layout)
        }
        InstKind::View { layout, .. } => view::fixed(f, result(f, inst)?, *layout),
        InstKind::GlobalView { .. }
        | InstKind::AllocGlobal { .. }
        | InstKind::AllocShared { .. }
        | InstKind::FreeShared { .. }
        | InstKind::AllocRegister { .. }
        | InstKind::Slice { .. }
        | InstKind::LoadGlobal { .. }
        | InstKind::StoreGlobal { .. }
        | InstKind::LoadShared { .. }
        | InstKind::StoreShared { .. }
        | InstKind::CopyAsync { .. }
        | InstKind::CommitGroup
        | InstKind::WaitGroup { .. }
        | InstKind::WaitAll
        | InstKind::Dot { .. }
        | InstKind::Cast { .. }
        | InstKind::Unary { .. }
        | InstKind::Binary { .. }
        | InstKind::Where { .. }
        | InstKind::Reduce { .. }
        | InstKind::Sync
        | InstKind::LockSemaphore { .. }
        | InstKind::ReleaseSemaphore { .. }
        | InstKind::Print { .. } => Ok(Vec::new()),
    }
}

/// Layouts the rule of `inst` proposes from what is known. May include tensors that already
/// have layouts; the driver keeps only the new ones.
pub(crate) fn infer(ctx: &Ctx<'_>, inst: &Inst) -> Result<Vec<Assign>, LayoutInferError> {
    let f = ctx.f;
    match &inst.kind {
        // ---- memory ----
        InstKind::GlobalView { .. }
        | InstKind::AllocGlobal { .. }
        | InstKind::FreeShared { .. } => Ok(Vec::new()),
        InstKind::AllocShared { shape, .. } => {
            memory::alloc_shared(ctx, inst, result(f, inst)?, shape)
        }
        InstKind::AllocRegister { dtype, shape, .. } => {
            memory::alloc_register(ctx, result(f, inst)?, *dtype, shape)
        }
        InstKind::Slice { src, indices } => {
            memory::slice(ctx, inst, *src, indices.len(), result(f, inst)?)
        }
        // ---- transfer ----
        InstKind::LoadGlobal { src, dims, .. } => {
            transfer::load_global(ctx, result(f, inst)?, *src, dims.as_deref())
        }
        InstKind::StoreGlobal { dst, src, dims, .. } => {
            transfer::store_global(ctx, *dst, *src, dims.as_deref())
        }
        InstKind::LoadShared { src } => transfer::shared_pair(ctx, inst, *src, result(f, inst)?),
        InstKind::StoreShared { dst, src } => transfer::shared_pair(ctx, inst, *dst, *src),
        // ---- copy_async ----
        InstKind::CopyAsync { dst, .. } => copy_async::copy_async(ctx, inst, *dst),
        InstKind::CommitGroup | InstKind::WaitGroup { .. } | InstKind::WaitAll => Ok(Vec::new()),
        // ---- dot ----
        InstKind::Dot { a, b, c, acc_dtype } => {
            dot::infer(ctx, inst, *a, *b, *c, result(f, inst)?, *acc_dtype)
        }
        // ---- elementwise ----
        InstKind::Cast { x, .. } | InstKind::Unary { x, .. } => {
            elementwise::infer(ctx, inst, &[*x], result(f, inst)?)
        }
        InstKind::Binary { a, b, .. } => {
            elementwise::infer(ctx, inst, &tensor_operands(&[*a, *b]), result(f, inst)?)
        }
        InstKind::Where { cond, x, y } => {
            let mut ops = vec![*cond];
            ops.extend(tensor_operands(&[*x, *y]));
            elementwise::infer(ctx, inst, &ops, result(f, inst)?)
        }
        // ---- view ----
        InstKind::View { .. } => Ok(Vec::new()),
        // ---- reduce ----
        InstKind::Reduce {
            x, dim, keepdim, ..
        } => reduce::infer(ctx, inst, *x, *dim, *keepdim, result(f, inst)?),
        // ---- sync ----
        InstKind::Sync | InstKind::LockSemaphore { .. } | InstKind::ReleaseSemaphore { .. } => {
            sync::infer()
        }
        // ---- annotate ----
        InstKind::AnnotateLayout { .. }
        | InstKind::AnnotateSharedLayout { .. }
        | InstKind::Print { .. } => annotate::infer(),
    }
}

/// Checks that the final layouts of `inst` fit together.
pub(crate) fn validate(ctx: &Ctx<'_>, inst: &Inst) -> Result<(), LayoutInferError> {
    let f = ctx.f;
    match &inst.kind {
        // ---- memory ----
        InstKind::GlobalView { .. }
        | InstKind::AllocGlobal { .. }
        | InstKind::AllocShared { .. }
        | InstKind::FreeShared { .. }
        | InstKind::AllocRegister { .. } => Ok(()),
        InstKind::Slice { src, indices } => {
            memory::validate_slice(ctx, inst, *src, indices.len(), result(f, inst)?)
        }
        // ---- transfer ----
        InstKind::LoadGlobal { .. } => transfer::validate_register(ctx, inst, result(f, inst)?),
        InstKind::StoreGlobal { src, .. } => transfer::validate_register(ctx, inst, *src),
        InstKind::LoadShared { src } => {
            transfer::validate_shared_pair(ctx, inst, *src, result(f, inst)?)
        }
        InstKind::StoreShared { dst, src } => transfer::validate_shared_pair(ctx, inst, *dst, *src),
        // ---- copy_async ----
        InstKind::CopyAsync { dst, .. } => copy_async::validate(ctx, inst, *dst),
        InstKind::CommitGroup | InstKind::WaitGroup { .. } | InstKind::WaitAll => Ok(()),
        // ---- dot ----
        InstKind::Dot { a, b, c, .. } => dot::validate(ctx, inst, *a, *b, *c, result(f, inst)?),
        // ---- elementwise ----
        InstKind::Cast { x, .. } | InstKind::Unary { x, .. } => {
            elementwise::validate(ctx, inst, &[*x], result(f, inst)?)
        }
        InstKind::Binary { a, b, .. } => {
            elementwise::validate(ctx, inst, &tensor_operands(&[*a, *b]), result(f, inst)?)
        }
        InstKind::Where { cond, x, y } => {
            let mut ops = vec![*cond];
            ops.extend(tensor_operands(&[*x, *y]));
            elementwise::validate(ctx, inst, &ops, result(f, inst)?)
        }
        // ---- view ----
        InstKind::View { x, dtype, .. } => view::validate(ctx, inst, *x, *dtype, result(f, inst)?),
        // ---- reduce ----
        InstKind::Reduce {
            x, dim, keepdim, ..
        } => reduce::validate(ctx, inst, *x, *dim, *keepdim, result(f, inst)?),
        // ---- sync ----
        InstKind::Sync | InstKind::LockSemaphore { .. } | InstKind::ReleaseSemaphore { .. } => {
            sync::validate()
        }
        // ---- annotate ----
        InstKind::AnnotateLayout { tensor, layout } => {
            annotate::validate_register(ctx, inst, *tensor, *layout)
        }
        InstKind::AnnotateSharedLayout { tensor, layout } => {
            annotate::validate_shared(ctx, inst, *tensor, *layout)
        }
        InstKind::Print { .. } => Ok(()),
    }
}

/// The vectorized default register layout of a `shape` tile of `dtype` over `threads`
/// threads (Tilus's default for global loads and stores).
///
/// The vector width `v` along the last dimension is the largest power of two that divides the
/// last extent and the elements per thread (`numel / threads`), spans at most 16 bytes, and
/// makes whole bytes (sub-byte types: `v · bits` a multiple of 8); `v = 1` when
/// `unit_stride` is false (the last dimension is not provably contiguous in memory) or no
/// such power exists. The layout is `auto_local_spatial(threads, shape / v).local(1, …, v)`.
///
/// A 64×64 f16 tile over 128 threads gives `local(4,1).spatial(16,8).local(1,8)`.
pub fn default_layout(
    threads: usize,
    shape: &[usize],
    dtype: DType,
    unit_stride: bool,
) -> RegisterLayout {
    let bits = dtype.bits() as usize;
    let last = shape.last().copied().unwrap_or(1).max(1);
    let numel: usize = shape.iter().map(|&s| s.max(1)).product();
    let per_thread = numel / threads.max(1);
    let mut v = 1;
    if unit_stride {
        let mut p = 2;
        while last.is_multiple_of(p)
            && per_thread >= p
            && per_thread.is_multiple_of(p)
            && p * bits <= 128
        {
            if (p * bits).is_multiple_of(8) {
                v = p;
            }
            p *= 2;
        }
    }
    if v == 1 {
        return auto_local_spatial(threads, shape);
    }
    let mut outer = shape.to_vec();
    let mut inner = vec![1; shape.len()];
    if let (Some(o), Some(i)) = (outer.last_mut(), inner.last_mut()) {
        *o = last / v;
        *i = v;
    }
    auto_local_spatial(threads, &outer).local(&inner)
}

/// The layout of an operand of shape `in_shape` that broadcasts to a result laid out as
/// `out`: the result's layout reduced (keeping dimensions) over the dimensions the operand
/// broadcasts along, with the leading dimensions it lacks dropped.
pub(crate) fn broadcast_source(
    out: &RegisterLayout,
    in_shape: &[usize],
) -> Result<RegisterLayout, tilus_ir::layout::LayoutError> {
    let r = out.rank();
    let extra = r.saturating_sub(in_shape.len());
    // `d - extra < in_shape.len()` whenever the operand's rank is at most the result's, and
    // `d < in_shape.len()` otherwise (`extra` is 0 then).
    let stretched: Vec<usize> = (extra..r)
        .filter(|&d| in_shape[d - extra] == 1 && out.shape()[d] != 1)
        .collect();
    let l = if stretched.is_empty() {
        out.clone()
    } else {
        out.reduce(&stretched, true)?
    };
    if extra == 0 {
        Ok(l)
    } else {
        l.reduce(&(0..extra).collect::<Vec<_>>(), false)
    }
}
