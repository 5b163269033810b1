//! Tile → thread lowering: every tile instruction becomes what one thread of the block does.
//!
//! ```text
//! VerifiedProgram + LayoutAssignment ─► params, buffers, grid ─► walk the body in program order
//!     statements 1:1 (for, if, let, assign)      instructions: match InstKind → family file
//! ─► ThreadKernel (+ static shared offsets, workspaces)
//! ```
//!
//! Rules (each family file documents its own):
//! - A register tensor with layout `L` is a local array of `L.local_size()` slots; thread
//!   `t`, slot `s` holds tile element `L.index_of(t, s)`. Index expressions are built
//!   symbolically from `threadIdx` (spatial digit `(t / stride) % size`, slots unrolled as
//!   constants) and left naive for the simplifier (module `index`).
//! - Shared tensors get static byte offsets, first fit in program order (`free_shared`
//!   releases; 16-byte alignment; scratch space for `reduce` and `dot` is taken and released
//!   around the instruction); the peak must fit [`LowerOptions::max_shared_bytes`].
//!   Every access to a shared tensor goes through the layout of its allocation
//!   ([`SharedLayout::offset`], swizzles as bit operations), slices fixing leading indices.
//! - Global tensors are a buffer, a base element offset, and extents and strides as
//!   expressions over parameters; loads and stores are masked at the extents.
//! - Float element math follows the tile interpreter: decode to `f32`, compute in `f32`,
//!   encode to the dtype with round to nearest even (for `f16` tiles this is also the
//!   correctly rounded `f16` result of `+ - * /` and `sqrt`, so a backend may compute those
//!   in `f16`).
//! - An instruction whose result overwrites one of its own operands computes into a
//!   temporary array first.
//! - `print`, `annotate_layout` and `annotate_shared_layout` produce no thread code.

mod annotate;
mod copy_async;
mod dot;
mod elementwise;
mod index;
mod ldmatrix;
mod memory;
mod reduce;
mod scalar;
mod sync;
mod transfer;
mod view;

use std::collections::HashMap;

use tilus_ir::dtype::DType;
use tilus_ir::expr::ScalarType;
use tilus_ir::inst::InstKind;
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::layout::RegisterLayout;
use tilus_ir::program::{Function, InstId, Out, Stmt as TileStmt, TensorId, TensorType, VarType};
use tilus_ir::verify::VerifiedProgram;

use crate::error::LowerError;
use crate::layout_infer::LayoutAssignment;
use crate::target::Target;
use crate::thread_ir::{
    BufferId, BufferKind, ExprId, KernelBuilder, LocalId, Param, ParamKind, SharedId, Stmt,
    ThreadKernel, Ty, VarId,
};

type R<T> = Result<T, LowerError>;

/// The most elements one thread may hold of one register tensor. GPUs have at most 255
/// 32-bit registers per thread; tiles far beyond that would only spill, and lowering them
/// unrolls one statement per element.
pub const MAX_SLOTS_PER_THREAD: usize = 16384;

/// What the lowering may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerOptions {
    /// Bytes of shared memory a block may use.
    pub max_shared_bytes: u32,
    /// Whether `dot` may use the `mma` intrinsic (tensor cores) when layouts allow.
    pub mma: bool,
    /// Whether warp shuffles of 32 lanes exist ([`crate::thread_ir::Stmt::Shuffle`]): a
    /// `reduce` whose lines lie across the lanes of each warp gathers them with shuffles
    /// instead of shared memory and barriers.
    pub shuffle: bool,
}

impl Default for LowerOptions {
    /// 48 KiB of shared memory, no `mma`, no shuffles.
    fn default() -> Self {
        LowerOptions {
            max_shared_bytes: 48 * 1024,
            mma: false,
            shuffle: false,
        }
    }
}

impl LowerOptions {
    /// The options a target allows.
    pub fn for_target(target: &Target) -> Self {
        let caps = target.caps();
        LowerOptions {
            max_shared_bytes: caps.shared_bytes,
            mma: !caps.mma.is_empty(),
            shuffle: caps.warp_shuffle,
        }
    }
}

