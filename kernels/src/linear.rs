//! [`QuantizedLinear`]: the layer a serving engine calls. Give it weights once — `[N, K]`
//! in PyTorch's orientation, as `f32`, `f16` or `bf16` — and it quantizes, packs and uploads
//! them; then call [`QuantizedLinear::forward`] as often as needed, from as many threads as
//! wanted.
//!
//! The plan (kernel and tile) depends on the number of rows `M` of the input: the SIMT
//! kernel for small `M`, the tensor-core kernel on devices with MMA atoms for large `M`.
//! Each plan's kernel is compiled once (through the compile cache) and each packed weight
//! format uploaded once, on first use; the state sits behind a mutex, so the layer is
//! `Send + Sync` and concurrent `forward`s take turns on the device.
//! [`QuantizedLinear::raw_kernel`] gives an engine that launches on its own streams the
//! compiled artifact with its grid, block and argument list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use half::{bf16, f16};
use tilus_ir::dtype::DType;
use tilus_ir::interp::HostBuffer;
use tilus_ir::program::Program;
use tilus_ir::verify::verify;
use tilus_lower::artifact::Artifact;
use tilus_lower::pipeline::CompileOptions;
use tilus_runtime::cache::CompileCache;
use tilus_runtime::{BufferId, Device, Kernel, LaunchArg};

use crate::config::{GroupSize, QuantMode};
use crate::error::{KernelError, Result};
use crate::plan::{A16WxPlan, KernelKind};
use crate::quant::{quantize, Quantized};
use crate::tune::m_bucket;

fn device_error(e: tilus_runtime::RuntimeError) -> KernelError {
    KernelError::Device(Box::new(e))
}

/// The weights of one packed format, on the device.
struct Uploaded {
    packed: BufferId,
    scales: BufferId,
    zeros: Option<BufferId>,
}

/// One plan, compiled.
#[derive(Clone)]
struct Compiled {
    plan: A16WxPlan,
    kernel: Kernel,
    /// The key of its packed weights in [`State::weights`].
    format: String,
}

struct State {
    device: Box<dyn Device>,
    /// By packed format (`simt`, or the MMA tile's description).
    weights: HashMap<String, Uploaded>,
    /// By bucket of `m`.
    plans: HashMap<usize, Compiled>,
}

/// A compiled kernel as an engine launches it: the artifact (PTX or WGSL with its launch
/// contract), the grid and block for the call, and what each argument is.
#[derive(Clone, Debug)]
pub struct RawKernel {
    /// The code and launch contract.
    pub artifact: Arc<Artifact>,
    /// Blocks per axis for this `m`.
    pub grid: [u32; 3],
    /// Threads per block.
    pub block: [u32; 3],
    /// The tile-function arguments in order: `m, n, k, a [M, K], b (packed), scales
    /// [G, N], (zeros [G, N],) c [M, N]`.
    pub args: Vec<&'static str>,
    /// The plan's description.
    pub plan: String,
}

/// A quantized linear layer `y = x · dequant(W)ᵀ` on one device (see the module doc).
pub struct QuantizedLinear {
    q: Quantized,
    state: Mutex<State>,
}

impl std::fmt::Debug for QuantizedLinear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuantizedLinear")
            .field("n", &self.q.n)
            .field("k", &self.q.k)
            .field("wtype", &self.q.wtype)
            .field("act", &self.q.act)
            .finish()
    }
}

