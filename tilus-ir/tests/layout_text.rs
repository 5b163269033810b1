//! Parser and printer of register-layout expressions (spec/layouts.md, "Expression syntax").

use proptest::prelude::*;
use tilus_ir::layout::text::MAX_LAYOUT_SIZE;
use tilus_ir::layout::{
    column_local, column_spatial, concat, left_divide, local, local_ranked, parse_layout,
    replicated, spatial, spatial_ranked, LayoutParseError, RegisterLayout,
};

fn p(s: &str) -> RegisterLayout {
    match parse_layout(s) {
        Ok(l) => l,
        Err(e) => panic!("{}", e.render()),
    }
}

fn err(s: &str) -> LayoutParseError {
    match parse_layout(s) {
        Ok(l) => panic!("{s:?} parsed to {l:?}"),
        Err(e) => e,
    }
}

#[test]
fn primitives_and_chains() {
    assert_eq!(
        p("local(2,1).spatial(4,8)"),
        local(&[2, 1]).spatial(&[4, 8])
    );
    assert_eq!(
        p("local(2,1) * spatial(4,8)"),
        local(&[2, 1]).spatial(&[4, 8])
    );
    assert_eq!(p("spatial(6)"), spatial(&[6]));
    assert_eq!(p("column_spatial(4,8)"), column_spatial(&[4, 8]));
    assert_eq!(p("column_local(2, 2)"), column_local(&[2, 2]));
    assert_eq!(p("replicated(2,3, threads=4)"), replicated(&[2, 3], 4));
    assert_eq!(
        p("spatial(2,3, ranks=[1,0])"),
        spatial_ranked(&[2, 3], &[1, 0]).unwrap()
    );
    assert_eq!(
        p("local(2,3,4,ranks=[2,0,1])"),
        local_ranked(&[2, 3, 4], &[2, 0, 1]).unwrap()
    );
    assert_eq!(
        p("concat(spatial(2), local(3))"),
        concat(&spatial(&[2]), &local(&[3]))
    );
    assert_eq!(
        p("left_divide(local(2,1).spatial(4,8), local(2,1))"),
        left_divide(&local(&[2, 1]).spatial(&[4, 8]), &local(&[2, 1])).unwrap()
    );
    assert_eq!(p("( spatial(2) )"), spatial(&[2]));
    assert_eq!(
        p(" \n local ( 2 , 1 ) . spatial( 4,8 )\t"),
        local(&[2, 1]).spatial(&[4, 8])
    );
}

#[test]
fn spec_examples() {
    assert_eq!(p("spatial(2,4).local(2,1) / local(2,1)"), p("spatial(2,4)"));
    assert_eq!(p("spatial(6) / spatial(3)"), p("spatial(2)"));
    assert_eq!(
        p("register_layout(shape=[6], modes=[2,3], spatial=[0,1], local=[])"),
        p("spatial(6)")
    );
    let r = p("reduce(spatial(3,4), dims=[0])");
    assert_eq!(r.shape(), &[4]);
    assert_eq!(r.threads_of(&[1]).unwrap(), vec![1, 5, 9]);
    let k = p("reduce(spatial(3,4), dims=[0], keepdims=true)");
    assert_eq!(k.shape(), &[1, 4]);
    assert_eq!(
        p("reduce(spatial(2,4).local(2,2), dims=[1], keepdims=false)"),
        spatial(&[2, 4]).local(&[2, 2]).reduce(&[1], false).unwrap()
    );
    // Left-associative: a / b * c == (a / b) * c.
    assert_eq!(
        p("spatial(4,8) / spatial(2,8) * local(2)"),
        p("(spatial(4,8) / spatial(2,8)) * local(2)")
    );
}

#[test]
fn prints_shortest_chain() {
    for s in [
        "local(2,1).spatial(4,8)",
        "spatial(6)",
        "column_local(2,2).spatial(8,4).local(1,2)",
        "local(2,1).column_spatial(4,8).local(2,1)",
        "local(2,1).spatial(8,4).local(1,2)",
        "spatial(2,3).local(3,4)",
        "replicated(1,threads=3).spatial(4)",
        "replicated(2,2,threads=4)",
        "local(1,1)",
        "spatial(2,3,4, ranks=[1,0,2])",
    ] {
        let l = p(s);
        let printed = l.to_string();
        assert_eq!(p(&printed), l, "{s} printed as {printed}");
        let canon: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(printed.replace(' ', ""), canon, "{s}");
    }
    assert_eq!(
        p("reduce(spatial(3,4), dims=[0])").to_string(),
        "replicated(1, threads=3).spatial(4)"
    );
    assert_eq!(p("local(2).local(3)").to_string(), "local(6)");
    assert_eq!(p("spatial(2,1) * spatial(3,1)").to_string(), "spatial(6,1)");
    // Rank 0 has no primitive form.
    assert_eq!(
        p("reduce(spatial(4), dims=[0])").to_string(),
        "register_layout(shape=[], modes=[], spatial=[-4], local=[])"
    );
}

