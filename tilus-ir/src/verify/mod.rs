//! The verifier: checks a program and returns a [`VerifiedProgram`] token that later stages
//! (the interpreter, lowering) require.
//!
//! ```text
//!  Program ─► handles ─► declarations + launch ─► statements in program order ─► async copies ─► VerifiedProgram
//!             (handles.rs) (launch.rs)             (stmts.rs + one file per           (copy_async.rs)
//!                                                   instruction family)
//! ```
//!
//! 1. **Handles** (`handles.rs`): every handle in every arena, statement, instruction and
//!    expression indexes its arena, no instruction appears twice in the body and scalar
//!    expressions have no cycles. A function that fails here is not checked further; every
//!    later check indexes arenas without checks.
//! 2. **Declarations and launch attributes** (`launch.rs`): warps in 1..=32, a grid of 1 to 3
//!    integer extents computed from parameters only, unique parameter / `let` / tensor names,
//!    valid dtypes, declared layouts that fit their tensors.
//! 3. **Statements in program order** (`stmts.rs`): scalar expressions are typed (`exprs.rs`:
//!    integer, float and bool rules; literals adapt to the other operand; conditions are
//!    bool; loop bounds are integers), variables are used in scope and only `let` variables
//!    are assigned. Every instruction: its tensors are defined earlier in program order and in
//!    an enclosing scope, shared tensors are not used after `free_shared`, its operands fit
//!    [`crate::typing::result_type`] (the single source of shape and dtype rules), its result
//!    matches the tensor it defines or overwrites; then the family's own checks, dispatched
//!    with an exhaustive `match` on [`crate::inst::InstKind`] to the files named in
//!    `inst.rs`: `memory`, `transfer`, `copy_async`, `dot`, `elementwise`, `view`, `reduce`,
//!    `sync`, `annotate`.
//! 4. **Asynchronous copies** (`copy_async.rs`): a `load_shared` of a tile written by
//!    `copy_async` needs a `wait_group`/`wait_all` (after a `commit_group`) in between on
//!    every path, loop back edges included. This is conservative: any wait counts; the
//!    interpreter checks the exact group arithmetic at run time.
//!
//! Errors are collected, not returned at the first one; each names the kernel, the
//! instruction (mnemonic and the tensor it defines, e.g. `` `dot` (%acc) ``), its source
//! position for parsed programs, and says what was expected. A tensor that is undefined or
//! used after free is reported once, at its first bad use.

mod annotate;
mod context;
mod copy_async;
mod dot;
mod elementwise;
mod exprs;
mod handles;
mod launch;
mod memory;
mod reduce;
mod stmts;
mod sync;
mod transfer;
mod view;

use std::collections::{HashMap, HashSet};
use std::fmt;

use thiserror::Error;

use crate::expr::{ExprId, ScalarType};
use crate::program::{Function, InstId, LayoutId, Loc, Program, SharedLayoutId, TensorId};

