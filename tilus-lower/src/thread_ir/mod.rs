//! The thread IR: what ONE thread of a block does (design.md, "The two IRs", item 2).
//!
//! A [`ThreadKernel`] is the program every thread of every block runs. Its body is a tree of
//! structured statements ([`Stmt`]: `for`, `if`, assignments, memory operations, barriers and
//! intrinsics) over:
//!
//! - **registers**: function-scoped mutable scalar variables ([`Var`], typed by [`Ty`]) and
//!   pure expressions ([`Expr`]) in an arena, referred to by [`ExprId`];
//! - **local arrays** ([`LocalArray`]): one per register-tensor fragment, `len` slots of any
//!   element dtype, sub-byte included. A local array's storage is the little-endian bit
//!   stream of its slots (slot `i` = bits `[i·n, (i+1)·n)`, spec/dtypes.md), which is what
//!   makes [`Stmt::View`] a pure reinterpretation; legalization later packs sub-word arrays
//!   into `u32` words;
//! - **shared allocations** ([`SharedAlloc`]): static byte offsets into the block's shared
//!   memory, element-indexed with the same bit-stream rule;
//! - **global buffers** ([`Buffer`]): pointer parameters and workspaces, element-indexed
//!   (element `i` = bits `[i·n, (i+1)·n)` of the buffer's little-endian stream).
//!
//! # Values and types
//! Register types are [`Ty`]: `bool`, `i32`, `u32`, `f32`, `f16` (and `i64`/`u64`, which
//! the WGSL path does not use). Every element dtype has a *carrier* register type
//! ([`Ty::carrier`]): integers of at most 32 bits are carried sign- (signed) or zero-
//! (unsigned) extended in `i32`/`u32`; `f32` and `f16` are themselves; every other float
//! dtype (`bf16`, fp8, minifloats) is carried as its raw code in a `u32`, and turned into a
//! number only by the explicit codec expressions [`Expr::Decode`] (exact) and
//! [`Expr::Encode`] (round to nearest even, saturation per spec/dtypes.md), so sub-byte
//! float handling is visible to legalization. Reading a slot or memory element of dtype `d`
//! gives a value of `carrier(d)`; writing one stores the low `bits(d)` bits of the value (so
//! integers wrap).
//!
//! # Evaluation
//! An expression is evaluated when the statement that uses it executes, reading the current
//! values of variables and local slots; the arena is a DAG (identical nodes may be shared),
//! and sharing never changes meaning. Integer arithmetic wraps in its type; `/` and `%`
//! truncate toward zero and a zero divisor is an error; shift amounts outside `[0, bits)`
//! (negative ones included) give 0 (`<<`, unsigned `>>`) or the sign fill (signed `>>`).
//! Float arithmetic is IEEE in the expression's type (`f32`, or `f16` with the result rounded
//! to nearest even; `f16` operations are exactly `f32` operations rounded to `f16` for
//! `+ - * /` and `sqrt`, so a backend may compute them either way); `min`/`max` ignore a NaN
//! operand and order `-0 < +0`; transcendental functions are those of Rust's `f32`
//! (`exp`, `exp2`, `ln`, `sqrt`; `rsqrt = 1/sqrt`; `sigmoid = 1/(1+exp(-x))`), which GPU
//! backends approximate. See [`UnaryOp`], [`BinaryOp`] and [`Expr::Cast`] for the rest.
//!
//! # Execution model
//! `threadIdx` ranges over `0..num_threads` (one dimension); `blockIdx` and `gridDim` are
//! three-dimensional. Threads of a block share its shared memory and meet at
//! [`Stmt::Barrier`] (every thread must reach the same barrier); warp intrinsics
//! ([`Stmt::Mma`], [`Stmt::LdMatrix`], [`Stmt::Shuffle`]) are executed together by the 32
//! lanes of a warp.
//! Global buffers are shared by all blocks; [`Stmt::SemAcquire`] waits for another block.
//! The [`interp`] module runs a kernel on the CPU this way.
//!
//! The [`printer`] gives the stable text form (`tilus compile --emit thread-ir`); the
//! [`verify`] module checks handles and types.

pub mod interp;
pub mod printer;
pub mod verify;

mod build;
mod operands;
mod ty;

