//! Blocks as resumable state machines: the launch state shared by all blocks, one block's
//! state (an explicit frame stack, scalar variables, tensor values, shared memory, pending
//! asynchronous copies), the statement loop and the dispatch of instructions to their
//! family files with an exhaustive `match` on [`InstKind`].

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use crate::expr::{ExprId, ScalarType};
use crate::inst::InstKind;
use crate::program::{Function, Inst, InstId, LayoutId, Stmt, TensorId, VarId, VarType};
use crate::verify::FunctionInfo;

use super::buffers::{GlobalRef, Memory};
use super::error::{fail, InterpError, InterpErrorKind};
use super::scalar::{convert, Env, Eval, ExprTypes, Val};
use super::tile::{RegTile, SharedAlloc, SharedRef, TensorVal};
use super::{
    annotate, copy_async, dot, elementwise, memory, reduce, sync, transfer, view, RunReport,
};

/// State shared by every block of a launch.
pub(crate) struct Launch<'f> {
    /// The kernel.
    pub f: &'f Function,
    /// What the verifier learned about it.
    pub info: &'f FunctionInfo,
    /// Types of its scalar expressions.
    pub types: ExprTypes,
    /// Global memory.
    pub mem: Memory,
    /// The values of the parameters (scalars), by variable index.
    pub params: Vec<Option<Val>>,
    /// The buffer of each pointer parameter, by variable index.
    pub ptr_bufs: Vec<Option<usize>>,
    /// Workspaces made by `alloc_global`, by instruction: buffer and shape.
    pub workspaces: HashMap<InstId, (usize, Vec<i64>)>,
    /// `requires_clean` workspaces: buffer and the tensor that made it.
    pub clean: Vec<(usize, TensorId)>,
    /// For each layout used by `view`: the row-major tile index held by (thread, slot), at
    /// `thread * local_size + slot`.
    pub layout_tables: HashMap<LayoutId, Rc<[usize]>>,
    /// Grid extents.
    pub grid: [u32; 3],
    /// Statements executed so far.
    pub steps: u64,
    /// The step limit.
    pub max_steps: u64,
    /// The workspace size limit in bytes.
    pub max_workspace_bytes: u64,
    /// What the launch reports.
    pub report: RunReport,
}

impl Launch<'_> {
    /// Counts one statement; errors past the limit.
    pub fn step(&mut self) -> Result<(), InterpError> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return fail(
                InterpErrorKind::StepLimit,
                format!(
                    "more than {} statements executed (RunOptions::max_steps); an endless \
                     or far too long launch?",
                    self.max_steps
                ),
            );
        }
        Ok(())
    }

    /// `%name` of a tensor.
    pub fn name(&self, t: TensorId) -> String {
        self.f
            .tensors
            .try_get(t)
            .map_or_else(|| format!("{t:?}"), |t| format!("%{}", t.name))
    }

    /// `store_shared (line 12)`, or `store_shared (instruction #7)` without a location.
    pub fn describe(&self, i: InstId) -> String {
        match self.f.insts.try_get(i) {
            Some(inst) => match inst.loc {
                Some(loc) => format!("{} (line {})", inst.kind.name(), loc.line),
                None => format!("{} (instruction #{})", inst.kind.name(), i.index()),
            },
            None => format!("{i:?}"),
        }
    }
}

/// One open statement list: the body, a branch, or a loop body with its counter.
pub(crate) struct Frame<'f> {
    stmts: &'f [Stmt],
    pc: usize,
    looping: Option<LoopState>,
}

struct LoopState {
    var: VarId,
    value: i64,
    end: i64,
    step: i64,
}

/// An asynchronous copy not yet completed.
pub(crate) struct PendingCopy {
    /// The shared allocation written.
    pub alloc: usize,
    /// The element range written.
    pub lo: usize,
    /// End of the range.
    pub hi: usize,
    /// The data, read from global memory when the copy was issued.
    pub data: Vec<u64>,
    /// The `copy_async`.
    pub inst: InstId,
}

