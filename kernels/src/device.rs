//! Running the a16wX GEMM on a [`Device`]: compile for the device (WGSL through the
//! `tilus-lower` pipeline for wgpu, the verified tile program for the interpreter), upload
//! the packed weights, scales and activations once, then launch or time as often as needed.

use std::sync::Arc;
use std::time::Duration;

use tilus_ir::dtype::DType;
use tilus_ir::interp::HostBuffer;
use tilus_ir::program::Program;
use tilus_ir::verify::verify;
use tilus_lower::pipeline::CompileOptions;
use tilus_runtime::cache::{CacheOutcome, CompileCache};
use tilus_runtime::{BufferId, Device, Kernel, LaunchArg, Timing};

use crate::error::{KernelError, Result};
use crate::handwritten::handwritten_gemv;
use crate::plan::A16WxPlan;
use crate::quant::Quantized;
use crate::simt::SimtConfig;

/// An a16wX GEMM ready to launch on one device: compiled kernel and uploaded buffers.
pub struct PreparedGemm {
    kernel: Kernel,
    args: Vec<LaunchArg>,
    c: BufferId,
    /// `m`, `n`, `k`.
    pub shape: (usize, usize, usize),
    /// Activation dtype (of `C`).
    pub act: DType,
    /// Bytes of weight data the kernel streams per launch (packed codes + scales + zeros).
    pub weight_bytes: usize,
    /// How long compilation took (zero for the interpreter).
    pub compile_time: Duration,
    /// Whether the compile cache had the kernel (`None` for the interpreter and the
    /// hand-written baselines, which are not compiled).
    pub cache: Option<CacheOutcome>,
}

fn device_error(e: tilus_runtime::RuntimeError) -> KernelError {
    KernelError::Device(Box::new(e))
}

fn size(name: &'static str, v: usize) -> Result<LaunchArg> {
    i32::try_from(v)
        .map(|v| LaunchArg::Int(v.into()))
        .map_err(|_| KernelError::InvalidSize {
            what: name,
            value: v,
            reason: "exceeds i32::MAX",
        })
}

impl PreparedGemm {
    /// Compiles the kernel for `device` and uploads everything for `C = A · dequant(W)ᵀ`
    /// (`activations` is `[m, k]` row-major, `q` holds `[n, k]` weights).
    pub fn new(
        device: &mut dyn Device,
        plan: &A16WxPlan,
        q: &Quantized,
        activations: &[f32],
        m: usize,
    ) -> Result<Self> {
        plan.validate()?;
        let func = plan.function()?;
        let name = func.name.clone();
        let verified = verify(Program {
            functions: vec![func],
        })?;
        let start = std::time::Instant::now();
        let mut cache = None;
        let kernel = match device.info().target() {
            Some(target) => {
                // The device validates the code when it loads it: skip the second pass.
                let opts = CompileOptions {
                    validate: false,
                    ..CompileOptions::default()
                };
                let (artifact, outcome) = CompileCache::global()
                    .get_or_compile(&verified, &name, &target, &opts)
                    .map_err(|e| KernelError::Compile(e.to_string()))?;
                cache = Some(outcome);
                Kernel::Compiled((*artifact).clone())
            }
            None => Kernel::Tile {
                program: Arc::new(verified),
                name,
            },
        };
        let compile_time = start.elapsed();
        let mut p = Self::upload(device, plan, kernel, compile_time, q, activations, m)?;
        p.cache = cache;
        Ok(p)
    }

    /// The hand-written WGSL GEMV baseline ([`crate::handwritten`]) on the buffers of a SIMT
    /// `plan` (a wgpu device only).
    pub fn handwritten(
        device: &mut dyn Device,
        plan: &SimtConfig,
        q: &Quantized,
        activations: &[f32],
        m: usize,
    ) -> Result<Self> {
        if device.info().backend != "wgpu" {
            return Err(KernelError::Compile(format!(
                "the hand-written baseline is WGSL; device `{}` does not run WGSL",
                device.info().backend
            )));
        }
        let start = std::time::Instant::now();
        let kernel = Kernel::Compiled(handwritten_gemv(plan, q.n, q.k)?);
        let compile_time = start.elapsed();
        let plan = A16WxPlan::Simt(*plan);
        Self::upload(device, &plan, kernel, compile_time, q, activations, m)
    }

    fn upload(
        device: &mut dyn Device,
        plan: &A16WxPlan,
        kernel: Kernel,
        compile_time: Duration,
        q: &Quantized,
        activations: &[f32],
        m: usize,
    ) -> Result<Self> {
        let (n, k) = (q.n, q.k);
        if activations.len() != m * k {
            return Err(KernelError::ShapeMismatch {
                what: "activations",
                expected: m * k,
                got: activations.len(),
            });
        }
        let packed = plan.pack(q)?;
        let act = plan.act();
        let mut bytes = packed.len();
        let upload = |dev: &mut dyn Device, b: HostBuffer| -> Result<BufferId> {
            dev.allocate_with(&b.bytes).map_err(device_error)
        };
        let a = upload(device, HostBuffer::from_f32(act, activations))?;
        let b = device.allocate_with(&packed).map_err(device_error)?;
        let scales = HostBuffer::from_f32(act, &q.scales);
        bytes += scales.bytes.len();
        let s = upload(device, scales)?;
        let mut args = vec![
            size("m", m)?,
            size("n", n)?,
            size("k", k)?,
            LaunchArg::Buffer(a),
            LaunchArg::Buffer(b),
            LaunchArg::Buffer(s),
        ];
        if let Some(z) = &q.zeros {
            let zeros = HostBuffer::from_f32(act, z);
            bytes += zeros.bytes.len();
            args.push(LaunchArg::Buffer(upload(device, zeros)?));
        }
        let c = upload(device, HostBuffer::zeros(act, m * n))?;
        args.push(LaunchArg::Buffer(c));
        Ok(PreparedGemm {
            kernel,
            args,
            c,
            shape: (m, n, k),
            act,
            weight_bytes: bytes,
            compile_time,
            cache: None,
        })
    }

    /// Launches once and returns `C` (`[m, n]` row-major) as decoded values.
    pub fn run(&self, device: &mut dyn Device) -> Result<Vec<f32>> {
        device
            .launch(&self.kernel, &self.args)
            .map_err(device_error)?;
        device.synchronize().map_err(device_error)?;
        let bytes = device.download(self.c).map_err(device_error)?;
        let (m, n, _) = self.shape;
        let len = m * n;
        let buf = HostBuffer {
            dtype: self.act,
            len,
            bytes: bytes[..HostBuffer::zeros(self.act, len).bytes.len()].to_vec(),
        };
        Ok(buf.to_f32())
    }

    /// Times `repeats` launches after `warmup` (device timers where available).
    pub fn time(&self, device: &mut dyn Device, warmup: u32, repeats: u32) -> Result<Timing> {
        device
            .time(&self.kernel, &self.args, warmup, repeats)
            .map_err(device_error)
    }

    /// The kernel as launched (WGSL source inside for wgpu).
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }
}
