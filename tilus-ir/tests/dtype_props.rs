//! Property tests: code round trips and packing.

use proptest::prelude::*;
use tilus_ir::dtype::{pack, DType};

fn any_dtype() -> impl Strategy<Value = DType> {
    let all = DType::all();
    (0..all.len()).prop_map(move |i| all[i])
}

proptest! {
    /// decode(encode(decode(c))) == decode(c) bit for bit, and encode(decode(c)) == c, for
    /// every non-NaN code (floats: the sign of zero is kept, so -0 round-trips too).
    #[test]
    fn code_round_trip(d in any_dtype(), raw in any::<u64>()) {
        let code = raw & d.code_mask();
        prop_assume!(!d.is_nan_code(code));
        if d.is_int() {
            // f32 holds integers exactly up to 24 bits; f64 up to 53.
            let v = d.int_value_i128(code);
            if v.unsigned_abs() < (1u128 << 24) {
                prop_assert_eq!(d.encode_f32(d.decode_f32(code)), code);
            }
            if v.unsigned_abs() < (1u128 << 53) {
                prop_assert_eq!(d.encode_f64(d.decode_f64(code)), code);
            }
        } else {
            let x = d.decode_f32(code);
            prop_assert_eq!(d.encode_f32(x), code, "{} {:#x} -> {}", d, code, x);
            prop_assert_eq!(d.encode_f64(d.decode_f64(code)), code);
            prop_assert_eq!(d.decode_f32(d.encode_f32(x)).to_bits(), x.to_bits());
        }
    }

    /// Masking: bits above the width never matter.
    #[test]
    fn high_bits_ignored(d in any_dtype(), raw in any::<u64>()) {
        let code = raw & d.code_mask();
        prop_assert_eq!(d.decode_f64(raw).to_bits(), d.decode_f64(code).to_bits());
        prop_assert_eq!(d.is_nan_code(raw), d.is_nan_code(code));
    }

    /// pack / unpack round trip for every width and length; get/set agree with pack.
    #[test]
    fn pack_round_trip(bits in 1u32..=64, raw in prop::collection::vec(any::<u64>(), 0..200)) {
        let mask = u64::MAX >> (64 - bits);
        let codes: Vec<u64> = raw.iter().map(|c| c & mask).collect();
        let bytes = pack::pack(bits, &raw);
        prop_assert_eq!(bytes.len(), pack::packed_len(bits, codes.len()));
        prop_assert_eq!(bytes.len(), (codes.len() * bits as usize).div_ceil(8));
        // Padding bits of the last byte are zero.
        let used = codes.len() * bits as usize;
        if !used.is_multiple_of(8) {
            prop_assert_eq!(bytes[used / 8] >> (used % 8), 0);
        }
        prop_assert_eq!(pack::unpack(bits, &bytes, codes.len()).unwrap(), codes.clone());
        let mut out = vec![0u64; codes.len()];
        pack::unpack_into(bits, &bytes, &mut out).unwrap();
        prop_assert_eq!(&out, &codes);
        let mut into = vec![0xA5u8; bytes.len() + 3];
        pack::pack_into(bits, &raw, &mut into).unwrap();
        prop_assert_eq!(&into[..bytes.len()], &bytes[..]);
        prop_assert!(into[bytes.len()..].iter().all(|&b| b == 0xA5));
        for (i, &c) in codes.iter().enumerate() {
            prop_assert_eq!(pack::get(bits, &bytes, i), c);
            prop_assert_eq!(pack::try_get(bits, &bytes, i).unwrap(), c);
        }
        prop_assert!(pack::try_get(bits, &bytes, codes.len() + 64).is_err());
        // Build the same stream element by element with set, over garbage.
        let mut built = vec![0xFFu8; bytes.len()];
        for (i, &c) in raw.iter().enumerate() {
            pack::set(bits, &mut built, i, c);
        }
        if !used.is_multiple_of(8) {
            let last = used / 8;
            built[last] &= (1u8 << (used % 8)) - 1;
        }
        prop_assert_eq!(&built, &bytes);
        if !bytes.is_empty() {
            let short = &bytes[..bytes.len() - 1];
            prop_assert!(pack::unpack(bits, short, codes.len()).is_err());
        }
    }

    /// set changes exactly one element.
    #[test]
    fn set_is_local(bits in 1u32..=64, raw in prop::collection::vec(any::<u64>(), 1..50),
                    idx in any::<prop::sample::Index>(), code in any::<u64>()) {
        let mask = u64::MAX >> (64 - bits);
        let mut bytes = pack::pack(bits, &raw);
        let i = idx.index(raw.len());
        pack::try_set(bits, &mut bytes, i, code).unwrap();
        let back = pack::unpack(bits, &bytes, raw.len()).unwrap();
        for (k, (&b, &r)) in back.iter().zip(&raw).enumerate() {
            prop_assert_eq!(b, if k == i { code & mask } else { r & mask });
        }
    }
}