/// Lowers function `func_index` with default options ([`LowerOptions::default`]).
pub fn lower_function(
    program: &VerifiedProgram,
    func_index: usize,
    layouts: &LayoutAssignment,
) -> Result<ThreadKernel, LowerError> {
    lower_function_with(program, func_index, layouts, &LowerOptions::default())
}

/// Lowers function `func_index` of a verified program, given the layout of every register
/// and shared tensor.
pub fn lower_function_with(
    program: &VerifiedProgram,
    func_index: usize,
    layouts: &LayoutAssignment,
    opts: &LowerOptions,
) -> Result<ThreadKernel, LowerError> {
    let count = program.program().functions.len();
    let f = program
        .program()
        .functions
        .get(func_index)
        .ok_or(LowerError::NoFunction {
            index: func_index,
            count,
        })?;
    let mut cx = Lower::new(f, layouts, opts)?;
    cx.block(&f.body)?;
    cx.finish()
}

/// A global tensor: where its elements are.
#[derive(Clone, Debug)]
pub(crate) struct GlobalInfo {
    buffer: BufferId,
    /// Element offset of index 0 (`i32`).
    base: ExprId,
    /// Extents (`i32`).
    shape: Vec<ExprId>,
    /// Strides in elements (`i32`).
    strides: Vec<ExprId>,
    /// Element type.
    dtype: DType,
    /// For vectorization, when the view is not a slice: its tile-level extents and strides
    /// (`None`: row-major).
    tile_view: Option<TileView>,
}

/// The tile-level extents and strides of an unsliced global view.
#[derive(Clone, Debug)]
pub(crate) struct TileView {
    shape: Vec<tilus_ir::expr::ExprId>,
    strides: Option<Vec<tilus_ir::expr::ExprId>>,
}

/// A shared tensor: a region of an allocation.
#[derive(Clone, Debug)]
pub(crate) struct SharedInfo {
    alloc: SharedId,
    /// The allocation's tensor (for `free_shared` of a slice's parent).
    root: TensorId,
    /// The allocation's layout.
    layout: SharedLayout,
    /// Fixed leading indices (`i32`), from slices.
    prefix: Vec<ExprId>,
    /// The region's shape.
    shape: Vec<usize>,
}

/// A register tensor: a local array with a layout.
#[derive(Clone, Debug)]
pub(crate) struct RegInfo {
    array: LocalId,
    layout: RegisterLayout,
    dtype: DType,
}

#[derive(Clone, Debug)]
pub(crate) enum TensorInfo {
    Global(GlobalInfo),
    Shared(SharedInfo),
    Register(RegInfo),
}

/// The lowering context of one function.
pub(crate) struct Lower<'a> {
    f: &'a Function,
    layouts: &'a LayoutAssignment,
    opts: &'a LowerOptions,
    b: KernelBuilder,
    tensors: HashMap<TensorId, TensorInfo>,
    vars: HashMap<tilus_ir::program::VarId, VarKindMap>,
    scalar_types: scalar::Types,
    alloc: index::SharedAllocator,
    /// The instruction being lowered (for errors).
    inst: Option<InstId>,
}

/// What a tile variable is in the thread kernel.
#[derive(Clone, Copy, Debug)]
enum VarKindMap {
    /// A scalar parameter (its index).
    Param(u32),
    /// A pointer parameter.
    Pointer(BufferId),
    /// A thread variable.
    Var(VarId),
    /// A value fixed by unrolling (the loop variable of an unrolled iteration).
    Value(ExprId),
}

/// Iterations a loop may be fully unrolled into.
const MAX_UNROLL: i64 = 256;

