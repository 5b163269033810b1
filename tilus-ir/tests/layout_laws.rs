//! Algebraic laws of register layouts, checked on random layouts built from primitive
//! chains (with replication, column order and ranks), concat and reduce.

use proptest::prelude::*;
use tilus_ir::layout::{
    column_local, column_spatial, concat, left_divide, local, local_ranked, replicated, spatial,
    spatial_ranked, RegisterLayout,
};

// ---------- generators ----------

fn permutation(n: usize) -> BoxedStrategy<Vec<usize>> {
    Just((0..n).collect::<Vec<usize>>()).prop_shuffle().boxed()
}

fn primitive(rank: usize) -> BoxedStrategy<RegisterLayout> {
    let max: usize = if rank >= 3 { 2 } else { 3 };
    let ext = prop::collection::vec(1usize..=max, rank);
    (ext, 0..7usize, permutation(rank), 1..=3usize)
        .prop_map(|(shape, kind, ranks, threads)| match kind {
            0 => local(&shape),
            1 => spatial(&shape),
            2 => column_local(&shape),
            3 => column_spatial(&shape),
            4 => local_ranked(&shape, &ranks).unwrap(),
            5 => spatial_ranked(&shape, &ranks).unwrap(),
            _ => replicated(&shape, threads),
        })
        .boxed()
}

fn chain(rank: usize) -> BoxedStrategy<RegisterLayout> {
    prop::collection::vec(primitive(rank), 1..=3)
        .prop_map(|ps| {
            ps.iter()
                .skip(1)
                .fold(ps[0].clone(), |acc, p| acc.compose(p))
        })
        .boxed()
}

/// A random layout of exactly `rank` dimensions.
fn layout_of_rank(rank: usize) -> BoxedStrategy<RegisterLayout> {
    let reduced = (chain(rank + 1), 0..=rank)
        .prop_map(|(l, d)| l.reduce(&[d], false).unwrap())
        .boxed();
    let kept = (chain(rank), 0..rank)
        .prop_map(|(l, d)| l.reduce(&[d], true).unwrap())
        .boxed();
    if rank >= 2 {
        let concat_s = (1..rank)
            .prop_flat_map(move |r1| (chain(r1), chain(rank - r1)))
            .prop_map(|(a, b)| concat(&a, &b))
            .boxed();
        prop_oneof![3 => chain(rank), 1 => reduced, 1 => kept, 1 => concat_s].boxed()
    } else {
        prop_oneof![3 => chain(rank), 1 => reduced, 1 => kept].boxed()
    }
}

fn any_layout() -> BoxedStrategy<RegisterLayout> {
    (1..=3usize).prop_flat_map(layout_of_rank).boxed()
}

// ---------- helpers ----------

/// The full table (thread, slot) -> index.
fn table(l: &RegisterLayout) -> Vec<Vec<usize>> {
    let mut out = Vec::with_capacity(l.num_threads() * l.local_size());
    for t in 0..l.num_threads() {
        for s in 0..l.local_size() {
            out.push(l.index_of(t, s).unwrap());
        }
    }
    out
}

/// An independent evaluator for raw (possibly non-canonical) lists.
fn raw_eval(
    shape: &[usize],
    modes: &[usize],
    sp: &[i64],
    lo: &[usize],
    thread: usize,
    slot: usize,
) -> Vec<usize> {
    let mut digit = vec![0usize; modes.len()];
    let mut t = thread;
    for &e in sp.iter().rev() {
        if e < 0 {
            t /= (-e) as usize;
        } else {
            digit[e as usize] = t % modes[e as usize];
            t /= modes[e as usize];
        }
    }
    let mut s = slot;
    for &m in lo.iter().rev() {
        digit[m] = s % modes[m];
        s /= modes[m];
    }
    // Group modes by dimension: each dim takes modes until the product reaches its extent
    // (size-1 modes anywhere do not matter for the value).
    let mut idx = Vec::new();
    let mut next = 0;
    for &ext in shape {
        let mut p = 1;
        let mut v = 0;
        while p < ext {
            v = v * modes[next] + digit[next];
            p *= modes[next];
            next += 1;
        }
        idx.push(v);
    }
    idx
}

fn raw_table(shape: &[usize], modes: &[usize], sp: &[i64], lo: &[usize]) -> Vec<Vec<usize>> {
    let threads: usize = sp
        .iter()
        .map(|&e| {
            if e < 0 {
                (-e) as usize
            } else {
                modes[e as usize]
            }
        })
        .product();
    let slots: usize = lo.iter().map(|&m| modes[m]).product();
    let mut out = Vec::new();
    for t in 0..threads {
        for s in 0..slots {
            out.push(raw_eval(shape, modes, sp, lo, t, s));
        }
    }
    out
}

