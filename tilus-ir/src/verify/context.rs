//! The state of checking one function: the current site (for error messages), scopes of
//! tensors and variables, definitions, frees, and what was already reported.
//!
//! Built after the handle pass, so everything here indexes arenas directly.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use crate::expr::{Expr, ExprId};
use crate::inst::InstKind;
use crate::program::{Function, InstId, Loc, Out, TensorId, TensorType, VarId, VarKind};

use super::exprs::{const_int, fmt_expr, ExprTypes};
use super::handles::expr_children;
use super::{FunctionInfo, VerifyError};

/// What an error is about: an instruction, a statement, or the kernel itself.
#[derive(Clone, Debug, Default)]
struct Site {
    inst: Option<String>,
    target: Option<String>,
    loc: Option<Loc>,
}

/// Where a known layout comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LayoutSource {
    /// The tensor's type.
    Declared,
    /// An `annotate_layout` or the `view` that defines the tensor.
    Inst(InstId),
}

/// A block being checked (`for` or `if` body): what it defines goes out of scope with it.
struct Frame {
    what: &'static str,
    loc: Option<Loc>,
    tensors: Vec<TensorId>,
    vars: Vec<VarId>,
}

/// The checking state of one function.
pub(super) struct Checker<'a> {
    /// The function.
    pub f: &'a Function,
    /// Types of its scalar expressions.
    pub types: ExprTypes,
    /// What later stages get.
    pub info: FunctionInfo,
    /// Loop nesting at the current statement.
    pub loop_depth: usize,
    /// Loop nesting at each tensor's definition.
    pub def_depth: HashMap<TensorId, usize>,
    /// Shared tensors (slice roots) freed so far on some path, and by which instruction.
    pub freed: HashMap<TensorId, InstId>,
    /// The `alloc_shared` instructions seen (each must be freed).
    pub allocated_shared: Vec<InstId>,
    /// Where each known register layout comes from (first source in program order).
    pub layout_sources: HashMap<TensorId, LayoutSource>,
    /// Where each known shared layout comes from.
    pub shared_layout_sources: HashMap<TensorId, LayoutSource>,
    /// Expressions whose own error was reported.
    pub reported_exprs: HashSet<ExprId>,
    /// Variables reported out of scope.
    pub reported_vars: HashSet<VarId>,
    /// Variables bound by a `for` or `let` so far.
    pub bound_vars: HashSet<VarId>,
    errors: Vec<VerifyError>,
    site: Site,
    first_def: HashMap<TensorId, InstId>,
    visible_tensors: HashSet<TensorId>,
    visible_vars: HashSet<VarId>,
    frames: Vec<Frame>,
    left_scope: HashMap<TensorId, (&'static str, Option<Loc>)>,
    reported_tensors: HashSet<TensorId>,
}

impl<'a> Checker<'a> {
    /// Prepares the checking of `f` (handles already valid; `order` lists expressions with
    /// operands first): types expressions and scans the body for definitions, slices and
    /// layouts, which later checks consult regardless of program order.
    pub(super) fn new(f: &'a Function, order: &[ExprId], errors: Vec<VerifyError>) -> Self {
        let mut cx = Checker {
            f,
            types: ExprTypes::compute(f, order),
            info: FunctionInfo::default(),
            loop_depth: 0,
            def_depth: HashMap::new(),
            freed: HashMap::new(),
            allocated_shared: Vec::new(),
            layout_sources: HashMap::new(),
            shared_layout_sources: HashMap::new(),
            reported_exprs: HashSet::new(),
            reported_vars: HashSet::new(),
            bound_vars: HashSet::new(),
            errors,
            site: Site {
                loc: f.loc,
                ..Site::default()
            },
            first_def: HashMap::new(),
            visible_tensors: HashSet::new(),
            visible_vars: f.params.iter().copied().collect(),
            frames: Vec::new(),
            left_scope: HashMap::new(),
            reported_tensors: HashSet::new(),
        };
        for (t, tensor) in f.tensors.iter() {
            match tensor.ty {
                TensorType::Register {
                    layout: Some(l), ..
                } => {
                    cx.info.register_layouts.insert(t, l);
                    cx.layout_sources.insert(t, LayoutSource::Declared);
                }
                TensorType::Shared {
                    layout: Some(l), ..
                } => {
                    cx.info.shared_layouts.insert(t, l);
                    cx.shared_layout_sources.insert(t, LayoutSource::Declared);
                }
                _ => {}
            }
        }
        let mut scan = Vec::new();
        f.for_each_inst(|i| scan.push(i));
        for i in scan {
            let inst = &f.insts[i];
            if let (Some(Out::New(t)), true) = (inst.out, inst.kind.has_result()) {
                cx.first_def.entry(t).or_insert(i);
            }
            match (&inst.kind, inst.out) {
                (InstKind::Slice { src, .. }, Some(Out::New(t))) => {
                    cx.info.slice_sources.entry(t).or_insert(*src);
                }
                (InstKind::View { layout, .. }, Some(Out::New(t))) => {
                    cx.scan_layout(t, *layout, i);
                }
                (InstKind::AnnotateLayout { layout, tensor }, _) => {
                    cx.scan_layout(*tensor, *layout, i);
                }
                (InstKind::AnnotateSharedLayout { layout, tensor }, _) => {
                    if let Entry::Vacant(e) = cx.info.shared_layouts.entry(*tensor) {
                        e.insert(*layout);
                        cx.shared_layout_sources
                            .insert(*tensor, LayoutSource::Inst(i));
                    }
                }
                _ => {}
            }
        }
        cx
    }

