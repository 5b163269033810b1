//! The CPU device (`backend = "cpu"`): kernels compiled to native code with Cranelift
//! (tilus-lower's `backend/cpu`), run on host memory, blocks in parallel on all cores.
//!
//! Buffers are vectors of 32-bit words (the word-legal kernels' unit), padded to 16 bytes
//! like device allocations. A launch binds its arguments with [`bind`], then worker
//! threads (one per core, [`CpuDevice::with_threads`] to choose) claim blocks in order
//! (x fastest) and run each one through the JIT-compiled block function with their own
//! zeroed shared memory and thread frames. The first block that fails stops the launch
//! with its reason (an index outside a buffer, a division by zero, threads that disagree
//! around a barrier). Launches are synchronous; timing is the wall clock.
//!
//! Compiled modules are kept per CLIF text, so a kernel is JIT-compiled once per device.

mod jit;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tilus_lower::backend::cpu::status;
use tilus_lower::target::CpuCaps;

use super::bind::{bind, SlotSource};
use super::host::wall_clock_timing;
use super::{BufferId, BufferTable, Device, DeviceInfo, Kernel, LaunchArg, Timing};
use crate::error::RuntimeError;
use jit::{Loaded, Slot};

/// Buffers are padded to this many bytes (vector loads at the tail stay inside).
const PAD_WORDS: usize = 4;

/// A host buffer of words and its size in bytes.
#[derive(Debug)]
struct WordBuffer {
    words: Vec<u32>,
    bytes: usize,
}

impl WordBuffer {
    fn zeroed(bytes: usize) -> WordBuffer {
        let words = bytes.div_ceil(4).div_ceil(PAD_WORDS).max(1) * PAD_WORDS;
        WordBuffer {
            words: vec![0; words],
            bytes,
        }
    }

    fn from_bytes(bytes: &[u8]) -> WordBuffer {
        let mut b = WordBuffer::zeroed(bytes.len());
        b.write(bytes);
        b
    }

    /// `bytes` at offset 0, zeros after.
    fn write(&mut self, bytes: &[u8]) {
        self.words.fill(0);
        for (w, chunk) in self.words.iter_mut().zip(bytes.chunks(4)) {
            let mut b = [0u8; 4];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u32::from_le_bytes(b);
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.truncate(self.bytes);
        out
    }
}

fn vanished() -> RuntimeError {
    RuntimeError::BadConfig("a buffer of the launch vanished".into())
}

/// The Cranelift CPU backend as a [`Device`] (see the module doc).
#[derive(Debug)]
pub struct CpuDevice {
    info: DeviceInfo,
    buffers: BufferTable<WordBuffer>,
    /// Loaded modules by entry point, each with its CLIF (compared, not hashed, on every
    /// launch: the text is hundreds of kilobytes).
    modules: HashMap<String, Vec<(String, Arc<Loaded>)>>,
    threads: usize,
    /// Microseconds spent JIT-compiling (parse + Cranelift) so far.
    jit_us: Arc<AtomicU64>,
}

impl Default for CpuDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuDevice {
    /// A CPU device using every core (always succeeds; a host Cranelift cannot compile for
    /// fails at the first launch with a clear error).
    pub fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_threads(threads)
    }

    /// A CPU device running blocks on `threads` worker threads (at least 1).
    pub fn with_threads(threads: usize) -> Self {
        Self::with_options(threads, CpuCaps::default().lanes)
    }

