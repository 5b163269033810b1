//! A light verifier for thread kernels: handles and types.
//!
//! Checks: every handle indexes its arena and expression operands precede their users;
//! expression operand types (same-type binary operands, `bool` conditions, float-only
//! operators, codec operands); statements: assignment and slot types, slot ranges
//! (`slot + width <= len`), memory and array dtypes agree, masks are `bool`, indices and
//! loop bounds are `i32`, semaphores are `i32` global elements, atomics are on 32-bit
//! integer elements with an operand of their carrier type, `mma` operands have the
//! right dtypes and slots, `view` keeps the total bits, widths are positive.

use thiserror::Error;
use tilus_ir::dtype::DType;

use super::printer::expr_to_string;
use super::{
    BinaryOp, Expr, ExprId, LocalRef, MemRef, ParamKind, Space, Stmt, ThreadKernel, Ty, UnaryOp,
};

/// A thread kernel that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("thread kernel `{kernel}`: {message}")]
pub struct ThreadVerifyError {
    /// The kernel.
    pub kernel: String,
    /// What is wrong.
    pub message: String,
}

/// Checks a kernel; the first problem found is returned.
pub fn verify(k: &ThreadKernel) -> Result<(), ThreadVerifyError> {
    let fail = |message: String| ThreadVerifyError {
        kernel: k.name.clone(),
        message,
    };
    let mut types: Vec<Ty> = Vec::with_capacity(k.exprs.len());
    for (h, e) in k.exprs.iter() {
        let t = expr_type(k, e, h, &types).map_err(&fail)?;
        types.push(t);
    }
    for p in &k.params {
        if let ParamKind::Pointer(b) = p.kind {
            if !k.buffers.contains(b) {
                return Err(fail(format!("parameter #{} has a dangling buffer", p.name)));
            }
        }
    }
    let cx = Cx { k, types: &types };
    cx.block(&k.body).map_err(fail)
}

fn expr_type(k: &ThreadKernel, e: &Expr, h: ExprId, types: &[Ty]) -> Result<Ty, String> {
    let op = |x: ExprId| -> Result<Ty, String> {
        if x.index() >= h.index() {
            return Err(format!(
                "expression {h:?} uses {x:?}, which does not precede it"
            ));
        }
        types
            .get(x.index())
            .copied()
            .ok_or_else(|| format!("expression {x:?} does not exist"))
    };
    Ok(match *e {
        Expr::Const(c) => c.ty(),
        Expr::Param(i) => match k.params.get(i as usize).map(|p| p.kind) {
            Some(ParamKind::Scalar(t)) => t,
            Some(ParamKind::Pointer(_)) => {
                return Err(format!("parameter {i} is a pointer, read as a scalar"))
            }
            None => return Err(format!("parameter {i} does not exist")),
        },
        Expr::Special(_) => Ty::I32,
        Expr::Var(v) => k
            .vars
            .try_get(v)
            .map(|v| v.ty)
            .ok_or_else(|| format!("variable {v:?} does not exist"))?,
        Expr::Local { array, slot } => {
            let a = k
                .locals
                .try_get(array)
                .ok_or_else(|| format!("local array {array:?} does not exist"))?;
            if slot >= a.len {
                return Err(format!(
                    "slot {slot} of %{} is out of range (it has {})",
                    a.name, a.len
                ));
            }
            Ty::carrier(a.dtype)
        }
        Expr::Unary(u, a) => {
            let t = op(a)?;
            let ok = match u {
                UnaryOp::Not => t == Ty::Bool || t.is_int(),
                UnaryOp::Neg | UnaryOp::Abs => t.is_int() || t.is_float(),
                _ => t.is_float(),
            };
            if !ok {
                return Err(format!("{} does not apply to {}", u.name(), t.name()));
            }
            t
        }
        Expr::Binary(b, x, y) => {
            let (tx, ty) = (op(x)?, op(y)?);
            let shift = matches!(b, BinaryOp::Shl | BinaryOp::Shr);
            if shift {
                if !tx.is_int() || !ty.is_int() {
                    return Err(format!("`{}` needs integers", b.symbol()));
                }
            } else if tx != ty {
                return Err(format!(
                    "`{}` operands differ: {} and {}",
                    b.symbol(),
                    tx.name(),
                    ty.name()
                ));
            }
            let bitwise = matches!(b, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor);
            if bitwise && tx.is_float() {
                return Err(format!("`{}` does not apply to floats", b.symbol()));
            }
            if !bitwise && !b.is_comparison() && tx == Ty::Bool {
                return Err(format!("`{}` does not apply to bools", b.symbol()));
            }
            if b.is_comparison() {
                Ty::Bool
            } else {
                tx
            }
        }
        Expr::Select(c, a, b) => {
            let (tc, ta, tb) = (op(c)?, op(a)?, op(b)?);
            if tc != Ty::Bool || ta != tb {
                return Err(format!(
                    "select needs (bool, T, T), got ({}, {}, {})",
                    tc.name(),
                    ta.name(),
                    tb.name()
                ));
            }
            ta
        }
        Expr::Fma(a, b, c) => {
            let (ta, tb, tc) = (op(a)?, op(b)?, op(c)?);
            if !ta.is_float() || ta != tb || ta != tc {
                return Err("fma needs three floats of one type".into());
            }
            ta
        }
        Expr::Cast(t, a) => {
            op(a)?;
            t
        }
        Expr::Bitcast(t, a) => {
            let ta = op(a)?;
            let ok = ta.bits() == t.bits()
                || (ta == Ty::F16 && t.bits() == 32 && t.is_int())
                || (t == Ty::F16 && ta.bits() == 32 && ta.is_int());
            if !ok || ta == Ty::Bool || t == Ty::Bool {
                return Err(format!(
                    "bitcast from {} to {} changes the width",
                    ta.name(),
                    t.name()
                ));
            }
            t
        }
        Expr::Decode(d, a) => {
            if op(a)? != Ty::U32 || !(Ty::is_coded(d) || d == DType::F16) {
                return Err(format!(
                    "decode<{d}> needs a u32 code of a coded float dtype or f16"
                ));
            }
            Ty::F32
        }
        Expr::Encode(d, a) => {
            let ta = op(a)?;
            if ta == Ty::Bool || !Ty::is_coded(d) {
                return Err(format!(
                    "encode<{d}> needs a number and a coded float dtype"
                ));
            }
            Ty::U32
        }
    })
}

