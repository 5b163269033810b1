//! Launching on the wgpu device: the pipeline cache, argument checking against the
//! launch contract, encoding and timestamp timing.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tilus_ir::dtype::{pack, DType};
use tilus_lower::artifact::{Artifact, ParamBinding, WgslModule};

use super::WgpuDevice;
use crate::device::{Kernel, LaunchArg};
use crate::error::RuntimeError;

/// A compiled kernel: the pipeline, its bind group layout and the bindings the module
/// declares (binding number, read-only).
#[derive(Debug)]
pub(super) struct CachedPipeline {
    source: String,
    entry: String,
    pipeline: ::wgpu::ComputePipeline,
    layout: ::wgpu::BindGroupLayout,
    bindings: Vec<(u32, bool)>,
}

/// Everything one launch needs, ready to encode (possibly many times).
pub(super) struct Prepared {
    pipeline: Arc<CachedPipeline>,
    bind_group: ::wgpu::BindGroup,
    /// Workspaces to clear before each run (`requires_clean`).
    clean: Vec<::wgpu::Buffer>,
    grid: [u32; 3],
    label: String,
}

impl WgpuDevice {
    /// The compiled pipeline for a kernel (cached by source and entry point).
    fn pipeline(
        &mut self,
        k: &Artifact,
        m: &WgslModule,
    ) -> Result<Arc<CachedPipeline>, RuntimeError> {
        let mut h = DefaultHasher::new();
        m.source.hash(&mut h);
        m.entry_point.hash(&mut h);
        let key = h.finish();
        if let Some(p) = self.pipelines.get(&key) {
            if p.source == m.source && p.entry == m.entry_point {
                return Ok(Arc::clone(p));
            }
        }
        if m.uses_f16 && !self.info.shader_f16 {
            return Err(RuntimeError::Unsupported {
                kernel: k.name.clone(),
                message: format!(
                    "it uses `enable f16;` but adapter `{}` lacks SHADER_F16",
                    self.info.name
                ),
            });
        }
        let compile_error = |message: String| RuntimeError::ShaderCompile {
            kernel: k.name.clone(),
            message,
        };
        // The slots come from the launch contract; wgpu checks them against the module when
        // it creates the pipeline (a mismatch is a validation error, reported below).
        let bindings = k.launch.slots();
        let entries: Vec<::wgpu::BindGroupLayoutEntry> = bindings
            .iter()
            .map(|&(binding, read_only)| ::wgpu::BindGroupLayoutEntry {
                binding,
                visibility: ::wgpu::ShaderStages::COMPUTE,
                ty: ::wgpu::BindingType::Buffer {
                    ty: ::wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let (made, errors) = self.scoped(|| {
            let shader = self
                .device
                .create_shader_module(::wgpu::ShaderModuleDescriptor {
                    label: Some(&k.name),
                    source: ::wgpu::ShaderSource::Wgsl(std::borrow::Cow::Borrowed(&m.source)),
                });
            let layout = self
                .device
                .create_bind_group_layout(&::wgpu::BindGroupLayoutDescriptor {
                    label: Some(&k.name),
                    entries: &entries,
                });
            let pipeline_layout =
                self.device
                    .create_pipeline_layout(&::wgpu::PipelineLayoutDescriptor {
                        label: Some(&k.name),
                        bind_group_layouts: &[Some(&layout)],
                        immediate_size: 0,
                    });
            let pipeline =
                self.device
                    .create_compute_pipeline(&::wgpu::ComputePipelineDescriptor {
                        label: Some(&k.name),
                        layout: Some(&pipeline_layout),
                        module: &shader,
                        entry_point: Some(&m.entry_point),
                        compilation_options: Default::default(),
                        cache: None,
                    });
            (pipeline, layout)
        });
        if !errors.is_empty() {
            return Err(compile_error(errors.join("\n")));
        }
        let (pipeline, layout) = made;
        let cached = Arc::new(CachedPipeline {
            source: m.source.clone(),
            entry: m.entry_point.clone(),
            pipeline,
            layout,
            bindings,
        });
        self.pipelines.insert(key, Arc::clone(&cached));
        Ok(cached)
    }

    /// Checks the arguments against the contract and builds the bind group and grid.
    pub(super) fn prepare(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
    ) -> Result<Prepared, RuntimeError> {
        let Kernel::Compiled(k) = kernel else {
            return Err(RuntimeError::WrongKernelKind {
                device: "wgpu",
                kernel: kernel.kind(),
            });
        };
        let Some(module) = k.wgsl() else {
            return Err(RuntimeError::WrongKernelKind {
                device: "wgpu",
                kernel: kernel.kind(),
            });
        };
        let c = &k.launch;
        let bad = |m: String| RuntimeError::bad_launch(&k.name, m);
        if args.len() != c.params.len() {
            return Err(bad(format!(
                "{} arguments for {} parameters",
                args.len(),
                c.params.len()
            )));
        }
        // Integer values of the scalar arguments, for grid and workspace expressions and the
        // assumptions. A float argument has none: an expression that reads one cannot be
        // evaluated (sizes never come from floats).
        let ints: Vec<Option<i64>> = args
            .iter()
            .map(|a| match a {
                LaunchArg::Int(v) => Some(*v),
                LaunchArg::Float(_) | LaunchArg::Buffer(_) => None,
            })
            .collect();
        if let Some(a) = c.broken_assumption(&ints) {
            return Err(bad(format!(
                "the kernel was compiled assuming parameter {} is a multiple of {}, got {:?}",
                a.param,
                a.divisor,
                args.get(a.param)
            )));
        }
        let pipeline = self.pipeline(k, module)?;
        // The scalar block and the buffer bindings.
        let mut words = vec![0u32; c.scalar_words.max(1) as usize];
        let mut bound: Vec<(u32, &::wgpu::Buffer)> = Vec::new();
        for p in &c.params {
            match p {
                ParamBinding::Buffer { param, binding, .. } => {
                    let Some(LaunchArg::Buffer(id)) = args.get(*param) else {
                        return Err(bad(format!(
                            "parameter {param} is a pointer; got {:?}",
                            args.get(*param)
                        )));
                    };
                    bound.push((*binding, &self.buffers.get(*id)?.buffer));
                }
                ParamBinding::Scalar { param, dtype, word } => {
                    let arg = args
                        .get(*param)
                        .ok_or_else(|| bad(format!("no argument for parameter {param}")))?;
                    let value = scalar_word(*dtype, arg)
                        .map_err(|m| bad(format!("parameter {param}: {m}")))?;
                    let slot = words.get_mut(*word as usize).ok_or_else(|| {
                        bad(format!(
                            "parameter {param} sits at word {word} of a {}-word scalar block",
                            c.scalar_words
                        ))
                    })?;
                    *slot = value;
                }
            }
        }
        // The grid.
        if c.grid.len() > 3 {
            return Err(bad(format!("a grid of {} dimensions", c.grid.len())));
        }
        let mut grid = [1u32; 3];
        for (axis, expr) in c.grid.iter().enumerate() {
            let n = expr.eval(&ints).ok_or_else(|| {
                bad(format!(
                    "grid extent {axis} ({expr:?}) cannot be evaluated (overflow, division by \
                     zero or a missing parameter)"
                ))
            })?;
            let max = self.limits.max_compute_workgroups_per_dimension;
            grid[axis] = u32::try_from(n)
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| bad(format!("grid extent {axis} is {n}; allowed 0..={max}")))?;
        }
        // The scalar block and workspaces (fresh buffers are zero-filled by wgpu).
        let scalars = self.raw_buffer(
            "scalars",
            4 * words.len() as u64,
            ::wgpu::BufferUsages::STORAGE | ::wgpu::BufferUsages::COPY_DST,
        )?;
        let scalar_bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.queue.write_buffer(&scalars, 0, &scalar_bytes);
        let mut workspaces = Vec::new();
        let mut clean = Vec::new();
        for ws in &c.workspaces {
            let n = ws
                .elements
                .eval(&ints)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "workspace at binding {} has no valid size ({:?})",
                        ws.binding, ws.elements
                    ))
                })?;
            let bytes = padded(pack::packed_len(ws.dtype.bits(), n));
            let buf = self.raw_buffer(
                "workspace",
                bytes,
                ::wgpu::BufferUsages::STORAGE | ::wgpu::BufferUsages::COPY_DST,
            )?;
            if ws.requires_clean {
                clean.push(buf.clone());
            }
            workspaces.push((ws.binding, buf));
        }
        // Bind exactly what the module declares.
        let mut entries = Vec::with_capacity(pipeline.bindings.len());
        for &(binding, _) in &pipeline.bindings {
            let resource = if binding == c.scalars_binding {
                scalars.as_entire_binding()
            } else if let Some((_, b)) = bound.iter().find(|(b, _)| *b == binding) {
                b.as_entire_binding()
            } else if let Some((_, b)) = workspaces.iter().find(|(b, _)| *b == binding) {
                b.as_entire_binding()
            } else {
                return Err(bad(format!(
                    "the module declares binding {binding}, which the launch contract does \
                     not name"
                )));
            };
            entries.push(::wgpu::BindGroupEntry { binding, resource });
        }
        let bind_group = self.checked(&format!("binding kernel `{}`", k.name), || {
            self.device.create_bind_group(&::wgpu::BindGroupDescriptor {
                label: Some(&k.name),
                layout: &pipeline.layout,
                entries: &entries,
            })
        })?;
        Ok(Prepared {
            pipeline,
            bind_group,
            clean,
            grid,
            label: k.name.clone(),
        })
    }

    /// Records one run: clears, then a compute pass (with timestamps at `ts`, `ts + 1`).
    fn encode(
        &self,
        p: &Prepared,
        encoder: &mut ::wgpu::CommandEncoder,
        timestamps: Option<(&::wgpu::QuerySet, u32)>,
    ) {
        for buf in &p.clean {
            encoder.clear_buffer(buf, 0, None);
        }
        let mut pass = encoder.begin_compute_pass(&::wgpu::ComputePassDescriptor {
            label: Some(&p.label),
            timestamp_writes: timestamps.map(|(query_set, i)| ::wgpu::ComputePassTimestampWrites {
                query_set,
                beginning_of_pass_write_index: Some(i),
                end_of_pass_write_index: Some(i + 1),
            }),
        });
        if p.grid.iter().all(|&n| n > 0) {
            pass.set_pipeline(&p.pipeline.pipeline);
            pass.set_bind_group(0, &p.bind_group, &[]);
            pass.dispatch_workgroups(p.grid[0], p.grid[1], p.grid[2]);
        }
    }

    /// Encodes `runs` runs and submits them.
    pub(super) fn submit_runs(&self, p: &Prepared, runs: u32) -> Result<(), RuntimeError> {
        self.checked(&format!("launch of `{}`", p.label), || {
            let mut encoder = self
                .device
                .create_command_encoder(&::wgpu::CommandEncoderDescriptor::default());
            for _ in 0..runs {
                self.encode(p, &mut encoder, None);
            }
            self.queue.submit([encoder.finish()]);
        })
    }

    /// `repeats` samples from timestamp queries, in batches of up to 1024 runs per submit.
    pub(super) fn time_with_timestamps(
        &self,
        p: &Prepared,
        repeats: u32,
    ) -> Result<Vec<f64>, RuntimeError> {
        const BATCH: u32 = 1024;
        let period_ns = f64::from(self.queue.get_timestamp_period());
        let queries = 2 * BATCH.min(repeats);
        let query_set = self.checked("timestamp query set", || {
            self.device.create_query_set(&::wgpu::QuerySetDescriptor {
                label: Some("tilus timestamps"),
                ty: ::wgpu::QueryType::Timestamp,
                count: queries,
            })
        })?;
        let bytes = 8 * u64::from(queries);
        let resolve = self.raw_buffer(
            "timestamp resolve",
            bytes,
            ::wgpu::BufferUsages::QUERY_RESOLVE | ::wgpu::BufferUsages::COPY_SRC,
        )?;
        let read = self.raw_buffer(
            "timestamp readback",
            bytes,
            ::wgpu::BufferUsages::MAP_READ | ::wgpu::BufferUsages::COPY_DST,
        )?;
        let mut samples = Vec::with_capacity(repeats as usize);
        let mut left = repeats;
        while left > 0 {
            let n = left.min(BATCH);
            left -= n;
            self.checked(&format!("timed launch of `{}`", p.label), || {
                let mut encoder = self
                    .device
                    .create_command_encoder(&::wgpu::CommandEncoderDescriptor::default());
                for i in 0..n {
                    self.encode(p, &mut encoder, Some((&query_set, 2 * i)));
                }
                encoder.resolve_query_set(&query_set, 0..2 * n, &resolve, 0);
                encoder.copy_buffer_to_buffer(&resolve, 0, &read, 0, 16 * u64::from(n));
                self.queue.submit([encoder.finish()]);
            })?;
            let raw = self.read_mapped(&read, 16 * u64::from(n))?;
            for pair in raw.chunks_exact(16) {
                let mut start = [0u8; 8];
                let mut end = [0u8; 8];
                start.copy_from_slice(&pair[..8]);
                end.copy_from_slice(&pair[8..]);
                let ticks = u64::from_le_bytes(end).saturating_sub(u64::from_le_bytes(start));
                samples.push(ticks as f64 * period_ns / 1000.0);
            }
        }
        Ok(samples)
    }
}