impl Lower<'_> {
    /// Honors an unroll hint on a loop with constant bounds: `full` repeats the body once
    /// per iteration with the loop variable a constant; `factor(n)` (when `n` divides the
    /// trip count) runs a loop of `trips / n` iterations whose body is `n` copies, the
    /// variable of copy `j` being `i + j·step`. `false` when the loop stays as it is (no hint,
    /// runtime bounds, more than [`MAX_UNROLL`] copies, a factor that does not divide).
    fn unrolled(
        &mut self,
        var: tilus_ir::program::VarId,
        (start, end, step): (ExprId, ExprId, ExprId),
        unroll: tilus_ir::program::Unroll,
        body: &[TileStmt],
    ) -> R<bool> {
        use tilus_ir::program::Unroll;
        let (Some(s), Some(e), Some(st)) = (
            self.b.as_i32(start),
            self.b.as_i32(end),
            self.b.as_i32(step),
        ) else {
            return Ok(false);
        };
        let (s, e, st) = (i64::from(s), i64::from(e), i64::from(st));
        if st <= 0 {
            return Ok(false);
        }
        let trips = if e > s { (e - s + st - 1) / st } else { 0 };
        match unroll {
            Unroll::None => Ok(false),
            Unroll::Full if trips <= MAX_UNROLL => {
                for i in 0..trips {
                    let v = self.b.i32((s + i * st) as i32);
                    self.vars.insert(var, VarKindMap::Value(v));
                    self.block(body)?;
                }
                Ok(true)
            }
            Unroll::Factor(n)
                if n > 1 && i64::from(n) <= MAX_UNROLL && trips % i64::from(n) == 0 =>
            {
                let n = i64::from(n);
                let name = self.f.vars.try_get(var).map_or("i", |v| v.name.as_str());
                let tv = self.b.var(name, Ty::I32);
                let outer = self.b.read_var(tv);
                self.b.open();
                for j in 0..n {
                    let off = self.b.i32((j * st) as i32);
                    let v = self.b.add(outer, off);
                    self.vars.insert(var, VarKindMap::Value(v));
                    self.block(body)?;
                }
                let inner = self.b.close();
                let big = self.b.i32((st * n) as i32);
                self.b.push(Stmt::For {
                    var: tv,
                    start,
                    end,
                    step: big,
                    body: inner,
                });
                Ok(true)
            }
            Unroll::Full | Unroll::Factor(_) => Ok(false),
        }
    }
}

impl<'a> Lower<'a> {
    fn new(f: &'a Function, layouts: &'a LayoutAssignment, opts: &'a LowerOptions) -> R<Self> {
        let mut b = KernelBuilder::new(f.name.clone(), f.num_threads() as u32);
        let mut vars = HashMap::new();
        for (i, &p) in f.params.iter().enumerate() {
            let var = f
                .vars
                .try_get(p)
                .ok_or_else(|| LowerError::InvalidProgram(format!("parameter {i} dangles")))?;
            let (kind, dtype, map) = match var.ty {
                VarType::Scalar(t) => {
                    let ty = scalar::carrier(t);
                    (
                        ParamKind::Scalar(ty),
                        match t {
                            ScalarType::Data(d) => Some(d),
                            ScalarType::Bool => None,
                        },
                        VarKindMap::Param(i as u32),
                    )
                }
                VarType::Pointer(d) => {
                    let buf = b.buffer(&var.name, d, BufferKind::Param(i as u32));
                    (ParamKind::Pointer(buf), None, VarKindMap::Pointer(buf))
                }
            };
            b.kernel.params.push(Param {
                name: var.name.clone(),
                kind,
                dtype,
            });
            vars.insert(p, map);
        }
        let mut grid = Vec::new();
        for (d, &e) in f.grid.iter().enumerate() {
            grid.push(
                scalar::grid_expr(f, e).map_err(|reason| LowerError::NotHostEvaluable {
                    what: format!("grid extent {d}"),
                    reason,
                })?,
            );
        }
        b.kernel.grid = grid;
        b.kernel.assumptions = f
            .assumes
            .iter()
            .filter_map(|a| {
                let i = f.params.iter().position(|&p| p == a.var)?;
                Some((i as u32, a.divisor))
            })
            .collect();
        Ok(Lower {
            f,
            layouts,
            opts,
            b,
            tensors: HashMap::new(),
            vars,
            scalar_types: scalar::Types::new(f),
            alloc: index::SharedAllocator::default(),
            inst: None,
        })
    }

