//! Errors of the text format: positions, messages, what was expected, rendering; and the
//! parser never panics, whatever it is given.

mod progen;

use proptest::prelude::*;
use tilus_ir::equiv::programs_equal;
use tilus_ir::text::{parse_program, ParseError, MAX_NESTING};

fn err(src: &str) -> ParseError {
    match parse_program(src) {
        Ok(p) => panic!("expected an error, parsed:\n{p}"),
        Err(e) => e,
    }
}

/// A kernel around `body` (which starts on line 2).
fn kernel(body: &str) -> String {
    format!("kernel k(n: i32, a: *f32, w: *u4) grid(1) warps(4) {{\n{body}\n}}\n")
}

/// `(line, column, message fragment)` for a body placed by [`kernel`].
fn check(body: &str, line: u32, column: u32, fragment: &str) -> ParseError {
    let e = err(&kernel(body));
    assert!(
        e.message.contains(fragment),
        "message {:?} lacks {fragment:?}\n{}",
        e.message,
        e.render()
    );
    assert_eq!((e.line, e.column), (line, column), "{}", e.render());
    e
}

#[test]
fn lexical_errors() {
    check("    let x: i32 = 1 @ 2", 2, 20, "unexpected character `@`");
    check("    print %r, \"abc", 2, 15, "unterminated string");
    let e = check(
        "    let x: i32 = 1\n    print %x, \"a\\qb\"",
        3,
        17,
        "unknown escape `\\q`",
    );
    assert!(e.expected.contains(&"`\\n`".to_string()));
    check("    print %x, \"\\u{110000}\"", 2, 16, "bad unicode escape");
    check("    let x: i64 = 99999999999999999999", 2, 18, "too large");
    check(
        "    let x: i64 = 9223372036854775808",
        2,
        18,
        "out of range for i64",
    );
    check("    let x: i32 = 0x", 2, 18, "hexadecimal digits");
}

#[test]
fn byte_order_mark_and_crlf_are_accepted() {
    let src = "\u{feff}kernel k() grid(1) {\r\n    sync\r\n}\r\n";
    let p = parse_program(src).expect("parses");
    assert_eq!(
        p.to_string(),
        "kernel k() grid(1) warps(1) {\n    sync\n}\n"
    );
    let e = err("\u{feff}kernel k() grid(1) {\r\n    snyc\r\n}\r\n");
    assert_eq!(
        (e.line, e.column, e.source_line.as_str()),
        (2, 5, "    snyc")
    );
}

#[test]
fn negative_extremes_parse() {
    let src = kernel("    let x: i64 = -9223372036854775808\n    let y: i64 = 0x7fffffffffffffff");
    assert!(parse_program(&src).is_ok());
}

#[test]
fn name_errors() {
    let e = check(
        "    %x = lod_global %ga, [0], shape=[128]",
        2,
        10,
        "unknown instruction `lod_global`",
    );
    assert!(e.message.contains("did you mean `load_global`?"));
    assert_eq!(e.width, 10);
    check(
        "    %x = frobnicate %ga",
        2,
        10,
        "unknown instruction `frobnicate`",
    );
    check(
        "    %ga = global_view a, [n]\n    %x = load_global %gaa, [0], shape=[128]",
        3,
        22,
        "unknown tensor `%gaa`; did you mean `%ga`?",
    );
    check(
        "    let x: i32 = nn + 1",
        2,
        18,
        "unknown name `nn`; did you mean `n`?",
    );
    check(
        "    %x = alloc_register f32[4]\n    %x = neg %x",
        3,
        5,
        "tensor `%x` is already defined",
    );
    check("    let n: i32 = 1", 2, 9, "`n` is already defined");
    check(
        "    for i in range(4) {\n        let i: i32 = 0\n    }",
        3,
        13,
        "`i` is already defined",
    );
    check(
        "    for i in range(4) {\n        let y: i32 = i\n    }\n    let z: i32 = y",
        5,
        18,
        "unknown name `y`",
    );
    check("    %x = neg %x", 2, 14, "unknown tensor `%x`");
    check("    %y <- neg %x", 2, 15, "unknown tensor `%x`");
    check(
        "    %r = alloc_register f32[4]\n    %y <- neg %r",
        3,
        5,
        "unknown tensor `%y`",
    );
    let e = err("kernel k(n: i32, n: *f32) grid(1) {\n}\n");
    assert_eq!((e.line, e.column), (1, 18));
    let e = err("kernel k() grid(1) {\n}\n\nkernel k() grid(1) {\n}\n");
    assert_eq!((e.line, e.column), (4, 1));
    assert!(e.message.contains("kernel `k` is defined twice"));
}

