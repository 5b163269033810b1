//! The thread interpreter's error.

use std::fmt;

use thiserror::Error;

/// The class of a thread-interpreter error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThreadInterpErrorKind {
    /// The arguments do not match the parameters.
    BadArgument,
    /// A memory access outside its buffer, shared allocation or local array.
    OutOfBounds,
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// A value that cannot be used where it is (a non-positive loop step, a grid extent
    /// that is negative or too large).
    InvalidValue,
    /// A barrier reached by only some threads of a block, threads waiting at different
    /// barriers, or a warp intrinsic not reached by every lane of the warp.
    BarrierMismatch,
    /// Every unfinished block waits on a semaphore and none can make progress.
    Deadlock,
    /// More statements were executed than [`super::RunOptions::max_steps`] allows.
    StepLimit,
    /// A `requires_clean` workspace was not all zeros at the end of the launch.
    RequiresCleanViolated,
    /// The kernel is ill-formed (the thread-IR verifier would reject it).
    InvalidKernel,
}

impl ThreadInterpErrorKind {
    /// A short name: `out of bounds`, `deadlock`, …
    pub fn name(self) -> &'static str {
        match self {
            ThreadInterpErrorKind::BadArgument => "bad argument",
            ThreadInterpErrorKind::OutOfBounds => "out of bounds",
            ThreadInterpErrorKind::DivisionByZero => "division by zero",
            ThreadInterpErrorKind::InvalidValue => "invalid value",
            ThreadInterpErrorKind::BarrierMismatch => "barrier mismatch",
            ThreadInterpErrorKind::Deadlock => "deadlock",
            ThreadInterpErrorKind::StepLimit => "step limit",
            ThreadInterpErrorKind::RequiresCleanViolated => "requires_clean violated",
            ThreadInterpErrorKind::InvalidKernel => "invalid kernel",
        }
    }
}

impl fmt::Display for ThreadInterpErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error of the thread interpreter: what, where (kernel, block, thread) and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ThreadInterpError {
    /// The class of error.
    pub kind: ThreadInterpErrorKind,
    /// The kernel.
    pub kernel: Option<String>,
    /// The block.
    pub block: Option<[u32; 3]>,
    /// The thread.
    pub thread: Option<u32>,
    /// What went wrong.
    pub message: String,
}

impl ThreadInterpError {
    /// An error without context.
    pub fn new(kind: ThreadInterpErrorKind, message: impl Into<String>) -> Self {
        ThreadInterpError {
            kind,
            kernel: None,
            block: None,
            thread: None,
            message: message.into(),
        }
    }

    /// Adds the block (when not set yet).
    pub fn in_block(mut self, block: [u32; 3]) -> Self {
        self.block.get_or_insert(block);
        self
    }

    /// Adds the thread (when not set yet).
    pub fn in_thread(mut self, thread: u32) -> Self {
        self.thread.get_or_insert(thread);
        self
    }
}

impl fmt::Display for ThreadInterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(k) = &self.kernel {
            write!(f, " in thread kernel `{k}`")?;
        }
        if let Some([x, y, z]) = self.block {
            write!(f, ", block ({x},{y},{z})")?;
        }
        if let Some(t) = self.thread {
            write!(f, ", thread {t}")?;
        }
        write!(f, ": {}", self.message)
    }
}
