//! Tokens and a small cursor shared by the register- and shared-layout parsers.

use super::LayoutParseError;

/// The largest number of elements, threads or register slots a parsed layout may have.
///
/// Anything larger is rejected with an error instead of being built, so hostile input can
/// neither overflow an integer nor exhaust memory.
pub const MAX_LAYOUT_SIZE: u64 = 1 << 24;

/// One kind of token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Ident(String),
    /// A non-negative integer literal that fits in a `u64`.
    Int(u64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Star,
    Slash,
    Eq,
    Minus,
    /// The end of the input.
    Eof,
}

/// A token and the 1-based character column where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub col: usize,
}

impl Tok {
    /// How the token is named in an error message ("found ...").
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(v) => format!("`{v}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Eq => "`=`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Eof => "end of input".into(),
        }
    }
}

/// Splits `src` into tokens; whitespace between tokens is skipped.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, LayoutParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            let mut value: Option<u64> = Some(0);
            while i < chars.len() && chars[i].is_ascii_digit() {
                let d = u64::from(chars[i].to_digit(10).unwrap_or(0));
                value = value
                    .and_then(|v| v.checked_mul(10))
                    .and_then(|v| v.checked_add(d));
                i += 1;
            }
            match value {
                Some(v) => out.push(Token {
                    tok: Tok::Int(v),
                    col: start + 1,
                }),
                None => {
                    return Err(LayoutParseError::new(
                        "integer literal is too large",
                        start + 1,
                        src,
                    ))
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                col: start + 1,
            });
            continue;
        }
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '.' => Tok::Dot,
            '*' => Tok::Star,
            '/' => Tok::Slash,
            '=' => Tok::Eq,
            '-' => Tok::Minus,
            other => {
                return Err(LayoutParseError::new(
                    format!("unexpected character `{other}`"),
                    col,
                    src,
                ))
            }
        };
        out.push(Token { tok, col });
        i += 1;
    }
    out.push(Token {
        tok: Tok::Eof,
        col: chars.len() + 1,
    });
    Ok(out)
}

/// A position in a token stream, with the helpers both parsers use.
pub(crate) struct Cursor<'a> {
    toks: Vec<Token>,
    pos: usize,
    src: &'a str,
}

impl<'a> Cursor<'a> {
    /// Lexes `src` and starts at its first token.
    pub fn new(src: &'a str) -> Result<Self, LayoutParseError> {
        Ok(Cursor {
            toks: lex(src)?,
            pos: 0,
            src,
        })
    }

