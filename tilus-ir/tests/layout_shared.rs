//! Shared-memory layouts (spec/layouts.md "Shared-memory layouts", tilus.md §2.6).

use std::collections::HashSet;

use proptest::prelude::*;
use tilus_ir::layout::{parse_shared_layout, SharedLayout, SharedLayoutError, Swizzle};

fn f16_8x64() -> SharedLayout {
    SharedLayout::row_major(&[8, 64])
        .unwrap()
        .with_swizzle(Swizzle::new(3, 3, 3))
        .unwrap()
}

#[test]
fn swizzle_apply_matches_cute() {
    let s = Swizzle::new(3, 3, 3);
    assert_eq!(s.apply(64), 72);
    assert_eq!(s.apply(72), 64);
    assert_eq!(s.apply(7), 7);
    assert_eq!(Swizzle::new(0, 0, 3).apply(12345), 12345);
    // Absurd parameters do not panic.
    let _ = Swizzle::new(200, 200, 200).apply(usize::MAX);
    let _ = Swizzle::new(0, 64, 0).apply(usize::MAX);
}

#[test]
fn spec_numbers_f16_8x64() {
    let l = f16_8x64();
    assert_eq!(l.offset(&[1, 0]).unwrap(), 72);
    assert_eq!(l.offset(&[1, 8]).unwrap(), 64);
    assert_eq!(l.offset(&[3, 0]).unwrap(), 216);
    assert_eq!(l.offset(&[5, 17]).unwrap(), 377);
    for i in 0..8 {
        for j in 0..64 {
            let want = 64 * i + ((((j >> 3) ^ (i & 7)) << 3) + (j & 7));
            assert_eq!(l.offset(&[i, j]).unwrap(), want);
        }
    }
    assert_eq!(SharedLayout::row_major_swizzle(&[8, 64], 2).unwrap(), l);
    assert_eq!(l.swizzle(), Some(Swizzle::new(3, 3, 3)));
    assert_eq!(l.size(), 512);
}

#[test]
fn spec_numbers_f16_16x32() {
    let l = SharedLayout::row_major(&[16, 32])
        .unwrap()
        .with_swizzle(Swizzle::new(3, 2, 3))
        .unwrap();
    assert_eq!(l.offset(&[3, 0]).unwrap(), 104);
    assert_eq!(l.offset(&[5, 17]).unwrap(), 161);
    assert_eq!(SharedLayout::row_major_swizzle(&[16, 32], 2).unwrap(), l);
}

#[test]
fn row_major_swizzle_choices() {
    let sw = |shape: &[usize], b| SharedLayout::row_major_swizzle(shape, b).map(|l| l.swizzle());
    assert_eq!(sw(&[8, 64], 2), Ok(Some(Swizzle::new(3, 3, 3))));
    assert_eq!(sw(&[8, 128], 1), Ok(Some(Swizzle::new(4, 3, 3))));
    assert_eq!(sw(&[8, 32], 4), Ok(Some(Swizzle::new(2, 3, 3))));
    assert_eq!(sw(&[8, 16], 2), Ok(Some(Swizzle::new(3, 1, 3))));
    assert_eq!(sw(&[16, 8], 2), Ok(None));
    assert_eq!(sw(&[2, 8, 64], 2), Ok(Some(Swizzle::new(3, 3, 3))));
    assert!(matches!(
        sw(&[4, 64], 2),
        Err(SharedLayoutError::NotSwizzleable(_))
    ));
    assert!(matches!(
        sw(&[8, 4], 2),
        Err(SharedLayoutError::NotSwizzleable(_))
    ));
    assert!(sw(&[64], 2).is_err());
    assert!(sw(&[8, 64], 3).is_err());
}

/// 16-byte vectors stay contiguous and the swizzle permutes the tile.
fn check_ldmatrix_friendly(shape: &[usize], bytes: usize) {
    let l = SharedLayout::row_major_swizzle(shape, bytes).unwrap();
    let (rows, cols) = (shape[0], shape[1]);
    let vec = 16 / bytes;
    let mut seen = HashSet::new();
    for i in 0..rows {
        for j0 in (0..cols).step_by(vec) {
            let base = l.offset(&[i, j0]).unwrap();
            assert_eq!(base % vec, 0);
            for k in 0..vec {
                assert_eq!(
                    l.offset(&[i, j0 + k]).unwrap(),
                    base + k,
                    "{shape:?} ({i},{})",
                    j0 + k
                );
            }
        }
        for j in 0..cols {
            assert!(seen.insert(l.offset(&[i, j]).unwrap()));
        }
    }
    assert_eq!(seen, (0..rows * cols).collect());
    // Eight consecutive rows of one 16-byte column hit eight distinct 16-byte bank groups
    // when the row is at least 128 bytes.
    if cols * bytes >= 128 {
        let groups: HashSet<usize> = (0..8)
            .map(|i| (l.offset(&[i, 0]).unwrap() * bytes / 16) % 8)
            .collect();
        assert_eq!(groups.len(), 8);
    }
}