    fn scan_layout(&mut self, t: TensorId, layout: crate::program::LayoutId, i: InstId) {
        if let Entry::Vacant(e) = self.info.register_layouts.entry(t) {
            e.insert(layout);
            self.layout_sources.insert(t, LayoutSource::Inst(i));
        }
    }

    /// The facts and errors found.
    pub(super) fn finish(mut self) -> (FunctionInfo, Vec<VerifyError>) {
        // Every shared tile is released (docs/ir.md): a missing `free_shared` would keep
        // its shared memory for the rest of the kernel.
        for &id in &self.allocated_shared {
            let inst = &self.f.insts[id];
            let Some(out) = inst.out else { continue };
            let t = out.tensor();
            if !self.freed.contains_key(&t) {
                self.errors.push(VerifyError {
                    function: self.f.name.clone(),
                    inst: Some("alloc_shared".into()),
                    target: Some(self.name(t)),
                    loc: inst.loc,
                    message: format!(
                        "{} is never freed: every `alloc_shared` needs a `free_shared`",
                        self.name(t)
                    ),
                });
            }
        }
        self.info.expr_types = self.types.into_map();
        (self.info, self.errors)
    }

    // ---- sites and errors ----

    /// Reports `message` about the current site.
    pub(super) fn error(&mut self, message: String) {
        self.errors.push(VerifyError {
            function: self.f.name.clone(),
            inst: self.site.inst.clone(),
            target: self.site.target.clone(),
            loc: self.site.loc,
            message,
        });
    }

    /// Errors now concern the kernel itself (launch attributes, declarations).
    pub(super) fn at_kernel(&mut self) {
        self.site = Site {
            inst: None,
            target: None,
            loc: self.f.loc,
        };
    }

    /// Errors now concern the declaration of tensor `t`: its defining instruction when it
    /// has one (so that parsed programs get its line), else the kernel.
    pub(super) fn at_definition(&mut self, t: TensorId) {
        match self.first_def.get(&t) {
            Some(&i) => self.at_inst(i),
            None => self.at_kernel(),
        }
    }

    /// Errors now concern instruction `i`.
    pub(super) fn at_inst(&mut self, i: InstId) {
        let inst = &self.f.insts[i];
        self.site = Site {
            inst: Some(inst.kind.name().to_string()),
            target: inst.out.map(|o| self.name(o.tensor())),
            loc: inst.loc,
        };
    }

    /// Errors now concern a statement (`for`, `if`, `let`, `assign`) about variable `var`.
    pub(super) fn at_stmt(&mut self, what: &str, var: Option<VarId>, loc: Option<Loc>) {
        self.site = Site {
            inst: Some(what.to_string()),
            target: var.map(|v| self.f.vars[v].name.clone()),
            loc,
        };
    }

    /// `%name` of a tensor.
    pub(super) fn name(&self, t: TensorId) -> String {
        format!("%{}", self.f.tensors[t].name)
    }

    /// ` at line N` for an instruction with a position, else empty.
    pub(super) fn at_line(&self, i: InstId) -> String {
        self.f.insts[i]
            .loc
            .map_or_else(String::new, |l| format!(" at line {}", l.line))
    }

    /// `` `mnemonic` at line N `` for an instruction.
    pub(super) fn describe_inst(&self, i: InstId) -> String {
        format!("`{}`{}", self.f.insts[i].kind.name(), self.at_line(i))
    }

