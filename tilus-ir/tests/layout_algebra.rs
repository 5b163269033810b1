//! Worked examples of the register layout algebra (spec/layouts.md; tilus.md §2 and §6
//! acceptance items 1–5).

use std::collections::BTreeSet;

use tilus_ir::layout::atoms::{
    ldmatrix, mma_block, mma_m16n8k16_a, mma_m16n8k16_b, mma_m16n8k16_c,
};
use tilus_ir::layout::{
    auto_local_spatial, column_local, column_local_ranked, column_spatial, column_spatial_ranked,
    concat, left_divide, local, local_ranked, replicated, spatial, spatial_ranked, LayoutError,
    RegisterLayout,
};

fn new(shape: &[usize], modes: &[usize], sp: &[i64], lo: &[usize]) -> RegisterLayout {
    RegisterLayout::new(shape.to_vec(), modes.to_vec(), sp.to_vec(), lo.to_vec()).unwrap()
}

fn at(l: &RegisterLayout, t: usize, s: usize) -> Vec<usize> {
    l.index_of(t, s).unwrap()
}

/// Every index visited in row-major order.
fn all_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &s in shape {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..s).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}

/// Checks that the layout's inverse functions agree with index_of everywhere.
fn check_inverse(l: &RegisterLayout) {
    let mut holders: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); l.num_elements()];
    let strides: Vec<usize> = (0..l.rank())
        .map(|d| l.shape()[d + 1..].iter().product())
        .collect();
    let lin = |i: &[usize]| i.iter().zip(&strides).map(|(a, b)| a * b).sum::<usize>();
    for t in 0..l.num_threads() {
        for s in 0..l.local_size() {
            let i = at(l, t, s);
            assert_eq!(l.slot_of(&i).unwrap(), s);
            assert!(l.holds(t, &i));
            holders[lin(&i)].insert(t);
        }
    }
    for i in all_indices(l.shape()) {
        let ts = l.threads_of(&i).unwrap();
        assert_eq!(
            ts.iter().copied().collect::<BTreeSet<_>>(),
            holders[lin(&i)]
        );
    }
}

#[test]
fn compose_local_then_spatial() {
    let l = local(&[2, 1]).spatial(&[4, 8]);
    assert_eq!(l.shape(), &[8, 8]);
    assert_eq!(l.num_threads(), 32);
    assert_eq!(l.local_size(), 2);
    assert_eq!(l.mode_shape(), &[2, 4, 8]);
    assert_eq!(l.spatial_modes(), &[1, 2]);
    assert_eq!(l.local_modes(), &[0]);
    for t in 0..32 {
        for s in 0..2 {
            assert_eq!(at(&l, t, s), vec![4 * s + t / 8, t % 8]);
        }
    }
    check_inverse(&l);
    assert_eq!(l, &local(&[2, 1]) * &spatial(&[4, 8]));
    assert_eq!(l, local(&[2, 1]) * spatial(&[4, 8]));
}

#[test]
fn compose_spatial_then_local() {
    let l = spatial(&[2, 4]).local(&[2, 1]);
    assert_eq!(l.shape(), &[4, 4]);
    for t in 0..8 {
        for s in 0..2 {
            assert_eq!(at(&l, t, s), vec![2 * (t / 4) + s, t % 4]);
        }
    }
    assert_eq!(l, new(&[4, 4], &[2, 2, 4], &[0, 2], &[1]));
    check_inverse(&l);
}

#[test]
fn compose_spatial_local_blocks() {
    let l = spatial(&[2, 3]).local(&[3, 4]);
    assert_eq!(l.shape(), &[6, 12]);
    assert_eq!(l.local_size(), 12);
    let got: Vec<Vec<usize>> = (0..12).map(|s| at(&l, 1, s)).collect();
    let want: Vec<Vec<usize>> = (0..3)
        .flat_map(|r| (4..8).map(move |c| vec![r, c]))
        .collect();
    assert_eq!(got, want);
    check_inverse(&l);
}

#[test]
fn tilus_doc_example() {
    let l = new(&[4, 6], &[2, 2, 3, 2], &[0, 2], &[3, 1]);
    assert_eq!(l.dim_modes(), vec![vec![0, 1], vec![2, 3]]);
    for i in 0..4 {
        for j in 0..6 {
            assert_eq!(l.threads_of(&[i, j]).unwrap(), vec![(i / 2) * 3 + j / 2]);
            assert_eq!(l.slot_of(&[i, j]).unwrap(), (j % 2) * 2 + i % 2);
        }
    }
    check_inverse(&l);
}