/// What a block waits for: `buf[offset] == value` (an `i32` semaphore).
#[derive(Clone, Debug)]
pub(crate) struct WaitInfo {
    /// The buffer.
    pub buf: usize,
    /// Element offset.
    pub offset: usize,
    /// Value awaited.
    pub value: i64,
    /// The `lock_semaphore`.
    pub inst: InstId,
    /// Semaphore tensor and index, for messages.
    pub what: String,
}

/// One block.
pub(crate) struct BlockState<'f> {
    /// `blockIdx`.
    pub idx: [u32; 3],
    frames: Vec<Frame<'f>>,
    /// Scalar variables by index.
    pub vars: Vec<Option<Val>>,
    /// Tensor values by index.
    pub tensors: Vec<Option<TensorVal>>,
    /// Shared allocations.
    pub shared: Vec<SharedAlloc>,
    /// The open (uncommitted) group of copies.
    pub open_group: Vec<PendingCopy>,
    /// Committed groups, oldest first.
    pub groups: VecDeque<Vec<PendingCopy>>,
    /// Whether `print` records output for this block.
    pub trace: bool,
    /// Set while the block waits on a semaphore.
    pub waiting: Option<WaitInfo>,
}

/// How a block stopped.
pub(crate) enum Status {
    /// It ran to the end.
    Finished,
    /// It waits on a semaphore ([`BlockState::waiting`]).
    Waiting,
}

/// What an instruction asks of the block loop.
pub(crate) enum Flow {
    /// Go on with the next statement.
    Next,
    /// Suspend the block before this instruction, waiting for a semaphore.
    Wait(WaitInfo),
}

impl<'f> BlockState<'f> {
    /// A block at the start of the kernel body.
    pub fn new(l: &Launch<'f>, idx: [u32; 3], trace: bool) -> Self {
        BlockState {
            idx,
            frames: vec![Frame {
                stmts: &l.f.body,
                pc: 0,
                looping: None,
            }],
            vars: l.params.clone(),
            tensors: vec![None; l.f.tensors.len()],
            shared: Vec::new(),
            open_group: Vec::new(),
            groups: VecDeque::new(),
            trace,
            waiting: None,
        }
    }

    /// Copies still pending (dropped when the block ends).
    pub fn pending_copies(&self) -> u64 {
        (self.open_group.len() + self.groups.iter().map(Vec::len).sum::<usize>()) as u64
    }
}

/// The execution context of one instruction.
pub(crate) struct Cx<'a, 'f> {
    /// The launch.
    pub l: &'a mut Launch<'f>,
    /// The block.
    pub b: &'a mut BlockState<'f>,
    /// The instruction.
    pub id: InstId,
    /// Its data.
    pub inst: &'f Inst,
}

fn missing(what: &str, name: String) -> InterpError {
    InterpError::new(
        InterpErrorKind::InvalidProgram,
        format!("{name} is used before it is defined, or is not a {what} tensor"),
    )
}

impl<'f> Cx<'_, 'f> {
    /// An evaluator of scalar expressions in this block.
    pub fn eval(&self) -> Eval<'_> {
        Eval {
            f: self.l.f,
            types: &self.l.types,
            env: Env {
                vars: &self.b.vars,
                block: Some(self.b.idx),
                grid: Some(self.l.grid),
            },
        }
    }

    /// Integer expressions.
    pub fn indices(&self, es: &[ExprId]) -> Result<Vec<i64>, InterpError> {
        let ev = self.eval();
        es.iter().map(|&e| ev.index(e)).collect()
    }

    /// `%name` of a tensor.
    pub fn name(&self, t: TensorId) -> String {
        self.l.name(t)
    }

    /// The register tile `t`.
    pub fn reg(&self, t: TensorId) -> Result<&RegTile, InterpError> {
        match self.b.tensors.get(t.index()) {
            Some(Some(TensorVal::Reg(r))) => Ok(r),
            _ => Err(missing("register", self.name(t))),
        }
    }

    /// The shared tensor `t`, checked not freed.
    pub fn shared(&self, t: TensorId) -> Result<SharedRef, InterpError> {
        let r = match self.b.tensors.get(t.index()) {
            Some(Some(TensorVal::Shared(s))) => s.clone(),
            _ => return Err(missing("shared", self.name(t))),
        };
        match self.b.shared.get(r.alloc) {
            Some(a) => {
                if let Some(free) = a.freed {
                    return fail(
                        InterpErrorKind::UseAfterFree,
                        format!(
                            "{} is used after {} released {}",
                            self.name(t),
                            self.l.describe(free),
                            a.name
                        ),
                    );
                }
                Ok(r)
            }
            None => Err(missing("shared", self.name(t))),
        }
    }

    /// The global tensor `t`.
    pub fn global(&self, t: TensorId) -> Result<&GlobalRef, InterpError> {
        match self.b.tensors.get(t.index()) {
            Some(Some(TensorVal::Global(g))) => Ok(g),
            _ => Err(missing("global", self.name(t))),
        }
    }

    /// Stores the instruction's result.
    pub fn set_out(&mut self, v: TensorVal) -> Result<(), InterpError> {
        let Some(out) = self.inst.out else {
            return Ok(());
        };
        match self.b.tensors.get_mut(out.tensor().index()) {
            Some(slot) => {
                *slot = Some(v);
                Ok(())
            }
            None => fail(
                InterpErrorKind::InvalidProgram,
                format!("result tensor {:?} does not exist", out.tensor()),
            ),
        }
    }
}

