//! Layout inference: give every register tensor a [`RegisterLayout`] and every shared tensor a
//! [`SharedLayout`] (reference/tilus.md §2.7, adapted).
//!
//! ```text
//! fixed layouts ──► rounds of per-instruction rules, to a fixed point ──► every tensor laid out?
//! (annotate_layout,      (first rule that makes progress wins;             ──► validate
//!  annotate_shared_layout, restart the round after it)
//!  view outputs)
//! ```
//!
//! 1. **Fixed layouts.** `annotate_layout`, `annotate_shared_layout`, the layout of a `view`
//!    result and a layout written in a tensor's type are fixed before anything is inferred.
//!    Two different fixed layouts for one tensor are an error naming the tensor and both.
//! 2. **Rounds.** Each round collects the instructions that still touch a tensor without a
//!    layout and sorts them by: instructions that already touch a laid-out tensor first, then
//!    the priority of their rule (the order of Tilus's `order.py`: slice, dot, elementwise and
//!    cast, load_global, reduce, where, store_global, the shared-memory rules, alloc_register),
//!    then program order; a rule that would give a *default* layout (load, store, allocation)
//!    to a tile that some elementwise instruction broadcasts goes last, so that such a tile
//!    gets the reduced layout of the result instead. The first rule that proposes a layout
//!    for a tensor without one is applied and the round restarts; rules never change a
//!    layout once it is set. The rules, one file per instruction family under `rules/`, are:
//!    - `dot`: MMA-shaped layouts ([`tilus_ir::layout::atoms::mma_block`]) when
//!      `m % 16 == 0`, `n % 8 == 0`, `k % 16 == 0` and a warp split `(wsm, wsn)` with
//!      `wsm·wsn = warps` divides the tile; among the splits, the one that agrees with the
//!      most operands already laid out, then the one with the fewest registers per thread
//!      (Tilus's `resolve_dot_config`), then the fewest `wsm`. Otherwise a generic
//!      [`auto_local_spatial`](tilus_ir::layout::auto_local_spatial) layout per operand.
//!      Operands that already have layouts keep them (the WGSL dot accepts any layouts);
//!      the addend `c` and the result share one layout when either is known.
//!    - elementwise (`cast`, unary, binary, `where`): the result's layout goes to every tile
//!      operand, reduced over the broadcast dimensions (`reduce(L, dims, keepdims=true)`,
//!      leading missing dimensions dropped); an operand of the result's shape gives the
//!      result its layout.
//!    - `load_global` / `store_global` / `load_shared` / `store_shared` / `alloc_register`:
//!      the vectorized default ([`default_layout`]).
//!    - `reduce`: `reduce(x, [dim], keepdim)`.
//!    - `alloc_shared`, `copy_async`, `load_shared`, `store_shared`: shared tensors are
//!      `row_major` unless annotated; `slice` of a shared tensor keeps the trailing modes
//!      (and the swizzle), and a laid-out slice gives its parent a row-major stack of it.
//!    - `view`: the result is fixed; its input must get a layout from elsewhere.
//!    - An instruction that overwrites an existing tensor (`%t <- …`) treats it as its result,
//!      so the written tensor and the instruction's result layout are one.
//! 3. **Check.** A tensor left without a layout is an error naming it. Then [`validate`]
//!    checks what lowering relies on, instruction by instruction: every register layout spans
//!    `32 × warps` threads and has the tensor's shape; same-shape elementwise operands share
//!    the result's layout and broadcast operands have the reduced layout; `reduce` results are
//!    the reduced layout; `view` keeps threads and bits per thread; shared slices agree with
//!    their parents; annotations hold.
//!
//! Inference is deterministic: the same program gives the same assignment.

mod print;
mod rules;
mod validate;

use std::collections::HashMap;

use thiserror::Error;
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::layout::RegisterLayout;
use tilus_ir::program::{Function, InstId, Loc, TensorId, TensorType};
use tilus_ir::verify::VerifiedProgram;

use crate::target::TargetCaps;

pub use rules::default_layout;
pub use validate::validate;

/// The layouts of one function: every register and every shared tensor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayoutAssignment {
    /// The layout of every register tensor.
    pub register: HashMap<TensorId, RegisterLayout>,
    /// The layout of every shared tensor.
    pub shared: HashMap<TensorId, SharedLayout>,
}

