//! The text form of a thread kernel (`tilus compile --emit thread-ir`).
//!
//! Sigils: `#param`, `$var`, `%local`, `&shared`, `@buffer`; `tid` is `threadIdx.x`,
//! `bid.x` / `gdim.x` are `blockIdx.x` / `gridDim.x`. Expressions are printed as trees
//! (shared nodes repeated), binary operators fully parenthesized below the top level.
//! Constants: `5` (`i32`), `5u` (`u32`), `5i64`, `5u64`, `1.5f` (`f32`; non-finite as
//! `f32(0x7fc00000)`), `f16(0x3c00)`, `true`. Example:
//!
//! ```text
//! kernel add threads=128 grid=(cdiv(#n, 128)) shared=0
//!   param #n: i32
//!   param @a: f32
//!   local %x: f32[1]
//! {
//!   %x[0] = load.global @a[((bid.x * 128) + tid)] if (((bid.x * 128) + tid) < #n)
//! }
//! ```

use std::fmt::{self, Write};

use crate::grid::GridExpr;

use super::{
    BufferKind, Const, Expr, ExprId, LocalRef, MemRef, ParamKind, Space, Special, Stmt,
    ThreadKernel, UnaryOp,
};

impl fmt::Display for ThreadKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_kernel(&mut s, self)?;
        f.write_str(&s)
    }
}

/// The text form of a kernel (the same as its `Display`).
pub fn print(kernel: &ThreadKernel) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_kernel(&mut s, kernel);
    s
}

fn write_kernel(w: &mut String, k: &ThreadKernel) -> fmt::Result {
    write!(w, "kernel {} threads={} grid=(", k.name, k.num_threads)?;
    for (i, g) in k.grid.iter().enumerate() {
        if i > 0 {
            w.push_str(", ");
        }
        write_grid(w, k, g)?;
    }
    writeln!(w, ") shared={}", k.shared_bytes)?;
    for p in &k.params {
        match p.kind {
            ParamKind::Scalar(t) => {
                write!(w, "  param #{}: {}", p.name, t.name())?;
                match p.dtype {
                    Some(d) if d.to_string() != t.name() => writeln!(w, " ({d})")?,
                    _ => w.push('\n'),
                }
            }
            ParamKind::Pointer(b) => {
                let (name, dtype) = k
                    .buffers
                    .try_get(b)
                    .map_or(("?".to_string(), String::new()), |b| {
                        (b.name.clone(), b.dtype.to_string())
                    });
                writeln!(w, "  param @{name}: {dtype}")?;
            }
        }
    }
    for (_, b) in k.buffers.iter() {
        if let BufferKind::Workspace {
            elements,
            requires_clean,
        } = &b.kind
        {
            write!(w, "  workspace @{}: {}[", b.name, b.dtype)?;
            write_grid(w, k, elements)?;
            writeln!(w, "]{}", if *requires_clean { " clean" } else { "" })?;
        }
    }
    for (_, s) in k.shared.iter() {
        writeln!(
            w,
            "  shared &{}: {}[{}] @ {}",
            s.name, s.dtype, s.len, s.offset
        )?;
    }
    for (_, l) in k.locals.iter() {
        writeln!(w, "  local %{}: {}[{}]", l.name, l.dtype, l.len)?;
    }
    for (_, v) in k.vars.iter() {
        writeln!(w, "  var ${}: {}", v.name, v.ty.name())?;
    }
    w.push_str("{\n");
    write_block(w, k, &k.body, 1)?;
    w.push_str("}\n");
    Ok(())
}

fn param_name(k: &ThreadKernel, i: usize) -> String {
    k.params
        .get(i)
        .map_or_else(|| format!("#param{i}"), |p| format!("#{}", p.name))
}