struct Cx<'a> {
    k: &'a ThreadKernel,
    types: &'a [Ty],
}

const I32_T: DType = DType::Int {
    bits: 32,
    signed: true,
};

impl Cx<'_> {
    fn ty(&self, e: ExprId) -> Result<Ty, String> {
        self.types
            .get(e.index())
            .copied()
            .ok_or_else(|| format!("expression {e:?} does not exist"))
    }

    fn want(&self, e: ExprId, t: Ty, what: &str) -> Result<(), String> {
        let got = self.ty(e)?;
        if got != t {
            return Err(format!(
                "{what} `{}` has type {}, expected {}",
                expr_to_string(self.k, e),
                got.name(),
                t.name()
            ));
        }
        Ok(())
    }

    fn slots(&self, r: LocalRef, width: u32, what: &str) -> Result<DType, String> {
        let a = self
            .k
            .locals
            .try_get(r.array)
            .ok_or_else(|| format!("{what}: local array {:?} does not exist", r.array))?;
        if width == 0 || u64::from(r.slot) + u64::from(width) > u64::from(a.len) {
            return Err(format!(
                "{what}: slots {}..{} of %{} are out of range (it has {})",
                r.slot,
                u64::from(r.slot) + u64::from(width),
                a.name,
                a.len
            ));
        }
        Ok(a.dtype)
    }

    fn mem(&self, m: MemRef, what: &str) -> Result<DType, String> {
        self.want(m.index, Ty::I32, what)?;
        self.k
            .space_dtype(m.space)
            .ok_or_else(|| format!("{what}: the memory space {:?} does not exist", m.space))
    }

    fn mask(&self, m: Option<ExprId>) -> Result<(), String> {
        match m {
            Some(m) => self.want(m, Ty::Bool, "mask"),
            None => Ok(()),
        }
    }

    fn block(&self, body: &[Stmt]) -> Result<(), String> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&self, s: &Stmt) -> Result<(), String> {
        match s {
            Stmt::Assign { var, value } => {
                let v = self
                    .k
                    .vars
                    .try_get(*var)
                    .ok_or_else(|| format!("variable {var:?} does not exist"))?;
                self.want(*value, v.ty, &format!("value assigned to ${}", v.name))
            }
            Stmt::SetLocal { dst, value } => {
                let d = self.slots(*dst, 1, "set")?;
                self.want(*value, Ty::carrier(d), "value stored in a slot")
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => {
                let dl = self.slots(*dst, *width, "load")?;
                let dm = self.mem(*src, "load index")?;
                self.mask(*mask)?;
                same_dtype(dl, dm, "load")
            }
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => {
                let dl = self.slots(*src, *width, "store")?;
                let dm = self.mem(*dst, "store index")?;
                self.mask(*mask)?;
                same_dtype(dl, dm, "store")
            }
            Stmt::View { dst, src } => {
                let (Some(d), Some(s)) = (self.k.locals.try_get(*dst), self.k.locals.try_get(*src))
                else {
                    return Err("view of a dangling local array".into());
                };
                if d.bits() != s.bits() {
                    return Err(format!(
                        "view %{} ({} bits) = %{} ({} bits) changes the size",
                        d.name,
                        d.bits(),
                        s.name,
                        s.bits()
                    ));
                }
                Ok(())
            }
            Stmt::CopyAsync {
                dst,
                src,
                width,
                mask,
            } => {
                if !matches!(dst.space, Space::Shared(_)) || !matches!(src.space, Space::Global(_))
                {
                    return Err("cp.async copies from global to shared memory".into());
                }
                if *width == 0 {
                    return Err("cp.async of width 0".into());
                }
                let a = self.mem(*dst, "cp.async destination")?;
                let b = self.mem(*src, "cp.async source")?;
                self.mask(*mask)?;
                same_dtype(a, b, "cp.async")
            }
            Stmt::CommitGroup
            | Stmt::WaitGroup(_)
            | Stmt::WaitAll
            | Stmt::Barrier
            | Stmt::SharedBarrier => Ok(()),
            Stmt::Mma {
                dtype, a, b, c, d, ..
            } => {
                if !matches!(dtype, DType::F16 | DType::BF16) {
                    return Err(format!("mma operands must be f16 or bf16, got {dtype}"));
                }
                same_dtype(self.slots(*a, 8, "mma a")?, *dtype, "mma a")?;
                same_dtype(self.slots(*b, 4, "mma b")?, *dtype, "mma b")?;
                same_dtype(self.slots(*c, 4, "mma c")?, DType::F32, "mma c")?;
                same_dtype(self.slots(*d, 4, "mma d")?, DType::F32, "mma d")
            }
            Stmt::LdMatrix {
                src,
                row,
                num,
                trans,
                dst,
            } => {
                if !matches!(num, 1 | 2 | 4) {
                    return Err(format!("ldmatrix loads 1, 2 or 4 matrices, not {num}"));
                }
                let sd = self
                    .k
                    .shared
                    .try_get(*src)
                    .map(|s| s.dtype)
                    .ok_or("ldmatrix of a dangling shared allocation")?;
                let bits = sd.bits();
                if !matches!(bits, 8 | 16 | 32) || (*trans && bits != 16) {
                    return Err(format!("ldmatrix does not load {sd} elements"));
                }
                self.want(*row, Ty::I32, "ldmatrix row")?;
                let dl = self.slots(*dst, (32 / bits) * num, "ldmatrix")?;
                same_dtype(dl, sd, "ldmatrix")
            }
            Stmt::Shuffle { dst, value, lane } => {
                let d = self.slots(*dst, 1, "shuffle")?;
                if d.bits() > 32 {
                    return Err(format!("a shuffle moves 32 bits, not a {d} slot"));
                }
                self.want(*value, Ty::carrier(d), "shuffle value")?;
                self.want(*lane, Ty::I32, "shuffle lane")
            }
            Stmt::SemAcquire { sem, value } | Stmt::SemRelease { sem, value } => {
                if !matches!(sem.space, Space::Global(_)) {
                    return Err("semaphores live in global memory".into());
                }
                same_dtype(self.mem(*sem, "semaphore index")?, I32_T, "semaphore")?;
                self.want(*value, Ty::I32, "semaphore value")
            }
            Stmt::Atomic { dst, value, .. } => {
                let d = self.mem(*dst, "atomic index")?;
                if !matches!(d, DType::Int { bits: 32, .. }) {
                    return Err(format!("atomic on {d} elements (needs i32 or u32)"));
                }
                self.want(*value, Ty::carrier(d), "atomic operand")
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let v = self
                    .k
                    .vars
                    .try_get(*var)
                    .ok_or_else(|| format!("loop variable {var:?} does not exist"))?;
                if v.ty != Ty::I32 {
                    return Err(format!("loop variable ${} must be i32", v.name));
                }
                self.want(*start, Ty::I32, "loop start")?;
                self.want(*end, Ty::I32, "loop end")?;
                self.want(*step, Ty::I32, "loop step")?;
                self.block(body)
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                self.want(*cond, Ty::Bool, "condition")?;
                self.block(then_body)?;
                self.block(else_body)
            }
        }
    }
}

fn same_dtype(a: DType, b: DType, what: &str) -> Result<(), String> {
    if a != b {
        return Err(format!("{what}: element types differ ({a} and {b})"));
    }
    Ok(())
}