    fn finish(mut self) -> R<ThreadKernel> {
        self.b.kernel.shared_bytes = self.alloc.peak_bytes() as u32;
        Ok(self.b.finish())
    }

    /// `` `mnemonic` (%tensor) `` of the current instruction, for errors.
    pub(crate) fn here(&self) -> String {
        let Some(inst) = self.inst.and_then(|i| self.f.insts.try_get(i)) else {
            return "kernel".into();
        };
        let mut s = format!("`{}`", inst.kind.name());
        if let Some(out) = inst.out {
            s.push_str(&format!(" (%{})", self.tensor_name(out.tensor())));
        }
        if let Some(loc) = inst.loc {
            s = format!("line {}:{}: {s}", loc.line, loc.column);
        }
        s
    }

    pub(crate) fn tensor_name(&self, t: TensorId) -> String {
        self.f
            .tensors
            .try_get(t)
            .map_or_else(|| format!("{t:?}"), |t| t.name.clone())
    }

    pub(crate) fn unsupported<T>(&self, reason: impl Into<String>) -> R<T> {
        Err(LowerError::Unsupported {
            inst: self.here(),
            reason: reason.into(),
        })
    }

    pub(crate) fn invalid<T>(&self, reason: impl Into<String>) -> R<T> {
        Err(LowerError::InvalidProgram(format!(
            "{}: {}",
            self.here(),
            reason.into()
        )))
    }

