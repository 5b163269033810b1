//! Little-endian bit-stream packing of `n`-bit codes, `n` in `1..=64`.
//!
//! Element `i` occupies stream bits `[i*n, (i+1)*n)`; stream bit `b` is bit `b % 8` of byte
//! `b / 8`. Elements may straddle byte boundaries. `k` elements occupy `ceil(k*n/8)` bytes
//! ([`packed_len`]). Codes are masked to `n` bits when written.
//!
//! The `Result` functions check everything; [`pack`], [`get`] and [`set`] are for callers
//! that have already established their preconditions and never panic in release builds.

use super::DTypeError;

fn check_bits(bits: u32) -> Result<(), DTypeError> {
    if (1..=64).contains(&bits) {
        Ok(())
    } else {
        Err(DTypeError::InvalidBitWidth { bits })
    }
}

#[inline]
fn mask(bits: u32) -> u64 {
    u64::MAX >> (64 - bits)
}

/// Bytes needed for `count` elements of `bits` bits: `ceil(count * bits / 8)`
/// (saturates at `usize::MAX`).
pub fn packed_len(bits: u32, count: usize) -> usize {
    let total = (count as u128) * u128::from(bits);
    usize::try_from(total.div_ceil(8)).unwrap_or(usize::MAX)
}

/// Write the stream into `out`, whose length is exactly `packed_len(bits, codes.len())`;
/// `bits` is in 1..=64.
fn write_stream(bits: u32, codes: &[u64], out: &mut [u8]) {
    let m = mask(bits);
    let mut acc: u128 = 0;
    let mut nacc: u32 = 0;
    let mut pos = 0usize;
    for &c in codes {
        acc |= u128::from(c & m) << nacc;
        nacc += bits;
        if nacc >= 64 {
            // 64 complete bits precede the current element's end, so 8 bytes are in `out`.
            if let Some(dst) = out.get_mut(pos..pos + 8) {
                dst.copy_from_slice(&(acc as u64).to_le_bytes());
            }
            pos += 8;
            acc >>= 64;
            nacc -= 64;
        }
    }
    let rem = nacc.div_ceil(8) as usize;
    if let Some(dst) = out.get_mut(pos..pos + rem) {
        dst.copy_from_slice(&acc.to_le_bytes()[..rem]);
    }
}

/// Read `out.len()` elements from `bytes`, whose length is at least
/// `packed_len(bits, out.len())`; `bits` is in 1..=64.
fn read_stream(bits: u32, bytes: &[u8], out: &mut [u64]) {
    let m = mask(bits);
    let need = packed_len(bits, out.len()).min(bytes.len());
    let bytes = &bytes[..need];
    let mut acc: u128 = 0;
    let mut nacc: u32 = 0;
    let mut pos = 0usize;
    for o in out.iter_mut() {
        if nacc < bits {
            let take = (need - pos).min(8);
            let mut word = [0u8; 8];
            if let (Some(dst), Some(src)) = (word.get_mut(..take), bytes.get(pos..pos + take)) {
                dst.copy_from_slice(src);
            }
            acc |= u128::from(u64::from_le_bytes(word)) << nacc;
            nacc += 8 * take as u32;
            pos += take;
        }
        *o = (acc as u64) & m;
        acc >>= bits;
        nacc = nacc.saturating_sub(bits);
    }
}

/// Pack `codes` (each masked to `bits`) into a new buffer of
/// `packed_len(bits, codes.len())` bytes; the padding bits of the last byte are zero.
///
/// Precondition: `bits` in 1..=64; other widths are clamped into that range (use
/// [`try_pack`] to have them rejected).
pub fn pack(bits: u32, codes: &[u64]) -> Vec<u8> {
    let bits = bits.clamp(1, 64);
    let mut out = vec![0u8; packed_len(bits, codes.len())];
    write_stream(bits, codes, &mut out);
    out
}

/// [`pack`], rejecting a width outside 1..=64 with [`DTypeError::InvalidBitWidth`].
pub fn try_pack(bits: u32, codes: &[u64]) -> Result<Vec<u8>, DTypeError> {
    check_bits(bits)?;
    Ok(pack(bits, codes))
}

/// Pack `codes` into the first `packed_len(bits, codes.len())` bytes of `out` (padding bits
/// of the last byte are zeroed; later bytes are untouched).
pub fn pack_into(bits: u32, codes: &[u64], out: &mut [u8]) -> Result<(), DTypeError> {
    check_bits(bits)?;
    let need = packed_len(bits, codes.len());
    let actual = out.len();
    let dst = out.get_mut(..need).ok_or(DTypeError::BufferTooShort {
        needed: need,
        actual,
    })?;
    write_stream(bits, codes, dst);
    Ok(())
}

