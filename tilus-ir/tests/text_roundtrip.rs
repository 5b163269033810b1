//! Round trip of the text format: `parse(print(p)) ≅ p` and `print(parse(print(p))) ==
//! print(p)` for random well-typed programs built with the `KernelBuilder`, plus
//! hand-written examples of every instruction, option and statement.

mod progen;

use std::collections::BTreeSet;

use proptest::prelude::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::equiv::{functions_equal, programs_equal};
use tilus_ir::expr::{Axis, BinaryOp, Expr, ScalarType, UnaryOp};
use tilus_ir::program::{Loc, Program, Stmt};
use tilus_ir::text::{expr_to_string, parse_program};

fn roundtrip(p: &Program) {
    let text = p.to_string();
    let q = match parse_program(&text) {
        Ok(q) => q,
        Err(e) => panic!(
            "printed program does not parse:\n{}\n--- program ---\n{text}",
            e.render()
        ),
    };
    assert!(
        programs_equal(p, &q),
        "parse(print(p)) differs from p:\n{text}\n--- reprinted ---\n{q}"
    );
    assert_eq!(q.to_string(), text, "printing is not a fixpoint");
}

fn parse(src: &str) -> Program {
    match parse_program(src) {
        Ok(p) => p,
        Err(e) => panic!("{}", e.render()),
    }
}

/// Parses `src`, checks that it prints as `canonical`, and that `canonical` round-trips.
fn check_canonical(src: &str, canonical: &str) {
    let p = parse(src);
    assert_eq!(p.to_string(), canonical);
    roundtrip(&p);
    assert!(programs_equal(&p, &parse(canonical)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_roundtrip(data in progen::choices()) {
        let p = progen::program(data);
        roundtrip(&p);
    }
}

/// A fixed pseudo-random stream (xorshift), for deterministic coverage checks.
fn stream(seed: u64, len: usize) -> Vec<u32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 16) as u32
        })
        .collect()
}

#[test]
fn generator_covers_every_instruction_and_statement() {
    let mut seen = BTreeSet::new();
    let mut stmts = BTreeSet::new();
    for seed in 0..400 {
        let p = progen::program(stream(seed, 600));
        roundtrip(&p);
        seen.extend(progen::inst_names(&p));
        for f in &p.functions {
            fn walk(b: &[Stmt], out: &mut BTreeSet<String>) {
                for s in b {
                    match s {
                        Stmt::Inst(_) => {}
                        Stmt::For { body, unroll, .. } => {
                            out.insert(format!("for {unroll:?}"));
                            walk(body, out);
                        }
                        Stmt::If {
                            then_body,
                            else_body,
                            ..
                        } => {
                            let kind = match else_body.as_slice() {
                                [] => "if",
                                [Stmt::If { .. }] => "else if",
                                _ => "if else",
                            };
                            out.insert(kind.into());
                            walk(then_body, out);
                            walk(else_body, out);
                        }
                        Stmt::Let { .. } => {
                            out.insert("let".into());
                        }
                        Stmt::Assign { .. } => {
                            out.insert("assign".into());
                        }
                    }
                }
            }
            walk(&f.body, &mut stmts);
        }
    }
    let every = [
        "GlobalView",
        "AllocGlobal",
        "AllocShared",
        "FreeShared",
        "AllocRegister",
        "Slice",
        "LoadGlobal",
        "StoreGlobal",
        "LoadShared",
        "StoreShared",
        "CopyAsync",
        "CommitGroup",
        "WaitGroup",
        "WaitAll",
        "Dot",
        "Cast",
        "Unary",
        "Binary",
        "Where",
        "View",
        "Reduce",
        "Sync",
        "LockSemaphore",
        "ReleaseSemaphore",
        "AnnotateLayout",
        "AnnotateSharedLayout",
        "Print",
        "LoadGlobal <-",
        "LoadShared <-",
        "Dot <-",
        "Cast <-",
        "Unary <-",
        "Binary <-",
        "Where <-",
        "Reduce <-",
    ];
    let missing: Vec<&str> = every
        .iter()
        .copied()
        .filter(|n| !seen.contains(*n))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    for s in [
        "for None",
        "for Full",
        "for Factor(2)",
        "if",
        "if else",
        "else if",
        "let",
        "assign",
    ] {
        assert!(stmts.contains(s), "never generated: {s}; got {stmts:?}");
    }
}

