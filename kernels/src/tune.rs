//! The autotuner of the a16wX GEMM: a search space of plans with validity predicates,
//! candidates compiled in parallel and timed on the device, and winners kept on disk.
//!
//! # Search space
//! [`search_space`] lists the SIMT tiles (threads along `n` and `k`, columns per thread,
//! rows per block) and, on a target with tensor cores, the MMA-tiled kernel. A candidate is
//! kept only if its configuration validates (thread counts, `ks·bits` whole words, the group
//! a multiple of the k-tile) and fits the device (threads per block, shared memory).
//!
//! # Records
//! A winner is stored per (kernel, activation, weight type, group, mode, `n`, `k`, the
//! bucket of `m` — rounded up to a multiple of `2^(bitlen(m)−3)`, four buckets per octave —,
//! the device's fingerprint and the compiler's build) as
//! `<cache dir>/tuning/<key>.txt`: a header line with the key's text, then the ranking, one
//! `<median µs>\t<plan>` line per candidate, best first. Plans are stored by their
//! [`A16WxPlan::describe`] line and matched against the regenerated space, so a record
//! never names a plan that no longer exists.
//!
//! # Failure handling
//! [`choose_plan`] takes the recorded winner when it is still in the space and prepares.
//! When it does not (validation, compilation, launch fail, or the record names a plan that
//! no longer exists), it tunes again and rewrites the record, and falls back to the next
//! stored candidate that prepares if tuning fails too; an unreadable record is retuned.
//! It never panics.

use std::fmt::Write as _;
use std::path::PathBuf;

use tilus_ir::program::Program;
use tilus_ir::verify::verify;
use tilus_lower::pipeline::CompileOptions;
use tilus_lower::target::TargetCaps;
use tilus_runtime::cache::{compiler_build, default_dir, CompileCache};
use tilus_runtime::Device;

use crate::config::A16WxConfig;
use crate::device::PreparedGemm;
use crate::error::{KernelError, Result};
use crate::plan::A16WxPlan;
use crate::quant::Quantized;
use crate::simt::SimtConfig;

/// Timing of the candidates: warm-up and timed launches each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TuneOptions {
    /// Launches before timing.
    pub warmup: u32,
    /// Timed launches (the median counts).
    pub repeats: u32,
}

impl Default for TuneOptions {
    fn default() -> Self {
        TuneOptions {
            warmup: 2,
            repeats: 5,
        }
    }
}

/// Where the chosen plan came from.
#[derive(Clone, Debug, PartialEq)]
pub enum TuneSource {
    /// A stored record (the `n`-th ranked candidate; 0 is the winner).
    Record(usize),
    /// Tuned now (and stored): the ranking, best first, in µs.
    Tuned(Vec<(A16WxPlan, f64)>),
    /// The device is the interpreter: no tuning, the default plan.
    Default,
}

/// `m` rounded up to a multiple of `2^(bitlen(m) − 3)`: four buckets per octave (`8, 10, 12,
/// 14, 16, 20, …`), exact below 8.
pub fn m_bucket(m: usize) -> usize {
    let bits = usize::BITS - m.max(1).leading_zeros();
    let q = 1usize << bits.saturating_sub(3);
    m.max(1).div_ceil(q) * q
}