/// `bytes` rounded up to a whole number of 4-byte words, at least one word.
pub(super) fn padded(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4).max(1) * 4
}

/// The 32-bit word a scalar argument becomes (i32 sign-extended, u32, f32 bits).
fn scalar_word(dtype: DType, arg: &LaunchArg) -> Result<u32, String> {
    match (dtype, *arg) {
        (DType::F32, LaunchArg::Float(x)) => Ok((x as f32).to_bits()),
        (DType::F32, LaunchArg::Int(v)) => Ok((v as f32).to_bits()),
        (DType::Int { bits, signed }, LaunchArg::Int(v)) if bits <= 32 => {
            let bits = u32::from(bits);
            let (lo, hi) = if signed {
                (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
            } else {
                (0, (1i64 << bits) - 1)
            };
            if v < lo || v > hi {
                return Err(format!("{v} is out of range for {dtype}"));
            }
            // In range, so the truncation is exact (signed values sign-extend to 32 bits).
            Ok(if signed { v as i32 as u32 } else { v as u32 })
        }
        // f16 scalars are carried as the f32 bits of the f16-rounded value (the WGSL
        // legalization emulates f16 exactly in f32).
        (DType::F16, LaunchArg::Float(x)) => {
            Ok((dtype.decode_f64(dtype.encode_f64(x)) as f32).to_bits())
        }
        (DType::F16, LaunchArg::Int(v)) => {
            Ok((dtype.decode_f64(dtype.encode_f64(v as f64)) as f32).to_bits())
        }
        // Other floats (bf16, fp8, minifloats) travel as their code.
        (
            DType::BF16 | DType::F8E4M3FN | DType::F8E5M2 | DType::MiniFloat { .. },
            LaunchArg::Float(x),
        ) => Ok(dtype.encode_f64(x) as u32),
        (
            DType::BF16 | DType::F8E4M3FN | DType::F8E5M2 | DType::MiniFloat { .. },
            LaunchArg::Int(v),
        ) => Ok(dtype.encode_f64(v as f64) as u32),
        (_, arg) => Err(format!(
            "a {dtype} scalar cannot take {arg:?} (the WGSL scalar block holds integers of at \
             most 32 bits and floats of at most 32 bits)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_words() {
        let i32_ = DType::Int {
            bits: 32,
            signed: true,
        };
        let u32_ = DType::Int {
            bits: 32,
            signed: false,
        };
        assert_eq!(scalar_word(i32_, &LaunchArg::Int(-1)), Ok(u32::MAX));
        assert_eq!(
            scalar_word(u32_, &LaunchArg::Int(0xffff_ffff)),
            Ok(u32::MAX)
        );
        assert!(scalar_word(u32_, &LaunchArg::Int(-1)).is_err());
        assert!(scalar_word(i32_, &LaunchArg::Int(1 << 31)).is_err());
        assert!(scalar_word(i32_, &LaunchArg::Float(1.0)).is_err());
        assert_eq!(
            scalar_word(DType::F32, &LaunchArg::Float(1.5)),
            Ok(1.5f32.to_bits())
        );
        // f16: the f32 bits of the f16-rounded value (1/3 rounds to 0x3555 = 0.333251953125).
        assert_eq!(
            scalar_word(DType::F16, &LaunchArg::Float(1.0 / 3.0)),
            Ok(0.333_251_95_f32.to_bits())
        );
        // Coded floats travel as their code.
        assert_eq!(scalar_word(DType::BF16, &LaunchArg::Float(1.0)), Ok(0x3F80));
        assert_eq!(
            scalar_word(DType::F8E4M3FN, &LaunchArg::Float(448.0)),
            Ok(0x7E)
        );
        assert!(scalar_word(
            DType::Int {
                bits: 64,
                signed: true
            },
            &LaunchArg::Int(1)
        )
        .is_err());
    }

    #[test]
    fn padding() {
        assert_eq!([0, 1, 4, 5, 8].map(padded), [4, 4, 4, 8, 8]);
    }
}