/// Every instruction and every option, in canonical form.
const EVERY: &str = r#"kernel every(n: i32, m: i64, flag: bool, a: *f32, w: *u4, s: *i32, h: *f16) grid(cdiv(n, 128), 2, max(n, 1)) warps(4) {
    %ga = global_view a, [n]
    %gw = global_view w, [n, 64], strides=[64, 1]
    %ws = alloc_global i32[4, n]
    %sem = alloc_global i32[16], requires_clean
    %sh = alloc_shared f16[2, 64, 16]
    %sw = alloc_shared u4[8, 64]
    %r = alloc_register f32[64, 32]
    %acc = alloc_register f32[64, 32], init=0.0
    %cnt = alloc_register i32[64, 1], init=-1
    %stage = slice %sh, [1]
    %row = slice %gw, [blockIdx.x]
    %x = load_global %ga, [blockIdx.x * 128], shape=[128]
    %x2 = load_global %gw, [0, 0], shape=[64], dims=[1]
    %x2 <- load_global %gw, [blockIdx.y, 0], shape=[64], dims=[1]
    store_global %ga, %x, [blockIdx.x * 128]
    store_global %gw, %x2, [0, 0], dims=[1]
    %t = load_shared %stage
    %t <- load_shared %stage
    store_shared %stage, %t
    copy_async %sw, %gw, [0, 0]
    copy_async %sw, %gw, [0, 0], dims=[0, 1]
    commit_group
    wait_group 0
    wait_all
    %a16 = alloc_register f16[64, 16]
    %b16 = alloc_register f16[16, 32]
    %d = dot %a16, %b16
    %d16 = dot %a16, %b16, acc=f16
    %acc <- dot %a16, %b16, %acc
    %ci = alloc_register i32[64, 32]
    %di = dot %a16, %b16, %ci
    %c = cast %acc, bf16
    %c <- cast %r, bf16
    %e = exp %acc
    %e <- neg %e
    %u = bitnot %cnt
    %sum = add %acc, %r
    %mul = mul %acc, 2.0
    %sub = sub 1.0, %acc
    %col = alloc_register f32[32]
    %bc = add %acc, %col
    %acc <- max %acc, %r
    %lt = lt %acc, 0.5
    %sel = where %lt, %acc, 0.0
    %sel <- where %lt, -inf, %r
    %v = view %cnt, f6e3m2, local(2,1).spatial(4,8)
    %rs = sum %acc, dim=1
    %rm = max %acc, dim=0, keepdim
    %rn = min %acc, dim=1
    %rs <- sum %r, dim=1
    sync
    lock_semaphore %sem, [blockIdx.y], 0
    release_semaphore %sem, [blockIdx.y], n - 1
    annotate_layout %acc, spatial(4,32).local(16,1)
    annotate_shared_layout %sh, row_major(2,64,16).swizzle(1,2,3)
    print %acc, "acc after \"dot\"\n"
    free_shared %sh
}
"#;

#[test]
fn every_instruction_by_hand() {
    let p = parse(EVERY);
    assert_eq!(p.to_string(), EVERY);
    roundtrip(&p);
    // Every InstKind variant appears.
    let names: BTreeSet<String> = progen::inst_names(&p).into_iter().collect();
    assert_eq!(
        names.iter().filter(|n| !n.ends_with("<-")).count(),
        27,
        "{names:?}"
    );
}

#[test]
fn unary_binary_and_reduce_mnemonics() {
    use tilus_ir::inst::{TileBinaryOp, TileUnaryOp};
    let mut src = String::from("kernel k() grid(1) warps(1) {\n    %f = alloc_register f32[4]\n    %i = alloc_register i8[4]\n");
    for op in TileUnaryOp::ALL {
        let x = if op == TileUnaryOp::BitNot {
            "%i"
        } else {
            "%f"
        };
        src.push_str(&format!("    %u_{0} = {0} {x}\n", op.name()));
    }
    for op in TileBinaryOp::ALL {
        let x = if op.int_only() { "%i" } else { "%f" };
        src.push_str(&format!("    %b_{0} = {0} {x}, {x}\n", op.name()));
        src.push_str(&format!("    %s_{0} = {0} {x}, 3\n", op.name()));
    }
    for op in ["sum", "max", "min"] {
        src.push_str(&format!("    %r_{op} = {op} %f, dim=0\n"));
    }
    src.push_str("}\n");
    check_canonical(&src, &src);
}