#[test]
fn divide_examples() {
    let l = spatial(&[2, 4]).local(&[2, 1]);
    assert_eq!(l.divide(&local(&[2, 1])).unwrap(), spatial(&[2, 4]));
    assert_eq!((&l / &local(&[2, 1])).unwrap(), spatial(&[2, 4]));
    assert_eq!((spatial(&[6]) / spatial(&[3])).unwrap(), spatial(&[2]));
    assert_eq!(
        spatial(&[2, 12]).divide(&spatial(&[1, 3])).unwrap(),
        spatial(&[2, 4])
    );
    assert_eq!(
        spatial(&[32, 1])
            .local(&[1, 32])
            .divide(&spatial(&[32, 1]))
            .unwrap(),
        local(&[1, 32])
    );
}

#[test]
fn left_divide_examples() {
    assert_eq!(
        left_divide(&spatial(&[6]), &spatial(&[2])).unwrap(),
        spatial(&[3])
    );
    assert_eq!(
        left_divide(
            &spatial(&[2, 12]).local(&[2, 3]),
            &spatial(&[2, 1]).local(&[2, 1])
        )
        .unwrap(),
        spatial(&[1, 12]).local(&[1, 3])
    );
}

#[test]
fn divide_errors_say_why() {
    let l = spatial(&[2, 4]).local(&[2, 1]);
    let e = l.divide(&spatial(&[3])).unwrap_err();
    assert!(matches!(e, LayoutError::NotDivisible { .. }));
    let msg = e.to_string();
    assert!(msg.contains("does not divide by"), "{msg}");
    assert!(msg.contains("dim 1"), "{msg}");
    assert!(msg.contains("not a multiple of the divisor's 3"), "{msg}");

    let e = spatial(&[2, 12])
        .divide(&spatial(&[1, 5]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a multiple"), "{e}");
    // Extents divide but the mode structure does not: spatial(6) / local(2).
    let e = spatial(&[6]).divide(&local(&[2])).unwrap_err().to_string();
    assert!(
        e.contains("spatial list") || e.contains("local list"),
        "{e}"
    );
    // 4 = 2*2 in modes [4] (spatial) cannot end with a 3.
    let e = spatial(&[12])
        .divide(&spatial(&[8]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a multiple"), "{e}");
    let e = left_divide(&spatial(&[6]), &spatial(&[4])).unwrap_err();
    assert!(matches!(e, LayoutError::NotLeftDivisible { .. }));
    // Rank too large.
    assert!(spatial(&[4]).divide(&spatial(&[1, 4])).is_err());
    // Order matters: column_spatial(2,3) is not a suffix of spatial(2,3).
    assert!(spatial(&[4, 6]).divide(&column_spatial(&[2, 3])).is_err());
}

#[test]
fn divide_splits_replication() {
    // replicated over 6 = (replicated over 2) * (replicated over 3)
    let l = replicated(&[4], 6);
    assert_eq!(l.spatial_modes(), &[-6]);
    let r = replicated(&[2], 3);
    let q = l.divide(&r).unwrap();
    assert_eq!(q, replicated(&[2], 2));
    assert_eq!(&q * &r, l);
    let q = left_divide(&l, &replicated(&[1], 2)).unwrap();
    assert_eq!(q, replicated(&[4], 3));
}

#[test]
fn canonical_examples() {
    assert_eq!(new(&[6], &[2, 3], &[0, 1], &[]), spatial(&[6]));
    let unmerged = new(&[6], &[2, 3], &[1, 0], &[]);
    assert_ne!(unmerged, spatial(&[6]));
    assert_eq!(unmerged.mode_shape(), &[2, 3]);
    assert_eq!(unmerged.spatial_modes(), &[1, 0]);
    assert_eq!(
        new(&[4, 6, 5], &[2, 2, 2, 3, 5], &[0, 1], &[2, 3, 4]),
        new(&[4, 6, 5], &[4, 6, 5], &[0], &[1, 2])
    );
    let s = spatial(&[1, 1, 2, 1, 3, 1]);
    assert_eq!(s.mode_shape(), &[2, 3]);
    assert_eq!(s.spatial_modes(), &[0, 1]);
    assert_eq!(s.shape(), &[1, 1, 2, 1, 3, 1]);
    assert_eq!(s.canonical(), s);
    // Size-1 modes in the raw constructor are accepted and dropped.
    assert_eq!(new(&[6], &[1, 2, 1, 3], &[1, 3], &[0, 2]), spatial(&[6]));
}

#[test]
fn raw_constructor_rejects_bad_lists() {
    let bad = |shape: &[usize], modes: &[usize], sp: &[i64], lo: &[usize]| {
        RegisterLayout::new(shape.to_vec(), modes.to_vec(), sp.to_vec(), lo.to_vec())
            .unwrap_err()
            .to_string()
    };
    assert!(bad(&[6], &[2, 3], &[0], &[]).contains("neither"));
    assert!(bad(&[6], &[2, 3], &[0, 1], &[1]).contains("twice"));
    assert!(bad(&[6], &[2, 3], &[0, 2], &[1]).contains("not a mode id"));
    assert!(bad(&[6], &[4, 3], &[0, 1], &[]).contains("multiply to"));
    assert!(bad(&[6], &[2, 3, 2], &[0, 1, 2], &[]).contains("left over"));
    assert!(bad(&[0], &[], &[], &[]).contains("extent 0"));
}

#[test]
fn reduce_examples() {
    let r = spatial(&[3, 4]).reduce(&[0], false).unwrap();
    assert_eq!(r.shape(), &[4]);
    assert_eq!(r.spatial_modes(), &[-3, 0]);
    assert_eq!(r.threads_of(&[0]).unwrap(), vec![0, 4, 8]);
    for j in 0..4 {
        assert_eq!(r.threads_of(&[j]).unwrap(), vec![j, j + 4, j + 8]);
    }
    assert!(r.is_replicated());
    check_inverse(&r);

    let r = spatial(&[2, 4]).local(&[2, 2]).reduce(&[1], false).unwrap();
    assert_eq!(r.shape(), &[4]);
    assert_eq!(r.mode_shape(), &[2, 2]);
    assert_eq!(r.spatial_modes(), &[0, -4]);
    assert_eq!(r.local_modes(), &[1]);
    assert_eq!(r.threads_of(&[3]).unwrap(), vec![4, 5, 6, 7]);
    assert_eq!(r.slot_of(&[3]).unwrap(), 1);
    for i in 0..4 {
        let want: Vec<usize> = (0..4).map(|k| 4 * (i / 2) + k).collect();
        assert_eq!(r.threads_of(&[i]).unwrap(), want);
        assert_eq!(r.slot_of(&[i]).unwrap(), i % 2);
    }
    check_inverse(&r);

    let k = spatial(&[3, 4]).reduce(&[0], true).unwrap();
    assert_eq!(k.shape(), &[1, 4]);
    assert_eq!(k.spatial_modes(), &[-3, 0]);
    // Reducing everything: a rank-0 layout held by all threads.
    let all = spatial(&[3, 4])
        .local(&[2, 2])
        .reduce(&[0, 1], false)
        .unwrap();
    assert_eq!(all.shape(), &[] as &[usize]);
    assert_eq!(all.spatial_modes(), &[-12]);
    assert_eq!(all.threads_of(&[]).unwrap(), (0..12).collect::<Vec<_>>());
    assert!(spatial(&[3, 4]).reduce(&[2], false).is_err());
    assert!(spatial(&[3, 4]).reduce(&[1, 1], false).is_err());
}

#[test]
fn replication_digits_merge() {
    // Adjacent replication digits merge (-2, -3 -> -6): the same function.
    let a = replicated(&[4], 2).compose(&replicated(&[1], 3));
    assert_eq!(a.spatial_modes(), &[-6]);
    assert_eq!(a, replicated(&[4], 6));
    assert_eq!(
        new(&[4], &[4], &[-2, -3, 0], &[]),
        new(&[4], &[4], &[-6, 0], &[])
    );
    assert_eq!(new(&[4], &[4], &[-1, 0], &[]), spatial(&[4]));
}

#[test]
fn primitives_and_ranks() {
    let c = column_spatial(&[2, 3]);
    for t in 0..6 {
        assert_eq!(at(&c, t, 0), vec![t % 2, t / 2]);
    }
    let c = column_local(&[2, 3]);
    for s in 0..6 {
        assert_eq!(at(&c, 0, s), vec![s % 2, s / 2]);
    }
    // ranks[d] = significance of dim d, 0 most significant.
    assert_eq!(spatial_ranked(&[2, 3], &[0, 1]).unwrap(), spatial(&[2, 3]));
    assert_eq!(
        spatial_ranked(&[2, 3], &[1, 0]).unwrap(),
        column_spatial(&[2, 3])
    );
    assert_eq!(
        local_ranked(&[2, 3], &[1, 0]).unwrap(),
        column_local(&[2, 3])
    );
    let r = spatial_ranked(&[2, 3, 4], &[1, 2, 0]).unwrap();
    // order: dim 2 (rank 0), dim 0 (rank 1), dim 1 (rank 2)
    for t in 0..24 {
        assert_eq!(at(&r, t, 0), vec![(t / 3) % 2, t % 3, t / 6]);
    }
    assert_eq!(
        column_spatial_ranked(&[2, 3, 4], &[0, 1, 2]).unwrap(),
        column_spatial(&[2, 3, 4])
    );
    assert_eq!(
        column_local_ranked(&[2, 3, 4], &[1, 2, 0]).unwrap(),
        local_ranked(&[2, 3, 4], &[1, 0, 2]).unwrap()
    );
    assert!(spatial_ranked(&[2, 3], &[0, 0]).is_err());
    assert!(spatial_ranked(&[2, 3], &[0, 2]).is_err());
    assert!(local_ranked(&[2, 3], &[0]).is_err());
    assert!(local_ranked(&[2, 0], &[0, 1]).is_err());

    let rep = replicated(&[2, 2], 4);
    assert_eq!(rep.num_threads(), 4);
    assert_eq!(rep.local_size(), 4);
    assert_eq!(rep.threads_of(&[1, 1]).unwrap(), vec![0, 1, 2, 3]);
    check_inverse(&rep);
}

#[test]
fn concat_example() {
    let c = concat(&spatial(&[2]), &local(&[3]).spatial(&[4]));
    assert_eq!(c.shape(), &[2, 12]);
    assert_eq!(c.num_threads(), 8);
    for t in 0..8 {
        for s in 0..3 {
            assert_eq!(at(&c, t, s), vec![t / 4, 4 * s + t % 4]);
        }
    }
    check_inverse(&c);
}

#[test]
fn auto_local_spatial_examples() {
    assert_eq!(
        auto_local_spatial(128, &[64, 64]),
        local(&[32, 1]).spatial(&[2, 64])
    );
    let a = auto_local_spatial(64, &[4, 8]);
    assert_eq!(a.spatial_modes(), &[-2, 0, 1]);
    assert_eq!(a.num_threads(), 64);
}

#[test]
fn default_load_layout() {
    let l = local(&[4, 1]).spatial(&[16, 8]).local(&[1, 8]);
    assert_eq!(l.shape(), &[64, 64]);
    assert_eq!(l.num_threads(), 128);
    assert_eq!(l.local_size(), 32);
    let got: Vec<Vec<usize>> = (0..32).map(|s| at(&l, 9, s)).collect();
    let want: Vec<Vec<usize>> = [1, 17, 33, 49]
        .iter()
        .flat_map(|&r| (8..16).map(move |c| vec![r, c]))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn permute_squeeze_unsqueeze_reshape() {
    let l = spatial(&[2, 3]).local(&[3, 4]);
    let p = l.permute(&[1, 0]).unwrap();
    assert_eq!(p.shape(), &[12, 6]);
    for t in 0..6 {
        for s in 0..12 {
            let i = at(&l, t, s);
            assert_eq!(at(&p, t, s), vec![i[1], i[0]]);
        }
    }
    assert!(l.permute(&[0]).is_err());
    assert!(l.permute(&[0, 0]).is_err());

    let u = l.unsqueeze(&[0, 2]).unwrap();
    assert_eq!(u.shape(), &[1, 6, 1, 12]);
    assert_eq!(u.squeeze(&[0, 2]).unwrap(), l);
    let e = l.squeeze(&[0]).unwrap_err().to_string();
    assert!(e.contains("extent 6"), "{e}");

    assert_eq!(
        spatial(&[2, 4]).reshape(&[2, 2, 2]).unwrap(),
        spatial(&[2, 2, 2])
    );
    let big = spatial(&[2, 4]).local(&[3, 2]).spatial(&[6, 8]);
    let r = big.reshape(&[2, 3, 6, 4, 2, 8]).unwrap();
    assert_eq!(
        r,
        new(
            &[2, 3, 6, 4, 2, 8],
            &[2, 3, 6, 4, 2, 8],
            &[0, 3, 2, 5],
            &[1, 4]
        )
    );
    assert_eq!(
        r.reshape(&[36, 64]).unwrap(),
        new(&[36, 64], &[2, 3, 6, 4, 2, 8], &[0, 3, 2, 5], &[1, 4])
    );
    // A boundary that cuts a mode: modes [3, 2] (column order) cannot become [2, 3].
    let c = column_spatial(&[3, 2]).reshape(&[6]).unwrap();
    assert_eq!(c.mode_shape(), &[3, 2]);
    let e = c.reshape(&[2, 3]).unwrap_err().to_string();
    assert!(e.contains("cuts mode"), "{e}");
    assert!(spatial(&[6]).reshape(&[4]).is_err());
    let f = l.flatten().unwrap();
    assert_eq!(f.shape(), &[72]);
    for t in 0..6 {
        for s in 0..12 {
            let i = at(&l, t, s);
            assert_eq!(at(&f, t, s), vec![i[0] * 12 + i[1]]);
        }
    }
}

#[test]
fn index_errors() {
    let l = spatial(&[2, 4]).local(&[2, 1]);
    assert!(matches!(
        l.index_of(8, 0),
        Err(LayoutError::ThreadOutOfRange { .. })
    ));
    assert!(matches!(
        l.index_of(0, 2),
        Err(LayoutError::SlotOutOfRange { .. })
    ));
    assert!(l.slot_of(&[4, 0]).is_err());
    assert!(l.slot_of(&[0]).is_err());
    assert!(l.threads_of(&[0, 4]).is_err());
    assert!(!l.holds(100, &[0, 0]));
    assert!(!l.holds(0, &[9, 0]));
}

// --- MMA atoms against the PTX ISA fragment tables (written independently). ---

/// PTX m16n8k16 f16 A fragment: a_i of lane.
fn ptx_a(lane: usize, i: usize) -> (usize, usize) {
    let group = lane >> 2;
    let tig = lane % 4;
    let row = group + 8 * ((i >> 1) & 1);
    let col = tig * 2 + (i & 1) + 8 * usize::from(i >= 4);
    (row, col)
}

/// PTX m16n8k16 f16 B fragment: b_i of lane (row = k, col = n).
fn ptx_b(lane: usize, i: usize) -> (usize, usize) {
    let group = lane >> 2;
    let tig = lane % 4;
    (tig * 2 + (i & 1) + 8 * usize::from(i >= 2), group)
}

/// PTX m16n8k16 C/D fragment: c_i of lane.
fn ptx_c(lane: usize, i: usize) -> (usize, usize) {
    let group = lane >> 2;
    let tig = lane % 4;
    (group + 8 * usize::from(i >= 2), tig * 2 + (i & 1))
}

fn check_atom(
    l: &RegisterLayout,
    shape: &[usize],
    slots: usize,
    f: fn(usize, usize) -> (usize, usize),
) {
    assert_eq!(l.shape(), shape);
    assert_eq!(l.num_threads(), 32);
    assert_eq!(l.local_size(), slots);
    assert!(!l.is_replicated());
    for lane in 0..32 {
        for i in 0..slots {
            let (r, c) = f(lane, i);
            assert_eq!(at(l, lane, i), vec![r, c], "lane {lane} slot {i}");
            assert_eq!(l.threads_of(&[r, c]).unwrap(), vec![lane]);
            assert_eq!(l.slot_of(&[r, c]).unwrap(), i);
        }
    }
}

#[test]
fn mma_atoms_match_ptx() {
    check_atom(&mma_m16n8k16_a(), &[16, 16], 8, ptx_a);
    check_atom(&mma_m16n8k16_b(), &[16, 8], 4, ptx_b);
    check_atom(&mma_m16n8k16_c(), &[16, 8], 4, ptx_c);
    let t5 = |l: &RegisterLayout| {
        (0..l.local_size())
            .map(|s| {
                let i = at(l, 5, s);
                (i[0], i[1])
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        t5(&mma_m16n8k16_a()),
        vec![
            (1, 2),
            (1, 3),
            (9, 2),
            (9, 3),
            (1, 10),
            (1, 11),
            (9, 10),
            (9, 11)
        ]
    );
    assert_eq!(
        t5(&mma_m16n8k16_b()),
        vec![(2, 1), (3, 1), (10, 1), (11, 1)]
    );
    assert_eq!(t5(&mma_m16n8k16_c()), vec![(1, 2), (1, 3), (9, 2), (9, 3)]);
}

#[test]
fn mma_block_layouts() {
    let (la, lb, lc) = mma_block((2, 2), (2, 4, 2));
    assert_eq!(la.shape(), &[64, 32]);
    assert_eq!(lb.shape(), &[32, 64]);
    assert_eq!(lc.shape(), &[64, 64]);
    for l in [&la, &lb, &lc] {
        assert_eq!(l.num_threads(), 128);
        assert_eq!(l.local_size(), 32);
        check_inverse(l);
    }
    assert!(la.is_replicated() && lb.is_replicated() && !lc.is_replicated());
    // The warp grids equal the tilus.md §2.5 reduce formulas.
    let rows = spatial_ranked(&[2, 1, 2], &[1, 0, 2])
        .unwrap()
        .reduce(&[2], false)
        .unwrap();
    let cols = spatial_ranked(&[1, 2, 2], &[0, 2, 1])
        .unwrap()
        .reduce(&[2], false)
        .unwrap();
    assert_eq!(la, rows.local(&[2, 2]) * mma_m16n8k16_a());
    assert_eq!(lb, cols.local(&[2, 4]) * mma_m16n8k16_b());
    assert_eq!(lc, spatial(&[2, 2]).local(&[2, 4]) * mma_m16n8k16_c());
    // Warp w = 2*wm + wn: C rows of warp wm, A rows of warp wm, B columns of warp wn.
    for t in 0..128 {
        let (w, lane) = (t / 32, t % 32);
        let (wm, wn) = (w / 2, w % 2);
        for s in 0..32 {
            let c = at(&lc, t, s);
            assert_eq!(c[0] / 32, wm);
            assert_eq!(c[1] / 32, wn);
            let a = at(&la, t, s);
            assert_eq!(a[0] / 32, wm);
            let b = at(&lb, t, s);
            assert_eq!(b[1] / 32, wn);
        }
        // Slot 0 of each warp is the atom's slot 0 of the first repeat.
        let (r, c) = ptx_c(lane, 0);
        assert_eq!(at(&lc, t, 0), vec![32 * wm + r, 32 * wn + c]);
    }
}

#[test]
fn ldmatrix_atoms() {
    let l = ldmatrix(2).unwrap();
    assert_eq!(l, spatial(&[8, 4]).local(&[1, 2]));
    assert_eq!(l.shape(), &[8, 8]);
    assert_eq!(ldmatrix(1).unwrap().shape(), &[8, 16]);
    assert_eq!(ldmatrix(4).unwrap().shape(), &[8, 4]);
    assert!(ldmatrix(3).is_err());
}

#[test]
fn divide_error_message_names_the_layouts() {
    let l = spatial(&[2, 4]).local(&[2, 1]);
    let r = spatial(&[3]);
    let e = l.divide(&r).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{l} does not divide by {r}: dim 1 has extent 4, not a multiple of the divisor's 3"
        )
    );
    let r = spatial(&[1, 4]).local(&[1, 3]);
    let e = spatial(&[2, 12]).divide(&r).unwrap_err().to_string();
    assert!(
        e.contains("dim 1 has modes [12] whose suffix cannot be [4, 3]"),
        "{e}"
    );
    let e = spatial(&[2, 8])
        .divide(&spatial(&[1, 3]).local(&[1, 2]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a multiple"), "{e}");
    let e = spatial(&[2, 10]).divide(&spatial(&[1, 2])).unwrap();
    assert_eq!(e, spatial(&[2, 5]));
    let e = spatial(&[2, 8])
        .divide(&local(&[1, 8]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spatial list") || e.contains("local list"),
        "{e}"
    );
}