pub use build::KernelBuilder;
pub use ty::{Const, Ty};

use tilus_ir::arena::{Arena, Handle};
use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;

use crate::grid::GridExpr;

/// Handle of an expression.
pub type ExprId = Handle<Expr>;
/// Handle of a variable.
pub type VarId = Handle<Var>;
/// Handle of a local array.
pub type LocalId = Handle<LocalArray>;
/// Handle of a shared allocation.
pub type SharedId = Handle<SharedAlloc>;
/// Handle of a global buffer.
pub type BufferId = Handle<Buffer>;

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-a` (integers wrap; floats flip the sign).
    Neg,
    /// `!a`: logical not of a `bool`, bitwise not of an integer.
    Not,
    /// `|a|` (integers wrap: `|i32::MIN| = i32::MIN`).
    Abs,
    /// `e^a` (float).
    Exp,
    /// `2^a` (float).
    Exp2,
    /// `ln a` (float).
    Log,
    /// `sqrt a` (float, correctly rounded).
    Sqrt,
    /// `1 / sqrt a` (float: the quotient of the rounded square root).
    Rsqrt,
    /// Round half to even (float).
    Round,
    /// Round toward −∞ (float).
    Floor,
    /// Round toward +∞ (float).
    Ceil,
    /// `1 / (1 + e^-a)` (float, each step rounded).
    Sigmoid,
}

impl UnaryOp {
    /// The mnemonic in the printed form.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Not => "not",
            UnaryOp::Abs => "abs",
            UnaryOp::Exp => "exp",
            UnaryOp::Exp2 => "exp2",
            UnaryOp::Log => "log",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Round => "round",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Sigmoid => "sigmoid",
        }
    }

    /// Whether the operator needs a float operand.
    pub fn float_only(self) -> bool {
        !matches!(self, UnaryOp::Neg | UnaryOp::Not | UnaryOp::Abs)
    }
}

/// Binary operators. Both operands have the same type, except shifts (any integer amount).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (integers: truncating, error on zero)
    Div,
    /// `a % b` (integers: truncating remainder, error on zero; floats: `fmod`)
    Rem,
    /// `min(a, b)` (floats: NaN ignored, `-0 < +0`)
    Min,
    /// `max(a, b)` (floats: NaN ignored, `-0 < +0`)
    Max,
    /// `a & b` (integers and bools)
    And,
    /// `a | b` (integers and bools)
    Or,
    /// `a ^ b` (integers and bools)
    Xor,
    /// `a << b` (integers; amounts outside `[0, bits)` give 0)
    Shl,
    /// `a >> b` (integers; arithmetic for signed; amounts outside `[0, bits)` give 0 or
    /// the sign fill)
    Shr,
    /// `a == b` → bool
    Eq,
    /// `a != b` → bool (true when either float is NaN)
    Ne,
    /// `a < b` → bool
    Lt,
    /// `a <= b` → bool
    Le,
    /// `a > b` → bool
    Gt,
    /// `a >= b` → bool
    Ge,
}

impl BinaryOp {
    /// The spelling in the printed form: `+`, `<<`, `min`, …
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
            BinaryOp::Xor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
        }
    }

    /// Whether the result is a `bool` comparison.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// Whether the operator is printed as a call (`min(a, b)`).
    pub fn is_call(self) -> bool {
        matches!(self, BinaryOp::Min | BinaryOp::Max)
    }
}

/// A special register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Special {
    /// `threadIdx.x` (`i32`, in `0..num_threads`).
    ThreadIdx,
    /// `blockIdx.x|y|z` (`i32`).
    BlockIdx(Axis),
    /// `gridDim.x|y|z` (`i32`).
    GridDim(Axis),
}

/// A pure expression node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A constant.
    Const(Const),
    /// The value of scalar kernel parameter `i` (tile-function parameter index), of its
    /// [`ParamKind::Scalar`] type.
    Param(u32),
    /// A special register (`i32`).
    Special(Special),
    /// The current value of a variable.
    Var(VarId),
    /// The current value of slot `slot` of a local array, of the carrier type of its dtype.
    Local {
        /// The array.
        array: LocalId,
        /// The slot (a compile-time constant).
        slot: u32,
    },
    /// A unary operator (result of the operand's type).
    Unary(UnaryOp, ExprId),
    /// A binary operator (result of the operands' type, or `bool` for comparisons).
    Binary(BinaryOp, ExprId, ExprId),
    /// `select(c, a, b)`: `a` when the `bool` `c` holds, else `b` (both are evaluated; they
    /// must not fail).
    Select(ExprId, ExprId, ExprId),
    /// `fma(a, b, c)`: `a·b + c` with a single rounding (floats only).
    Fma(ExprId, ExprId, ExprId),
    /// Numeric conversion to a type: integer → integer wraps (two's complement); float →
    /// integer rounds toward zero, saturates to the target range and maps NaN to 0;
    /// integer → float and `f32` → `f16` round to nearest even (a single rounding from the
    /// exact value); `f16` → `f32` is exact; `bool` → number is 0 or 1; number → `bool` is
    /// `!= 0`.
    Cast(Ty, ExprId),
    /// Reinterprets the bits: between types of equal width, or between `f16` and a 32-bit
    /// integer (the low 16 bits; zero-extended the other way).
    Bitcast(Ty, ExprId),
    /// The exact `f32` value of a code of a coded float dtype (`bf16`, fp8, minifloat), or
    /// of `f16` (NaN quieted, payload kept: the `f16 → f32` cast; legalization uses it for
    /// a target's proven native conversion); the operand is a `u32` whose bits above the
    /// dtype's width are ignored.
    Decode(DType, ExprId),
    /// The `u32` code nearest to a number (any numeric operand, rounded once from its exact
    /// value) in a coded float dtype: round to nearest even, minifloats saturate and map NaN
    /// to +0, `f8e4m3fn` overflows to NaN, `f8e5m2` to infinity (spec/dtypes.md).
    Encode(DType, ExprId),
}

/// A variable: a function-scoped mutable register, zero until first assigned.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    /// Its name (unique within the kernel; printed `$name`).
    pub name: String,
    /// Its type.
    pub ty: Ty,
}

/// A per-thread local array (a register-tensor fragment or a scratch).
#[derive(Clone, Debug, PartialEq)]
pub struct LocalArray {
    /// Its name (unique within the kernel; printed `%name`).
    pub name: String,
    /// Element type (any dtype, sub-byte included).
    pub dtype: DType,
    /// Number of slots.
    pub len: u32,
}

impl LocalArray {
    /// Total bits of the array (`len · bits(dtype)`).
    pub fn bits(&self) -> u64 {
        u64::from(self.len) * u64::from(self.dtype.bits())
    }
}

/// A static region of the block's shared memory.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedAlloc {
    /// Its name (unique within the kernel; printed `&name`).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Byte offset of element 0 in the block's shared memory.
    pub offset: u32,
    /// Number of elements.
    pub len: u32,
}

impl SharedAlloc {
    /// Bytes spanned (`ceil(len · bits / 8)`).
    pub fn bytes(&self) -> u64 {
        (u64::from(self.len) * u64::from(self.dtype.bits())).div_ceil(8)
    }
}

/// Where a global buffer comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum BufferKind {
    /// The pointer parameter with this tile-function parameter index.
    Param(u32),
    /// A global workspace the runtime allocates per launch (`alloc_global`).
    Workspace {
        /// Number of elements, over the scalar parameters.
        elements: GridExpr,
        /// Zero on entry, and left zero by the kernel.
        requires_clean: bool,
    },
}

/// A global buffer: element `i` is bits `[i·n, (i+1)·n)` of its little-endian stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    /// Its name (unique within the kernel; printed `@name`).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Parameter or workspace.
    pub kind: BufferKind,
}

/// How a kernel parameter is passed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamKind {
    /// A scalar of this register type (read with [`Expr::Param`]).
    Scalar(Ty),
    /// A pointer: the global buffer.
    Pointer(BufferId),
}

/// A kernel parameter (in tile-function order).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Scalar or pointer.
    pub kind: ParamKind,
    /// For scalars: the tile-level type, whose values the carrier holds (e.g. `i32`, `f16`).
    pub dtype: Option<DType>,
}

/// A memory space with the region accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Space {
    /// A global buffer.
    Global(BufferId),
    /// A shared allocation.
    Shared(SharedId),
}

/// An element of memory: a space and an element index (an `i32` expression).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemRef {
    /// The buffer or shared allocation.
    pub space: Space,
    /// The element index (`i32`), counted from the start of the buffer or allocation.
    pub index: ExprId,
}

/// A slot of a local array (the first of a vector).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalRef {
    /// The array.
    pub array: LocalId,
    /// The slot.
    pub slot: u32,
}

/// Which matrix-multiply atom an [`Stmt::Mma`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MmaShape {
    /// `mma.sync.m16n8k16` with `f16` or `bf16` operands and `f32` accumulators: per lane
    /// 8 A slots, 4 B slots, 4 C/D slots, in the slot order of
    /// `tilus_ir::layout::atoms::mma_m16n8k16_{a,b,c}`.
    M16N8K16,
}

/// The operation of an [`Stmt::Atomic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `dst &= value`.
    And,
    /// `dst |= value`.
    Or,
}