#[test]
fn vectors_contiguous_and_bijective() {
    check_ldmatrix_friendly(&[8, 64], 2);
    check_ldmatrix_friendly(&[16, 32], 2);
    check_ldmatrix_friendly(&[32, 16], 2);
    check_ldmatrix_friendly(&[64, 64], 2);
    check_ldmatrix_friendly(&[16, 128], 1);
    check_ldmatrix_friendly(&[8, 32], 4);
}

#[test]
fn byte_offsets() {
    let l = f16_8x64();
    for i in 0..8 {
        for j in 0..64 {
            assert_eq!(
                l.byte_offset(&[i, j], 16).unwrap(),
                2 * l.offset(&[i, j]).unwrap()
            );
        }
    }
    // CuTe's byte-level form directly: Swizzle(4,3,3) on byte offsets.
    assert_eq!(
        l.byte_offset(&[1, 0], 16).unwrap(),
        Swizzle::new(4, 3, 3).apply(128)
    );
    let u4 = SharedLayout::row_major(&[4, 8]).unwrap();
    assert_eq!(u4.byte_offset(&[1, 3], 4).unwrap(), 5);
    assert!(l.byte_offset(&[0, 0], 0).is_err());
}

#[test]
fn constructors_and_canonical_form() {
    let r = SharedLayout::row_major(&[8, 64]).unwrap();
    assert_eq!(r.mode_shape(), &[8, 64]);
    assert_eq!(r.mode_strides(), &[64, 1]);
    assert_eq!(SharedLayout::strided(&[8, 64], &[64, 1]).unwrap(), r);
    // A dimension split into chaining modes is merged.
    assert_eq!(
        SharedLayout::new(&[8, 64], &[8, 4, 16], &[64, 16, 1], None).unwrap(),
        r
    );
    // Size-1 modes are dropped.
    assert_eq!(
        SharedLayout::new(&[8, 64], &[1, 8, 64, 1], &[99, 64, 1, 7], None).unwrap(),
        r
    );
    let c = SharedLayout::column_major(&[16, 8]).unwrap();
    assert_eq!(c.offset(&[3, 2]).unwrap(), 35);
    assert_eq!(c.offset(&[15, 7]).unwrap(), 127);
    assert_eq!(c.size(), 128);
    let p = r.permute(&[1, 0]).unwrap();
    assert_eq!(p.shape(), &[64, 8]);
    assert_eq!(p.offset(&[5, 3]).unwrap(), r.offset(&[3, 5]).unwrap());
    assert!(r.permute(&[0, 0]).is_err());
    // A zero-bit swizzle is no swizzle.
    assert_eq!(r.clone().with_swizzle(Swizzle::new(3, 0, 3)).unwrap(), r);
    // Mixed modes.
    let m = SharedLayout::new(&[16, 8], &[2, 8, 8], &[8, 128, 1], None).unwrap();
    assert_eq!(m.offset(&[9, 3]).unwrap(), 8 + 128 + 3);
    assert_eq!(m.size(), 8 + 7 * 128 + 7 + 1);
    // Padding gives a size larger than the element count.
    assert_eq!(SharedLayout::strided(&[4, 4], &[8, 1]).unwrap().size(), 28);
}

#[test]
fn errors() {
    let r = SharedLayout::row_major(&[8, 64]).unwrap();
    assert!(matches!(
        r.offset(&[8, 0]),
        Err(SharedLayoutError::IndexOutOfBounds { .. })
    ));
    assert!(matches!(
        r.offset(&[0]),
        Err(SharedLayoutError::RankMismatch { .. })
    ));
    assert!(SharedLayout::new(&[8], &[2, 2], &[1, 2], None).is_err());
    assert!(SharedLayout::new(&[8], &[4, 2], &[1], None).is_err());
    assert!(SharedLayout::row_major(&[0, 3]).is_err());
    assert!(SharedLayout::row_major(&[1 << 13, 1 << 13]).is_err());
    assert!(SharedLayout::strided(&[2], &[usize::MAX]).is_err());
    assert!(r.clone().with_swizzle(Swizzle::new(3, 3, 2)).is_err());
    assert!(r.with_swizzle(Swizzle::new(40, 5, 10)).is_err());
}

