//! One thread: its registers, local arrays, pending copies and resumable position, and the
//! execution of statements until it blocks (barrier, warp intrinsic, semaphore) or ends.

use std::collections::VecDeque;

use tilus_ir::dtype::{pack, DType};

use super::super::{
    AtomicOp, Expr, ExprId, LocalRef, MemRef, Space, Special, Stmt, ThreadKernel, VarId,
};
use super::error::{ThreadInterpError, ThreadInterpErrorKind};
use super::value::{self, Value};

type R<T> = Result<T, ThreadInterpError>;

fn err<T>(kind: ThreadInterpErrorKind, msg: impl Into<String>) -> R<T> {
    Err(ThreadInterpError::new(kind, msg))
}

/// A global buffer during a launch.
#[derive(Clone, Debug)]
pub(crate) struct Mem {
    /// Element type.
    pub dtype: DType,
    /// Elements.
    pub len: usize,
    /// The packed bit stream.
    pub bytes: Vec<u8>,
}

impl Mem {
    pub(crate) fn get(&self, i: i64, what: &str) -> R<u64> {
        let ok = usize::try_from(i).ok().filter(|&i| i < self.len);
        match ok.and_then(|i| pack::try_get(self.dtype.bits(), &self.bytes, i).ok()) {
            Some(c) => Ok(c),
            None => err(
                ThreadInterpErrorKind::OutOfBounds,
                format!(
                    "{what}: element {i} outside a buffer of {} elements",
                    self.len
                ),
            ),
        }
    }

    pub(crate) fn set(&mut self, i: i64, code: u64, what: &str) -> R<()> {
        let ok = usize::try_from(i).ok().filter(|&i| i < self.len);
        match ok.and_then(|i| pack::try_set(self.dtype.bits(), &mut self.bytes, i, code).ok()) {
            Some(()) => Ok(()),
            None => err(
                ThreadInterpErrorKind::OutOfBounds,
                format!(
                    "{what}: element {i} outside a buffer of {} elements",
                    self.len
                ),
            ),
        }
    }
}

/// What a launch shares: the kernel, scalar arguments, grid position.
pub(crate) struct Env<'k> {
    /// The kernel.
    pub k: &'k ThreadKernel,
    /// Scalar parameter values (by parameter index; `None` for pointers).
    pub params: Vec<Option<Value>>,
    /// This block.
    pub block: [u32; 3],
    /// The grid.
    pub grid: [u32; 3],
}

/// Where a thread stands.
#[derive(Clone, Copy, Debug)]
pub(crate) enum State<'k> {
    /// Can run.
    Ready,
    /// Waiting at a barrier (already past it once released).
    Barrier(&'k Stmt),
    /// Waiting for its warp at a warp intrinsic (already past it once executed).
    Warp(&'k Stmt),
    /// Waiting on a semaphore (re-executes the acquire when resumed).
    Sem,
    /// Finished.
    Done,
}

enum Frame<'k> {
    Seq {
        body: &'k [Stmt],
        pc: usize,
    },
    Loop {
        var: VarId,
        next: i64,
        end: i64,
        step: i64,
        body: &'k [Stmt],
    },
}

/// A `cp.async` whose data is parked until a wait completes it.
struct Pending {
    dst: MemRef,
    index: i64,
    codes: Vec<u64>,
}

/// One thread.
pub(crate) struct Thread<'k> {
    /// `threadIdx.x`.
    pub id: u32,
    frames: Vec<Frame<'k>>,
    vars: Vec<Value>,
    /// Local arrays as packed bit streams.
    pub locals: Vec<Vec<u8>>,
    open: Vec<Pending>,
    committed: VecDeque<Vec<Pending>>,
    /// Where it stands.
    pub state: State<'k>,
}