impl AtomicOp {
    /// The mnemonic in the printed form: `and`, `or`.
    pub fn name(self) -> &'static str {
        match self {
            AtomicOp::And => "and",
            AtomicOp::Or => "or",
        }
    }
}

/// A statement of a thread's program.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `var = value`.
    Assign {
        /// The variable.
        var: VarId,
        /// Its new value (of the variable's type).
        value: ExprId,
    },
    /// `array[slot] = value` (a value of the array's carrier type; the low bits are kept).
    SetLocal {
        /// The slot.
        dst: LocalRef,
        /// The value.
        value: ExprId,
    },
    /// Reads `width` consecutive elements `src.index ..` into the slots `dst.slot ..`; when
    /// the mask is false, writes zeros instead and reads nothing. The memory and the array
    /// have the same dtype.
    Load {
        /// The first slot written.
        dst: LocalRef,
        /// The first element read.
        src: MemRef,
        /// Contiguous elements (a vector access when > 1).
        width: u32,
        /// Predicate (`bool`); `None` is always.
        mask: Option<ExprId>,
    },
    /// Writes the slots `src.slot ..` to `width` consecutive elements `dst.index ..` when
    /// the mask holds.
    Store {
        /// The first element written.
        dst: MemRef,
        /// The first slot read.
        src: LocalRef,
        /// Contiguous elements.
        width: u32,
        /// Predicate (`bool`); `None` is always.
        mask: Option<ExprId>,
    },
    /// Copies the bit image of `src` into `dst` (equal total bits): a pure reinterpretation
    /// (`view`), no data movement after register allocation.
    View {
        /// The array written.
        dst: LocalId,
        /// The array read.
        src: LocalId,
    },
    /// `cp.async`: copies `width` elements from global to shared memory (zeros where the
    /// mask is false); the source is read now, the destination written when a
    /// [`Stmt::WaitGroup`]/[`Stmt::WaitAll`] covering it completes.
    CopyAsync {
        /// The shared destination (first element).
        dst: MemRef,
        /// The global source (first element).
        src: MemRef,
        /// Elements copied (`width · bits / 8` bytes on PTX: 4, 8 or 16).
        width: u32,
        /// Zero-fill predicate: when false the destination gets zeros.
        mask: Option<ExprId>,
    },
    /// Closes this thread's current group of `copy_async`s.
    CommitGroup,
    /// Waits until at most `n` committed groups of this thread are pending.
    WaitGroup(u32),
    /// Waits for every `copy_async` of this thread (committed or not).
    WaitAll,
    /// Block-wide barrier (`bar.sync` / `workgroupBarrier`), also a memory fence for shared
    /// and global memory within the block.
    Barrier,
    /// A block-wide barrier that needs to order shared memory only: the form backends give a
    /// [`Stmt::Barrier`] that no global write can precede (WGSL: `workgroupBarrier` without
    /// `storageBarrier`). Executes like a barrier.
    SharedBarrier,
    /// Warp-collective matrix multiply-accumulate `D = A·B + C` on the lanes' fragments;
    /// each element of D is `c + Σ_k a·b` accumulated in `f32`, k ascending, rounded after
    /// every step (tensor cores may differ within the dot bound).
    Mma {
        /// The atom.
        shape: MmaShape,
        /// Operand dtype (`f16` or `bf16`).
        dtype: DType,
        /// First A slot (8 slots).
        a: LocalRef,
        /// First B slot (4 slots).
        b: LocalRef,
        /// First C slot (4 `f32` slots).
        c: LocalRef,
        /// First D slot (4 `f32` slots; may equal C).
        d: LocalRef,
    },
    /// Warp-collective `ldmatrix`: `num` (1, 2 or 4) 8×8 matrices of 16-byte rows in shared
    /// memory; lane `8·i + r` gives in `row` the element index of row `r` of matrix `i`
    /// (lanes ≥ 8·num are ignored). Without `trans`, lane `t` receives the 32 bits at byte
    /// `4·(t % 4)` of row `t / 4` of each matrix `i` into slots `dst.slot + i·e ..` (`e = 32 /
    /// bits` elements); with `trans` (16-bit elements only) it receives elements
    /// `(2·(t % 4), t / 4)` and `(2·(t % 4) + 1, t / 4)`.
    LdMatrix {
        /// The shared allocation.
        src: SharedId,
        /// This lane's row address (element index, `i32`).
        row: ExprId,
        /// Matrices loaded (1, 2 or 4).
        num: u32,
        /// Transposed load.
        trans: bool,
        /// First slot written.
        dst: LocalRef,
    },
    /// Warp-collective shuffle (`shfl.sync.idx`): every lane of the warp evaluates `value`
    /// (a 32-bit or narrower carrier: `i32`, `u32`, `f32`, or a slot of a dtype of at most
    /// 32 bits), then `dst` of each lane receives the value of lane `lane` (an `i32` in
    /// `0..32`, evaluated by the receiving lane) of the same warp. All 32 lanes execute it
    /// together (the block's threads are a multiple of 32).
    Shuffle {
        /// The slot written.
        dst: LocalRef,
        /// The value each lane offers.
        value: ExprId,
        /// The source lane.
        lane: ExprId,
    },
    /// Spins until the `i32` element `buffer[index]` equals `value` (acquire); executed by
    /// the threads that reach it (lowering uses one thread, then a barrier).
    SemAcquire {
        /// The element.
        sem: MemRef,
        /// The value waited for (`i32`).
        value: ExprId,
    },
    /// Stores `value` into the `i32` element (release).
    SemRelease {
        /// The element.
        sem: MemRef,
        /// The value stored (`i32`).
        value: ExprId,
    },
    /// An atomic read-modify-write of one 32-bit integer element of memory:
    /// `dst = dst op value`, indivisible with respect to the other threads' accesses of the
    /// element (legalization uses it to store sub-word elements that share a word with
    /// other threads' elements; the result is not returned).
    Atomic {
        /// The operation.
        op: AtomicOp,
        /// The element (of a 32-bit integer dtype).
        dst: MemRef,
        /// The operand (of the element's carrier type).
        value: ExprId,
    },
    /// `for var in range(start, end, step) { body }` over `i32` (step positive). The bounds
    /// are evaluated once, when the loop starts; `var` takes `start, start + step, …` while
    /// below `end` (the body must not assign it).
    For {
        /// The induction variable (`i32`).
        var: VarId,
        /// First value.
        start: ExprId,
        /// Exclusive bound.
        end: ExprId,
        /// Increment (> 0).
        step: ExprId,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `if cond { then } else { otherwise }`.
    If {
        /// A `bool`.
        cond: ExprId,
        /// Taken when `cond` holds.
        then_body: Vec<Stmt>,
        /// Taken otherwise.
        else_body: Vec<Stmt>,
    },
}