/// Every valid plan for the problem on a target with `caps`, the default first.
pub fn search_space(
    weights: (
        tilus_ir::dtype::DType,
        tilus_ir::dtype::DType,
        crate::config::GroupSize,
        crate::config::QuantMode,
    ),
    (m, n, k): (usize, usize, usize),
    caps: &TargetCaps,
) -> Vec<A16WxPlan> {
    let (act, wtype, group, mode) = weights;
    let has_mma = !caps.mma.is_empty();
    let mut out = vec![A16WxPlan::choose(
        crate::plan::KernelKind::Auto,
        weights,
        (m, n, k),
        has_mma,
    )];
    let base = SimtConfig::default_for(act, wtype, group, mode, m).specialized_for(n, k);
    let rows: Vec<usize> = if m > 4 {
        vec![base.block_m, 8, 16]
    } else {
        vec![base.block_m]
    };
    for &threads_n in &[16usize, 32, 64, 128] {
        for &threads_k in &[1usize, 2, 4] {
            for &cols in &[2usize, 4, 8] {
                for &block_m in &rows {
                    let c = SimtConfig {
                        threads_n,
                        threads_k,
                        cols_per_thread: cols,
                        block_m: block_m.min(m.max(1).next_power_of_two()),
                        ..base
                    };
                    out.push(A16WxPlan::Simt(c));
                }
            }
        }
    }
    if has_mma {
        out.push(A16WxPlan::Mma(A16WxConfig::default_for(
            act, wtype, group, mode,
        )));
    }
    let mut seen = Vec::new();
    out.retain(|p| {
        let fits = match p {
            A16WxPlan::Simt(c) => {
                c.threads() as u32 <= caps.max_threads && c.block_n() <= n.max(32) * 2
            }
            A16WxPlan::Mma(c) => (c.warps() as u32) * 32 <= caps.max_threads,
        };
        let new = !seen.contains(p);
        if new {
            seen.push(*p);
        }
        fits && new && p.validate().is_ok()
    });
    out
}

/// The record key's text for a problem on a device.
fn record_key(device: &dyn Device, plan: &A16WxPlan, (m, n, k): (usize, usize, usize)) -> String {
    let (act, wtype, group, mode) = plan.weights();
    let fingerprint = blake3::hash(device.info().to_string().as_bytes()).to_hex();
    format!(
        "a16wx act={act} w={wtype} group={group:?} mode={mode:?} n={n} k={k} m_bucket={} device={} compiler={}",
        m_bucket(m),
        &fingerprint.as_str()[..16],
        compiler_build()
    )
}

fn record_path(key: &str) -> Option<PathBuf> {
    let name = blake3::hash(key.as_bytes()).to_hex();
    default_dir().map(|d| {
        d.join("tuning")
            .join(format!("{}.txt", &name.as_str()[..32]))
    })
}

/// The stored ranking for `key`, as plan descriptions (best first); `None` when there is no
/// usable record.
fn read_record(key: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(record_path(key)?).ok()?;
    let mut lines = text.lines();
    if lines.next()? != key {
        return None;
    }
    let ranking: Vec<String> = lines
        .filter_map(|l| l.split_once('\t').map(|(_, p)| p.to_string()))
        .collect();
    (!ranking.is_empty()).then_some(ranking)
}

fn write_record(key: &str, ranking: &[(A16WxPlan, f64)]) {
    let Some(path) = record_path(key) else { return };
    let mut text = format!("{key}\n");
    for (p, us) in ranking {
        let _ = writeln!(text, "{us:.3}\t{}", p.describe());
    }
    if let Some(dir) = path.parent() {
        let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), ranking.len()));
        // A record that cannot be written only costs a retune next time.
        let _ = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, text))
            .and_then(|_| std::fs::rename(&tmp, &path));
    }
}

