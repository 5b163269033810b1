//! The parser: kernels, statements, names and scopes. Expressions are in `parse_expr.rs`,
//! instructions in `parse_inst.rs`.
//!
//! Names: parameters are visible in the whole kernel (grid included), a loop variable in its
//! body, a `let` from its statement to the end of its block; declaring a name that is still
//! visible is an error, reusing it after its scope ended is fine. Tensors share one namespace
//! per kernel and must be defined (in text order) before they are used.

use std::collections::HashMap;

use super::lexer::{lex, Tok, Token};
use super::{ParseError, MAX_ELSE_IF, MAX_NESTING};
use crate::expr::{Expr, ExprId, ScalarType};
use crate::program::{
    Block, Function, Loc, Program, Stmt, TensorId, Unroll, Var, VarId, VarKind, VarType,
};

/// Parses a whole program (one or more kernels) from its text form.
///
/// Every instruction, statement and kernel of the result carries the [`Loc`] where it was
/// written. The first error stops parsing.
pub fn parse_program(src: &str) -> Result<Program, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
        else_ifs: 0,
        f: Function::new(""),
        scopes: Vec::new(),
        visible: HashMap::new(),
        tensors: HashMap::new(),
    };
    p.program()
}

/// Parser state: the token cursor and the kernel under construction.
pub(crate) struct Parser<'s> {
    pub(crate) src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    /// Current nesting of expressions and blocks.
    depth: usize,
    /// `else if` branches of the chain being parsed.
    else_ifs: usize,
    /// The kernel being parsed.
    pub(crate) f: Function,
    /// Visible scalar variables, innermost scope last.
    scopes: Vec<Vec<(String, VarId)>>,
    /// Every visible binding of each name, innermost last (an index over `scopes`, so that
    /// lookups do not scan: parsing stays linear in the number of names).
    visible: HashMap<String, Vec<VarId>>,
    /// Tensors defined so far in this kernel.
    pub(crate) tensors: HashMap<String, TensorId>,
}

/// Where a statement's result goes, as written before the mnemonic.
pub(crate) struct ResultSpec {
    /// The `%name` token.
    pub tok: Token,
    /// The tensor's name.
    pub name: String,
    /// `<-` (overwrite) rather than `=` (define).
    pub existing: bool,
}

impl<'s> Parser<'s> {
    // ---- cursor ----