#[test]
fn text_round_trip_and_examples() {
    for (src, printed) in [
        ("row_major(8,64)", "row_major(8,64)"),
        (
            "row_major(8, 64).swizzle(3, 3, 3)",
            "row_major(8,64).swizzle(3,3,3)",
        ),
        ("column_major(16,8)", "column_major(16,8)"),
        ("strided(shape=[8,64], strides=[64,1])", "row_major(8,64)"),
        (
            "strided(shape=[4,4], strides=[8,1])",
            "strided(shape=[4,4], strides=[8,1])",
        ),
        (
            "shared_layout(shape=[16,8], modes=[2,8,8], strides=[8,128,1])",
            "shared_layout(shape=[16,8], modes=[2,8,8], strides=[8,128,1])",
        ),
        (
            "shared_layout(shape=[8,64], modes=[8,4,16], strides=[64,16,1]).swizzle(3,2,3)",
            "row_major(8,64).swizzle(3,2,3)",
        ),
        ("strided(shape=[1,8], strides=[5,1])", "row_major(1,8)"),
        ("row_major(8,64).swizzle(3,0,3)", "row_major(8,64)"),
    ] {
        let l = parse_shared_layout(src).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(l.to_string(), printed, "{src}");
        assert_eq!(parse_shared_layout(printed).unwrap(), l);
    }
    assert_eq!(
        parse_shared_layout("row_major(8,64).swizzle(3,3,3)").unwrap(),
        f16_8x64()
    );
}

#[test]
fn text_errors() {
    let e = parse_shared_layout("row_major(8,x)").unwrap_err();
    assert_eq!(e.column, 13);
    assert!(
        e.render().ends_with("  row_major(8,x)\n              ^"),
        "{}",
        e.render()
    );
    let e = parse_shared_layout("row_major(8,64).swizzle(3,3)").unwrap_err();
    assert_eq!(e.column, 28);
    let e = parse_shared_layout("row_major(8,64).swizzle(3,3,1)").unwrap_err();
    assert_eq!(e.column, 17);
    assert!(e.message.contains("shift"), "{}", e.message);
    let e = parse_shared_layout("shared_layout(shape=[8], modes=[3], strides=[1])").unwrap_err();
    assert_eq!(e.column, 1);
    let e = parse_shared_layout("foo(1)").unwrap_err();
    assert!(e.message.contains("unknown shared layout"));
    let e = parse_shared_layout("row_major(99999999999)").unwrap_err();
    assert!(e.message.contains("2^24"));
    assert!(parse_shared_layout("row_major(8) row_major(8)").is_err());
    assert!(parse_shared_layout("").is_err());
}

fn shared_expr() -> impl Strategy<Value = String> {
    let shape = prop::collection::vec(1usize..6, 1..4);
    (
        shape,
        0usize..4,
        prop::collection::vec(0usize..40, 4),
        prop::option::of((0u32..4, 0u32..3, 3u32..5)),
    )
        .prop_map(|(shape, kind, strides, sw)| {
            let j = |v: &[usize]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let base = match kind {
                0 => format!("row_major({})", j(&shape)),
                1 => format!("column_major({})", j(&shape)),
                2 => format!(
                    "strided(shape=[{}], strides=[{}])",
                    j(&shape),
                    j(&strides[..shape.len()])
                ),
                _ => {
                    // Split the first dimension into modes when it is even.
                    let mut modes = Vec::new();
                    let mut st = Vec::new();
                    for (d, &s) in shape.iter().enumerate() {
                        if d == 0 && s % 2 == 0 {
                            modes.extend([2, s / 2]);
                            st.extend([strides[0], strides[3]]);
                        } else {
                            modes.push(s);
                            st.push(strides[d]);
                        }
                    }
                    format!(
                        "shared_layout(shape=[{}], modes=[{}], strides=[{}])",
                        j(&shape),
                        j(&modes),
                        j(&st)
                    )
                }
            };
            match sw {
                Some((b, m, s)) => format!("{base}.swizzle({b},{m},{s})"),
                None => base,
            }
        })
}

proptest! {
    #[test]
    fn shared_print_parse_round_trip(e in shared_expr()) {
        let l = parse_shared_layout(&e).map_err(|x| TestCaseError::fail(x.render()))?;
        let printed = l.to_string();
        prop_assert_eq!(parse_shared_layout(&printed).ok(), Some(l), "{} printed as {}", e, printed);
    }

    #[test]
    fn shared_parse_never_panics(s in "[a-z_()\\[\\],.=0-9 ]{0,40}") {
        if let Err(e) = parse_shared_layout(&s) {
            let _ = e.render();
        }
    }

    #[test]
    fn swizzle_is_an_involution(base in 0u32..6, bits in 0u32..4, extra in 0u32..3, x in 0usize..1 << 16) {
        let s = Swizzle::new(base, bits, bits + extra);
        prop_assert_eq!(s.apply(s.apply(x)), x);
        prop_assert_eq!(s.apply(x) & ((1 << base) - 1), x & ((1 << base) - 1));
    }
}
