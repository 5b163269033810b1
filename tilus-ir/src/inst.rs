//! The instruction set: Tilus's core (reference/tilus.md §1), executed collectively by every
//! thread of the block.
//!
//! Instructions are grouped into families; each family has a file of the same name in every
//! stage that treats instructions one by one (`verify/`, `interp/`, and later the lowering
//! stages), and each stage dispatches with an exhaustive `match` on [`InstKind`], so adding an
//! instruction without handling it everywhere is a compile error.
//!
//! | family | instructions |
//! |---|---|
//! | `memory` | `global_view`, `alloc_global`, `alloc_shared`, `free_shared`, `alloc_register`, `slice` |
//! | `transfer` | `load_global`, `store_global`, `load_shared`, `store_shared` |
//! | `copy_async` | `copy_async`, `commit_group`, `wait_group`, `wait_all` |
//! | `dot` | `dot` |
//! | `elementwise` | `cast`, `unary`, `binary`, `where` |
//! | `view` | `view` |
//! | `reduce` | `reduce` |
//! | `sync` | `sync`, `lock_semaphore`, `release_semaphore` |
//! | `annotate` | `annotate_layout`, `print` |

use crate::dtype::DType;
use crate::expr::ExprId;
use crate::program::{LayoutId, SharedLayoutId, TensorId, VarId};

/// An operand of an elementwise instruction: a tile, or a scalar broadcast to every element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A register tensor.
    Tensor(TensorId),
    /// A scalar expression, converted to the tile's dtype.
    Scalar(ExprId),
}

/// Elementwise unary operations on register tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileUnaryOp {
    /// `-x`
    Neg,
    /// `|x|`
    Abs,
    /// `e^x`
    Exp,
    /// `2^x`
    Exp2,
    /// natural logarithm
    Log,
    /// square root
    Sqrt,
    /// `1/sqrt(x)`
    Rsqrt,
    /// round half to even
    Round,
    /// round toward −∞
    Floor,
    /// round toward +∞
    Ceil,
    /// `x*x`
    Square,
    /// `1/(1+e^-x)`
    Sigmoid,
    /// bitwise not (integers only)
    BitNot,
}

impl TileUnaryOp {
    /// Every operation.
    pub const ALL: [TileUnaryOp; 13] = [
        TileUnaryOp::Neg,
        TileUnaryOp::Abs,
        TileUnaryOp::Exp,
        TileUnaryOp::Exp2,
        TileUnaryOp::Log,
        TileUnaryOp::Sqrt,
        TileUnaryOp::Rsqrt,
        TileUnaryOp::Round,
        TileUnaryOp::Floor,
        TileUnaryOp::Ceil,
        TileUnaryOp::Square,
        TileUnaryOp::Sigmoid,
        TileUnaryOp::BitNot,
    ];

    /// The mnemonic in the text format.
    pub fn name(self) -> &'static str {
        match self {
            TileUnaryOp::Neg => "neg",
            TileUnaryOp::Abs => "abs",
            TileUnaryOp::Exp => "exp",
            TileUnaryOp::Exp2 => "exp2",
            TileUnaryOp::Log => "log",
            TileUnaryOp::Sqrt => "sqrt",
            TileUnaryOp::Rsqrt => "rsqrt",
            TileUnaryOp::Round => "round",
            TileUnaryOp::Floor => "floor",
            TileUnaryOp::Ceil => "ceil",
            TileUnaryOp::Square => "square",
            TileUnaryOp::Sigmoid => "sigmoid",
            TileUnaryOp::BitNot => "bitnot",
        }
    }

    /// Whether the operation needs a float dtype (the transcendental ones and rounding).
    pub fn float_only(self) -> bool {
        !matches!(
            self,
            TileUnaryOp::Neg | TileUnaryOp::Abs | TileUnaryOp::Square | TileUnaryOp::BitNot
        )
    }
}

/// Elementwise binary operations on register tiles (NumPy broadcasting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileBinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (truncating for integers; division by zero is an interpreter error)
    Div,
    /// `a % b` (truncating remainder for integers, `fmod` for floats)
    Rem,
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
    /// `a == b` → bool tile
    Eq,
    /// `a != b` → bool tile
    Ne,
    /// `a < b` → bool tile
    Lt,
    /// `a <= b` → bool tile
    Le,
    /// `a > b` → bool tile
    Gt,
    /// `a >= b` → bool tile
    Ge,
    /// bitwise and (integers and bool)
    BitAnd,
    /// bitwise or (integers and bool)
    BitOr,
    /// bitwise xor (integers and bool)
    BitXor,
    /// shift left (integers)
    Shl,
    /// shift right, arithmetic for signed (integers)
    Shr,
}