#[test]
fn type_and_dtype_errors() {
    let e = err("kernel k(a: *f3) grid(1) {\n}\n");
    assert_eq!((e.line, e.column), (1, 14));
    assert!(
        e.message.contains("unknown dtype `f3`; did you mean"),
        "{}",
        e.message
    );
    check(
        "    %r = alloc_register flaot32[4]",
        2,
        25,
        "unknown dtype `flaot32`; did you mean `f32`",
    );
    check("    let x: boool = true", 2, 12, "unknown dtype `boool`");
    check(
        "    %r = alloc_register f32[8, 8]\n    %q = alloc_register f32[8, 4]\n    %z = add %r, %q",
        4,
        10,
        "`add`: shapes [8, 8] and [8, 4] do not broadcast",
    );
    check(
        "    %gx = global_view a, [n], dtype=f16",
        2,
        11,
        "points to f32, not f16",
    );
    check(
        "    %gx = global_view n, [n]",
        2,
        23,
        "`n` is not a pointer parameter",
    );
    check(
        "    %r = alloc_register f32[8]\n    %v = view %r, u8, spatial(8,8), shape=[64]",
        3,
        10,
        "differs from its layout's shape",
    );
    check("    %r = alloc_register f32[0]", 2, 10, "empty dimension");
}

#[test]
fn layout_errors_point_into_the_layout() {
    let e = check(
        "    %r = alloc_register f32[8, 8]\n    annotate_layout %r, local(2,1).spatil(4,8)",
        3,
        36,
        "bad layout",
    );
    assert!(e.message.contains("spatil"));
    // A layout spread over two lines inside its parentheses.
    check(
        "    %r = alloc_register f32[8, 8]\n    annotate_layout %r, local(2,\n        x)",
        4,
        9,
        "bad layout",
    );
    check(
        "    %s = alloc_shared f16[8, 8]\n    annotate_shared_layout %s, row_major(8,8).swizzle(1,2)",
        3,
        58,
        "bad layout",
    );
    check(
        "    %r = alloc_register f32[8, 8]\n    annotate_layout %r, 42",
        3,
        25,
        "unexpected `42`",
    );
}

