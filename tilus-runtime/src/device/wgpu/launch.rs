//! Launching on the wgpu device: the pipeline cache, the bind group of a bound launch
//! ([`bind`](crate::device::bind)), encoding and timestamp timing.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tilus_lower::artifact::{Artifact, WgslModule};

use super::WgpuDevice;
use crate::device::bind::{self, SlotSource};
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

    /// Checks the arguments against the contract ([`bind`]) and builds the bind group and
    /// grid.
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
        let bad = |m: String| RuntimeError::bad_launch(&k.name, m);
        // The argument count and the assumptions are checked before compiling.
        bind::check_args(k, args)?;
        let pipeline = self.pipeline(k, module)?;
        let max = self.limits.max_compute_workgroups_per_dimension;
        let buffers = &self.buffers;
        let b = bind::bind(k, args, [max; 3], |id| buffers.get(id).map(drop))?;
        // The scalar block and workspaces (fresh buffers are zero-filled by wgpu).
        let scalars = self.raw_buffer(
            "scalars",
            4 * b.scalar_words.len() as u64,
            ::wgpu::BufferUsages::STORAGE | ::wgpu::BufferUsages::COPY_DST,
        )?;
        self.queue.write_buffer(&scalars, 0, &b.scalar_bytes());
        let mut resources: Vec<(u32, ::wgpu::Buffer)> = Vec::with_capacity(b.slots.len());
        let mut clean = Vec::new();
        for slot in &b.slots {
            let buffer = match slot.source {
                SlotSource::ScalarBlock => scalars.clone(),
                SlotSource::Arg(id) => self.buffers.get(id)?.buffer.clone(),
                SlotSource::Workspace {
                    bytes,
                    requires_clean,
                } => {
                    let buf = self.raw_buffer(
                        "workspace",
                        padded(bytes),
                        ::wgpu::BufferUsages::STORAGE | ::wgpu::BufferUsages::COPY_DST,
                    )?;
                    if requires_clean {
                        clean.push(buf.clone());
                    }
                    buf
                }
            };
            resources.push((slot.binding, buffer));
        }
        // Bind exactly what the module declares.
        let mut entries = Vec::with_capacity(pipeline.bindings.len());
        for &(binding, _) in &pipeline.bindings {
            let Some((_, buffer)) = resources.iter().find(|(b, _)| *b == binding) else {
                return Err(bad(format!(
                    "the module declares binding {binding}, which the launch contract does \
                     not name"
                )));
            };
            entries.push(::wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            });
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
            grid: b.grid,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding() {
        assert_eq!([0, 1, 4, 5, 8].map(padded), [4, 4, 4, 8, 8]);
    }
}
