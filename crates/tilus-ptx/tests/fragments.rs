//! The interpreter's fragment tables agree with tilus-ir's layout atoms and with the
//! formulas of docs/ptx.md.

use tilus_ir::layout::atoms;
use tilus_ptx::fragments::{ldmatrix_coord, mma_a_coord, mma_b_coord, mma_c_coord};

fn check(
    name: &str,
    layout: &tilus_ir::layout::RegisterLayout,
    slots: usize,
    ours: impl Fn(usize, usize) -> (usize, usize),
) {
    assert_eq!(layout.num_threads(), 32, "{name}");
    assert_eq!(layout.local_size(), slots, "{name}");
    let mut mismatches = Vec::new();
    for lane in 0..32 {
        for slot in 0..slots {
            let ir = layout.index_of(lane, slot).unwrap();
            let (r, c) = ours(lane, slot);
            if ir != vec![r, c] {
                mismatches.push(format!(
                    "lane {lane} slot {slot}: tilus-ir {ir:?}, tilus-ptx [{r}, {c}]"
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{name} disagrees:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn mma_atoms_agree_with_tilus_ir() {
    check("mma_m16n8k16_a", &atoms::mma_m16n8k16_a(), 8, mma_a_coord);
    check("mma_m16n8k16_b", &atoms::mma_m16n8k16_b(), 4, mma_b_coord);
    check("mma_m16n8k16_c", &atoms::mma_m16n8k16_c(), 4, mma_c_coord);
}

#[test]
fn ldmatrix_atom_agrees_with_tilus_ir() {
    let layout = atoms::ldmatrix(2).unwrap();
    check("ldmatrix(2)", &layout, 2, |lane, half| {
        ldmatrix_coord(lane, half, false)
    });
}

#[test]
fn fragments_match_the_documented_formulas() {
    for lane in 0..32 {
        let (g, t) = (lane >> 2, lane % 4);
        for i in 0..8 {
            assert_eq!(
                mma_a_coord(lane, i),
                (g + 8 * ((i / 2) % 2), 2 * t + (i % 2) + 8 * (i / 4))
            );
        }
        for i in 0..4 {
            assert_eq!(mma_b_coord(lane, i), (2 * t + (i % 2) + 8 * (i / 2), g));
            assert_eq!(mma_c_coord(lane, i), (g + 8 * (i / 2), 2 * t + (i % 2)));
        }
        for half in 0..2 {
            assert_eq!(
                ldmatrix_coord(lane, half, false),
                (lane / 4, 2 * (lane % 4) + half)
            );
            assert_eq!(
                ldmatrix_coord(lane, half, true),
                (2 * (lane % 4) + half, lane / 4)
            );
        }
    }
    // Each fragment covers its matrix exactly once.
    let mut a = [[0; 16]; 16];
    let mut b = [[0; 8]; 16];
    let mut c = [[0; 8]; 16];
    for lane in 0..32 {
        for i in 0..8 {
            let (r, k) = mma_a_coord(lane, i);
            a[r][k] += 1;
        }
        for i in 0..4 {
            let (k, n) = mma_b_coord(lane, i);
            b[k][n] += 1;
            let (r, n) = mma_c_coord(lane, i);
            c[r][n] += 1;
        }
    }
    assert!(a.iter().flatten().all(|&x| x == 1));
    assert!(b.iter().flatten().all(|&x| x == 1));
    assert!(c.iter().flatten().all(|&x| x == 1));
}