/// Reads element `i` of a shared allocation.
pub(crate) fn shared_get(k: &ThreadKernel, shared: &[u8], s: MemRef, i: i64) -> R<u64> {
    let (alloc, bits, at) = shared_at(k, s, i)?;
    let bytes = shared.get(alloc..).unwrap_or(&[]);
    pack::try_get(bits, bytes, at).or_else(|_| {
        err(
            ThreadInterpErrorKind::OutOfBounds,
            "shared access beyond the block's shared memory",
        )
    })
}

fn shared_set(k: &ThreadKernel, shared: &mut [u8], s: MemRef, i: i64, code: u64) -> R<()> {
    let (alloc, bits, at) = shared_at(k, s, i)?;
    let bytes = shared.get_mut(alloc..).unwrap_or(&mut []);
    pack::try_set(bits, bytes, at, code).or_else(|_| {
        err(
            ThreadInterpErrorKind::OutOfBounds,
            "shared access beyond the block's shared memory",
        )
    })
}

/// (byte offset of the allocation, element bits, element index) of a checked access.
fn shared_at(k: &ThreadKernel, s: MemRef, i: i64) -> R<(usize, u32, usize)> {
    let Space::Shared(h) = s.space else {
        return err(ThreadInterpErrorKind::InvalidKernel, "not a shared access");
    };
    let Some(a) = k.shared.try_get(h) else {
        return err(
            ThreadInterpErrorKind::InvalidKernel,
            "dangling shared handle",
        );
    };
    match usize::try_from(i).ok().filter(|&i| i < a.len as usize) {
        Some(at) => Ok((a.offset as usize, a.dtype.bits(), at)),
        None => err(
            ThreadInterpErrorKind::OutOfBounds,
            format!(
                "shared &{}: element {i} outside an allocation of {} elements",
                a.name, a.len
            ),
        ),
    }
}

/// Reads element `i` of a space.
pub(crate) fn mem_get(
    k: &ThreadKernel,
    shared: &[u8],
    globals: &[Option<Mem>],
    m: MemRef,
    i: i64,
) -> R<u64> {
    match m.space {
        Space::Shared(_) => shared_get(k, shared, m, i),
        Space::Global(b) => match globals.get(b.index()).and_then(Option::as_ref) {
            Some(mem) => mem.get(i, &buffer_name(k, m)),
            None => err(ThreadInterpErrorKind::InvalidKernel, "dangling buffer"),
        },
    }
}

fn mem_set(
    k: &ThreadKernel,
    shared: &mut [u8],
    globals: &mut [Option<Mem>],
    m: MemRef,
    i: i64,
    code: u64,
) -> R<()> {
    match m.space {
        Space::Shared(_) => shared_set(k, shared, m, i, code),
        Space::Global(b) => match globals.get_mut(b.index()).and_then(Option::as_mut) {
            Some(mem) => mem.set(i, code, &buffer_name(k, m)),
            None => err(ThreadInterpErrorKind::InvalidKernel, "dangling buffer"),
        },
    }
}

fn buffer_name(k: &ThreadKernel, m: MemRef) -> String {
    match m.space {
        Space::Global(b) => k
            .buffers
            .try_get(b)
            .map_or_else(|| "buffer".into(), |b| format!("@{}", b.name)),
        Space::Shared(_) => "shared".into(),
    }
}

impl<'k> Thread<'k> {
    /// A thread at the start of `k`.
    pub fn new(k: &'k ThreadKernel, id: u32) -> Self {
        Thread {
            id,
            frames: vec![Frame::Seq {
                body: &k.body,
                pc: 0,
            }],
            vars: k.vars.iter().map(|(_, v)| Value::zero(v.ty)).collect(),
            locals: k
                .locals
                .iter()
                .map(|(_, a)| vec![0u8; pack::packed_len(a.dtype.bits(), a.len as usize)])
                .collect(),
            open: Vec::new(),
            committed: VecDeque::new(),
            state: State::Ready,
        }
    }