impl TileBinaryOp {
    /// Every operation.
    pub const ALL: [TileBinaryOp; 18] = [
        TileBinaryOp::Add,
        TileBinaryOp::Sub,
        TileBinaryOp::Mul,
        TileBinaryOp::Div,
        TileBinaryOp::Rem,
        TileBinaryOp::Min,
        TileBinaryOp::Max,
        TileBinaryOp::Eq,
        TileBinaryOp::Ne,
        TileBinaryOp::Lt,
        TileBinaryOp::Le,
        TileBinaryOp::Gt,
        TileBinaryOp::Ge,
        TileBinaryOp::BitAnd,
        TileBinaryOp::BitOr,
        TileBinaryOp::BitXor,
        TileBinaryOp::Shl,
        TileBinaryOp::Shr,
    ];

    /// The mnemonic in the text format.
    pub fn name(self) -> &'static str {
        match self {
            TileBinaryOp::Add => "add",
            TileBinaryOp::Sub => "sub",
            TileBinaryOp::Mul => "mul",
            TileBinaryOp::Div => "div",
            TileBinaryOp::Rem => "rem",
            TileBinaryOp::Min => "min",
            TileBinaryOp::Max => "max",
            TileBinaryOp::Eq => "eq",
            TileBinaryOp::Ne => "ne",
            TileBinaryOp::Lt => "lt",
            TileBinaryOp::Le => "le",
            TileBinaryOp::Gt => "gt",
            TileBinaryOp::Ge => "ge",
            TileBinaryOp::BitAnd => "and",
            TileBinaryOp::BitOr => "or",
            TileBinaryOp::BitXor => "xor",
            TileBinaryOp::Shl => "shl",
            TileBinaryOp::Shr => "shr",
        }
    }

    /// Whether the result is a bool tile (`u1`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            TileBinaryOp::Eq
                | TileBinaryOp::Ne
                | TileBinaryOp::Lt
                | TileBinaryOp::Le
                | TileBinaryOp::Gt
                | TileBinaryOp::Ge
        )
    }

    /// Whether the operation is defined on integers only.
    pub fn int_only(self) -> bool {
        matches!(
            self,
            TileBinaryOp::BitAnd
                | TileBinaryOp::BitOr
                | TileBinaryOp::BitXor
                | TileBinaryOp::Shl
                | TileBinaryOp::Shr
        )
    }
}

/// Reductions over one dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum (in the tile's dtype; floats summed in a documented order: ascending index).
    Sum,
    /// Maximum.
    Max,
    /// Minimum.
    Min,
}

impl ReduceOp {
    /// The mnemonic: `sum`, `max`, `min`.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
        }
    }
}

/// A tile instruction and its operands. The result tensor, when there is one, is the
/// instruction's [`crate::program::Out`].
#[derive(Clone, Debug, PartialEq)]
pub enum InstKind {
    // ---- memory ----
    /// View a pointer parameter as a global tensor (row-major unless strides are given).
    GlobalView {
        /// The pointer parameter.
        ptr: VarId,
        /// Element type (must equal the pointer's).
        dtype: DType,
        /// Extents.
        shape: Vec<ExprId>,
        /// Strides in elements (same rank as `shape`); `None` is row-major.
        strides: Option<Vec<ExprId>>,
    },
    /// A kernel-lifetime global workspace shared by all blocks of the launch.
    AllocGlobal {
        /// Element type.
        dtype: DType,
        /// Extents (expressions over parameters).
        shape: Vec<ExprId>,
        /// Zero on entry, and the kernel must leave it zero on exit (semaphores); the
        /// interpreter checks the exit condition.
        requires_clean: bool,
    },
    /// A shared-memory tile; must be released with `free_shared`.
    AllocShared {
        /// Element type.
        dtype: DType,
        /// Shape.
        shape: Vec<usize>,
    },
    /// Release a shared tile; using it afterwards is an error.
    FreeShared {
        /// The shared tensor.
        tensor: TensorId,
    },
    /// A register tile, optionally filled with a constant.
    AllocRegister {
        /// Element type.
        dtype: DType,
        /// Shape.
        shape: Vec<usize>,
        /// Initial value of every element (converted to `dtype`); unset tiles read as 0.
        init: Option<ExprId>,
    },
    /// `t[i, j, …]`: fix the leading indices of a shared or global tensor (e.g. the stage of
    /// a multi-stage buffer); the result aliases the source.
    Slice {
        /// The shared or global tensor.
        src: TensorId,
        /// One index per leading dimension fixed.
        indices: Vec<ExprId>,
    },