/// The tensor an instruction defines or mainly acts on (named in errors).
fn primary_tensor(inst: &Inst) -> Option<TensorId> {
    if let Some(out) = inst.out {
        return Some(out.tensor());
    }
    match &inst.kind {
        InstKind::FreeShared { tensor }
        | InstKind::AnnotateLayout { tensor, .. }
        | InstKind::AnnotateSharedLayout { tensor, .. }
        | InstKind::Print { tensor, .. } => Some(*tensor),
        InstKind::StoreGlobal { dst, .. }
        | InstKind::StoreShared { dst, .. }
        | InstKind::CopyAsync { dst, .. } => Some(*dst),
        InstKind::LockSemaphore { sem, .. } | InstKind::ReleaseSemaphore { sem, .. } => Some(*sem),
        _ => None,
    }
}

/// Fills in the context an error does not have yet.
pub(crate) fn with_context(
    mut e: InterpError,
    l: &Launch<'_>,
    block: Option<[u32; 3]>,
    inst: Option<InstId>,
) -> InterpError {
    if e.kernel.is_none() {
        e.kernel = Some(l.f.name.clone());
    }
    if e.block.is_none() {
        e.block = block;
    }
    if let Some(i) = inst.and_then(|i| l.f.insts.try_get(i)) {
        if e.inst.is_none() {
            e.inst = Some(i.kind.name().to_string());
        }
        if e.tensor.is_none() {
            e.tensor = primary_tensor(i).map(|t| l.name(t));
        }
        if e.loc.is_none() {
            e.loc = i.loc;
        }
    }
    e
}

fn stmt_context(
    e: InterpError,
    l: &Launch<'_>,
    b: &BlockState<'_>,
    what: &str,
    loc: Option<crate::program::Loc>,
) -> InterpError {
    let mut e = with_context(e, l, Some(b.idx), None);
    if e.inst.is_none() {
        e.inst = Some(what.to_string());
    }
    if e.loc.is_none() {
        e.loc = loc;
    }
    e
}

fn var_type(f: &Function, v: VarId) -> ScalarType {
    match f.vars.try_get(v).map(|v| v.ty) {
        Some(VarType::Scalar(t)) => t,
        _ => ScalarType::I64,
    }
}

fn set_var(b: &mut BlockState<'_>, v: VarId, val: Val) {
    if let Some(slot) = b.vars.get_mut(v.index()) {
        *slot = Some(val);
    }
}

