//! The interpreter's error: what went wrong, where (kernel, block, instruction, line) and why.

use std::fmt;

use thiserror::Error;

use crate::program::Loc;

/// The class of an interpreter error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterpErrorKind {
    /// The kernel named in [`super::run`] does not exist.
    UnknownKernel,
    /// The arguments do not match the parameters (count, scalar vs buffer, dtype, range).
    BadArgument,
    /// An access through a view lands outside its buffer (a "lying" view), a slice or
    /// semaphore index is outside its tensor, or a host-side index is out of range.
    OutOfBounds,
    /// A shared tile filled by `copy_async` is used before a `wait_group`/`wait_all`
    /// covering the copy.
    MissingWait,
    /// A data race on shared memory: a read after a write, or a write after a read, with no
    /// `sync` between.
    MissingSync,
    /// Every unfinished block waits on a semaphore and none can make progress.
    Deadlock,
    /// A shared tile is used after `free_shared`.
    UseAfterFree,
    /// Integer division or remainder by zero (scalar or tile).
    DivisionByZero,
    /// More statements were executed than [`super::RunOptions::max_steps`] allows.
    StepLimit,
    /// A `requires_clean` workspace was not all zeros at the end of the launch.
    RequiresCleanViolated,
    /// A `view` needs a layout that is not known (neither annotated nor given by the
    /// instruction that made the tile).
    MissingLayout,
    /// A `view` whose layouts do not fit (bits per thread, thread counts, shapes), or whose
    /// replicated output elements receive different values from different threads.
    ViewMismatch,
    /// A value that cannot be used where it is (a negative extent, a non-positive loop step,
    /// a float where an index is needed, a grid too large).
    InvalidValue,
    /// The program is inconsistent in a way the verifier should have caught (a tensor used
    /// before it is defined, a handle of the wrong kind).
    InvalidProgram,
}

impl InterpErrorKind {
    /// A short name: `out of bounds`, `missing wait`, …
    pub fn name(self) -> &'static str {
        match self {
            InterpErrorKind::UnknownKernel => "unknown kernel",
            InterpErrorKind::BadArgument => "bad argument",
            InterpErrorKind::OutOfBounds => "out of bounds",
            InterpErrorKind::MissingWait => "missing wait",
            InterpErrorKind::MissingSync => "missing sync",
            InterpErrorKind::Deadlock => "deadlock",
            InterpErrorKind::UseAfterFree => "use after free",
            InterpErrorKind::DivisionByZero => "division by zero",
            InterpErrorKind::StepLimit => "step limit",
            InterpErrorKind::RequiresCleanViolated => "requires_clean violated",
            InterpErrorKind::MissingLayout => "missing layout",
            InterpErrorKind::ViewMismatch => "view mismatch",
            InterpErrorKind::InvalidValue => "invalid value",
            InterpErrorKind::InvalidProgram => "invalid program",
        }
    }
}

impl fmt::Display for InterpErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything an [`InterpError`] says; its fields are reached through the error
/// (`err.kind`, `err.message`, …), which boxes them to keep `Result`s small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpErrorInfo {
    /// The class of error.
    pub kind: InterpErrorKind,
    /// The kernel.
    pub kernel: Option<String>,
    /// The block (`blockIdx` x, y, z).
    pub block: Option<[u32; 3]>,
    /// The instruction's mnemonic (`dot`, `load_shared`, …).
    pub inst: Option<String>,
    /// The tensor the instruction defines or mainly acts on, with its `%`.
    pub tensor: Option<String>,
    /// Where the instruction was written, for parsed programs.
    pub loc: Option<Loc>,
    /// What went wrong and what was expected.
    pub message: String,
}

/// An error of the interpreter.
///
/// Displayed as `line L:C: in kernel `k`, block (x,y,z), `dot` (%acc): message`, leaving out
/// the parts that are unknown (the line for programs built with the builder, the block for
/// errors found before or after the blocks run). The parts are the fields of
/// [`InterpErrorInfo`], reached directly: `err.kind`, `err.block`, `err.message`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct InterpError(Box<InterpErrorInfo>);

impl std::ops::Deref for InterpError {
    type Target = InterpErrorInfo;
    fn deref(&self) -> &InterpErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for InterpError {
    fn deref_mut(&mut self) -> &mut InterpErrorInfo {
        &mut self.0
    }
}

impl InterpError {
    /// An error with no context yet.
    pub fn new(kind: InterpErrorKind, message: impl Into<String>) -> Self {
        InterpError(Box::new(InterpErrorInfo {
            kind,
            kernel: None,
            block: None,
            inst: None,
            tensor: None,
            loc: None,
            message: message.into(),
        }))
    }
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        if let Some(loc) = self.loc {
            write!(f, "line {}:{}: ", loc.line, loc.column)?;
        }
        if let Some(k) = &self.kernel {
            write!(f, "in kernel `{k}`")?;
            any = true;
        }
        if let Some([x, y, z]) = self.block {
            write!(f, "{}block ({x},{y},{z})", if any { ", " } else { "" })?;
            any = true;
        }
        if let Some(i) = &self.inst {
            write!(f, "{}`{i}`", if any { ", " } else { "" })?;
            any = true;
        }
        if let Some(t) = &self.tensor {
            write!(f, "{}({t})", if any { " " } else { "" })?;
            any = true;
        }
        if any {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// Shorthand for an error of `kind`.
pub(crate) fn fail<T>(kind: InterpErrorKind, message: impl Into<String>) -> Result<T, InterpError> {
    Err(InterpError::new(kind, message))
}
