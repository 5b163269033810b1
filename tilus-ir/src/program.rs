//! Programs, functions, variables, tensors and statements: the tile IR's data.
//!
//! A [`Program`] is a list of kernels ([`Function`]s). A function owns arenas of scalar
//! variables, scalar expressions, tensors, instructions and interned layouts; everything else
//! refers to them by handle. Its body is a tree of [`Stmt`]s: instructions on tiles, `for`
//! ranges, `if`, scalar `let` and assignment.
//!
//! Tensors come in three kinds. A *global* tensor is a view of a pointer parameter (or a
//! global workspace) with a shape and strides given by scalar expressions. A *shared* tensor is
//! a tile in the block's shared memory. A *register* tensor is one logical tile spread over
//! the registers of the block's threads; its layout (which thread and slot hold each element)
//! may be fixed by `annotate_layout` or left to layout inference. Every tensor is defined by
//! exactly one instruction; register tensors may be overwritten later by instructions whose
//! output is marked [`Out::Existing`] (accumulators in a loop).

use crate::arena::{Arena, Handle, UniqueArena};
use crate::dtype::DType;
use crate::expr::{Expr, ExprId, ScalarType};
use crate::inst::InstKind;
use crate::layout::shared::SharedLayout;
use crate::layout::RegisterLayout;

/// Handle of a scalar variable (parameter, loop variable or `let`).
pub type VarId = Handle<Var>;
/// Handle of a tensor.
pub type TensorId = Handle<Tensor>;
/// Handle of an instruction.
pub type InstId = Handle<Inst>;
/// Handle of an interned register layout.
pub type LayoutId = Handle<RegisterLayout>;
/// Handle of an interned shared layout.
pub type SharedLayoutId = Handle<SharedLayout>;

/// A source position (1-based) of a parsed program, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Loc {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// A whole program: one or more kernels.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// The kernels, in source order.
    pub functions: Vec<Function>,
}

impl Program {
    /// The kernel called `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// What kind of variable a [`Var`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarKind {
    /// A kernel parameter (scalar or pointer), set at launch.
    Param,
    /// The induction variable of a `for` loop.
    Loop,
    /// A mutable scalar introduced by `let`.
    Let,
}

/// The type of a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarType {
    /// A scalar value.
    Scalar(ScalarType),
    /// A pointer to global memory holding elements of a dtype (any width, sub-byte included:
    /// the memory is a little-endian bit stream).
    Pointer(DType),
}

/// A scalar variable.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    /// Its name, without sigil (printed as is; parameters and lets must be unique).
    pub name: String,
    /// Its type.
    pub ty: VarType,
    /// Parameter, loop variable or let.
    pub kind: VarKind,
}

/// The type of a tensor, which also says its kind (global, shared or register).
#[derive(Clone, Debug, PartialEq)]
pub enum TensorType {
    /// A view of global memory.
    Global {
        /// Element type.
        dtype: DType,
        /// Extent of each dimension (scalar expressions, may depend on parameters).
        shape: Vec<ExprId>,
        /// Stride of each dimension in elements; `None` means row-major (contiguous).
        strides: Option<Vec<ExprId>>,
    },
    /// A tile in shared memory.
    Shared {
        /// Element type.
        dtype: DType,
        /// Static shape.
        shape: Vec<usize>,
        /// The shared layout, when fixed (row-major when left open).
        layout: Option<SharedLayoutId>,
    },
    /// A tile distributed over the block's registers.
    Register {
        /// Element type.
        dtype: DType,
        /// Static shape.
        shape: Vec<usize>,
        /// The register layout, when fixed.
        layout: Option<LayoutId>,
    },
}

impl TensorType {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorType::Global { dtype, .. }
            | TensorType::Shared { dtype, .. }
            | TensorType::Register { dtype, .. } => *dtype,
        }
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        match self {
            TensorType::Global { shape, .. } => shape.len(),
            TensorType::Shared { shape, .. } | TensorType::Register { shape, .. } => shape.len(),
        }
    }

    /// The static shape of a shared or register tensor (`None` for global tensors).
    pub fn static_shape(&self) -> Option<&[usize]> {
        match self {
            TensorType::Global { .. } => None,
            TensorType::Shared { shape, .. } | TensorType::Register { shape, .. } => Some(shape),
        }
    }

    /// `"global"`, `"shared"` or `"register"`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TensorType::Global { .. } => "global",
            TensorType::Shared { .. } => "shared",
            TensorType::Register { .. } => "register",
        }
    }

    /// Whether this is a register tensor.
    pub fn is_register(&self) -> bool {
        matches!(self, TensorType::Register { .. })
    }

    /// Whether this is a shared tensor.
    pub fn is_shared(&self) -> bool {
        matches!(self, TensorType::Shared { .. })
    }

    /// Whether this is a global tensor.
    pub fn is_global(&self) -> bool {
        matches!(self, TensorType::Global { .. })
    }
}

/// A tensor: a name (printed as `%name`) and a type.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Its name, without the `%` sigil; unique within the function.
    pub name: String,
    /// Its type.
    pub ty: TensorType,
}

/// Where an instruction's result goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Out {
    /// The instruction defines this (new) tensor.
    New(TensorId),
    /// The instruction overwrites an existing register tensor of the same type
    /// (printed `%acc <- dot %a, %b, %acc`).
    Existing(TensorId),
}