    pub(crate) fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, k: usize) -> &Token {
        // `lex` always ends the stream with `Eof`, and the cursor never passes it.
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + k).min(last)]
    }

    pub(crate) fn at(&self, tok: &Tok) -> bool {
        &self.peek().tok == tok
    }

    pub(crate) fn at_ident(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == word)
    }

    pub(crate) fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn eat(&mut self, tok: &Tok) -> bool {
        if self.at(tok) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, tok: &Tok) -> Result<Token, ParseError> {
        if self.at(tok) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&[&format!("`{}`", tok.symbol())]))
        }
    }

    pub(crate) fn expect_ident(&mut self, word: &str) -> Result<Token, ParseError> {
        if self.at_ident(word) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&[&format!("`{word}`")]))
        }
    }

    fn skip_newlines(&mut self) {
        while self.at(&Tok::Newline) {
            self.bump();
        }
    }

    /// Whether the token at `k` starts right where the token at `k - 1` ends.
    pub(crate) fn adjacent(&self, k: usize) -> bool {
        k > 0 && self.peek_at(k - 1).end == self.peek_at(k).start && self.pos + k < self.toks.len()
    }

    /// The tokens from `start` up to (not including) the current one.
    pub(crate) fn tokens_since(&self, start: usize) -> &[Token] {
        self.toks.get(start..self.pos).unwrap_or(&[])
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    // ---- errors ----

    pub(crate) fn error_at(&self, t: &Token, message: impl Into<String>) -> ParseError {
        ParseError::new(self.src, t.line, t.col, t.width, message, Vec::new())
    }

    /// `unexpected X (expected …)` at the current token.
    pub(crate) fn unexpected(&self, expected: &[&str]) -> ParseError {
        let t = self.peek();
        let (found, width) = match &self.peek_at(1).tok {
            Tok::Ident(n) | Tok::Str(n) if self.at_tensor() => (
                format!("tensor `%{n}`"),
                t.width.saturating_add(self.peek_at(1).width),
            ),
            _ => (t.tok.describe(), t.width),
        };
        ParseError::new(
            self.src,
            t.line,
            t.col,
            width,
            format!("unexpected {found}"),
            expected.iter().map(|s| s.to_string()).collect(),
        )
    }

    pub(crate) fn loc(t: &Token) -> Loc {
        Loc {
            line: t.line,
            column: t.col,
        }
    }

    /// Enters one level of nesting (an expression or a block), failing past the limit.
    pub(crate) fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_at(
                self.peek(),
                format!("expressions and blocks nested too deeply (the limit is {MAX_NESTING})"),
            ));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---- names ----

    /// A name: an identifier or a quoted string.
    pub(crate) fn name(&mut self, what: &str) -> Result<(Token, String), ParseError> {
        match self.peek().tok.clone() {
            Tok::Ident(s) => Ok((self.bump(), s)),
            Tok::Str(s) => Ok((self.bump(), s)),
            _ => Err(self.unexpected(&[what])),
        }
    }

    pub(crate) fn lookup_var(&self, name: &str) -> Option<VarId> {
        self.visible.get(name).and_then(|v| v.last()).copied()
    }

    /// Opens a scope of variables.
    fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    /// Closes the innermost scope: its names are no longer visible.
    fn pop_scope(&mut self) {
        for (name, _) in self.scopes.pop().unwrap_or_default() {
            if let Some(v) = self.visible.get_mut(&name) {
                v.pop();
                if v.is_empty() {
                    self.visible.remove(&name);
                }
            }
        }
    }

    /// The variable a name token refers to, or an "unknown name" error with a suggestion.
    pub(crate) fn resolve_var(&self, tok: &Token, name: &str) -> Result<VarId, ParseError> {
        if let Some(v) = self.lookup_var(name) {
            return Ok(v);
        }
        let visible = self
            .scopes
            .iter()
            .flat_map(|s| s.iter().map(|(n, _)| n.as_str()));
        let hint = super::nearest(name, visible)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Err(self.error_at(tok, format!("unknown name `{name}`{hint}")))
    }

    fn declare_var(
        &mut self,
        tok: &Token,
        name: String,
        ty: VarType,
        kind: VarKind,
    ) -> Result<VarId, ParseError> {
        if self.lookup_var(&name).is_some() {
            return Err(self.error_at(tok, format!("`{name}` is already defined")));
        }
        let v = self.f.vars.alloc(Var {
            name: name.clone(),
            ty,
            kind,
        });
        if let Some(scope) = self.scopes.last_mut() {
            self.visible.entry(name.clone()).or_default().push(v);
            scope.push((name, v));
        }
        Ok(v)
    }

    /// `%name` (the `%` immediately followed by an identifier or a quoted name).
    pub(crate) fn at_tensor(&self) -> bool {
        self.at(&Tok::Percent)
            && matches!(self.peek_at(1).tok, Tok::Ident(_) | Tok::Str(_))
            && self.adjacent(1)
    }

    /// Reads `%name` without resolving it.
    pub(crate) fn tensor_name(&mut self) -> Result<(Token, String), ParseError> {
        if !self.at_tensor() {
            return Err(self.unexpected(&["a tensor `%name`"]));
        }
        let pct = self.bump();
        let (_, name) = self.name("a tensor name")?;
        Ok((pct, name))
    }

    /// Reads `%name` and resolves it to a defined tensor.
    pub(crate) fn tensor(&mut self) -> Result<TensorId, ParseError> {
        let (tok, name) = self.tensor_name()?;
        self.resolve_tensor(&tok, &name)
    }

    pub(crate) fn resolve_tensor(&self, tok: &Token, name: &str) -> Result<TensorId, ParseError> {
        if let Some(&t) = self.tensors.get(name) {
            return Ok(t);
        }
        let hint = super::nearest(name, self.tensors.keys().map(String::as_str))
            .map(|s| format!("; did you mean `%{s}`?"))
            .unwrap_or_default();
        Err(self.error_at(tok, format!("unknown tensor `%{name}`{hint}")))
    }

    // ---- program and kernels ----

    fn program(&mut self) -> Result<Program, ParseError> {
        let mut program = Program::default();
        // Names seen so far: a set, so that a file of many kernels parses in linear time.
        let mut names = std::collections::HashSet::new();
        loop {
            self.skip_newlines();
            if self.at(&Tok::Eof) {
                return Ok(program);
            }
            if !self.at_ident("kernel") {
                return Err(self.unexpected(&["`kernel`", "end of input"]));
            }
            let f = self.kernel()?;
            if !names.insert(f.name.clone()) {
                let at = f.loc.unwrap_or_default();
                return Err(ParseError::new(
                    self.src,
                    at.line,
                    at.column,
                    6,
                    format!("kernel `{}` is defined twice", f.name),
                    Vec::new(),
                ));
            }
            program.functions.push(f);
        }
    }

    fn kernel(&mut self) -> Result<Function, ParseError> {
        let kw = self.expect_ident("kernel")?;
        let (_, name) = self.name("a kernel name")?;
        self.f = Function::new(name);
        self.f.loc = Some(Self::loc(&kw));
        self.tensors.clear();
        self.scopes = vec![Vec::new()];
        self.visible.clear();
        self.depth = 0;

        self.expect(&Tok::LParen)?;
        while !self.at(&Tok::RParen) {
            let (tok, pname) = self.name("a parameter name or `)`")?;
            self.expect(&Tok::Colon)?;
            let ty = if self.eat(&Tok::Star) {
                VarType::Pointer(self.dtype()?)
            } else {
                VarType::Scalar(self.scalar_type()?)
            };
            let v = self.declare_var(&tok, pname, ty, VarKind::Param)?;
            self.f.params.push(v);
            if !self.eat(&Tok::Comma) && !self.at(&Tok::RParen) {
                return Err(self.unexpected(&["`,`", "`)`"]));
            }
        }
        self.bump();

        let mut grid_seen = false;
        let mut warps_seen = false;
        loop {
            self.skip_newlines();
            if self.at_ident("grid") && !grid_seen {
                self.bump();
                self.expect(&Tok::LParen)?;
                let mut grid = Vec::new();
                while !self.at(&Tok::RParen) {
                    grid.push(self.expr()?);
                    if !self.eat(&Tok::Comma) && !self.at(&Tok::RParen) {
                        return Err(self.unexpected(&["`,`", "`)`"]));
                    }
                }
                self.bump();
                self.f.grid = grid;
                grid_seen = true;
            } else if self.at_ident("warps") && !warps_seen {
                self.bump();
                self.expect(&Tok::LParen)?;
                self.f.warps = self.u32_literal("the number of warps")?;
                self.expect(&Tok::RParen)?;
                warps_seen = true;
            } else if self.at_ident("assume") {
                self.bump();
                self.expect(&Tok::LParen)?;
                loop {
                    let (tok, name) = self.name("a parameter")?;
                    let var = self.lookup_var(&name).ok_or_else(|| {
                        self.error_at(&tok, format!("`{name}` is not a parameter"))
                    })?;
                    self.expect(&Tok::Percent)?;
                    let divisor = self.u32_literal("a divisor")?;
                    self.expect(&Tok::EqEq)?;
                    let zero_tok = self.peek().clone();
                    if self.u32_literal("`0`")? != 0 {
                        return Err(self.error_at(
                            &zero_tok,
                            "an assumption reads `name % divisor == 0`".to_string(),
                        ));
                    }
                    self.f.assumes.push(crate::program::Assume { var, divisor });
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen)?;
            } else if self.at(&Tok::LBrace) && grid_seen {
                break;
            } else {
                let mut expected = Vec::new();
                if !grid_seen {
                    expected.push("`grid(…)`");
                }
                if !warps_seen {
                    expected.push("`warps(…)`");
                }
                if grid_seen {
                    expected.push("`{`");
                }
                return Err(self.unexpected(&expected));
            }
        }
        let body = self.block()?;
        self.f.body = body;
        self.end_of_statement()?;
        Ok(std::mem::replace(&mut self.f, Function::new("")))
    }

    /// `{ statements }` in a new scope.
    fn block(&mut self) -> Result<Block, ParseError> {
        self.expect(&Tok::LBrace)?;
        self.enter()?;
        self.push_scope();
        let mut body = Vec::new();
        loop {
            self.skip_newlines();
            if self.eat(&Tok::RBrace) {
                break;
            }
            if self.at(&Tok::Eof) {
                return Err(self.unexpected(&["a statement", "`}`"]));
            }
            body.push(self.statement()?);
            if !self.at(&Tok::RBrace) {
                self.end_of_statement()?;
            }
        }
        self.pop_scope();
        self.leave();
        Ok(body)
    }

    /// A statement ends at the end of a line (or of the input).
    fn end_of_statement(&mut self) -> Result<(), ParseError> {
        if self.eat(&Tok::Newline) || self.at(&Tok::Eof) {
            Ok(())
        } else {
            Err(self.unexpected(&["end of line"]))
        }
    }

    fn statement(&mut self) -> Result<Stmt, ParseError> {
        let start = self.peek().clone();
        match &start.tok {
            Tok::Percent => self.instruction(),
            Tok::Ident(w) if w == "let" => self.let_stmt(),
            Tok::Ident(w) if w == "for" => self.for_stmt(),
            Tok::Ident(w) if w == "if" => self.if_stmt(),
            Tok::Ident(_) | Tok::Str(_) if self.peek_at(1).tok == Tok::Assign => {
                let (tok, name) = self.name("a variable")?;
                let var = self.resolve_var(&tok, &name)?;
                self.bump();
                let value = self.expr()?;
                Ok(Stmt::Assign {
                    var,
                    value,
                    loc: Some(Self::loc(&start)),
                })
            }
            Tok::Ident(_) => self.instruction(),
            _ => Err(self.unexpected(&[
                "an instruction",
                "`%name = …`",
                "`let`",
                "`for`",
                "`if`",
                "an assignment",
                "`}`",
            ])),
        }
    }

    fn let_stmt(&mut self) -> Result<Stmt, ParseError> {
        let kw = self.expect_ident("let")?;
        let (tok, name) = self.name("a variable name")?;
        self.expect(&Tok::Colon)?;
        let ty = self.scalar_type()?;
        self.expect(&Tok::Assign)?;
        let value = self.expr()?;
        let var = self.declare_var(&tok, name, VarType::Scalar(ty), VarKind::Let)?;
        Ok(Stmt::Let {
            var,
            value,
            loc: Some(Self::loc(&kw)),
        })
    }

    fn for_stmt(&mut self) -> Result<Stmt, ParseError> {
        let kw = self.expect_ident("for")?;
        let (tok, name) = self.name("a loop variable")?;
        self.expect_ident("in")?;
        self.expect_ident("range")?;
        self.expect(&Tok::LParen)?;
        let mut args = Vec::new();
        while !self.at(&Tok::RParen) {
            if args.len() == 3 {
                return Err(self.unexpected(&["`)`"]));
            }
            args.push(self.expr()?);
            if !self.eat(&Tok::Comma) && !self.at(&Tok::RParen) {
                return Err(self.unexpected(&["`,`", "`)`"]));
            }
        }
        if args.is_empty() {
            return Err(self.unexpected(&["the loop bound"]));
        }
        self.bump();
        let (start, end, step) = match args.as_slice() {
            [end] => (self.f.exprs.alloc(Expr::Int(0)), *end, None),
            [start, end] => (*start, *end, None),
            [start, end, step, ..] => (*start, *end, Some(*step)),
            [] => return Err(self.unexpected(&["the loop bound"])),
        };
        let step = step.unwrap_or_else(|| self.f.exprs.alloc(Expr::Int(1)));
        let unroll = if self.at_ident("unroll") {
            self.bump();
            self.expect(&Tok::LParen)?;
            let u = if self.at_ident("full") {
                self.bump();
                Unroll::Full
            } else {
                Unroll::Factor(self.u32_literal("an unroll factor or `full`")?)
            };
            self.expect(&Tok::RParen)?;
            u
        } else {
            Unroll::None
        };
        self.push_scope();
        let var = self.declare_var(&tok, name, VarType::Scalar(ScalarType::I32), VarKind::Loop)?;
        let body = self.block();
        self.pop_scope();
        Ok(Stmt::For {
            var,
            start,
            end,
            step,
            unroll,
            body: body?,
            loc: Some(Self::loc(&kw)),
        })
    }

    fn if_stmt(&mut self) -> Result<Stmt, ParseError> {
        let kw = self.expect_ident("if")?;
        let cond = self.expr()?;
        let then_body = self.block()?;
        // `else` may follow on the next line; look past newlines without consuming them.
        let mut k = 0;
        while self.peek_at(k).tok == Tok::Newline {
            k += 1;
        }
        let else_body = if matches!(&self.peek_at(k).tok, Tok::Ident(w) if w == "else") {
            self.skip_newlines();
            self.bump();
            if self.at_ident("if") {
                // An `else if` chain is flat in the text: it counts against its own, larger
                // limit, not the nesting of blocks.
                self.else_ifs += 1;
                if self.else_ifs > MAX_ELSE_IF {
                    return Err(self.error_at(
                        self.peek(),
                        format!("an `if` chain of more than {MAX_ELSE_IF} `else if` branches"),
                    ));
                }
                let nested = self.if_stmt();
                self.else_ifs -= 1;
                vec![nested?]
            } else {
                self.block()?
            }
        } else {
            Vec::new()
        };
        Ok(Stmt::If {
            cond,
            then_body,
            else_body,
            loc: Some(Self::loc(&kw)),
        })
    }

    /// An instruction statement: `[%name (= | <-)] mnemonic operands`.
    fn instruction(&mut self) -> Result<Stmt, ParseError> {
        let start = self.peek().clone();
        let result = if self.at(&Tok::Percent) {
            let (tok, name) = self.tensor_name()?;
            let existing = if self.eat(&Tok::Assign) {
                false
            } else if self.at(&Tok::Lt) && self.peek_at(1).tok == Tok::Minus && self.adjacent(1) {
                self.bump();
                self.bump();
                true
            } else {
                return Err(self.unexpected(&["`=`", "`<-`"]));
            };
            Some(ResultSpec {
                tok,
                name,
                existing,
            })
        } else {
            None
        };
        let inst = self.inst_body(result, Self::loc(&start))?;
        Ok(Stmt::Inst(inst))
    }

    /// A `u32` integer literal.
    pub(crate) fn u32_literal(&mut self, what: &str) -> Result<u32, ParseError> {
        match self.peek().tok {
            Tok::Int(v) => {
                let t = self.bump();
                u32::try_from(v).map_err(|_| self.error_at(&t, format!("{what} is too large")))
            }
            _ => Err(self.unexpected(&[what])),
        }
    }

    /// A non-negative integer literal that fits in `usize`.
    pub(crate) fn usize_literal(&mut self, what: &str) -> Result<usize, ParseError> {
        match self.peek().tok {
            Tok::Int(v) => {
                let t = self.bump();
                usize::try_from(v).map_err(|_| self.error_at(&t, format!("{what} is too large")))
            }
            _ => Err(self.unexpected(&[what])),
        }
    }

    /// Allocates an expression node.
    pub(crate) fn alloc_expr(&mut self, e: Expr) -> ExprId {
        self.f.exprs.alloc(e)
    }
}
