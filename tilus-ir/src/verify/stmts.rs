//! The statement walk, in program order: `for`, `if`, `let`, `assign`, and for every
//! instruction the checks common to all (result present, operands defined and in scope and
//! not freed, [`typing::result_type`], the result against the tensor it defines or
//! overwrites), then the family's own checks through an exhaustive `match`.

use std::collections::HashSet;

use crate::expr::ExprId;
use crate::inst::InstKind;
use crate::program::{Block, InstId, Out, Stmt, TensorType, Unroll, VarId, VarKind, VarType};
use crate::typing;

use super::context::Checker;
use super::exprs::{const_int, fmt_expr, Need};
use super::{
    annotate, copy_async, dot, elementwise, handles, memory, reduce, sync, transfer, view,
};

/// Checks the body of the function.
pub(super) fn check_body(cx: &mut Checker<'_>) {
    let f = cx.f;
    block(cx, &f.body);
}

fn block(cx: &mut Checker<'_>, stmts: &Block) {
    for s in stmts {
        match s {
            Stmt::Inst(i) => inst(cx, *i),
            Stmt::For {
                var,
                start,
                end,
                step,
                unroll,
                body,
                loc,
            } => {
                cx.at_stmt("for", Some(*var), *loc);
                let need = loop_var(cx, *var);
                cx.use_expr(*start, need, "loop start");
                cx.use_expr(*end, need, "loop end");
                cx.use_expr(*step, need, "loop step");
                loop_bounds(cx, [*start, *end, *step], *unroll);
                cx.enter("for", *loc);
                cx.loop_depth += 1;
                cx.bind_var(*var);
                block(cx, body);
                cx.loop_depth -= 1;
                cx.leave();
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
                loc,
            } => {
                cx.at_stmt("if", None, *loc);
                cx.use_expr(*cond, Need::Bool, "the condition");
                // A tile freed on either path counts as freed after the `if`.
                let before = cx.freed.clone();
                cx.enter("if", *loc);
                block(cx, then_body);
                cx.leave();
                let after_then = std::mem::replace(&mut cx.freed, before);
                cx.enter("else", *loc);
                block(cx, else_body);
                cx.leave();
                for (t, i) in after_then {
                    cx.freed.entry(t).or_insert(i);
                }
            }
            Stmt::Let { var, value, loc } => {
                cx.at_stmt("let", Some(*var), *loc);
                let need = scalar_var(cx, *var, VarKind::Let, "`let` declares");
                cx.use_expr(*value, need, "the value");
                if !cx.bound_vars.insert(*var) {
                    cx.error(format!(
                        "`{}` is declared by two `let` statements",
                        cx.f.vars[*var].name
                    ));
                }
                cx.bind_var(*var);
            }
            Stmt::Assign { var, value, loc } => {
                cx.at_stmt("assign", Some(*var), *loc);
                let need = scalar_var(cx, *var, VarKind::Let, "only `let` variables are assigned;");
                if cx.f.vars[*var].kind == VarKind::Let && !cx.var_visible(*var) {
                    cx.error(format!(
                        "`{}` is assigned before its `let` or outside the block that declares it",
                        cx.f.vars[*var].name
                    ));
                }
                cx.use_expr(*value, need, "the value");
            }
        }
    }
}

/// Checks the variable of a `for`; returns what its bounds need.
fn loop_var(cx: &mut Checker<'_>, var: VarId) -> Need {
    let v = &cx.f.vars[var];
    if v.kind != VarKind::Loop {
        let kind = cx.var_kind_name(var);
        cx.error(format!(
            "`for` binds `{}`, which is a {kind}; a loop needs its own loop variable",
            v.name
        ));
    }
    if !cx.bound_vars.insert(var) {
        cx.error(format!("loop variable `{}` is bound by two loops", v.name));
    }
    match v.ty {
        VarType::Scalar(t) if t.is_int() => Need::Type(t),
        other => {
            cx.error(format!(
                "loop variable `{}` must have an integer type, got {other:?}",
                v.name
            ));
            Need::Int
        }
    }
}

/// Checks a variable declared by `let` or assigned; returns what its value needs.
fn scalar_var(cx: &mut Checker<'_>, var: VarId, kind: VarKind, what: &str) -> Need {
    let v = &cx.f.vars[var];
    if v.kind != kind {
        let k = cx.var_kind_name(var);
        cx.error(format!("{what} `{}`, which is a {k}", v.name));
    }
    match v.ty {
        VarType::Scalar(t) => Need::Type(t),
        VarType::Pointer(_) => {
            cx.error(format!(
                "`{}` is a pointer; pointers are only parameters, used through `global_view`",
                v.name
            ));
            Need::Int
        }
    }
}

/// A constant step must be positive; `unroll full` needs constant bounds.
fn loop_bounds(cx: &mut Checker<'_>, [start, end, step]: [ExprId; 3], unroll: Unroll) {
    let f = cx.f;
    if let Some(s) = const_int(f, step) {
        if s <= 0 {
            cx.error(format!("the loop step must be positive, got {s}"));
        }
    }
    match unroll {
        Unroll::Factor(0) => cx.error("the unroll factor must be positive, got 0".into()),
        Unroll::Full => {
            for (what, e) in [("start", start), ("end", end), ("step", step)] {
                if const_int(f, e).is_none() {
                    cx.error(format!(
                        "`unroll full` needs a constant trip count, but the loop {what} is `{}`",
                        fmt_expr(f, e)
                    ));
                }
            }
        }
        Unroll::None | Unroll::Factor(_) => {}
    }
}