    /// A tensor type in messages: `register f16[16, 16]`, `global f32[m, n]`.
    pub(super) fn describe_type(&self, ty: &TensorType) -> String {
        match ty {
            TensorType::Register { dtype, shape, .. } => format!("register {dtype}{shape:?}"),
            TensorType::Shared { dtype, shape, .. } => format!("shared {dtype}{shape:?}"),
            TensorType::Global {
                dtype,
                shape,
                strides,
            } => {
                let list = |es: &[ExprId]| {
                    es.iter()
                        .map(|&e| fmt_expr(self.f, e))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match strides {
                    None => format!("global {dtype}[{}]", list(shape)),
                    Some(s) => format!("global {dtype}[{}] strides [{}]", list(shape), list(s)),
                }
            }
        }
    }

    /// Whether two tensor types agree (kind, dtype, shape and strides; layouts aside).
    pub(super) fn same_type(&self, a: &TensorType, b: &TensorType) -> bool {
        match (a, b) {
            (
                TensorType::Register {
                    dtype: d1,
                    shape: s1,
                    ..
                },
                TensorType::Register {
                    dtype: d2,
                    shape: s2,
                    ..
                },
            )
            | (
                TensorType::Shared {
                    dtype: d1,
                    shape: s1,
                    ..
                },
                TensorType::Shared {
                    dtype: d2,
                    shape: s2,
                    ..
                },
            ) => d1 == d2 && s1 == s2,
            (
                TensorType::Global {
                    dtype: d1,
                    shape: s1,
                    strides: t1,
                },
                TensorType::Global {
                    dtype: d2,
                    shape: s2,
                    strides: t2,
                },
            ) => {
                let list_eq = |x: &[ExprId], y: &[ExprId]| {
                    x.len() == y.len() && x.iter().zip(y).all(|(&a, &b)| self.expr_eq(a, b))
                };
                d1 == d2
                    && list_eq(s1, s2)
                    && match (t1, t2) {
                        (None, None) => true,
                        (Some(x), Some(y)) => list_eq(x, y),
                        _ => false,
                    }
            }
            _ => false,
        }
    }

    /// Structural equality of expressions (the same handle, or equal nodes).
    pub(super) fn expr_eq(&self, a: ExprId, b: ExprId) -> bool {
        let mut stack = vec![(a, b)];
        let mut steps = 0usize;
        while let Some((a, b)) = stack.pop() {
            if a == b {
                continue;
            }
            steps += 1;
            if steps > 10_000 {
                return false;
            }
            let (ea, eb) = (&self.f.exprs[a], &self.f.exprs[b]);
            match (ea, eb) {
                (Expr::Unary(o1, x), Expr::Unary(o2, y)) if o1 == o2 => stack.push((*x, *y)),
                (Expr::Cast(t1, x), Expr::Cast(t2, y)) if t1 == t2 => stack.push((*x, *y)),
                (Expr::Binary(o1, x1, y1), Expr::Binary(o2, x2, y2)) if o1 == o2 => {
                    stack.push((*x1, *x2));
                    stack.push((*y1, *y2));
                }
                (Expr::Select(c1, x1, y1), Expr::Select(c2, x2, y2)) => {
                    stack.push((*c1, *c2));
                    stack.push((*x1, *x2));
                    stack.push((*y1, *y2));
                }
                (Expr::Unary(..), _)
                | (Expr::Cast(..), _)
                | (Expr::Binary(..), _)
                | (Expr::Select(..), _) => return false,
                (x, y) => {
                    if x != y {
                        return false;
                    }
                }
            }
        }
        true
    }

    // ---- scopes ----

    /// Enters the body of a `for` or `if`.
    pub(super) fn enter(&mut self, what: &'static str, loc: Option<Loc>) {
        self.frames.push(Frame {
            what,
            loc,
            tensors: Vec::new(),
            vars: Vec::new(),
        });
    }

    /// Leaves the innermost body: what it defined is no longer visible.
    pub(super) fn leave(&mut self) {
        if let Some(frame) = self.frames.pop() {
            for t in frame.tensors {
                self.visible_tensors.remove(&t);
                self.left_scope.insert(t, (frame.what, frame.loc));
            }
            for v in frame.vars {
                self.visible_vars.remove(&v);
            }
        }
    }

    /// Makes a loop or `let` variable visible until the end of the current block.
    pub(super) fn bind_var(&mut self, v: VarId) {
        self.visible_vars.insert(v);
        if let Some(frame) = self.frames.last_mut() {
            frame.vars.push(v);
        }
    }

    /// Whether a variable may be used here.
    pub(super) fn var_visible(&self, v: VarId) -> bool {
        self.visible_vars.contains(&v)
    }

    /// Records that instruction `i` defines tensor `t` here.
    pub(super) fn define(&mut self, t: TensorId, i: InstId) {
        match self.first_def.get(&t) {
            Some(&first) if first != i => {
                let msg = format!(
                    "{} is defined twice (first by {}); every tensor has one defining instruction \
                     (use `<-` to overwrite a register tensor)",
                    self.name(t),
                    self.describe_inst(first)
                );
                self.error(msg);
                return;
            }
            _ => {}
        }
        self.visible_tensors.insert(t);
        self.left_scope.remove(&t);
        self.def_depth.insert(t, self.loop_depth);
        self.info.defining_inst.insert(t, i);
        if let Some(frame) = self.frames.last_mut() {
            frame.tensors.push(t);
        }
    }

    /// The tensor owning the memory `t` refers to and the indices that select `t` in it
    /// (outermost slice first; empty for the owner itself).
    pub(super) fn slice_path(&self, t: TensorId) -> (TensorId, Vec<ExprId>) {
        let mut chain = Vec::new();
        let mut cur = t;
        for _ in 0..=self.f.tensors.len() {
            let Some(&src) = self.info.slice_sources.get(&cur) else {
                break;
            };
            if let Some(InstKind::Slice { indices, .. }) =
                self.first_def.get(&cur).map(|&i| &self.f.insts[i].kind)
            {
                chain.push(indices.clone());
            }
            cur = src;
        }
        chain.reverse();
        (cur, chain.into_iter().flatten().collect())
    }

    /// Whether two index expressions certainly have the same value wherever both are
    /// evaluated in one block: equal constants, or one expression over parameters, `blockIdx`
    /// and `gridDim` only (loop and `let` variables may change in between).
    pub(super) fn same_value(&self, a: ExprId, b: ExprId) -> bool {
        if let (Some(x), Some(y)) = (const_int(self.f, a), const_int(self.f, b)) {
            return x == y;
        }
        if !self.expr_eq(a, b) {
            return false;
        }
        let mut stack = vec![a];
        while let Some(n) = stack.pop() {
            match &self.f.exprs[n] {
                Expr::Var(v) if self.f.vars[*v].kind != VarKind::Param => return false,
                other => stack.extend(expr_children(other).into_iter().flatten()),
            }
        }
        true
    }

    /// The tensor owning the memory `t` refers to (through slices).
    pub(super) fn root(&self, t: TensorId) -> TensorId {
        self.info.slice_root(t)
    }

    /// Checks that `t` is defined earlier in program order and in an enclosing block;
    /// reports a tensor at most once.
    pub(super) fn use_visible(&mut self, t: TensorId) -> bool {
        if self.visible_tensors.contains(&t) {
            return true;
        }
        if !self.reported_tensors.insert(t) {
            return false;
        }
        let name = self.name(t);
        let msg = if let Some(&(what, loc)) = self.left_scope.get(&t) {
            let line = loc.map_or_else(String::new, |l| format!(" (line {})", l.line));
            let article = if what == "for" { "a" } else { "an" };
            format!(
                "{name} is defined inside {article} `{what}` body{line} and is not visible here"
            )
        } else if let Some(&def) = self.first_def.get(&t) {
            format!(
                "{name} is used before it is defined (by {})",
                self.describe_inst(def)
            )
        } else {
            format!("{name} is never defined: no instruction produces it")
        };
        self.error(msg);
        false
    }

    /// Checks a tensor operand: visible here, and not a shared tile already freed.
    pub(super) fn use_operand(&mut self, t: TensorId) -> bool {
        if !self.use_visible(t) {
            return false;
        }
        let root = self.root(t);
        let Some(&free) = self.freed.get(&root) else {
            return true;
        };
        if self.reported_tensors.insert(root) {
            let via = if root == t {
                String::new()
            } else {
                format!(" ({} is a slice of it)", self.name(t))
            };
            let msg = format!(
                "{} is used after it was freed by {}{via}",
                self.name(root),
                self.describe_inst(free)
            );
            self.error(msg);
        }
        false
    }

    /// The kind of a variable, for messages: `parameter`, `loop variable`, `let variable`.
    pub(super) fn var_kind_name(&self, v: VarId) -> &'static str {
        match self.f.vars[v].kind {
            VarKind::Param => "parameter",
            VarKind::Loop => "loop variable",
            VarKind::Let => "let variable",
        }
    }
}
