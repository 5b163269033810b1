//! Helpers of `e2e_wgpu.rs`: the device (or a printed skip), one case compiled with the
//! pipeline and run on both the wgpu device and the tile interpreter, and the comparisons.
#![allow(dead_code)]

use std::time::Instant;

use tilus_ir::dtype::{pack, DType};
use tilus_ir::interp::{self as tile_interp, Arg, HostBuffer};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::host;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::Target;
use tilus_runtime::{Device, Kernel, LaunchArg, WgpuDevice};

use crate::wgsl_support::Rng;

/// The wgpu device, or `None` (printed) when there is no adapter; panics instead when
/// `TILUS_REQUIRE_WGPU` is set.
pub use crate::wgsl_support::device;

/// `n` floats uniform in `[-scale, scale)`.
pub fn floats(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale)
        .collect()
}

/// The buffers of one case after both runs, in argument order.
pub struct Case {
    /// The case's label.
    pub label: String,
    /// `(interpreter result, device result)` per buffer argument.
    pub buffers: Vec<(HostBuffer, HostBuffer)>,
}

/// Compiles `f` with [`compile_wgsl`] for the device's caps, runs it on the device and on
/// the tile interpreter with the same `args`, prints the times, and returns both results.
pub fn run_case(dev: &mut WgpuDevice, label: &str, f: Function, args: &[Arg]) -> Case {
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{label}: {e}"));
    let caps = dev.info().wgsl_caps();

    let t = Instant::now();
    let compiled = compile(
        &prog,
        &name,
        &Target::Wgsl(caps.clone()),
        &CompileOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{label}: compile: {e}"));
    let wgsl = compiled
        .artifact
        .unwrap_or_else(|| panic!("{label}: no WGSL"));
    let t_compile = t.elapsed();

    let t = Instant::now();
    let mut launch = Vec::new();
    let mut ids = Vec::new();
    for a in args {
        match a {
            Arg::Int(v) => launch.push(LaunchArg::Int(*v)),
            Arg::Float(x) => launch.push(LaunchArg::Float(*x)),
            Arg::Buffer(h) => {
                let mut bytes = h.bytes.clone();
                bytes.resize(h.bytes.len().div_ceil(4).max(1) * 4, 0);
                let id = dev
                    .allocate_with(&bytes)
                    .unwrap_or_else(|e| panic!("{label}: allocate: {e}"));
                ids.push(id);
                launch.push(LaunchArg::Buffer(id));
            }
        }
    }
    dev.launch(&Kernel::Compiled(wgsl), &launch)
        .unwrap_or_else(|e| panic!("{label}: launch: {e}"));
    let mut device_bytes = Vec::new();
    for &id in &ids {
        device_bytes.push(
            dev.download(id)
                .unwrap_or_else(|e| panic!("{label}: download: {e}")),
        );
        dev.free(id)
            .unwrap_or_else(|e| panic!("{label}: free: {e}"));
    }
    let t_device = t.elapsed();

    let t = Instant::now();
    let mut tile_args = args.to_vec();
    tile_interp::run(
        &prog,
        &name,
        &mut tile_args,
        &tile_interp::RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{label}: tile interpreter: {e}"));
    let t_interp = t.elapsed();

    eprintln!(
        "{label:<52} compile {:>6.0} ms | wgpu (shader build + run) {:>6.0} ms | interpreter {:>6.0} ms",
        t_compile.as_secs_f64() * 1e3,
        t_device.as_secs_f64() * 1e3,
        t_interp.as_secs_f64() * 1e3,
    );

    let buffers = tile_args
        .into_iter()
        .filter_map(|a| match a {
            Arg::Buffer(h) => Some(h),
            _ => None,
        })
        .zip(device_bytes)
        .map(|(want, mut bytes)| {
            bytes.resize(want.bytes.len(), 0);
            let got = HostBuffer {
                dtype: want.dtype,
                len: want.len,
                bytes,
            };
            (want, got)
        })
        .collect();
    Case {
        label: label.to_string(),
        buffers,
    }
}

/// The position of a code in the total order of its float dtype (sign-magnitude to two's
/// complement), so that the difference of two positions counts ulps.
fn ordered(dtype: DType, code: u64) -> i64 {
    let sign = 1u64 << (dtype.bits() - 1);
    let mag = (code & (sign - 1)) as i64;
    if code & sign != 0 {
        -mag
    } else {
        mag
    }
}

impl Case {
    /// Asserts that every buffer holds the same codes on both (NaNs of a float dtype count
    /// as equal whatever their payload: the semantics do not fix NaN bits).
    pub fn assert_exact(&self) {
        for (i, (want, got)) in self.buffers.iter().enumerate() {
            let d = want.dtype;
            for j in 0..want.len {
                let (a, b) = (
                    pack::get(d.bits(), &want.bytes, j),
                    pack::get(d.bits(), &got.bytes, j),
                );
                let both_nan = d.is_float() && d.is_nan_code(a) && d.is_nan_code(b);
                assert!(
                    a == b || both_nan,
                    "{}: buffer {i} ({d}) element {j}: interpreter {a:#x}, device {b:#x}",
                    self.label
                );
            }
        }
    }

    /// Compares the last buffer (the `[m, n]` output of a `dot` kernel with activations
    /// `a [m, k]` and weights `w [n, k]`, both as `f64`) with
    /// [`host::error_stats`]: the device's result against the interpreter's, relative to
    /// `Σ|a|·|w|`, must stay within `bound`; the other buffers must be unchanged inputs,
    /// compared exactly. Returns the largest relative difference and the largest
    /// difference in output ulps.
    pub fn assert_close(
        &self,
        (m, n, k): (usize, usize, usize),
        a: &[f64],
        w: &[f64],
        act: DType,
        bound: f64,
    ) -> (f64, u64) {
        let Some(((want, got), inputs)) = self.buffers.split_last() else {
            panic!("{}: no buffers", self.label);
        };
        Case {
            label: self.label.clone(),
            buffers: inputs.to_vec(),
        }
        .assert_exact();
        let reference = want.to_f64();
        let stats = host::error_stats(m, n, k, &got.to_f32(), &reference, a, w, act);
        let codes = (want.codes(), got.codes());
        let ulps = codes
            .0
            .iter()
            .zip(&codes.1)
            .map(|(&x, &y)| ordered(want.dtype, x).abs_diff(ordered(want.dtype, y)))
            .max()
            .unwrap_or(0);
        eprintln!(
            "{:<52} max |device - interpreter| = {:.3e} of Σ|a||w| (bound {:.3e}), {} ulp of {}",
            self.label, stats.max_rel, bound, ulps, want.dtype
        );
        assert!(
            stats.max_rel <= bound,
            "{}: element {} (row {}, col {}): interpreter {}, device {}: {:.3e} of Σ|a||w| > {:.3e}",
            self.label,
            stats.argmax,
            stats.argmax / n.max(1),
            stats.argmax % n.max(1),
            reference.get(stats.argmax).copied().unwrap_or(f64::NAN),
            got.to_f64().get(stats.argmax).copied().unwrap_or(f64::NAN),
            stats.max_rel,
            bound
        );
        (stats.max_rel, ulps)
    }
}
