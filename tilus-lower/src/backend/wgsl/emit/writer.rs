//! The WGSL writer: prints a legalized thread kernel one construct at a time.
//!
//! It decides nothing: every construct has one spelling. Fixed conventions:
//! - bindings: pointer parameters in parameter order from 0, then workspaces, then the
//!   scalar block `scalars: array<u32>` (read-only); scalar parameters are read once at
//!   the top of the entry point (`bitcast` for `i32`/`f32`);
//! - a buffer or shared array that is the target of an `atomic` statement is declared
//!   `array<atomic<u32>>` and all its accesses use `atomicLoad`/`atomicStore`;
//! - `threadIdx.x` is `i32(local_invocation_index)`, `blockIdx`/`gridDim` are
//!   `workgroup_id`/`num_workgroups`;
//! - a barrier is `workgroupBarrier(); storageBarrier();`;
//! - a `for` loop runs a hidden counter from `start` while `< end` (`end` and `step` bound
//!   once, as the thread IR evaluates them once) and assigns the loop variable from it;
//! - within one statement, an expression node used more than once (that is not a leaf) is
//!   bound to a `let` first; binary operators are fully parenthesized below the top level;
//!   `select(c, a, b)` is printed `select(b, a, c)` (WGSL's argument order);
//! - one statement per line, 4-space indentation.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write};

use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;

use super::namer::Namer;
use super::Bindings;
use crate::error::LowerError;
use crate::thread_ir::{
    BinaryOp, BufferKind, Const, Expr, ExprId, LocalRef, MemRef, ParamKind, Space, Special, Stmt,
    ThreadKernel, Ty, UnaryOp,
};

type R<T> = Result<T, LowerError>;

fn illegal(what: impl fmt::Display) -> LowerError {
    LowerError::InvalidProgram(format!(
        "{what} is not WGSL-legal (run legalize_wgsl before emit_wgsl)"
    ))
}

fn fmt_err(_: fmt::Error) -> LowerError {
    LowerError::Internal("formatting the WGSL text failed".into())
}

/// The WGSL spelling of a legal register type.
fn ty_name(t: Ty) -> R<&'static str> {
    match t {
        Ty::Bool => Ok("bool"),
        Ty::I32 => Ok("i32"),
        Ty::U32 => Ok("u32"),
        Ty::F32 => Ok("f32"),
        other => Err(illegal(format!("type {}", other.name()))),
    }
}

/// The WGSL element type of a legal storage dtype.
fn elem_name(d: DType) -> R<&'static str> {
    match d {
        DType::Int {
            bits: 32,
            signed: true,
        } => Ok("i32"),
        DType::Int {
            bits: 32,
            signed: false,
        } => Ok("u32"),
        DType::F32 => Ok("f32"),
        other => Err(illegal(format!("storage of {other}"))),
    }
}

fn zero_of(d: DType) -> R<&'static str> {
    Ok(match elem_name(d)? {
        "i32" => "0i",
        "f32" => "0.0f",
        _ => "0u",
    })
}

/// Whether an expression is printed inline even when used several times.
fn is_leaf(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Const(_) | Expr::Param(_) | Expr::Special(_) | Expr::Var(_) | Expr::Local { .. }
    )
}

/// Prints one legalized kernel as a WGSL module.
pub struct Writer<'a, W: Write> {
    out: W,
    k: &'a ThreadKernel,
    bindings: &'a Bindings,
    namer: Namer,
    buffers: Vec<String>,
    shared: Vec<String>,
    locals: Vec<String>,
    vars: Vec<String>,
    params: Vec<String>,
    scalars: String,
    entry: String,
    builtins: [String; 3],
    atomic_buffers: HashSet<usize>,
    atomic_shared: HashSet<usize>,
    bound: HashMap<ExprId, String>,
    indent: usize,
}

