//! The lexer: PTX text into tokens with line numbers.

use crate::PtxError;

/// A token kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Names, directives, opcodes, registers, labels: `[.%$A-Za-z_][A-Za-z0-9_$.]*`, with
    /// `::` allowed inside (`L1::no_allocate`).
    Ident(String),
    /// A literal starting with a digit: `12`, `0x1f`, `0f3F800000`, `1.0`.
    Num(String),
    /// One of `, ; { } [ ] ( ) < > + - @ ! :`.
    Punct(char),
}

/// A token and its 1-based line.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: u32,
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '_' | '$' | '%' | '.')
}

fn ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.')
}

/// Splits `text` into tokens, dropping `//` and `/* */` comments.
pub(crate) fn lex(text: &str) -> Result<Vec<Token>, PtxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line: u32 = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let start = line;
            i += 2;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(PtxError::Parse {
                            line: start as usize,
                            message: "unterminated /* comment".into(),
                        })
                    }
                    Some('*') if chars.get(i + 1) == Some(&'/') => {
                        i += 2;
                        break;
                    }
                    Some('\n') => {
                        line += 1;
                        i += 1;
                    }
                    Some(_) => i += 1,
                }
            }
        } else if ident_start(c) {
            let start = i;
            i += 1;
            loop {
                match chars.get(i) {
                    Some(&c) if ident_continue(c) => i += 1,
                    Some(':') if chars.get(i + 1) == Some(&':') => i += 2,
                    _ => break,
                }
            }
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                line,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Num(chars[start..i].iter().collect()),
                line,
            });
        } else if ",;{}[]()<>+-@!:".contains(c) {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        } else {
            return Err(PtxError::Parse {
                line: line as usize,
                message: format!("unexpected character {c:?}"),
            });
        }
    }
    Ok(out)
}

/// A parsed integer literal: decimal or `0x` hex, with an optional leading minus.
pub(crate) fn parse_int(text: &str, negative: bool) -> Option<i128> {
    let magnitude = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 16 {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()?
    } else {
        if !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 20 {
            return None;
        }
        text.parse::<u64>().ok()?
    };
    let m = magnitude as i128;
    Some(if negative { -m } else { m })
}

/// The bits of an `f32` literal `0fXXXXXXXX` (exactly 8 hex digits).
pub(crate) fn parse_f32_bits(text: &str) -> Option<u32> {
    let hex = text.strip_prefix("0f").or(text.strip_prefix("0F"))?;
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}
