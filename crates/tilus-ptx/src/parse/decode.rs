//! Opcode decoding: an opcode and its raw operands into an [`Op`], checking operand counts,
//! register classes and immediates against the subset of `docs/ptx.md`.

use std::collections::HashMap;

use super::lex::{parse_f32_bits, parse_int};
use super::RawOp;
use crate::ir::*;
use crate::ParamKind;

/// The type an instruction wants of an operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// `.s32`/`.u32`: `.b32`-class registers, integer immediates.
    I32,
    /// `.b32`: `.b32` or `.f32` registers, integer or `0f` immediates.
    B32,
    /// `.f32`: `.f32` or `.b32` registers, `0f` immediates.
    F32,
    /// 64-bit: `.b64` registers, integer immediates.
    B64,
    /// `.pred` registers only.
    Pred,
}

impl Ty {
    fn accepts(self, c: RegClass) -> bool {
        match self {
            Ty::I32 => c == RegClass::B32,
            Ty::B32 | Ty::F32 => matches!(c, RegClass::B32 | RegClass::F32),
            Ty::B64 => c == RegClass::B64,
            Ty::Pred => c == RegClass::Pred,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::I32 => "a 32-bit integer (.b32)",
            Ty::B32 => "a 32-bit (.b32 or .f32)",
            Ty::F32 => "an .f32 (or .b32)",
            Ty::B64 => "a 64-bit (.b64)",
            Ty::Pred => "a .pred",
        }
    }
}

fn class_name(c: RegClass) -> &'static str {
    match c {
        RegClass::Pred => ".pred",
        RegClass::B32 => ".b32",
        RegClass::F32 => ".f32",
        RegClass::B64 => ".b64",
    }
}

/// What decoding needs to know about the entry.
pub(crate) struct Ctx<'a> {
    pub regs: &'a HashMap<String, (RegClass, Reg)>,
    pub labels: &'a HashMap<String, u32>,
    pub params: &'a [Param],
    pub smem: Option<&'a str>,
}

type R<T> = Result<T, String>;

fn special(name: &str) -> Option<Special> {
    Some(match name {
        "%tid.x" => Special::TidX,
        "%ctaid.x" => Special::Ctaid(0),
        "%ctaid.y" => Special::Ctaid(1),
        "%ctaid.z" => Special::Ctaid(2),
        "%nctaid.x" => Special::Nctaid(0),
        "%nctaid.y" => Special::Nctaid(1),
        "%nctaid.z" => Special::Nctaid(2),
        "%laneid" => Special::LaneId,
        _ => return None,
    })
}

fn cmp(s: &str) -> Option<Cmp> {
    Some(match s {
        "eq" => Cmp::Eq,
        "ne" => Cmp::Ne,
        "lt" => Cmp::Lt,
        "le" => Cmp::Le,
        "gt" => Cmp::Gt,
        "ge" => Cmp::Ge,
        "neu" => Cmp::Neu,
        _ => return None,
    })
}

fn show(op: &RawOp) -> String {
    match op {
        RawOp::Name(n) => n.clone(),
        RawOp::Imm { text, neg } => format!("{}{text}", if *neg { "-" } else { "" }),
        RawOp::Addr { base, offset } => format!("[{base}{offset:+}]"),
        RawOp::Vector(v) => format!("{{{}}}", v.join(", ")),
    }
}

fn arity(ops: &[RawOp], n: usize) -> R<()> {
    if ops.len() == n {
        Ok(())
    } else {
        Err(format!("expected {n} operands, found {}", ops.len()))
    }
}