#[test]
fn prints_register_layout_when_no_chain_exists() {
    // dim 0 = [a (local), b (spatial)], dim 1 = [c (spatial), d (local)] with the spatial
    // list [b, c] and the local list [d, a]: every order is blocked.
    let s = "register_layout(shape=[4,4], modes=[2,2,2,2], spatial=[1,2], local=[3,0])";
    let l = p(s);
    assert_eq!(l.to_string(), s);
}

#[test]
fn error_positions_and_render() {
    let e = err("local(2,x)");
    assert_eq!(e.column, 9);
    assert!(e.to_string().starts_with("at column 9: "), "{e}");
    assert_eq!(
        e.render(),
        format!("error: {}\n  local(2,x)\n          ^", e.message)
    );
    let e = err("local(2,1).spatial(4,8");
    assert_eq!(e.column, 23);
    assert!(e.message.contains("end of input"), "{}", e.message);
    let e = err("foo(1)");
    assert_eq!(e.column, 1);
    assert!(e.message.contains("unknown layout `foo`"));
    let e = err("spatial(4) / spatial(3)");
    assert_eq!(e.column, 12);
    assert!(e.message.starts_with("cannot divide"), "{}", e.message);
    let e = err("spatial(2, 2, ranks=[0,0])");
    assert_eq!(e.column, 1);
    assert!(e.message.contains("rank"), "{}", e.message);
    let e = err("local(99999999999)");
    assert_eq!(e.column, 7);
    assert!(e.message.contains("2^24"), "{}", e.message);
    let e = err("local(99999999999999999999999)");
    assert_eq!(e.column, 7);
    let e = err("local(4096,4096) * local(4096)");
    assert_eq!(e.column, 18);
    assert!(e.message.contains("2^24"), "{}", e.message);
    let e = err("replicated(2)");
    assert!(e.message.contains("threads="), "{}", e.message);
    let e = err("local(0)");
    assert_eq!(e.column, 7);
    let e = err("spatial(2) spatial(2)");
    assert_eq!(e.column, 12);
    let e = err("spatial(2) $");
    assert_eq!(e.column, 12);
    assert!(e.message.contains("`$`"));
    let e = err("");
    assert_eq!(e.column, 1);
    let e = err("reduce(spatial(2), dims=[3])");
    assert_eq!(e.column, 1);
    assert!(e.message.starts_with("cannot reduce"), "{}", e.message);
    let e = err("register_layout(shape=[4], modes=[2,2], spatial=[0], local=[])");
    assert_eq!(e.column, 1);
    // A multi-line source renders the line holding the column.
    let e = err("local(2)\n  .spatial(x)");
    assert_eq!(
        e.render(),
        format!("error: {}\n    .spatial(x)\n             ^", e.message)
    );
    // Very deep nesting is an error, not a stack overflow.
    let deep = format!("{}spatial(2){}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_layout(&deep).is_err());
}

#[test]
fn from_str_matches_parse() {
    let l: RegisterLayout = "spatial(8,4).local(1,2)".parse().unwrap();
    assert_eq!(l, p("spatial(8,4).local(1,2)"));
    assert!("spatial(".parse::<RegisterLayout>().is_err());
}

// ---------------------------------------------------------------------------------------
// Properties.

/// A random primitive call, with or without ranks.
fn prim() -> impl Strategy<Value = String> {
    let dims = prop::collection::vec(1usize..5, 1..4);
    (0usize..6, dims, 1usize..4, any::<prop::sample::Index>()).prop_map(|(kind, shape, t, perm)| {
        let args = shape
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",");
        match kind {
            0 => format!("local({args})"),
            1 => format!("spatial({args})"),
            2 => format!("column_local({args})"),
            3 => format!("column_spatial({args})"),
            4 => format!("replicated({args}, threads={t})"),
            _ => {
                // A random permutation as ranks.
                let n = shape.len();
                let mut ranks: Vec<usize> = (0..n).collect();
                let k = perm.index(n.max(1));
                ranks.rotate_left(k);
                if n > 2 {
                    ranks.swap(0, 1);
                }
                let r = ranks
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                if t % 2 == 0 {
                    format!("spatial({args}, ranks=[{r}])")
                } else {
                    format!("local({args}, ranks=[{r}])")
                }
            }
        }
    })
}