/// A kernel in the thread IR: what every thread of every block runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadKernel {
    /// Kernel name.
    pub name: String,
    /// Threads per block (`threadIdx` in `0..num_threads`).
    pub num_threads: u32,
    /// Grid extents (x, y, z; missing ones are 1), over the scalar parameters.
    pub grid: Vec<GridExpr>,
    /// Parameters, in tile-function order.
    pub params: Vec<Param>,
    /// Global buffers: pointer parameters and workspaces.
    pub buffers: Arena<Buffer>,
    /// Shared allocations (static offsets).
    pub shared: Arena<SharedAlloc>,
    /// Bytes of shared memory a block uses (the peak of the static allocation).
    pub shared_bytes: u32,
    /// Divisibility facts about integer scalar parameters: `(parameter index, divisor)`,
    /// from the tile program's `assume`s. Launches that break them are refused.
    pub assumptions: Vec<(u32, u32)>,
    /// Local arrays.
    pub locals: Arena<LocalArray>,
    /// Variables.
    pub vars: Arena<Var>,
    /// Expressions.
    pub exprs: Arena<Expr>,
    /// The body.
    pub body: Vec<Stmt>,
}

impl ThreadKernel {
    /// An empty kernel.
    pub fn new(name: impl Into<String>, num_threads: u32) -> Self {
        ThreadKernel {
            name: name.into(),
            num_threads,
            grid: Vec::new(),
            params: Vec::new(),
            buffers: Arena::new(),
            shared: Arena::new(),
            shared_bytes: 0,
            assumptions: Vec::new(),
            locals: Arena::new(),
            vars: Arena::new(),
            exprs: Arena::new(),
            body: Vec::new(),
        }
    }

