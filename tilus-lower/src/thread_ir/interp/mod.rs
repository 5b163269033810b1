//! The thread interpreter: runs a [`ThreadKernel`] on the CPU, block by block, thread by
//! thread, so lowering is tested without a GPU.
//!
//! Within a block the threads run in turn, each until it blocks: at a [`Stmt::Barrier`](super::Stmt::Barrier)
//! (released when every thread of the block waits at the same barrier; a barrier some
//! threads never reach is a [`ThreadInterpErrorKind::BarrierMismatch`]), at a warp
//! intrinsic ([`Stmt::Mma`](super::Stmt::Mma), [`Stmt::LdMatrix`](super::Stmt::LdMatrix), executed once all lanes of the warp wait
//! at it), or at a [`Stmt::SemAcquire`](super::Stmt::SemAcquire) whose value is not there yet. Each thread keeps an
//! explicit frame stack, so it resumes where it stopped. Shared memory belongs to the block;
//! global buffers are shared by all blocks. Blocks start in order (x fastest); a block
//! waiting on a semaphore is suspended and the next one starts; suspended blocks are retried
//! after every other block's progress, and when none can move the run fails with
//! [`ThreadInterpErrorKind::Deadlock`].
//!
//! `cp.async` reads its source when issued and writes its destination when a wait completes
//! its group; loop bounds are evaluated once when a loop starts.

mod error;
mod exec;
mod value;
mod warp;

pub use error::{ThreadInterpError, ThreadInterpErrorKind};
/// Launch arguments and host buffers are the tile interpreter's, so one set of arguments runs
/// both interpreters.
pub use tilus_ir::interp::{Arg, HostBuffer};
pub(crate) use value::int_to_f64_odd;
pub use value::Value;

use tilus_ir::dtype::{pack, DType};

use super::{BufferKind, ParamKind, ThreadKernel};
use exec::{Env, Mem, State, Thread};

type R<T> = Result<T, ThreadInterpError>;

fn err<T>(kind: ThreadInterpErrorKind, msg: impl Into<String>) -> R<T> {
    Err(ThreadInterpError::new(kind, msg))
}

/// Options of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Most statements executed (all threads of all blocks) before failing with
    /// [`ThreadInterpErrorKind::StepLimit`].
    pub max_steps: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { max_steps: 1 << 34 }
    }
}

/// Runs every block of the launch (grid from the kernel's grid expressions).
pub fn run_kernel(kernel: &ThreadKernel, args: &mut [Arg], opts: &RunOptions) -> R<()> {
    with_launch(kernel, args, |launch| {
        let [gx, gy, gz] = launch.grid;
        let mut blocks = Vec::new();
        for z in 0..gz {
            for y in 0..gy {
                for x in 0..gx {
                    blocks.push([x, y, z]);
                }
            }
        }
        launch.run_blocks(&blocks, opts.max_steps)
    })
}

/// Runs one block alone (a semaphore wait that never succeeds is a deadlock).
pub fn run_block(
    kernel: &ThreadKernel,
    block: [u32; 3],
    args: &mut [Arg],
    opts: &RunOptions,
) -> R<()> {
    with_launch(kernel, args, |launch| {
        launch.run_blocks(&[block], opts.max_steps)
    })
}

struct Launch<'k> {
    k: &'k ThreadKernel,
    params: Vec<Option<Value>>,
    globals: Vec<Option<Mem>>,
    grid: [u32; 3],
}

struct Block<'k> {
    idx: [u32; 3],
    shared: Vec<u8>,
    threads: Vec<Thread<'k>>,
}

enum Progress {
    Done,
    Blocked,
}