impl Ctx<'_> {
    /// A register operand of type `ty`.
    pub(crate) fn reg(&self, op: &RawOp, ty: Ty) -> R<Reg> {
        let RawOp::Name(name) = op else {
            return Err(format!("expected a register, found `{}`", show(op)));
        };
        self.named_reg(name, ty)
    }

    fn named_reg(&self, name: &str, ty: Ty) -> R<Reg> {
        match self.regs.get(name) {
            Some(&(class, r)) if ty.accepts(class) => Ok(r),
            Some(&(class, _)) => Err(format!(
                "register `{name}` is {} but the instruction wants {} register",
                class_name(class),
                ty.name()
            )),
            None if name.starts_with('%') => Err(format!("undeclared register `{name}`")),
            None => Err(format!("expected a register, found `{name}`")),
        }
    }

    /// A register or immediate operand of type `ty`.
    fn src(&self, op: &RawOp, ty: Ty) -> R<Src> {
        match op {
            RawOp::Name(_) => self.reg(op, ty).map(Src::Reg),
            RawOp::Imm { text, neg } => imm(text, *neg, ty).map(Src::Imm),
            _ => Err(format!(
                "expected a register or immediate, found `{}`",
                show(op)
            )),
        }
    }

    /// `{r0, ..., r(n-1)}` (or a plain register when `n` is 1).
    fn regs_n<const N: usize>(&self, op: &RawOp, n: usize, ty: Ty) -> R<[Reg; N]> {
        let mut out = [0; N];
        match op {
            RawOp::Name(_) if n == 1 => out[0] = self.reg(op, ty)?,
            RawOp::Vector(v) if v.len() == n && n <= N => {
                for (o, name) in out.iter_mut().zip(v) {
                    *o = self.named_reg(name, ty)?;
                }
            }
            _ => {
                return Err(format!(
                    "expected a vector of {n} registers, found `{}`",
                    show(op)
                ))
            }
        }
        Ok(out)
    }

    /// An address `[reg+imm]` whose base register has type `ty`.
    fn addr(&self, op: &RawOp, space: Space) -> R<Addr> {
        let RawOp::Addr { base, offset } = op else {
            return Err(format!("expected an address `[...]`, found `{}`", show(op)));
        };
        let ty = match space {
            Space::Global => Ty::B64,
            Space::Shared => Ty::I32,
        };
        let base = self.named_reg(base, ty).map_err(|e| {
            format!(
                "{e} (a {} address is `[%reg]` or `[%reg+imm]` with a {} register)",
                match space {
                    Space::Global => "global",
                    Space::Shared => "shared",
                },
                match space {
                    Space::Global => ".b64",
                    Space::Shared => ".b32",
                }
            )
        })?;
        Ok(Addr {
            base,
            offset: *offset,
        })
    }

    fn label(&self, op: &RawOp) -> R<u32> {
        match op {
            RawOp::Name(n) => self
                .labels
                .get(n)
                .copied()
                .ok_or_else(|| format!("undefined label `{n}`")),
            _ => Err(format!("expected a label, found `{}`", show(op))),
        }
    }

    fn is_smem(&self, op: &RawOp) -> bool {
        matches!((op, self.smem), (RawOp::Name(n), Some(s)) if n == s)
    }

    /// Decodes one instruction.
    pub(crate) fn decode(&self, opcode: &str, ops: &[RawOp]) -> R<Op> {
        let parts: Vec<&str> = opcode.split('.').collect();
        let bin = |op: IntBin, ty: Ty| -> R<Op> {
            arity(ops, 3)?;
            Ok(Op::Int(IntOp::Bin {
                op,
                d: self.reg(&ops[0], ty)?,
                a: self.src(&ops[1], ty)?,
                b: self.src(
                    &ops[2],
                    if matches!(op, IntBin::Shl | IntBin::ShrU | IntBin::ShrS) {
                        Ty::I32
                    } else {
                        ty
                    },
                )?,
            }))
        };
        let un = |op: IntUn, ty: Ty| -> R<Op> {
            arity(ops, 2)?;
            Ok(Op::Int(IntOp::Un {
                op,
                d: self.reg(&ops[0], ty)?,
                a: self.src(&ops[1], ty)?,
            }))
        };
        let fbin = |op: FloatBin| -> R<Op> {
            arity(ops, 3)?;
            Ok(Op::Float(FloatOp::Bin {
                op,
                d: self.reg(&ops[0], Ty::F32)?,
                a: self.src(&ops[1], Ty::F32)?,
                b: self.src(&ops[2], Ty::F32)?,
            }))
        };
        let fun = |op: FloatUn| -> R<Op> {
            arity(ops, 2)?;
            Ok(Op::Float(FloatOp::Un {
                op,
                d: self.reg(&ops[0], Ty::F32)?,
                a: self.src(&ops[1], Ty::F32)?,
            }))
        };
        let cvt = |kind: CvtKind, dt: Ty, at: Ty| -> R<Op> {
            arity(ops, 2)?;
            Ok(Op::Cvt(CvtOp {
                kind,
                d: self.reg(&ops[0], dt)?,
                a: self.src(&ops[1], at)?,
            }))
        };
        use IntBin as B;
        match parts.as_slice() {
            ["add", "s32"] => bin(B::Add, Ty::I32),
            ["sub", "s32"] => bin(B::Sub, Ty::I32),
            ["mul", "lo", "s32"] => bin(B::MulLo, Ty::I32),
            ["div", "s32"] => bin(B::DivS, Ty::I32),
            ["div", "u32"] => bin(B::DivU, Ty::I32),
            ["rem", "s32"] => bin(B::RemS, Ty::I32),
            ["rem", "u32"] => bin(B::RemU, Ty::I32),
            ["min", "s32"] => bin(B::MinS, Ty::I32),
            ["min", "u32"] => bin(B::MinU, Ty::I32),
            ["max", "s32"] => bin(B::MaxS, Ty::I32),
            ["max", "u32"] => bin(B::MaxU, Ty::I32),
            ["and", "b32"] => bin(B::And, Ty::B32),
            ["or", "b32"] => bin(B::Or, Ty::B32),
            ["xor", "b32"] => bin(B::Xor, Ty::B32),
            ["shl", "b32"] => bin(B::Shl, Ty::B32),
            ["shr", "u32"] => bin(B::ShrU, Ty::I32),
            ["shr", "s32"] => bin(B::ShrS, Ty::I32),
            ["neg", "s32"] => un(IntUn::Neg, Ty::I32),
            ["abs", "s32"] => un(IntUn::Abs, Ty::I32),
            ["not", "b32"] => un(IntUn::Not, Ty::B32),
            ["lop3", "b32"] => {
                arity(ops, 5)?;
                let lut = match &ops[4] {
                    RawOp::Imm { text, neg: false } => parse_int(text, false)
                        .and_then(|v| u8::try_from(v).ok())
                        .ok_or_else(|| format!("bad lop3 LUT `{text}` (expected 0..=255)"))?,
                    other => {
                        return Err(format!(
                            "the lop3 LUT must be an immediate, found `{}`",
                            show(other)
                        ))
                    }
                };
                Ok(Op::Int(IntOp::Lop3 {
                    d: self.reg(&ops[0], Ty::B32)?,
                    a: self.src(&ops[1], Ty::B32)?,
                    b: self.src(&ops[2], Ty::B32)?,
                    c: self.src(&ops[3], Ty::B32)?,
                    lut,
                }))
            }
            ["prmt", "b32"] => {
                arity(ops, 4)?;
                Ok(Op::Int(IntOp::Prmt {
                    d: self.reg(&ops[0], Ty::B32)?,
                    a: self.src(&ops[1], Ty::B32)?,
                    b: self.src(&ops[2], Ty::B32)?,
                    sel: self.src(&ops[3], Ty::B32)?,
                }))
            }
            ["mov", t @ ("b32" | "u32" | "s32" | "f32")] => {
                arity(ops, 2)?;
                let ty = match *t {
                    "b32" => Ty::B32,
                    "f32" => Ty::F32,
                    _ => Ty::I32,
                };
                if *t != "f32" {
                    if let RawOp::Name(n) = &ops[1] {
                        if let Some(s) = special(n) {
                            let d = self.reg(&ops[0], Ty::I32)?;
                            return Ok(Op::Ctrl(CtrlOp::Special { d, s }));
                        }
                    }
                    if self.is_smem(&ops[1]) {
                        let d = self.reg(&ops[0], Ty::I32)?;
                        return Ok(Op::Mem(MemOp::SmemAddr { d }));
                    }
                }
                Ok(Op::Int(IntOp::Mov32 {
                    d: self.reg(&ops[0], ty)?,
                    a: self.src(&ops[1], ty)?,
                }))
            }
            ["mov", "u64"] => {
                arity(ops, 2)?;
                let d = self.reg(&ops[0], Ty::B64)?;
                if self.is_smem(&ops[1]) {
                    return Ok(Op::Mem(MemOp::SmemAddr { d }));
                }
                Ok(Op::Int(IntOp::Mov64 {
                    d,
                    a: self.src(&ops[1], Ty::B64)?,
                }))
            }
            ["cvta", "to", "global", "u64"] => {
                arity(ops, 2)?;
                Ok(Op::Int(IntOp::Mov64 {
                    d: self.reg(&ops[0], Ty::B64)?,
                    a: Src::Reg(self.reg(&ops[1], Ty::B64)?),
                }))
            }
            ["setp", c, t @ ("s32" | "u32" | "f32")] => {
                arity(ops, 3)?;
                let c = cmp(c).ok_or_else(|| format!("unsupported comparison `{c}`"))?;
                let d = self.reg(&ops[0], Ty::Pred)?;
                if *t == "f32" {
                    Ok(Op::Float(FloatOp::Setp {
                        cmp: c,
                        d,
                        a: self.src(&ops[1], Ty::F32)?,
                        b: self.src(&ops[2], Ty::F32)?,
                    }))
                } else {
                    if c == Cmp::Neu {
                        return Err(format!("`neu` is for .f32 comparisons, not .{t}"));
                    }
                    Ok(Op::Int(IntOp::Setp {
                        cmp: c,
                        signed: *t == "s32",
                        d,
                        a: self.src(&ops[1], Ty::I32)?,
                        b: self.src(&ops[2], Ty::I32)?,
                    }))
                }
            }
            [op @ ("and" | "or" | "xor"), "pred"] => {
                arity(ops, 3)?;
                let op = match *op {
                    "and" => PredBin::And,
                    "or" => PredBin::Or,
                    _ => PredBin::Xor,
                };
                Ok(Op::Int(IntOp::PredBin {
                    op,
                    d: self.reg(&ops[0], Ty::Pred)?,
                    a: self.reg(&ops[1], Ty::Pred)?,
                    b: self.reg(&ops[2], Ty::Pred)?,
                }))
            }
            ["mov", "pred"] => {
                arity(ops, 2)?;
                Ok(Op::Int(IntOp::PredMov {
                    d: self.reg(&ops[0], Ty::Pred)?,
                    a: self.reg(&ops[1], Ty::Pred)?,
                }))
            }
            ["not", "pred"] => {
                arity(ops, 2)?;
                Ok(Op::Int(IntOp::PredNot {
                    d: self.reg(&ops[0], Ty::Pred)?,
                    a: self.reg(&ops[1], Ty::Pred)?,
                }))
            }
            ["selp", t @ ("b32" | "f32")] => {
                arity(ops, 4)?;
                let ty = if *t == "f32" { Ty::F32 } else { Ty::B32 };
                Ok(Op::Int(IntOp::Selp {
                    d: self.reg(&ops[0], ty)?,
                    a: self.src(&ops[1], ty)?,
                    b: self.src(&ops[2], ty)?,
                    p: self.reg(&ops[3], Ty::Pred)?,
                }))
            }
            ["mul", "wide", t @ ("s32" | "u32")] => {
                arity(ops, 3)?;
                Ok(Op::Int(IntOp::MulWide {
                    signed: *t == "s32",
                    d: self.reg(&ops[0], Ty::B64)?,
                    a: self.src(&ops[1], Ty::I32)?,
                    b: self.src(&ops[2], Ty::I32)?,
                }))
            }
            ["add", "s64"] => {
                arity(ops, 3)?;
                Ok(Op::Int(IntOp::Add64 {
                    d: self.reg(&ops[0], Ty::B64)?,
                    a: self.src(&ops[1], Ty::B64)?,
                    b: self.src(&ops[2], Ty::B64)?,
                }))
            }
            ["add", "rn", "f32"] => fbin(FloatBin::Add),
            ["sub", "rn", "f32"] => fbin(FloatBin::Sub),
            ["mul", "rn", "f32"] => fbin(FloatBin::Mul),
            ["div", "rn", "f32"] => fbin(FloatBin::Div),
            ["min", "f32"] => fbin(FloatBin::Min),
            ["max", "f32"] => fbin(FloatBin::Max),
            ["fma", "rn", "f32"] => {
                arity(ops, 4)?;
                Ok(Op::Float(FloatOp::Fma {
                    d: self.reg(&ops[0], Ty::F32)?,
                    a: self.src(&ops[1], Ty::F32)?,
                    b: self.src(&ops[2], Ty::F32)?,
                    c: self.src(&ops[3], Ty::F32)?,
                }))
            }
            ["neg", "f32"] => fun(FloatUn::Neg),
            ["abs", "f32"] => fun(FloatUn::Abs),
            ["sqrt", "rn", "f32"] => fun(FloatUn::Sqrt),
            ["ex2", "approx", "f32"] => fun(FloatUn::Ex2),
            ["lg2", "approx", "f32"] => fun(FloatUn::Lg2),
            ["cvt", "rn", "f32", "s32"] => cvt(CvtKind::F32S32, Ty::F32, Ty::I32),
            ["cvt", "rn", "f32", "u32"] => cvt(CvtKind::F32U32, Ty::F32, Ty::I32),
            ["cvt", "rzi", "s32", "f32"] => cvt(CvtKind::S32F32, Ty::I32, Ty::F32),
            ["cvt", "rzi", "u32", "f32"] => cvt(CvtKind::U32F32, Ty::I32, Ty::F32),
            ["cvt", "rni", "f32", "f32"] => cvt(CvtKind::Rni, Ty::F32, Ty::F32),
            ["cvt", "rmi", "f32", "f32"] => cvt(CvtKind::Rmi, Ty::F32, Ty::F32),
            ["cvt", "rpi", "f32", "f32"] => cvt(CvtKind::Rpi, Ty::F32, Ty::F32),
            ["cvt", "u64", "u32"] => cvt(CvtKind::U64U32, Ty::B64, Ty::I32),
            ["cvt", "s64", "s32"] => cvt(CvtKind::S64S32, Ty::B64, Ty::I32),
            ["ld", rest @ ..] => self.decode_ld(rest, ops),
            ["st", rest @ ..] => self.decode_st(rest, ops),
            ["red", space @ ("global" | "shared"), op @ ("and" | "or"), "b32"] => {
                arity(ops, 2)?;
                let space = if *space == "global" {
                    Space::Global
                } else {
                    Space::Shared
                };
                Ok(Op::Mem(MemOp::Red {
                    space,
                    op: if *op == "and" { RedOp::And } else { RedOp::Or },
                    addr: self.addr(&ops[0], space)?,
                    src: self.src(&ops[1], Ty::B32)?,
                }))
            }
            ["cp", "async", level @ ("ca" | "cg"), "shared", "global"] => {
                if ops.len() != 3 && ops.len() != 4 {
                    return Err(format!("expected 3 or 4 operands, found {}", ops.len()));
                }
                let size = match &ops[2] {
                    RawOp::Imm { text, neg: false } => parse_int(text, false),
                    _ => None,
                };
                let size = match (size, *level) {
                    (Some(s @ (4 | 8 | 16)), "ca") | (Some(s @ 16), "cg") => s as u8,
                    _ => {
                        return Err(format!(
                            "bad cp-size `{}` (cp.async.{level} takes {})",
                            show(&ops[2]),
                            if *level == "ca" { "4, 8 or 16" } else { "16" }
                        ))
                    }
                };
                let src_size = match ops.get(3) {
                    Some(op) => self.src(op, Ty::I32)?,
                    None => Src::Imm(size as u64),
                };
                Ok(Op::Mem(MemOp::CpAsync {
                    dst: self.addr(&ops[0], Space::Shared)?,
                    src: self.addr(&ops[1], Space::Global)?,
                    size,
                    src_size,
                }))
            }
            ["cp", "async", "commit_group"] => arity(ops, 0).map(|_| Op::Mem(MemOp::CpCommit)),
            ["cp", "async", "wait_all"] => arity(ops, 0).map(|_| Op::Mem(MemOp::CpWaitAll)),
            ["cp", "async", "wait_group"] => {
                arity(ops, 1)?;
                match &ops[0] {
                    RawOp::Imm { text, neg: false } => parse_int(text, false)
                        .and_then(|v| u32::try_from(v).ok())
                        .map(|n| Op::Mem(MemOp::CpWaitGroup(n)))
                        .ok_or_else(|| format!("bad group count `{text}`")),
                    other => Err(format!(
                        "the group count must be an immediate, found `{}`",
                        show(other)
                    )),
                }
            }
            ["createpolicy", "fractional", l2, "b64"]
                if matches!(
                    *l2,
                    "L2::evict_first"
                        | "L2::evict_last"
                        | "L2::evict_normal"
                        | "L2::evict_unchanged"
                ) =>
            {
                arity(ops, 2)?;
                let fraction = match &ops[1] {
                    RawOp::Imm { text, neg: false } => parse_f32_bits(text)
                        .map(|b| f32::from_bits(b) as f64)
                        .or_else(|| text.parse::<f64>().ok()),
                    _ => None,
                };
                match fraction {
                    Some(f) if f > 0.0 && f <= 1.0 => Ok(Op::Mem(MemOp::CreatePolicy {
                        d: self.reg(&ops[0], Ty::B64)?,
                    })),
                    _ => Err(format!(
                        "bad fraction `{}` (expected a number in (0, 1])",
                        show(&ops[1])
                    )),
                }
            }
            ["bar", "sync"] => {
                arity(ops, 1)?;
                match &ops[0] {
                    RawOp::Imm { text, neg: false } if parse_int(text, false) == Some(0) => {
                        Ok(Op::Ctrl(CtrlOp::Bar))
                    }
                    other => Err(format!(
                        "only barrier 0 is supported, found `{}`",
                        show(other)
                    )),
                }
            }
            ["bra"] | ["bra", "uni"] => {
                arity(ops, 1)?;
                Ok(Op::Ctrl(CtrlOp::Bra(self.label(&ops[0])?)))
            }
            ["ret"] => arity(ops, 0).map(|_| Op::Ctrl(CtrlOp::Ret)),
            ["mma", "sync", "aligned", "m16n8k16", "row", "col", "f32", ab @ ("f16" | "bf16"), ab2, "f32"]
                if ab == ab2 =>
            {
                arity(ops, 4)?;
                Ok(Op::Warp(WarpOp::Mma {
                    bf16: *ab == "bf16",
                    d: self.regs_n(&ops[0], 4, Ty::F32)?,
                    a: self.regs_n(&ops[1], 4, Ty::I32)?,
                    b: self.regs_n(&ops[2], 2, Ty::I32)?,
                    c: self.regs_n(&ops[3], 4, Ty::F32)?,
                }))
            }
            ["ldmatrix", "sync", "aligned", "m8n8", x, rest @ ..] => {
                let n: u8 = match *x {
                    "x1" => 1,
                    "x2" => 2,
                    "x4" => 4,
                    _ => return Err(format!("unsupported ldmatrix count `.{x}`")),
                };
                let trans = match rest {
                    ["shared", "b16"] => false,
                    ["trans", "shared", "b16"] => true,
                    _ => return Err(format!("unsupported instruction `{opcode}`")),
                };
                arity(ops, 2)?;
                Ok(Op::Warp(WarpOp::Ldmatrix {
                    n,
                    trans,
                    d: self.regs_n(&ops[0], n as usize, Ty::I32)?,
                    addr: self.addr(&ops[1], Space::Shared)?,
                }))
            }
            ["shfl", "sync", mode @ ("bfly" | "idx"), "b32"] => {
                arity(ops, 5)?;
                Ok(Op::Warp(WarpOp::Shfl {
                    idx: *mode == "idx",
                    d: self.reg(&ops[0], Ty::B32)?,
                    a: self.src(&ops[1], Ty::B32)?,
                    b: self.src(&ops[2], Ty::I32)?,
                    c: self.src(&ops[3], Ty::I32)?,
                    mask: self.src(&ops[4], Ty::I32)?,
                }))
            }
            _ => Err(format!(
                "unknown or unsupported instruction `{opcode}` (not in docs/ptx.md)"
            )),
        }
    }

    fn decode_ld(&self, quals: &[&str], ops: &[RawOp]) -> R<Op> {
        if let ["param", t @ ("u64" | "u32")] = quals {
            arity(ops, 2)?;
            let RawOp::Addr { base, offset: 0 } = &ops[1] else {
                return Err(format!(
                    "expected `[PARAM_NAME]`, found `{}`",
                    show(&ops[1])
                ));
            };
            let Some(index) = self.params.iter().position(|p| &p.name == base) else {
                return Err(format!("unknown parameter `{base}`"));
            };
            let (kind, ty) = if *t == "u64" {
                (ParamKind::U64, Ty::B64)
            } else {
                (ParamKind::U32, Ty::I32)
            };
            if self.params[index].kind != kind {
                return Err(format!("parameter `{base}` is not .{t}"));
            }
            return Ok(Op::Mem(MemOp::LdParam {
                d: self.reg(&ops[0], ty)?,
                index: index as u32,
            }));
        }
        let mut q = quals.iter().copied().peekable();
        let acquire = q.next_if_eq(&"acquire").is_some();
        if acquire && q.next() != Some("gpu") {
            return Err("expected `.acquire.gpu`".into());
        }
        let space = parse_space(q.next())?;
        let nc = q.next_if_eq(&"nc").is_some();
        let no_alloc = q.next_if_eq(&"L1::no_allocate").is_some();
        let hint = q.next_if_eq(&"L2::cache_hint").is_some();
        let n = vec_width(&mut q);
        match q.next() {
            Some("b32" | "f32") => {}
            other => return Err(format!("unsupported load type `{}`", other.unwrap_or(""))),
        }
        if let Some(extra) = q.next() {
            return Err(format!("unsupported load qualifier `.{extra}`"));
        }
        if space == Space::Shared && (acquire || nc || no_alloc || hint) {
            return Err("shared loads take no .acquire, .nc or cache qualifiers".into());
        }
        if acquire && (nc || no_alloc || hint || n != 1) {
            return Err("ld.acquire.gpu.global takes a single .b32 and no other qualifier".into());
        }
        arity(ops, if hint { 3 } else { 2 })?;
        if hint {
            self.reg(&ops[2], Ty::B64)?;
        }
        Ok(Op::Mem(MemOp::Ld {
            space,
            n,
            d: self.regs_n(&ops[0], n as usize, Ty::B32)?,
            addr: self.addr(&ops[1], space)?,
        }))
    }

    fn decode_st(&self, quals: &[&str], ops: &[RawOp]) -> R<Op> {
        let mut q = quals.iter().copied().peekable();
        let release = q.next_if_eq(&"release").is_some();
        if release && q.next() != Some("gpu") {
            return Err("expected `.release.gpu`".into());
        }
        let space = parse_space(q.next())?;
        let n = vec_width(&mut q);
        match q.next() {
            Some("b32" | "f32") => {}
            other => return Err(format!("unsupported store type `{}`", other.unwrap_or(""))),
        }
        if let Some(extra) = q.next() {
            return Err(format!("unsupported store qualifier `.{extra}`"));
        }
        if release && (space != Space::Global || n != 1) {
            return Err("st.release.gpu.global takes a single .b32".into());
        }
        arity(ops, 2)?;
        let mut src = [Src::Imm(0); 4];
        if n == 1 {
            src[0] = self.src(&ops[1], Ty::B32)?;
        } else {
            let regs: [Reg; 4] = self.regs_n(&ops[1], n as usize, Ty::B32)?;
            for (s, r) in src.iter_mut().zip(regs).take(n as usize) {
                *s = Src::Reg(r);
            }
        }
        Ok(Op::Mem(MemOp::St {
            space,
            n,
            src,
            addr: self.addr(&ops[0], space)?,
        }))
    }
}