/// Runs a block until it finishes or waits on a semaphore.
pub(crate) fn run_block<'f>(
    l: &mut Launch<'f>,
    b: &mut BlockState<'f>,
) -> Result<Status, InterpError> {
    let f = l.f;
    loop {
        let Some(frame) = b.frames.last_mut() else {
            return Ok(Status::Finished);
        };
        let (stmts, pc) = (frame.stmts, frame.pc);
        if pc >= stmts.len() {
            if let Some(lp) = &mut frame.looping {
                let next = lp.value.checked_add(lp.step);
                if let Some(next) = next.filter(|&n| n < lp.end) {
                    lp.value = next;
                    frame.pc = 0;
                    let var = lp.var;
                    let val = convert(Val::Int(next), ScalarType::I64, var_type(f, var));
                    set_var(b, var, val);
                    l.step().map_err(|e| stmt_context(e, l, b, "for", None))?;
                    continue;
                }
            }
            b.frames.pop();
            continue;
        }
        l.step()
            .map_err(|e| stmt_context(e, l, b, "statement", None))?;
        match &stmts[pc] {
            Stmt::Inst(id) => match exec_inst(l, b, *id)? {
                Flow::Next => {
                    b.waiting = None;
                    l.report.instructions += 1;
                    advance(b);
                }
                Flow::Wait(w) => {
                    b.waiting = Some(w);
                    return Ok(Status::Waiting);
                }
            },
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
                loc,
                ..
            } => {
                let r = (|| {
                    let ev = block_eval(l, b);
                    let s = ev.index(*start)?;
                    let e = ev.index(*end)?;
                    let st = ev.index(*step)?;
                    if st <= 0 {
                        return fail(
                            InterpErrorKind::InvalidValue,
                            format!("loop step must be positive, got {st}"),
                        );
                    }
                    Ok((s, e, st))
                })();
                let (s, e, st) = r.map_err(|err| stmt_context(err, l, b, "for", *loc))?;
                advance(b);
                if s < e {
                    let val = convert(Val::Int(s), ScalarType::I64, var_type(f, *var));
                    set_var(b, *var, val);
                    b.frames.push(Frame {
                        stmts: body,
                        pc: 0,
                        looping: Some(LoopState {
                            var: *var,
                            value: s,
                            end: e,
                            step: st,
                        }),
                    });
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
                loc,
            } => {
                let c = block_eval(l, b)
                    .cond(*cond)
                    .map_err(|err| stmt_context(err, l, b, "if", *loc))?;
                advance(b);
                b.frames.push(Frame {
                    stmts: if c { then_body } else { else_body },
                    pc: 0,
                    looping: None,
                });
            }
            Stmt::Let { var, value, loc } | Stmt::Assign { var, value, loc } => {
                let what = if matches!(&stmts[pc], Stmt::Let { .. }) {
                    "let"
                } else {
                    "assign"
                };
                let v = block_eval(l, b)
                    .eval_as(*value, var_type(f, *var))
                    .map_err(|err| stmt_context(err, l, b, what, *loc))?;
                set_var(b, *var, v);
                advance(b);
            }
        }
    }
}

fn advance(b: &mut BlockState<'_>) {
    if let Some(fr) = b.frames.last_mut() {
        fr.pc += 1;
    }
}

fn block_eval<'a>(l: &'a Launch<'_>, b: &'a BlockState<'_>) -> Eval<'a> {
    Eval {
        f: l.f,
        types: &l.types,
        env: Env {
            vars: &b.vars,
            block: Some(b.idx),
            grid: Some(l.grid),
        },
    }
}

/// Executes one instruction, adding context to its errors.
fn exec_inst<'f>(
    l: &mut Launch<'f>,
    b: &mut BlockState<'f>,
    id: InstId,
) -> Result<Flow, InterpError> {
    let f = l.f;
    let Some(inst) = f.insts.try_get(id) else {
        return Err(with_context(
            InterpError::new(
                InterpErrorKind::InvalidProgram,
                format!("instruction handle {id:?} does not exist"),
            ),
            l,
            Some(b.idx),
            None,
        ));
    };
    let block = b.idx;
    let mut cx = Cx { l, b, id, inst };
    dispatch(&mut cx).map_err(|e| with_context(e, cx.l, Some(block), Some(id)))
}

fn done(r: Result<(), InterpError>) -> Result<Flow, InterpError> {
    r.map(|()| Flow::Next)
}

fn out(cx: &mut Cx<'_, '_>, v: Result<TensorVal, InterpError>) -> Result<Flow, InterpError> {
    let v = v?;
    cx.set_out(v)?;
    Ok(Flow::Next)
}

