//! A generator of random well-typed tile programs, built with the `KernelBuilder`.
//!
//! The generator reads its decisions from a [`Choices`] stream (a vector of random numbers
//! that proptest shrinks; reads past the end give 0, and every loop of the generator has an
//! explicit bound, so any stream gives a finite program). It covers every instruction kind,
//! `for` (with every unroll hint), `if` with and without `else`, `else if`, `let`,
//! assignments, every scalar operator, every dtype, quoted names, and instructions writing
//! into existing tensors (`%t <- …`).
#![allow(dead_code)]

mod tiles;

use proptest::prelude::*;
use tilus_ir::builder::{KernelBuilder, Pointer, Scalar, Tile};
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, BinaryOp, Expr, ScalarType, UnaryOp};
use tilus_ir::inst::{Operand, ReduceOp, TileBinaryOp, TileUnaryOp};
use tilus_ir::layout::{self, RegisterLayout, SharedLayout, Swizzle};
use tilus_ir::program::{Block, Function, Inst, Out, Program, Stmt, Unroll};

/// A stream of decisions.
pub struct Choices {
    data: Vec<u32>,
    pos: usize,
}

impl Choices {
    /// A stream over `data`.
    pub fn new(data: Vec<u32>) -> Self {
        Choices { data, pos: 0 }
    }

    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    /// A number in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.next() as usize % n
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        self.next() % den < num
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

/// The proptest strategy for a decision stream.
pub fn choices() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 0..600)
}

/// A program of one to three kernels from a decision stream.
pub fn program(data: Vec<u32>) -> Program {
    let mut ch = Choices::new(data);
    let n = 1 + ch.below(3);
    let functions = (0..n).map(|i| function(&mut ch, i)).collect();
    Program { functions }
}

const KERNEL_NAMES: [&str; 4] = ["main", "gemm_a16w4", "my kernel", "if"];
const LABELS: [&str; 6] = [
    "",
    "acc",
    "quote \" and \\ backslash",
    "line\nbreak\ttab",
    "ünï ✓",
    "\u{1}ctl",
];

/// One kernel.
pub fn function(ch: &mut Choices, index: usize) -> Function {
    let warps = ch.pick(&[1u32, 2, 4, 8]);
    let name = format!(
        "{}{}",
        ch.pick(&KERNEL_NAMES),
        if index > 0 {
            index.to_string()
        } else {
            String::new()
        }
    );
    let kb = KernelBuilder::new(&name, warps);
    let mut g = Gen {
        kb: &kb,
        ch,
        warps,
        ints: vec![Vec::new()],
        lets: vec![Vec::new()],
        regs: Vec::new(),
        shareds: Vec::new(),
        globals: Vec::new(),
        pointers: Vec::new(),
    };
    g.params();
    let grid: Vec<_> = (0..1 + g.ch.below(3)).map(|_| g.grid_expr()).collect();
    kb.grid(&grid);
    let n = g.ch.below(14);
    g.stmts(n, 0);
    let mut f = match kb.finish() {
        Ok(f) => f,
        Err(e) => panic!("the generator built an ill-typed kernel: {e}"),
    };
    let mut body = std::mem::take(&mut f.body);
    overwrite_pass(&mut f, &mut body, ch);
    f.body = body;
    f
}

/// Inserts, after some instructions `%t = op …` that may write an existing tensor, a copy
/// `%t <- op …` (same operands, so the same type).
fn overwrite_pass(f: &mut Function, block: &mut Block, ch: &mut Choices) {
    let mut out = Vec::with_capacity(block.len());
    for mut stmt in std::mem::take(block) {
        let mut extra = None;
        match &mut stmt {
            Stmt::Inst(i) => {
                let inst = f.insts[*i].clone();
                if let Some(Out::New(t)) = inst.out {
                    if inst.kind.may_write_existing() && ch.chance(1, 3) {
                        let copy = f.insts.alloc(Inst {
                            kind: inst.kind.clone(),
                            out: Some(Out::Existing(t)),
                            loc: None,
                        });
                        extra = Some(Stmt::Inst(copy));
                    }
                }
            }
            Stmt::For { body, .. } => overwrite_pass(f, body, ch),
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                overwrite_pass(f, then_body, ch);
                overwrite_pass(f, else_body, ch);
            }
            Stmt::Let { .. } | Stmt::Assign { .. } => {}
        }
        out.push(stmt);
        out.extend(extra);
    }
    *block = out;
}