#[test]
fn non_canonical_input_prints_canonically() {
    let src = r#"
# A comment on its own line.
; filetest-style comment
kernel k(n: i32,
         a: *float32,)   # aliases are accepted
    grid(cdiv(n, 0x80))
{
    %ga = global_view a, [
        n,
    ]
    %x = load_global %ga, [blockIdx.x*128], shape=[128,]
    %s = sum %x, dim=0, keepdim=true
    %m = max %x, dim=0, keepdim=false
    %w = alloc_global i32[n], requires_clean=false
    for k in range(n) {
        sync
    }
    for k in range(1, n) unroll(4) { wait_all }
    if n > 0 {
    }
    else {
        commit_group
    }
    if n > 1 {
        sync
    } else {
        if n > 2 {
            sync
        }
    }
    let x: i32 = ((n + 1)) * (2)
    x = -(3) + - 3 - (-3)
    print %x
}
"#;
    let canonical = r#"kernel k(n: i32, a: *f32) grid(cdiv(n, 128)) warps(1) {
    %ga = global_view a, [n]
    %x = load_global %ga, [blockIdx.x * 128], shape=[128]
    %s = sum %x, dim=0, keepdim
    %m = max %x, dim=0
    %w = alloc_global i32[n]
    for k in range(0, n, 1) {
        sync
    }
    for k in range(1, n, 1) unroll(4) {
        wait_all
    }
    if n > 0 {
    } else {
        commit_group
    }
    if n > 1 {
        sync
    } else if n > 2 {
        sync
    }
    let x: i32 = (n + 1) * 2
    x = -(3) + -3 - -3
    print %x, ""
}
"#;
    check_canonical(src, canonical);
}

#[test]
fn builder_example_prints_as_documented() {
    let kb = KernelBuilder::new("vector_add", 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("a", DType::F32);
    let b = kb.pointer_param("b", DType::F32);
    let c = kb.pointer_param("c", DType::F32);
    kb.grid(&[n.cdiv(128)]);
    let ga = kb.global_view(a, &[n]);
    let gb = kb.global_view(b, &[n]);
    let gc = kb.global_view(c, &[n]);
    let offset = kb.block_idx(Axis::X) * 128;
    let x = kb.load_global(&ga, &[offset], &[128]);
    let y = kb.load_global(&gb, &[offset], &[128]);
    let z = x + y;
    kb.store_global(&gc, &z, &[offset]);
    let f = kb.finish().expect("well-formed");
    let text = "kernel vector_add(n: i32, a: *f32, b: *f32, c: *f32) grid(cdiv(n, 128)) warps(4) {
    %g = global_view a, [n]
    %g0 = global_view b, [n]
    %g1 = global_view c, [n]
    %x = load_global %g, [blockIdx.x * 128], shape=[128]
    %x2 = load_global %g0, [blockIdx.x * 128], shape=[128]
    %x3 = add %x, %x2
    store_global %g1, %x3, [blockIdx.x * 128]
}
";
    assert_eq!(f.to_string(), text);
    let p = Program { functions: vec![f] };
    roundtrip(&p);
    // The shared offset expression compares equal to the three parsed copies.
    assert!(functions_equal(&p.functions[0], &parse(text).functions[0]));
}

type ExprId = tilus_ir::expr::ExprId;

/// Builds `kernel k(a: i32, b: i32, c: bool) … { let x: i32 = <e> }` with `e` made by `mk`
/// from the three parameter expressions; returns the program and the text of `e`.
fn expr_text(mk: impl FnOnce(&KernelBuilder, [ExprId; 3]) -> ExprId) -> (Program, String) {
    let kb = KernelBuilder::new("k", 1);
    let a = kb.scalar_param("a", ScalarType::I32).id;
    let b = kb.scalar_param("b", ScalarType::I32).id;
    let c = kb.scalar_param("c", ScalarType::Bool).id;
    kb.grid(&[1]);
    let e = mk(&kb, [a, b, c]);
    kb.let_var("x", ScalarType::I32, e);
    let f = kb.finish().expect("well-formed");
    let s = match &f.body[0] {
        Stmt::Let { value, .. } => expr_to_string(&f, *value),
        _ => unreachable!(),
    };
    (Program { functions: vec![f] }, s)
}

