//! What the CPU devices (the tile interpreter, the PTX interpreter) share: buffers that are
//! host byte vectors, and timing by the wall clock around synchronous runs.

use std::time::Instant;

use super::{BufferId, BufferTable, Clock, Timing};
use crate::error::RuntimeError;

/// Device buffers held in host memory.
#[derive(Debug)]
pub(crate) struct HostBuffers {
    table: BufferTable<Vec<u8>>,
}

impl HostBuffers {
    pub(crate) fn new() -> Self {
        HostBuffers {
            table: BufferTable::new(),
        }
    }

    /// A zeroed buffer.
    pub(crate) fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError> {
        self.table.insert(vec![0; bytes])
    }

    pub(crate) fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError> {
        self.table.remove(buffer).map(drop)
    }

    pub(crate) fn size(&self, buffer: BufferId) -> Result<usize, RuntimeError> {
        Ok(self.table.get(buffer)?.len())
    }

    /// `bytes` at offset 0, zeros after (see [`super::Device::upload`]).
    pub(crate) fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError> {
        let dst = self.table.get_mut(buffer)?;
        if bytes.len() > dst.len() {
            return Err(RuntimeError::UploadTooLarge {
                buffer,
                bytes: bytes.len(),
                size: dst.len(),
            });
        }
        dst[..bytes.len()].copy_from_slice(bytes);
        dst[bytes.len()..].fill(0);
        Ok(())
    }

    pub(crate) fn get(&self, buffer: BufferId) -> Result<&Vec<u8>, RuntimeError> {
        self.table.get(buffer)
    }

    pub(crate) fn get_mut(&mut self, buffer: BufferId) -> Result<&mut Vec<u8>, RuntimeError> {
        self.table.get_mut(buffer)
    }
}

/// Runs `run` `warmup` times, then `repeats` times (at least once) timed by the wall clock.
pub(crate) fn wall_clock_timing(
    warmup: u32,
    repeats: u32,
    mut run: impl FnMut() -> Result<(), RuntimeError>,
) -> Result<Timing, RuntimeError> {
    for _ in 0..warmup {
        run()?;
    }
    let mut samples = Vec::new();
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        run()?;
        samples.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    Ok(Timing::from_samples(samples, Clock::WallClock))
}