fn write_grid(w: &mut String, k: &ThreadKernel, g: &GridExpr) -> fmt::Result {
    let bin = |w: &mut String, name: &str, infix: bool, a: &GridExpr, b: &GridExpr| {
        if infix {
            w.push('(');
            write_grid(w, k, a)?;
            write!(w, " {name} ")?;
            write_grid(w, k, b)?;
            w.push(')');
        } else {
            write!(w, "{name}(")?;
            write_grid(w, k, a)?;
            w.push_str(", ");
            write_grid(w, k, b)?;
            w.push(')');
        }
        Ok::<(), fmt::Error>(())
    };
    match g {
        GridExpr::Const(c) => write!(w, "{c}"),
        GridExpr::Param(i) => {
            w.push_str(&param_name(k, *i));
            Ok(())
        }
        GridExpr::Add(a, b) => bin(w, "+", true, a, b),
        GridExpr::Sub(a, b) => bin(w, "-", true, a, b),
        GridExpr::Mul(a, b) => bin(w, "*", true, a, b),
        GridExpr::Div(a, b) => bin(w, "/", true, a, b),
        GridExpr::Rem(a, b) => bin(w, "%", true, a, b),
        GridExpr::CeilDiv(a, b) => bin(w, "cdiv", false, a, b),
        GridExpr::Min(a, b) => bin(w, "min", false, a, b),
        GridExpr::Max(a, b) => bin(w, "max", false, a, b),
    }
}

fn indent(w: &mut String, depth: usize) {
    for _ in 0..depth {
        w.push_str("  ");
    }
}

fn write_block(w: &mut String, k: &ThreadKernel, body: &[Stmt], depth: usize) -> fmt::Result {
    for s in body {
        write_stmt(w, k, s, depth)?;
    }
    Ok(())
}

fn local_name(k: &ThreadKernel, a: super::LocalId) -> String {
    k.locals
        .try_get(a)
        .map_or_else(|| format!("%{a:?}"), |l| format!("%{}", l.name))
}

fn slots(w: &mut String, k: &ThreadKernel, r: LocalRef, width: u32) -> fmt::Result {
    if width == 1 {
        write!(w, "{}[{}]", local_name(k, r.array), r.slot)
    } else {
        write!(
            w,
            "{}[{}..{}]",
            local_name(k, r.array),
            r.slot,
            r.slot + width
        )
    }
}

fn space_name(k: &ThreadKernel, s: Space) -> String {
    match s {
        Space::Global(b) => k
            .buffers
            .try_get(b)
            .map_or_else(|| format!("@{b:?}"), |b| format!("@{}", b.name)),
        Space::Shared(a) => k
            .shared
            .try_get(a)
            .map_or_else(|| format!("&{a:?}"), |s| format!("&{}", s.name)),
    }
}

fn space_kind(s: Space) -> &'static str {
    match s {
        Space::Global(_) => "global",
        Space::Shared(_) => "shared",
    }
}

fn mem(w: &mut String, k: &ThreadKernel, m: MemRef) -> fmt::Result {
    write!(w, "{}[", space_name(k, m.space))?;
    write_expr(w, k, m.index, true)?;
    w.push(']');
    Ok(())
}

fn vec_suffix(width: u32) -> String {
    if width > 1 {
        format!(".v{width}")
    } else {
        String::new()
    }
}

fn mask(w: &mut String, k: &ThreadKernel, m: Option<ExprId>) -> fmt::Result {
    if let Some(m) = m {
        w.push_str(" if ");
        write_expr(w, k, m, false)?;
    }
    Ok(())
}

