//! Compare `tilus_ir::dtype` against the ml_dtypes golden tables in `tests/golden/`
//! (format: `tests/golden/README.md`; generator: `scripts/golden_dtypes.py`).

use std::path::PathBuf;

use tilus_ir::dtype::DType;

const TABLES: [(&str, &str); 5] = [
    ("float4_e2m1fn", "f4e2m1"),
    ("float6_e3m2fn", "f6e3m2"),
    ("float6_e2m3fn", "f6e2m3"),
    ("float8_e4m3fn", "f8e4m3fn"),
    ("float8_e5m2", "f8e5m2"),
];

fn golden(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(file)
}

#[test]
fn decode_matches_ml_dtypes() {
    for (stem, name) in TABLES {
        let d = DType::parse(name).unwrap();
        let text = std::fs::read_to_string(golden(&format!("{stem}.dec.txt"))).unwrap();
        let mut rows = 0u64;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut it = line.split_whitespace();
            let code = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
            let bits = u32::from_str_radix(it.next().unwrap(), 16).unwrap();
            assert_eq!(code, rows, "{stem}: codes in order");
            let want = f32::from_bits(bits);
            let got = d.decode_f32(code);
            if want.is_nan() {
                assert!(got.is_nan() && d.is_nan_code(code), "{stem} code {code:#x}");
            } else {
                assert_eq!(
                    got.to_bits(),
                    bits,
                    "{stem} code {code:#x}: {got} vs {want}"
                );
                assert!(!d.is_nan_code(code));
            }
            rows += 1;
        }
        assert_eq!(rows, 1 << d.bits(), "{stem}: every code");
    }
}

#[test]
fn encode_matches_ml_dtypes() {
    for (stem, name) in TABLES {
        let d = DType::parse(name).unwrap();
        let bytes = std::fs::read(golden(&format!("{stem}.enc.bin"))).unwrap();
        assert_eq!(bytes.len() % 5, 0);
        let n = bytes.len() / 5;
        assert!(n >= 100_000, "{stem}: {n} rows");
        let mut xs = Vec::with_capacity(n);
        let mut want = Vec::with_capacity(n);
        let mut mismatches = Vec::new();
        for rec in bytes.chunks_exact(5) {
            let x = f32::from_bits(u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]));
            let code = u64::from(rec[4]);
            let got = d.encode_f32(x);
            if got != code && mismatches.len() < 20 {
                mismatches.push(format!(
                    "{x:e} ({:#010x}): got {got:#04x}, ml_dtypes {code:#04x}",
                    x.to_bits()
                ));
            }
            xs.push(x);
            want.push(code);
        }
        assert!(mismatches.is_empty(), "{stem}:\n{}", mismatches.join("\n"));
        let mut bulk = vec![0u64; n];
        d.encode_slice_f32(&xs, &mut bulk).unwrap();
        assert_eq!(bulk, want, "{stem}: bulk encode");
    }
}
