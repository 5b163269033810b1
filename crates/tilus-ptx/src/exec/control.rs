//! The block scheduler: runs threads to their next synchronization point, executes warp
//! collectives whose lanes are all there, releases `bar.sync`, and reports divergence.

use super::{run_thread, warp, Env, State, Thread};
use crate::ir::{Entry, Op, WarpOp};
use crate::PtxError;

fn describe(entry: &Entry, th: &Thread) -> String {
    let at = |pc: u32| {
        entry.insts.get(pc as usize).map_or_else(
            || "the end".to_string(),
            |i| format!("line {} `{}`", i.line, i.text),
        )
    };
    match th.state {
        State::Running => format!("thread {} is running at {}", th.tid, at(th.pc)),
        State::Barrier => format!("thread {} waits at bar.sync ({})", th.tid, at(th.pc)),
        State::Collective => format!("thread {} waits at {}", th.tid, at(th.pc)),
        State::Exited => format!("thread {} exited (line {})", th.tid, th.exit_line),
    }
}

/// Runs one block to completion.
pub(crate) fn run_block(
    entry: &Entry,
    threads: &mut [Thread],
    env: &mut Env,
) -> Result<(), PtxError> {
    loop {
        for th in threads.iter_mut() {
            if th.state == State::Running {
                run_thread(entry, th, env)?;
            }
        }
        let mut progressed = false;
        for (w, warp) in threads.chunks_mut(32).enumerate() {
            progressed |= resolve_warp(entry, w, warp, env)?;
        }
        if progressed {
            continue;
        }
        let Some(waiter) = threads.iter().find(|t| t.state != State::Exited) else {
            return Ok(());
        };
        if waiter.state != State::Barrier {
            return Err(env.sync_err(format!("deadlock: {}", describe(entry, waiter))));
        }
        if let Some(ex) = threads.iter().find(|t| t.state == State::Exited) {
            return Err(env.sync_err(format!(
                "barrier divergence: {} while {}",
                describe(entry, ex),
                describe(entry, waiter)
            )));
        }
        for th in threads.iter_mut() {
            th.pc += 1;
            th.state = State::Running;
        }
    }
}

/// Executes the collective the lanes of warp `w` wait at, if any; errors when they do not
/// all wait at the same one.
fn resolve_warp(
    entry: &Entry,
    w: usize,
    warp: &mut [Thread],
    env: &mut Env,
) -> Result<bool, PtxError> {
    let Some(first) = warp.iter().position(|t| t.state == State::Collective) else {
        return Ok(false);
    };
    let pc = warp[first].pc;
    let Some(inst) = entry.insts.get(pc as usize) else {
        return Err(env.sync_err(format!("warp {w}: collective past the end of the kernel")));
    };
    let Op::Warp(op) = &inst.op else {
        return Err(env.sync_err(format!(
            "warp {w}: line {} `{}` is not a collective",
            inst.line, inst.text
        )));
    };
    let shfl = matches!(op, WarpOp::Shfl { .. });
    let name = inst.text.split_whitespace().next().unwrap_or("");
    if !shfl && warp.len() < 32 {
        return Err(env.sync_err(format!(
            "warp {w}: `{name}` (line {}) needs a full warp of 32 threads, but the warp has {} \
             (the block's last warp is partial)",
            inst.line,
            warp.len()
        )));
    }
    for th in warp.iter() {
        let ok = match th.state {
            State::Collective => th.pc == pc,
            State::Exited => shfl,
            State::Barrier | State::Running => false,
        };
        if !ok {
            return Err(env.sync_err(format!(
                "warp divergence in warp {w}: {} while {}",
                describe(entry, &warp[first]),
                describe(entry, th)
            )));
        }
    }
    let lane_err = |env: &Env, warp: &[Thread], (lane, m): (usize, String)| {
        let tid = warp
            .get(lane)
            .map_or(32 * w as u32 + lane as u32, |t| t.tid);
        env.exec_err(inst, tid, m)
    };
    match *op {
        WarpOp::Mma { bf16, d, a, b, c } => warp::mma(bf16, d, a, b, c, warp),
        WarpOp::Ldmatrix { n, trans, d, addr } => {
            warp::ldmatrix(n, trans, d, addr, warp, env).map_err(|e| lane_err(env, warp, e))?
        }
        WarpOp::Shfl {
            idx,
            d,
            a,
            b,
            c,
            mask,
        } => warp::shfl(idx, d, a, b, c, mask, warp).map_err(|e| lane_err(env, warp, e))?,
    }
    for th in warp.iter_mut() {
        if th.state == State::Collective {
            th.pc += 1;
            th.state = State::Running;
        }
    }
    Ok(true)
}
