//! The text form of register layouts: a parser and a printer for the expression syntax of
//! `spec/layouts.md` ("Expression syntax").
//!
//! ```text
//! layout    := term (('*' | '/') term)*            left-associative; '/' is divide
//! term      := atom ('.' prim_call)*               chaining composes with a primitive
//! atom      := prim_call
//!            | 'concat(' layout ',' layout ')'
//!            | 'reduce(' layout ',' 'dims=' list [',' 'keepdims=' bool] ')'
//!            | 'left_divide(' layout ',' layout ')'
//!            | 'register_layout(' 'shape=' list ',' 'modes=' list ','
//!                                 'spatial=' list ',' 'local=' list ')'
//!            | '(' layout ')'
//! prim_call := ('local' | 'spatial' | 'column_local' | 'column_spatial')
//!                  '(' int (',' int)* [',' 'ranks=' list] ')'
//!            | 'replicated(' int (',' int)* ',' 'threads=' int ')'
//! list      := '[' [int (',' int)*] ']'              ('spatial=' entries may be negative)
//! ```
//!
//! Whitespace is allowed between any two tokens. Every size (elements, threads, register
//! slots) is capped at 2^24 ([`MAX_LAYOUT_SIZE`]); larger layouts are a parse error.
//! Errors carry the 1-based character column of the offending token; errors raised by the
//! layout algebra (a division that does not divide, invalid ranks, ...) point at the
//! operator or call that failed and keep the algebra's reason.
//!
//! The printer ([`fmt::Display`] for [`RegisterLayout`]) writes the canonical layout back as
//! the shortest chain of primitives when one exists (`local(2,1).spatial(4,8)`), else as
//! `register_layout(...)`; `parse_layout(&l.to_string()) == Ok(l)` for every layout.

use std::fmt;
use std::str::FromStr;

use super::RegisterLayout;

pub(crate) mod lexer;
mod parser;
mod printer;

pub use lexer::MAX_LAYOUT_SIZE;
pub use parser::parse_layout;

/// A syntax or algebra error in a layout expression, with the column where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutParseError {
    /// What went wrong, without position information.
    pub message: String,
    /// 1-based character column in `source` (one past the end for "end of input").
    pub column: usize,
    /// The whole text that was being parsed.
    pub source: String,
}

impl LayoutParseError {
    /// An error at `column` of `source`.
    pub fn new(message: impl Into<String>, column: usize, source: &str) -> Self {
        LayoutParseError {
            message: message.into(),
            column,
            source: source.to_string(),
        }
    }

    /// A multi-line report: the message, the source line and a caret under the column.
    ///
    /// ```text
    /// error: expected `)` or `,` after argument, found `x`
    ///   local(2,x)
    ///           ^
    /// ```
    pub fn render(&self) -> String {
        // Find the line that holds the column (columns count characters of the whole
        // source, newlines included).
        let mut line_start = 0usize; // in characters
        let mut line = String::new();
        let mut found = false;
        let mut pos = 0usize;
        for l in self.source.split('\n') {
            let len = l.chars().count();
            if self.column <= pos + len + 1 {
                line_start = pos;
                line = l.to_string();
                found = true;
                break;
            }
            pos += len + 1;
        }
        if !found {
            line_start = pos.saturating_sub(1);
        }
        let line = line.trim_end_matches('\r');
        let offset = self.column.saturating_sub(line_start + 1);
        // Keep tabs so the caret lines up under tab-indented text.
        let pad: String = line
            .chars()
            .take(offset)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .chain(std::iter::repeat_n(
                ' ',
                offset.saturating_sub(line.chars().count()),
            ))
            .collect();
        format!("error: {}\n  {}\n  {}^", self.message, line, pad)
    }
}

impl fmt::Display for LayoutParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for LayoutParseError {}

impl FromStr for RegisterLayout {
    type Err = LayoutParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_layout(s)
    }
}

impl fmt::Display for RegisterLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printer::print(self))
    }
}