/// Checks one instruction.
fn inst(cx: &mut Checker<'_>, id: InstId) {
    let f = cx.f;
    let inst = &f.insts[id];
    let kind = &inst.kind;
    cx.at_inst(id);
    let name = kind.name();
    match (kind.has_result(), inst.out) {
        (true, None) => cx.error(format!(
            "`{name}` produces a tensor, but the instruction names no result"
        )),
        (false, Some(out)) => cx.error(format!(
            "`{name}` produces no tensor, but the instruction names the result {}",
            cx.name(out.tensor())
        )),
        (true, Some(Out::Existing(t))) if !kind.may_write_existing() => cx.error(format!(
            "`{name}` cannot overwrite the existing tensor {} (`<-`); only loads, `dot`, \
             `cast`, elementwise operations, `where` and reductions can",
            cx.name(t)
        )),
        _ => {}
    }
    // Operands: defined earlier, in scope, not freed. `free_shared` checks its own operand
    // (freeing twice is reported as a double free).
    let refs = handles::inst_refs(kind);
    let mut seen = HashSet::new();
    for t in refs.tensors {
        if seen.insert(t) {
            if matches!(kind, InstKind::FreeShared { .. }) {
                cx.use_visible(t);
            } else {
                cx.use_operand(t);
            }
        }
    }
    // The tensor an instruction overwrites (when it may) must exist here.
    let out = inst
        .out
        .filter(|o| !matches!(o, Out::Existing(_)) || kind.may_write_existing());
    if let Some(Out::Existing(t)) = out {
        if seen.insert(t) {
            cx.use_operand(t);
        }
    }
    // Shapes and dtypes: the typing rules.
    let (typed, result) = match typing::result_type(f, kind) {
        Ok(r) => (true, r),
        Err(e) => {
            cx.error(e.0);
            (false, None)
        }
    };
    if let (Some(ty), Some(out)) = (&result, out) {
        check_result(cx, ty, out);
    }
    family(cx, id, kind, typed);
    if let Some(Out::New(t)) = out.filter(|_| kind.has_result()) {
        cx.define(t, id);
    }
}

/// The result type against the declared type of the new tensor, or the existing tensor.
fn check_result(cx: &mut Checker<'_>, ty: &TensorType, out: Out) {
    let f = cx.f;
    match out {
        Out::New(t) => {
            let declared = &f.tensors[t].ty;
            if !cx.same_type(declared, ty) {
                cx.error(format!(
                    "the result is {} but {} is declared {}",
                    cx.describe_type(ty),
                    cx.name(t),
                    cx.describe_type(declared)
                ));
            }
        }
        Out::Existing(t) => {
            let existing = &f.tensors[t].ty;
            if !existing.is_register() {
                cx.error(format!(
                    "only register tensors can be overwritten, but {} is a {} tensor",
                    cx.name(t),
                    existing.kind_name()
                ));
            } else if !cx.same_type(existing, ty) {
                cx.error(format!(
                    "cannot write the result ({}) into {} ({}): dtype and shape must match exactly",
                    cx.describe_type(ty),
                    cx.name(t),
                    cx.describe_type(existing)
                ));
            }
        }
    }
}

/// The family's own checks; `typed` says whether the typing rules passed.
fn family(cx: &mut Checker<'_>, id: InstId, kind: &InstKind, typed: bool) {
    match kind {
        // ---- memory ----
        InstKind::GlobalView {
            ptr,
            shape,
            strides,
            ..
        } => memory::global_view(cx, *ptr, shape, strides.as_deref()),
        InstKind::AllocGlobal { shape, .. } => memory::alloc_global(cx, shape),
        InstKind::AllocShared { .. } => cx.allocated_shared.push(id),
        InstKind::FreeShared { tensor } => memory::free_shared(cx, id, *tensor, typed),
        InstKind::AllocRegister { dtype, init, .. } => memory::alloc_register(cx, *dtype, *init),
        InstKind::Slice { src, indices } => memory::slice(cx, *src, indices, typed),
        // ---- transfer ----
        InstKind::LoadGlobal { offsets, .. } | InstKind::StoreGlobal { offsets, .. } => {
            transfer::offsets(cx, offsets)
        }
        InstKind::LoadShared { .. } | InstKind::StoreShared { .. } => {}
        // ---- copy_async ----
        InstKind::CopyAsync { offsets, .. } => copy_async::copy_async(cx, offsets),
        InstKind::CommitGroup | InstKind::WaitGroup { .. } | InstKind::WaitAll => {}
        // ---- dot ----
        InstKind::Dot { a, acc_dtype, .. } => dot::dot(cx, *a, *acc_dtype, typed),
        // ---- elementwise ----
        InstKind::Cast { .. } | InstKind::Unary { .. } => {}
        InstKind::Binary { op, a, b } => elementwise::binary(cx, *op, *a, *b, typed),
        InstKind::Where { x, y, .. } => elementwise::where_(cx, *x, *y, typed),
        // ---- view ----
        InstKind::View {
            x, dtype, layout, ..
        } => view::view(cx, id, *x, *dtype, *layout, typed),
        // ---- reduce ----
        InstKind::Reduce { op, x, .. } => reduce::reduce(cx, *op, *x, typed),
        // ---- sync ----
        InstKind::Sync => {}
        InstKind::LockSemaphore { index, value, .. }
        | InstKind::ReleaseSemaphore { index, value, .. } => sync::semaphore(cx, index, *value),
        // ---- annotate ----
        InstKind::AnnotateLayout { tensor, layout } => {
            annotate::layout(cx, id, *tensor, *layout, typed)
        }
        InstKind::AnnotateSharedLayout { tensor, layout } => {
            annotate::shared_layout(cx, id, *tensor, *layout, typed)
        }
        InstKind::Print { .. } => {}
    }
}