#[test]
fn syntax_errors() {
    let e = check(
        "    %r = alloc_register f32[4] init=0.0",
        2,
        32,
        "unexpected `init`",
    );
    assert_eq!(e.expected, vec!["end of line"]);
    let e = check(
        "    %r = alloc_register f32[4], bogus=1",
        2,
        33,
        "unknown option `bogus` for `alloc_register`",
    );
    assert_eq!(e.expected, vec!["`init`"]);
    check(
        "    %r = alloc_register f32[4], init=0, init=1",
        2,
        41,
        "option `init` given twice",
    );
    check("    sync, dims=[0]", 2, 11, "`sync` takes no option `dims`");
    check(
        "    %ga = global_view a, [n]\n    %x = load_global %ga, [0]",
        3,
        10,
        "`load_global` needs the option `shape=[…]`",
    );
    check(
        "    %r = alloc_register f32[4]\n    %s = sum %r",
        3,
        10,
        "`sum` needs the option `dim=…`",
    );
    check(
        "    %r = alloc_register f32[4]\n    %s = sum %r, dim=0, keepdim=maybe",
        3,
        33,
        "unexpected `maybe`",
    );
    let e = check(
        "    %r = alloc_register f32[4]\n    %z = add %r",
        3,
        16,
        "unexpected end of line",
    );
    assert_eq!(e.expected, vec!["`,`"]);
    let e = check(
        "    %r = alloc_register f32[4]\n    %z = add %r, ]",
        3,
        18,
        "unexpected `]`",
    );
    assert_eq!(e.expected, vec!["a tensor `%name`", "a scalar expression"]);
    check(
        "    %r = alloc_register f32[4]\n    %z = cast 3, f16",
        3,
        15,
        "unexpected `3`",
    );
    check(
        "    %r = alloc_register f32[4]\n    %z = neg % r",
        3,
        14,
        "unexpected `%`",
    );
    check("    sync %x", 2, 10, "unexpected tensor `%x`");
    check("    %x = sync", 2, 5, "`sync` does not produce a tensor");
    check(
        "    alloc_register f32[4]",
        2,
        5,
        "`alloc_register` produces a tensor",
    );
    check("    %x + 1", 2, 8, "unexpected `+`");
    check(
        "    let x: i32 = min(1, 2, 3)",
        2,
        28,
        "`min` takes 2 arguments",
    );
    check(
        "    let x: i32 = select(true, 1)",
        2,
        32,
        "`select` takes 3 arguments",
    );
    check("    let x: i32 = cast(1)", 2, 22, "unexpected `(`");
    check("    let x: i32 = 1 +", 2, 21, "unexpected end of line");
    check("    let x: i32 = blockIdx.w", 2, 27, "unexpected `w`");
    check("    let x = 1", 2, 11, "unexpected `=`");
    check("    for i in range() {\n    }", 2, 20, "unexpected `)`");
    check(
        "    for i in range(1, 2, 3, 4) {\n    }",
        2,
        29,
        "unexpected `4`",
    );
    check(
        "    for i in range(4) unroll(some) {\n    }",
        2,
        30,
        "unexpected `some`",
    );
    check("    if true { sync sync }", 2, 20, "unexpected `sync`");
    check("    if true {\n    } sync", 3, 7, "unexpected `sync`");
    check("    wait_group -1", 2, 16, "unexpected `-`");
    check("    wait_group 4294967296", 2, 16, "too large");
    check("    else {\n    }", 2, 5, "unknown instruction `else`");
    check("    %x <= neg %y", 2, 8, "unexpected `<=`");
    let e = err("kernel k() warps(2) {\n}\n");
    assert_eq!((e.line, e.column), (1, 21));
    assert!(e.expected.contains(&"`grid(…)`".to_string()));
    let e = err("kernel k() grid(1) {\n    sync\n");
    assert!(e.message.contains("end of input"), "{}", e.message);
    let e = err("kernel k() grid(1) {\n} extra\n");
    assert_eq!((e.line, e.column), (2, 3));
    let e = err("sync\n");
    assert_eq!(e.expected, vec!["`kernel`", "end of input"]);
}

#[test]
fn display_and_render_formats() {
    let e = err("kernel k() grid(1) warps(1) {\n\t%x = lod_global %g, [0]\n}\n");
    assert_eq!(
        e.to_string(),
        "line 2:7: unknown instruction `lod_global`; did you mean `load_global`?"
    );
    assert_eq!(
        e.render(),
        "error: unknown instruction `lod_global`; did you mean `load_global`?\n \
         --> 2:7\n  |\n2 | \t%x = lod_global %g, [0]\n  | \t     ^^^^^^^^^^"
    );
    assert_eq!(e.source_line, "\t%x = lod_global %g, [0]");
    let e = err("kernel k() grid(1) {\n    %r = alloc_register f32[4]\n    %z = add %r,\n}\n");
    assert_eq!(
        e.to_string(),
        "line 3:17: unexpected end of line (expected a tensor `%name` or a scalar expression)"
    );
    assert!(e
        .render()
        .ends_with("3 |     %z = add %r,\n  |                 ^"));
    let long = format!(
        "{}\n",
        "kernel k() grid(1) {\n".to_string() + &"\n".repeat(10) + "    bad\n}"
    );
    let e = err(&long);
    assert_eq!(e.line, 12);
    assert!(
        e.render()
            .contains("\n  --> 12:5\n   |\n12 |     bad\n   |     ^^^"),
        "{}",
        e.render()
    );
}

