//! Errors reported by the dtype module.

use thiserror::Error;

/// Everything that can go wrong when naming, converting or packing dtype values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DTypeError {
    /// The name is neither a canonical dtype name nor one of its aliases.
    #[error("unknown dtype `{name}`{}", did_you_mean(suggestions))]
    UnknownDType {
        /// The name as the user wrote it.
        name: String,
        /// Up to three canonical names closest to `name` (edit distance), best first.
        suggestions: Vec<String>,
    },
    /// An integer does not fit in the range of an integer dtype.
    #[error("value {value} out of range for {dtype} [{min}, {max}]")]
    ValueOutOfRange {
        /// The offending value.
        value: i128,
        /// Canonical name of the target dtype.
        dtype: String,
        /// Smallest value of the dtype.
        min: i128,
        /// Largest value of the dtype.
        max: i128,
    },
    /// A byte buffer is smaller than the packed data it must hold.
    #[error("buffer too short: need {needed} bytes, got {actual}")]
    BufferTooShort {
        /// Number of bytes required.
        needed: usize,
        /// Number of bytes available.
        actual: usize,
    },
    /// Two slices that must have the same length do not.
    #[error("length mismatch: input has {input} elements, output has {output}")]
    LengthMismatch {
        /// Length of the input slice.
        input: usize,
        /// Length of the output slice.
        output: usize,
    },
    /// A bit width outside `1..=64` was given to a packing routine.
    #[error("invalid element bit width {bits}: must be in 1..=64")]
    InvalidBitWidth {
        /// The offending width.
        bits: u32,
    },
    /// A float-only operation was applied to a non-float dtype.
    #[error("{dtype} is not a floating-point dtype")]
    NotAFloat {
        /// Canonical name of the dtype.
        dtype: String,
    },
    /// An integer-only operation was applied to a non-integer dtype.
    #[error("{dtype} is not an integer dtype")]
    NotAnInt {
        /// Canonical name of the dtype.
        dtype: String,
    },
    /// A `DType` value with fields outside the supported set (built by hand).
    #[error("invalid dtype {what}")]
    InvalidDType {
        /// Description of the invalid value.
        what: String,
    },
    /// An element index lies past the end of a packed buffer or slice.
    #[error("index {index} out of bounds for {len} elements")]
    IndexOutOfBounds {
        /// The offending index.
        index: usize,
        /// Number of elements available.
        len: usize,
    },
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let list: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
    format!("; did you mean {}?", list.join(", "))
}