impl<'a, W: Write> Writer<'a, W> {
    /// A writer for `k` with the given binding layout; names every entity.
    pub fn new(out: W, k: &'a ThreadKernel, bindings: &'a Bindings) -> Self {
        let mut namer = Namer::new();
        let entry = namer.name(&k.name);
        let scalars = namer.name("scalars");
        let builtins = [namer.name("lid"), namer.name("wid"), namer.name("nwg")];
        let buffers = k.buffers.iter().map(|(_, b)| namer.name(&b.name)).collect();
        let shared = k.shared.iter().map(|(_, s)| namer.name(&s.name)).collect();
        let params = k.params.iter().map(|p| namer.name(&p.name)).collect();
        let locals = k.locals.iter().map(|(_, l)| namer.name(&l.name)).collect();
        let vars = k.vars.iter().map(|(_, v)| namer.name(&v.name)).collect();
        let mut atomic_buffers = HashSet::new();
        let mut atomic_shared = HashSet::new();
        collect_atomics(&k.body, &mut atomic_buffers, &mut atomic_shared);
        Writer {
            out,
            k,
            bindings,
            namer,
            buffers,
            shared,
            locals,
            vars,
            params,
            scalars,
            entry,
            builtins,
            atomic_buffers,
            atomic_shared,
            bound: HashMap::new(),
            indent: 0,
        }
    }

    /// The entry point's name.
    pub fn entry_point(&self) -> &str {
        &self.entry
    }