impl Out {
    /// The tensor written.
    pub fn tensor(self) -> TensorId {
        match self {
            Out::New(t) | Out::Existing(t) => t,
        }
    }
}

/// An instruction: what it does and where its result goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    /// The operation and its operands.
    pub kind: InstKind,
    /// The result tensor, for instructions that produce one.
    pub out: Option<Out>,
    /// Where it was written, for parsed programs.
    pub loc: Option<Loc>,
}

/// How a `for` loop should be unrolled by backends (the interpreter ignores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Unroll {
    /// No hint.
    #[default]
    None,
    /// Unroll completely (the trip count must be a compile-time constant).
    Full,
    /// Unroll by this factor.
    Factor(u32),
}

/// A statement of a function body.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// Run an instruction, collectively, on every thread of the block.
    Inst(InstId),
    /// `for %var in range(start, end, step) { body }`; `step` must be positive.
    For {
        /// The induction variable (kind [`VarKind::Loop`], type `i32`).
        var: VarId,
        /// First value.
        start: ExprId,
        /// Exclusive bound.
        end: ExprId,
        /// Increment (positive).
        step: ExprId,
        /// Unroll hint.
        unroll: Unroll,
        /// The body.
        body: Block,
        /// Source position.
        loc: Option<Loc>,
    },
    /// `if cond { then } else { otherwise }`; the condition must be uniform over the block.
    If {
        /// A `bool` scalar expression.
        cond: ExprId,
        /// Taken when `cond` holds.
        then_body: Block,
        /// Taken otherwise (may be empty).
        else_body: Block,
        /// Source position.
        loc: Option<Loc>,
    },
    /// `let name: T = value`: introduces a mutable scalar variable.
    Let {
        /// The new variable (kind [`VarKind::Let`]).
        var: VarId,
        /// Its initial value.
        value: ExprId,
        /// Source position.
        loc: Option<Loc>,
    },
    /// `name = value`: assigns a `let` variable.
    Assign {
        /// The variable (must be a `let`).
        var: VarId,
        /// The new value.
        value: ExprId,
        /// Source position.
        loc: Option<Loc>,
    },
}

/// A sequence of statements.
pub type Block = Vec<Stmt>;

/// `assume(var % divisor == 0)`: the integer parameter `var` is a multiple of `divisor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Assume {
    /// The parameter.
    pub var: VarId,
    /// The divisor (at least 1).
    pub divisor: u32,
}

/// A kernel: parameters, launch attributes and a body over tiles.
#[derive(Clone, Debug)]
pub struct Function {
    /// The kernel name.
    pub name: String,
    /// The parameters, in order (variables of kind [`VarKind::Param`]).
    pub params: Vec<VarId>,
    /// The grid: 1 to 3 extents, scalar expressions over the parameters (x first).
    pub grid: Vec<ExprId>,
    /// Warps per block (threads per block = 32 × warps), 1 to 32.
    pub warps: u32,
    /// Divisibility facts about integer parameters (`assume(k % 32 == 0)`): every launch
    /// must satisfy them (the interpreter and the runtime check), and the compiler may rely
    /// on them (aligned vector accesses along runtime-length rows).
    pub assumes: Vec<Assume>,
    /// The body.
    pub body: Block,
    /// Scalar variables.
    pub vars: Arena<Var>,
    /// Scalar expressions.
    pub exprs: Arena<Expr>,
    /// Tensors.
    pub tensors: Arena<Tensor>,
    /// Instructions.
    pub insts: Arena<Inst>,
    /// Interned register layouts.
    pub layouts: UniqueArena<RegisterLayout>,
    /// Interned shared layouts.
    pub shared_layouts: UniqueArena<SharedLayout>,
    /// Where the kernel header was written, for parsed programs.
    pub loc: Option<Loc>,
}

impl Function {
    /// An empty kernel with one warp and no grid (the builder and parser fill it in).
    pub fn new(name: impl Into<String>) -> Self {
        Function {
            name: name.into(),
            params: Vec::new(),
            grid: Vec::new(),
            warps: 1,
            assumes: Vec::new(),
            body: Vec::new(),
            vars: Arena::new(),
            exprs: Arena::new(),
            tensors: Arena::new(),
            insts: Arena::new(),
            layouts: UniqueArena::new(),
            shared_layouts: UniqueArena::new(),
            loc: None,
        }
    }

    /// Threads per block.
    pub fn num_threads(&self) -> usize {
        32 * self.warps as usize
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<VarId> {
        self.params
            .iter()
            .copied()
            .find(|&p| self.vars.try_get(p).is_some_and(|v| v.name == name))
    }

    /// The tensor called `name`.
    pub fn tensor_by_name(&self, name: &str) -> Option<TensorId> {
        self.tensors
            .iter()
            .find(|(_, t)| t.name == name)
            .map(|(h, _)| h)
    }

    /// Visits every instruction of the body in program order (loops and branches entered once).
    pub fn for_each_inst(&self, mut f: impl FnMut(InstId)) {
        fn walk(block: &Block, f: &mut dyn FnMut(InstId)) {
            for s in block {
                match s {
                    Stmt::Inst(i) => f(*i),
                    Stmt::For { body, .. } => walk(body, f),
                    Stmt::If {
                        then_body,
                        else_body,
                        ..
                    } => {
                        walk(then_body, f);
                        walk(else_body, f);
                    }
                    Stmt::Let { .. } | Stmt::Assign { .. } => {}
                }
            }
        }
        walk(&self.body, &mut f);
    }
}