    /// The code in a local slot.
    pub fn local_get(&self, k: &ThreadKernel, r: LocalRef) -> R<u64> {
        let bits = k.locals.try_get(r.array).map(|a| (a.dtype.bits(), a.len));
        match bits {
            Some((bits, len)) if r.slot < len => {
                let bytes = self.locals.get(r.array.index()).map_or(&[][..], |v| v);
                pack::try_get(bits, bytes, r.slot as usize).or_else(|_| {
                    err(
                        ThreadInterpErrorKind::InvalidKernel,
                        "local array too short",
                    )
                })
            }
            _ => err(
                ThreadInterpErrorKind::OutOfBounds,
                format!("local slot {} out of range", r.slot),
            ),
        }
    }

    /// Writes a local slot.
    pub fn local_set(&mut self, k: &ThreadKernel, r: LocalRef, code: u64) -> R<()> {
        let bits = k.locals.try_get(r.array).map(|a| (a.dtype.bits(), a.len));
        match (bits, self.locals.get_mut(r.array.index())) {
            (Some((bits, len)), Some(bytes)) if r.slot < len => {
                pack::try_set(bits, bytes, r.slot as usize, code).or_else(|_| {
                    err(
                        ThreadInterpErrorKind::InvalidKernel,
                        "local array too short",
                    )
                })
            }
            _ => err(
                ThreadInterpErrorKind::OutOfBounds,
                format!("local slot {} out of range", r.slot),
            ),
        }
    }

    /// Evaluates an expression in this thread.
    pub fn eval(&self, env: &Env<'_>, e: ExprId) -> R<Value> {
        let Some(expr) = env.k.exprs.try_get(e) else {
            return err(ThreadInterpErrorKind::InvalidKernel, "dangling expression");
        };
        Ok(match *expr {
            Expr::Const(c) => Value::of_const(c),
            Expr::Param(i) => match env.params.get(i as usize).copied().flatten() {
                Some(v) => v,
                None => {
                    return err(
                        ThreadInterpErrorKind::InvalidKernel,
                        format!("parameter {i} is not a scalar"),
                    )
                }
            },
            Expr::Special(Special::ThreadIdx) => Value::I32(self.id as i32),
            Expr::Special(Special::BlockIdx(a)) => Value::I32(env.block[a.index()] as i32),
            Expr::Special(Special::GridDim(a)) => Value::I32(env.grid[a.index()] as i32),
            Expr::Var(v) => match self.vars.get(v.index()) {
                Some(v) => *v,
                None => return err(ThreadInterpErrorKind::InvalidKernel, "dangling variable"),
            },
            Expr::Local { array, slot } => {
                let code = self.local_get(env.k, LocalRef { array, slot })?;
                let dtype = env.k.locals.try_get(array).map_or(DType::F32, |a| a.dtype);
                Value::of_code(dtype, code)
            }
            Expr::Unary(op, a) => value::unary(op, self.eval(env, a)?)?,
            Expr::Binary(op, a, b) => value::binary(op, self.eval(env, a)?, self.eval(env, b)?)?,
            Expr::Select(c, a, b) => {
                let (c, a, b) = (self.eval(env, c)?, self.eval(env, a)?, self.eval(env, b)?);
                if c.as_bool()? {
                    a
                } else {
                    b
                }
            }
            Expr::Fma(a, b, c) => {
                value::fma(self.eval(env, a)?, self.eval(env, b)?, self.eval(env, c)?)?
            }
            Expr::Cast(t, a) => value::cast(self.eval(env, a)?, t),
            Expr::Bitcast(t, a) => value::bitcast(self.eval(env, a)?, t)?,
            Expr::Decode(d, a) => value::decode(d, self.eval(env, a)?)?,
            Expr::Encode(d, a) => value::encode(d, self.eval(env, a)?)?,
        })
    }

    fn mask(&self, env: &Env<'_>, m: Option<ExprId>) -> R<bool> {
        match m {
            Some(m) => self.eval(env, m)?.as_bool(),
            None => Ok(true),
        }
    }

