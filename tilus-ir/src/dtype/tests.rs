//! Unit tests: the spec's worked examples.

use super::pack;
use super::*;

fn mf(exp: u8, mant: u8) -> DType {
    DType::MiniFloat { exp, mant }
}

fn positive_values(d: DType) -> Vec<f64> {
    let half = 1u64 << (d.bits() - 1);
    (0..half).map(|c| d.decode_f64(c)).collect()
}

#[test]
fn packing_examples() {
    assert_eq!(pack::pack(3, &[1, 2, 3, 4, 5, 6, 7, 0]), [0xD1, 0x58, 0x1F]);
    let i6 = DType::parse("i6").unwrap();
    let codes: Vec<u64> = [-3i64, 5, -32, 31]
        .iter()
        .map(|&v| i6.code_of_int(v).unwrap())
        .collect();
    assert_eq!(pack::pack(6, &codes), [0x7D, 0x01, 0x7E]);
    assert_eq!(
        pack::pack(4, &[0, 1, 2, 3, 4, 5, 6, 7]),
        [0x10, 0x32, 0x54, 0x76]
    );
    assert_eq!(
        pack::unpack(3, &[0xD1, 0x58, 0x1F], 8).unwrap(),
        [1, 2, 3, 4, 5, 6, 7, 0]
    );
    let back: Vec<i64> = pack::unpack(6, &[0x7D, 0x01, 0x7E], 4)
        .unwrap()
        .iter()
        .map(|&c| i6.int_value(c))
        .collect();
    assert_eq!(back, [-3, 5, -32, 31]);
    assert_eq!(pack::get(3, &[0xD1, 0x58, 0x1F], 6), 7);
    assert!(matches!(
        pack::unpack(3, &[0xD1, 0x58], 8),
        Err(DTypeError::BufferTooShort {
            needed: 3,
            actual: 2
        })
    ));
    assert!(pack::try_get(3, &[0xD1, 0x58, 0x1F], 8).is_err());
    assert!(matches!(
        pack::try_pack(0, &[1]),
        Err(DTypeError::InvalidBitWidth { bits: 0 })
    ));
    assert_eq!(pack::packed_len(3, 8), 3);
    assert_eq!(pack::packed_len(7, 3), 3);
}

#[test]
fn integer_examples() {
    let i4 = DType::Int {
        bits: 4,
        signed: true,
    };
    assert_eq!(i4.int_value(0b1001), -7);
    assert_eq!(i4.wrap_int(9), 0b1001);
    assert_eq!(i4.int_value(i4.wrap_int(9)), -7);
    for (bits, max) in [(4u8, 15.0), (3, 7.0), (2, 3.0)] {
        assert_eq!(
            DType::Int {
                bits,
                signed: false
            }
            .max_value(),
            max
        );
    }
    let u4 = DType::parse("u4").unwrap();
    let err = u4.code_of_int(16).unwrap_err();
    assert_eq!(err.to_string(), "value 16 out of range for u4 [0, 15]");
    assert_eq!(i4.min_value(), -8.0);
    assert_eq!(i4.encode_f32(-7.9), i4.wrap_int(-7));
    assert_eq!(i4.encode_f32(100.0), 7);
    assert_eq!(i4.encode_f32(-100.0), 8);
    assert_eq!(i4.encode_f32(f32::NAN), 0);
    assert_eq!(u4.encode_f32(-3.0), 0);
    let u64t = DType::Int {
        bits: 64,
        signed: false,
    };
    assert_eq!(u64t.int_value_i128(u64::MAX), i128::from(u64::MAX));
    assert_eq!(u64t.code_mask(), u64::MAX);
    assert_eq!(
        DType::Int {
            bits: 64,
            signed: true
        }
        .int_value(u64::MAX),
        -1
    );
}