#[test]
fn expressions_print_with_minimal_parentheses() {
    use BinaryOp::*;
    type Mk = fn(&KernelBuilder, [ExprId; 3]) -> ExprId;
    fn bin(kb: &KernelBuilder, op: BinaryOp, x: ExprId, y: ExprId) -> ExprId {
        kb.expr(Expr::Binary(op, x, y))
    }
    fn un(kb: &KernelBuilder, op: UnaryOp, x: ExprId) -> ExprId {
        kb.expr(Expr::Unary(op, x))
    }
    let cases: Vec<(Mk, &str)> = vec![
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Add, a, b);
                bin(kb, Mul, s, a)
            },
            "(a + b) * a",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Mul, a, b);
                bin(kb, Add, s, a)
            },
            "a * b + a",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Sub, a, b);
                bin(kb, Sub, s, a)
            },
            "a - b - a",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Sub, b, a);
                bin(kb, Sub, a, s)
            },
            "a - (b - a)",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Shl, a, b);
                bin(kb, BitAnd, s, a)
            },
            "a << b & a",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, BitOr, a, b);
                bin(kb, Shl, s, a)
            },
            "(a | b) << a",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, BitXor, a, b);
                bin(kb, BitOr, s, a)
            },
            "a ^ b | a",
        ),
        (
            |kb, [a, b, c]| {
                let s = bin(kb, Lt, a, b);
                bin(kb, Eq, s, c)
            },
            "a < b == c",
        ),
        (
            |kb, [a, b, c]| {
                let s = bin(kb, Eq, b, c);
                bin(kb, Lt, a, s)
            },
            "a < (b == c)",
        ),
        (
            |kb, [a, b, c]| {
                let l = bin(kb, Lt, a, b);
                let r = bin(kb, Or, c, c);
                bin(kb, And, l, r)
            },
            "a < b && (c || c)",
        ),
        (
            |kb, [a, b, c]| {
                let l = bin(kb, And, c, c);
                let r = bin(kb, Ge, a, b);
                bin(kb, Or, l, r)
            },
            "c && c || a >= b",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Add, a, b);
                un(kb, UnaryOp::Neg, s)
            },
            "-(a + b)",
        ),
        (
            |kb, [a, _, _]| {
                let s = un(kb, UnaryOp::Neg, a);
                un(kb, UnaryOp::Neg, s)
            },
            "--a",
        ),
        (
            |kb, [a, _, _]| {
                let s = un(kb, UnaryOp::Not, a);
                un(kb, UnaryOp::Neg, s)
            },
            "-!a",
        ),
        (
            |kb, _| {
                let two = kb.expr(Expr::Int(2));
                un(kb, UnaryOp::Neg, two)
            },
            "-(2)",
        ),
        (
            |kb, _| {
                let two = kb.expr(Expr::Int(-2));
                un(kb, UnaryOp::Neg, two)
            },
            "-(-2)",
        ),
        (
            |kb, _| {
                let x = kb.expr(Expr::Float(1.5));
                un(kb, UnaryOp::Neg, x)
            },
            "-(1.5)",
        ),
        (
            |kb, _| {
                let x = kb.expr(Expr::Float(f64::INFINITY));
                un(kb, UnaryOp::Neg, x)
            },
            "-(inf)",
        ),
        (
            |kb, _| {
                let two = kb.expr(Expr::Int(-2));
                un(kb, UnaryOp::Not, two)
            },
            "!-2",
        ),
        (
            |kb, [a, _, _]| {
                let two = kb.expr(Expr::Int(-2));
                bin(kb, Sub, a, two)
            },
            "a - -2",
        ),
        (
            |kb, [a, _, _]| {
                let two = kb.expr(Expr::Int(-2));
                bin(kb, Mul, two, a)
            },
            "-2 * a",
        ),
        (
            |kb, [a, b, _]| {
                let l = bin(kb, Lt, a, b);
                un(kb, UnaryOp::Not, l)
            },
            "!(a < b)",
        ),
        (
            |kb, [a, b, _]| {
                let m = bin(kb, Min, a, b);
                bin(kb, CeilDiv, m, a)
            },
            "cdiv(min(a, b), a)",
        ),
        (
            |kb, [a, b, c]| {
                let s = bin(kb, Add, a, b);
                kb.expr(Expr::Select(c, s, b))
            },
            "select(c, a + b, b)",
        ),
        (
            |kb, [a, b, _]| {
                let s = bin(kb, Add, a, b);
                kb.expr(Expr::Cast(ScalarType::I64, s))
            },
            "cast<i64>(a + b)",
        ),
        (
            |kb, [a, _, _]| {
                let s = kb.expr(Expr::Cast(ScalarType::Bool, a));
                kb.expr(Expr::Cast(ScalarType::Data(DType::F8E4M3FN), s))
            },
            "cast<f8e4m3fn>(cast<bool>(a))",
        ),
        (
            |kb, _| {
                let y = kb.expr(Expr::BlockIdx(Axis::Y));
                let z = kb.expr(Expr::GridDim(Axis::Z));
                bin(kb, Rem, y, z)
            },
            "blockIdx.y % gridDim.z",
        ),
        (|kb, _| kb.expr(Expr::Int(i64::MIN)), "-9223372036854775808"),
        (|kb, _| kb.expr(Expr::Int(i64::MAX)), "9223372036854775807"),
        (|kb, _| kb.expr(Expr::Bool(false)), "false"),
    ];
    for (mk, want) in cases {
        let (p, s) = expr_text(mk);
        assert_eq!(s, want);
        roundtrip(&p);
    }
}

