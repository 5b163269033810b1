//! What the word subset cannot run, rejected up front with an error naming the construct:
//! 64-bit integers (WGSL has none; the PTX path computes addresses in 64 bits itself but
//! keeps values in 32), kernels beyond the target's block limits and, unless the profile
//! keeps them ([`Profile::warp_ops`]), tensor-core intrinsics (`mma`, `ldmatrix`) and
//! inter-block semaphores (WebGPU gives no forward-progress guarantee between workgroups).

use tilus_ir::dtype::DType;

use super::Profile;
use super::R;
use crate::error::LowerError;
use crate::thread_ir::{Const, Expr, ParamKind, Stmt, ThreadKernel, Ty};

fn unsupported(inst: impl Into<String>, reason: impl Into<String>) -> LowerError {
    LowerError::Unsupported {
        inst: inst.into(),
        reason: reason.into(),
    }
}

fn wide(d: DType) -> bool {
    d.bits() > 32
}

fn wide_ty(t: Ty) -> bool {
    matches!(t, Ty::I64 | Ty::U64)
}

const NO_64: &str = "64-bit integer values are not supported on the word-legal path (WGSL \
                     has none; PTX kernels keep values in 32 bits)";

/// Checks the whole kernel; the first problem found is returned.
pub(super) fn check(k: &ThreadKernel, profile: &Profile) -> R<()> {
    if k.num_threads == 0 || k.num_threads > profile.max_threads {
        return Err(unsupported(
            format!("kernel `{}`", k.name),
            format!(
                "{} threads per block; target {} allows 1..={} threads per block",
                k.num_threads, profile.target, profile.max_threads
            ),
        ));
    }
    if k.shared_bytes > profile.shared_bytes {
        return Err(LowerError::SharedMemoryExceeded {
            needed: u64::from(k.shared_bytes),
            available: u64::from(profile.shared_bytes),
            inst: format!("kernel `{}`", k.name),
        });
    }
    for p in &k.params {
        if let ParamKind::Scalar(t) = p.kind {
            if wide_ty(t) {
                return Err(unsupported(
                    format!("parameter #{}: {}", p.name, t.name()),
                    NO_64,
                ));
            }
        }
    }
    for (_, b) in k.buffers.iter() {
        if wide(b.dtype) {
            return Err(unsupported(
                format!("buffer @{}: {}", b.name, b.dtype),
                NO_64,
            ));
        }
    }
    for (_, s) in k.shared.iter() {
        if wide(s.dtype) {
            return Err(unsupported(
                format!("shared &{}: {}", s.name, s.dtype),
                NO_64,
            ));
        }
    }
    for (_, l) in k.locals.iter() {
        if wide(l.dtype) {
            return Err(unsupported(
                format!("local %{}: {}", l.name, l.dtype),
                NO_64,
            ));
        }
    }
    for (_, v) in k.vars.iter() {
        if wide_ty(v.ty) {
            return Err(unsupported(
                format!("variable ${}: {}", v.name, v.ty.name()),
                NO_64,
            ));
        }
    }
    for (_, e) in k.exprs.iter() {
        let t = match *e {
            Expr::Const(c @ (Const::I64(_) | Const::U64(_))) => Some(c.ty()),
            Expr::Cast(t, _) | Expr::Bitcast(t, _) if wide_ty(t) => Some(t),
            _ => None,
        };
        if let Some(t) = t {
            return Err(unsupported(format!("a {} value", t.name()), NO_64));
        }
    }
    if profile.target == "wgsl" {
        let depth = nesting(&k.body);
        if depth > WGSL_MAX_NESTING {
            return Err(unsupported(
                "statement nesting",
                format!(
                    "the statements nest {depth} deep; WGSL (naga) allows {WGSL_MAX_NESTING} \
                     levels of braces (a long `else if` chain nests one level per branch)"
                ),
            ));
        }
    }
    if profile.warp_ops {
        return Ok(());
    }
    statements(&k.body)
}

/// The nesting WGSL allows: naga's brace limit is 127, and the entry point and the
/// emitter's own blocks take a few.
const WGSL_MAX_NESTING: usize = 120;

/// The deepest nesting of `for`/`if` bodies (iterative, so it cannot overflow).
fn nesting(body: &[Stmt]) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&[Stmt], usize)> = vec![(body, 0)];
    while let Some((b, d)) = stack.pop() {
        deepest = deepest.max(d);
        for s in b {
            match s {
                Stmt::For { body, .. } => stack.push((body, d + 1)),
                Stmt::If {
                    then_body,
                    else_body,
                    ..
                } => {
                    stack.push((then_body, d + 1));
                    stack.push((else_body, d + 1));
                }
                _ => {}
            }
        }
    }
    deepest
}

fn statements(body: &[Stmt]) -> R<()> {
    for s in body {
        match s {
            Stmt::Mma { .. }
            | Stmt::LdMatrix { .. }
            | Stmt::Shuffle { .. }
            | Stmt::SemAcquire { .. }
            | Stmt::SemRelease { .. } => return Err(statement(s)),
            Stmt::For { body, .. } => statements(body)?,
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                statements(then_body)?;
                statements(else_body)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The error for a statement WGSL cannot run.
pub(super) fn statement(s: &Stmt) -> LowerError {
    match s {
        Stmt::Mma { shape, dtype, .. } => unsupported(
            format!("mma.{shape:?}.{dtype}").to_lowercase(),
            "WGSL has no tensor-core matrix multiply; lower `dot` without MMA atoms for \
             target wgsl",
        ),
        Stmt::LdMatrix { .. } => unsupported(
            "ldmatrix",
            "WGSL has no ldmatrix; use plain shared-memory loads for target wgsl",
        ),
        Stmt::Shuffle { .. } => unsupported(
            "shuffle",
            "WGSL subgroups have no fixed size of 32; lowering reduces through shared memory \
             for target wgsl",
        ),
        Stmt::SemAcquire { .. } | Stmt::SemRelease { .. } => unsupported(
            "semaphore (lock/release)",
            "WebGPU does not guarantee forward progress between workgroups, so inter-block \
             semaphores could deadlock (target wgsl)",
        ),
        _ => unsupported("statement", "not supported on target wgsl"),
    }
}
