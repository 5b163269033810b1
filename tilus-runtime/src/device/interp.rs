//! The interpreter device: the tile interpreter on host memory.
//!
//! Buffers are byte vectors. A launch looks the kernel up in its verified program, turns
//! each pointer argument into a host buffer of the parameter's dtype (as many whole
//! elements as the bytes hold), runs the tile interpreter (the reference semantics) and
//! copies the buffers back. Launches are synchronous; timing is the wall clock around the
//! whole interpretation.
//!
//! A buffer passed for two parameters is given to the interpreter as two copies; the copy
//! of the later parameter is written back last.

use tilus_ir::interp::{RunOptions, RunReport};
use tilus_ir::program::{VarKind, VarType};
use tilus_ir::verify::VerifiedProgram;

use super::host::{wall_clock_timing, HostBuffers};
use super::{BufferId, Device, DeviceInfo, Kernel, LaunchArg, Timing};
use crate::error::RuntimeError;

/// One argument as the interpreter adapter sees it.
#[derive(Debug)]
enum TileArg {
    Int(i64),
    Float(f64),
    Buffer {
        id: BufferId,
        dtype: tilus_ir::dtype::DType,
        len: usize,
        bytes: Vec<u8>,
    },
}

/// The tile interpreter as a [`Device`] (see the module doc).
#[derive(Debug)]
pub struct InterpDevice {
    info: DeviceInfo,
    buffers: HostBuffers,
    options: RunOptions,
    last_report: Option<RunReport>,
}

impl Default for InterpDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl InterpDevice {
    /// A new interpreter device (always succeeds) with the default run options.
    pub fn new() -> Self {
        Self::with_options(RunOptions::default())
    }

    /// A new interpreter device running with `options` (block order, step limit, prints).
    pub fn with_options(options: RunOptions) -> Self {
        InterpDevice {
            info: DeviceInfo {
                backend: "interp",
                name: "tile interpreter".to_string(),
                software: true,
                // The interpreter computes every dtype exactly; these describe no hardware.
                shader_f16: true,
                timestamps: false,
                subgroup_size: None,
                max_workgroup_storage: u32::MAX,
                max_invocations: 1024,
                f16_native: Default::default(),
                compute_capability: None,
            },
            buffers: HostBuffers::new(),
            options,
            last_report: None,
        }
    }

    /// The run options.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// What the last successful launch did (blocks, instructions, `print` output).
    pub fn last_report(&self) -> Option<&RunReport> {
        self.last_report.as_ref()
    }

    /// Checks the arguments against the kernel's parameters and copies buffers out.
    fn gather(
        &self,
        program: &VerifiedProgram,
        name: &str,
        args: &[LaunchArg],
    ) -> Result<Vec<TileArg>, RuntimeError> {
        let bad = |m: String| RuntimeError::bad_launch(name, m);
        let (_, f) = program
            .function(name)
            .ok_or_else(|| bad("no kernel of that name in the program".to_string()))?;
        if args.len() != f.params.len() {
            return Err(bad(format!(
                "{} arguments for {} parameters",
                args.len(),
                f.params.len()
            )));
        }
        let mut out = Vec::with_capacity(args.len());
        for (i, (&var, arg)) in f.params.iter().zip(args).enumerate() {
            let v = f
                .vars
                .try_get(var)
                .filter(|v| v.kind == VarKind::Param)
                .ok_or_else(|| bad(format!("parameter {i} is not a parameter variable")))?;
            out.push(match (v.ty, *arg) {
                (VarType::Pointer(dtype), LaunchArg::Buffer(id)) => {
                    let bytes = self.buffers.get(id)?.clone();
                    let bits = dtype.bits().max(1) as usize;
                    TileArg::Buffer {
                        id,
                        dtype,
                        len: bytes.len().saturating_mul(8) / bits,
                        bytes,
                    }
                }
                (VarType::Scalar(_), LaunchArg::Int(x)) => TileArg::Int(x),
                (VarType::Scalar(_), LaunchArg::Float(x)) => TileArg::Float(x),
                (ty, arg) => {
                    return Err(bad(format!(
                        "parameter {i} (`{}`: {ty:?}) cannot take {arg:?}",
                        v.name
                    )))
                }
            });
        }
        Ok(out)
    }

    /// Runs one launch to completion.
    fn run(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        let Kernel::Tile { program, name } = kernel else {
            return Err(RuntimeError::WrongKernelKind {
                device: "interp",
                kernel: kernel.kind(),
            });
        };
        let mut tile_args = self.gather(program, name, args)?;
        self.last_report = None;
        let result = adapter::run(program, name, &mut tile_args, &self.options);
        for a in tile_args {
            if let TileArg::Buffer { id, bytes, .. } = a {
                let dst = self.buffers.get_mut(id)?;
                let n = dst.len().min(bytes.len());
                dst[..n].copy_from_slice(&bytes[..n]);
            }
        }
        self.last_report = Some(result?);
        Ok(())
    }
}

/// The bridge to `tilus_ir::interp` (kept apart so the rest of the device does not depend
/// on the interpreter's argument types).
mod adapter {
    use super::TileArg;
    use crate::error::RuntimeError;
    use tilus_ir::interp::{self, Arg, HostBuffer, RunOptions, RunReport};
    use tilus_ir::verify::VerifiedProgram;

    /// Runs kernel `name` of `program` on `args`, updating buffer bytes in place (also when
    /// the run fails, as the interpreter does).
    pub(super) fn run(
        program: &VerifiedProgram,
        name: &str,
        args: &mut [TileArg],
        options: &RunOptions,
    ) -> Result<RunReport, RuntimeError> {
        let mut iargs: Vec<Arg> = args
            .iter_mut()
            .map(|a| match a {
                TileArg::Int(v) => Arg::Int(*v),
                TileArg::Float(x) => Arg::Float(*x),
                TileArg::Buffer {
                    dtype, len, bytes, ..
                } => Arg::Buffer(HostBuffer {
                    dtype: *dtype,
                    len: *len,
                    bytes: std::mem::take(bytes),
                }),
            })
            .collect();
        let result = interp::run(program, name, &mut iargs, options);
        for (a, ia) in args.iter_mut().zip(iargs) {
            if let (TileArg::Buffer { bytes, .. }, Arg::Buffer(hb)) = (a, ia) {
                *bytes = hb.bytes;
            }
        }
        result.map_err(RuntimeError::from)
    }
}

impl Device for InterpDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError> {
        self.buffers.allocate(bytes)
    }

    fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError> {
        self.buffers.free(buffer)
    }

    fn buffer_size(&self, buffer: BufferId) -> Result<usize, RuntimeError> {
        self.buffers.size(buffer)
    }

    fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError> {
        self.buffers.upload(buffer, bytes)
    }

    fn download(&mut self, buffer: BufferId) -> Result<Vec<u8>, RuntimeError> {
        Ok(self.buffers.get(buffer)?.clone())
    }

    fn launch(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        self.run(kernel, args)
    }

    fn synchronize(&mut self) -> Result<(), RuntimeError> {
        Ok(())
    }

    fn time(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError> {
        wall_clock_timing(warmup, repeats, || self.run(kernel, args))
    }
}
