//! Shared helpers of the lowering tests: layouts by hand, lowering, and running the tile
//! interpreter and the thread interpreter side by side.
#![allow(dead_code)]

use std::collections::HashMap;

use tilus_ir::dtype::DType;
use tilus_ir::interp::{self as tile_interp, HostBuffer};
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::layout::{auto_local_spatial, RegisterLayout};
use tilus_ir::program::{Function, Program, TensorType};
use tilus_ir::verify::{verify, VerifiedProgram};
use tilus_lower::layout_infer::LayoutAssignment;
use tilus_lower::thread_ir::interp as thread_interp;
use tilus_lower::thread_ir::ThreadKernel;
use tilus_lower::tile_to_thread::{lower_function_with, LowerOptions};

/// Verifies a one-kernel program.
pub fn verified(f: Function) -> VerifiedProgram {
    match verify(Program { functions: vec![f] }) {
        Ok(p) => p,
        Err(e) => panic!("verify failed: {e}"),
    }
}

/// Layouts from layout inference (`layout_infer::infer`), with `overrides` by tensor name.
pub fn layouts(
    p: &VerifiedProgram,
    reg_overrides: &[(&str, RegisterLayout)],
    shared_overrides: &[(&str, SharedLayout)],
) -> LayoutAssignment {
    let target = tilus_lower::target::Target::Wgsl(Default::default());
    let mut a = match tilus_lower::layout_infer::infer(p, 0, &target.caps()) {
        Ok(a) => a,
        Err(e) => panic!("layout inference failed: {e}"),
    };
    let f = &p.program().functions[0];
    for (name, l) in reg_overrides {
        let t = f
            .tensor_by_name(name)
            .expect("override of an unknown tensor");
        a.register.insert(t, l.clone());
    }
    for (name, l) in shared_overrides {
        let t = f
            .tensor_by_name(name)
            .expect("override of an unknown tensor");
        a.shared.insert(t, l.clone());
    }
    a
}

/// Layouts by hand: annotated/view layouts from the verifier, then `overrides` by tensor
/// name, then `auto_local_spatial` for every other register tensor; shared tensors
/// row-major unless annotated or overridden.
pub fn auto_layouts(
    p: &VerifiedProgram,
    reg_overrides: &[(&str, RegisterLayout)],
    shared_overrides: &[(&str, SharedLayout)],
) -> LayoutAssignment {
    let f = &p.program().functions[0];
    let info = p.info(0).expect("info");
    let threads = f.num_threads();
    let mut a = LayoutAssignment {
        register: HashMap::new(),
        shared: HashMap::new(),
    };
    for (t, tensor) in f.tensors.iter() {
        match &tensor.ty {
            TensorType::Register { shape, .. } => {
                let l = reg_overrides
                    .iter()
                    .find(|(n, _)| *n == tensor.name)
                    .map(|(_, l)| l.clone())
                    .or_else(|| info.register_layouts.get(&t).map(|&h| f.layouts[h].clone()))
                    .unwrap_or_else(|| auto_local_spatial(threads, shape));
                a.register.insert(t, l);
            }
            TensorType::Shared { shape, .. } => {
                let l = shared_overrides
                    .iter()
                    .find(|(n, _)| *n == tensor.name)
                    .map(|(_, l)| l.clone())
                    .or_else(|| {
                        info.shared_layouts
                            .get(&t)
                            .map(|&h| f.shared_layouts[h].clone())
                    })
                    .unwrap_or_else(|| SharedLayout::row_major(shape).expect("row major"));
                a.shared.insert(t, l);
            }
            TensorType::Global { .. } => {}
        }
    }
    a
}

/// Lowers function 0 with generous shared memory and verifies the thread kernel.
pub fn lower(p: &VerifiedProgram, a: &LayoutAssignment) -> ThreadKernel {
    let opts = LowerOptions {
        max_shared_bytes: 96 * 1024,
        mma: false,
        ..LowerOptions::default()
    };
    lower_with(p, a, &opts)
}

/// Lowers with options and verifies the thread kernel.
pub fn lower_with(p: &VerifiedProgram, a: &LayoutAssignment, opts: &LowerOptions) -> ThreadKernel {
    let k = match lower_function_with(p, 0, a, opts) {
        Ok(k) => k,
        Err(e) => panic!("lowering failed: {e}"),
    };
    if let Err(e) = tilus_lower::thread_ir::verify::verify(&k) {
        panic!("thread kernel does not verify: {e}\n{k}");
    }
    k
}

/// Runs the tile interpreter and the thread interpreter on the same arguments and checks
/// that every buffer ends bit-identical; returns the final buffers.
pub fn run_both(
    p: &VerifiedProgram,
    k: &ThreadKernel,
    args: &[tile_interp::Arg],
) -> Vec<HostBuffer> {
    let f = &p.program().functions[0];
    let mut ta = args.to_vec();
    if let Err(e) = tile_interp::run(p, &f.name, &mut ta, &tile_interp::RunOptions::default()) {
        panic!("tile interpreter failed: {e}");
    }
    let mut ka = args.to_vec();
    if let Err(e) = thread_interp::run_kernel(k, &mut ka, &thread_interp::RunOptions::default()) {
        panic!("thread interpreter failed: {e}\n{k}");
    }
    let mut out = Vec::new();
    for (i, (x, y)) in ta.iter().zip(&ka).enumerate() {
        if let (tile_interp::Arg::Buffer(x), tile_interp::Arg::Buffer(y)) = (x, y) {
            if x.bytes != y.bytes {
                let cx = x.codes();
                let cy = y.codes();
                let first = cx.iter().zip(&cy).position(|(a, b)| a != b);
                panic!(
                    "buffer argument {i} ({}) differs: first difference at element {first:?} \
                     (tile {:?}, thread {:?})\n{k}",
                    x.dtype,
                    first.map(|j| cx[j]),
                    first.map(|j| cy[j])
                );
            }
            out.push(x.clone());
        }
    }
    out
}

/// A deterministic pseudo-random generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `n` random codes of `dtype` (every code, NaNs included when `any`).
    pub fn codes(&mut self, dtype: DType, n: usize) -> Vec<u64> {
        (0..n).map(|_| self.next() & dtype.code_mask()).collect()
    }

    /// `n` random values in [-r, r] encoded in `dtype`.
    pub fn values(&mut self, dtype: DType, n: usize, r: f64) -> Vec<u64> {
        (0..n)
            .map(|_| {
                let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
                dtype.encode_f64((2.0 * u - 1.0) * r)
            })
            .collect()
    }
}

/// A buffer argument of these codes.
pub fn buf(dtype: DType, codes: &[u64]) -> tile_interp::Arg {
    tile_interp::Arg::Buffer(HostBuffer::from_codes(dtype, codes))
}

/// A zeroed buffer argument.
pub fn zeros(dtype: DType, n: usize) -> tile_interp::Arg {
    tile_interp::Arg::Buffer(HostBuffer::zeros(dtype, n))
}

pub const F32: DType = DType::F32;
pub const F16: DType = DType::F16;
pub const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

pub fn int(bits: u8, signed: bool) -> DType {
    DType::Int { bits, signed }
}
