//! The parser: module structure, declarations, labels and raw operands. Opcodes are decoded
//! into [`crate::ir::Op`] by [`decode`].

mod decode;
mod lex;

use std::collections::HashMap;

use crate::ir::{Entry, Guard, Inst, Param, Reg, RegClass};
use crate::{Module, ParamKind, PtxError};
use lex::{Tok, Token};

/// The most registers an entry may declare (over all classes).
const MAX_REGS: u64 = 1 << 16;

/// An operand as written, before decoding.
#[derive(Debug, Clone)]
pub(crate) enum RawOp {
    /// A register, special register, label or symbol.
    Name(String),
    /// A literal, with a leading minus sign or not.
    Imm { text: String, neg: bool },
    /// `[base]`, `[base+imm]`, `[base-imm]`.
    Addr { base: String, offset: i64 },
    /// `{a, b, ...}`.
    Vector(Vec<String>),
}

/// An instruction as written.
struct RawInst {
    line: u32,
    guard: Option<(String, bool)>,
    opcode: String,
    ops: Vec<RawOp>,
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    lines: Vec<&'a str>,
}

fn perr(line: u32, message: impl Into<String>) -> PtxError {
    PtxError::Parse {
        line: line as usize,
        message: message.into(),
    }
}

fn show(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) | Tok::Num(s) => format!("`{s}`"),
        Tok::Punct(c) => format!("`{c}`"),
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.pos + 1).map(|t| &t.tok)
    }

    /// Line of the next token (or of the last one at the end).
    fn line(&self) -> u32 {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.line)
    }

    fn next(&mut self, what: &str) -> Result<Token, PtxError> {
        match self.toks.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => Err(perr(
                self.line(),
                format!("unexpected end of text, expected {what}"),
            )),
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, u32), PtxError> {
        let t = self.next(what)?;
        match t.tok {
            Tok::Ident(s) => Ok((s, t.line)),
            other => Err(perr(
                t.line,
                format!("expected {what}, found {}", show(&other)),
            )),
        }
    }

    fn num(&mut self, what: &str) -> Result<(String, u32), PtxError> {
        let t = self.next(what)?;
        match t.tok {
            Tok::Num(s) => Ok((s, t.line)),
            other => Err(perr(
                t.line,
                format!("expected {what}, found {}", show(&other)),
            )),
        }
    }

    fn small_int(&mut self, what: &str) -> Result<u32, PtxError> {
        let (s, line) = self.num(what)?;
        lex::parse_int(&s, false)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| perr(line, format!("bad {what} `{s}`")))
    }

    fn punct(&mut self, c: char) -> Result<(), PtxError> {
        let t = self.next(&format!("`{c}`"))?;
        match t.tok {
            Tok::Punct(p) if p == c => Ok(()),
            other => Err(perr(
                t.line,
                format!("expected `{c}`, found {}", show(&other)),
            )),
        }
    }

    fn keyword(&mut self, k: &str) -> Result<(), PtxError> {
        let (s, line) = self.ident(&format!("`{k}`"))?;
        if s == k {
            Ok(())
        } else {
            Err(perr(line, format!("expected `{k}`, found `{s}`")))
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn source(&self, line: u32) -> Box<str> {
        self.lines
            .get((line as usize).wrapping_sub(1))
            .map_or("", |l| l.trim())
            .into()
    }
}

/// Parses a whole module.
pub(crate) fn parse_module(text: &str) -> Result<Module, PtxError> {
    let mut p = Parser {
        toks: lex::lex(text)?,
        pos: 0,
        lines: text.lines().collect(),
    };
    let mut version = None;
    let mut target = None;
    let mut address_size = None;
    let mut smem: Option<String> = None;
    let mut entries: Vec<Entry> = Vec::new();
    while let Some(tok) = p.peek().cloned() {
        let line = p.line();
        let Tok::Ident(word) = tok else {
            return Err(perr(
                line,
                format!("unexpected {} at the top level", show(&tok)),
            ));
        };
        p.pos += 1;
        match word.as_str() {
            ".version" => {
                let (v, _) = p.num("a version number")?;
                if !v.contains('.') {
                    return Err(perr(line, format!("bad .version `{v}`")));
                }
                version = Some(v);
            }
            ".target" => {
                let (t, _) = p.ident("a target")?;
                let ok = t.strip_prefix("sm_").is_some_and(|n| {
                    !n.is_empty() && n.trim_end_matches('a').bytes().all(|b| b.is_ascii_digit())
                });
                if !ok {
                    return Err(perr(line, format!("unsupported .target `{t}`")));
                }
                target = Some(t);
            }
            ".address_size" => {
                let (n, _) = p.num("an address size")?;
                if n != "64" {
                    return Err(perr(
                        line,
                        format!("only .address_size 64 is supported, not {n}"),
                    ));
                }
                address_size = Some(64);
            }
            ".extern" => {
                p.keyword(".shared")?;
                p.keyword(".align")?;
                let align = p.small_int("an alignment")?;
                if !align.is_power_of_two() {
                    return Err(perr(line, format!("bad alignment {align}")));
                }
                p.keyword(".b8")?;
                let (name, _) = p.ident("the shared array's name")?;
                p.punct('[')?;
                p.punct(']')?;
                p.punct(';')?;
                if smem.is_some() {
                    return Err(perr(line, "a second .extern .shared array"));
                }
                smem = Some(name);
            }
            ".visible" | ".entry" => {
                if word == ".visible" {
                    p.keyword(".entry")?;
                }
                if version.is_none() || target.is_none() || address_size.is_none() {
                    return Err(perr(
                        line,
                        ".entry before .version, .target and .address_size",
                    ));
                }
                let e = parse_entry(&mut p, line, smem.as_deref())?;
                if entries.iter().any(|x| x.name == e.name) {
                    return Err(perr(line, format!("a second entry named `{}`", e.name)));
                }
                entries.push(e);
            }
            _ => return Err(perr(line, format!("unexpected `{word}` at the top level"))),
        }
    }
    let (Some(version), Some(target)) = (version, target) else {
        return Err(perr(1, "missing .version or .target"));
    };
    if address_size.is_none() {
        return Err(perr(1, "missing .address_size 64"));
    }
    Ok(Module {
        version,
        target,
        entries,
    })
}

fn parse_entry(p: &mut Parser, line: u32, smem: Option<&str>) -> Result<Entry, PtxError> {
    let (name, _) = p.ident("the entry's name")?;
    p.punct('(')?;
    let mut params: Vec<Param> = Vec::new();
    if !p.eat_punct(')') {
        loop {
            let (kw, l) = p.ident("`.param`")?;
            if kw != ".param" {
                return Err(perr(l, format!("expected `.param`, found `{kw}`")));
            }
            let (ty, l) = p.ident("a parameter type")?;
            let kind = match ty.as_str() {
                ".u64" => ParamKind::U64,
                ".u32" => ParamKind::U32,
                _ => return Err(perr(l, format!("unsupported parameter type `{ty}`"))),
            };
            let (pname, l) = p.ident("a parameter name")?;
            if params.iter().any(|q| q.name == pname) {
                return Err(perr(l, format!("a second parameter named `{pname}`")));
            }
            params.push(Param { name: pname, kind });
            if p.eat_punct(')') {
                break;
            }
            p.punct(',')?;
        }
    }
    let mut maxntid = None;
    while let Some(Tok::Ident(d)) = p.peek().cloned() {
        let l = p.line();
        p.pos += 1;
        if d == ".maxnreg" {
            // A register budget for ptxas: no effect on what the kernel computes.
            if p.small_int(".maxnreg count")? == 0 {
                return Err(perr(l, ".maxnreg 0"));
            }
            continue;
        }
        if d != ".maxntid" {
            return Err(perr(l, format!("unsupported entry directive `{d}`")));
        }
        let mut dims = [1u32; 3];
        for (k, dim) in dims.iter_mut().enumerate() {
            if k > 0 && !p.eat_punct(',') {
                break;
            }
            *dim = p.small_int(".maxntid extent")?;
            if *dim == 0 {
                return Err(perr(l, ".maxntid extent 0"));
            }
        }
        maxntid = Some(dims);
    }
    p.punct('{')?;

    let mut regs: HashMap<String, (RegClass, Reg)> = HashMap::new();
    let mut num_regs: u64 = 0;
    let mut labels: HashMap<String, u32> = HashMap::new();
    let mut raw: Vec<RawInst> = Vec::new();
    loop {
        let l = p.line();
        match p.peek().cloned() {
            None => return Err(perr(l, format!("entry `{name}` has no closing `}}`"))),
            Some(Tok::Punct('}')) => {
                p.pos += 1;
                break;
            }
            Some(Tok::Ident(w)) if w == ".reg" => {
                p.pos += 1;
                parse_reg_decl(p, &mut regs, &mut num_regs)?;
            }
            Some(Tok::Ident(w)) if p.peek2() == Some(&Tok::Punct(':')) => {
                if w.starts_with('.') || w.starts_with('%') {
                    return Err(perr(l, format!("bad label name `{w}`")));
                }
                p.pos += 2;
                let pc = raw.len() as u32;
                if labels.insert(w.clone(), pc).is_some() {
                    return Err(perr(l, format!("label `{w}` defined twice")));
                }
            }
            Some(Tok::Punct('@')) => {
                p.pos += 1;
                let negate = p.eat_punct('!');
                let (pred, _) = p.ident("a guard predicate")?;
                let mut inst = parse_inst(p)?;
                inst.guard = Some((pred, negate));
                raw.push(inst);
            }
            Some(Tok::Ident(w)) if !w.starts_with('.') && !w.starts_with('%') => {
                raw.push(parse_inst(p)?);
            }
            Some(t) => {
                return Err(perr(
                    l,
                    format!("unexpected {} in the body of `{name}`", show(&t)),
                ))
            }
        }
    }

    let ctx = decode::Ctx {
        regs: &regs,
        labels: &labels,
        params: &params,
        smem,
    };
    let mut insts = Vec::with_capacity(raw.len());
    for r in raw {
        let text = p.source(r.line);
        let fail = |m: String| perr(r.line, format!("`{text}`: {m}"));
        let guard = match &r.guard {
            None => None,
            Some((name, negate)) => Some(Guard {
                pred: ctx
                    .reg(&RawOp::Name(name.clone()), decode::Ty::Pred)
                    .map_err(fail)?,
                negate: *negate,
            }),
        };
        let op = ctx.decode(&r.opcode, &r.ops).map_err(fail)?;
        insts.push(Inst {
            op,
            guard,
            line: r.line,
            text,
        });
    }
    Ok(Entry {
        name,
        params,
        maxntid,
        insts,
        num_regs: num_regs as u32,
        line,
    })
}

fn parse_reg_decl(
    p: &mut Parser,
    regs: &mut HashMap<String, (RegClass, Reg)>,
    num_regs: &mut u64,
) -> Result<(), PtxError> {
    let (ty, line) = p.ident("a register type")?;
    let class = match ty.as_str() {
        ".pred" => RegClass::Pred,
        ".b32" | ".u32" | ".s32" => RegClass::B32,
        ".f32" => RegClass::F32,
        ".b64" | ".u64" | ".s64" => RegClass::B64,
        _ => return Err(perr(line, format!("unsupported register type `{ty}`"))),
    };
    loop {
        let (name, l) = p.ident("a register name")?;
        if !name.starts_with('%') || name.contains('.') {
            return Err(perr(l, format!("bad register name `{name}`")));
        }
        let mut names = Vec::new();
        if p.eat_punct('<') {
            let n = p.small_int("register count")?;
            p.punct('>')?;
            if *num_regs + n as u64 > MAX_REGS {
                return Err(perr(l, format!("more than {MAX_REGS} registers")));
            }
            names.extend((0..n).map(|k| format!("{name}{k}")));
        } else {
            names.push(name);
        }
        for n in names {
            if *num_regs >= MAX_REGS {
                return Err(perr(l, format!("more than {MAX_REGS} registers")));
            }
            if regs.insert(n.clone(), (class, *num_regs as Reg)).is_some() {
                return Err(perr(l, format!("register `{n}` declared twice")));
            }
            *num_regs += 1;
        }
        if p.eat_punct(';') {
            return Ok(());
        }
        p.punct(',')?;
    }
}

fn parse_inst(p: &mut Parser) -> Result<RawInst, PtxError> {
    let (opcode, line) = p.ident("an opcode")?;
    if opcode.starts_with('.') || opcode.starts_with('%') {
        return Err(perr(line, format!("expected an opcode, found `{opcode}`")));
    }
    let mut ops = Vec::new();
    if !p.eat_punct(';') {
        loop {
            ops.push(parse_operand(p)?);
            if p.eat_punct(';') {
                break;
            }
            p.punct(',')?;
        }
    }
    Ok(RawInst {
        line,
        guard: None,
        opcode,
        ops,
    })
}

fn parse_operand(p: &mut Parser) -> Result<RawOp, PtxError> {
    let t = p.next("an operand")?;
    match t.tok {
        Tok::Punct('{') => {
            let mut names = Vec::new();
            loop {
                names.push(p.ident("a register")?.0);
                if p.eat_punct('}') {
                    return Ok(RawOp::Vector(names));
                }
                p.punct(',')?;
            }
        }
        Tok::Punct('[') => {
            let (base, _) = p.ident("an address base")?;
            let mut offset = 0i64;
            let sign = if p.eat_punct('+') {
                Some(p.eat_punct('-'))
            } else if p.eat_punct('-') {
                Some(true)
            } else {
                None
            };
            if let Some(neg) = sign {
                let (n, l) = p.num("an address offset")?;
                offset = lex::parse_int(&n, neg)
                    .and_then(|v| i64::try_from(v).ok())
                    .ok_or_else(|| perr(l, format!("bad address offset `{n}`")))?;
            }
            p.punct(']')?;
            Ok(RawOp::Addr { base, offset })
        }
        Tok::Punct('-') => {
            let (text, _) = p.num("a number after `-`")?;
            Ok(RawOp::Imm { text, neg: true })
        }
        Tok::Num(text) => Ok(RawOp::Imm { text, neg: false }),
        Tok::Ident(name) => Ok(RawOp::Name(name)),
        other => Err(perr(
            t.line,
            format!("expected an operand, found {}", show(&other)),
        )),
    }
}
