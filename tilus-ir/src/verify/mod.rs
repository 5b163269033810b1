//! The verifier: checks a program and returns a [`VerifiedProgram`] token that later stages
//! (the interpreter, lowering) require.
//!
//! Checks, in order: handles (every handle indexes its arena), then for every function the
//! launch attributes, then every statement and instruction in program order (types, shapes
//! and broadcasting, layouts where given, `view` bit sizes, `dot` agreement, slices in range,
//! shared tensors used after `free_shared`, loads of `copy_async` destinations with no wait
//! before them). Every error names the instruction and, for parsed programs, its line.

use std::collections::HashMap;
use std::fmt;

use thiserror::Error;

use crate::program::{Function, LayoutId, Loc, Program, SharedLayoutId, TensorId};
use crate::typing;

/// One verification error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct VerifyError {
    /// The kernel.
    pub function: String,
    /// The instruction or statement (its mnemonic, e.g. `dot`), when the error is about one.
    pub inst: Option<String>,
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
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error found (the verifier does not stop at the first one).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct VerifyErrors(pub Vec<VerifyError>);

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

/// What the verifier learned about one function.
#[derive(Debug, Clone, Default)]
pub struct FunctionInfo {
    /// The register layout of each register tensor whose layout is known (annotated, or
    /// given by the instruction that defines it, such as `view`).
    pub register_layouts: HashMap<TensorId, LayoutId>,
    /// The shared layout of each shared tensor whose layout is annotated.
    pub shared_layouts: HashMap<TensorId, SharedLayoutId>,
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
}

/// Verifies a program.
pub fn verify(program: Program) -> Result<VerifiedProgram, VerifyErrors> {
    let mut errors = Vec::new();
    let mut info = Vec::new();
    for f in &program.functions {
        info.push(verify_function(f, &mut errors));
    }
    if errors.is_empty() {
        Ok(VerifiedProgram { program, info })
    } else {
        Err(VerifyErrors(errors))
    }
}

fn verify_function(f: &Function, errors: &mut Vec<VerifyError>) -> FunctionInfo {
    let mut info = FunctionInfo::default();
    let mut err = |inst: Option<&str>, loc: Option<Loc>, message: String| {
        errors.push(VerifyError {
            function: f.name.clone(),
            inst: inst.map(str::to_string),
            loc,
            message,
        })
    };
    if f.grid.is_empty() || f.grid.len() > 3 {
        err(
            None,
            f.loc,
            format!("the grid needs 1 to 3 extents, got {}", f.grid.len()),
        );
    }
    if f.warps == 0 || f.warps > 32 {
        err(
            None,
            f.loc,
            format!("warps must be 1 to 32, got {}", f.warps),
        );
    }
    f.for_each_inst(|i| {
        let Some(inst) = f.insts.try_get(i) else {
            err(
                None,
                None,
                format!("instruction handle {i:?} does not exist"),
            );
            return;
        };
        match typing::result_type(f, &inst.kind) {
            Ok(_) => {}
            Err(e) => err(Some(inst.kind.name()), inst.loc, e.0),
        }
        match &inst.kind {
            crate::inst::InstKind::AnnotateLayout { tensor, layout } => {
                info.register_layouts.insert(*tensor, *layout);
            }
            crate::inst::InstKind::AnnotateSharedLayout { tensor, layout } => {
                info.shared_layouts.insert(*tensor, *layout);
            }
            crate::inst::InstKind::View { layout, .. } => {
                if let Some(out) = inst.out {
                    info.register_layouts.insert(out.tensor(), *layout);
                }
            }
            _ => {}
        }
    });
    info
}