fn parse_space(s: Option<&str>) -> R<Space> {
    match s {
        Some("global") => Ok(Space::Global),
        Some("shared") => Ok(Space::Shared),
        other => Err(format!("unsupported state space `{}`", other.unwrap_or(""))),
    }
}

fn vec_width<'a>(q: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> u8 {
    if q.next_if_eq(&"v2").is_some() {
        2
    } else if q.next_if_eq(&"v4").is_some() {
        4
    } else {
        1
    }
}

/// An immediate of type `ty`, as bits zero-extended to 64.
fn imm(text: &str, neg: bool, ty: Ty) -> R<u64> {
    let bad = || {
        format!(
            "bad immediate `{}{text}` for {} operand",
            if neg { "-" } else { "" },
            ty.name()
        )
    };
    if let Some(bits) = parse_f32_bits(text) {
        return match ty {
            Ty::F32 | Ty::B32 if !neg => Ok(bits as u64),
            _ => Err(bad()),
        };
    }
    let v = parse_int(text, neg).ok_or_else(bad)?;
    match ty {
        Ty::I32 | Ty::B32 if (-(1i128 << 31)..(1i128 << 32)).contains(&v) => Ok(v as u32 as u64),
        Ty::B64 if (-(1i128 << 63)..(1i128 << 64)).contains(&v) => Ok(v as u64),
        _ => Err(bad()),
    }
}