#[test]
fn float_literals_roundtrip_exactly() {
    let values = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1.0 / 3.0,
        1e-7,
        6.02e23,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        123456789.0,
        1e16,
    ];
    for v in values {
        let (p, s) = expr_text(|kb, _| kb.expr(Expr::Float(v)));
        roundtrip(&p);
        let q = parse(&p.to_string());
        let Stmt::Let { value, .. } = &q.functions[0].body[0] else {
            unreachable!()
        };
        match q.functions[0].exprs[*value] {
            Expr::Float(w) => assert!(
                w.to_bits() == v.to_bits() || (v.is_nan() && w.is_nan()),
                "{v:?} printed as {s} read back as {w:?}"
            ),
            ref other => panic!("{v:?} printed as {s} read back as {other:?}"),
        }
    }
}

#[test]
fn names_scopes_and_quoting() {
    let src = r#"kernel "my kernel"("x y": i32, "min": i32, p: *f32) grid("x y") warps(1) {
    for k in range(0, "x y", 1) {
        let t: i32 = k + "min"
    }
    for k in range(0, 4, 1) {
        let t: i32 = k
        t = t * 2
    }
    %"a tile" = alloc_register f32[4]
    %"0" = neg %"a tile"
    %_b = abs %"0"
}
"#;
    check_canonical(src, src);
    let p = parse(src);
    let f = &p.functions[0];
    // Two distinct loop variables and two distinct lets, each named alike.
    let ks = f.vars.iter().filter(|(_, v)| v.name == "k").count();
    let ts = f.vars.iter().filter(|(_, v)| v.name == "t").count();
    assert_eq!((ks, ts), (2, 2));
}

#[test]
fn locations_are_recorded() {
    let src = "kernel k(n: i32) grid(1) warps(1) {\n    sync\n    for i in range(0, n, 1) {\n        %r = alloc_register f32[4]\n    }\n    if n > 0 {\n    }\n    let x: i32 = 1\n    x = 2\n}\n";
    let p = parse(src);
    let f = &p.functions[0];
    let at = |line, column| Some(Loc { line, column });
    assert_eq!(f.loc, at(1, 1));
    let Stmt::Inst(sync) = f.body[0] else {
        unreachable!()
    };
    assert_eq!(f.insts[sync].loc, at(2, 5));
    let Stmt::For { loc, body, .. } = &f.body[1] else {
        unreachable!()
    };
    assert_eq!(*loc, at(3, 5));
    let Stmt::Inst(alloc) = body[0] else {
        unreachable!()
    };
    assert_eq!(f.insts[alloc].loc, at(4, 9));
    assert!(matches!(f.body[2], Stmt::If { loc, .. } if loc == at(6, 5)));
    assert!(matches!(f.body[3], Stmt::Let { loc, .. } if loc == at(8, 5)));
    assert!(matches!(f.body[4], Stmt::Assign { loc, .. } if loc == at(9, 5)));
}