fn write_stmt(w: &mut String, k: &ThreadKernel, s: &Stmt, depth: usize) -> fmt::Result {
    indent(w, depth);
    match s {
        Stmt::Assign { var, value } => {
            let name = k.vars.try_get(*var).map_or("?", |v| v.name.as_str());
            write!(w, "${name} = ")?;
            write_expr(w, k, *value, true)?;
        }
        Stmt::SetLocal { dst, value } => {
            slots(w, k, *dst, 1)?;
            w.push_str(" = ");
            write_expr(w, k, *value, true)?;
        }
        Stmt::Load {
            dst,
            src,
            width,
            mask: m,
        } => {
            slots(w, k, *dst, *width)?;
            write!(
                w,
                " = load.{}{} ",
                space_kind(src.space),
                vec_suffix(*width)
            )?;
            mem(w, k, *src)?;
            mask(w, k, *m)?;
        }
        Stmt::Store {
            dst,
            src,
            width,
            mask: m,
        } => {
            write!(w, "store.{}{} ", space_kind(dst.space), vec_suffix(*width))?;
            mem(w, k, *dst)?;
            w.push_str(", ");
            slots(w, k, *src, *width)?;
            mask(w, k, *m)?;
        }
        Stmt::View { dst, src } => {
            write!(w, "{} = view {}", local_name(k, *dst), local_name(k, *src))?;
        }
        Stmt::CopyAsync {
            dst,
            src,
            width,
            mask: m,
        } => {
            write!(w, "cp.async{} ", vec_suffix(*width))?;
            mem(w, k, *dst)?;
            w.push_str(", ");
            mem(w, k, *src)?;
            mask(w, k, *m)?;
        }
        Stmt::CommitGroup => w.push_str("cp.async.commit_group"),
        Stmt::WaitGroup(n) => write!(w, "cp.async.wait_group {n}")?,
        Stmt::WaitAll => w.push_str("cp.async.wait_all"),
        Stmt::Barrier => w.push_str("barrier"),
        Stmt::SharedBarrier => w.push_str("barrier.shared"),
        Stmt::Mma {
            shape: _,
            dtype,
            a,
            b,
            c,
            d,
        } => {
            slots(w, k, *d, 4)?;
            write!(w, " = mma.m16n8k16.{dtype} ")?;
            slots(w, k, *a, 8)?;
            w.push_str(", ");
            slots(w, k, *b, 4)?;
            w.push_str(", ");
            slots(w, k, *c, 4)?;
        }
        Stmt::LdMatrix {
            src,
            row,
            num,
            trans,
            dst,
        } => {
            let per = k
                .locals
                .try_get(dst.array)
                .map_or(1, |l| (32 / l.dtype.bits().max(1)).max(1));
            slots(w, k, *dst, per * num)?;
            write!(
                w,
                " = ldmatrix.x{num}{} ",
                if *trans { ".trans" } else { "" }
            )?;
            mem(
                w,
                k,
                MemRef {
                    space: Space::Shared(*src),
                    index: *row,
                },
            )?;
        }
        Stmt::Shuffle { dst, value, lane } => {
            slots(w, k, *dst, 1)?;
            w.push_str(" = shfl.idx ");
            write_expr(w, k, *value, true)?;
            w.push_str(", lane ");
            write_expr(w, k, *lane, true)?;
        }
        Stmt::SemAcquire { sem, value } => {
            w.push_str("sem.acquire ");
            mem(w, k, *sem)?;
            w.push_str(" == ");
            write_expr(w, k, *value, true)?;
        }
        Stmt::SemRelease { sem, value } => {
            w.push_str("sem.release ");
            mem(w, k, *sem)?;
            w.push_str(" = ");
            write_expr(w, k, *value, true)?;
        }
        Stmt::Atomic { op, dst, value } => {
            write!(w, "atomic.{} ", op.name())?;
            mem(w, k, *dst)?;
            w.push_str(", ");
            write_expr(w, k, *value, true)?;
        }
        Stmt::For {
            var,
            start,
            end,
            step,
            body,
        } => {
            let name = k.vars.try_get(*var).map_or("?", |v| v.name.as_str());
            write!(w, "for ${name} in range(")?;
            write_expr(w, k, *start, true)?;
            w.push_str(", ");
            write_expr(w, k, *end, true)?;
            w.push_str(", ");
            write_expr(w, k, *step, true)?;
            w.push_str(") {\n");
            write_block(w, k, body, depth + 1)?;
            indent(w, depth);
            w.push('}');
        }
        Stmt::If {
            cond,
            then_body,
            else_body,
        } => {
            w.push_str("if ");
            write_expr(w, k, *cond, true)?;
            w.push_str(" {\n");
            write_block(w, k, then_body, depth + 1)?;
            indent(w, depth);
            w.push('}');
            if !else_body.is_empty() {
                w.push_str(" else {\n");
                write_block(w, k, else_body, depth + 1)?;
                indent(w, depth);
                w.push('}');
            }
        }
    }
    w.push('\n');
    Ok(())
}

