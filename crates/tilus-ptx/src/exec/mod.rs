//! Execution: launch checks, per-thread state and the instruction loop. The block scheduler
//! (barriers, warp collectives) is in [`control`]; instruction families have a module each.

mod control;
mod convert;
mod float;
mod int;
mod memory;
pub(crate) mod warp;

use crate::ir::{CtrlOp, Entry, Inst, Op, Special, Src};
use crate::{
    LaunchConfig, Memory, ParamKind, ParamValue, PtxError, RunOptions, RunStats, MAX_BLOCK_THREADS,
    MAX_BUFFERS, MAX_SHARED_BYTES, SHARED_GARBAGE,
};

/// The most register storage (in bytes) one block may need.
const MAX_REGISTER_BYTES: u64 = 1 << 30;

/// The value of a source operand.
#[inline(always)]
pub(crate) fn val(r: &[u64], s: Src) -> u64 {
    match s {
        Src::Reg(i) => r[i as usize],
        Src::Imm(v) => v,
    }
}

/// The low 32 bits of a source operand.
#[inline(always)]
pub(crate) fn val32(r: &[u64], s: Src) -> u32 {
    val(r, s) as u32
}

/// Where a thread is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Can run.
    Running,
    /// Waits at the `bar.sync` at its pc.
    Barrier,
    /// Waits at the warp collective at its pc.
    Collective,
    /// Has exited (at `exit_line`).
    Exited,
}

/// One thread of a block.
pub(crate) struct Thread {
    pub regs: Vec<u64>,
    pub pc: u32,
    pub state: State,
    /// Linear index in the block.
    pub tid: u32,
    /// Line of the `ret` (or end of kernel) where the thread exited.
    pub exit_line: u32,
    pub cp: memory::CpQueue,
}

/// What a block's threads share.
pub(crate) struct Env<'a> {
    pub global: &'a mut Memory,
    pub shared: &'a mut Vec<u8>,
    pub params: &'a [u64],
    pub ctaid: [u32; 3],
    pub nctaid: [u32; 3],
    /// `blockDim.x`.
    pub block_x: u32,
    /// Instructions executed so far in the launch.
    pub steps: u64,
    pub max_steps: u64,
}

impl Env<'_> {
    /// An error of instruction `inst` executed by thread `tid`.
    pub(crate) fn exec_err(&self, inst: &Inst, tid: u32, message: String) -> PtxError {
        PtxError::Exec {
            line: inst.line as usize,
            inst: inst.text.to_string(),
            block: self.ctaid,
            thread: tid,
            message,
        }
    }

    /// A synchronization error of this block.
    pub(crate) fn sync_err(&self, message: String) -> PtxError {
        PtxError::Sync {
            block: self.ctaid,
            message,
        }
    }
}

