//! Tokens of the `.tilus` format.
//!
//! The whole input is split up front. Newlines are tokens (statements end at the end of a
//! line) except inside `(…)` and `[…]`, where they are skipped; several newlines in a row
//! give one token. Comments run from `#` or `;` to the end of the line. Every token keeps its
//! byte span (so the parser can hand the exact text of a layout expression to the layout
//! parser) and its 1-based line and character column.

use super::ParseError;

/// One kind of token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*`: names, keywords, mnemonics, dtypes.
    Ident(String),
    /// A decimal or `0x` hexadecimal integer literal.
    Int(u64),
    /// A literal with a fraction or an exponent: `1.5`, `2e-3`.
    Float(f64),
    /// A double-quoted string, escapes resolved.
    Str(String),
    /// The end of a line (outside brackets).
    Newline,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Dot,
    /// `=`
    Assign,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    Bang,
    /// The end of the input.
    Eof,
}

impl Tok {
    /// How the token is named in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(v) => format!("`{v}`"),
            Tok::Float(v) => format!("`{v:?}`"),
            Tok::Str(s) => format!("string {}", super::quote(s)),
            Tok::Newline => "end of line".into(),
            Tok::Eof => "end of input".into(),
            other => format!("`{}`", other.symbol()),
        }
    }

    /// The spelling of a punctuation token.
    pub fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Dot => ".",
            Tok::Assign => "=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Amp => "&",
            Tok::Pipe => "|",
            Tok::Caret => "^",
            Tok::Shl => "<<",
            Tok::Shr => ">>",
            Tok::Bang => "!",
            Tok::Ident(_) | Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Newline | Tok::Eof => {
                ""
            }
        }
    }
}

/// A token with its position.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// The token.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset one past its last character.
    pub end: usize,
    /// Line, from 1.
    pub line: u32,
    /// Character column, from 1.
    pub col: u32,
    /// Length in characters.
    pub width: u32,
}