    // ---- transfer ----
    /// Global → register tile of `shape` at `offsets`, masked at the tensor bounds
    /// (out-of-bounds elements read as 0). `dims` says which global dimensions the tile spans
    /// (default: the last `shape.len()`).
    LoadGlobal {
        /// The global tensor.
        src: TensorId,
        /// Start index in every global dimension.
        offsets: Vec<ExprId>,
        /// The tile's shape.
        shape: Vec<usize>,
        /// Global dimensions spanned by the tile, in order.
        dims: Option<Vec<usize>>,
    },
    /// Register tile → global at `offsets`, masked (out-of-bounds writes are dropped).
    StoreGlobal {
        /// The global tensor.
        dst: TensorId,
        /// The register tile.
        src: TensorId,
        /// Start index in every global dimension.
        offsets: Vec<ExprId>,
        /// Global dimensions spanned by the tile.
        dims: Option<Vec<usize>>,
    },
    /// Shared tile → register tile of the same shape.
    LoadShared {
        /// The shared tensor.
        src: TensorId,
    },
    /// Register tile → shared tile of the same shape.
    StoreShared {
        /// The shared tensor.
        dst: TensorId,
        /// The register tile.
        src: TensorId,
    },

    // ---- copy_async ----
    /// Asynchronous global → shared copy of a tile at `offsets` (zero-filling out-of-bounds
    /// elements). The data becomes visible only after a `wait_group`/`wait_all` that covers
    /// its group.
    CopyAsync {
        /// The shared destination (its shape is the tile shape).
        dst: TensorId,
        /// The global source.
        src: TensorId,
        /// Start index in every global dimension.
        offsets: Vec<ExprId>,
        /// Global dimensions spanned by the tile.
        dims: Option<Vec<usize>>,
    },
    /// Close the current group of `copy_async`s.
    CommitGroup,
    /// Wait until at most `n` committed groups are still pending.
    WaitGroup {
        /// Groups allowed to remain in flight.
        n: u32,
    },
    /// Wait for every `copy_async` issued so far (committed or not).
    WaitAll,

    // ---- dot ----
    /// `a[m,k] @ b[k,n] + c[m,n]`, accumulated in `acc_dtype`, result in `acc_dtype`
    /// (or written into an existing tensor).
    Dot {
        /// Left operand `[m, k]`.
        a: TensorId,
        /// Right operand `[k, n]`.
        b: TensorId,
        /// Optional addend `[m, n]`.
        c: Option<TensorId>,
        /// Accumulator (and result) dtype, e.g. `f32`.
        acc_dtype: DType,
    },

    // ---- elementwise ----
    /// Convert every element to `dtype` (spec/dtypes.md conversions).
    Cast {
        /// The register tile.
        x: TensorId,
        /// Target dtype.
        dtype: DType,
    },
    /// Elementwise unary operation.
    Unary {
        /// The operation.
        op: TileUnaryOp,
        /// The register tile.
        x: TensorId,
    },
    /// Elementwise binary operation with NumPy broadcasting.
    Binary {
        /// The operation.
        op: TileBinaryOp,
        /// Left operand.
        a: Operand,
        /// Right operand.
        b: Operand,
    },
    /// `cond ? x : y` elementwise, with broadcasting.
    Where {
        /// A bool (`u1`) tile.
        cond: TensorId,
        /// Taken where `cond` holds.
        x: Operand,
        /// Taken elsewhere.
        y: Operand,
    },

    // ---- view ----
    /// Reinterpret each thread's register bits as another dtype, shape and layout. The input
    /// and output layouts must both be known, and bits per thread must match.
    View {
        /// The register tile.
        x: TensorId,
        /// New dtype.
        dtype: DType,
        /// New shape.
        shape: Vec<usize>,
        /// New layout.
        layout: LayoutId,
    },

    // ---- reduce ----
    /// Reduce one dimension.
    Reduce {
        /// The operation.
        op: ReduceOp,
        /// The register tile.
        x: TensorId,
        /// The dimension reduced.
        dim: usize,
        /// Keep the dimension with extent 1.
        keepdim: bool,
    },