#[test]
fn minifloat_tables() {
    let expect: Vec<f64> = vec![
        0.0, 0.0625, 0.125, 0.1875, 0.25, 0.3125, 0.375, 0.4375, 0.5, 0.625, 0.75, 0.875, 1.0,
        1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 14.0, 16.0, 20.0,
        24.0, 28.0,
    ];
    assert_eq!(positive_values(mf(3, 2)), expect);
    assert_eq!(
        positive_values(mf(2, 1)),
        [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    );
    assert_eq!(positive_values(mf(1, 1)), [0.0, 1.0, 2.0, 3.0]);
    assert_eq!(mf(2, 3).max_value(), 7.5);
    assert_eq!(mf(2, 2).max_value(), 7.0);
    let neg0 = mf(3, 2).decode_f64(0b100000);
    assert!(neg0 == 0.0 && neg0.is_sign_negative());
    assert_eq!(DType::F8E5M2.max_value(), 57344.0);
    assert_eq!(DType::F8E4M3FN.max_value(), 448.0);
    assert_eq!(DType::F16.max_value(), 65504.0);
    assert_eq!(DType::F8E4M3FN.bias(), Some(7));
    assert_eq!(mf(3, 2).smallest_normal(), Some(0.25));
    assert_eq!(mf(3, 2).smallest_subnormal(), Some(0.0625));
    assert_eq!(mf(2, 0).smallest_subnormal(), None);
    assert!(DType::F8E4M3FN.is_nan_code(0xFF));
    assert!(!DType::F8E4M3FN.is_nan_code(0x7E));
    assert!(DType::F8E5M2.is_inf_code(0xFC));
    assert!(DType::F8E5M2.is_nan_code(0x7D));
}

#[test]
fn minifloat_encode_examples() {
    let f = mf(3, 2);
    let cases: [(f32, u64); 15] = [
        (1.125, 0b001100),
        (1.375, 0b001110),
        (1.625, 0b001110),
        (27.0, 0b011111),
        (29.0, 0b011111),
        (30.0, 0b011111),
        (100.0, 0b011111),
        (-100.0, 0b111111),
        (0.1, 0b000010),
        (0.04, 0b000001),
        (0.09375, 0b000010),
        (0.03125, 0),
        (f32::INFINITY, 0b011111),
        (f32::NEG_INFINITY, 0b111111),
        (f32::NAN, 0),
    ];
    for (x, code) in cases {
        assert_eq!(f.encode_f32(x), code, "f6e3m2 encode {x}");
    }
    assert_eq!(f.encode_f32(-0.0), 0b100000);
    assert_eq!(f.encode_f32(-0.01), 0b100000);
    let f4 = mf(2, 1);
    for (x, v) in [
        (5.0f32, 4.0f32),
        (2.5, 2.0),
        (1.75, 2.0),
        (7.0, 6.0),
        (0.75, 1.0),
    ] {
        assert_eq!(f4.decode_f32(f4.encode_f32(x)), v, "f4e2m1 encode {x}");
    }
}

#[test]
fn fp8_encode_examples() {
    let e4 = DType::F8E4M3FN;
    assert_eq!(e4.encode_f32(448.0), 0x7E);
    assert_eq!(e4.encode_f32(464.0), 0x7E); // tie between 448 (even) and 480 (NaN slot)
    assert_eq!(e4.encode_f32(464.1), 0x7F);
    assert_eq!(e4.encode_f32(480.0), 0x7F);
    assert_eq!(e4.encode_f32(f32::INFINITY), 0x7F);
    assert_eq!(e4.encode_f32(f32::NEG_INFINITY), 0xFF);
    assert_eq!(e4.encode_f32(f32::NAN), 0x7F);
    assert_eq!(e4.encode_f32(-f32::NAN), 0xFF);
    assert_eq!(e4.encode_f32(-0.0), 0x80);
    let e5 = DType::F8E5M2;
    assert_eq!(e5.encode_f32(57344.0), 0x7B);
    assert_eq!(e5.encode_f32(61440.0), 0x7C);
    assert_eq!(e5.encode_f32(61439.0), 0x7B);
    assert_eq!(e5.encode_f32(1e30), 0x7C);
    assert_eq!(e5.encode_f32(-1e30), 0xFC);
    assert_eq!(e5.encode_f32(f32::NAN), 0x7E);
    assert_eq!(e5.encode_f32(-f32::NAN), 0xFE);
    assert_eq!(e5.decode_f32(0x7C), f32::INFINITY);
}

#[test]
fn names() {
    let all = DType::all();
    assert_eq!(all.len(), 22 + 5 + 20);
    assert_eq!(all[0].name(), "i1");
    assert_eq!(all[22].name(), "f32");
    assert_eq!(all[27].name(), "f3e2m0");
    assert_eq!(all[28].name(), "f3e1m1");
    assert_eq!(all.last().map(|d| d.name()), Some("f7e1m5".to_string()));
    for d in &all {
        assert!(d.is_valid());
        assert_eq!(DType::parse(&d.name()), Ok(*d));
        assert_eq!(d.to_string(), d.name());
        for a in d.aliases() {
            assert_eq!(DType::parse(&a), Ok(*d), "alias {a}");
        }
    }
    for (alias, canon) in [
        ("i4", "i4"),
        ("int4b", "i4"),
        ("int8", "i8"),
        ("int32", "i32"),
        ("u4", "u4"),
        ("uint4b", "u4"),
        ("uint8", "u8"),
        ("float16", "f16"),
        ("bfloat16", "bf16"),
        ("float32", "f32"),
        ("F8E4M3FN", "f8e4m3fn"),
        ("float8_e4m3", "f8e4m3fn"),
        ("float8_e4m3fn", "f8e4m3fn"),
        ("float8_e5m2", "f8e5m2"),
        ("float6_e3m2", "f6e3m2"),
        ("float6_e3m2fn", "f6e3m2"),
        ("float4_e2m1fn", "f4e2m1"),
        ("Float6_E2M3FN", "f6e2m3"),
    ] {
        assert_eq!(
            DType::parse(alias).map(|d| d.name()),
            Ok(canon.to_string()),
            "{alias}"
        );
    }
    let err = DType::parse("f6e3m3").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown dtype `f6e3m3`; did you mean `f6e3m2`, `f6e2m3`, `f7e3m3`?"
    );
    assert_eq!("bf16".parse::<DType>(), Ok(DType::BF16));
    assert!(DType::parse("f8e4m4").is_err());
    assert!(DType::minifloat(4, 4).is_err());
    assert!(DType::int(9, true).is_err());
}

