//! The printer: `Display` for [`Program`] and [`Function`] in canonical form.
//!
//! Four spaces per indentation level, one statement per line, kernels separated by a blank
//! line; `for` always shows `range(start, end, step)`; options are printed only when they
//! differ from their defaults. Expressions get the fewest parentheses that parse back to the
//! same tree. Handles that index nothing (only in programs built by hand) are printed as
//! `<invalid …>`, which does not parse; the printer itself never fails.

use std::fmt::{self, Write as _};

use super::parse_expr::UNARY_PREC;
use super::{print_inst, quote, write_name};
use crate::dtype::DType;
use crate::expr::{Expr, ExprId, UnaryOp};
use crate::program::{Block, Function, Program, Stmt, TensorId, Unroll, VarId, VarType};

/// Precedence of atoms (literals, names, calls).
const ATOM_PREC: u8 = 11;

impl fmt::Display for Program {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, f) in self.functions.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            write!(out, "{f}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Function {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_function(self, &mut s);
        out.write_str(&s)
    }
}

fn write_function(f: &Function, s: &mut String) {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|&p| match f.vars.try_get(p) {
            Some(v) => {
                let ty = match v.ty {
                    VarType::Scalar(t) => t.to_string(),
                    VarType::Pointer(d) => format!("*{d}"),
                };
                format!("{}: {ty}", write_name(&v.name, true))
            }
            None => format!("<invalid var {}>", p.index()),
        })
        .collect();
    let grid: Vec<String> = f.grid.iter().map(|&e| expr_string(f, e)).collect();
    let assumes: Vec<String> = f
        .assumes
        .iter()
        .map(|a| {
            let name = f.vars.try_get(a.var).map_or_else(
                || format!("<invalid var {}>", a.var.index()),
                |v| write_name(&v.name, true),
            );
            format!("{name} % {} == 0", a.divisor)
        })
        .collect();
    let assume = if assumes.is_empty() {
        String::new()
    } else {
        format!(" assume({})", assumes.join(", "))
    };
    let _ = writeln!(
        s,
        "kernel {}({}) grid({}) warps({}){assume} {{",
        write_name(&f.name, true),
        params.join(", "),
        grid.join(", "),
        f.warps
    );
    write_block(f, &f.body, 1, s);
    s.push_str("}\n");
}

fn indent(s: &mut String, level: usize) {
    for _ in 0..level {
        s.push_str("    ");
    }
}

fn write_block(f: &Function, block: &Block, level: usize, s: &mut String) {
    for stmt in block {
        indent(s, level);
        write_stmt(f, stmt, level, s);
    }
}

fn write_stmt(f: &Function, stmt: &Stmt, level: usize, s: &mut String) {
    match stmt {
        Stmt::Inst(i) => {
            match f.insts.try_get(*i) {
                Some(inst) => s.push_str(&print_inst::inst_string(f, inst)),
                None => {
                    let _ = write!(s, "<invalid instruction {}>", i.index());
                }
            }
            s.push('\n');
        }
        Stmt::For {
            var,
            start,
            end,
            step,
            unroll,
            body,
            ..
        } => {
            let _ = write!(
                s,
                "for {} in range({}, {}, {})",
                var_name(f, *var),
                expr_string(f, *start),
                expr_string(f, *end),
                expr_string(f, *step)
            );
            match unroll {
                Unroll::None => {}
                Unroll::Full => s.push_str(" unroll(full)"),
                Unroll::Factor(n) => {
                    let _ = write!(s, " unroll({n})");
                }
            }
            s.push_str(" {\n");
            write_block(f, body, level + 1, s);
            indent(s, level);
            s.push_str("}\n");
        }
        Stmt::If { .. } => {
            write_if(f, stmt, level, s);
            s.push('\n');
        }
        Stmt::Let { var, value, .. } => {
            let ty = match f.vars.try_get(*var).map(|v| v.ty) {
                Some(VarType::Scalar(t)) => t.to_string(),
                Some(VarType::Pointer(d)) => format!("*{d}"),
                None => "<invalid type>".into(),
            };
            let _ = writeln!(
                s,
                "let {}: {ty} = {}",
                var_name(f, *var),
                expr_string(f, *value)
            );
        }
        Stmt::Assign { var, value, .. } => {
            let _ = writeln!(s, "{} = {}", var_name(f, *var), expr_string(f, *value));
        }
    }
}

