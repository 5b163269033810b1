//! The PTX machine IR: what instruction selection produces and the writer prints — virtual
//! registers of four classes, instructions with their full opcode and operands, labels. It
//! holds decisions already made (opcodes, vector widths, cache hints); the writer only
//! spells them.

use std::fmt;

/// A register class (a `.reg` declaration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// `.pred` (`%p`).
    Pred,
    /// `.b32` (`%r`): `s32`, `u32` and bit patterns.
    B32,
    /// `.f32` (`%f`).
    F32,
    /// `.b64` (`%rd`): addresses and cache policies.
    B64,
}

impl Class {
    /// The register prefix (`%p`, `%r`, `%f`, `%rd`).
    pub fn prefix(self) -> &'static str {
        match self {
            Class::Pred => "%p",
            Class::B32 => "%r",
            Class::F32 => "%f",
            Class::B64 => "%rd",
        }
    }

    /// The `.reg` type (`.pred`, `.b32`, `.f32`, `.b64`).
    pub fn decl(self) -> &'static str {
        match self {
            Class::Pred => ".pred",
            Class::B32 => ".b32",
            Class::F32 => ".f32",
            Class::B64 => ".b64",
        }
    }

    /// All classes, in declaration order.
    pub const ALL: [Class; 4] = [Class::Pred, Class::B32, Class::F32, Class::B64];
}

/// A virtual register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reg {
    /// Its class.
    pub class: Class,
    /// Its number within the class (from 1, as nvcc numbers them).
    pub n: u32,
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.class.prefix(), self.n)
    }
}

/// An operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A register.
    Reg(Reg),
    /// An integer immediate.
    Imm(i64),
    /// An `f32` immediate (its bits; printed `0fXXXXXXXX`).
    F32(u32),
    /// A brace-enclosed register vector (`{%r1, %r2}`).
    Vec(Vec<Reg>),
    /// A memory address `[base+offset]`.
    Addr {
        /// The base register (`%rd` global, `%r` shared) or symbol.
        base: Base,
        /// A byte offset.
        offset: i64,
    },
    /// A label (`$L__N`).
    Label(u32),
    /// A symbol (the shared array).
    Symbol(String),
}

/// The base of an address.
#[derive(Clone, Debug, PartialEq)]
pub enum Base {
    /// A register.
    Reg(Reg),
    /// A symbol (`NAME_param_0`).
    Symbol(String),
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    /// `@%p` (false) or `@!%p` (true).
    pub guard: Option<(Reg, bool)>,
    /// The full opcode with its modifiers (`ld.global.nc.v4.b32`).
    pub op: String,
    /// Destination first, then sources.
    pub args: Vec<Operand>,
}

/// A line of the body.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// An instruction.
    Inst(Inst),
    /// A label definition.
    Label(u32),
    /// A comment.
    Comment(String),
}

/// A kernel: parameters, register counts and body.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The `.entry` name.
    pub name: String,
    /// Parameter names (all `.u64`).
    pub params: Vec<String>,
    /// Threads per block (`.maxntid`).
    pub threads: u32,
    /// Registers per thread `ptxas` may use (`.maxnreg`): as many as a block of `threads`
    /// can hold in the 64 Ki-register file, at most 255. Without it, `ptxas` caps small
    /// blocks far lower and spills.
    pub max_regs: u32,
    /// Registers used per class (`.reg .b32 %r<N>` declares `N` = count + 1).
    pub regs: [u32; 4],
    /// Bytes of dynamic shared memory the kernel uses (0: no shared array declared).
    pub shared_bytes: u32,
    /// The body.
    pub body: Vec<Line>,
}

/// The name of the dynamic shared array.
pub const SMEM: &str = "tilus_smem";
