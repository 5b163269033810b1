//! Bulk conversions between `f32` slices and code slices.
//!
//! The per-dtype dispatch happens once per call; types of at most 8 bits decode through a
//! 256-entry table.

use super::{Codec, DType, DTypeError};

fn check_len(input: usize, output: usize) -> Result<(), DTypeError> {
    if input == output {
        Ok(())
    } else {
        Err(DTypeError::LengthMismatch { input, output })
    }
}

impl DType {
    /// Encode every `xs[i]` into `out[i]` exactly like [`DType::encode_f32`].
    /// The slices must have the same length ([`DTypeError::LengthMismatch`] otherwise).
    pub fn encode_slice_f32(&self, xs: &[f32], out: &mut [u64]) -> Result<(), DTypeError> {
        check_len(xs.len(), out.len())?;
        match self.codec() {
            Codec::Int(f) => {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = f.encode_f32(x);
                }
            }
            Codec::Small(f) => {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = f.encode_f64(f64::from(x));
                }
            }
            Codec::F32 => {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = u64::from(x.to_bits());
                }
            }
            Codec::F16 => {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = u64::from(half::f16::from_f32(x).to_bits());
                }
            }
            Codec::BF16 => {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = u64::from(half::bf16::from_f32(x).to_bits());
                }
            }
        }
        Ok(())
    }

    /// Decode every `codes[i]` into `out[i]` exactly like [`DType::decode_f32`].
    /// The slices must have the same length ([`DTypeError::LengthMismatch`] otherwise).
    pub fn decode_slice_f32(&self, codes: &[u64], out: &mut [f32]) -> Result<(), DTypeError> {
        check_len(codes.len(), out.len())?;
        if self.bits() <= 8 && codes.len() >= 64 {
            let lut = self.decode_table_f32();
            for (o, &c) in out.iter_mut().zip(codes) {
                *o = lut[(c & 0xFF) as usize];
            }
            return Ok(());
        }
        match self.codec() {
            Codec::F32 => {
                for (o, &c) in out.iter_mut().zip(codes) {
                    *o = f32::from_bits(c as u32);
                }
            }
            Codec::F16 => {
                for (o, &c) in out.iter_mut().zip(codes) {
                    *o = half::f16::from_bits(c as u16).to_f32();
                }
            }
            Codec::BF16 => {
                for (o, &c) in out.iter_mut().zip(codes) {
                    *o = half::bf16::from_bits(c as u16).to_f32();
                }
            }
            Codec::Int(f) => {
                for (o, &c) in out.iter_mut().zip(codes) {
                    *o = f.value_i128(c) as f32;
                }
            }
            Codec::Small(f) => {
                for (o, &c) in out.iter_mut().zip(codes) {
                    *o = f.decode_f64(c) as f32;
                }
            }
        }
        Ok(())
    }

    /// The value of every byte `b` as a code (`table[b] == decode_f32(b)`, so bits above
    /// [`DType::bits`] are ignored). Meant for types of at most 8 bits.
    pub fn decode_table_f32(&self) -> [f32; 256] {
        let mut lut = [0.0f32; 256];
        for (b, v) in lut.iter_mut().enumerate() {
            *v = self.decode_f32(b as u64);
        }
        lut
    }
}