#[test]
fn nesting_is_limited() {
    for src in [
        kernel(&format!(
            "    let x: i32 = {}1{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        )),
        kernel(&format!("    let x: i32 = {}1", "-".repeat(100_000))),
        kernel(&format!("    let x: i32 = {}true", "!".repeat(100_000))),
        kernel(&format!("    let x: i32 = {}1", "- ".repeat(50_000))),
        kernel(&"    if true {\n".repeat(20_000)),
        kernel(&format!(
            "    if true {{\n    }}{}",
            " else if true {\n    }".repeat(20_000)
        )),
        kernel(&"    for i in range(1) {\n".repeat(20_000)),
    ] {
        let e = err(&src);
        assert!(
            e.message.contains("nested too deeply")
                || e.message.contains("already defined")
                || e.message.contains("`else if` branches"),
            "{}",
            e.message
        );
    }
    // Just under the limit is fine.
    let depth = MAX_NESTING - 5;
    let src = kernel(&format!(
        "    let x: i32 = {}1{}",
        "(".repeat(depth),
        ")".repeat(depth)
    ));
    assert!(parse_program(&src).is_ok());
}

/// Whatever `src` is, parsing returns; if it succeeds, printing round-trips.
fn total(src: &str) {
    if let Ok(p) = parse_program(src) {
        let text = p.to_string();
        let q = match parse_program(&text) {
            Ok(q) => q,
            Err(e) => panic!("reprint does not parse:\n{}\n{text}", e.render()),
        };
        assert!(programs_equal(&p, &q), "{text}");
        assert_eq!(q.to_string(), text);
    }
}

const SOUP: &[&str] = &[
    "kernel",
    "k",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "=",
    "<-",
    "%",
    "%x",
    "%y",
    "\n",
    "\n",
    "\n",
    " ",
    " ",
    "n",
    "a",
    "*f32",
    "*u4",
    "i32",
    "grid(1)",
    "warps(2)",
    "let",
    "for",
    "in",
    "range",
    "unroll(full)",
    "if",
    "else",
    "sync",
    "add",
    "load_global",
    "dim=0",
    "shape=[4]",
    "alloc_register",
    "f32[4]",
    "-",
    "!",
    "&&",
    "||",
    "<<",
    ">>",
    "==",
    "1",
    "2.5",
    "-3",
    "0x1f",
    "1e9",
    "\"s\\n\"",
    "\"",
    "#c",
    ";c",
    "blockIdx.x",
    "cast<i64>",
    "select",
    "min",
    "local(2,1)",
    "spatial(4,8)",
    ".",
    "view",
    "annotate_layout",
    "print",
    "dot",
    "acc=f32",
    "keepdim",
    "é",
    "\t",
    "\r\n",
    "\\",
    "𝕏",
];

fn valid_program_text(data: Vec<u32>) -> String {
    progen::program(data).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        total(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_strings_never_panic(s in "\\PC{0,300}") {
        total(&s);
    }

    #[test]
    fn token_soup_never_panics(idx in prop::collection::vec(0..SOUP.len(), 0..120)) {
        let s: String = idx.iter().map(|&i| SOUP[i]).collect::<Vec<_>>().join(" ");
        total(&s);
        let t: String = idx.iter().map(|&i| SOUP[i]).collect();
        total(&t);
    }

    #[test]
    fn mutated_programs_never_panic(
        data in progen::choices(),
        ops in prop::collection::vec((0u8..7, any::<u32>(), any::<u32>(), 0..SOUP.len()), 1..6),
    ) {
        let mut chars: Vec<char> = valid_program_text(data).chars().collect();
        for (op, x, y, t) in ops {
            let n = chars.len().max(1);
            let (i, j) = ((x as usize) % n, (y as usize) % n);
            let (lo, hi) = (i.min(j), i.max(j));
            match op {
                // Delete a range of characters.
                0 => { chars.drain(lo..hi.min(lo + 40).min(chars.len())); }
                // Truncate.
                1 => chars.truncate(lo),
                // Swap two whitespace-separated words.
                2 => {
                    let text: String = chars.iter().collect();
                    let mut words: Vec<&str> = text.split(' ').collect();
                    let w = words.len();
                    words.swap(i % w, j % w);
                    chars = words.join(" ").chars().collect();
                }
                // Insert a token.
                3 => {
                    let at = lo.min(chars.len());
                    chars.splice(at..at, SOUP[t].chars());
                }
                // Duplicate a line.
                4 => {
                    let text: String = chars.iter().collect();
                    let mut lines: Vec<&str> = text.lines().collect();
                    if !lines.is_empty() {
                        let l = lines[i % lines.len()];
                        lines.insert(j % lines.len(), l);
                    }
                    chars = lines.join("\n").chars().collect();
                }
                // Delete a line.
                5 => {
                    let text: String = chars.iter().collect();
                    let mut lines: Vec<&str> = text.lines().collect();
                    if !lines.is_empty() {
                        lines.remove(i % lines.len());
                    }
                    chars = lines.join("\n").chars().collect();
                }
                // Replace one character.
                _ => {
                    if let Some(c) = chars.get_mut(lo) {
                        *c = SOUP[t].chars().next().unwrap_or(' ');
                    }
                }
            }
            let text: String = chars.iter().collect();
            total(&text);
        }
    }
}
