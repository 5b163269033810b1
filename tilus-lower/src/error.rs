//! The crate's lowering error.

use thiserror::Error;

/// Why a tile function could not be lowered to the thread IR.
///
/// Errors about one instruction name it as `` `mnemonic` (%tensor) `` in `inst`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LowerError {
    /// Layout inference failed.
    #[error("layout inference: {0}")]
    Layout(#[from] crate::layout_infer::LayoutInferError),
    /// No kernel of that name.
    #[error("no kernel `{name}` in the program (it has: {available})")]
    UnknownKernel {
        /// The name asked for.
        name: String,
        /// The kernels that exist.
        available: String,
    },
    /// The program has no function at this index.
    #[error("the program has no function #{index} (it has {count})")]
    NoFunction {
        /// The index asked for.
        index: usize,
        /// Number of functions.
        count: usize,
    },
    /// A register or shared tensor has no layout in the assignment.
    #[error("{inst}: tensor %{tensor} has no {kind} layout (layout inference must assign one)")]
    MissingLayout {
        /// The instruction.
        inst: String,
        /// The tensor.
        tensor: String,
        /// `register` or `shared`.
        kind: &'static str,
    },
    /// A layout does not fit its tensor (threads, shape).
    #[error("{inst}: the layout of %{tensor} does not fit: {reason}")]
    BadLayout {
        /// The instruction.
        inst: String,
        /// The tensor.
        tensor: String,
        /// What is wrong.
        reason: String,
    },
    /// An operand element needed by a thread is not in that thread's registers, or lives in
    /// a slot that depends on the thread (layouts that inference should have made agree).
    #[error("{inst}: {reason}")]
    LayoutMismatch {
        /// The instruction.
        inst: String,
        /// Which element, thread and operand.
        reason: String,
    },
    /// The static shared-memory allocation exceeds the target's limit.
    #[error("the kernel needs {needed} bytes of shared memory at {inst}, but the target has {available}")]
    SharedMemoryExceeded {
        /// Peak bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
        /// The instruction where the peak was reached.
        inst: String,
    },
    /// Something the lowering does not support (yet), with the reason.
    #[error("{inst}: not supported: {reason}")]
    Unsupported {
        /// The instruction or construct.
        inst: String,
        /// Why.
        reason: String,
    },
    /// A grid extent or workspace size that cannot be evaluated on the host.
    #[error("{what} must be an expression over the scalar parameters: {reason}")]
    NotHostEvaluable {
        /// Which expression (`grid extent 0`, `workspace %ws`).
        what: String,
        /// Why not.
        reason: String,
    },
    /// The simplifier failed (a malformed rule or batch: a bug in the compiler, not in the
    /// program).
    #[error("simplifier: {0}")]
    Simplify(#[from] crate::simplify::SimplifyError),
    /// The program is inconsistent in a way the verifier should have caught.
    #[error("invalid program: {0}")]
    InvalidProgram(String),
    /// A compiler bug: a stage produced output that a later check rejected (the message
    /// carries the details, e.g. the emitted WGSL and naga's diagnostic).
    #[error("internal compiler error: {0}")]
    Internal(String),
}

/// Shorthand for results of this crate's lowering.
pub type LowerResult<T> = Result<T, LowerError>;

impl LowerError {
    /// The error for a kernel name that is not in `program`.
    pub fn unknown_kernel(name: &str, program: &tilus_ir::verify::VerifiedProgram) -> Self {
        let names: Vec<&str> = program
            .program()
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        LowerError::UnknownKernel {
            name: name.to_string(),
            available: names.join(", "),
        }
    }
}