    // ---- sync ----
    /// Block-wide barrier (`bar.sync`).
    Sync,
    /// Spin until the `i32` element `sem[index]` equals `value` (acquire).
    LockSemaphore {
        /// A global `i32` tensor.
        sem: TensorId,
        /// Element index.
        index: Vec<ExprId>,
        /// Value to wait for.
        value: ExprId,
    },
    /// Store `value` into `sem[index]` (release).
    ReleaseSemaphore {
        /// A global `i32` tensor.
        sem: TensorId,
        /// Element index.
        index: Vec<ExprId>,
        /// Value to store.
        value: ExprId,
    },

    // ---- annotate ----
    /// Pin the register layout of a register tensor.
    AnnotateLayout {
        /// The register tile.
        tensor: TensorId,
        /// Its layout.
        layout: LayoutId,
    },
    /// Pin the shared layout of a shared tensor.
    AnnotateSharedLayout {
        /// The shared tile.
        tensor: TensorId,
        /// Its layout.
        layout: SharedLayoutId,
    },
    /// Debug print of a tile (the interpreter prints it for the blocks asked for).
    Print {
        /// The tile.
        tensor: TensorId,
        /// A label.
        label: String,
    },
}

impl InstKind {
    /// The mnemonic in the text format.
    pub fn name(&self) -> &'static str {
        match self {
            InstKind::GlobalView { .. } => "global_view",
            InstKind::AllocGlobal { .. } => "alloc_global",
            InstKind::AllocShared { .. } => "alloc_shared",
            InstKind::FreeShared { .. } => "free_shared",
            InstKind::AllocRegister { .. } => "alloc_register",
            InstKind::Slice { .. } => "slice",
            InstKind::LoadGlobal { .. } => "load_global",
            InstKind::StoreGlobal { .. } => "store_global",
            InstKind::LoadShared { .. } => "load_shared",
            InstKind::StoreShared { .. } => "store_shared",
            InstKind::CopyAsync { .. } => "copy_async",
            InstKind::CommitGroup => "commit_group",
            InstKind::WaitGroup { .. } => "wait_group",
            InstKind::WaitAll => "wait_all",
            InstKind::Dot { .. } => "dot",
            InstKind::Cast { .. } => "cast",
            InstKind::Unary { op, .. } => op.name(),
            InstKind::Binary { op, .. } => op.name(),
            InstKind::Where { .. } => "where",
            InstKind::View { .. } => "view",
            InstKind::Reduce { op, .. } => op.name(),
            InstKind::Sync => "sync",
            InstKind::LockSemaphore { .. } => "lock_semaphore",
            InstKind::ReleaseSemaphore { .. } => "release_semaphore",
            InstKind::AnnotateLayout { .. } => "annotate_layout",
            InstKind::AnnotateSharedLayout { .. } => "annotate_shared_layout",
            InstKind::Print { .. } => "print",
        }
    }

    /// Whether the instruction produces a tensor (and so has an [`crate::program::Out`]).
    pub fn has_result(&self) -> bool {
        match self {
            InstKind::GlobalView { .. }
            | InstKind::AllocGlobal { .. }
            | InstKind::AllocShared { .. }
            | InstKind::AllocRegister { .. }
            | InstKind::Slice { .. }
            | InstKind::LoadGlobal { .. }
            | InstKind::LoadShared { .. }
            | InstKind::Dot { .. }
            | InstKind::Cast { .. }
            | InstKind::Unary { .. }
            | InstKind::Binary { .. }
            | InstKind::Where { .. }
            | InstKind::View { .. }
            | InstKind::Reduce { .. } => true,
            InstKind::FreeShared { .. }
            | InstKind::StoreGlobal { .. }
            | InstKind::StoreShared { .. }
            | InstKind::CopyAsync { .. }
            | InstKind::CommitGroup
            | InstKind::WaitGroup { .. }
            | InstKind::WaitAll
            | InstKind::Sync
            | InstKind::LockSemaphore { .. }
            | InstKind::ReleaseSemaphore { .. }
            | InstKind::AnnotateLayout { .. }
            | InstKind::AnnotateSharedLayout { .. }
            | InstKind::Print { .. } => false,
        }
    }

    /// Whether the result may be written into an existing register tensor (`%t <- …`).
    pub fn may_write_existing(&self) -> bool {
        matches!(
            self,
            InstKind::LoadGlobal { .. }
                | InstKind::LoadShared { .. }
                | InstKind::Dot { .. }
                | InstKind::Cast { .. }
                | InstKind::Unary { .. }
                | InstKind::Binary { .. }
                | InstKind::Where { .. }
                | InstKind::Reduce { .. }
        )
    }
}
