//! The compilation driver: one function that runs the stages in order.
//!
//! ```text
//! VerifiedProgram
//!   ─► layout_infer      every register/shared tensor gets a layout
//!   ─► tile_to_thread    what one thread does (thread IR)
//!   ─► simplify          egg rewrites of index and bit arithmetic, then forwarding of
//!                        single-use register slots (`simplify::forward`)
//!   ─► legalize          per backend (WGSL: u32 words, sub-byte packing, exact codecs)
//!   ─► emit              the backend's code with its launch contract (an [`Artifact`])
//!   ─► validate          the backend's validator (naga for WGSL)
//! ```
//!
//! [`compile`] is the one driver; the stages after `simplify` come from
//! [`crate::backend`], chosen by the [`Target`].
//!
//! Each stage is timed ([`Compiled::timings`], printed by `tilus compile --timings`), and a
//! compilation can stop after any stage ([`CompileOptions::stop_after`]) to show its result.

use std::time::{Duration, Instant};

use tilus_ir::verify::VerifiedProgram;

use crate::artifact::Artifact;
use crate::backend;
use crate::error::LowerError;
use crate::layout_infer::{self, LayoutAssignment};
use crate::simplify::thread::{simplify_kernel, SimplifyReport};
use crate::simplify::Limits;
use crate::target::Target;
use crate::thread_ir::ThreadKernel;
use crate::tile_to_thread::{lower_function_with, LowerOptions};

/// The stages, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Layout inference.
    Layouts,
    /// Tile → thread lowering.
    Lower,
    /// E-graph simplification.
    Simplify,
    /// Target legalization.
    Legalize,
    /// Emission of the target code.
    Emit,
    /// Validation of the emitted code (naga for WGSL).
    Validate,
}

impl Stage {
    /// The stage's name as printed in timings.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Layouts => "layout inference",
            Stage::Lower => "tile -> thread",
            Stage::Simplify => "simplify (egg)",
            Stage::Legalize => "legalize",
            Stage::Emit => "emit",
            Stage::Validate => "validate",
        }
    }
}

/// How to compile.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Run the e-graph simplifier (on by default).
    pub simplify: bool,
    /// Limits of every e-graph run.
    pub limits: Limits,
    /// Stop after this stage (the later results are `None`).
    pub stop_after: Stage,
    /// Validate the emitted code (naga for WGSL; on by default; a device that validates
    /// when it loads the module, like wgpu, may skip it).
    pub validate: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            simplify: true,
            limits: Limits::default(),
            stop_after: Stage::Validate,
            validate: true,
        }
    }
}

/// How long one stage took.
#[derive(Clone, Debug, PartialEq)]
pub struct StageTime {
    /// The stage.
    pub stage: Stage,
    /// Its wall time.
    pub elapsed: Duration,
}

/// Everything a compilation produced, stage by stage.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The kernel's name.
    pub name: String,
    /// Layouts after inference, printable with [`LayoutAssignment::display`].
    pub layouts: LayoutAssignment,
    /// The layouts as text (one line per tensor).
    pub layouts_text: String,
    /// The thread IR after simplification (or right after lowering when simplification is
    /// off or not reached).
    pub thread_ir: Option<ThreadKernel>,
    /// What the simplifier did.
    pub simplify: Option<SimplifyReport>,
    /// The thread IR after legalization.
    pub legalized: Option<ThreadKernel>,
    /// The code and its launch contract.
    pub artifact: Option<Artifact>,
    /// Time per stage, in order.
    pub timings: Vec<StageTime>,
}

impl Compiled {
    /// Total time of all stages.
    pub fn total(&self) -> Duration {
        self.timings.iter().map(|t| t.elapsed).sum()
    }
}

fn timed<T>(timings: &mut Vec<StageTime>, stage: Stage, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    timings.push(StageTime {
        stage,
        elapsed: start.elapsed(),
    });
    out
}

/// Compiles kernel `name` of a verified program for `target`.
pub fn compile(
    program: &VerifiedProgram,
    name: &str,
    target: &Target,
    opts: &CompileOptions,
) -> Result<Compiled, LowerError> {
    let (index, _) = program
        .function(name)
        .ok_or_else(|| LowerError::unknown_kernel(name, program))?;
    let mut timings = Vec::new();
    let mut out = Compiled {
        name: name.to_string(),
        layouts: LayoutAssignment::default(),
        layouts_text: String::new(),
        thread_ir: None,
        simplify: None,
        legalized: None,
        artifact: None,
        timings: Vec::new(),
    };

    let layouts = timed(&mut timings, Stage::Layouts, || {
        layout_infer::infer(program, index, &target.caps())
    })?;
    if let Some(f) = program.program().functions.get(index) {
        out.layouts_text = layouts.display(f);
    }
    out.layouts = layouts;
    if opts.stop_after == Stage::Layouts {
        out.timings = timings;
        return Ok(out);
    }

    let lower_opts = LowerOptions::for_target(target);
    let mut thread = timed(&mut timings, Stage::Lower, || {
        lower_function_with(program, index, &out.layouts, &lower_opts)
    })?;
    if opts.simplify && opts.stop_after >= Stage::Simplify {
        let (simplified, report) = timed(&mut timings, Stage::Simplify, || {
            simplify_kernel(&thread, &opts.limits)
                .map(|(k, r)| (crate::simplify::forward::forward_slots(&k), r))
        })?;
        thread = simplified;
        out.simplify = Some(report);
    }
    if opts.stop_after <= Stage::Simplify {
        out.thread_ir = Some(thread);
        out.timings = timings;
        return Ok(out);
    }

    let legal = timed(&mut timings, Stage::Legalize, || {
        backend::legalize(&thread, target)
    })?;
    out.thread_ir = Some(thread);
    if opts.stop_after == Stage::Legalize {
        out.legalized = Some(legal);
        out.timings = timings;
        return Ok(out);
    }
    let artifact = timed(&mut timings, Stage::Emit, || backend::emit(&legal, target))?;
    if opts.validate && opts.stop_after >= Stage::Validate {
        timed(&mut timings, Stage::Validate, || {
            backend::validate(&artifact, target)
        })?;
    }
    out.legalized = Some(legal);
    out.artifact = Some(artifact);
    out.timings = timings;
    Ok(out)
}