impl QuantizedLinear {
    /// Quantizes `weights` (`[n, k]` row-major, PyTorch's `Linear.weight`) to `wtype` with
    /// `group` and `mode`, for activations of `act` (`f16` or `bf16`), on `device`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        device: Box<dyn Device>,
        weights: &[f32],
        n: usize,
        k: usize,
        wtype: DType,
        group: GroupSize,
        mode: QuantMode,
        act: DType,
    ) -> Result<Self> {
        if weights.len() != n.saturating_mul(k) {
            return Err(KernelError::ShapeMismatch {
                what: "weights [n, k]",
                expected: n.saturating_mul(k),
                got: weights.len(),
            });
        }
        let q = quantize(weights, n, k, wtype, group, mode, act)?;
        Ok(Self::from_quantized(device, q))
    }

    /// [`QuantizedLinear::new`] from `f16` weights.
    #[allow(clippy::too_many_arguments)]
    pub fn from_f16(
        device: Box<dyn Device>,
        weights: &[f16],
        n: usize,
        k: usize,
        wtype: DType,
        group: GroupSize,
        mode: QuantMode,
        act: DType,
    ) -> Result<Self> {
        let w: Vec<f32> = weights.iter().map(|x| x.to_f32()).collect();
        Self::new(device, &w, n, k, wtype, group, mode, act)
    }

    /// [`QuantizedLinear::new`] from `bf16` weights.
    #[allow(clippy::too_many_arguments)]
    pub fn from_bf16(
        device: Box<dyn Device>,
        weights: &[bf16],
        n: usize,
        k: usize,
        wtype: DType,
        group: GroupSize,
        mode: QuantMode,
        act: DType,
    ) -> Result<Self> {
        let w: Vec<f32> = weights.iter().map(|x| x.to_f32()).collect();
        Self::new(device, &w, n, k, wtype, group, mode, act)
    }

    /// A layer of already quantized weights (a checkpoint's, repacked).
    pub fn from_quantized(device: Box<dyn Device>, q: Quantized) -> Self {
        QuantizedLinear {
            q,
            state: Mutex::new(State {
                device,
                weights: HashMap::new(),
                plans: HashMap::new(),
            }),
        }
    }

    /// Output features `N`.
    pub fn out_features(&self) -> usize {
        self.q.n
    }

    /// Input features `K`.
    pub fn in_features(&self) -> usize {
        self.q.k
    }

    /// The quantized weights (codes, scales, zero points).
    pub fn quantized(&self) -> &Quantized {
        &self.q
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>> {
        // A panic in another thread's forward cannot leave the device half-used in a way
        // that matters here (buffers are per call), so a poisoned lock is still usable.
        Ok(self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The compiled plan for `m` rows (compiled and uploaded on first use).
    fn prepare(&self, st: &mut State, m: usize) -> Result<Compiled> {
        let bucket = m_bucket(m);
        if let Some(c) = st.plans.get(&bucket) {
            return Ok(c.clone());
        }
        let q = &self.q;
        let target = st.device.info().target();
        let has_mma = target.as_ref().is_some_and(|t| !t.caps().mma.is_empty());
        let plan = A16WxPlan::choose(
            KernelKind::Auto,
            (q.act, q.wtype, q.group, q.mode),
            (bucket, q.n, q.k),
            has_mma,
        );
        plan.validate()?;
        let f = plan.function()?;
        let name = f.name.clone();
        let verified = verify(Program { functions: vec![f] })?;
        let kernel = match target {
            Some(t) => {
                let opts = CompileOptions {
                    validate: false,
                    ..CompileOptions::default()
                };
                let (a, _) = CompileCache::global()
                    .get_or_compile(&verified, &name, &t, &opts)
                    .map_err(|e| KernelError::Compile(e.to_string()))?;
                Kernel::Compiled((*a).clone())
            }
            None => Kernel::tile(verified, name),
        };
        let format = match &plan {
            A16WxPlan::Simt(_) => "simt".to_string(),
            A16WxPlan::Mma(_) => plan.describe(),
        };
        if !st.weights.contains_key(&format) {
            let packed = plan.pack(q)?;
            let dev = st.device.as_mut();
            let packed = dev.allocate_with(&packed).map_err(device_error)?;
            let scales = dev
                .allocate_with(&HostBuffer::from_f32(q.act, &q.scales).bytes)
                .map_err(device_error)?;
            let zeros = match &q.zeros {
                Some(z) => Some(
                    dev.allocate_with(&HostBuffer::from_f32(q.act, z).bytes)
                        .map_err(device_error)?,
                ),
                None => None,
            };
            st.weights.insert(
                format.clone(),
                Uploaded {
                    packed,
                    scales,
                    zeros,
                },
            );
        }
        let c = Compiled {
            plan,
            kernel,
            format,
        };
        st.plans.insert(bucket, c.clone());
        Ok(c)
    }

    /// `y = x · dequant(W)ᵀ` for `x` of `m` rows (`[m, k]` row-major): `[m, n]` row-major,
    /// each value rounded to the activation dtype (as the kernel stores it). The input is
    /// rounded to the activation dtype first.
    pub fn forward(&self, x: &[f32], m: usize) -> Result<Vec<f32>> {
        let (n, k, act) = (self.q.n, self.q.k, self.q.act);
        if x.len() != m.saturating_mul(k) {
            return Err(KernelError::ShapeMismatch {
                what: "input x [m, k]",
                expected: m.saturating_mul(k),
                got: x.len(),
            });
        }
        if m == 0 {
            return Ok(Vec::new());
        }
        let int = |what: &'static str, v: usize| {
            i32::try_from(v)
                .map(|v| LaunchArg::Int(v.into()))
                .map_err(|_| KernelError::InvalidSize {
                    what,
                    value: v,
                    reason: "exceeds i32::MAX",
                })
        };
        let mut st = self.lock()?;
        let c = self.prepare(&mut st, m)?;
        let (packed, scales, zeros) = {
            let w = st.weights.get(&c.format).ok_or_else(|| {
                KernelError::Compile("the plan's weights were not uploaded".into())
            })?;
            (w.packed, w.scales, w.zeros)
        };
        let dev = st.device.as_mut();
        let a = dev
            .allocate_with(&HostBuffer::from_f32(act, x).bytes)
            .map_err(device_error)?;
        let out_bytes = HostBuffer::zeros(act, m * n).bytes.len();
        let out = dev.allocate(out_bytes).map_err(device_error)?;
        let mut args = vec![
            int("m", m)?,
            int("n", n)?,
            int("k", k)?,
            LaunchArg::Buffer(a),
            LaunchArg::Buffer(packed),
            LaunchArg::Buffer(scales),
        ];
        if let Some(z) = zeros {
            args.push(LaunchArg::Buffer(z));
        }
        args.push(LaunchArg::Buffer(out));
        let result = dev
            .launch(&c.kernel, &args)
            .and_then(|()| dev.download(out));
        // Per-call buffers are freed whatever happened.
        let _ = dev.free(a);
        let _ = dev.free(out);
        let bytes = result.map_err(device_error)?;
        let buf = HostBuffer {
            dtype: act,
            len: m * n,
            bytes: bytes.get(..out_bytes).unwrap_or(&bytes).to_vec(),
        };
        Ok(buf.to_f32())
    }

    /// The compiled kernel for `m` rows, for engines that launch it themselves (`None`
    /// when the device runs tile programs, not compiled code).
    pub fn raw_kernel(&self, m: usize) -> Result<Option<RawKernel>> {
        let mut st = self.lock()?;
        let c = self.prepare(&mut st, m)?;
        let Kernel::Compiled(artifact) = &c.kernel else {
            return Ok(None);
        };
        let mut params = vec![Some(m as i64), Some(self.q.n as i64), Some(self.q.k as i64)];
        params.resize(artifact.launch.params.len(), None);
        let mut grid = [1u32; 3];
        for (g, e) in grid.iter_mut().zip(&artifact.launch.grid) {
            *g = e
                .eval(&params)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| KernelError::Compile("the grid does not evaluate".into()))?;
        }
        let mut args = vec!["m", "n", "k", "a", "b", "scales"];
        if self.q.zeros.is_some() {
            args.push("zeros");
        }
        args.push("c");
        Ok(Some(RawKernel {
            artifact: Arc::new(artifact.clone()),
            grid,
            block: artifact.launch.threads,
            args,
            plan: c.plan.describe(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_layer_is_send_and_sync() {
        assert_send_sync::<QuantizedLinear>();
    }
}