/// Checks the launch against the entry and runs every block.
pub(crate) fn launch(
    entry: &Entry,
    cfg: &LaunchConfig,
    params: &[ParamValue],
    memory: &mut Memory,
    opts: &RunOptions,
) -> Result<RunStats, PtxError> {
    let lerr = |m: String| Err(PtxError::Launch(format!("entry `{}`: {m}", entry.name)));
    if memory.buffers.len() >= MAX_BUFFERS {
        return lerr(format!(
            "{} buffers; a launch takes fewer than {MAX_BUFFERS}",
            memory.buffers.len()
        ));
    }
    if params.len() != entry.params.len() {
        return lerr(format!(
            "takes {} parameters, got {}",
            entry.params.len(),
            params.len()
        ));
    }
    let mut values = Vec::with_capacity(params.len());
    for (k, (p, v)) in entry.params.iter().zip(params).enumerate() {
        match (p.kind, *v) {
            (ParamKind::U64, ParamValue::U64(x)) => values.push(x),
            (ParamKind::U32, ParamValue::U32(x)) => values.push(x as u64),
            (kind, v) => {
                return lerr(format!(
                    "parameter {k} `{}` is {kind:?} but got {v:?}",
                    p.name
                ))
            }
        }
    }
    if cfg.grid.contains(&0) || cfg.block.contains(&0) {
        return lerr(format!(
            "grid {:?} and block {:?} must have no zero extent",
            cfg.grid, cfg.block
        ));
    }
    let threads: u64 = cfg.block.iter().map(|&b| b as u64).product();
    if threads > MAX_BLOCK_THREADS as u64 {
        return lerr(format!(
            "block {:?} has {threads} threads, more than {MAX_BLOCK_THREADS}",
            cfg.block
        ));
    }
    if let Some(m) = entry.maxntid {
        let max: u64 = m.iter().map(|&x| x as u64).product();
        if threads > max {
            return lerr(format!(
                "block {:?} has {threads} threads, more than .maxntid {m:?} allows ({max})",
                cfg.block
            ));
        }
    }
    if cfg.dynamic_shared_bytes > MAX_SHARED_BYTES {
        return lerr(format!(
            "{} bytes of dynamic shared memory, more than {MAX_SHARED_BYTES}",
            cfg.dynamic_shared_bytes
        ));
    }
    if threads * entry.num_regs as u64 * 8 > MAX_REGISTER_BYTES {
        return lerr(format!(
            "{threads} threads × {} registers need too much memory",
            entry.num_regs
        ));
    }
    let mut threads: Vec<Thread> = (0..threads as u32)
        .map(|tid| Thread {
            regs: vec![0; entry.num_regs as usize],
            pc: 0,
            state: State::Running,
            tid,
            exit_line: 0,
            cp: memory::CpQueue::default(),
        })
        .collect();
    let mut shared = vec![SHARED_GARBAGE; cfg.dynamic_shared_bytes as usize];
    let mut env = Env {
        global: memory,
        shared: &mut shared,
        params: &values,
        ctaid: [0; 3],
        nctaid: cfg.grid,
        block_x: cfg.block[0],
        steps: 0,
        max_steps: opts.max_steps,
    };
    let mut blocks = 0u64;
    for z in 0..cfg.grid[2] {
        for y in 0..cfg.grid[1] {
            for x in 0..cfg.grid[0] {
                if blocks > 0 {
                    for t in threads.iter_mut() {
                        t.regs.fill(0);
                        t.pc = 0;
                        t.state = State::Running;
                        t.exit_line = 0;
                        t.cp.clear();
                    }
                    env.shared.fill(SHARED_GARBAGE);
                }
                env.ctaid = [x, y, z];
                control::run_block(entry, &mut threads, &mut env)?;
                blocks += 1;
            }
        }
    }
    Ok(RunStats {
        instructions: env.steps,
        blocks,
    })
}

/// Marks `th` exited at `line`, completing its outstanding `cp.async` copies.
fn exit(th: &mut Thread, env: &mut Env, line: u32) {
    th.state = State::Exited;
    th.exit_line = line;
    th.cp.wait(0, true, env.shared);
}

/// Runs thread `th` until it waits at a barrier or collective, or exits.
pub(crate) fn run_thread(entry: &Entry, th: &mut Thread, env: &mut Env) -> Result<(), PtxError> {
    let insts = &entry.insts[..];
    loop {
        let Some(inst) = insts.get(th.pc as usize) else {
            // Falling off the end of the kernel is an implicit `ret` (counted as one step).
            env.steps += 1;
            let line = insts.last().map_or(entry.line, |i| i.line);
            exit(th, env, line);
            return Ok(());
        };
        if env.steps >= env.max_steps {
            return Err(PtxError::StepLimit {
                max_steps: env.max_steps,
                line: inst.line as usize,
                inst: inst.text.to_string(),
                block: env.ctaid,
                thread: th.tid,
            });
        }
        env.steps += 1;
        if let Some(g) = inst.guard {
            if (th.regs[g.pred as usize] != 0) == g.negate {
                th.pc += 1;
                continue;
            }
        }
        match &inst.op {
            Op::Int(op) => {
                int::exec(op, &mut th.regs).map_err(|m| env.exec_err(inst, th.tid, m))?
            }
            Op::Float(op) => float::exec(op, &mut th.regs),
            Op::Cvt(op) => convert::exec(op, &mut th.regs),
            Op::Mem(op) => memory::exec(op, th, env).map_err(|m| env.exec_err(inst, th.tid, m))?,
            Op::Warp(_) => {
                th.state = State::Collective;
                return Ok(());
            }
            Op::Ctrl(op) => match *op {
                CtrlOp::Bra(target) => {
                    th.pc = target;
                    continue;
                }
                CtrlOp::Bar => {
                    th.state = State::Barrier;
                    return Ok(());
                }
                CtrlOp::Ret => {
                    exit(th, env, inst.line);
                    return Ok(());
                }
                CtrlOp::Special { d, s } => {
                    th.regs[d as usize] = match s {
                        Special::TidX => th.tid % env.block_x.max(1),
                        Special::Ctaid(k) => env.ctaid[k as usize % 3],
                        Special::Nctaid(k) => env.nctaid[k as usize % 3],
                        Special::LaneId => th.tid % 32,
                    } as u64;
                }
            },
        }
        th.pc += 1;
    }
}