    /// Consumes the writer, giving back its output.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&mut self, s: &str) -> R<()> {
        for _ in 0..self.indent {
            self.out.write_str("    ").map_err(fmt_err)?;
        }
        self.out.write_str(s).map_err(fmt_err)?;
        self.out.write_char('\n').map_err(fmt_err)
    }

    /// Writes the whole module: header, global declarations, the entry point.
    pub fn write_module(&mut self) -> R<()> {
        self.write_header()?;
        self.write_globals()?;
        self.line("")?;
        self.write_entry()
    }

    /// A comment naming the kernel and its bindings.
    pub fn write_header(&mut self) -> R<()> {
        let k = self.k;
        self.line(&format!(
            "// tilus kernel `{}`: {} threads per workgroup. Generated by tilus-lower; do not edit.",
            k.name, k.num_threads
        ))
    }

    /// Storage buffers, the scalar block and workgroup arrays.
    pub fn write_globals(&mut self) -> R<()> {
        let k = self.k;
        for (i, (h, b)) in k.buffers.iter().enumerate() {
            let Some(binding) = self.bindings.buffer_binding.get(i).copied().flatten() else {
                return Err(illegal(format!("buffer @{} without a binding", b.name)));
            };
            let elem = elem_name(b.dtype)?;
            let atomic = self.atomic_buffers.contains(&i);
            let access = if k.writes_buffer(h) {
                "read_write"
            } else {
                "read"
            };
            let ty = if atomic {
                format!("array<atomic<{elem}>>")
            } else {
                format!("array<{elem}>")
            };
            let what = match (
                &b.kind,
                self.k
                    .params
                    .iter()
                    .find(|p| p.kind == ParamKind::Pointer(h)),
            ) {
                (BufferKind::Workspace { .. }, _) => "workspace".to_string(),
                (_, Some(p)) => format!("{}", p.dtype.unwrap_or(b.dtype)),
                _ => String::new(),
            };
            self.line(&format!(
                "@group(0) @binding({binding}) var<storage, {access}> {}: {ty}; // {what}",
                self.buffers[i]
            ))?;
        }
        if self.bindings.scalar_words > 0 {
            self.line(&format!(
                "@group(0) @binding({}) var<storage, read> {}: array<u32>;",
                self.bindings.scalars_binding, self.scalars
            ))?;
        }
        for (i, (_, s)) in k.shared.iter().enumerate() {
            let elem = elem_name(s.dtype)?;
            let len = s.len.max(1);
            let ty = if self.atomic_shared.contains(&i) {
                format!("array<atomic<{elem}>, {len}>")
            } else {
                format!("array<{elem}, {len}>")
            };
            self.line(&format!("var<workgroup> {}: {ty};", self.shared[i]))?;
        }
        Ok(())
    }

    /// The entry point: builtins, scalar parameters, variables, local arrays, the body.
    pub fn write_entry(&mut self) -> R<()> {
        let k = self.k;
        let [lid, wid, nwg] = self.builtins.clone();
        self.line(&format!(
            "@compute @workgroup_size({}, 1, 1)",
            k.num_threads
        ))?;
        self.line(&format!(
            "fn {}(@builtin(local_invocation_index) {lid}: u32, @builtin(workgroup_id) {wid}: vec3<u32>, @builtin(num_workgroups) {nwg}: vec3<u32>) {{",
            self.entry
        ))?;
        self.indent += 1;
        for (i, p) in k.params.iter().enumerate() {
            if let ParamKind::Scalar(t) = p.kind {
                let Some(word) = self.bindings.scalar_word.get(i).copied().flatten() else {
                    return Err(illegal(format!(
                        "parameter #{} without a scalar word",
                        p.name
                    )));
                };
                let raw = format!("{}[{word}]", self.scalars);
                let value = match t {
                    Ty::U32 => raw,
                    Ty::I32 | Ty::F32 => format!("bitcast<{}>({raw})", ty_name(t)?),
                    other => {
                        return Err(illegal(format!(
                            "scalar parameter of type {}",
                            other.name()
                        )))
                    }
                };
                self.line(&format!("let {} = {value};", self.params[i]))?;
            }
        }
        for (i, (_, v)) in k.vars.iter().enumerate() {
            self.line(&format!("var {}: {};", self.vars[i], ty_name(v.ty)?))?;
        }
        for (i, (_, l)) in k.locals.iter().enumerate() {
            self.line(&format!(
                "var {}: array<{}, {}>;",
                self.locals[i],
                elem_name(l.dtype)?,
                l.len.max(1)
            ))?;
        }
        self.write_block(&k.body)?;
        self.indent -= 1;
        self.line("}")
    }

    /// A statement list.
    pub fn write_block(&mut self, body: &[Stmt]) -> R<()> {
        body.iter().try_for_each(|s| self.write_stmt(s))
    }

    /// One statement (with the `let`s of its shared subexpressions first).
    pub fn write_stmt(&mut self, s: &Stmt) -> R<()> {
        self.bound.clear();
        match s {
            Stmt::Assign { var, value } => {
                self.write_lets(&[(*value, 1)])?;
                let name = self.var_name(var.index())?;
                let v = self.expr(*value)?;
                self.line(&format!("{name} = {v};"))
            }
            Stmt::SetLocal { dst, value } => {
                self.write_lets(&[(*value, 1)])?;
                let slot = self.slot(*dst, 0)?;
                let v = self.expr(*value)?;
                self.line(&format!("{slot} = {v};"))
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => self.write_load(*dst, *src, *width, *mask),
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => self.write_store(*dst, *src, *width, *mask),
            Stmt::Atomic { op, dst, value } => {
                self.write_lets(&[(dst.index, 1), (*value, 1)])?;
                let ptr = self.element(*dst, 0)?;
                let v = self.expr(*value)?;
                let f = match op {
                    crate::thread_ir::AtomicOp::And => "atomicAnd",
                    crate::thread_ir::AtomicOp::Or => "atomicOr",
                };
                self.line(&format!("{f}(&{ptr}, {v});"))
            }
            Stmt::Barrier => {
                self.line("workgroupBarrier();")?;
                self.line("storageBarrier();")
            }
            Stmt::SharedBarrier => self.line("workgroupBarrier();"),
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => self.write_for(var.index(), *start, *end, *step, body),
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                self.write_lets(&[(*cond, 1)])?;
                let c = self.expr(*cond)?;
                self.line(&format!("if {c} {{"))?;
                self.indent += 1;
                self.write_block(then_body)?;
                self.indent -= 1;
                if !else_body.is_empty() {
                    self.line("} else {")?;
                    self.indent += 1;
                    self.write_block(else_body)?;
                    self.indent -= 1;
                }
                self.line("}")
            }
            Stmt::View { .. } => Err(illegal("`view`")),
            Stmt::CopyAsync { .. } | Stmt::CommitGroup | Stmt::WaitGroup(_) | Stmt::WaitAll => {
                Err(illegal("`cp.async`"))
            }
            Stmt::Mma { .. } => Err(illegal("`mma`")),
            Stmt::LdMatrix { .. } => Err(illegal("`ldmatrix`")),
            Stmt::Shuffle { .. } => Err(illegal("a warp shuffle")),
            Stmt::SemAcquire { .. } | Stmt::SemRelease { .. } => Err(illegal("a semaphore")),
        }
    }

    fn write_for(
        &mut self,
        var: usize,
        start: ExprId,
        end: ExprId,
        step: ExprId,
        body: &[Stmt],
    ) -> R<()> {
        self.write_lets(&[(start, 1), (end, 2), (step, 2)])?;
        let name = self.var_name(var)?;
        let once = |w: &mut Self, e: ExprId, what: &str| -> R<String> {
            let v = w.expr(e)?;
            if w.k.exprs.try_get(e).is_some_and(is_leaf)
                && !matches!(
                    w.k.exprs.try_get(e),
                    Some(Expr::Var(_) | Expr::Local { .. })
                )
            {
                return Ok(v);
            }
            if w.bound.contains_key(&e) {
                return Ok(v);
            }
            let n = w.namer.name(&format!("{name}_{what}"));
            w.line(&format!("let {n} = {v};"))?;
            Ok(n)
        };
        let end_s = once(self, end, "end")?;
        let step_s = once(self, step, "step")?;
        let start_s = self.expr(start)?;
        let it = self.namer.name(&format!("{name}_it"));
        self.line(&format!(
            "for (var {it}: i32 = {start_s}; {it} < {end_s}; {it} = {it} + {step_s}) {{"
        ))?;
        self.indent += 1;
        self.line(&format!("{name} = {it};"))?;
        self.write_block(body)?;
        self.indent -= 1;
        self.line("}")
    }

    fn write_load(
        &mut self,
        dst: LocalRef,
        src: MemRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let mut roots = vec![(src.index, width)];
        roots.extend(mask.map(|m| (m, 1)));
        self.write_lets(&roots)?;
        let atomic = self.is_atomic(src.space);
        let mut lines = Vec::new();
        for j in 0..width {
            let el = self.element(src, j)?;
            let read = if atomic {
                format!("atomicLoad(&{el})")
            } else {
                el
            };
            lines.push(format!("{} = {read};", self.slot(dst, j)?));
        }
        match mask {
            None => lines.iter().try_for_each(|l| self.line(l)),
            Some(m) => {
                let c = self.expr(m)?;
                let dtype = self
                    .k
                    .locals
                    .try_get(dst.array)
                    .map(|l| l.dtype)
                    .ok_or_else(|| illegal("a load into a dangling array"))?;
                let zero = zero_of(dtype)?;
                self.line(&format!("if {c} {{"))?;
                self.indent += 1;
                lines.iter().try_for_each(|l| self.line(l))?;
                self.indent -= 1;
                self.line("} else {")?;
                self.indent += 1;
                for j in 0..width {
                    let slot = self.slot(dst, j)?;
                    self.line(&format!("{slot} = {zero};"))?;
                }
                self.indent -= 1;
                self.line("}")
            }
        }
    }

    fn write_store(
        &mut self,
        dst: MemRef,
        src: LocalRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let mut roots = vec![(dst.index, width)];
        roots.extend(mask.map(|m| (m, 1)));
        self.write_lets(&roots)?;
        let atomic = self.is_atomic(dst.space);
        let mut lines = Vec::new();
        for j in 0..width {
            let el = self.element(dst, j)?;
            let v = self.slot(src, j)?;
            lines.push(if atomic {
                format!("atomicStore(&{el}, {v});")
            } else {
                format!("{el} = {v};")
            });
        }
        match mask {
            None => lines.iter().try_for_each(|l| self.line(l)),
            Some(m) => {
                let c = self.expr(m)?;
                self.line(&format!("if {c} {{"))?;
                self.indent += 1;
                lines.iter().try_for_each(|l| self.line(l))?;
                self.indent -= 1;
                self.line("}")
            }
        }
    }

    /// Binds every non-leaf node used more than once by the roots (each root counted with
    /// its multiplicity) to a `let`, operands first.
    fn write_lets(&mut self, roots: &[(ExprId, u32)]) -> R<()> {
        let mut uses: HashMap<ExprId, u32> = HashMap::new();
        let mut seen: HashSet<ExprId> = HashSet::new();
        let mut stack: Vec<ExprId> = Vec::new();
        for &(r, m) in roots {
            *uses.entry(r).or_default() += m;
            stack.push(r);
        }
        while let Some(e) = stack.pop() {
            if !seen.insert(e) {
                continue;
            }
            for c in self
                .k
                .exprs
                .try_get(e)
                .map(Expr::operands)
                .unwrap_or_default()
            {
                *uses.entry(c).or_default() += 1;
                stack.push(c);
            }
        }
        let mut shared: Vec<ExprId> = uses
            .into_iter()
            .filter(|&(e, n)| n >= 2 && self.k.exprs.try_get(e).is_some_and(|x| !is_leaf(x)))
            .map(|(e, _)| e)
            .collect();
        shared.sort_by_key(|e| e.index());
        for e in shared {
            let v = self.expr(e)?;
            let name = self.namer.name(&format!("t{}", e.index()));
            self.line(&format!("let {name} = {v};"))?;
            self.bound.insert(e, name);
        }
        Ok(())
    }

    fn var_name(&self, i: usize) -> R<String> {
        self.vars
            .get(i)
            .cloned()
            .ok_or_else(|| illegal("a dangling variable"))
    }

    fn slot(&self, r: LocalRef, j: u32) -> R<String> {
        let name = self
            .locals
            .get(r.array.index())
            .ok_or_else(|| illegal("a dangling local array"))?;
        Ok(format!("{name}[{}]", r.slot + j))
    }

    fn is_atomic(&self, space: Space) -> bool {
        match space {
            Space::Global(b) => self.atomic_buffers.contains(&b.index()),
            Space::Shared(s) => self.atomic_shared.contains(&s.index()),
        }
    }

    /// `name[index + j]`.
    fn element(&mut self, m: MemRef, j: u32) -> R<String> {
        let name = match m.space {
            Space::Global(b) => self.buffers.get(b.index()),
            Space::Shared(s) => self.shared.get(s.index()),
        }
        .cloned()
        .ok_or_else(|| illegal("a dangling memory space"))?;
        let index = self.expr(m.index)?;
        Ok(if j == 0 {
            format!("{name}[{index}]")
        } else {
            format!("{name}[{} + {j}i]", self.sub_expr(m.index)?)
        })
    }

    /// An expression at the top level of its context (outer parentheses dropped).
    fn expr(&self, e: ExprId) -> R<String> {
        self.expr_in(e, true)
    }

    /// An expression as an operand (parenthesized when compound).
    fn sub_expr(&self, e: ExprId) -> R<String> {
        self.expr_in(e, false)
    }

    fn expr_in(&self, e: ExprId, top: bool) -> R<String> {
        if let Some(name) = self.bound.get(&e) {
            return Ok(name.clone());
        }
        let node = *self
            .k
            .exprs
            .try_get(e)
            .ok_or_else(|| illegal("a dangling expression"))?;
        let call = |w: &Self, f: &str, args: &[ExprId]| -> R<String> {
            let args = args.iter().map(|&a| w.expr(a)).collect::<R<Vec<_>>>()?;
            Ok(format!("{f}({})", args.join(", ")))
        };
        Ok(match node {
            Expr::Const(c) => {
                let s = const_str(c)?;
                if !top && s.starts_with('-') {
                    format!("({s})")
                } else {
                    s
                }
            }
            Expr::Param(i) => self
                .params
                .get(i as usize)
                .cloned()
                .ok_or_else(|| illegal("a dangling parameter"))?,
            Expr::Special(s) => {
                let [lid, wid, nwg] = &self.builtins;
                match s {
                    Special::ThreadIdx => format!("i32({lid})"),
                    Special::BlockIdx(a) => format!("i32({wid}.{})", axis(a)),
                    Special::GridDim(a) => format!("i32({nwg}.{})", axis(a)),
                }
            }
            Expr::Var(v) => self.var_name(v.index())?,
            Expr::Local { array, slot } => self.slot(LocalRef { array, slot }, 0)?,
            Expr::Unary(op, a) => {
                let t = self
                    .k
                    .ty(a)
                    .ok_or_else(|| illegal("an untyped expression"))?;
                let x = self.expr(a)?;
                match op {
                    UnaryOp::Neg if t == Ty::U32 => format!("(0u - ({x}))"),
                    UnaryOp::Neg => format!("(-({x}))"),
                    UnaryOp::Not if t == Ty::Bool => format!("(!({x}))"),
                    UnaryOp::Not => format!("(~({x}))"),
                    UnaryOp::Abs => format!("abs({x})"),
                    UnaryOp::Exp => format!("exp({x})"),
                    UnaryOp::Exp2 => format!("exp2({x})"),
                    UnaryOp::Log => format!("log({x})"),
                    UnaryOp::Sqrt => format!("sqrt({x})"),
                    UnaryOp::Round => format!("round({x})"),
                    UnaryOp::Floor => format!("floor({x})"),
                    UnaryOp::Ceil => format!("ceil({x})"),
                    UnaryOp::Rsqrt | UnaryOp::Sigmoid => {
                        return Err(illegal(format!("`{}`", op.name())))
                    }
                }
            }
            Expr::Binary(op, a, b) => {
                let t = self
                    .k
                    .ty(a)
                    .ok_or_else(|| illegal("an untyped expression"))?;
                if t == Ty::F32 && matches!(op, BinaryOp::Min | BinaryOp::Max | BinaryOp::Rem) {
                    return Err(illegal(format!("float `{}`", op.symbol())));
                }
                if matches!(op, BinaryOp::Shl | BinaryOp::Shr) && self.k.ty(b) != Some(Ty::U32) {
                    return Err(illegal("a shift by a non-u32 amount"));
                }
                if op.is_call() {
                    call(self, op.symbol(), &[a, b])?
                } else {
                    let sym = if op == BinaryOp::Xor && t == Ty::Bool {
                        "!="
                    } else {
                        op.symbol()
                    };
                    let s = format!("{} {sym} {}", self.sub_expr(a)?, self.sub_expr(b)?);
                    if top {
                        s
                    } else {
                        format!("({s})")
                    }
                }
            }
            Expr::Select(c, a, b) => call(self, "select", &[b, a, c])?,
            Expr::Fma(a, b, c) => call(self, "fma", &[a, b, c])?,
            Expr::Cast(t, a) => format!("{}({})", ty_name(t)?, self.expr(a)?),
            Expr::Bitcast(t, a) => format!("bitcast<{}>({})", ty_name(t)?, self.expr(a)?),
            // The native conversion legalization kept (the target's probe proved it exact).
            Expr::Decode(DType::F16, a) => format!("unpack2x16float({}).x", self.expr(a)?),
            Expr::Decode(..) | Expr::Encode(..) => return Err(illegal("a float codec")),
        })
    }
}