/// Why layouts could not be inferred (or do not fit what lowering needs).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LayoutInferError {
    /// The program has no function at the index asked for.
    #[error("the program has no function {index} (it has {count})")]
    NoSuchFunction {
        /// The index asked for.
        index: usize,
        /// How many functions the program has.
        count: usize,
    },
    /// One tensor was given two different layouts by annotations (or a `view`).
    #[error("conflicting layouts for %{tensor}: `{first}` and `{second}`")]
    ConflictingAnnotations {
        /// The tensor.
        tensor: String,
        /// The first layout fixed.
        first: String,
        /// The other one.
        second: String,
    },
    /// No rule could give this tensor a layout.
    #[error(
        "no layout could be inferred for %{tensor} ({kind} {dtype}{shape:?}); \
         annotate it with a layout"
    )]
    Unresolved {
        /// The tensor.
        tensor: String,
        /// `register` or `shared`.
        kind: &'static str,
        /// Its dtype.
        dtype: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// An instruction's layouts do not fit together (or a layout operation failed on them).
    #[error("`{inst}`{}{}: {message}", loc_suffix(.loc), tensors_suffix(.tensors))]
    Invalid {
        /// The instruction's mnemonic.
        inst: String,
        /// Where it was written, for parsed programs.
        loc: Option<Loc>,
        /// The tensors involved.
        tensors: Vec<String>,
        /// What is wrong.
        message: String,
    },
    /// The function refers to something that does not exist (the verifier rejects this).
    #[error("malformed function: {0}")]
    Malformed(String),
}

fn loc_suffix(loc: &Option<Loc>) -> String {
    loc.map(|l| format!(" at line {}:{}", l.line, l.column))
        .unwrap_or_default()
}

fn tensors_suffix(tensors: &[String]) -> String {
    if tensors.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = tensors.iter().map(|t| format!("%{t}")).collect();
        format!(" (on {})", names.join(", "))
    }
}

/// Infers the layouts of function `func_index` of a verified program.
///
/// The target decides one thing: on a target without matrix instructions
/// ([`TargetCaps::mma`] empty) an unannotated `dot` gets SIMT layouts (each
/// thread owns a block of the result and holds the whole k extent of its rows of `a` and
/// columns of `b`), so that it lowers to thread-local fused multiply-adds.
pub fn infer(
    program: &VerifiedProgram,
    func_index: usize,
    target: &TargetCaps,
) -> Result<LayoutAssignment, LayoutInferError> {
    let simt = target.mma.is_empty();
    let functions = &program.program().functions;
    let f = functions
        .get(func_index)
        .ok_or(LayoutInferError::NoSuchFunction {
            index: func_index,
            count: functions.len(),
        })?;
    infer_function(f, simt)
}

/// Infers the layouts of one function (the verifier must have accepted it); `simt` picks
/// SIMT `dot` layouts (no tensor cores).
pub(crate) fn infer_function(
    f: &Function,
    simt: bool,
) -> Result<LayoutAssignment, LayoutInferError> {
    let insts = program_order(f);
    let mut known = fixed_layouts(f, &insts)?;
    solve(f, &insts, &mut known, simt)?;
    check_complete(f, &insts, &known)?;
    validate(f, &known)?;
    Ok(known)
}

/// The instructions of the body in program order.
fn program_order(f: &Function) -> Vec<InstId> {
    let mut out = Vec::new();
    f.for_each_inst(|i| out.push(i));
    out
}

/// Records a fixed layout, or reports a conflict with the one already there.
fn fix(
    f: &Function,
    known: &mut LayoutAssignment,
    assign: rules::Assign,
) -> Result<(), LayoutInferError> {
    let conflict =
        |t: TensorId, first: String, second: String| LayoutInferError::ConflictingAnnotations {
            tensor: rules::tensor_name(f, t),
            first,
            second,
        };
    match assign {
        rules::Assign::Register(t, l) => match known.register.get(&t) {
            Some(old) if *old != l => return Err(conflict(t, old.to_string(), l.to_string())),
            Some(_) => {}
            None => {
                known.register.insert(t, l);
            }
        },
        rules::Assign::Shared(t, l) => match known.shared.get(&t) {
            Some(old) if *old != l => return Err(conflict(t, old.to_string(), l.to_string())),
            Some(_) => {}
            None => {
                known.shared.insert(t, l);
            }
        },
    }
    Ok(())
}

