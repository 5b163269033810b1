//! The text form of tile programs (`.tilus` files): a lexer, a parser and a printer.
//!
//! [`parse_program`] reads a program; `Display` for [`Program`] and [`Function`] writes it
//! back in canonical form (4-space indent, one statement per line), and
//! `parse_program(&p.to_string())` gives a program equal to `p` under
//! [`crate::equiv::programs_equal`] (the same structure, `Loc`s and arena order aside).
//! The grammar, every instruction and the error format are documented in `docs/ir.md`;
//! in short:
//!
//! ```text
//! # c = a + b, 128 elements per block
//! kernel vector_add(n: i32, a: *f32, b: *f32, c: *f32) grid(cdiv(n, 128)) warps(4) {
//!     %ga = global_view a, [n]
//!     %gb = global_view b, [n]
//!     %gc = global_view c, [n]
//!     %x = load_global %ga, [blockIdx.x * 128], shape=[128]
//!     %y = load_global %gb, [blockIdx.x * 128], shape=[128]
//!     %z = add %x, %y
//!     store_global %gc, %z, [blockIdx.x * 128]
//! }
//! ```
//!
//! - Tensors are `%name`; scalar variables (parameters, loop variables, `let`s) are bare
//!   names. A name that is not a plain identifier, or is a reserved word, is written as a
//!   quoted string (`%"my tile"`, `"min"`).
//! - `%t = op …` defines a new tensor; `%t <- op …` overwrites an existing register tensor
//!   (`Out::Existing`).
//! - Comments run from `#` (or `;`, for filetest annotations) to the end of the line.
//! - Statements end at the end of a line; inside `(…)` and `[…]` newlines are ignored.
//! - Operands come first, separated by commas, then options `key=value` or bare flags
//!   (`shape=[128]`, `dims=[0, 1]`, `init=0.0`, `acc=f32`, `keepdim`, `requires_clean`).
//! - Layouts are written in the layout expression syntax of `spec/layouts.md`
//!   ([`crate::layout::parse_layout`], [`crate::layout::parse_shared_layout`]); a layout
//!   extends to the next comma or end of line outside parentheses.
//!
//! Errors are [`ParseError`]s with a line, a column, what was expected and the source line;
//! [`ParseError::render`] formats them like rustc. The parser never panics, whatever its
//! input, and limits the nesting of expressions and blocks to [`MAX_NESTING`].
//!
//! ```
//! use tilus_ir::text::parse_program;
//!
//! let src = "kernel k(n: i32) grid(1) warps(1) {\n    sync\n}\n";
//! let p = parse_program(src).unwrap();
//! assert_eq!(p.to_string(), src);
//!
//! let e = parse_program("kernel k() grid(1) {\n    snyc\n}").unwrap_err();
//! assert_eq!((e.line, e.column), (2, 5));
//! assert!(e.message.contains("did you mean `sync`"));
//! ```

use std::fmt;

use crate::expr::ExprId;
use crate::program::Function;
#[cfg(doc)]
use crate::program::Program;

mod lexer;
mod parse_expr;
mod parse_inst;
mod parser;
mod print_inst;
mod printer;

pub use parser::parse_program;

/// How deeply expressions and blocks may nest before the parser gives up with an error
/// (a guard against stack exhaustion on hostile input).
pub const MAX_NESTING: usize = 100;

/// The most `else if` branches one `if` chain may have (a flat chain in the text, nested
/// statements in the program).
pub const MAX_ELSE_IF: usize = 1000;

/// Words that cannot be bare variable, parameter or kernel names (such names are printed
/// quoted): keywords, literals and the built-in scalar functions.
pub const RESERVED: [&str; 19] = [
    "kernel", "let", "for", "in", "range", "unroll", "if", "else", "true", "false", "inf", "nan",
    "blockIdx", "gridDim", "min", "max", "cdiv", "select", "cast",
];