struct Gen<'b, 'c> {
    kb: &'b KernelBuilder,
    ch: &'c mut Choices,
    warps: u32,
    /// Integer scalars in scope (parameters, loop variables, integer lets), by scope.
    ints: Vec<Vec<Scalar<'b>>>,
    /// Assignable lets in scope with their types.
    lets: Vec<Vec<(Scalar<'b>, ScalarType)>>,
    regs: Vec<Tile<'b>>,
    shareds: Vec<Tile<'b>>,
    /// Global tensors with their ranks.
    globals: Vec<(Tile<'b>, usize)>,
    pointers: Vec<(Pointer, DType)>,
}

fn all_dtypes() -> Vec<DType> {
    DType::all()
}

/// The number of instruction kinds the generator picks from (`InstKind` has 27 variants;
/// `Unary`, `Binary` and `Reduce` each cover all their operations).
pub const INST_KINDS: usize = 27;

const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

impl<'b> Gen<'b, '_> {
    fn params(&mut self) {
        let scalar_types = [
            ScalarType::I32,
            ScalarType::I64,
            ScalarType::Data(DType::Int {
                bits: 32,
                signed: false,
            }),
            ScalarType::F32,
            ScalarType::Bool,
            ScalarType::Data(DType::F16),
        ];
        let n = self.kb.scalar_param("n", ScalarType::I32);
        self.ints[0].push(n);
        for i in 0..self.ch.below(3) {
            let ty = self.ch.pick(&scalar_types);
            let name = self.ch.pick(&["m", "k", "size", "len", "select", "x y"]);
            let p = self.kb.scalar_param(&format!("{name}{i}"), ty);
            if ty.is_int() {
                self.ints[0].push(p);
            }
        }
        for i in 0..1 + self.ch.below(4) {
            let d = self.ch.pick(&all_dtypes());
            let name = self.ch.pick(&["a", "b", "w", "out", "scales"]);
            let p = self.kb.pointer_param(&format!("{name}{i}"), d);
            self.pointers.push((p, d));
        }
        if self.ch.chance(1, 2) {
            let p = self.kb.pointer_param("sem", I32);
            self.pointers.push((p, I32));
        }
    }

    fn int_var(&mut self) -> Option<Scalar<'b>> {
        let all: Vec<Scalar<'b>> = self.ints.iter().flatten().copied().collect();
        if all.is_empty() {
            None
        } else {
            Some(self.ch.pick(&all))
        }
    }