    /// The workspaces (`alloc_global`) the runtime must allocate, in buffer order.
    pub fn workspaces(&self) -> Vec<(BufferId, &Buffer)> {
        self.buffers
            .iter()
            .filter(|(_, b)| matches!(b.kind, BufferKind::Workspace { .. }))
            .collect()
    }

    /// The buffer of pointer parameter `param`, if it is one.
    pub fn param_buffer(&self, param: usize) -> Option<BufferId> {
        match self.params.get(param)?.kind {
            ParamKind::Pointer(b) => Some(b),
            ParamKind::Scalar(_) => None,
        }
    }

    /// Whether some statement may write the buffer (stores, semaphores); read-only buffers
    /// can be bound read-only.
    pub fn writes_buffer(&self, buffer: BufferId) -> bool {
        fn walk(body: &[Stmt], b: BufferId) -> bool {
            body.iter().any(|s| match s {
                Stmt::Store { dst, .. } | Stmt::Atomic { dst, .. } => dst.space == Space::Global(b),
                Stmt::SemRelease { sem, .. } | Stmt::SemAcquire { sem, .. } => {
                    sem.space == Space::Global(b)
                }
                Stmt::For { body, .. } => walk(body, b),
                Stmt::If {
                    then_body,
                    else_body,
                    ..
                } => walk(then_body, b) || walk(else_body, b),
                _ => false,
            })
        }
        walk(&self.body, buffer)
    }