    fn block(&mut self, body: &[TileStmt]) -> R<()> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &TileStmt) -> R<()> {
        match s {
            TileStmt::Inst(i) => {
                self.inst = Some(*i);
                let inst = self
                    .f
                    .insts
                    .try_get(*i)
                    .ok_or_else(|| LowerError::InvalidProgram(format!("{i:?} dangles")))?;
                self.inst_kind(&inst.kind, inst.out)?;
                self.inst = None;
            }
            TileStmt::For {
                var,
                start,
                end,
                step,
                body,
                unroll,
                ..
            } => {
                let start = self.index_expr(*start)?;
                let end = self.index_expr(*end)?;
                let step = self.index_expr(*step)?;
                if self.unrolled(*var, (start, end, step), *unroll, body)? {
                    return Ok(());
                }
                let name = self.f.vars.try_get(*var).map_or("i", |v| v.name.as_str());
                let tv = self.b.var(name, Ty::I32);
                self.vars.insert(*var, VarKindMap::Var(tv));
                self.b.open();
                self.block(body)?;
                let body = self.b.close();
                self.b.push(Stmt::For {
                    var: tv,
                    start,
                    end,
                    step,
                    body,
                });
            }
            TileStmt::If {
                cond,
                then_body,
                else_body,
                ..
            } => {
                let cond = self.scalar_as(*cond, ScalarType::Bool)?;
                self.b.open();
                self.block(then_body)?;
                let then_body = self.b.close();
                self.b.open();
                self.block(else_body)?;
                let else_body = self.b.close();
                self.b.push(Stmt::If {
                    cond,
                    then_body,
                    else_body,
                });
            }
            TileStmt::Let { var, value, .. } => {
                let v = self
                    .f
                    .vars
                    .try_get(*var)
                    .ok_or_else(|| LowerError::InvalidProgram(format!("{var:?} dangles")))?;
                let VarType::Scalar(t) = v.ty else {
                    return Err(LowerError::InvalidProgram(format!(
                        "let `{}` is not a scalar",
                        v.name
                    )));
                };
                let value = self.scalar_as(*value, t)?;
                let tv = self.b.var(&v.name, scalar::carrier(t));
                self.vars.insert(*var, VarKindMap::Var(tv));
                self.b.push(Stmt::Assign { var: tv, value });
            }
            TileStmt::Assign { var, value, .. } => {
                let t = match self.f.vars.try_get(*var).map(|v| v.ty) {
                    Some(VarType::Scalar(t)) => t,
                    _ => {
                        return Err(LowerError::InvalidProgram(format!(
                            "assignment to {var:?}, which is not a scalar"
                        )))
                    }
                };
                let value = self.scalar_as(*value, t)?;
                match self.vars.get(var) {
                    Some(VarKindMap::Var(tv)) => {
                        let tv = *tv;
                        self.b.push(Stmt::Assign { var: tv, value });
                    }
                    _ => {
                        return Err(LowerError::InvalidProgram(format!(
                            "assignment to {var:?} before its let"
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// Dispatches an instruction to its family.
    fn inst_kind(&mut self, kind: &InstKind, out: Option<Out>) -> R<()> {
        match kind {
            InstKind::GlobalView {
                ptr,
                dtype,
                shape,
                strides,
            } => memory::global_view(self, out, *ptr, *dtype, shape, strides.as_deref()),
            InstKind::AllocGlobal {
                dtype,
                shape,
                requires_clean,
            } => memory::alloc_global(self, out, *dtype, shape, *requires_clean),
            InstKind::AllocShared { dtype, shape } => {
                memory::alloc_shared(self, out, *dtype, shape)
            }
            InstKind::FreeShared { tensor } => memory::free_shared(self, *tensor),
            InstKind::AllocRegister { dtype, init, .. } => {
                memory::alloc_register(self, out, *dtype, *init)
            }
            InstKind::Slice { src, indices } => memory::slice(self, out, *src, indices),
            InstKind::LoadGlobal {
                src,
                offsets,
                shape,
                dims,
            } => transfer::load_global(self, out, *src, offsets, shape, dims.as_deref()),
            InstKind::StoreGlobal {
                dst,
                src,
                offsets,
                dims,
            } => transfer::store_global(self, *dst, *src, offsets, dims.as_deref()),
            InstKind::LoadShared { src } => transfer::load_shared(self, out, *src),
            InstKind::StoreShared { dst, src } => transfer::store_shared(self, *dst, *src),
            InstKind::CopyAsync {
                dst,
                src,
                offsets,
                dims,
            } => copy_async::copy_async(self, *dst, *src, offsets, dims.as_deref()),
            InstKind::CommitGroup => copy_async::commit_group(self),
            InstKind::WaitGroup { n } => copy_async::wait_group(self, *n),
            InstKind::WaitAll => copy_async::wait_all(self),
            InstKind::Dot { a, b, c, acc_dtype } => dot::dot(self, out, *a, *b, *c, *acc_dtype),
            InstKind::Cast { x, dtype } => elementwise::cast(self, out, *x, *dtype),
            InstKind::Unary { op, x } => elementwise::unary(self, out, *op, *x),
            InstKind::Binary { op, a, b } => elementwise::binary(self, out, *op, *a, *b),
            InstKind::Where { cond, x, y } => elementwise::where_(self, out, *cond, *x, *y),
            InstKind::View { x, dtype, .. } => view::view(self, out, *x, *dtype),
            InstKind::Reduce {
                op,
                x,
                dim,
                keepdim,
            } => reduce::reduce(self, out, *op, *x, *dim, *keepdim),
            InstKind::Sync => sync::sync(self),
            InstKind::LockSemaphore { sem, index, value } => {
                sync::lock_semaphore(self, *sem, index, *value)
            }
            InstKind::ReleaseSemaphore { sem, index, value } => {
                sync::release_semaphore(self, *sem, index, *value)
            }
            InstKind::AnnotateLayout { .. }
            | InstKind::AnnotateSharedLayout { .. }
            | InstKind::Print { .. } => annotate::annotate(self),
        }
    }

    // ---- tensors ----

    pub(crate) fn info(&self, t: TensorId) -> R<&TensorInfo> {
        match self.tensors.get(&t) {
            Some(i) => Ok(i),
            None => self.invalid(format!(
                "%{} is used before it is defined",
                self.tensor_name(t)
            )),
        }
    }

    pub(crate) fn global(&self, t: TensorId) -> R<GlobalInfo> {
        match self.info(t)? {
            TensorInfo::Global(g) => Ok(g.clone()),
            _ => self.invalid(format!("%{} is not a global tensor", self.tensor_name(t))),
        }
    }

    pub(crate) fn shared(&self, t: TensorId) -> R<SharedInfo> {
        match self.info(t)? {
            TensorInfo::Shared(s) => Ok(s.clone()),
            _ => self.invalid(format!("%{} is not a shared tensor", self.tensor_name(t))),
        }
    }

    pub(crate) fn reg(&self, t: TensorId) -> R<RegInfo> {
        match self.info(t)? {
            TensorInfo::Register(r) => Ok(r.clone()),
            _ => self.invalid(format!("%{} is not a register tensor", self.tensor_name(t))),
        }
    }

    /// The layout inference assigned to register tensor `t`, checked against the block.
    pub(crate) fn register_layout(&self, t: TensorId) -> R<RegisterLayout> {
        let name = self.tensor_name(t);
        let Some(l) = self.layouts.register.get(&t) else {
            return Err(LowerError::MissingLayout {
                inst: self.here(),
                tensor: name,
                kind: "register",
            });
        };
        let shape = match self.f.tensors.try_get(t).map(|t| &t.ty) {
            Some(TensorType::Register { shape, .. }) => shape.clone(),
            _ => return self.invalid(format!("%{name} is not a register tensor")),
        };
        let bad = |reason: String| LowerError::BadLayout {
            inst: self.here(),
            tensor: name.clone(),
            reason,
        };
        if l.shape() != shape.as_slice() {
            return Err(bad(format!(
                "its shape {:?} is not the tensor's {shape:?}",
                l.shape()
            )));
        }
        if l.num_threads() != self.f.num_threads() {
            return Err(bad(format!(
                "it spans {} threads but the block has {}",
                l.num_threads(),
                self.f.num_threads()
            )));
        }
        if l.local_size() > MAX_SLOTS_PER_THREAD {
            return Err(bad(format!(
                "it gives each thread {} elements; the register budget is {MAX_SLOTS_PER_THREAD} \
                 per tensor (spread the tile over more threads, or keep it in shared memory)",
                l.local_size()
            )));
        }
        Ok(l.clone())
    }

    /// The local array a register result goes to: a new array for [`Out::New`], the
    /// existing tensor's for [`Out::Existing`].
    pub(crate) fn out_reg(&mut self, out: Option<Out>, dtype: DType) -> R<(TensorId, RegInfo)> {
        let Some(out) = out else {
            return self.invalid("the instruction has no result");
        };
        match out {
            Out::Existing(t) => Ok((t, self.reg(t)?)),
            Out::New(t) => {
                let layout = self.register_layout(t)?;
                let name = self.tensor_name(t);
                let array = self.b.local(&name, dtype, layout.local_size() as u32);
                let info = RegInfo {
                    array,
                    layout,
                    dtype,
                };
                self.tensors.insert(t, TensorInfo::Register(info.clone()));
                Ok((t, info))
            }
        }
    }

    /// Where to compute a register result that may overwrite one of `inputs`: the result
    /// itself, or a temporary array (copied in by [`Lower::commit_out`]).
    pub(crate) fn out_array(
        &mut self,
        out: Option<Out>,
        dtype: DType,
        inputs: &[TensorId],
    ) -> R<OutArray> {
        let (t, info) = self.out_reg(out, dtype)?;
        let aliased = matches!(out, Some(Out::Existing(_))) && inputs.contains(&t);
        let array = if aliased {
            let name = format!("{}_tmp", self.tensor_name(t));
            self.b.local(&name, dtype, info.layout.local_size() as u32)
        } else {
            info.array
        };
        Ok(OutArray { info, array })
    }

    /// Copies a temporary result into its tensor.
    pub(crate) fn commit_out(&mut self, o: &OutArray) {
        if o.array != o.info.array {
            self.b.push(Stmt::View {
                dst: o.info.array,
                src: o.array,
            });
        }
    }

    /// Lowers a tile scalar expression to an `i32` index expression.
    pub(crate) fn index_expr(&mut self, e: tilus_ir::expr::ExprId) -> R<ExprId> {
        self.scalar_as(e, ScalarType::I32)
    }
}

/// Where a register result is computed.
pub(crate) struct OutArray {
    /// The result tensor.
    pub info: RegInfo,
    /// The array written (the tensor's, or a temporary).
    pub array: LocalId,
}