/// Splits modes and replication digits and inserts size-1 modes, driven by `choices`;
/// the function stays the same but the lists are no longer canonical.
#[allow(clippy::type_complexity)]
fn decanonicalize(
    l: &RegisterLayout,
    choices: &[u8],
) -> (Vec<usize>, Vec<usize>, Vec<i64>, Vec<usize>) {
    let mut c = choices.iter().copied().cycle();
    // new ids for each old mode: list of (size) pieces
    let mut pieces: Vec<Vec<usize>> = Vec::new();
    for &m in l.mode_shape() {
        let divisors: Vec<usize> = (2..m).filter(|f| m.is_multiple_of(*f)).collect();
        let ch = c.next().unwrap_or(0);
        let mut ps = if !divisors.is_empty() && ch % 2 == 0 {
            let f = divisors[(ch as usize / 2) % divisors.len()];
            vec![m / f, f]
        } else {
            vec![m]
        };
        if c.next().unwrap_or(0) % 3 == 0 {
            ps.insert(ps.len() / 2, 1);
        }
        pieces.push(ps);
    }
    let mut ids = Vec::new();
    let mut modes = Vec::new();
    for ps in &pieces {
        let mut v = Vec::new();
        for &p in ps {
            v.push(modes.len());
            modes.push(p);
        }
        ids.push(v);
    }
    let mut sp = Vec::new();
    for &e in l.spatial_modes() {
        if e < 0 {
            let r = (-e) as usize;
            let f = (2..r).find(|f| r.is_multiple_of(*f));
            match f {
                Some(f) if c.next().unwrap_or(0) % 2 == 0 => {
                    sp.push(-((r / f) as i64));
                    sp.push(-(f as i64));
                }
                _ => sp.push(e),
            }
        } else {
            sp.extend(ids[e as usize].iter().map(|&i| i as i64));
        }
    }
    if c.next().unwrap_or(0) % 4 == 0 {
        sp.push(-1);
    }
    let lo: Vec<usize> = l
        .local_modes()
        .iter()
        .flat_map(|&m| ids[m].clone())
        .collect();
    (l.shape().to_vec(), modes, sp, lo)
}

fn unsqueeze_to(l: &RegisterLayout, rank: usize) -> RegisterLayout {
    let k = rank.saturating_sub(l.rank());
    l.unsqueeze(&(0..k).collect::<Vec<_>>()).unwrap()
}

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