    fn lit(&mut self) -> Scalar<'b> {
        let v = self
            .ch
            .pick(&[0i64, 1, 2, 3, 7, 32, 128, -1, -17, i64::MAX, i64::MIN]);
        self.kb.int(v)
    }

    fn float_lit(&mut self) -> Scalar<'b> {
        let v = self.ch.pick(&[
            0.0,
            -0.0,
            0.5,
            -2.5,
            1.0,
            3.0e38,
            1e-7,
            -1e300,
            0.1,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1.0 / 3.0,
        ]);
        self.kb.float(v)
    }

    fn e(&self, e: Expr) -> Scalar<'b> {
        self.kb.wrap(self.kb.expr(e))
    }

    /// An expression over parameters and literals (for the grid).
    fn grid_expr(&mut self) -> Scalar<'b> {
        let n = self.ints[0][0];
        match self.ch.below(4) {
            0 => self.kb.int(1 + self.ch.below(8) as i64),
            1 => n.cdiv(self.ch.pick(&[32i64, 64, 128])),
            2 => {
                let m = self.int_var().unwrap_or(n);
                (m + 1) * 2
            }
            _ => n,
        }
    }

    fn int_expr(&mut self, depth: usize) -> Scalar<'b> {
        let k = if depth >= 3 { 3 } else { 9 };
        match self.ch.below(k) {
            0 => self.lit(),
            1 => self.int_var().unwrap_or_else(|| self.kb.int(4)),
            2 => {
                let axis = self.ch.pick(&[Axis::X, Axis::Y, Axis::Z]);
                if self.ch.chance(1, 2) {
                    self.kb.block_idx(axis)
                } else {
                    self.kb.grid_dim(axis)
                }
            }
            3..=5 => {
                let ops: Vec<BinaryOp> = BinaryOp::ALL
                    .iter()
                    .copied()
                    .filter(|o| !o.is_predicate())
                    .collect();
                let op = self.ch.pick(&ops);
                let a = self.int_expr(depth + 1);
                let b = self.int_expr(depth + 1);
                self.e(Expr::Binary(op, a.id, b.id))
            }
            6 => {
                let x = self.int_expr(depth + 1);
                let op = self.ch.pick(&[UnaryOp::Neg, UnaryOp::Not]);
                self.e(Expr::Unary(op, x.id))
            }
            7 => {
                let c = self.bool_expr(depth + 1);
                let a = self.int_expr(depth + 1);
                let b = self.int_expr(depth + 1);
                c.select(a, b)
            }
            _ => {
                let x = self.int_expr(depth + 1);
                x.cast(self.ch.pick(&[ScalarType::I32, ScalarType::I64]))
            }
        }
    }

    fn bool_expr(&mut self, depth: usize) -> Scalar<'b> {
        let k = if depth >= 3 { 2 } else { 5 };
        match self.ch.below(k) {
            0 => {
                let b = self.ch.chance(1, 2);
                self.e(Expr::Bool(b))
            }
            1 => {
                let ops = [
                    BinaryOp::Eq,
                    BinaryOp::Ne,
                    BinaryOp::Lt,
                    BinaryOp::Le,
                    BinaryOp::Gt,
                    BinaryOp::Ge,
                ];
                let op = self.ch.pick(&ops);
                let a = self.int_expr(depth + 1);
                let b = self.int_expr(depth + 1);
                self.e(Expr::Binary(op, a.id, b.id))
            }
            2 => {
                let op = self.ch.pick(&[BinaryOp::And, BinaryOp::Or]);
                let a = self.bool_expr(depth + 1);
                let b = self.bool_expr(depth + 1);
                self.e(Expr::Binary(op, a.id, b.id))
            }
            3 => {
                let x = self.bool_expr(depth + 1);
                self.e(Expr::Unary(UnaryOp::Not, x.id))
            }
            _ => self.int_expr(depth + 1).cast(ScalarType::Bool),
        }
    }

    fn float_expr(&mut self, depth: usize) -> Scalar<'b> {
        match self.ch.below(if depth >= 2 { 1 } else { 4 }) {
            0 => self.float_lit(),
            1 => self.int_expr(depth + 1).cast(ScalarType::F32),
            2 => {
                let x = self.float_expr(depth + 1);
                self.e(Expr::Unary(UnaryOp::Neg, x.id))
            }
            _ => {
                let op = self.ch.pick(&[BinaryOp::Add, BinaryOp::Mul, BinaryOp::Max]);
                let a = self.float_expr(depth + 1);
                let b = self.float_expr(depth + 1);
                self.e(Expr::Binary(op, a.id, b.id))
            }
        }
    }

    /// A scalar operand for a tile of `dtype`.
    fn scalar_for(&mut self, dtype: DType) -> Scalar<'b> {
        if dtype.is_int() {
            self.int_expr(1)
        } else {
            self.float_expr(0)
        }
    }

    // ---- statements ----

    fn stmts(&mut self, n: usize, depth: usize) {
        for _ in 0..n {
            self.stmt(depth);
        }
    }

    fn stmt(&mut self, depth: usize) {
        let kind = if depth >= 2 { 5 } else { self.ch.below(9) };
        match kind {
            0 => {
                let start = self.int_expr(1);
                let end = self.int_expr(1);
                let step = self.ch.pick(&[1i64, 2, 4]);
                let unroll = match self.ch.below(3) {
                    0 => Unroll::None,
                    1 => Unroll::Full,
                    _ => Unroll::Factor(self.ch.pick(&[2u32, 4])),
                };
                let name = self.ch.pick(&["k", "i", "stage", "max"]);
                let n = self.ch.below(5);
                let kb = self.kb;
                kb.for_range(name, start, end, step, unroll, |i| {
                    self.ints.push(vec![i]);
                    self.lets.push(Vec::new());
                    self.stmts(n, depth + 1);
                    self.lets.pop();
                    self.ints.pop();
                });
            }
            1 => {
                let cond = self.bool_expr(0);
                let (n, m) = (self.ch.below(4), self.ch.below(3));
                let nested = self.ch.chance(1, 3);
                let kb = self.kb;
                // Both branches need the generator; they run one after the other.
                let cell = std::cell::RefCell::new(&mut *self);
                kb.if_else(
                    cond,
                    || cell.borrow_mut().scoped(n, depth + 1),
                    || {
                        let mut g = cell.borrow_mut();
                        if nested {
                            let c2 = g.bool_expr(0);
                            let k = g.ch.below(2);
                            let kb = g.kb;
                            kb.if_then(c2, || g.scoped(k, depth + 1));
                        } else {
                            g.scoped(m, depth + 1);
                        }
                    },
                );
            }
            2 => {
                let (ty, value) = match self.ch.below(4) {
                    0 => (ScalarType::I64, self.int_expr(0)),
                    1 => (ScalarType::F32, self.float_expr(0)),
                    2 => (ScalarType::Bool, self.bool_expr(0)),
                    _ => (ScalarType::I32, self.int_expr(0)),
                };
                let name = self
                    .ch
                    .pick(&["acc", "s", "offset", "min", "let", "two words"]);
                let v = self.kb.let_var(name, ty, value);
                if ty.is_int() {
                    if let Some(s) = self.ints.last_mut() {
                        s.push(v);
                    }
                }
                if let Some(s) = self.lets.last_mut() {
                    s.push((v, ty));
                }
            }
            3 => {
                let all: Vec<(Scalar<'b>, ScalarType)> =
                    self.lets.iter().flatten().copied().collect();
                if all.is_empty() {
                    return self.inst();
                }
                let (v, ty) = self.ch.pick(&all);
                let value = if ty == ScalarType::Bool {
                    self.bool_expr(0)
                } else if ty.is_int() {
                    self.int_expr(0)
                } else {
                    self.float_expr(0)
                };
                self.kb.assign(v, value);
            }
            _ => self.inst(),
        }
    }

    fn scoped(&mut self, n: usize, depth: usize) {
        self.ints.push(Vec::new());
        self.lets.push(Vec::new());
        self.stmts(n, depth);
        self.lets.pop();
        self.ints.pop();
    }
}

/// The `InstKind` variant of every instruction of a program, with ` <-` marking overwrites.
pub fn inst_names(p: &Program) -> Vec<String> {
    let mut names = Vec::new();
    for f in &p.functions {
        f.for_each_inst(|i| {
            let inst = &f.insts[i];
            let mut n = variant_name(&inst.kind);
            if matches!(inst.out, Some(Out::Existing(_))) {
                n.push_str(" <-");
            }
            names.push(n);
        });
    }
    names
}

/// The `InstKind` variant's name (`LoadGlobal`, `Sync`, …).
pub fn variant_name(k: &tilus_ir::inst::InstKind) -> String {
    let dbg = format!("{k:?}");
    dbg.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_string()
}
