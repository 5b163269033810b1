//! Soundness of the analysis: for every operator, on small intervals with known divisors,
//! every value the node takes (by the reference semantics of `simplify::lang`) lies in the
//! computed interval, is a multiple of the computed divisor, and equals the computed constant.

use egg::{Id, Symbol};
use tilus_lower::simplify::analysis::{fold, transfer, INF};
use tilus_lower::simplify::{IndexData, IndexLang, Interval, SymbolFact};

/// The reference semantics (a compact restatement of the table in `simplify::lang`).
fn eval(node: &IndexLang, v: &[i128]) -> Option<i128> {
    use IndexLang::*;
    let (a, b) = (
        v.first().copied().unwrap_or(0),
        v.get(1).copied().unwrap_or(0),
    );
    let shift = |k: i128| (0..=31).contains(&k) && a >= 0;
    Some(match node {
        Add(_) => a + b,
        Sub(_) => a - b,
        Mul(_) => a * b,
        Div(_) if b != 0 => a / b,
        Rem(_) if b != 0 => a % b,
        Div(_) | Rem(_) => return None,
        Neg(_) => -a,
        Min(_) => a.min(b),
        Max(_) => a.max(b),
        Shl(_) if shift(b) => a << b,
        Shr(_) if shift(b) => a >> b,
        Shl(_) | Shr(_) => return None,
        And(_) | Or(_) | Xor(_) if a < 0 || b < 0 => return None,
        And(_) => a & b,
        Or(_) => a | b,
        Xor(_) => a ^ b,
        Lt(_) => i128::from(a < b),
        Le(_) => i128::from(a <= b),
        Eq(_) => i128::from(a == b),
        Ne(_) => i128::from(a != b),
        LAnd(_) => i128::from(a != 0 && b != 0),
        LOr(_) => i128::from(a != 0 || b != 0),
        Select(_) => {
            if a != 0 {
                b
            } else {
                v[2]
            }
        }
        Num(c) => i128::from(*c),
        Symbol(_) => return None,
    })
}

/// Child data with the points it stands for (sampled within ±6 where unbounded).
fn children() -> Vec<(IndexData, Vec<i128>)> {
    let bounds: Vec<i128> = std::iter::once(-INF).chain(-3..=3).chain([INF]).collect();
    let mut out = Vec::new();
    for (i, &lo) in bounds.iter().enumerate() {
        for &hi in &bounds[i..] {
            for d in [1u64, 2, 3] {
                let data = IndexData::from_range(Interval::new(lo, hi), d);
                let points: Vec<i128> = (lo.max(-6)..=hi.min(6))
                    .filter(|p| p % i128::from(data.divisor.max(1)) == 0 || data.divisor == 0)
                    .filter(|p| data.divisor != 0 || *p == 0)
                    .collect();
                if !points.is_empty() {
                    out.push((data, points));
                }
            }
        }
    }
    out
}

fn check(node: &IndexLang, kids: &[&(IndexData, Vec<i128>)]) {
    let data: Vec<IndexData> = kids.iter().map(|k| k.0).collect();
    let got = transfer(node, |id| data[usize::from(id)], |_| None);
    let mut idx = vec![0usize; kids.len()];
    'outer: loop {
        let point: Vec<i128> = kids.iter().zip(&idx).map(|(k, &i)| k.1[i]).collect();
        if let Some(v) = eval(node, &point) {
            let ctx = || format!("{node:?} on {data:?} at {point:?} = {v}: got {got:?}");
            assert!(got.range.contains(v), "range: {}", ctx());
            if got.divisor == 0 {
                assert_eq!(v, 0, "divisor: {}", ctx());
            } else {
                assert_eq!(v % i128::from(got.divisor), 0, "divisor: {}", ctx());
            }
            if let Some(c) = got.konst {
                assert_eq!(v, i128::from(c), "constant: {}", ctx());
            }
        }
        for (i, k) in idx.iter_mut().zip(kids) {
            *i += 1;
            if *i < k.1.len() {
                continue 'outer;
            }
            *i = 0;
        }
        break;
    }
}

