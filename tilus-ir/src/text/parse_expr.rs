//! Scalar expressions, types, lists and layouts.
//!
//! Precedence, loosest first (all binary operators are left-associative):
//!
//! | level | operators |
//! |---|---|
//! | 1 | `\|\|` |
//! | 2 | `&&` |
//! | 3 | `==` `!=` `<` `<=` `>` `>=` |
//! | 4 | `\|` |
//! | 5 | `^` |
//! | 6 | `&` |
//! | 7 | `<<` `>>` |
//! | 8 | `+` `-` |
//! | 9 | `*` `/` `%` |
//! | 10 | unary `-` `!` |
//!
//! A `-` directly before a number literal makes a negative literal (`-2` is `Int(-2)`, not
//! `Neg(Int(2))`; the printer writes the latter as `-(2)`).

use super::lexer::{Tok, Token};
use super::parser::Parser;
use super::ParseError;
use crate::dtype::DType;
use crate::expr::{Axis, BinaryOp, Expr, ExprId, ScalarType, UnaryOp};
use crate::layout::{parse_layout, parse_shared_layout, LayoutParseError};
use crate::program::{LayoutId, SharedLayoutId};

/// The binary operator of a token and its precedence level.
pub(crate) fn binary_op(tok: &Tok) -> Option<(BinaryOp, u8)> {
    Some(match tok {
        Tok::OrOr => (BinaryOp::Or, 1),
        Tok::AndAnd => (BinaryOp::And, 2),
        Tok::EqEq => (BinaryOp::Eq, 3),
        Tok::Ne => (BinaryOp::Ne, 3),
        Tok::Lt => (BinaryOp::Lt, 3),
        Tok::Le => (BinaryOp::Le, 3),
        Tok::Gt => (BinaryOp::Gt, 3),
        Tok::Ge => (BinaryOp::Ge, 3),
        Tok::Pipe => (BinaryOp::BitOr, 4),
        Tok::Caret => (BinaryOp::BitXor, 5),
        Tok::Amp => (BinaryOp::BitAnd, 6),
        Tok::Shl => (BinaryOp::Shl, 7),
        Tok::Shr => (BinaryOp::Shr, 7),
        Tok::Plus => (BinaryOp::Add, 8),
        Tok::Minus => (BinaryOp::Sub, 8),
        Tok::Star => (BinaryOp::Mul, 9),
        Tok::Slash => (BinaryOp::Div, 9),
        Tok::Percent => (BinaryOp::Rem, 9),
        _ => return None,
    })
}

/// The precedence level of a binary operator (calls such as `min` bind like atoms).
pub(crate) fn binary_prec(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            3
        }
        BinaryOp::BitOr => 4,
        BinaryOp::BitXor => 5,
        BinaryOp::BitAnd => 6,
        BinaryOp::Shl | BinaryOp::Shr => 7,
        BinaryOp::Add | BinaryOp::Sub => 8,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 9,
        BinaryOp::Min | BinaryOp::Max | BinaryOp::CeilDiv => 11,
    }
}

/// The precedence level of unary operators and negative literals.
pub(crate) const UNARY_PREC: u8 = 10;

const EXPR_START: &[&str] = &["a scalar expression"];