/// Step 1: layouts written in tensor types, annotations and `view` results.
fn fixed_layouts(f: &Function, insts: &[InstId]) -> Result<LayoutAssignment, LayoutInferError> {
    let mut known = LayoutAssignment::default();
    for (t, tensor) in f.tensors.iter() {
        let assign = match &tensor.ty {
            TensorType::Register {
                layout: Some(id), ..
            } => rules::Assign::Register(t, rules::register_layout(f, *id)?.clone()),
            TensorType::Shared {
                layout: Some(id), ..
            } => rules::Assign::Shared(t, rules::shared_layout(f, *id)?.clone()),
            _ => continue,
        };
        fix(f, &mut known, assign)?;
    }
    for &id in insts {
        let inst = rules::inst(f, id)?;
        for assign in rules::fixed(f, inst)? {
            fix(f, &mut known, assign)?;
        }
    }
    Ok(known)
}

/// Step 2: rounds of rules until none makes progress.
fn solve(
    f: &Function,
    insts: &[InstId],
    known: &mut LayoutAssignment,
    simt: bool,
) -> Result<(), LayoutInferError> {
    let threads = f.num_threads();
    let broadcast = rules::broadcast_operands(f, insts);
    loop {
        // (touches no laid-out tensor, rule priority, program position)
        let mut candidates: Vec<(bool, u8, usize)> = Vec::new();
        for (pos, &id) in insts.iter().enumerate() {
            let inst = rules::inst(f, id)?;
            let tensors = rules::laid_out_tensors(f, &inst.kind, inst.out);
            let has = |t: &TensorId| known.register.contains_key(t) || known.shared.contains_key(t);
            if tensors.iter().all(has) {
                continue;
            }
            let touches_known = tensors.iter().any(has);
            candidates.push((
                !touches_known,
                rules::rank(&inst.kind, inst.out, &broadcast),
                pos,
            ));
        }
        if candidates.is_empty() {
            return Ok(());
        }
        candidates.sort_unstable();
        let mut progress = false;
        for &(_, _, pos) in &candidates {
            let inst = rules::inst(f, insts[pos])?;
            let ctx = rules::Ctx {
                f,
                threads,
                known,
                simt,
            };
            let proposals: Vec<rules::Assign> = rules::infer(&ctx, inst)?
                .into_iter()
                .filter(|a| match a {
                    rules::Assign::Register(t, _) => !known.register.contains_key(t),
                    rules::Assign::Shared(t, _) => !known.shared.contains_key(t),
                })
                .collect();
            if proposals.is_empty() {
                continue;
            }
            for a in proposals {
                match a {
                    rules::Assign::Register(t, l) => {
                        known.register.entry(t).or_insert(l);
                    }
                    rules::Assign::Shared(t, l) => {
                        known.shared.entry(t).or_insert(l);
                    }
                }
            }
            progress = true;
            break;
        }
        if !progress {
            return Ok(());
        }
    }
}

/// Step 3: every register and shared tensor must have a layout. Reports the first one
/// missing, in definition order.
fn check_complete(
    f: &Function,
    insts: &[InstId],
    known: &LayoutAssignment,
) -> Result<(), LayoutInferError> {
    for t in print::definition_order(f, insts) {
        let Some(tensor) = f.tensors.try_get(t) else {
            continue;
        };
        let (kind, dtype, shape, has) = match &tensor.ty {
            TensorType::Register { dtype, shape, .. } => {
                ("register", dtype, shape, known.register.contains_key(&t))
            }
            TensorType::Shared { dtype, shape, .. } => {
                ("shared", dtype, shape, known.shared.contains_key(&t))
            }
            TensorType::Global { .. } => continue,
        };
        if !has {
            return Err(LayoutInferError::Unresolved {
                tensor: tensor.name.clone(),
                kind,
                dtype: dtype.to_string(),
                shape: shape.clone(),
            });
        }
    }
    Ok(())
}
