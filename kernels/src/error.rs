//! The error type of the kernel library.

use thiserror::Error;
use tilus_ir::builder::BuildError;
use tilus_ir::dtype::{DType, DTypeError};
use tilus_ir::interp::InterpError;
use tilus_ir::layout::LayoutError;
use tilus_ir::verify::VerifyErrors;

/// Everything that can go wrong when generating, preparing or running a kernel.
#[derive(Debug, Error)]
pub enum KernelError {
    /// A tile configuration that the kernel cannot use; the message says which constraint
    /// failed and why it exists.
    #[error("invalid {kernel} configuration: {reason}")]
    InvalidConfig {
        /// The kernel (`a16wx`, `gemm`, `vector_add`, …).
        kernel: &'static str,
        /// The failed constraint.
        reason: String,
    },
    /// A dtype that is not supported in this role.
    #[error("unsupported {role} dtype {dtype}: expected {expected}")]
    UnsupportedDType {
        /// What the dtype is used for (`activation`, `weight`, `gemm operand`, …).
        role: &'static str,
        /// The dtype given.
        dtype: DType,
        /// What would be accepted.
        expected: &'static str,
    },
    /// A host buffer of the wrong length.
    #[error("{what} has {got} elements, expected {expected}")]
    ShapeMismatch {
        /// The buffer.
        what: &'static str,
        /// The length required by the shapes given.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// A problem size that is zero or too large for the kernel's `i32` parameters.
    #[error("invalid problem size {what} = {value}: {reason}")]
    InvalidSize {
        /// The dimension (`m`, `n`, `k`).
        what: &'static str,
        /// Its value.
        value: usize,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A weight that is NaN or infinite cannot be quantized.
    #[error("weight [{row}, {col}] is not finite ({value})")]
    NonFiniteWeight {
        /// Row (output channel n).
        row: usize,
        /// Column (reduction index k).
        col: usize,
        /// The value.
        value: f32,
    },
    /// A quantization scale does not fit the activation dtype.
    #[error(
        "the scale of group {group}, column {column} is {scale:e}, which overflows {act} \
         (weights too large for this weight type and activation dtype)"
    )]
    ScaleOverflow {
        /// Group index.
        group: usize,
        /// Output column.
        column: usize,
        /// The exact scale.
        scale: f64,
        /// The activation dtype.
        act: DType,
    },
    /// Asymmetric quantization was asked for a float weight type.
    #[error(
        "asymmetric quantization needs an integer weight type, got {0} \
         (float weight types are quantized symmetrically)"
    )]
    AsymmetricFloat(DType),
    /// A quantized weight set that does not match the configuration it is used with.
    #[error("quantized weights do not match the configuration: {0}")]
    Mismatch(String),
    /// The kernel builder rejected the program (a bug in a generator, or a configuration
    /// that slipped past validation).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The verifier rejected a generated program.
    #[error("generated program failed verification:\n{0}")]
    Verify(#[from] VerifyErrors),
    /// The interpreter stopped with an error (boxed: it is large).
    #[error(transparent)]
    Interp(Box<InterpError>),
    /// A layout operation failed (boxed: it is large).
    #[error(transparent)]
    Layout(Box<LayoutError>),
    /// A dtype operation failed (packing, range checks; boxed: it is large).
    #[error(transparent)]
    DType(Box<DTypeError>),
    /// A device (wgpu, interpreter device) failed.
    #[error("device: {0}")]
    Device(Box<tilus_runtime::RuntimeError>),
    /// Compiling the kernel for a device failed.
    #[error("compiling for the device: {0}")]
    Compile(String),

    /// A checkpoint tensor is missing or malformed.
    #[error("checkpoint tensor `{tensor}`: {message}")]
    Checkpoint {
        /// The tensor's full name (`model.layers.0.mlp.up_proj.qweight`), or the file.
        tensor: String,
        /// What is wrong, with the expected shape or dtype.
        message: String,
    },
}

macro_rules! boxed_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for KernelError {
            fn from(e: $t) -> Self {
                KernelError::$v(Box::new(e))
            }
        }
    )*};
}
boxed_from!(InterpError => Interp, LayoutError => Layout, DTypeError => DType);

/// `Result` with a [`KernelError`].
pub type Result<T, E = KernelError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    #[test]
    fn error_is_small() {
        // Results of every kernel function carry this error; keep it a few words.
        assert!(std::mem::size_of::<super::KernelError>() <= 64);
    }
}