impl Parser<'_> {
    /// A scalar expression.
    pub(crate) fn expr(&mut self) -> Result<ExprId, ParseError> {
        self.expr_prec(1)
    }

    fn expr_prec(&mut self, min_prec: u8) -> Result<ExprId, ParseError> {
        self.enter()?;
        let result = self.expr_prec_inner(min_prec);
        self.leave();
        result
    }

    fn expr_prec_inner(&mut self, min_prec: u8) -> Result<ExprId, ParseError> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = binary_op(&self.peek().tok) {
            if prec < min_prec {
                break;
            }
            // `%name` after an operand is not a remainder: leave it to the caller's error.
            if op == BinaryOp::Rem && self.at_tensor() {
                break;
            }
            self.bump();
            let rhs = self.expr_prec(prec + 1)?;
            lhs = self.alloc_expr(Expr::Binary(op, lhs, rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<ExprId, ParseError> {
        match self.peek().tok {
            Tok::Minus => {
                self.bump();
                if let Some(e) = self.negative_literal()? {
                    return Ok(e);
                }
                self.enter()?;
                let x = self.unary();
                self.leave();
                let x = x?;
                Ok(self.alloc_expr(Expr::Unary(UnaryOp::Neg, x)))
            }
            Tok::Bang => {
                self.bump();
                self.enter()?;
                let x = self.unary();
                self.leave();
                let x = x?;
                Ok(self.alloc_expr(Expr::Unary(UnaryOp::Not, x)))
            }
            _ => self.atom(),
        }
    }

    /// After a `-`: a number literal (or `inf`/`nan`) becomes a negative literal.
    fn negative_literal(&mut self) -> Result<Option<ExprId>, ParseError> {
        let e = match self.peek().tok.clone() {
            Tok::Int(v) => {
                let t = self.bump();
                let neg = -i128::from(v);
                let v = i64::try_from(neg).map_err(|_| {
                    self.error_at(&t, format!("integer literal -{v} is out of range for i64"))
                })?;
                Expr::Int(v)
            }
            Tok::Float(v) => {
                self.bump();
                Expr::Float(-v)
            }
            Tok::Ident(w) if w == "inf" => {
                self.bump();
                Expr::Float(f64::NEG_INFINITY)
            }
            Tok::Ident(w) if w == "nan" => {
                self.bump();
                Expr::Float(-f64::NAN)
            }
            _ => return Ok(None),
        };
        Ok(Some(self.alloc_expr(e)))
    }

    fn atom(&mut self) -> Result<ExprId, ParseError> {
        let t = self.peek().clone();
        let e = match &t.tok {
            Tok::Int(v) => {
                self.bump();
                let v = i64::try_from(*v).map_err(|_| {
                    self.error_at(&t, format!("integer literal {v} is out of range for i64"))
                })?;
                Expr::Int(v)
            }
            Tok::Float(v) => {
                self.bump();
                Expr::Float(*v)
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                return Ok(e);
            }
            Tok::Str(name) => {
                self.bump();
                Expr::Var(self.resolve_var(&t, name)?)
            }
            Tok::Ident(word) => {
                self.bump();
                match word.as_str() {
                    "true" => Expr::Bool(true),
                    "false" => Expr::Bool(false),
                    "inf" => Expr::Float(f64::INFINITY),
                    "nan" => Expr::Float(f64::NAN),
                    "blockIdx" | "gridDim" => {
                        self.expect(&Tok::Dot)?;
                        let axis = match &self.peek().tok {
                            Tok::Ident(a) if a == "x" => Axis::X,
                            Tok::Ident(a) if a == "y" => Axis::Y,
                            Tok::Ident(a) if a == "z" => Axis::Z,
                            _ => return Err(self.unexpected(&["`x`", "`y`", "`z`"])),
                        };
                        self.bump();
                        if word == "blockIdx" {
                            Expr::BlockIdx(axis)
                        } else {
                            Expr::GridDim(axis)
                        }
                    }
                    "min" | "max" | "cdiv" => {
                        let op = match word.as_str() {
                            "min" => BinaryOp::Min,
                            "max" => BinaryOp::Max,
                            _ => BinaryOp::CeilDiv,
                        };
                        let [a, b] = self.call_args(word)?;
                        Expr::Binary(op, a, b)
                    }
                    "select" => {
                        let [c, a, b] = self.call_args(word)?;
                        Expr::Select(c, a, b)
                    }
                    "cast" => {
                        self.expect(&Tok::Lt)?;
                        let ty = self.scalar_type()?;
                        self.expect(&Tok::Gt)?;
                        let [x] = self.call_args(word)?;
                        Expr::Cast(ty, x)
                    }
                    _ => Expr::Var(self.resolve_var(&t, word)?),
                }
            }
            _ => return Err(self.unexpected(EXPR_START)),
        };
        Ok(self.alloc_expr(e))
    }

    /// `(a, b, …)` with exactly `N ≥ 1` arguments.
    fn call_args<const N: usize>(&mut self, func: &str) -> Result<[ExprId; N], ParseError> {
        let n = N;
        let open = self.expect(&Tok::LParen)?;
        let mut args = Vec::with_capacity(n);
        loop {
            args.push(self.expr()?);
            if args.len() == n {
                break;
            }
            if !self.eat(&Tok::Comma) {
                let mut e = self.unexpected(&["`,`"]);
                e.message = format!("{}; `{func}` takes {n} argument{}", e.message, plural(n));
                return Err(e);
            }
        }
        self.eat(&Tok::Comma);
        if !self.at(&Tok::RParen) {
            let mut e = self.unexpected(&["`)`"]);
            e.message = format!("{}; `{func}` takes {n} argument{}", e.message, plural(n));
            return Err(e);
        }
        self.bump();
        args.try_into()
            .map_err(|_| self.error_at(&open, format!("`{func}` takes {n} argument{}", plural(n))))
    }

    /// `bool` or a dtype name.
    pub(crate) fn scalar_type(&mut self) -> Result<ScalarType, ParseError> {
        if self.at_ident("bool") {
            self.bump();
            return Ok(ScalarType::Bool);
        }
        Ok(ScalarType::Data(self.dtype_with(&["`bool`", "a dtype"])?))
    }

    /// A dtype name (any spelling [`DType::parse`] accepts).
    pub(crate) fn dtype(&mut self) -> Result<DType, ParseError> {
        self.dtype_with(&["a dtype (`f32`, `f16`, `i4`, `u8`, `f6e3m2`, …)"])
    }

    fn dtype_with(&mut self, expected: &[&str]) -> Result<DType, ParseError> {
        match self.peek().tok.clone() {
            // No dtype name is long; spare the suggestion search on hostile input.
            Tok::Ident(name) if name.len() > 40 => {
                let t = self.bump();
                Err(self.error_at(&t, "unknown dtype (the name is too long to be one)"))
            }
            Tok::Ident(name) => {
                let t = self.bump();
                DType::parse(&name).map_err(|e| self.error_at(&t, e.to_string()))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    /// `[e, e, …]` (possibly empty, trailing comma allowed).
    pub(crate) fn expr_list(&mut self) -> Result<Vec<ExprId>, ParseError> {
        self.expect(&Tok::LBracket)?;
        let mut v = Vec::new();
        while !self.at(&Tok::RBracket) {
            v.push(self.expr()?);
            if !self.eat(&Tok::Comma) && !self.at(&Tok::RBracket) {
                return Err(self.unexpected(&["`,`", "`]`"]));
            }
        }
        self.bump();
        Ok(v)
    }

    /// `[n, n, …]` of non-negative integer literals.
    pub(crate) fn usize_list(&mut self, what: &str) -> Result<Vec<usize>, ParseError> {
        self.expect(&Tok::LBracket)?;
        let mut v = Vec::new();
        while !self.at(&Tok::RBracket) {
            v.push(self.usize_literal(what)?);
            if !self.eat(&Tok::Comma) && !self.at(&Tok::RBracket) {
                return Err(self.unexpected(&["`,`", "`]`"]));
            }
        }
        self.bump();
        Ok(v)
    }

    /// The tokens of a layout expression: from here to the next `,`, end of line or `}`
    /// outside parentheses and brackets. Returns the source text and its first token.
    fn layout_text(&mut self, what: &str) -> Result<(String, Token), ParseError> {
        let first = self.peek().clone();
        if !matches!(first.tok, Tok::Ident(_)) {
            return Err(self.unexpected(&[what]));
        }
        let start = self.position();
        let mut depth = 0usize;
        loop {
            let tok = &self.peek().tok;
            match tok {
                Tok::Eof => break,
                Tok::LParen | Tok::LBracket => depth += 1,
                Tok::RParen | Tok::RBracket => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Tok::Comma | Tok::Newline | Tok::LBrace | Tok::RBrace if depth == 0 => break,
                Tok::LBrace | Tok::RBrace => break,
                _ => {}
            }
            self.bump();
        }
        let toks = self.tokens_since(start);
        let (lo, hi) = match (toks.first(), toks.last()) {
            (Some(a), Some(b)) => (a.start, b.end),
            _ => (first.start, first.end),
        };
        let text = self.src.get(lo..hi).unwrap_or("").to_string();
        Ok((text, first))
    }

    /// Maps a layout parser's error (its column counts characters of `text`) to the
    /// program's line and column.
    fn layout_error(&self, e: &LayoutParseError, text: &str, first: &Token) -> ParseError {
        let (mut line, mut col) = (first.line, first.col);
        for c in text.chars().take(e.column.saturating_sub(1)) {
            if c == '\n' {
                line = line.saturating_add(1);
                col = 1;
            } else {
                col = col.saturating_add(1);
            }
        }
        ParseError::new(
            self.src,
            line,
            col,
            1,
            format!("bad layout: {}", e.message),
            Vec::new(),
        )
    }

    /// A register layout expression, interned in the kernel.
    pub(crate) fn layout(&mut self) -> Result<LayoutId, ParseError> {
        let (text, first) = self.layout_text("a register layout (`local(…)`, `spatial(…)`, …)")?;
        match parse_layout(&text) {
            Ok(l) => Ok(self.f.layouts.intern(l)),
            Err(e) => Err(self.layout_error(&e, &text, &first)),
        }
    }

    /// A shared layout expression, interned in the kernel.
    pub(crate) fn shared_layout(&mut self) -> Result<SharedLayoutId, ParseError> {
        let (text, first) =
            self.layout_text("a shared layout (`row_major(…)`, `column_major(…)`, …)")?;
        match parse_shared_layout(&text) {
            Ok(l) => Ok(self.f.shared_layouts.intern(l)),
            Err(e) => Err(self.layout_error(&e, &text, &first)),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