    /// A CPU device with `threads` workers whose kernels run `lanes` threads per SIMD
    /// iteration (4, or 1 for scalar code only).
    pub fn with_options(threads: usize, lanes: u32) -> Self {
        let caps = CpuCaps::default();
        CpuDevice {
            info: DeviceInfo {
                backend: "cpu",
                name: format!(
                    "{} CPU, {} worker thread{} (Cranelift)",
                    std::env::consts::ARCH,
                    threads.max(1),
                    if threads.max(1) == 1 { "" } else { "s" }
                ),
                software: true,
                shader_f16: false,
                timestamps: false,
                // Threads that run together: the SIMD lanes of the generated code.
                subgroup_size: Some(if lanes == 4 { 4 } else { 1 }),
                max_workgroup_storage: caps.shared_bytes,
                max_invocations: caps.max_threads,
                f16_native: Default::default(),
                compute_capability: None,
            },
            buffers: BufferTable::new(),
            modules: HashMap::new(),
            threads: threads.max(1),
            jit_us: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Total time spent JIT-compiling kernels on this device, in µs.
    pub fn jit_micros(&self) -> u64 {
        self.jit_us.load(Ordering::Relaxed)
    }

    /// The loaded module of `artifact`, compiling it on first use.
    fn module(&mut self, name: &str, clif: &str, entry: &str) -> Result<Arc<Loaded>, RuntimeError> {
        if let Some((_, m)) = self
            .modules
            .get(entry)
            .and_then(|v| v.iter().find(|(c, _)| c == clif))
        {
            return Ok(m.clone());
        }
        let t0 = std::time::Instant::now();
        let loaded = jit::load(clif, entry).map_err(|message| RuntimeError::ShaderCompile {
            kernel: name.to_string(),
            message,
        })?;
        self.jit_us
            .fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
        let loaded = Arc::new(loaded);
        self.modules
            .entry(entry.to_string())
            .or_default()
            .push((clif.to_string(), loaded.clone()));
        Ok(loaded)
    }

    fn run(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        let wrong = || RuntimeError::WrongKernelKind {
            device: "cpu",
            kernel: kernel.kind(),
        };
        let Kernel::Compiled(artifact) = kernel else {
            return Err(wrong());
        };
        let Some(cpu) = artifact.cpu() else {
            return Err(wrong());
        };
        let buffers = &self.buffers;
        let bound = bind(artifact, args, [u32::MAX; 3], |id| {
            buffers.get(id).map(drop)
        })?;
        if bound.is_empty() {
            return Ok(());
        }
        let loaded = self.module(&artifact.name, &cpu.clif, &cpu.entry_point)?;
        // Workspaces and the scalar block live for this launch. The table holds raw
        // pointers only: the generated code is the buffers' only user until the launch
        // returns, and a `WordBuffer`'s words stay put when `owned` grows.
        let mut owned: Vec<WordBuffer> = Vec::new();
        let mut table = Vec::with_capacity(bound.slots.len());
        for slot in &bound.slots {
            let buf = match slot.source {
                SlotSource::Arg(id) => self.buffers.get_mut(id)?,
                SlotSource::Workspace { bytes, .. } => {
                    owned.push(WordBuffer::zeroed(bytes));
                    owned.last_mut().ok_or_else(vanished)?
                }
                SlotSource::ScalarBlock => {
                    owned.push(WordBuffer::from_bytes(&bound.scalar_bytes()));
                    owned.last_mut().ok_or_else(vanished)?
                }
            };
            table.push(Slot {
                base: buf.words.as_mut_ptr() as u64,
                words: buf.words.len() as u64,
            });
        }
        let [gx, gy, gz] = bound.grid;
        let total = u64::from(gx) * u64::from(gy) * u64::from(gz);
        let smem_words = cpu.smem_words as usize;
        let frame_words = (cpu.frame_bytes as usize / 4) * bound.threads[0] as usize;
        let next = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let failure: Mutex<Option<([u32; 3], i32)>> = Mutex::new(None);
        let workers = (self.threads as u64).min(total).max(1) as usize;
        let work = || {
            let mut smem = vec![0u32; smem_words];
            let mut frames = vec![0u32; frame_words];
            loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let x = (i % u64::from(gx)) as u32;
                let y = ((i / u64::from(gx)) % u64::from(gy)) as u32;
                let z = (i / (u64::from(gx) * u64::from(gy))) as u32;
                let launch = [
                    x as i32, y as i32, z as i32, gx as i32, gy as i32, gz as i32, 0, 0,
                ];
                if i > 0 {
                    smem.fill(0);
                    frames.fill(0);
                }
                let code = loaded.run_block(&table, &launch, &mut smem, &mut frames);
                if code != status::OK {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut f) = failure.lock() {
                        if f.is_none() {
                            *f = Some(([x, y, z], code));
                        }
                    }
                    return;
                }
            }
        };
        if workers == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..workers {
                    s.spawn(work);
                }
            });
        }
        let failed = failure.lock().map(|f| *f).unwrap_or(None);
        if let Some((block, code)) = failed {
            return Err(RuntimeError::BadLaunch {
                kernel: artifact.name.clone(),
                message: format!(
                    "block ({}, {}, {}) stopped: {}",
                    block[0],
                    block[1],
                    block[2],
                    status::describe(code)
                ),
            });
        }
        Ok(())
    }
}

impl Device for CpuDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError> {
        self.buffers.insert(WordBuffer::zeroed(bytes))
    }

    fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError> {
        self.buffers.remove(buffer).map(drop)
    }

    fn buffer_size(&self, buffer: BufferId) -> Result<usize, RuntimeError> {
        Ok(self.buffers.get(buffer)?.bytes)
    }

    fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError> {
        let dst = self.buffers.get_mut(buffer)?;
        if bytes.len() > dst.bytes {
            return Err(RuntimeError::UploadTooLarge {
                buffer,
                bytes: bytes.len(),
                size: dst.bytes,
            });
        }
        dst.write(bytes);
        Ok(())
    }

    fn download(&mut self, buffer: BufferId) -> Result<Vec<u8>, RuntimeError> {
        Ok(self.buffers.get(buffer)?.to_bytes())
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