/// Unpack `count` codes of `bits` bits from the start of `bytes`.
pub fn unpack(bits: u32, bytes: &[u8], count: usize) -> Result<Vec<u64>, DTypeError> {
    check_bits(bits)?;
    let need = packed_len(bits, count);
    if bytes.len() < need {
        return Err(DTypeError::BufferTooShort {
            needed: need,
            actual: bytes.len(),
        });
    }
    let mut out = vec![0u64; count];
    read_stream(bits, bytes, &mut out);
    Ok(out)
}

/// Unpack `out.len()` codes of `bits` bits from the start of `bytes` into `out`.
pub fn unpack_into(bits: u32, bytes: &[u8], out: &mut [u64]) -> Result<(), DTypeError> {
    check_bits(bits)?;
    let need = packed_len(bits, out.len());
    if bytes.len() < need {
        return Err(DTypeError::BufferTooShort {
            needed: need,
            actual: bytes.len(),
        });
    }
    read_stream(bits, bytes, out);
    Ok(())
}

/// Byte range `(first_byte, byte_count, bit_offset)` of element `i`, or the error.
fn locate(bits: u32, len: usize, i: usize) -> Result<(usize, usize, u32), DTypeError> {
    check_bits(bits)?;
    let bit = (i as u128) * u128::from(bits);
    let first = bit / 8;
    let off = (bit % 8) as u32;
    let count = (off + bits).div_ceil(8) as usize;
    let end = first + count as u128;
    if end > len as u128 {
        return Err(DTypeError::BufferTooShort {
            needed: usize::try_from(end).unwrap_or(usize::MAX),
            actual: len,
        });
    }
    // end <= len, so first fits in usize.
    Ok((first as usize, count, off))
}

/// Element `i` of the stream, or [`DTypeError::BufferTooShort`] if it does not lie wholly
/// inside `bytes` ([`DTypeError::InvalidBitWidth`] for a width outside 1..=64).
pub fn try_get(bits: u32, bytes: &[u8], i: usize) -> Result<u64, DTypeError> {
    let (first, count, off) = locate(bits, bytes.len(), i)?;
    let mut acc: u128 = 0;
    // `locate` checked first + count <= bytes.len(), so the slice is in bounds.
    for (k, &b) in bytes[first..first + count].iter().enumerate() {
        acc |= u128::from(b) << (8 * k);
    }
    Ok(((acc >> off) as u64) & mask(bits))
}

/// Element `i` of the stream.
///
/// Precondition: `bits` in 1..=64 and element `i` inside `bytes` (asserted in debug builds);
/// otherwise 0 is returned. Use [`try_get`] when that is not established.
pub fn get(bits: u32, bytes: &[u8], i: usize) -> u64 {
    let r = try_get(bits, bytes, i);
    debug_assert!(r.is_ok(), "pack::get: {r:?}");
    r.unwrap_or(0)
}

/// Overwrite element `i` of the stream with `code` (masked to `bits`), leaving every other
/// bit alone; [`DTypeError::BufferTooShort`] if the element does not lie wholly inside
/// `bytes` ([`DTypeError::InvalidBitWidth`] for a width outside 1..=64).
pub fn try_set(bits: u32, bytes: &mut [u8], i: usize, code: u64) -> Result<(), DTypeError> {
    let (first, count, off) = locate(bits, bytes.len(), i)?;
    let m = u128::from(mask(bits)) << off;
    let v = u128::from(code & mask(bits)) << off;
    // `locate` checked first + count <= bytes.len(), so the slice is in bounds.
    for (k, b) in bytes[first..first + count].iter_mut().enumerate() {
        let sh = 8 * k;
        let bm = (m >> sh) as u8;
        *b = (*b & !bm) | ((v >> sh) as u8 & bm);
    }
    Ok(())
}

/// Overwrite element `i` of the stream with `code` (masked to `bits`).
///
/// Precondition: `bits` in 1..=64 and element `i` inside `bytes` (asserted in debug builds);
/// otherwise nothing is written. Use [`try_set`] when that is not established.
pub fn set(bits: u32, bytes: &mut [u8], i: usize, code: u64) {
    let r = try_set(bits, bytes, i, code);
    debug_assert!(r.is_ok(), "pack::set: {r:?}");
}