/// One verification error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct VerifyError {
    /// The kernel.
    pub function: String,
    /// The instruction or statement (its mnemonic, e.g. `dot`, or `for`, `if`, `let`,
    /// `assign`), when the error is about one.
    pub inst: Option<String>,
    /// The tensor (`%acc`) or variable (`i`) the instruction or statement defines or writes,
    /// when there is one.
    pub target: Option<String>,
    /// Where it was written, for parsed programs.
    pub loc: Option<Loc>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = self.loc {
            write!(f, "line {}:{}: ", loc.line, loc.column)?;
        }
        write!(f, "in kernel `{}`", self.function)?;
        if let Some(inst) = &self.inst {
            write!(f, ", `{inst}`")?;
            if let Some(target) = &self.target {
                write!(f, " ({target})")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error found (the verifier does not stop at the first one).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct VerifyErrors(pub Vec<VerifyError>);

impl VerifyErrors {
    /// Whether some error's message contains `needle` (for tests and tools).
    pub fn contains(&self, needle: &str) -> bool {
        self.0.iter().any(|e| e.message.contains(needle))
    }
}

impl fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// What the verifier learned about one function, for later stages.
#[derive(Debug, Clone, Default)]
pub struct FunctionInfo {
    /// The register layout of each register tensor whose layout is known: declared in its
    /// type, pinned by `annotate_layout` (anywhere in the function), or given by the `view`
    /// that defines it.
    pub register_layouts: HashMap<TensorId, LayoutId>,
    /// The shared layout of each shared tensor whose layout is declared or annotated.
    pub shared_layouts: HashMap<TensorId, SharedLayoutId>,
    /// The instruction that defines each tensor (its [`crate::program::Out::New`]).
    pub defining_inst: HashMap<TensorId, InstId>,
    /// For each tensor made by `slice`, the tensor it was sliced from (which may itself be
    /// a slice; see [`FunctionInfo::slice_root`]).
    pub slice_sources: HashMap<TensorId, TensorId>,
    /// The type of every scalar expression, literals resolved by their context (an integer
    /// literal added to an `i64` is `i64`; one with no context is `i32`, a float one `f32`).
    pub expr_types: HashMap<ExprId, ScalarType>,
}

impl FunctionInfo {
    /// The register layout of `t`, when known.
    pub fn layout_of(&self, t: TensorId) -> Option<LayoutId> {
        self.register_layouts.get(&t).copied()
    }

    /// The shared layout of `t`, when declared or annotated.
    pub fn shared_layout_of(&self, t: TensorId) -> Option<SharedLayoutId> {
        self.shared_layouts.get(&t).copied()
    }

    /// The instruction that defines `t`.
    pub fn defining_inst(&self, t: TensorId) -> Option<InstId> {
        self.defining_inst.get(&t).copied()
    }

    /// The tensor that owns the memory `t` refers to: `t` itself, or the source of the
    /// (chain of) slices that made it.
    pub fn slice_root(&self, t: TensorId) -> TensorId {
        let mut cur = t;
        let mut seen = HashSet::new();
        while let Some(&src) = self.slice_sources.get(&cur) {
            if !seen.insert(cur) {
                break;
            }
            cur = src;
        }
        cur
    }

    /// The type of a scalar expression used by the function.
    pub fn expr_type(&self, e: ExprId) -> Option<ScalarType> {
        self.expr_types.get(&e).copied()
    }
}

/// A program that passed the verifier. Only [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedProgram {
    program: Program,
    info: Vec<FunctionInfo>,
}

impl VerifiedProgram {
    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Gives the program back.
    pub fn into_program(self) -> Program {
        self.program
    }

    /// The facts about the `i`-th function.
    pub fn info(&self, i: usize) -> Option<&FunctionInfo> {
        self.info.get(i)
    }

    /// The function called `name`, with its index.
    pub fn function(&self, name: &str) -> Option<(usize, &Function)> {
        self.program
            .functions
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
    }

    /// Every function with its facts, in program order.
    pub fn functions(&self) -> impl Iterator<Item = (&Function, &FunctionInfo)> {
        self.program.functions.iter().zip(self.info.iter())
    }
}

/// Verifies a program: every error of every function, or the token later stages require.
pub fn verify(program: Program) -> Result<VerifiedProgram, VerifyErrors> {
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    for f in &program.functions {
        if !names.insert(f.name.as_str()) {
            errors.push(VerifyError {
                function: f.name.clone(),
                inst: None,
                target: None,
                loc: f.loc,
                message: format!("two kernels are named `{}`", f.name),
            });
        }
    }
    let mut info = Vec::with_capacity(program.functions.len());
    for f in &program.functions {
        let (i, errs) = verify_function(f);
        errors.extend(errs);
        info.push(i);
    }
    if errors.is_empty() {
        Ok(VerifiedProgram { program, info })
    } else {
        Err(VerifyErrors(errors))
    }
}

/// The deepest scalar expression a program may contain (the interpreter's and the
/// compiler's limit too).
pub const MAX_EXPR_DEPTH: usize = 1000;

/// The structural checks every consumer of a program relies on before it walks it: handles
/// and expression depth (what the printer needs; [`verify`] does these and everything
/// else).
pub fn check_structure(program: &Program) -> Result<(), VerifyErrors> {
    let mut errors = Vec::new();
    for f in &program.functions {
        let mut errs = Vec::new();
        if let Some(order) = handles::check(f, &mut errs) {
            errs.extend(too_deep(f, &order));
        }
        errors.extend(errs);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(errors))
    }
}

/// The error for the first expression nested deeper than [`MAX_EXPR_DEPTH`], computed in
/// one pass over the arena in operand order.
fn too_deep(f: &Function, order: &[crate::expr::ExprId]) -> Option<VerifyError> {
    use crate::expr::Expr;
    let mut depth = vec![0usize; f.exprs.len()];
    for &e in order {
        let d = |c: crate::expr::ExprId| depth.get(c.index()).copied().unwrap_or(0);
        let here = 1 + match f.exprs.try_get(e)? {
            Expr::Unary(_, a) | Expr::Cast(_, a) => d(*a),
            Expr::Binary(_, a, b) => d(*a).max(d(*b)),
            Expr::Select(c, a, b) => d(*c).max(d(*a)).max(d(*b)),
            _ => 0,
        };
        if here > MAX_EXPR_DEPTH {
            return Some(VerifyError {
                function: f.name.clone(),
                inst: None,
                target: None,
                loc: f.loc,
                message: format!(
                    "an expression is nested more than {MAX_EXPR_DEPTH} deep (split it with `let`)"
                ),
            });
        }
        if let Some(slot) = depth.get_mut(e.index()) {
            *slot = here;
        }
    }
    None
}

/// Runs every check on one function: the facts found and the errors.
fn verify_function(f: &Function) -> (FunctionInfo, Vec<VerifyError>) {
    let mut errors = Vec::new();
    // 1. Handles first: everything after indexes arenas without checks.
    let Some(order) = handles::check(f, &mut errors) else {
        return (FunctionInfo::default(), errors);
    };
    // 1b. Expression depth: every later pass, the printer, the interpreter and the compiler
    // may recurse over an expression, so a deeper one is rejected here, not overflowed there.
    if let Some(e) = too_deep(f, &order) {
        errors.push(e);
        return (FunctionInfo::default(), errors);
    }
    let mut cx = context::Checker::new(f, &order, errors);
    // 2. Declarations and launch attributes.
    launch::check(&mut cx);
    // 3. Statements in program order.
    stmts::check_body(&mut cx);
    // 4. The path-sensitive check of asynchronous copies.
    copy_async::check_pending(&mut cx);
    cx.finish()
}
