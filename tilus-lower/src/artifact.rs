//! What compilation produces for the runtime: kernel source plus everything needed to launch
//! it (bindings, scalar parameter block, workgroup size, grid).

use tilus_ir::dtype::DType;

/// How a kernel parameter is passed to a WGSL kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum WgslParam {
    /// A pointer parameter: a storage buffer of `u32` words at `@group(0) @binding(binding)`;
    /// element i of `dtype` is bits [i·bits, (i+1)·bits) of the little-endian word stream.
    Buffer {
        /// Index of the parameter in the tile function.
        param: usize,
        /// Element type.
        dtype: DType,
        /// Binding number.
        binding: u32,
        /// Whether the kernel only reads it.
        read_only: bool,
    },
    /// A scalar parameter: one 32-bit word at `word` in the scalar block (a storage buffer
    /// of `u32` at binding [`WgslKernel::scalars_binding`]): integers sign- or zero-extended,
    /// `f32` as its bits, `f16` as the `f32` bits of the f16-rounded value, other floats
    /// (bf16, fp8, minifloats) as their code, bool as 0/1.
    Scalar {
        /// Index of the parameter in the tile function.
        param: usize,
        /// Its type (an integer or float of at most 32 bits; bool is `u1`).
        dtype: DType,
        /// Word index in the scalar block.
        word: u32,
    },
}

/// A global workspace (`alloc_global`) the runtime allocates per launch.
#[derive(Clone, Debug, PartialEq)]
pub struct WgslWorkspace {
    /// Binding number.
    pub binding: u32,
    /// Element type.
    pub dtype: DType,
    /// Number of elements, as a grid-style expression over the parameters.
    pub elements: GridExpr,
    /// Zero on entry (the runtime clears it) and checked zero on exit in debug runs.
    pub requires_clean: bool,
}

/// A host-evaluable integer expression over scalar parameters (grid sizes, workspace sizes).
#[derive(Clone, Debug, PartialEq)]
pub enum GridExpr {
    /// A constant.
    Const(i64),
    /// The value of scalar parameter `i` (tile-function parameter index).
    Param(usize),
    /// `a + b`
    Add(Box<GridExpr>, Box<GridExpr>),
    /// `a - b`
    Sub(Box<GridExpr>, Box<GridExpr>),
    /// `a * b`
    Mul(Box<GridExpr>, Box<GridExpr>),
    /// `a / b` (truncating)
    Div(Box<GridExpr>, Box<GridExpr>),
    /// `a % b`
    Rem(Box<GridExpr>, Box<GridExpr>),
    /// `cdiv(a, b)`
    CeilDiv(Box<GridExpr>, Box<GridExpr>),
    /// `min(a, b)`
    Min(Box<GridExpr>, Box<GridExpr>),
    /// `max(a, b)`
    Max(Box<GridExpr>, Box<GridExpr>),
}

impl GridExpr {
    /// Evaluates with the given scalar parameter values (indexed by parameter index;
    /// non-scalar parameters may hold anything). Division by zero and missing parameters give
    /// `None`.
    pub fn eval(&self, params: &[i64]) -> Option<i64> {
        let bin = |a: &GridExpr, b: &GridExpr| Some((a.eval(params)?, b.eval(params)?));
        Some(match self {
            GridExpr::Const(c) => *c,
            GridExpr::Param(i) => *params.get(*i)?,
            GridExpr::Add(a, b) => bin(a, b).and_then(|(a, b)| a.checked_add(b))?,
            GridExpr::Sub(a, b) => bin(a, b).and_then(|(a, b)| a.checked_sub(b))?,
            GridExpr::Mul(a, b) => bin(a, b).and_then(|(a, b)| a.checked_mul(b))?,
            GridExpr::Div(a, b) => bin(a, b).and_then(|(a, b)| a.checked_div(b))?,
            GridExpr::Rem(a, b) => bin(a, b).and_then(|(a, b)| a.checked_rem(b))?,
            GridExpr::CeilDiv(a, b) => {
                let (a, b) = bin(a, b)?;
                if b == 0 {
                    return None;
                }
                (a + b - 1).checked_div(b)?
            }
            GridExpr::Min(a, b) => bin(a, b).map(|(a, b)| a.min(b))?,
            GridExpr::Max(a, b) => bin(a, b).map(|(a, b)| a.max(b))?,
        })
    }
}

/// A compiled WGSL kernel with its launch contract.
#[derive(Clone, Debug, PartialEq)]
pub struct WgslKernel {
    /// Kernel name (also the entry point).
    pub name: String,
    /// The WGSL module source (validated by naga before it is returned).
    pub source: String,
    /// The entry point.
    pub entry_point: String,
    /// `@workgroup_size` (threads per block).
    pub workgroup_size: [u32; 3],
    /// How each tile-function parameter is passed, in parameter order.
    pub params: Vec<WgslParam>,
    /// Binding of the scalar block (always present; may be one dummy word).
    pub scalars_binding: u32,
    /// Words in the scalar block.
    pub scalar_words: u32,
    /// Global workspaces to allocate per launch.
    pub workspaces: Vec<WgslWorkspace>,
    /// Grid extents (x, y, z; missing ones are 1).
    pub grid: Vec<GridExpr>,
    /// Whether the module uses `enable f16;`.
    pub uses_f16: bool,
}
