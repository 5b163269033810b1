//! The parsed representation: entries whose instructions are decoded into enums with
//! register indices, so that execution does no string work.

use crate::ParamKind;

/// Index of a register in a thread's flat register file (one `u64` per register).
pub(crate) type Reg = u32;

/// The class of a declared register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegClass {
    /// `.pred`: 0 or 1.
    Pred,
    /// `.b32`, `.u32`, `.s32`: the low 32 bits are the value.
    B32,
    /// `.f32`: the low 32 bits are the IEEE bits.
    F32,
    /// `.b64`, `.u64`, `.s64`.
    B64,
}

/// A source operand: a register or an immediate (bits, zero-extended to 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Src {
    Reg(Reg),
    Imm(u64),
}

/// An address operand `[base+offset]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addr {
    pub base: Reg,
    pub offset: i64,
}

/// A state space of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Space {
    Global,
    Shared,
}

/// `@%p` / `@!%p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Guard {
    pub pred: Reg,
    pub negate: bool,
}

/// One decoded instruction.
#[derive(Debug, Clone)]
pub(crate) struct Inst {
    pub op: Op,
    pub guard: Option<Guard>,
    /// 1-based source line.
    pub line: u32,
    /// The source text, for error messages.
    pub text: Box<str>,
}

/// A kernel parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub name: String,
    pub kind: ParamKind,
}

/// One `.entry`.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub params: Vec<Param>,
    pub maxntid: Option<[u32; 3]>,
    pub insts: Vec<Inst>,
    /// Registers per thread.
    pub num_regs: u32,
    /// Line of the `.entry`.
    pub line: u32,
}

/// An instruction, by family.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Int(IntOp),
    Float(FloatOp),
    Cvt(CvtOp),
    Mem(MemOp),
    Warp(WarpOp),
    Ctrl(CtrlOp),
}

/// Two-operand 32-bit integer operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntBin {
    Add,
    Sub,
    MulLo,
    DivS,
    DivU,
    RemS,
    RemU,
    MinS,
    MinU,
    MaxS,
    MaxU,
    And,
    Or,
    Xor,
    Shl,
    ShrU,
    ShrS,
}

/// One-operand 32-bit integer operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntUn {
    Neg,
    Abs,
    Not,
}

/// Comparison operators of `setp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Unordered or not equal (`.f32` only).
    Neu,
}

/// Predicate logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PredBin {
    And,
    Or,
    Xor,
}

/// Integer, predicate, move and 64-bit address arithmetic.
#[derive(Debug, Clone)]
pub(crate) enum IntOp {
    Bin {
        op: IntBin,
        d: Reg,
        a: Src,
        b: Src,
    },
    Un {
        op: IntUn,
        d: Reg,
        a: Src,
    },
    Lop3 {
        d: Reg,
        a: Src,
        b: Src,
        c: Src,
        lut: u8,
    },
    Prmt {
        d: Reg,
        a: Src,
        b: Src,
        sel: Src,
    },
    /// 32-bit bit move (`mov.b32/u32/s32/f32`).
    Mov32 {
        d: Reg,
        a: Src,
    },
    /// `mov.u64`, `cvta.to.global.u64` (the identity here).
    Mov64 {
        d: Reg,
        a: Src,
    },
    Setp {
        cmp: Cmp,
        signed: bool,
        d: Reg,
        a: Src,
        b: Src,
    },
    Selp {
        d: Reg,
        a: Src,
        b: Src,
        p: Reg,
    },
    PredBin {
        op: PredBin,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    PredNot {
        d: Reg,
        a: Reg,
    },
    PredMov {
        d: Reg,
        a: Reg,
    },
    MulWide {
        signed: bool,
        d: Reg,
        a: Src,
        b: Src,
    },
    Add64 {
        d: Reg,
        a: Src,
        b: Src,
    },
}

/// Two-operand `f32` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatBin {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
}

/// One-operand `f32` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatUn {
    Neg,
    Abs,
    Sqrt,
    Ex2,
    Lg2,
}

/// `f32` arithmetic and comparison.
#[derive(Debug, Clone)]
pub(crate) enum FloatOp {
    Bin {
        op: FloatBin,
        d: Reg,
        a: Src,
        b: Src,
    },
    Fma {
        d: Reg,
        a: Src,
        b: Src,
        c: Src,
    },
    Un {
        op: FloatUn,
        d: Reg,
        a: Src,
    },
    Setp {
        cmp: Cmp,
        d: Reg,
        a: Src,
        b: Src,
    },
}

/// The conversions of `cvt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CvtKind {
    /// `cvt.rn.f32.s32`.
    F32S32,
    /// `cvt.rn.f32.u32`.
    F32U32,
    /// `cvt.rzi.s32.f32`.
    S32F32,
    /// `cvt.rzi.u32.f32`.
    U32F32,
    /// `cvt.rni.f32.f32`.
    Rni,
    /// `cvt.rmi.f32.f32`.
    Rmi,
    /// `cvt.rpi.f32.f32`.
    Rpi,
    /// `cvt.u64.u32`.
    U64U32,
    /// `cvt.s64.s32`.
    S64S32,
}

/// A conversion.
#[derive(Debug, Clone)]
pub(crate) struct CvtOp {
    pub kind: CvtKind,
    pub d: Reg,
    pub a: Src,
}

/// `red` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedOp {
    And,
    Or,
}

/// Memory, parameters, `cp.async`.
#[derive(Debug, Clone)]
pub(crate) enum MemOp {
    /// `ld.param.u64/u32 d, [NAME]`.
    LdParam {
        d: Reg,
        index: u32,
    },
    /// `ld` of `n` 32-bit words.
    Ld {
        space: Space,
        n: u8,
        d: [Reg; 4],
        addr: Addr,
    },
    /// `st` of `n` 32-bit words.
    St {
        space: Space,
        n: u8,
        src: [Src; 4],
        addr: Addr,
    },
    Red {
        space: Space,
        op: RedOp,
        addr: Addr,
        src: Src,
    },
    CpAsync {
        dst: Addr,
        src: Addr,
        size: u8,
        src_size: Src,
    },
    CpCommit,
    CpWaitGroup(u32),
    CpWaitAll,
    /// `createpolicy`: writes an opaque policy value.
    CreatePolicy {
        d: Reg,
    },
    /// `mov.u32/u64 d, tilus_smem`.
    SmemAddr {
        d: Reg,
    },
}

/// Warp collectives.
#[derive(Debug, Clone)]
pub(crate) enum WarpOp {
    Mma {
        bf16: bool,
        d: [Reg; 4],
        a: [Reg; 4],
        b: [Reg; 2],
        c: [Reg; 4],
    },
    Ldmatrix {
        n: u8,
        trans: bool,
        d: [Reg; 4],
        addr: Addr,
    },
    Shfl {
        /// `idx` mode (source lane `b`), else `bfly` (source lane `lane ^ b`).
        idx: bool,
        d: Reg,
        a: Src,
        b: Src,
        c: Src,
        mask: Src,
    },
}

/// Special registers readable with `mov.u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    TidX,
    Ctaid(u8),
    Nctaid(u8),
    LaneId,
}

/// Control flow and special registers.
#[derive(Debug, Clone)]
pub(crate) enum CtrlOp {
    Bra(u32),
    Bar,
    Ret,
    Special { d: Reg, s: Special },
}
