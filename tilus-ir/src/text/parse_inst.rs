//! Instructions: `[%name (= | <-)] mnemonic operand, operand, …, key=value, flag`.
//!
//! Operands are positional and come first; options follow in any order. The parser checks
//! the syntax, resolves names and computes the type of every new tensor with
//! [`typing::result_type`]; all other semantic checks (operand kinds of instructions without
//! a result, `<-` type agreement, layouts against shapes, …) are the verifier's, so that
//! verifier tests can be written in the text form.

use super::lexer::{Tok, Token};
use super::parser::{Parser, ResultSpec};
use super::ParseError;
use crate::dtype::DType;
use crate::inst::{InstKind, Operand, ReduceOp, TileBinaryOp, TileUnaryOp};
use crate::program::{Inst, InstId, Loc, Out, Tensor, VarType};
use crate::typing;

impl Parser<'_> {
    /// The instruction after its optional result: mnemonic, operands, options.
    pub(crate) fn inst_body(
        &mut self,
        result: Option<ResultSpec>,
        loc: Loc,
    ) -> Result<InstId, ParseError> {
        let (mtok, mnemonic) = match self.peek().tok.clone() {
            Tok::Ident(s) => (self.bump(), s),
            _ => return Err(self.unexpected(&["an instruction mnemonic"])),
        };
        let kind = self.inst_kind(&mtok, &mnemonic)?;
        self.finish_inst(kind, result, &mtok, loc)
    }

    fn finish_inst(
        &mut self,
        kind: InstKind,
        result: Option<ResultSpec>,
        mtok: &Token,
        loc: Loc,
    ) -> Result<InstId, ParseError> {
        let name = kind.name();
        let out = match (kind.has_result(), result) {
            (false, None) => None,
            (false, Some(r)) => {
                return Err(self.error_at(
                    &r.tok,
                    format!(
                        "`{name}` does not produce a tensor; remove `%{} {}`",
                        r.name,
                        if r.existing { "<-" } else { "=" }
                    ),
                ))
            }
            (true, None) => {
                return Err(self.error_at(
                    mtok,
                    format!("`{name}` produces a tensor: write `%name = {name} …`"),
                ))
            }
            (true, Some(r)) if r.existing => {
                Some(Out::Existing(self.resolve_tensor(&r.tok, &r.name)?))
            }
            (true, Some(r)) => {
                if self.tensors.contains_key(&r.name) {
                    return Err(
                        self.error_at(&r.tok, format!("tensor `%{}` is already defined", r.name))
                    );
                }
                let ty = match typing::result_type(&self.f, &kind) {
                    Ok(Some(ty)) => ty,
                    Ok(None) => {
                        return Err(self.error_at(mtok, format!("`{name}` produced no type")))
                    }
                    Err(e) => return Err(self.error_at(mtok, format!("`{name}`: {e}"))),
                };
                let t = self.f.tensors.alloc(Tensor {
                    name: r.name.clone(),
                    ty,
                });
                self.tensors.insert(r.name, t);
                Some(Out::New(t))
            }
        };
        Ok(self.f.insts.alloc(Inst {
            kind,
            out,
            loc: Some(loc),
        }))
    }

    fn comma(&mut self) -> Result<(), ParseError> {
        self.expect(&Tok::Comma).map(|_| ())
    }

    /// `, key`: the next option's name, or `None` when no comma follows. Unknown and
    /// repeated options are errors.
    fn option_key(
        &mut self,
        inst: &str,
        allowed: &[&str],
        seen: &mut Vec<String>,
    ) -> Result<Option<Token>, ParseError> {
        if !self.at(&Tok::Comma) {
            return Ok(None);
        }
        self.bump();
        let expected: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        let key = match &self.peek().tok {
            Tok::Ident(k) => k.clone(),
            _ => return Err(self.unexpected(&expected)),
        };
        if !allowed.contains(&key.as_str()) {
            let mut e = self.unexpected(&expected);
            e.message = if allowed.is_empty() {
                format!("`{inst}` takes no option `{key}`")
            } else {
                format!("unknown option `{key}` for `{inst}`")
            };
            return Err(e);
        }
        let t = self.bump();
        if seen.contains(&key) {
            return Err(self.error_at(&t, format!("option `{key}` given twice")));
        }
        seen.push(key);
        Ok(Some(t))
    }

    /// The value of a flag option: nothing (true) or `=true` / `=false`.
    fn flag_value(&mut self) -> Result<bool, ParseError> {
        if !self.eat(&Tok::Assign) {
            return Ok(true);
        }
        if self.at_ident("true") {
            self.bump();
            Ok(true)
        } else if self.at_ident("false") {
            self.bump();
            Ok(false)
        } else {
            Err(self.unexpected(&["`true`", "`false`"]))
        }
    }

    fn dims_value(&mut self) -> Result<Option<Vec<usize>>, ParseError> {
        self.expect(&Tok::Assign)?;
        Ok(Some(self.usize_list("a dimension index")?))
    }

    /// Options `dims=[…]` only (loads, stores, copies).
    fn dims_only(&mut self, inst: &str) -> Result<Option<Vec<usize>>, ParseError> {
        let mut dims = None;
        let mut seen = Vec::new();
        while self.option_key(inst, &["dims"], &mut seen)?.is_some() {
            dims = self.dims_value()?;
        }
        Ok(dims)
    }

    fn no_options(&mut self, inst: &str) -> Result<(), ParseError> {
        let mut seen = Vec::new();
        self.option_key(inst, &[], &mut seen).map(|_| ())
    }

    /// A tile operand or a scalar expression.
    fn operand(&mut self) -> Result<Operand, ParseError> {
        if self.at_tensor() {
            return self.tensor().map(Operand::Tensor);
        }
        let pos = self.position();
        match self.expr() {
            Ok(e) => Ok(Operand::Scalar(e)),
            Err(mut e) if self.position() == pos => {
                e.expected = vec!["a tensor `%name`".into(), "a scalar expression".into()];
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn missing(&self, mtok: &Token, inst: &str, option: &str) -> ParseError {
        self.error_at(mtok, format!("`{inst}` needs the option `{option}`"))
    }

    fn inst_kind(&mut self, mtok: &Token, m: &str) -> Result<InstKind, ParseError> {
        if let Some(op) = TileUnaryOp::ALL.iter().find(|op| op.name() == m) {
            let x = self.tensor()?;
            self.no_options(m)?;
            return Ok(InstKind::Unary { op: *op, x });
        }
        let reduce_op = match m {
            "sum" => Some(ReduceOp::Sum),
            "max" => Some(ReduceOp::Max),
            "min" => Some(ReduceOp::Min),
            _ => None,
        };
        if let Some(op) = TileBinaryOp::ALL.iter().find(|op| op.name() == m) {
            let a = self.operand()?;
            // `min`/`max` with `dim=` are reductions.
            let is_reduce = matches!(a, Operand::Tensor(_))
                && self.at(&Tok::Comma)
                && matches!(&self.peek_at(1).tok, Tok::Ident(w) if w == "dim")
                && self.peek_at(2).tok == Tok::Assign;
            if let (true, Some(rop), Operand::Tensor(x)) = (is_reduce, reduce_op, a) {
                return self.reduce(mtok, m, rop, x);
            }
            self.comma()?;
            let b = self.operand()?;
            self.no_options(m)?;
            return Ok(InstKind::Binary { op: *op, a, b });
        }
        if let Some(op) = reduce_op {
            let x = self.tensor()?;
            return self.reduce(mtok, m, op, x);
        }
        Ok(match m {
            "global_view" => self.global_view()?,
            "alloc_global" => {
                let dtype = self.dtype()?;
                let shape = self.expr_list()?;
                let mut requires_clean = false;
                let mut seen = Vec::new();
                while self
                    .option_key(m, &["requires_clean"], &mut seen)?
                    .is_some()
                {
                    requires_clean = self.flag_value()?;
                }
                InstKind::AllocGlobal {
                    dtype,
                    shape,
                    requires_clean,
                }
            }
            "alloc_shared" => {
                let dtype = self.dtype()?;
                let shape = self.usize_list("an extent")?;
                self.no_options(m)?;
                InstKind::AllocShared { dtype, shape }
            }
            "free_shared" => {
                let tensor = self.tensor()?;
                self.no_options(m)?;
                InstKind::FreeShared { tensor }
            }
            "alloc_register" => {
                let dtype = self.dtype()?;
                let shape = self.usize_list("an extent")?;
                let mut init = None;
                let mut seen = Vec::new();
                while self.option_key(m, &["init"], &mut seen)?.is_some() {
                    self.expect(&Tok::Assign)?;
                    init = Some(self.expr()?);
                }
                InstKind::AllocRegister { dtype, shape, init }
            }
            "slice" => {
                let src = self.tensor()?;
                self.comma()?;
                let indices = self.expr_list()?;
                self.no_options(m)?;
                InstKind::Slice { src, indices }
            }
            "load_global" => {
                let src = self.tensor()?;
                self.comma()?;
                let offsets = self.expr_list()?;
                let (mut shape, mut dims) = (None, None);
                let mut seen = Vec::new();
                while let Some(k) = self.option_key(m, &["shape", "dims"], &mut seen)? {
                    if matches!(&k.tok, Tok::Ident(w) if w == "shape") {
                        self.expect(&Tok::Assign)?;
                        shape = Some(self.usize_list("an extent")?);
                    } else {
                        dims = self.dims_value()?;
                    }
                }
                let shape = shape.ok_or_else(|| self.missing(mtok, m, "shape=[…]"))?;
                InstKind::LoadGlobal {
                    src,
                    offsets,
                    shape,
                    dims,
                }
            }
            "store_global" => {
                let dst = self.tensor()?;
                self.comma()?;
                let src = self.tensor()?;
                self.comma()?;
                let offsets = self.expr_list()?;
                let dims = self.dims_only(m)?;
                InstKind::StoreGlobal {
                    dst,
                    src,
                    offsets,
                    dims,
                }
            }
            "load_shared" => {
                let src = self.tensor()?;
                self.no_options(m)?;
                InstKind::LoadShared { src }
            }
            "store_shared" => {
                let dst = self.tensor()?;
                self.comma()?;
                let src = self.tensor()?;
                self.no_options(m)?;
                InstKind::StoreShared { dst, src }
            }
            "copy_async" => {
                let dst = self.tensor()?;
                self.comma()?;
                let src = self.tensor()?;
                self.comma()?;
                let offsets = self.expr_list()?;
                let dims = self.dims_only(m)?;
                InstKind::CopyAsync {
                    dst,
                    src,
                    offsets,
                    dims,
                }
            }
            "commit_group" => {
                self.no_options(m)?;
                InstKind::CommitGroup
            }
            "wait_group" => {
                let n = self.u32_literal("the number of groups left pending")?;
                self.no_options(m)?;
                InstKind::WaitGroup { n }
            }
            "wait_all" => {
                self.no_options(m)?;
                InstKind::WaitAll
            }
            "sync" => {
                self.no_options(m)?;
                InstKind::Sync
            }
            "dot" => self.dot()?,
            "cast" => {
                let x = self.tensor()?;
                self.comma()?;
                let dtype = self.dtype()?;
                self.no_options(m)?;
                InstKind::Cast { x, dtype }
            }
            "where" => {
                let cond = self.tensor()?;
                self.comma()?;
                let x = self.operand()?;
                self.comma()?;
                let y = self.operand()?;
                self.no_options(m)?;
                InstKind::Where { cond, x, y }
            }
            "view" => {
                let x = self.tensor()?;
                self.comma()?;
                let dtype = self.dtype()?;
                self.comma()?;
                let layout = self.layout()?;
                let mut shape = None;
                let mut seen = Vec::new();
                while self.option_key(m, &["shape"], &mut seen)?.is_some() {
                    self.expect(&Tok::Assign)?;
                    shape = Some(self.usize_list("an extent")?);
                }
                let shape = match shape {
                    Some(s) => s,
                    None => self
                        .f
                        .layouts
                        .try_get(layout)
                        .map(|l| l.shape().to_vec())
                        .unwrap_or_default(),
                };
                InstKind::View {
                    x,
                    dtype,
                    shape,
                    layout,
                }
            }
            "lock_semaphore" | "release_semaphore" => {
                let sem = self.tensor()?;
                self.comma()?;
                let index = self.expr_list()?;
                self.comma()?;
                let value = self.expr()?;
                self.no_options(m)?;
                if m == "lock_semaphore" {
                    InstKind::LockSemaphore { sem, index, value }
                } else {
                    InstKind::ReleaseSemaphore { sem, index, value }
                }
            }
            "annotate_layout" => {
                let tensor = self.tensor()?;
                self.comma()?;
                let layout = self.layout()?;
                self.no_options(m)?;
                InstKind::AnnotateLayout { tensor, layout }
            }
            "annotate_shared_layout" => {
                let tensor = self.tensor()?;
                self.comma()?;
                let layout = self.shared_layout()?;
                self.no_options(m)?;
                InstKind::AnnotateSharedLayout { tensor, layout }
            }
            "print" => {
                let tensor = self.tensor()?;
                let mut label = String::new();
                if self.at(&Tok::Comma) && matches!(self.peek_at(1).tok, Tok::Str(_)) {
                    self.bump();
                    if let Tok::Str(s) = self.bump().tok {
                        label = s;
                    }
                }
                self.no_options(m)?;
                InstKind::Print { tensor, label }
            }
            _ => {
                let hint = super::nearest(m, super::mnemonics())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(self.error_at(mtok, format!("unknown instruction `{m}`{hint}")));
            }
        })
    }

    /// `global_view ptr, [shape], strides=[…], dtype=T`.
    fn global_view(&mut self) -> Result<InstKind, ParseError> {
        let (ptok, pname) = self.name("a pointer parameter")?;
        let ptr = self.resolve_var(&ptok, &pname)?;
        self.comma()?;
        let shape = self.expr_list()?;
        let (mut strides, mut dtype) = (None, None);
        let mut seen = Vec::new();
        while let Some(k) = self.option_key("global_view", &["strides", "dtype"], &mut seen)? {
            self.expect(&Tok::Assign)?;
            if matches!(&k.tok, Tok::Ident(w) if w == "strides") {
                strides = Some(self.expr_list()?);
            } else {
                dtype = Some(self.dtype()?);
            }
        }
        let dtype = match (dtype, self.f.vars.try_get(ptr).map(|v| v.ty)) {
            (Some(d), _) => d,
            (None, Some(VarType::Pointer(d))) => d,
            (None, _) => {
                return Err(self.error_at(
                    &ptok,
                    format!("`{pname}` is not a pointer parameter (global_view needs one)"),
                ))
            }
        };
        Ok(InstKind::GlobalView {
            ptr,
            dtype,
            shape,
            strides,
        })
    }

    /// `dot %a, %b[, %c][, acc=T]`; the accumulator defaults to `c`'s dtype, else `f32`.
    fn dot(&mut self) -> Result<InstKind, ParseError> {
        let a = self.tensor()?;
        self.comma()?;
        let b = self.tensor()?;
        let mut c = None;
        if self.at(&Tok::Comma) && self.peek_at(1).tok == Tok::Percent {
            self.bump();
            c = Some(self.tensor()?);
        }
        let mut acc = None;
        let mut seen = Vec::new();
        while self.option_key("dot", &["acc"], &mut seen)?.is_some() {
            self.expect(&Tok::Assign)?;
            acc = Some(self.dtype()?);
        }
        let acc_dtype = acc.unwrap_or_else(|| self.default_acc(c));
        Ok(InstKind::Dot { a, b, c, acc_dtype })
    }

    /// The accumulator dtype `dot` gets when `acc=` is left out.
    pub(crate) fn default_acc(&self, c: Option<crate::program::TensorId>) -> DType {
        super::printer::default_acc(&self.f, c)
    }

    /// `sum|max|min %x, dim=D[, keepdim]` (the tensor already read).
    fn reduce(
        &mut self,
        mtok: &Token,
        m: &str,
        op: ReduceOp,
        x: crate::program::TensorId,
    ) -> Result<InstKind, ParseError> {
        let (mut dim, mut keepdim) = (None, false);
        let mut seen = Vec::new();
        while let Some(k) = self.option_key(m, &["dim", "keepdim"], &mut seen)? {
            if matches!(&k.tok, Tok::Ident(w) if w == "dim") {
                self.expect(&Tok::Assign)?;
                dim = Some(self.usize_literal("a dimension index")?);
            } else {
                keepdim = self.flag_value()?;
            }
        }
        let dim = dim.ok_or_else(|| self.missing(mtok, m, "dim=…"))?;
        Ok(InstKind::Reduce {
            op,
            x,
            dim,
            keepdim,
        })
    }
}