// ---------- laws ----------

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn compose_is_associative(a in any_layout(), b in any_layout(), c in any_layout()) {
        prop_assert_eq!((&a * &b) * &c, &a * &(&b * &c));
    }

    #[test]
    fn divide_undoes_compose(a in any_layout(), b in any_layout()) {
        let ab = &a * &b;
        let q = ab.divide(&b);
        prop_assert!(q.is_ok(), "{:?}", q);
        prop_assert_eq!(q.unwrap(), unsqueeze_to(&a, b.rank()));
    }

    #[test]
    fn left_divide_undoes_compose(a in any_layout(), b in any_layout()) {
        let ab = &a * &b;
        let q = left_divide(&ab, &a);
        prop_assert!(q.is_ok(), "{:?}", q);
        prop_assert_eq!(q.unwrap(), unsqueeze_to(&b, a.rank()));
    }

    #[test]
    fn divide_results_are_exact(x in any_layout(), y in any_layout()) {
        if let Ok(q) = x.divide(&y) {
            prop_assert_eq!(&q * &y, x.clone());
        }
        if let Ok(q) = left_divide(&x, &y) {
            prop_assert_eq!(&y * &q, x);
        }
    }

    #[test]
    fn inverse_is_consistent(l in any_layout()) {
        let n = l.num_elements();
        let strides: Vec<usize> = (0..l.rank()).map(|d| l.shape()[d + 1..].iter().product()).collect();
        let lin = |i: &[usize]| i.iter().zip(&strides).map(|(a, b)| a * b).sum::<usize>();
        let mut held = vec![Vec::new(); n];
        for t in 0..l.num_threads() {
            for s in 0..l.local_size() {
                let i = l.index_of(t, s).unwrap();
                prop_assert_eq!(l.slot_of(&i).unwrap(), s);
                prop_assert!(l.holds(t, &i));
                held[lin(&i)].push(t);
            }
        }
        for (k, h) in held.iter().enumerate() {
            // Recover the index from its linear number.
            let mut rem = k;
            let idx: Vec<usize> = strides.iter().map(|&st| { let v = rem / st; rem %= st; v }).collect();
            let ts = l.threads_of(&idx).unwrap();
            prop_assert!(!ts.is_empty());
            prop_assert!(ts.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(&ts, h);
            let slot = l.slot_of(&idx).unwrap();
            for &t in &ts {
                prop_assert_eq!(l.index_of(t, slot).unwrap(), idx.clone());
            }
        }
    }

    #[test]
    fn canonicalization_is_idempotent_and_preserves_the_function(
        l in any_layout(),
        choices in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        prop_assert_eq!(l.canonical(), l.clone());
        let again = RegisterLayout::new(
            l.shape().to_vec(), l.mode_shape().to_vec(), l.spatial_modes().to_vec(), l.local_modes().to_vec(),
        ).unwrap();
        prop_assert_eq!(&again, &l);
        // The library's evaluator agrees with the independent one.
        prop_assert_eq!(
            table(&l),
            raw_table(l.shape(), l.mode_shape(), l.spatial_modes(), l.local_modes())
        );
        let (shape, modes, sp, lo) = decanonicalize(&l, &choices);
        let before = raw_table(&shape, &modes, &sp, &lo);
        let c = RegisterLayout::new(shape, modes, sp, lo).unwrap();
        prop_assert_eq!(&c, &l);
        prop_assert_eq!(table(&c), before);
    }

    #[test]
    fn compose_formula(a in any_layout(), b in any_layout()) {
        let c = &a * &b;
        let rank = a.rank().max(b.rank());
        let pad = |v: Vec<usize>| { let mut p = vec![0; rank - v.len()]; p.extend(v); p };
        let bshape = pad(b.shape().to_vec());
        let bshape: Vec<usize> = bshape.iter().enumerate().map(|(d, &s)| if d < rank - b.rank() { 1 } else { s }).collect();
        let (tb, lb) = (b.num_threads(), b.local_size());
        prop_assert_eq!(c.num_threads(), a.num_threads() * tb);
        prop_assert_eq!(c.local_size(), a.local_size() * lb);
        for t in 0..c.num_threads() {
            for s in 0..c.local_size() {
                let ia = pad(a.index_of(t / tb, s / lb).unwrap());
                let ib = pad(b.index_of(t % tb, s % lb).unwrap());
                let want: Vec<usize> = (0..rank).map(|d| ia[d] * bshape[d] + ib[d]).collect();
                prop_assert_eq!(c.index_of(t, s).unwrap(), want);
            }
        }
    }

    #[test]
    fn shape_ops_preserve_the_function(l in any_layout(), perm_seed in any::<u64>()) {
        // flatten: linearized index
        let f = l.flatten().unwrap();
        let strides: Vec<usize> = (0..l.rank()).map(|d| l.shape()[d + 1..].iter().product()).collect();
        for t in 0..l.num_threads() {
            for s in 0..l.local_size() {
                let i = l.index_of(t, s).unwrap();
                let lin: usize = i.iter().zip(&strides).map(|(a, b)| a * b).sum();
                prop_assert_eq!(f.index_of(t, s).unwrap(), vec![lin]);
            }
        }
        // flatten then reshape back is the identity
        prop_assert_eq!(f.reshape(l.shape()).unwrap(), l.clone());
        // permute by a rotation, then back
        let r = l.rank();
        let k = (perm_seed as usize) % r.max(1);
        let p: Vec<usize> = (0..r).map(|d| (d + k) % r).collect();
        let mut inv = vec![0; r];
        for (i, &d) in p.iter().enumerate() { inv[d] = i; }
        let lp = l.permute(&p).unwrap();
        prop_assert_eq!(lp.permute(&inv).unwrap(), l.clone());
        for t in 0..l.num_threads() {
            for s in 0..l.local_size() {
                let i = l.index_of(t, s).unwrap();
                let want: Vec<usize> = p.iter().map(|&d| i[d]).collect();
                prop_assert_eq!(lp.index_of(t, s).unwrap(), want);
            }
        }
        // unsqueeze then squeeze
        let u = l.unsqueeze(&[0, r + 1]).unwrap();
        prop_assert_eq!(u.squeeze(&[0, r + 1]).unwrap(), l);
    }

    #[test]
    fn reduce_keeps_holders(l in any_layout(), d in 0..3usize) {
        let d = d % l.rank();
        let r = l.reduce(&[d], true).unwrap();
        prop_assert_eq!(r.num_threads(), l.num_threads());
        // Every thread that holds (.., i_d, ..) of l holds (.., 0, ..) of r, same slot
        // when the reduced dim is spatial-only, and the reduced layout holds each result
        // element in exactly the threads that held some element of the reduced fibre.
        for t in 0..l.num_threads() {
            for s in 0..l.local_size() {
                let mut i = l.index_of(t, s).unwrap();
                i[d] = 0;
                prop_assert!(r.holds(t, &i));
            }
        }
    }
}
