//! The one error type of the crate.

/// Everything that can go wrong parsing or running PTX.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PtxError {
    /// The text is not PTX of the documented subset.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based source line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The launch does not fit the entry (parameters, geometry, shared memory).
    #[error("launch: {0}")]
    Launch(String),
    /// An instruction failed while executing (bad address, division by zero, ...).
    #[error("line {line}: `{inst}`: {message} (block {block:?}, thread {thread})")]
    Exec {
        /// 1-based source line of the instruction.
        line: usize,
        /// The instruction's source text.
        inst: String,
        /// `%ctaid` of the block.
        block: [u32; 3],
        /// Linear thread index in the block.
        thread: u32,
        /// What went wrong.
        message: String,
    },
    /// The launch executed more instructions than [`crate::RunOptions::max_steps`].
    #[error(
        "step limit of {max_steps} instructions exceeded at line {line}: `{inst}` \
         (block {block:?}, thread {thread})"
    )]
    StepLimit {
        /// The limit.
        max_steps: u64,
        /// 1-based source line of the instruction that went over.
        line: usize,
        /// Its source text.
        inst: String,
        /// `%ctaid` of the block.
        block: [u32; 3],
        /// Linear thread index in the block.
        thread: u32,
    },
    /// Threads could not synchronize: barrier divergence, lanes of a warp at different
    /// collectives, a collective in a partial warp, or a deadlock.
    #[error("block {block:?}: {message}")]
    Sync {
        /// `%ctaid` of the block.
        block: [u32; 3],
        /// What happened, naming the lines involved.
        message: String,
    },
}