#[test]
fn bulk_matches_scalar() {
    let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.037).collect();
    for d in DType::all() {
        let mut codes = vec![0u64; xs.len()];
        d.encode_slice_f32(&xs, &mut codes).unwrap();
        for (x, c) in xs.iter().zip(&codes) {
            assert_eq!(*c, d.encode_f32(*x), "{d} {x}");
        }
        let mut back = vec![0f32; xs.len()];
        d.decode_slice_f32(&codes, &mut back).unwrap();
        for (c, v) in codes.iter().zip(&back) {
            assert_eq!(v.to_bits(), d.decode_f32(*c).to_bits(), "{d} {c}");
        }
    }
    assert!(DType::F32.encode_slice_f32(&[1.0], &mut []).is_err());
}

#[test]
fn invalid_dtypes_do_not_panic() {
    for d in [
        DType::Int {
            bits: 0,
            signed: true,
        },
        DType::Int {
            bits: 200,
            signed: false,
        },
        DType::MiniFloat { exp: 0, mant: 0 },
        DType::MiniFloat {
            exp: 255,
            mant: 255,
        },
    ] {
        assert!(!d.is_valid());
        assert!(d.validate().is_err());
        let c = d.encode_f32(3.5);
        let _ = d.decode_f32(c);
        let _ = (
            d.max_value(),
            d.code_mask(),
            d.smallest_subnormal(),
            d.wrap_int(-5),
        );
        let _ = (d.is_nan_code(u64::MAX), d.int_value(u64::MAX), d.name());
    }
}
