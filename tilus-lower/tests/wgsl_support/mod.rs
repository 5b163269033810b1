//! Shared helpers of the WGSL tests: run a kernel and its legalized form on the thread
//! interpreter, compare the buffers bit for bit, and emit + validate the WGSL.
#![allow(dead_code)]

use tilus_ir::dtype::{pack, DType};
use tilus_lower::backend::legalize::{legalize_wgsl, word_dtype};
use tilus_lower::backend::wgsl::emit::{emit_wgsl, validate_wgsl};
use tilus_lower::target::WgslCaps;
use tilus_lower::thread_ir::interp::{run_kernel, Arg, HostBuffer, RunOptions};
use tilus_lower::thread_ir::verify::verify;
use tilus_lower::thread_ir::ThreadKernel;
use tilus_runtime::WgpuDevice;

/// The wgpu device the GPU tests run on, after printing its adapter. Without an adapter the
/// tests print why and are skipped, unless `TILUS_REQUIRE_WGPU` is set (CI), when they fail.
pub fn device() -> Option<WgpuDevice> {
    tilus_runtime::skip::wgpu_or_skip()
        .unwrap_or_else(|e| panic!("TILUS_REQUIRE_WGPU is set but wgpu failed: {e}"))
}

/// The adapter the tests assume (lavapipe's limits).
pub fn caps() -> WgslCaps {
    WgslCaps {
        shader_f16: true,
        subgroup_size: Some(8),
        max_workgroup_storage: 32768,
        max_invocations: 1024,
        f16_native: Default::default(),
    }
}

/// A deterministic pseudo-random stream (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `n` random codes of `dtype`.
    pub fn codes(&mut self, dtype: DType, n: usize) -> Vec<u64> {
        (0..n).map(|_| self.next() & dtype.code_mask()).collect()
    }
}

/// A buffer of random codes.
pub fn random_buffer(rng: &mut Rng, dtype: DType, n: usize) -> Arg {
    Arg::Buffer(HostBuffer::from_codes(dtype, &rng.codes(dtype, n)))
}

/// A zero buffer.
pub fn zero_buffer(dtype: DType, n: usize) -> Arg {
    Arg::Buffer(HostBuffer::from_codes(dtype, &vec![0; n]))
}

/// The arguments of the legalized kernel: every buffer as its 32-bit words.
pub fn word_args(args: &[Arg]) -> Vec<Arg> {
    args.iter()
        .map(|a| match a {
            Arg::Buffer(h) => {
                let word = word_dtype(h.dtype);
                let words = pack::packed_len(h.dtype.bits(), h.len).div_ceil(4);
                let mut bytes = h.bytes.clone();
                bytes.resize(words * 4, 0);
                Arg::Buffer(HostBuffer {
                    dtype: word,
                    len: words,
                    bytes,
                })
            }
            other => other.clone(),
        })
        .collect()
}

/// What [`check`] found.
pub struct Checked {
    /// The legalized kernel.
    pub legal: ThreadKernel,
    /// The emitted WGSL.
    pub wgsl: String,
    /// The buffers after the original run.
    pub out: Vec<Arg>,
}

/// Runs `k` and its legalization on the thread interpreter with `args`, asserts that every
/// buffer ends bit-identical, and that the emitted WGSL validates.
pub fn check(k: &ThreadKernel, args: &[Arg]) -> Checked {
    verify(k).unwrap_or_else(|e| panic!("input kernel: {e}\n{k}"));
    let caps = caps();
    let legal = legalize_wgsl(k, &caps).unwrap_or_else(|e| panic!("legalize: {e}\n{k}"));
    verify(&legal).unwrap_or_else(|e| panic!("legalized kernel: {e}\n{legal}"));
    let mut a = args.to_vec();
    run_kernel(k, &mut a, &RunOptions::default()).unwrap_or_else(|e| panic!("run: {e}\n{k}"));
    let mut b = word_args(args);
    run_kernel(&legal, &mut b, &RunOptions::default())
        .unwrap_or_else(|e| panic!("run legalized: {e}\n{legal}"));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if let (Arg::Buffer(x), Arg::Buffer(y)) = (x, y) {
            let n = pack::packed_len(x.dtype.bits(), x.len);
            if x.bytes[..n] != y.bytes[..n] {
                let first = (0..x.len)
                    .find(|&j| {
                        pack::get(x.dtype.bits(), &x.bytes, j)
                            != pack::get(x.dtype.bits(), &y.bytes, j)
                    })
                    .unwrap_or(0);
                panic!(
                    "argument {i} ({}) differs at element {first}: original {:#x}, legalized {:#x}\n{legal}",
                    x.dtype,
                    pack::get(x.dtype.bits(), &x.bytes, first),
                    pack::get(x.dtype.bits(), &y.bytes, first),
                );
            }
        }
    }
    let w = emit_wgsl(&legal, &caps).unwrap_or_else(|e| panic!("emit: {e}"));
    validate_wgsl(w.code.text()).unwrap_or_else(|e| panic!("validate: {e}\n{}", w.code.text()));
    Checked {
        legal,
        wgsl: w.code.text().to_string(),
        out: a,
    }
}

/// The codes of a buffer argument.
pub fn codes(a: &Arg) -> Vec<u64> {
    match a {
        Arg::Buffer(h) => h.codes(),
        _ => Vec::new(),
    }
}