/// `if c { … } else …` without the final newline; `else if` when the else branch is a
/// single `if`.
fn write_if(f: &Function, stmt: &Stmt, level: usize, s: &mut String) {
    let Stmt::If {
        cond,
        then_body,
        else_body,
        ..
    } = stmt
    else {
        return;
    };
    let _ = writeln!(s, "if {} {{", expr_string(f, *cond));
    write_block(f, then_body, level + 1, s);
    indent(s, level);
    s.push('}');
    match else_body.as_slice() {
        [] => {}
        [nested @ Stmt::If { .. }] => {
            s.push_str(" else ");
            write_if(f, nested, level, s);
        }
        _ => {
            s.push_str(" else {\n");
            write_block(f, else_body, level + 1, s);
            indent(s, level);
            s.push('}');
        }
    }
}

/// A variable's name as written (quoted when needed).
pub(crate) fn var_name(f: &Function, v: VarId) -> String {
    match f.vars.try_get(v) {
        Some(var) => write_name(&var.name, true),
        None => format!("<invalid var {}>", v.index()),
    }
}

/// `%name` (quoted when not a plain identifier).
pub(crate) fn tensor_ref(f: &Function, t: TensorId) -> String {
    match f.tensors.try_get(t) {
        Some(tensor) => format!("%{}", write_name(&tensor.name, false)),
        None => format!("<invalid tensor {}>", t.index()),
    }
}

/// The accumulator dtype `dot` gets when `acc=` is left out: `c`'s dtype, else `f32`.
pub(crate) fn default_acc(f: &Function, c: Option<TensorId>) -> DType {
    c.and_then(|c| f.tensors.try_get(c))
        .map_or(DType::F32, |t| t.ty.dtype())
}

/// An expression's text.
pub(crate) fn expr_string(f: &Function, e: ExprId) -> String {
    expr_prec(f, e).0
}

/// A float literal that reads back as the same `f64` (`nan`, `inf` and `-inf` by name).
pub(crate) fn float_literal(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        // `{:?}` is the shortest text that round-trips, and always has a `.` or an `e`.
        format!("{v:?}")
    }
}

/// An expression's text and its precedence level (see `parse_expr.rs`).
fn expr_prec(f: &Function, id: ExprId) -> (String, u8) {
    let Some(e) = f.exprs.try_get(id) else {
        return (format!("<invalid expr {}>", id.index()), ATOM_PREC);
    };
    match e {
        Expr::Int(v) => (v.to_string(), if *v < 0 { UNARY_PREC } else { ATOM_PREC }),
        Expr::Float(v) => {
            let s = float_literal(*v);
            let p = if s.starts_with('-') {
                UNARY_PREC
            } else {
                ATOM_PREC
            };
            (s, p)
        }
        Expr::Bool(b) => (b.to_string(), ATOM_PREC),
        Expr::Var(v) => (var_name(f, *v), ATOM_PREC),
        Expr::BlockIdx(a) => (format!("blockIdx.{}", a.name()), ATOM_PREC),
        Expr::GridDim(a) => (format!("gridDim.{}", a.name()), ATOM_PREC),
        Expr::Unary(op, x) => {
            let (xs, xp) = expr_prec(f, *x);
            // `-` before a number would read back as a negative literal.
            let literal = matches!(f.exprs.try_get(*x), Some(Expr::Int(_) | Expr::Float(_)));
            let sym = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "!",
            };
            let paren = xp < UNARY_PREC || (literal && *op == UnaryOp::Neg);
            let s = if paren {
                format!("{sym}({xs})")
            } else {
                format!("{sym}{xs}")
            };
            (s, UNARY_PREC)
        }
        Expr::Binary(op, a, b) => {
            let (as_, ap) = expr_prec(f, *a);
            let (bs, bp) = expr_prec(f, *b);
            if op.is_call() {
                return (format!("{}({as_}, {bs})", op.symbol()), ATOM_PREC);
            }
            let p = super::parse_expr::binary_prec(*op);
            let l = if ap < p { format!("({as_})") } else { as_ };
            let r = if bp <= p { format!("({bs})") } else { bs };
            (format!("{l} {} {r}", op.symbol()), p)
        }
        Expr::Select(c, a, b) => (
            format!(
                "select({}, {}, {})",
                expr_string(f, *c),
                expr_string(f, *a),
                expr_string(f, *b)
            ),
            ATOM_PREC,
        ),
        Expr::Cast(t, x) => (format!("cast<{t}>({})", expr_string(f, *x)), ATOM_PREC),
    }
}

/// A label as a string literal.
pub(crate) fn label(s: &str) -> String {
    quote(s)
}