fn axis(a: Axis) -> &'static str {
    a.name()
}

/// A constant's WGSL literal (exact; `bitcast` for values without a plain literal).
fn const_str(c: Const) -> R<String> {
    Ok(match c {
        Const::Bool(b) => b.to_string(),
        Const::I32(i32::MIN) => "bitcast<i32>(0x80000000u)".to_string(),
        Const::I32(v) => format!("{v}i"),
        Const::U32(v) if v < 0x1_0000 => format!("{v}u"),
        Const::U32(v) => format!("0x{v:x}u"),
        Const::F32(bits) => {
            let x = f32::from_bits(bits);
            let s = format!("{x:?}");
            // Decimal only when the text is exactly the value (any parser then agrees).
            let exact = (x.is_normal() || bits == 0) && s.parse::<f64>() == Ok(f64::from(x));
            if exact {
                let s = if s.contains(['.', 'e']) {
                    s
                } else {
                    format!("{s}.0")
                };
                format!("{s}f")
            } else {
                format!("bitcast<f32>(0x{bits:08x}u)")
            }
        }
        other => return Err(illegal(format!("a {} constant", other.ty().name()))),
    })
}

fn collect_atomics(body: &[Stmt], buffers: &mut HashSet<usize>, shared: &mut HashSet<usize>) {
    for s in body {
        match s {
            Stmt::Atomic { dst, .. } => match dst.space {
                Space::Global(b) => {
                    buffers.insert(b.index());
                }
                Space::Shared(h) => {
                    shared.insert(h.index());
                }
            },
            Stmt::For { body, .. } => collect_atomics(body, buffers, shared),
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                collect_atomics(then_body, buffers, shared);
                collect_atomics(else_body, buffers, shared);
            }
            _ => {}
        }
    }
}