    /// The current token (the final `Eof` once the input is exhausted).
    pub fn peek(&self) -> &Token {
        // `lex` always ends the stream with `Eof` and `bump` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    /// The token after the current one.
    pub fn peek2(&self) -> &Token {
        &self.toks[(self.pos + 1).min(self.toks.len() - 1)]
    }

    /// Returns the current token and moves past it (never past `Eof`).
    pub fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    /// An error at `col`.
    pub fn error_at(&self, col: usize, message: impl Into<String>) -> LayoutParseError {
        LayoutParseError::new(message, col, self.src)
    }

    /// An error at the current token: `expected {what}, found {token}`.
    pub fn expected(&self, what: &str) -> LayoutParseError {
        let t = self.peek();
        self.error_at(
            t.col,
            format!("expected {what}, found {}", t.tok.describe()),
        )
    }

    /// Consumes `tok` or fails with `expected {what}, found ...`.
    pub fn expect(&mut self, tok: &Tok, what: &str) -> Result<Token, LayoutParseError> {
        if &self.peek().tok == tok {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    /// Consumes `tok` if it is next.
    pub fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Is the current token the identifier `name`?
    pub fn at_ident(&self, name: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == name)
    }

    /// Is the input at a keyword argument `name=`?
    pub fn at_keyword(&self, name: &str) -> bool {
        self.at_ident(name) && self.peek2().tok == Tok::Eq
    }

    /// Consumes `name =`.
    pub fn expect_keyword(&mut self, name: &str) -> Result<(), LayoutParseError> {
        if !self.at_ident(name) {
            return Err(self.expected(&format!("`{name}=`")));
        }
        self.bump();
        self.expect(&Tok::Eq, &format!("`=` after `{name}`"))?;
        Ok(())
    }

    /// Consumes a non-negative integer literal; returns it and its column.
    pub fn int(&mut self, what: &str) -> Result<(u64, usize), LayoutParseError> {
        match self.peek().tok {
            Tok::Int(v) => {
                let col = self.bump().col;
                Ok((v, col))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Consumes a possibly negative integer literal; returns it and its column.
    pub fn signed_int(&mut self, what: &str) -> Result<(i64, usize), LayoutParseError> {
        let col = self.peek().col;
        let neg = self.eat(&Tok::Minus);
        match self.peek().tok {
            Tok::Int(v) => {
                self.bump();
                let v = i64::try_from(v)
                    .map_err(|_| self.error_at(col, "integer literal is too large"))?;
                Ok((if neg { -v } else { v }, col))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Consumes `true` or `false`.
    pub fn bool(&mut self, what: &str) -> Result<bool, LayoutParseError> {
        if self.at_ident("true") {
            self.bump();
            Ok(true)
        } else if self.at_ident("false") {
            self.bump();
            Ok(false)
        } else {
            Err(self.expected(what))
        }
    }

    /// Consumes `[a, b, ...]` of non-negative integers (possibly empty); returns the values
    /// and the column of each.
    pub fn int_list(&mut self, what: &str) -> Result<Vec<(u64, usize)>, LayoutParseError> {
        self.expect(&Tok::LBracket, &format!("`[` to start {what}"))?;
        let mut out = Vec::new();
        if self.eat(&Tok::RBracket) {
            return Ok(out);
        }
        loop {
            out.push(self.int(&format!("an integer in {what}"))?);
            if self.eat(&Tok::RBracket) {
                return Ok(out);
            }
            self.expect(&Tok::Comma, &format!("`,` or `]` in {what}"))?;
        }
    }

    /// Consumes `[a, -b, ...]` of integers (possibly empty).
    pub fn signed_list(&mut self, what: &str) -> Result<Vec<(i64, usize)>, LayoutParseError> {
        self.expect(&Tok::LBracket, &format!("`[` to start {what}"))?;
        let mut out = Vec::new();
        if self.eat(&Tok::RBracket) {
            return Ok(out);
        }
        loop {
            out.push(self.signed_int(&format!("an integer in {what}"))?);
            if self.eat(&Tok::RBracket) {
                return Ok(out);
            }
            self.expect(&Tok::Comma, &format!("`,` or `]` in {what}"))?;
        }
    }

    /// Fails unless the whole input has been consumed.
    pub fn finish(&self, what: &str) -> Result<(), LayoutParseError> {
        if self.peek().tok == Tok::Eof {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }
}

/// Converts a parsed size to `usize`, rejecting zero and anything above [`MAX_LAYOUT_SIZE`].
pub(crate) fn extent(cur: &Cursor<'_>, v: u64, col: usize) -> Result<usize, LayoutParseError> {
    if v == 0 {
        return Err(cur.error_at(col, "extents must be at least 1"));
    }
    if v > MAX_LAYOUT_SIZE {
        return Err(cur.error_at(
            col,
            format!("{v} is too large (sizes are capped at 2^24 = {MAX_LAYOUT_SIZE})"),
        ));
    }
    usize::try_from(v).map_err(|_| cur.error_at(col, "integer literal is too large"))
}

/// The product of `values`, or an error at `col` if it exceeds [`MAX_LAYOUT_SIZE`].
pub(crate) fn capped_product(
    cur: &Cursor<'_>,
    values: impl IntoIterator<Item = usize>,
    what: &str,
    col: usize,
) -> Result<usize, LayoutParseError> {
    let mut p: u64 = 1;
    for v in values {
        p = p.saturating_mul(v as u64);
        if p > MAX_LAYOUT_SIZE {
            return Err(cur.error_at(
                col,
                format!("the {what} would exceed the cap of 2^24 = {MAX_LAYOUT_SIZE}"),
            ));
        }
    }
    Ok(p as usize)
}
