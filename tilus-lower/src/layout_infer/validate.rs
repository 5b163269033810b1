//! The final check: the layouts of a function are complete and fit what lowering relies on.

use tilus_ir::program::{Function, Inst, Out, TensorId, TensorType};

use super::rules::{self, invalid, Ctx};
use super::{print, LayoutAssignment, LayoutInferError};

/// Checks an assignment against a function, tensor by tensor, then instruction by
/// instruction:
/// - every register tensor has a layout of its shape over `32 × warps` threads, every shared
///   tensor a shared layout of its shape;
/// - elementwise operands of the result's shape share its layout, broadcast operands have
///   its reduced layout; `reduce` results have the reduced layout; `view` keeps the threads
///   and the bits per thread; shared slices agree with their parents; annotations hold.
///
/// Errors name the instruction and the tensors.
pub fn validate(f: &Function, assignment: &LayoutAssignment) -> Result<(), LayoutInferError> {
    let threads = f.num_threads();
    let mut insts = Vec::new();
    f.for_each_inst(|i| insts.push(i));
    let mut defining: Vec<(TensorId, Option<&Inst>)> = Vec::new();
    for &id in &insts {
        let inst = rules::inst(f, id)?;
        if let Some(Out::New(t)) = inst.out {
            defining.push((t, Some(inst)));
        }
    }
    for t in print::definition_order(f, &insts) {
        if !defining.iter().any(|(d, _)| *d == t) {
            defining.push((t, None));
        }
    }
    for (t, inst) in defining {
        check_tensor(f, threads, assignment, t, inst)?;
    }
    let ctx = Ctx {
        f,
        threads,
        known: assignment,
        simt: false,
    };
    for &id in &insts {
        rules::validate(&ctx, rules::inst(f, id)?)?;
    }
    Ok(())
}

/// A tensor's layout exists and has its shape (and, for registers, the block's threads).
fn check_tensor(
    f: &Function,
    threads: usize,
    assignment: &LayoutAssignment,
    t: TensorId,
    inst: Option<&Inst>,
) -> Result<(), LayoutInferError> {
    let Some(tensor) = f.tensors.try_get(t) else {
        return Ok(());
    };
    let fail = |message: String| match inst {
        Some(inst) => invalid(f, inst, &[t], message),
        None => LayoutInferError::Invalid {
            inst: "layout".into(),
            loc: None,
            tensors: vec![tensor.name.clone()],
            message,
        },
    };
    let unresolved =
        |kind, dtype: &tilus_ir::dtype::DType, shape: &[usize]| LayoutInferError::Unresolved {
            tensor: tensor.name.clone(),
            kind,
            dtype: dtype.to_string(),
            shape: shape.to_vec(),
        };
    match &tensor.ty {
        TensorType::Register { dtype, shape, .. } => {
            let l = assignment
                .register
                .get(&t)
                .ok_or_else(|| unresolved("register", dtype, shape))?;
            if l.shape() != shape.as_slice() {
                return Err(fail(format!(
                    "the layout `{l}` has shape {:?} but the tensor is {dtype}{shape:?}",
                    l.shape()
                )));
            }
            if l.num_threads() != threads {
                return Err(fail(format!(
                    "the layout `{l}` spans {} threads but the block has {threads} ({} warps)",
                    l.num_threads(),
                    f.warps
                )));
            }
        }
        TensorType::Shared { dtype, shape, .. } => {
            let l = assignment
                .shared
                .get(&t)
                .ok_or_else(|| unresolved("shared", dtype, shape))?;
            if l.shape() != shape.as_slice() {
                return Err(fail(format!(
                    "the shared layout `{l}` has shape {:?} but the tensor is {dtype}{shape:?}",
                    l.shape()
                )));
            }
        }
        TensorType::Global { .. } => {}
    }
    Ok(())
}