/// Tunes: compiles every candidate (in parallel), times each on the device, and returns
/// the ranking (best first). `progress(done, total, what)` is called as it goes.
pub fn tune(
    device: &mut dyn Device,
    space: &[A16WxPlan],
    q: &Quantized,
    a: &[f32],
    m: usize,
    opts: TuneOptions,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<(A16WxPlan, f64)>> {
    let target = device.info().target();
    // Compile in parallel; the cache makes the later preparation a memory hit.
    if let Some(target) = &target {
        let copts = CompileOptions {
            validate: false,
            ..CompileOptions::default()
        };
        std::thread::scope(|s| {
            for chunk in space.chunks(space.len().div_ceil(4).max(1)) {
                let target = target.clone();
                let copts = copts.clone();
                s.spawn(move || {
                    for p in chunk {
                        let Ok(f) = p.function() else { continue };
                        let name = f.name.clone();
                        if let Ok(v) = verify(Program { functions: vec![f] }) {
                            let _ =
                                CompileCache::global().get_or_compile(&v, &name, &target, &copts);
                        }
                    }
                });
            }
        });
    }
    let mut ranking = Vec::new();
    for (i, p) in space.iter().enumerate() {
        progress(i, space.len(), &p.describe());
        let timed = PreparedGemm::new(device, p, q, a, m)
            .and_then(|g| g.time(device, opts.warmup, opts.repeats.max(1)));
        // A candidate that fails to compile or launch is left out of the ranking.
        if let Ok(t) = timed {
            ranking.push((*p, t.median_us));
        }
    }
    progress(space.len(), space.len(), "done");
    ranking.sort_by(|x, y| x.1.total_cmp(&y.1));
    if ranking.is_empty() {
        return Err(KernelError::Compile(
            "no candidate of the search space compiled and launched on this device".into(),
        ));
    }
    Ok(ranking)
}

/// The search space and the record key of a problem on a compiled-code device (`None` for
/// the interpreter, which runs the default plan).
fn space_and_key(
    device: &dyn Device,
    default: &A16WxPlan,
    shape: (usize, usize, usize),
) -> Option<(Vec<A16WxPlan>, String)> {
    let target = device.info().target()?;
    let space = search_space(default.weights(), shape, &target.caps());
    Some((space, record_key(device, default, shape)))
}

/// The plan to run: from the stored record when it still holds, else tuned now (and
/// stored). Returns the prepared GEMM too.
pub fn choose_plan(
    device: &mut dyn Device,
    default: A16WxPlan,
    q: &Quantized,
    a: &[f32],
    m: usize,
    opts: TuneOptions,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<(A16WxPlan, PreparedGemm, TuneSource)> {
    let Some((space, key)) = space_and_key(device, &default, (m, q.n, q.k)) else {
        let g = PreparedGemm::new(device, &default, q, a, m)?;
        return Ok((default, g, TuneSource::Default));
    };
    if let Some(ranking) = read_record(&key) {
        for (i, want) in ranking.iter().enumerate() {
            let Some(p) = space.iter().find(|p| p.describe() == *want) else {
                continue;
            };
            let Ok(g) = PreparedGemm::new(device, p, q, a, m) else {
                continue;
            };
            if i == 0 {
                return Ok((*p, g, TuneSource::Record(0)));
            }
            // The stored winner no longer prepares: tune again and store the new ranking;
            // if that fails too, run the next stored candidate.
            return match retune(device, default, q, a, m, opts, progress) {
                Ok(t) => Ok(t),
                Err(_) => Ok((*p, g, TuneSource::Record(i))),
            };
        }
    }
    retune(device, default, q, a, m, opts, progress)
}

/// Tunes now (whatever is stored), stores the ranking and prepares the best candidate that
/// prepares.
pub fn retune(
    device: &mut dyn Device,
    default: A16WxPlan,
    q: &Quantized,
    a: &[f32],
    m: usize,
    opts: TuneOptions,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<(A16WxPlan, PreparedGemm, TuneSource)> {
    let Some((space, key)) = space_and_key(device, &default, (m, q.n, q.k)) else {
        let g = PreparedGemm::new(device, &default, q, a, m)?;
        return Ok((default, g, TuneSource::Default));
    };
    let ranking = tune(device, &space, q, a, m, opts, progress)?;
    write_record(&key, &ranking);
    for (p, _) in &ranking {
        if let Ok(g) = PreparedGemm::new(device, p, q, a, m) {
            return Ok((*p, g, TuneSource::Tuned(ranking.clone())));
        }
    }
    Err(KernelError::Compile(
        "every tuned candidate failed to prepare".into(),
    ))
}

/// The record file of a problem (for tests and `tilus tune`), if there is a cache directory.
pub fn record_file(
    device: &dyn Device,
    plan: &A16WxPlan,
    shape: (usize, usize, usize),
) -> Option<PathBuf> {
    record_path(&record_key(device, plan, shape))
}