/// A random expression from primitives, chains, concat, reduce and replicated, kept small.
fn expr() -> impl Strategy<Value = String> {
    prim().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} * {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("concat({a}, {b})")),
            (inner.clone(), 0usize..3, any::<bool>())
                .prop_map(|(a, d, k)| format!("reduce({a}, dims=[{d}], keepdims={k})")),
        ]
    })
}

/// The four raw lists of a random valid layout.
fn raw_layout() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::collection::vec(1usize..4, 0..3), 0..4),
        any::<u64>(),
        prop::collection::vec(1usize..4, 0..3),
    )
        .prop_map(|(dims, seed, reps)| {
            let mut shape = Vec::new();
            let mut modes = Vec::new();
            for d in &dims {
                shape.push(d.iter().product::<usize>());
                modes.extend(d.iter().copied());
            }
            let n = modes.len();
            // Deterministic shuffle from the seed, then a split into two lists.
            let mut ids: Vec<i64> = (0..n as i64).collect();
            let mut s = seed;
            for i in (1..ids.len()).rev() {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ids.swap(i, (s >> 33) as usize % (i + 1));
            }
            let cut = if n == 0 { 0 } else { (seed as usize) % (n + 1) };
            let mut spatial: Vec<i64> = ids[..cut].to_vec();
            for (k, r) in reps.iter().enumerate() {
                let at = (seed as usize >> (k + 3)) % (spatial.len() + 1);
                spatial.insert(at, -(*r as i64));
            }
            let local: Vec<i64> = ids[cut..].to_vec();
            let j = |v: &[i64]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let ju = |v: &[usize]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                "register_layout(shape=[{}], modes=[{}], spatial=[{}], local=[{}])",
                ju(&shape),
                ju(&modes),
                j(&spatial),
                j(&local)
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn print_parse_round_trip(e in expr()) {
        if let Ok(l) = parse_layout(&e) {
            let printed = l.to_string();
            // Everything built from primitives has a primitive chain (rank 0 aside).
            prop_assert!(l.rank() == 0 || !printed.starts_with("register_layout"), "{} printed as {}", e, printed);
            let back = parse_layout(&printed);
            prop_assert_eq!(back.as_ref().ok(), Some(&l), "{} printed as {}", e, printed);
            prop_assert_eq!(back.unwrap().to_string(), printed);
        }
    }

    #[test]
    fn printed_chain_is_no_longer_than_source(chain in prop::collection::vec(prim(), 1..6)) {
        let src = chain.join(" * ");
        if let Ok(l) = parse_layout(&src) {
            let printed = l.to_string();
            prop_assert!(!printed.starts_with("register_layout"), "{} printed as {}", src, printed);
            let n = printed.matches('.').count() + 1;
            prop_assert!(n <= chain.len(), "{} printed as {}", src, printed);
        }
    }

    #[test]
    fn raw_round_trip(e in raw_layout()) {
        let l = parse_layout(&e).map_err(|x| TestCaseError::fail(x.render()))?;
        let printed = l.to_string();
        prop_assert_eq!(parse_layout(&printed).ok(), Some(l), "{} printed as {}", e, printed);
    }

    #[test]
    fn random_strings_never_panic(s in "[a-z_()\\[\\],.*/=0-9 -]{0,40}") {
        if let Err(e) = parse_layout(&s) {
            prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1);
            let _ = e.render();
        }
    }

    #[test]
    fn unicode_never_panics(s in "\\PC{0,30}") {
        if let Err(e) = parse_layout(&s) {
            let _ = e.render();
        }
    }

    #[test]
    fn mutations_never_panic(e in expr(), pos in any::<prop::sample::Index>(), kind in 0usize..4,
                             c in prop::sample::select(vec!['(', ')', ',', '9', '0', 'x', '.', '*', '/', '[', ']', '=', '-', ' '])) {
        let mut chars: Vec<char> = e.chars().collect();
        let i = pos.index(chars.len() + 1);
        match kind {
            0 => chars.insert(i, c),
            1 if i < chars.len() => { chars.remove(i); }
            2 if i < chars.len() => chars[i] = c,
            _ => chars.truncate(i),
        }
        let s: String = chars.into_iter().collect();
        match parse_layout(&s) {
            Ok(l) => prop_assert_eq!(parse_layout(&l.to_string()).ok(), Some(l)),
            Err(e) => { let _ = e.render(); }
        }
    }
}

#[test]
fn cap_is_documented_value() {
    assert_eq!(MAX_LAYOUT_SIZE, 1 << 24);
    assert!(parse_layout("local(4096,4096)").is_ok());
    assert!(parse_layout("replicated(1, threads=16777217)").is_err());
}