fn write_const(w: &mut String, c: Const) -> fmt::Result {
    match c {
        Const::Bool(b) => write!(w, "{b}"),
        Const::I32(v) => write!(w, "{v}"),
        Const::U32(v) => write!(w, "{v}u"),
        Const::I64(v) => write!(w, "{v}i64"),
        Const::U64(v) => write!(w, "{v}u64"),
        Const::F32(bits) => {
            let x = f32::from_bits(bits);
            if x.is_finite() {
                write!(w, "{x:?}f")
            } else {
                write!(w, "f32(0x{bits:08x})")
            }
        }
        Const::F16(bits) => write!(w, "f16(0x{bits:04x})"),
    }
}

/// Writes an expression tree; `top` leaves the outermost binary operator unparenthesized.
pub fn write_expr(w: &mut String, k: &ThreadKernel, e: ExprId, top: bool) -> fmt::Result {
    let Some(expr) = k.exprs.try_get(e) else {
        return write!(w, "<bad {e:?}>");
    };
    let call = |w: &mut String, name: &str, args: &[ExprId]| -> fmt::Result {
        write!(w, "{name}(")?;
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                w.push_str(", ");
            }
            write_expr(w, k, *a, true)?;
        }
        w.push(')');
        Ok(())
    };
    match *expr {
        Expr::Const(c) => write_const(w, c),
        Expr::Param(i) => {
            w.push_str(&param_name(k, i as usize));
            Ok(())
        }
        Expr::Special(Special::ThreadIdx) => {
            w.push_str("tid");
            Ok(())
        }
        Expr::Special(Special::BlockIdx(a)) => write!(w, "bid.{}", a.name()),
        Expr::Special(Special::GridDim(a)) => write!(w, "gdim.{}", a.name()),
        Expr::Var(v) => {
            let name = k.vars.try_get(v).map_or("?", |v| v.name.as_str());
            write!(w, "${name}")
        }
        Expr::Local { array, slot } => write!(w, "{}[{slot}]", local_name(k, array)),
        Expr::Unary(UnaryOp::Neg, a) => {
            w.push('-');
            write_expr(w, k, a, false)
        }
        Expr::Unary(UnaryOp::Not, a) => {
            w.push('!');
            write_expr(w, k, a, false)
        }
        Expr::Unary(op, a) => call(w, op.name(), &[a]),
        Expr::Binary(op, a, b) if op.is_call() => call(w, op.symbol(), &[a, b]),
        Expr::Binary(op, a, b) => {
            if !top {
                w.push('(');
            }
            write_expr(w, k, a, false)?;
            write!(w, " {} ", op.symbol())?;
            write_expr(w, k, b, false)?;
            if !top {
                w.push(')');
            }
            Ok(())
        }
        Expr::Select(c, a, b) => call(w, "select", &[c, a, b]),
        Expr::Fma(a, b, c) => call(w, "fma", &[a, b, c]),
        Expr::Cast(t, a) => call(w, &format!("cast<{}>", t.name()), &[a]),
        Expr::Bitcast(t, a) => call(w, &format!("bitcast<{}>", t.name()), &[a]),
        Expr::Decode(d, a) => call(w, &format!("decode<{d}>"), &[a]),
        Expr::Encode(d, a) => call(w, &format!("encode<{d}>"), &[a]),
    }
}

/// One expression as text (top level, unparenthesized).
pub fn expr_to_string(k: &ThreadKernel, e: ExprId) -> String {
    let mut s = String::new();
    let _ = write_expr(&mut s, k, e, true);
    s
}