#[test]
fn binary_transfer_functions_are_sound() {
    use IndexLang::*;
    let (a, b) = (Id::from(0usize), Id::from(1usize));
    let ops = [
        Add([a, b]),
        Sub([a, b]),
        Mul([a, b]),
        Div([a, b]),
        Rem([a, b]),
        Min([a, b]),
        Max([a, b]),
        Shl([a, b]),
        Shr([a, b]),
        And([a, b]),
        Or([a, b]),
        Xor([a, b]),
        Lt([a, b]),
        Le([a, b]),
        Eq([a, b]),
        Ne([a, b]),
        LAnd([a, b]),
        LOr([a, b]),
    ];
    let kids = children();
    for op in &ops {
        for x in &kids {
            for y in &kids {
                check(op, &[x, y]);
            }
        }
    }
}

#[test]
fn unary_and_ternary_transfer_functions_are_sound() {
    use IndexLang::*;
    let kids = children();
    for x in &kids {
        check(&Neg(Id::from(0usize)), &[x]);
    }
    let small: Vec<_> = kids.iter().step_by(5).collect();
    let sel = Select([Id::from(0usize), Id::from(1usize), Id::from(2usize)]);
    for c in &small {
        for x in &small {
            for y in &small {
                check(&sel, &[c, x, y]);
            }
        }
    }
}

#[test]
fn wide_shifts_and_masks_are_sound() {
    use IndexLang::*;
    let (a, b) = (Id::from(0usize), Id::from(1usize));
    let wide = |lo: i128, hi: i128| {
        (
            IndexData::from_range(Interval::new(lo, hi), 1),
            (lo..=hi).collect::<Vec<_>>(),
        )
    };
    let values = [wide(0, 127), wide(5, 40), wide(-3, 70), wide(64, 64)];
    let amounts = [wide(0, 31), wide(3, 3), wide(30, 33), wide(-2, 2)];
    for x in &values {
        for k in &amounts {
            check(&Shl([a, b]), &[x, k]);
            check(&Shr([a, b]), &[x, k]);
        }
        for y in &values {
            for op in [
                And([a, b]),
                Or([a, b]),
                Xor([a, b]),
                Div([a, b]),
                Rem([a, b]),
            ] {
                check(&op, &[x, y]);
            }
        }
    }
}

#[test]
fn symbols_take_their_facts() {
    let t = Symbol::from("t");
    let fact = SymbolFact {
        range: Interval::new(0, 127),
        divisor: 4,
    };
    let got = transfer(
        &IndexLang::Symbol(t),
        |_| IndexData::unknown(),
        |s| (s == t).then_some(fact),
    );
    assert_eq!(got.range, fact.range);
    assert_eq!(got.divisor, 4);
    let other = transfer(
        &IndexLang::Symbol(Symbol::from("u")),
        |_| IndexData::unknown(),
        |s| (s == t).then_some(fact),
    );
    assert_eq!(other.range, Interval::FULL);
    // A one-value fact is a constant.
    let one = SymbolFact {
        range: Interval::new(5, 5),
        divisor: 1,
    };
    let five = transfer(
        &IndexLang::Symbol(t),
        |_| IndexData::unknown(),
        |_| Some(one),
    );
    assert_eq!(five.konst, Some(5));
}

#[test]
fn folding_matches_the_reference() {
    use IndexLang::*;
    let (a, b) = (Id::from(0usize), Id::from(1usize));
    let ops = [
        Add([a, b]),
        Sub([a, b]),
        Mul([a, b]),
        Div([a, b]),
        Rem([a, b]),
        Min([a, b]),
        Max([a, b]),
        Shl([a, b]),
        Shr([a, b]),
        And([a, b]),
        Or([a, b]),
        Xor([a, b]),
        Lt([a, b]),
        Le([a, b]),
        Eq([a, b]),
        Ne([a, b]),
        LAnd([a, b]),
        LOr([a, b]),
        Neg(a),
    ];
    for op in &ops {
        for x in -40i64..=40 {
            for y in -3i64..=40 {
                let want = eval(op, &[i128::from(x), i128::from(y)]);
                let got = fold(op, |id| Some(if usize::from(id) == 0 { x } else { y }));
                assert_eq!(got.map(i128::from), want, "{op:?} {x} {y}");
            }
        }
    }
    // Out of i64: not folded.
    assert_eq!(fold(&Mul([a, b]), |_| Some(i64::MAX)), None);
    assert_eq!(
        fold(&Div([a, b]), |id| Some(if usize::from(id) == 0 {
            i64::MIN
        } else {
            -1
        })),
        None
    );
}