#[test]
fn equality_ignores_locations_and_arena_order_but_not_structure() {
    let a = parse("kernel k(n: i32) grid(n) {\n    let x: i32 = n + 1\n}\n");
    let b =
        parse("\n\n# moved\nkernel k(n: i32) grid(n) warps(1) {\n\n    let x: i32 = n + 1\n}\n");
    assert!(programs_equal(&a, &b));
    for other in [
        "kernel k(n: i32) grid(n) {\n    let x: i32 = 1 + n\n}\n",
        "kernel k(n: i32) grid(n) {\n    let y: i32 = n + 1\n}\n",
        "kernel k(n: i64) grid(n) {\n    let x: i32 = n + 1\n}\n",
        "kernel k(n: i32) grid(n) warps(2) {\n    let x: i32 = n + 1\n}\n",
        "kernel j(n: i32) grid(n) {\n    let x: i32 = n + 1\n}\n",
        "kernel k(n: i32) grid(n, 1) {\n    let x: i32 = n + 1\n}\n",
        "kernel k(n: i32) grid(n) {\n    let x: i64 = n + 1\n}\n",
        "kernel k(n: i32) grid(n) {\n}\n",
    ] {
        assert!(!programs_equal(&a, &parse(other)), "{other}");
    }
    // Tensors: same structure with different names differ; with different types differ.
    let t1 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[4]\n    %b = neg %a\n}\n");
    let t2 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[4]\n    %c = neg %a\n}\n");
    let t3 = parse("kernel k() grid(1) {\n    %a = alloc_register f16[4]\n    %b = neg %a\n}\n");
    let t4 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[4]\n    %b = neg %a\n    %b <- neg %a\n}\n");
    let t5 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[4]\n    %b = neg %a\n    %a <- neg %b\n}\n");
    let t6 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[4]\n    %b = neg %a\n    %b <- neg %b\n}\n");
    assert!(programs_equal(&t1, &t1.clone()));
    assert!(!programs_equal(&t1, &t2));
    assert!(!programs_equal(&t1, &t3));
    assert!(!programs_equal(&t4, &t5));
    assert!(!programs_equal(&t4, &t6));
    // Layouts compare by value: two spellings of one layout are equal.
    let l1 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[8, 8]\n    annotate_layout %a, local(2,1).spatial(4,8)\n}\n");
    let l2 = parse("kernel k() grid(1) {\n    %a = alloc_register f32[8, 8]\n    annotate_layout %a, local(2, 1) * spatial(4, 8)\n}\n");
    assert!(programs_equal(&l1, &l2));
}

#[test]
fn function_display_matches_program_display() {
    let p = parse(EVERY);
    assert_eq!(p.functions[0].to_string(), EVERY);
    let two = format!("{EVERY}\n{}", EVERY.replace("kernel every", "kernel again"));
    let q = parse(&two);
    assert_eq!(q.to_string(), two);
    assert_eq!(q.functions.len(), 2);
}

#[test]
fn documented_example_parses_and_roundtrips() {
    let doc = include_str!("../../docs/ir.md");
    let start = doc
        .find("## A complete example\n\n```\n")
        .map(|i| i + "## A complete example\n\n```\n".len())
        .expect("docs/ir.md has the example");
    let len = doc[start..].find("```").expect("closed code block");
    let p = parse(&doc[start..start + len]);
    assert_eq!(p.functions.len(), 2);
    roundtrip(&p);
    let verified = tilus_ir::verify::verify(p);
    assert!(
        verified.is_ok(),
        "{}",
        verified.err().map(|e| e.to_string()).unwrap_or_default()
    );
}
