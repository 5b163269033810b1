//! `IndexLang`: the small term language the simplifier rewrites.
//!
//! # Semantics
//!
//! A term denotes a **mathematical integer** (no wrap-around) computed from its symbols. Every
//! operator is *partial*: a term is *undefined* at an assignment when one of its sub-terms is.
//!
//! | spelling | meaning | defined when |
//! |---|---|---|
//! | `(+ a b)`, `(- a b)`, `(* a b)`, `(neg a)` | exact integer arithmetic | always |
//! | `(/ a b)` | quotient truncated toward zero (Rust, C, WGSL, PTX on signed ints) | `b ≠ 0` |
//! | `(% a b)` | remainder `a − b·(a / b)`, with the sign of `a` | `b ≠ 0` |
//! | `(min a b)`, `(max a b)` | smaller / larger operand | always |
//! | `(<< a k)` | `a · 2^k` | `a ≥ 0` and `0 ≤ k ≤ 31` ([`MAX_SHIFT`]) |
//! | `(>> a k)` | `⌊a / 2^k⌋` (arithmetic shift; equal to logical on `a ≥ 0`) | `a ≥ 0` and `0 ≤ k ≤ 31` |
//! | `(& a b)`, `(| a b)`, `(^ a b)` | bitwise and / or / xor | `a ≥ 0` and `b ≥ 0` |
//! | `(< a b)`, `(<= a b)`, `(== a b)`, `(!= a b)` | 1 when the relation holds, else 0 | always |
//! | `(&& a b)`, `(|| a b)` | 1 when both / either operand is non-zero, else 0 | always |
//! | `(select c a b)` | `a` when `c ≠ 0`, else `b` (both operands are evaluated) | always |
//! | `42`, `-3` | the constant (an `i64`) | always |
//! | `t`, `bx`, `k0`, … | a symbol: the thread index, a block index, a loop variable, a parameter | always |
//!
//! Rewrites *refine*: wherever the input term is defined, the rewritten term is defined and has
//! the same value (`RULES.md` next to this module states the rulebook).
//!
//! **Range of values.** The lowering only produces index and bit arithmetic whose values fit in
//! `i32`, and the converter from the thread IR declines to hand over an expression whose range
//! facts do not prove that every sub-term (of the input and of the result) stays within `i32`;
//! [`super::fits_i32`] is the check it uses. Under that precondition the mathematical semantics
//! above coincide with 32-bit signed arithmetic on every target, which is why the shift amount
//! is limited to 31.

use std::fmt::Write as _;

use egg::{Id, Language, RecExpr};

/// The largest shift amount for which `<<` and `>>` are defined (32-bit targets).
pub const MAX_SHIFT: i64 = 31;

pub use defs::IndexLang;

/// `define_language!` cannot carry per-variant docs; the variants are documented on the enum.
mod defs {
    #![allow(missing_docs)]
    use egg::{define_language, Id, Symbol};

    define_language! {
        /// Integer index and bit arithmetic, in s-expression spelling (`(+ (* t 4) 1)`).
        ///
        /// Variants, by spelling: `+` `Add`, `-` `Sub`, `*` `Mul`, `/` `Div`, `%` `Rem`,
        /// `neg` `Neg`, `min` `Min`, `max` `Max`, `<<` `Shl`, `>>` `Shr`, `&` `And`, `|` `Or`,
        /// `^` `Xor`, `<` `Lt`, `<=` `Le`, `==` `Eq`, `!=` `Ne`, `&&` `LAnd`, `||` `LOr`,
        /// `select` `Select`; `Num` is an `i64` literal and `Symbol` a variable. The module
        /// doc of [`super`] gives the semantics.
        pub enum IndexLang {
            "+" = Add([Id; 2]),
            "-" = Sub([Id; 2]),
            "*" = Mul([Id; 2]),
            "/" = Div([Id; 2]),
            "%" = Rem([Id; 2]),
            "neg" = Neg(Id),
            "min" = Min([Id; 2]),
            "max" = Max([Id; 2]),
            "<<" = Shl([Id; 2]),
            ">>" = Shr([Id; 2]),
            "&" = And([Id; 2]),
            "|" = Or([Id; 2]),
            "^" = Xor([Id; 2]),
            "<" = Lt([Id; 2]),
            "<=" = Le([Id; 2]),
            "==" = Eq([Id; 2]),
            "!=" = Ne([Id; 2]),
            "&&" = LAnd([Id; 2]),
            "||" = LOr([Id; 2]),
            "select" = Select([Id; 3]),
            Num(i64),
            Symbol(Symbol),
        }
    }
}

impl IndexLang {
    /// The C-like infix spelling of a binary operator (`None` for the other nodes).
    pub fn infix(&self) -> Option<&'static str> {
        use IndexLang::*;
        Some(match self {
            Add(_) => "+",
            Sub(_) => "-",
            Mul(_) => "*",
            Div(_) => "/",
            Rem(_) => "%",
            Shl(_) => "<<",
            Shr(_) => ">>",
            And(_) => "&",
            Or(_) => "|",
            Xor(_) => "^",
            Lt(_) => "<",
            Le(_) => "<=",
            Eq(_) => "==",
            Ne(_) => "!=",
            LAnd(_) => "&&",
            LOr(_) => "||",
            Neg(_) | Min(_) | Max(_) | Select(_) | Num(_) | Symbol(_) => return None,
        })
    }
}

/// Prints `expr` in C-like infix form with every compound operand parenthesised:
/// `(& (>> t 2) 7)` prints as `(t >> 2) & 7`.
///
/// Returns the empty string for an empty expression.
pub fn to_infix(expr: &RecExpr<IndexLang>) -> String {
    let nodes = expr.as_ref();
    let mut out = String::new();
    if let Some(last) = nodes.len().checked_sub(1) {
        write_node(nodes, Id::from(last), true, &mut out);
    }
    out
}

fn write_node(nodes: &[IndexLang], id: Id, root: bool, out: &mut String) {
    let node = &nodes[usize::from(id)];
    match node {
        IndexLang::Num(c) => {
            let _ = write!(out, "{c}");
        }
        IndexLang::Symbol(s) => out.push_str(s.as_str()),
        IndexLang::Neg(a) => {
            out.push('-');
            write_node(nodes, *a, false, out);
        }
        IndexLang::Min([a, b]) | IndexLang::Max([a, b]) => {
            let name = if matches!(node, IndexLang::Min(_)) {
                "min"
            } else {
                "max"
            };
            let _ = write!(out, "{name}(");
            write_node(nodes, *a, true, out);
            out.push_str(", ");
            write_node(nodes, *b, true, out);
            out.push(')');
        }
        IndexLang::Select([c, a, b]) => {
            out.push_str("select(");
            write_node(nodes, *c, true, out);
            out.push_str(", ");
            write_node(nodes, *a, true, out);
            out.push_str(", ");
            write_node(nodes, *b, true, out);
            out.push(')');
        }
        _ => {
            let children = node.children();
            let op = node.infix().unwrap_or("?");
            if !root {
                out.push('(');
            }
            if let [a, b] = children {
                write_node(nodes, *a, false, out);
                let _ = write!(out, " {op} ");
                write_node(nodes, *b, false, out);
            }
            if !root {
                out.push(')');
            }
        }
    }
}