struct Lexer<'s> {
    src: &'s str,
    chars: Vec<(usize, char)>,
    i: usize,
    line: u32,
    col: u32,
    depth: usize,
    out: Vec<Token>,
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
        line: 1,
        col: 1,
        depth: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    fn byte(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.src.len(), |&(b, _)| b)
    }

    fn advance(&mut self) {
        if let Some(c) = self.peek(0) {
            self.i += 1;
            if c == '\n' {
                self.line = self.line.saturating_add(1);
                self.col = 1;
            } else {
                self.col = self.col.saturating_add(1);
            }
        }
    }

    fn error(&self, line: u32, col: u32, width: u32, message: impl Into<String>) -> ParseError {
        ParseError::new(self.src, line, col, width, message, Vec::new())
    }

    fn push(&mut self, tok: Tok, start_i: usize, line: u32, col: u32) {
        let width = u32::try_from(self.i - start_i).unwrap_or(u32::MAX);
        self.out.push(Token {
            tok,
            start: self.byte(start_i),
            end: self.byte(self.i),
            line,
            col,
            width,
        });
    }

    fn run(&mut self) -> Result<(), ParseError> {
        // A byte-order mark at the start is not part of the program (and takes no column).
        if self.peek(0) == Some('\u{feff}') {
            self.i += 1;
        }
        while let Some(c) = self.peek(0) {
            let (start, line, col) = (self.i, self.line, self.col);
            if c == '\n' {
                self.advance();
                let last_is_newline = matches!(self.out.last(), Some(t) if t.tok == Tok::Newline);
                if self.depth == 0 && !last_is_newline {
                    self.push(Tok::Newline, start, line, col);
                }
                continue;
            }
            if c.is_whitespace() {
                self.advance();
                continue;
            }
            if c == '#' || c == ';' {
                while matches!(self.peek(0), Some(c) if c != '\n') {
                    self.advance();
                }
                continue;
            }
            if c.is_ascii_digit() {
                let tok = self.number()?;
                self.push(tok, start, line, col);
                continue;
            }
            if c.is_ascii_alphabetic() || c == '_' {
                let mut s = String::new();
                while let Some(c) = self
                    .peek(0)
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    s.push(c);
                    self.advance();
                }
                self.push(Tok::Ident(s), start, line, col);
                continue;
            }
            if c == '"' {
                let s = self.string()?;
                self.push(Tok::Str(s), start, line, col);
                continue;
            }
            let two = |a: char, b: char| c == a && self.peek(1) == Some(b);
            let (tok, len) = if two('=', '=') {
                (Tok::EqEq, 2)
            } else if two('!', '=') {
                (Tok::Ne, 2)
            } else if two('<', '=') {
                (Tok::Le, 2)
            } else if two('>', '=') {
                (Tok::Ge, 2)
            } else if two('<', '<') {
                (Tok::Shl, 2)
            } else if two('>', '>') {
                (Tok::Shr, 2)
            } else if two('&', '&') {
                (Tok::AndAnd, 2)
            } else if two('|', '|') {
                (Tok::OrOr, 2)
            } else {
                let tok = match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    '{' => Tok::LBrace,
                    '}' => Tok::RBrace,
                    ',' => Tok::Comma,
                    ':' => Tok::Colon,
                    '.' => Tok::Dot,
                    '=' => Tok::Assign,
                    '+' => Tok::Plus,
                    '-' => Tok::Minus,
                    '*' => Tok::Star,
                    '/' => Tok::Slash,
                    '%' => Tok::Percent,
                    '<' => Tok::Lt,
                    '>' => Tok::Gt,
                    '&' => Tok::Amp,
                    '|' => Tok::Pipe,
                    '^' => Tok::Caret,
                    '!' => Tok::Bang,
                    other => {
                        return Err(self.error(
                            line,
                            col,
                            1,
                            format!("unexpected character `{}`", other.escape_debug()),
                        ))
                    }
                };
                (tok, 1)
            };
            match tok {
                Tok::LParen | Tok::LBracket => self.depth += 1,
                Tok::RParen | Tok::RBracket => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            for _ in 0..len {
                self.advance();
            }
            self.push(tok, start, line, col);
        }
        let (start, line, col) = (self.i, self.line, self.col);
        self.push(Tok::Eof, start, line, col);
        Ok(())
    }

    /// `123`, `0x1f`, `1.5`, `1e9`, `2.5e-3`.
    fn number(&mut self) -> Result<Tok, ParseError> {
        let (line, col, start) = (self.line, self.col, self.i);
        let too_large = |lx: &Self| {
            let width = u32::try_from(lx.i - start).unwrap_or(u32::MAX);
            lx.error(line, col, width, "integer literal is too large")
        };
        if self.peek(0) == Some('0') && matches!(self.peek(1), Some('x' | 'X')) {
            self.advance();
            self.advance();
            let mut v: Option<u64> = Some(0);
            let mut any = false;
            while let Some(d) = self.peek(0).and_then(|c| c.to_digit(16)) {
                v = v
                    .and_then(|v| v.checked_mul(16))
                    .and_then(|v| v.checked_add(u64::from(d)));
                any = true;
                self.advance();
            }
            if !any {
                return Err(self.error(line, col, 2, "expected hexadecimal digits after `0x`"));
            }
            return v.map(Tok::Int).ok_or_else(|| too_large(self));
        }
        let mut text = String::new();
        let mut is_float = false;
        while let Some(c) = self.peek(0).filter(char::is_ascii_digit) {
            text.push(c);
            self.advance();
        }
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            is_float = true;
            text.push('.');
            self.advance();
            while let Some(c) = self.peek(0).filter(char::is_ascii_digit) {
                text.push(c);
                self.advance();
            }
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            let digit_at = if matches!(self.peek(1), Some('+' | '-')) {
                2
            } else {
                1
            };
            if self.peek(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                for _ in 0..digit_at {
                    if let Some(c) = self.peek(0) {
                        text.push(c);
                    }
                    self.advance();
                }
                while let Some(c) = self.peek(0).filter(char::is_ascii_digit) {
                    text.push(c);
                    self.advance();
                }
            }
        }
        if is_float {
            // Digits, an optional fraction and exponent always parse as an f64.
            text.parse::<f64>().map(Tok::Float).map_err(|e| {
                let width = u32::try_from(self.i - start).unwrap_or(u32::MAX);
                self.error(line, col, width, format!("bad float literal: {e}"))
            })
        } else {
            text.parse::<u64>()
                .map(Tok::Int)
                .map_err(|_| too_large(self))
        }
    }

    /// A string literal; the opening quote is the current character.
    fn string(&mut self) -> Result<String, ParseError> {
        let (line, col) = (self.line, self.col);
        self.advance();
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(self.error(line, col, 1, "unterminated string"));
            };
            match c {
                '"' => {
                    self.advance();
                    return Ok(s);
                }
                '\n' => return Err(self.error(line, col, 1, "unterminated string")),
                '\\' => {
                    let (eline, ecol) = (self.line, self.col);
                    self.advance();
                    let esc = self.peek(0);
                    self.advance();
                    match esc {
                        Some('\\') => s.push('\\'),
                        Some('"') => s.push('"'),
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some('0') => s.push('\0'),
                        Some('u') if self.peek(0) == Some('{') => {
                            self.advance();
                            let mut v: u32 = 0;
                            let mut digits = 0;
                            while let Some(d) = self.peek(0).and_then(|c| c.to_digit(16)) {
                                v = v.saturating_mul(16).saturating_add(d);
                                digits += 1;
                                self.advance();
                            }
                            let closed = self.peek(0) == Some('}');
                            if closed {
                                self.advance();
                            }
                            match char::from_u32(v).filter(|_| closed && (1..=6).contains(&digits))
                            {
                                Some(c) => s.push(c),
                                None => {
                                    return Err(self.error(
                                        eline,
                                        ecol,
                                        2,
                                        "bad unicode escape (expected `\\u{…}` with 1 to 6 hex digits of a valid code point)",
                                    ))
                                }
                            }
                        }
                        other => {
                            let shown = other.map_or("end of input".to_string(), |c| {
                                format!("`\\{}`", c.escape_debug())
                            });
                            return Err(ParseError::new(
                                self.src,
                                eline,
                                ecol,
                                2,
                                format!("unknown escape {shown} in string"),
                                vec![
                                    "`\\\\`".into(),
                                    "`\\\"`".into(),
                                    "`\\n`".into(),
                                    "`\\t`".into(),
                                    "`\\r`".into(),
                                    "`\\0`".into(),
                                    "`\\u{…}`".into(),
                                ],
                            ));
                        }
                    }
                }
                c => {
                    s.push(c);
                    self.advance();
                }
            }
        }
    }
}