/// The exhaustive dispatch: one arm per instruction, to its family file.
fn dispatch(cx: &mut Cx<'_, '_>) -> Result<Flow, InterpError> {
    let inst = cx.inst;
    match &inst.kind {
        // ---- memory ----
        InstKind::GlobalView {
            ptr,
            shape,
            strides,
            ..
        } => {
            let v = memory::global_view(cx, *ptr, shape, strides.as_deref());
            out(cx, v)
        }
        InstKind::AllocGlobal {
            dtype,
            shape,
            requires_clean,
        } => {
            let v = memory::alloc_global(cx, *dtype, shape, *requires_clean);
            out(cx, v)
        }
        InstKind::AllocShared { dtype, shape } => {
            let v = memory::alloc_shared(cx, *dtype, shape);
            out(cx, v)
        }
        InstKind::FreeShared { tensor } => done(memory::free_shared(cx, *tensor)),
        InstKind::AllocRegister { dtype, shape, init } => {
            let v = memory::alloc_register(cx, *dtype, shape, *init);
            out(cx, v)
        }
        InstKind::Slice { src, indices } => {
            let v = memory::slice(cx, *src, indices);
            out(cx, v)
        }
        // ---- transfer ----
        InstKind::LoadGlobal {
            src,
            offsets,
            shape,
            dims,
        } => {
            let v = transfer::load_global(cx, *src, offsets, shape, dims.as_deref());
            out(cx, v)
        }
        InstKind::StoreGlobal {
            dst,
            src,
            offsets,
            dims,
        } => done(transfer::store_global(
            cx,
            *dst,
            *src,
            offsets,
            dims.as_deref(),
        )),
        InstKind::LoadShared { src } => {
            let v = transfer::load_shared(cx, *src);
            out(cx, v)
        }
        InstKind::StoreShared { dst, src } => done(transfer::store_shared(cx, *dst, *src)),
        // ---- copy_async ----
        InstKind::CopyAsync {
            dst,
            src,
            offsets,
            dims,
        } => done(copy_async::copy_async(
            cx,
            *dst,
            *src,
            offsets,
            dims.as_deref(),
        )),
        InstKind::CommitGroup => done(copy_async::commit_group(cx)),
        InstKind::WaitGroup { n } => done(copy_async::wait_group(cx, *n)),
        InstKind::WaitAll => done(copy_async::wait_all(cx)),
        // ---- dot ----
        InstKind::Dot { a, b, c, acc_dtype } => {
            let v = dot::dot(cx, *a, *b, *c, *acc_dtype);
            out(cx, v)
        }
        // ---- elementwise ----
        InstKind::Cast { x, dtype } => {
            let v = elementwise::cast(cx, *x, *dtype);
            out(cx, v)
        }
        InstKind::Unary { op, x } => {
            let v = elementwise::unary(cx, *op, *x);
            out(cx, v)
        }
        InstKind::Binary { op, a, b } => {
            let v = elementwise::binary(cx, *op, *a, *b);
            out(cx, v)
        }
        InstKind::Where { cond, x, y } => {
            let v = elementwise::where_(cx, *cond, *x, *y);
            out(cx, v)
        }
        // ---- view ----
        InstKind::View {
            x,
            dtype,
            shape,
            layout,
        } => {
            let v = view::view(cx, *x, *dtype, shape, *layout);
            out(cx, v)
        }
        // ---- reduce ----
        InstKind::Reduce {
            op,
            x,
            dim,
            keepdim,
        } => {
            let v = reduce::reduce(cx, *op, *x, *dim, *keepdim);
            out(cx, v)
        }
        // ---- sync ----
        InstKind::Sync => done(sync::sync(cx)),
        InstKind::LockSemaphore { sem, index, value } => {
            sync::lock_semaphore(cx, *sem, index, *value)
        }
        InstKind::ReleaseSemaphore { sem, index, value } => {
            done(sync::release_semaphore(cx, *sem, index, *value))
        }
        // ---- annotate ----
        InstKind::AnnotateLayout { .. } | InstKind::AnnotateSharedLayout { .. } => {
            done(annotate::annotate(cx))
        }
        InstKind::Print { tensor, label } => done(annotate::print(cx, *tensor, label)),
    }
}