    /// The dtype of the memory a [`MemRef`] space holds.
    pub fn space_dtype(&self, space: Space) -> Option<DType> {
        match space {
            Space::Global(b) => self.buffers.try_get(b).map(|b| b.dtype),
            Space::Shared(s) => self.shared.try_get(s).map(|s| s.dtype),
        }
    }
}

impl ThreadKernel {
    /// The type of an expression, or `None` for a dangling handle or an ill-typed node
    /// (the verifier explains which). Follows one operand chain, so it is linear in depth.
    pub fn ty(&self, e: ExprId) -> Option<Ty> {
        let mut e = e;
        // Bounded by the arena size: operands always precede their users.
        for _ in 0..=self.exprs.len() {
            match *self.exprs.try_get(e)? {
                Expr::Const(c) => return Some(c.ty()),
                Expr::Param(i) => {
                    return match self.params.get(i as usize)?.kind {
                        ParamKind::Scalar(t) => Some(t),
                        ParamKind::Pointer(_) => None,
                    }
                }
                Expr::Special(_) => return Some(Ty::I32),
                Expr::Var(v) => return self.vars.try_get(v).map(|v| v.ty),
                Expr::Local { array, .. } => {
                    return self.locals.try_get(array).map(|a| Ty::carrier(a.dtype))
                }
                Expr::Binary(op, _, _) if op.is_comparison() => return Some(Ty::Bool),
                Expr::Unary(_, a) | Expr::Binary(_, a, _) | Expr::Fma(a, _, _) => e = a,
                Expr::Select(_, a, _) => e = a,
                Expr::Cast(t, _) | Expr::Bitcast(t, _) => return Some(t),
                Expr::Decode(..) => return Some(Ty::F32),
                Expr::Encode(..) => return Some(Ty::U32),
            }
        }
        None
    }
}