/// Every instruction mnemonic, for error messages and suggestions.
pub fn mnemonics() -> Vec<&'static str> {
    use crate::inst::{TileBinaryOp, TileUnaryOp};
    let mut v = vec![
        "global_view",
        "alloc_global",
        "alloc_shared",
        "free_shared",
        "alloc_register",
        "slice",
        "load_global",
        "store_global",
        "load_shared",
        "store_shared",
        "copy_async",
        "commit_group",
        "wait_group",
        "wait_all",
        "dot",
        "cast",
        "where",
        "view",
        "sum",
        "sync",
        "lock_semaphore",
        "release_semaphore",
        "annotate_layout",
        "annotate_shared_layout",
        "print",
    ];
    v.extend(TileUnaryOp::ALL.iter().map(|op| op.name()));
    v.extend(TileBinaryOp::ALL.iter().map(|op| op.name()));
    v
}

/// A syntax error (or a name, type or layout error found while parsing), with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1 (one past the end of the line for "end of line").
    pub column: u32,
    /// How many characters the offending token spans (at least 1), for the caret line.
    pub width: u32,
    /// What went wrong.
    pub message: String,
    /// What would have been accepted at this position (may be empty).
    pub expected: Vec<String>,
    /// The text of the offending line, without its line break.
    pub source_line: String,
}

impl ParseError {
    /// An error at `line:column` of `src`.
    pub(crate) fn new(
        src: &str,
        line: u32,
        column: u32,
        width: u32,
        message: impl Into<String>,
        expected: Vec<String>,
    ) -> Self {
        let source_line = src
            .split('\n')
            .nth(line.saturating_sub(1) as usize)
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_string();
        ParseError {
            line,
            column,
            width: width.max(1),
            message: message.into(),
            expected,
            source_line,
        }
    }

    /// `` `a`, `b` or `c` ``: the expected alternatives as a phrase (empty when none).
    pub fn expected_phrase(&self) -> String {
        match self.expected.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        }
    }

    fn headline(&self) -> String {
        if self.expected.is_empty() {
            self.message.clone()
        } else {
            format!("{} (expected {})", self.message, self.expected_phrase())
        }
    }

    /// A rustc-style report: the message, the position, the source line and a caret under
    /// the offending token.
    ///
    /// ```text
    /// error: unknown instruction `lod_global`; did you mean `load_global`?
    ///  --> 3:10
    ///   |
    /// 3 |     %x = lod_global %ga, [0], shape=[128]
    ///   |          ^^^^^^^^^^
    /// ```
    pub fn render(&self) -> String {
        let num = self.line.to_string();
        let gutter = " ".repeat(num.len());
        let offset = self.column.saturating_sub(1) as usize;
        // Keep tabs so the caret lines up under tab-indented text.
        let pad: String = self
            .source_line
            .chars()
            .take(offset)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .chain(std::iter::repeat_n(
                ' ',
                offset.saturating_sub(self.source_line.chars().count()),
            ))
            .collect();
        let carets = "^".repeat(self.width.clamp(1, 200) as usize);
        format!(
            "error: {}\n{gutter}--> {}:{}\n{gutter} |\n{num} | {}\n{gutter} | {pad}{carets}",
            self.headline(),
            self.line,
            self.column,
            self.source_line
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}:{}: {}", self.line, self.column, self.headline())
    }
}

impl std::error::Error for ParseError {}

/// The text of a scalar expression of `f` (as the printer writes it), for messages.
pub fn expr_to_string(f: &Function, e: ExprId) -> String {
    printer::expr_string(f, e)
}

/// Whether `name` can be written without quotes as a variable or kernel name.
pub(crate) fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A name as written: bare when plain and not reserved, else quoted.
pub(crate) fn write_name(name: &str, reserved_check: bool) -> String {
    if is_plain_ident(name) && !(reserved_check && RESERVED.contains(&name)) {
        name.to_string()
    } else {
        quote(name)
    }
}

/// A double-quoted string literal with `\\`, `\"`, `\n`, `\t`, `\r`, `\0` and `\u{…}`
/// escapes for the other control characters.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Levenshtein distance by `char`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate nearest to `name` within `max(2, len / 3)` edits, if any (none for names
/// longer than 64 characters, which are not typos of anything).
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = name.chars().count();
    if len > 64 {
        return None;
    }
    let limit = (len / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
