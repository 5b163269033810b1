//! The packed weight format of the a16wX GEMM: fragment order.
//!
//! The kernel computes `C[M, N] = A[M, K] · B[K, N]` with `B = Wᵀ`, i.e. `B[k, n] =
//! codes[n, k]`. `B` is cut into `[BK, BN]` tiles; tile `(kt, nt)` covers
//! `B[kt·BK .., nt·BN ..]`. In the kernel such a tile lives in registers with the
//! block-level m16n8k16 B-operand layout
//! `Lw = mma_block(warp_spatial, warp_repeat).1` ([`tilus_ir::layout::atoms::mma_block`]),
//! in which every thread holds `L = 4·wrk·wrn` weights, i.e. `bytes_per_thread = L·bits/8`
//! bytes of register image (the thread's codes in slot order, as a little-endian bit
//! stream: spec/dtypes.md "Packing").
//!
//! The packed tile stores exactly those register images, so that loading it as bytes and
//! `view`ing it as the weight dtype with layout `Lw` is a pure reinterpretation:
//!
//! - the byte tile is one-dimensional, `tile_bytes = bytes_per_thread · 32 · wsn` bytes;
//! - its layout `Lbytes` has the thread structure of `Lw`: when `wsm > 1`, `Lw` is
//!   replicated over the `wsm` warp rows (leading replication digit) and so is `Lbytes`,
//!   so the tile holds each byte once; the other `32·wsn` threads are a `spatial` mode;
//! - within a thread, bytes come in words of `w = 4` bytes when `bytes_per_thread` is a
//!   multiple of 4 (else 2, else 1): `Lbytes = [replicated(1, threads=wsm) *]
//!   local(bytes_per_thread / w).spatial(32·wsn).local(w)`. Thread `t` holds the words
//!   `t, t + 32·wsn, t + 2·32·wsn, …`, so each warp reads contiguous 128-byte lines.
//!
//! The whole buffer is `u8 [ceil(K/BK), ceil(N/BN), tile_bytes]`, row-major; positions
//! outside `[K, N]` hold the zero code.

use tilus_ir::dtype::{pack, DType};
use tilus_ir::layout::{atoms, local, replicated, RegisterLayout};

use crate::config::A16WxConfig;
use crate::error::{KernelError, Result};

/// For one thread: the `(k, n)` tile position of each weight slot, and the byte position of
/// each byte slot.
type ThreadMap = (Vec<(usize, usize)>, Vec<usize>);

/// The packed-weight format of one a16wX configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedFormat {
    /// The weight dtype.
    pub wtype: DType,
    /// Rows (k) of a weight tile.
    pub block_k: usize,
    /// Columns (n) of a weight tile.
    pub block_n: usize,
    /// The register layout of a `[BK, BN]` weight tile (the MMA B operand).
    pub lw: RegisterLayout,
    /// The register layout of the `[tile_bytes]` byte tile.
    pub lbytes: RegisterLayout,
    /// Bytes of register image per thread.
    pub bytes_per_thread: usize,
    /// Bytes per packed tile.
    pub tile_bytes: usize,
    /// Threads holding distinct bytes (`32·wsn`); the others are replicas.
    pub distinct_threads: usize,
}

impl PackedFormat {
    /// The format of `cfg` (which is validated first).
    pub fn new(cfg: &A16WxConfig) -> Result<Self> {
        cfg.validate()?;
        let (wsm, wsn) = cfg.warp_spatial;
        let lw = atoms::mma_block(cfg.warp_spatial, cfg.warp_repeat).1;
        let bytes_per_thread =
            cfg.weight_bytes_per_thread()
                .ok_or_else(|| KernelError::InvalidConfig {
                    kernel: "a16wx",
                    reason: "weights per thread do not fill whole bytes".into(),
                })?;
        let word = [4, 2, 1]
            .into_iter()
            .find(|w| bytes_per_thread % w == 0)
            .unwrap_or(1);
        let distinct_threads = 32 * wsn;
        let core = local(&[bytes_per_thread / word])
            .spatial(&[distinct_threads])
            .local(&[word]);
        let lbytes = if wsm > 1 {
            replicated(&[1], wsm).compose(&core)
        } else {
            core
        };
        let tile_bytes = bytes_per_thread * distinct_threads;
        // Both layouts must describe the same threads with the same bits per thread.
        if lw.num_threads() != lbytes.num_threads()
            || lw.local_size() * cfg.wtype.bits() as usize != lbytes.local_size() * 8
            || lw.shape() != [cfg.block_k, cfg.block_n]
        {
            return Err(KernelError::InvalidConfig {
                kernel: "a16wx",
                reason: format!(
                    "internal: weight layout {lw} and byte layout {lbytes} do not match"
                ),
            });
        }
        Ok(PackedFormat {
            wtype: cfg.wtype,
            block_k: cfg.block_k,
            block_n: cfg.block_n,
            lw,
            lbytes,
            bytes_per_thread,
            tile_bytes,
            distinct_threads,
        })
    }

