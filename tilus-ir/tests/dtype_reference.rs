//! The library's codecs against the independent reference in `common/` (every minifloat,
//! fp8, every integer type), on dense sets of inputs.

mod common;

use common::{ref_int, RefFloat, Rng};
use tilus_ir::dtype::DType;

fn small_floats() -> Vec<RefFloat> {
    DType::all().into_iter().filter_map(RefFloat::new).collect()
}

#[test]
fn every_small_float_decodes_like_the_formula() {
    let refs = small_floats();
    assert_eq!(refs.len(), 22);
    for r in refs {
        for code in 0..(1u64 << r.dtype.bits()) {
            let want = common::formula_decode(r.exp, r.mant, r.family, code);
            let got = r.dtype.decode_f64(code);
            let got32 = r.dtype.decode_f32(code);
            if want.is_nan() {
                assert!(got.is_nan() && got32.is_nan() && r.dtype.is_nan_code(code));
            } else {
                assert_eq!(got.to_bits(), want.to_bits(), "{} code {code:#x}", r.dtype);
                assert_eq!(f64::from(got32).to_bits(), want.to_bits());
                assert_eq!(r.dtype.is_inf_code(code), want.is_infinite());
            }
            // Bits above the width are ignored.
            assert_eq!(
                r.dtype.decode_f64(code | (1 << r.dtype.bits())).to_bits(),
                got.to_bits()
            );
        }
        let max = r.table.last().unwrap().0;
        assert_eq!(r.dtype.max_value(), max, "{}", r.dtype);
        assert_eq!(r.dtype.min_value(), -max);
    }
}

fn check_encode(r: &RefFloat, xs: &[f32]) {
    let mut bulk = vec![0u64; xs.len()];
    r.dtype.encode_slice_f32(xs, &mut bulk).unwrap();
    for (&x, &b) in xs.iter().zip(&bulk) {
        let want = r.encode(x);
        assert_eq!(
            r.dtype.encode_f32(x),
            want,
            "{} encode {x:e} ({:#x})",
            r.dtype,
            x.to_bits()
        );
        assert_eq!(b, want, "{} bulk encode {x:e}", r.dtype);
        assert_eq!(
            r.dtype.encode_f64(f64::from(x)),
            want,
            "{} encode_f64 {x:e}",
            r.dtype
        );
    }
}

#[test]
fn every_small_float_encodes_like_the_reference() {
    let mut rng = Rng(0x5EED);
    for r in small_floats() {
        let mut xs = r.dense_inputs();
        let max = r.table.last().unwrap().0;
        let tiny = r.table[1].0 / 8.0;
        for _ in 0..20_000 {
            xs.push(f32::from_bits(rng.next_u64() as u32));
            let mag = (tiny.ln() + rng.unit() * ((2.0 * max).ln() - tiny.ln())).exp();
            let sign = if rng.next_u64() & 1 == 1 { -1.0 } else { 1.0 };
            xs.push((sign * mag) as f32);
        }
        check_encode(&r, &xs);
    }
}

fn int_types() -> Vec<DType> {
    DType::all().into_iter().filter(|d| d.is_int()).collect()
}

#[test]
fn integers_encode_like_rust_as() {
    let mut rng = Rng(0x1A7);
    for d in int_types() {
        let (bits, signed) = (d.bits(), d.is_signed());
        let lo = d.min_value();
        let hi = d.max_value();
        let mut xs: Vec<f32> = vec![
            0.0,
            -0.0,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            -f32::INFINITY,
        ];
        for edge in [lo, hi, 0.0] {
            for delta in [-2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0] {
                let x = (edge + delta) as f32;
                xs.extend([x, common::next_up(x), common::next_down(x)]);
            }
        }
        for _ in 0..20_000 {
            xs.push(f32::from_bits(rng.next_u64() as u32));
            xs.push(((rng.unit() * 2.0 - 1.0) * 1.5 * hi.max(1.0)) as f32);
        }
        let mut bulk = vec![0u64; xs.len()];
        d.encode_slice_f32(&xs, &mut bulk).unwrap();
        for (&x, &b) in xs.iter().zip(&bulk) {
            let want = ref_int(bits, signed, x);
            assert_eq!(d.encode_f32(x), want, "{d} encode {x:e}");
            assert_eq!(b, want, "{d} bulk encode {x:e}");
            assert_eq!(d.encode_f64(f64::from(x)), want, "{d} encode_f64 {x:e}");
            // The Rust primitive casts, where one exists.
            let prim = match (bits, signed) {
                (8, true) => Some((x as i8) as u8 as u64),
                (16, true) => Some((x as i16) as u16 as u64),
                (32, true) => Some((x as i32) as u32 as u64),
                (64, true) => Some((x as i64) as u64),
                (8, false) => Some(u64::from(x as u8)),
                (16, false) => Some(u64::from(x as u16)),
                (32, false) => Some(u64::from(x as u32)),
                (64, false) => Some(x as u64),
                _ => None,
            };
            if let Some(p) = prim {
                assert_eq!(want, p, "{d} reference vs as, {x:e}");
            }
        }
    }
}

#[test]
fn integer_wrap_and_range() {
    let mut rng = Rng(0xC0DE);
    for d in int_types() {
        let bits = d.bits();
        let mask = d.code_mask();
        let (lo, hi) = if d.is_signed() {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        };
        for _ in 0..2_000 {
            let v = rng.next_u64() as i64 >> (rng.next_u64() % 64);
            let code = d.wrap_int(v);
            assert_eq!(code, (v as u64) & mask);
            let back = d.int_value_i128(code);
            assert!((lo..=hi).contains(&back));
            assert_eq!(
                (back - i128::from(v)).rem_euclid(1i128 << bits),
                0,
                "{d} wrap {v}"
            );
            match d.code_of_int(v) {
                Ok(c) => {
                    assert!((lo..=hi).contains(&i128::from(v)));
                    assert_eq!(c, code);
                    assert_eq!(d.int_value_i128(c), i128::from(v));
                }
                Err(e) => {
                    assert!(!(lo..=hi).contains(&i128::from(v)));
                    assert!(
                        e.to_string().contains(&format!("for {d} [{lo}, {hi}]")),
                        "{e}"
                    );
                }
            }
        }
        // Every code of the small integers decodes to its two's-complement value.
        if bits <= 16 {
            for code in 0..(1u64 << bits) {
                let v = d.int_value_i128(code);
                assert!((lo..=hi).contains(&v));
                assert_eq!((v as u64) & mask, code);
                assert_eq!(d.decode_f32(code), v as f32);
            }
        }
    }
}