fn with_launch(
    k: &ThreadKernel,
    args: &mut [Arg],
    run: impl FnOnce(&mut Launch<'_>) -> R<()>,
) -> R<()> {
    let name = k.name.clone();
    let result = (|| {
        let mut launch = Launch::new(k, args)?;
        run(&mut launch)?;
        launch.finish(args)
    })();
    result.map_err(|mut e| {
        e.kernel.get_or_insert(name);
        e
    })
}

fn bad_arg<T>(msg: String) -> R<T> {
    err(ThreadInterpErrorKind::BadArgument, msg)
}

impl<'k> Launch<'k> {
    fn new(k: &'k ThreadKernel, args: &[Arg]) -> R<Self> {
        if args.len() != k.params.len() {
            return bad_arg(format!(
                "{} arguments given for {} parameters",
                args.len(),
                k.params.len()
            ));
        }
        let mut params = vec![None; k.params.len()];
        let mut ints: Vec<Option<i64>> = vec![None; k.params.len()];
        let mut globals: Vec<Option<Mem>> = vec![None; k.buffers.len()];
        for (i, (p, a)) in k.params.iter().zip(args).enumerate() {
            match (p.kind, a) {
                (ParamKind::Scalar(t), Arg::Int(v)) => {
                    let d = p.dtype.unwrap_or(DType::Int {
                        bits: 32,
                        signed: true,
                    });
                    let code = if d.is_int() {
                        d.wrap_int(*v)
                    } else {
                        d.encode_f64(value::int_to_f64_odd(i128::from(*v)))
                    };
                    params[i] = Some(value::cast(Value::of_code(d, code), t));
                    ints[i] = Some(*v);
                }
                (ParamKind::Scalar(t), Arg::Float(x)) => {
                    let d = p.dtype.unwrap_or(DType::F32);
                    params[i] = Some(value::cast(Value::of_code(d, d.encode_f64(*x)), t));
                }
                (ParamKind::Pointer(b), Arg::Buffer(h)) => {
                    let want = k.buffers.try_get(b).map(|b| b.dtype);
                    if want != Some(h.dtype) {
                        return bad_arg(format!(
                            "parameter #{} wants a buffer of {:?}, got {}",
                            p.name, want, h.dtype
                        ));
                    }
                    if h.bytes.len() < pack::packed_len(h.dtype.bits(), h.len) {
                        return bad_arg(format!("buffer for #{} is too short", p.name));
                    }
                    if let Some(slot) = globals.get_mut(b.index()) {
                        *slot = Some(Mem {
                            dtype: h.dtype,
                            len: h.len,
                            bytes: h.bytes.clone(),
                        });
                    }
                }
                (kind, a) => {
                    return bad_arg(format!(
                        "parameter #{} ({kind:?}) cannot take {a:?}",
                        p.name
                    ))
                }
            }
        }
        for (h, b) in k.buffers.iter() {
            if let BufferKind::Workspace { elements, .. } = &b.kind {
                let n = elements.eval(&ints).and_then(|n| usize::try_from(n).ok());
                let Some(n) = n else {
                    return err(
                        ThreadInterpErrorKind::InvalidValue,
                        format!("workspace @{} has no valid size", b.name),
                    );
                };
                if let Some(slot) = globals.get_mut(h.index()) {
                    *slot = Some(Mem {
                        dtype: b.dtype,
                        len: n,
                        bytes: vec![0; pack::packed_len(b.dtype.bits(), n)],
                    });
                }
            }
        }
        let mut grid = [1u32; 3];
        for (d, g) in k.grid.iter().enumerate().take(3) {
            let v = g.eval(&ints).and_then(|v| u32::try_from(v).ok());
            match v {
                Some(v) => grid[d] = v,
                None => {
                    return err(
                        ThreadInterpErrorKind::InvalidValue,
                        format!("grid extent {d} is negative, too large or not computable"),
                    )
                }
            }
        }
        Ok(Launch {
            k,
            params,
            globals,
            grid,
        })
    }

    fn finish(self, args: &mut [Arg]) -> R<()> {
        for (h, b) in self.k.buffers.iter() {
            if let BufferKind::Workspace {
                requires_clean: true,
                ..
            } = b.kind
            {
                let dirty = self.globals[h.index()]
                    .as_ref()
                    .is_some_and(|m| m.bytes.iter().any(|&x| x != 0));
                if dirty {
                    return err(
                        ThreadInterpErrorKind::RequiresCleanViolated,
                        format!("workspace @{} is not all zeros at the end", b.name),
                    );
                }
            }
        }
        for (p, a) in self.k.params.iter().zip(args.iter_mut()) {
            if let (ParamKind::Pointer(b), Arg::Buffer(h)) = (p.kind, a) {
                if let Some(Some(m)) = self.globals.get(b.index()) {
                    h.bytes.clone_from(&m.bytes);
                }
            }
        }
        Ok(())
    }

    fn env(&self, block: [u32; 3]) -> Env<'_> {
        Env {
            k: self.k,
            params: self.params.clone(),
            block,
            grid: self.grid,
        }
    }

    fn new_block(&self, idx: [u32; 3]) -> Block<'k> {
        Block {
            idx,
            shared: vec![0; self.k.shared_bytes as usize],
            threads: (0..self.k.num_threads)
                .map(|t| Thread::new(self.k, t))
                .collect(),
        }
    }

    fn run_blocks(&mut self, order: &[[u32; 3]], max_steps: u64) -> R<()> {
        let mut budget = max_steps;
        let mut suspended: Vec<Block<'k>> = Vec::new();
        let mut next = order.iter();
        loop {
            // Retry suspended blocks first, then start a new one.
            let mut moved = false;
            let mut i = 0;
            while i < suspended.len() {
                let (p, progressed) = self.step_block(&mut suspended[i], &mut budget)?;
                moved |= progressed;
                match p {
                    Progress::Done => {
                        suspended.swap_remove(i);
                    }
                    Progress::Blocked => i += 1,
                }
            }
            if moved {
                continue;
            }
            match next.next() {
                Some(&idx) => {
                    let mut b = self.new_block(idx);
                    if let (Progress::Blocked, _) = self.step_block(&mut b, &mut budget)? {
                        suspended.push(b);
                    }
                }
                None if suspended.is_empty() => return Ok(()),
                None => {
                    let list: Vec<String> = suspended
                        .iter()
                        .map(|b| format!("({},{},{})", b.idx[0], b.idx[1], b.idx[2]))
                        .collect();
                    return err(
                        ThreadInterpErrorKind::Deadlock,
                        format!(
                            "blocks {} wait on semaphores that no block will change",
                            list.join(", ")
                        ),
                    );
                }
            }
        }
    }

    /// Runs a block until it finishes or every unfinished thread waits on a semaphore.
    fn step_block(&mut self, b: &mut Block<'k>, budget: &mut u64) -> R<(Progress, bool)> {
        let idx = b.idx;
        let k = self.k;
        let mut progressed = false;
        loop {
            let mut moved = false;
            let env = Env {
                k,
                params: self.params.clone(),
                block: idx,
                grid: self.grid,
            };
            for t in b.threads.iter_mut() {
                if matches!(t.state, State::Ready | State::Sem) {
                    let was_sem = matches!(t.state, State::Sem);
                    let steps = t
                        .run(&env, &mut b.shared, &mut self.globals, *budget)
                        .map_err(|e| e.in_block(idx).in_thread(t.id))?;
                    *budget -= steps;
                    // A semaphore wait that is still not satisfied executes its acquire
                    // once without progress.
                    let stuck = was_sem && steps == 1 && matches!(t.state, State::Sem);
                    moved |= steps > 0 && !stuck;
                }
            }
            progressed |= moved;
            if b.threads.iter().all(|t| matches!(t.state, State::Done)) {
                return Ok((Progress::Done, true));
            }
            if self.resolve(b).map_err(|e| e.in_block(idx))? {
                progressed = true;
                continue;
            }
            if moved {
                continue;
            }
            if b.threads.iter().any(|t| matches!(t.state, State::Sem)) {
                return Ok((Progress::Blocked, progressed));
            }
            return err(ThreadInterpErrorKind::BarrierMismatch, describe(b))
                .map_err(|e: ThreadInterpError| e.in_block(idx));
        }
    }

    /// Releases a barrier every thread waits at, or executes warp intrinsics every lane of
    /// a warp waits at; `true` when something was released.
    fn resolve(&self, b: &mut Block<'k>) -> R<bool> {
        // A barrier, when every thread waits at the same one.
        let first = b.threads.first().map(|t| t.state);
        if let Some(State::Barrier(s)) = first {
            let all = b
                .threads
                .iter()
                .all(|t| matches!(t.state, State::Barrier(x) if std::ptr::eq(x, s)));
            if all {
                for t in b.threads.iter_mut() {
                    t.state = State::Ready;
                }
                return Ok(true);
            }
        }
        let mut released = false;
        let env = self.env(b.idx);
        for lanes in b.threads.chunks_mut(32) {
            let Some(State::Warp(s)) = lanes.first().map(|t| t.state) else {
                continue;
            };
            let all = lanes
                .iter()
                .all(|t| matches!(t.state, State::Warp(x) if std::ptr::eq(x, s)));
            if all {
                warp::execute(&env, &b.shared, lanes, s)?;
                for t in lanes.iter_mut() {
                    t.state = State::Ready;
                }
                released = true;
            }
        }
        Ok(released)
    }
}

/// Where the threads of a stuck block stand, for the error message.
fn describe(b: &Block<'_>) -> String {
    let mut done = 0;
    let mut barrier = Vec::new();
    let mut warp = Vec::new();
    for t in &b.threads {
        match t.state {
            State::Done => done += 1,
            State::Barrier(_) => barrier.push(t.id),
            State::Warp(_) => warp.push(t.id),
            State::Ready | State::Sem => {}
        }
    }
    let show = |v: &[u32]| -> String {
        let head: Vec<String> = v.iter().take(8).map(u32::to_string).collect();
        format!(
            "{}{}",
            head.join(", "),
            if v.len() > 8 { ", …" } else { "" }
        )
    };
    format!(
        "threads cannot meet: {done} finished, {} wait at barriers (threads {}), {} at warp \
         intrinsics (threads {}); every thread must reach the same barrier",
        barrier.len(),
        show(&barrier),
        warp.len(),
        show(&warp)
    )
}