    /// `[ceil(K/BK), ceil(N/BN), tile_bytes]`: the shape of the packed buffer.
    pub fn packed_shape(&self, n: usize, k: usize) -> [usize; 3] {
        [
            k.div_ceil(self.block_k),
            n.div_ceil(self.block_n),
            self.tile_bytes,
        ]
    }

    /// The number of bytes of the packed buffer (saturating at `usize::MAX`).
    pub fn packed_len(&self, n: usize, k: usize) -> usize {
        self.packed_shape(n, k)
            .iter()
            .fold(1usize, |a, &b| a.saturating_mul(b))
    }

    /// For thread `t < distinct_threads`: the `(k, n)` tile position of each weight slot
    /// and the byte position of each byte slot.
    fn thread_maps(&self, t: usize) -> Result<ThreadMap> {
        let mut weights = Vec::with_capacity(self.lw.local_size());
        for slot in 0..self.lw.local_size() {
            let idx = self.lw.index_of(t, slot)?;
            weights.push((idx[0], idx[1]));
        }
        let mut bytes = Vec::with_capacity(self.bytes_per_thread);
        for slot in 0..self.bytes_per_thread {
            bytes.push(self.lbytes.index_of(t, slot)?[0]);
        }
        Ok((weights, bytes))
    }
}

/// Checks that `codes` holds `[n, k]` row-major codes.
pub(crate) fn check_codes(codes: &[u64], n: usize, k: usize) -> Result<()> {
    let expected = n.checked_mul(k).ok_or(KernelError::InvalidSize {
        what: "n·k",
        value: usize::MAX,
        reason: "overflows",
    })?;
    if codes.len() != expected {
        return Err(KernelError::ShapeMismatch {
            what: "codes",
            expected,
            got: codes.len(),
        });
    }
    Ok(())
}

/// Packs `[n, k]` row-major codes on the host, straight from the layouts (the reference
/// for the packing program, [`crate::pack::pack_program`]).
pub fn pack_codes_host(fmt: &PackedFormat, codes: &[u64], n: usize, k: usize) -> Result<Vec<u8>> {
    check_codes(codes, n, k)?;
    let [tk, tn, tb] = fmt.packed_shape(n, k);
    let bits = fmt.wtype.bits();
    let mut out = vec![0u8; fmt.packed_len(n, k)];
    let maps: Vec<_> = (0..fmt.distinct_threads)
        .map(|t| fmt.thread_maps(t))
        .collect::<Result<_>>()?;
    let mut regs = vec![0u64; fmt.lw.local_size()];
    for kt in 0..tk {
        for nt in 0..tn {
            let tile = &mut out[(kt * tn + nt) * tb..(kt * tn + nt + 1) * tb];
            for (weights, bytes) in &maps {
                for (r, &(kk, nn)) in regs.iter_mut().zip(weights) {
                    let (gk, gn) = (kt * fmt.block_k + kk, nt * fmt.block_n + nn);
                    *r = if gk < k && gn < n {
                        codes[gn * k + gk]
                    } else {
                        0
                    };
                }
                let image = pack::try_pack(bits, &regs)?;
                for (&pos, &byte) in bytes.iter().zip(&image) {
                    tile[pos] = byte;
                }
            }
        }
    }
    Ok(out)
}

/// Unpacks a packed buffer to `[n, k]` row-major codes on the host (the inverse of
/// [`pack_codes_host`]).
pub fn unpack_codes_host(
    fmt: &PackedFormat,
    packed: &[u8],
    n: usize,
    k: usize,
) -> Result<Vec<u64>> {
    let [tk, tn, tb] = fmt.packed_shape(n, k);
    if packed.len() != fmt.packed_len(n, k) {
        return Err(KernelError::ShapeMismatch {
            what: "packed weights",
            expected: fmt.packed_len(n, k),
            got: packed.len(),
        });
    }
    let bits = fmt.wtype.bits();
    let len = n.checked_mul(k).ok_or(KernelError::InvalidSize {
        what: "n·k",
        value: usize::MAX,
        reason: "overflows",
    })?;
    let mut out = vec![0u64; len];
    let maps: Vec<_> = (0..fmt.distinct_threads)
        .map(|t| fmt.thread_maps(t))
        .collect::<Result<_>>()?;
    let mut image = vec![0u8; fmt.bytes_per_thread];
    for kt in 0..tk {
        for nt in 0..tn {
            let tile = &packed[(kt * tn + nt) * tb..(kt * tn + nt + 1) * tb];
            for (weights, bytes) in &maps {
                for (b, &pos) in image.iter_mut().zip(bytes) {
                    *b = tile[pos];
                }
                let regs = pack::unpack(bits, &image, weights.len())?;
                for (&code, &(kk, nn)) in regs.iter().zip(weights) {
                    let (gk, gn) = (kt * fmt.block_k + kk, nt * fmt.block_n + nn);
                    if gk < k && gn < n {
                        out[gn * k + gk] = code;
                    }
                }
            }
        }
    }
    Ok(out)
}