    fn complete(&mut self, k: &ThreadKernel, shared: &mut [u8], group: Vec<Pending>) -> R<()> {
        for p in group {
            for (i, code) in p.codes.into_iter().enumerate() {
                shared_set(k, shared, p.dst, p.index + i as i64, code)?;
            }
        }
        Ok(())
    }

    /// Runs until the thread blocks or ends; returns the number of statements executed.
    pub fn run(
        &mut self,
        env: &Env<'k>,
        shared: &mut [u8],
        globals: &mut [Option<Mem>],
        budget: u64,
    ) -> R<u64> {
        let mut steps = 0u64;
        self.state = State::Ready;
        loop {
            if steps >= budget {
                return err(
                    ThreadInterpErrorKind::StepLimit,
                    "the step limit was reached (an endless loop?)",
                );
            }
            let Some(top) = self.frames.last_mut() else {
                self.state = State::Done;
                return Ok(steps);
            };
            let stmt = match top {
                Frame::Seq { body, pc } => {
                    let body: &'k [Stmt] = body;
                    match body.get(*pc) {
                        Some(s) => {
                            *pc += 1;
                            s
                        }
                        None => {
                            self.frames.pop();
                            continue;
                        }
                    }
                }
                Frame::Loop {
                    var,
                    next,
                    end,
                    step,
                    body,
                } => {
                    // Every iteration counts as a step, so empty loops are bounded too.
                    steps += 1;
                    if *next < *end {
                        let (v, body): (VarId, &'k [Stmt]) = (*var, *body);
                        let cur = *next;
                        *next = cur.saturating_add(*step);
                        if let Some(slot) = self.vars.get_mut(v.index()) {
                            *slot = Value::I32(cur as i32);
                        }
                        self.frames.push(Frame::Seq { body, pc: 0 });
                    } else {
                        self.frames.pop();
                    }
                    continue;
                }
            };
            steps += 1;
            if self.exec(env, shared, globals, stmt)? {
                return Ok(steps);
            }
        }
    }

    /// Executes one statement; `true` when the thread blocked on it.
    fn exec(
        &mut self,
        env: &Env<'k>,
        shared: &mut [u8],
        globals: &mut [Option<Mem>],
        stmt: &'k Stmt,
    ) -> R<bool> {
        let k = env.k;
        match stmt {
            Stmt::Assign { var, value } => {
                let v = self.eval(env, *value)?;
                match self.vars.get_mut(var.index()) {
                    Some(slot) => *slot = v,
                    None => return err(ThreadInterpErrorKind::InvalidKernel, "dangling variable"),
                }
            }
            Stmt::SetLocal { dst, value } => {
                let v = self.eval(env, *value)?;
                let dtype = k.locals.try_get(dst.array).map_or(DType::F32, |a| a.dtype);
                self.local_set(k, *dst, v.to_code(dtype))?;
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => {
                let on = self.mask(env, *mask)?;
                let base = if on {
                    self.eval(env, src.index)?.as_index()?
                } else {
                    0
                };
                for i in 0..*width {
                    let code = if on {
                        mem_get(k, shared, globals, *src, base + i64::from(i))?
                    } else {
                        0
                    };
                    let r = LocalRef {
                        array: dst.array,
                        slot: dst.slot + i,
                    };
                    self.local_set(k, r, code)?;
                }
            }
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => {
                if self.mask(env, *mask)? {
                    let base = self.eval(env, dst.index)?.as_index()?;
                    for i in 0..*width {
                        let r = LocalRef {
                            array: src.array,
                            slot: src.slot + i,
                        };
                        let code = self.local_get(k, r)?;
                        mem_set(k, shared, globals, *dst, base + i64::from(i), code)?;
                    }
                }
            }
            Stmt::View { dst, src } => {
                let from = self.locals.get(src.index()).cloned().unwrap_or_default();
                match self.locals.get_mut(dst.index()) {
                    Some(to) => {
                        let n = to.len().min(from.len());
                        to[..n].copy_from_slice(&from[..n]);
                    }
                    None => return err(ThreadInterpErrorKind::InvalidKernel, "dangling array"),
                }
            }
            Stmt::CopyAsync {
                dst,
                src,
                width,
                mask,
            } => {
                let on = self.mask(env, *mask)?;
                let index = self.eval(env, dst.index)?.as_index()?;
                let mut codes = vec![0u64; *width as usize];
                if on {
                    let base = self.eval(env, src.index)?.as_index()?;
                    for (i, c) in codes.iter_mut().enumerate() {
                        *c = mem_get(k, shared, globals, *src, base + i as i64)?;
                    }
                }
                self.open.push(Pending {
                    dst: *dst,
                    index,
                    codes,
                });
            }
            Stmt::CommitGroup => {
                let g = std::mem::take(&mut self.open);
                self.committed.push_back(g);
            }
            Stmt::WaitGroup(n) => {
                while self.committed.len() > *n as usize {
                    if let Some(g) = self.committed.pop_front() {
                        self.complete(k, shared, g)?;
                    }
                }
            }
            Stmt::WaitAll => {
                while let Some(g) = self.committed.pop_front() {
                    self.complete(k, shared, g)?;
                }
                let g = std::mem::take(&mut self.open);
                self.complete(k, shared, g)?;
            }
            Stmt::Barrier | Stmt::SharedBarrier => {
                self.state = State::Barrier(stmt);
                return Ok(true);
            }
            Stmt::Mma { .. } | Stmt::LdMatrix { .. } | Stmt::Shuffle { .. } => {
                self.state = State::Warp(stmt);
                return Ok(true);
            }
            Stmt::SemAcquire { sem, value } => {
                let want = self.eval(env, *value)?;
                let i = self.eval(env, sem.index)?.as_index()?;
                let code = mem_get(k, shared, globals, *sem, i)?;
                let have = Value::of_code(SEM_DTYPE, code);
                if have != want {
                    // Re-executed when the block is resumed.
                    self.rewind();
                    self.state = State::Sem;
                    return Ok(true);
                }
            }
            Stmt::SemRelease { sem, value } => {
                let v = self.eval(env, *value)?;
                let i = self.eval(env, sem.index)?.as_index()?;
                mem_set(k, shared, globals, *sem, i, v.to_code(SEM_DTYPE))?;
            }
            Stmt::Atomic { op, dst, value } => {
                let v = self.eval(env, *value)?;
                let i = self.eval(env, dst.index)?.as_index()?;
                let dtype = k.space_dtype(dst.space).unwrap_or(SEM_DTYPE);
                let old = mem_get(k, shared, globals, *dst, i)?;
                let operand = v.to_code(dtype);
                let new = match op {
                    AtomicOp::And => old & operand,
                    AtomicOp::Or => old | operand,
                };
                mem_set(k, shared, globals, *dst, i, new)?;
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let s = self.eval(env, *start)?.as_index()?;
                let e = self.eval(env, *end)?.as_index()?;
                let st = self.eval(env, *step)?.as_index()?;
                if st <= 0 {
                    return err(
                        ThreadInterpErrorKind::InvalidValue,
                        format!("loop step {st} is not positive"),
                    );
                }
                self.frames.push(Frame::Loop {
                    var: *var,
                    next: s,
                    end: e,
                    step: st,
                    body,
                });
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let body = if self.eval(env, *cond)?.as_bool()? {
                    then_body
                } else {
                    else_body
                };
                self.frames.push(Frame::Seq { body, pc: 0 });
            }
        }
        Ok(false)
    }

    /// Steps back to the statement just executed (for a semaphore wait).
    fn rewind(&mut self) {
        if let Some(Frame::Seq { pc, .. }) = self.frames.last_mut() {
            *pc = pc.saturating_sub(1);
        }
    }
}

/// The dtype of semaphores.
pub(crate) const SEM_DTYPE: DType = DType::Int {
    bits: 32,
    signed: true,
};
