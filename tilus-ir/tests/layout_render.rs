//! Text grids, tables and SVG of layouts.

use tilus_ir::layout::render::{
    compress_ranges, grid, shared_grid, shared_summary, summary, svg, table,
};
use tilus_ir::layout::{atoms, parse_layout, parse_shared_layout, RegisterLayout, SharedLayout};

fn p(s: &str) -> RegisterLayout {
    parse_layout(s).unwrap()
}

#[test]
fn grid_local_spatial() {
    let l = p("local(2,1).spatial(4,8)");
    let want = "      0     1     2     3     4     5     6     7
0  t0:0  t1:0  t2:0  t3:0  t4:0  t5:0  t6:0  t7:0
1  t8:0  t9:0 t10:0 t11:0 t12:0 t13:0 t14:0 t15:0
2 t16:0 t17:0 t18:0 t19:0 t20:0 t21:0 t22:0 t23:0
3 t24:0 t25:0 t26:0 t27:0 t28:0 t29:0 t30:0 t31:0
4  t0:1  t1:1  t2:1  t3:1  t4:1  t5:1  t6:1  t7:1
5  t8:1  t9:1 t10:1 t11:1 t12:1 t13:1 t14:1 t15:1
6 t16:1 t17:1 t18:1 t19:1 t20:1 t21:1 t22:1 t23:1
7 t24:1 t25:1 t26:1 t27:1 t28:1 t29:1 t30:1 t31:1
";
    assert_eq!(grid(&l), want);
    assert_eq!(
        summary(&l),
        "shape: [8, 8]\nthreads: 32\nlocal size: 2\ncanonical: local(2,1).spatial(4,8)\n"
    );
}

#[test]
fn table_local_spatial() {
    let t = table(&p("local(2,1).spatial(4,8)"));
    assert!(
        t.starts_with("0 0 0 0\n0 1 4 0\n1 0 0 1\n1 1 4 1\n2 0 0 2\n"),
        "{t}"
    );
    assert!(t.ends_with("31 0 3 7\n31 1 7 7\n"));
    assert_eq!(t.lines().count(), 64);
    assert_eq!(table(&p("reduce(spatial(2), dims=[0])")), "0 0\n1 0\n");
}

#[test]
fn grid_replicated() {
    let l = p("reduce(spatial(3,4), dims=[0])");
    assert_eq!(
        grid(&l),
        "        0         1         2         3\n t0,4,8:0  t1,5,9:0 t2,6,10:0 t3,7,11:0\n"
    );
    assert!(summary(&l).ends_with("replicated: yes\n"));
    let r = p("replicated(2,2, threads=4)");
    assert_eq!(
        grid(&r),
        "       0      1\n0 t0-3:0 t0-3:1\n1 t0-3:2 t0-3:3\n"
    );
    let r = p("spatial(2,1).replicated(1,2, threads=4)");
    assert!(grid(&r).contains("t0-3:0 t0-3:1"), "{}", grid(&r));
    let r = p("reduce(spatial(2,4,2), dims=[1])");
    assert!(grid(&r).contains("t0,2,4,6:0"), "{}", grid(&r));
    assert_eq!(grid(&p("reduce(spatial(4), dims=[0])")), "t0-3:0\n");
}

#[test]
fn ranges() {
    assert_eq!(compress_ranges(&[0, 4, 8]), "0,4,8");
    assert_eq!(compress_ranges(&[0, 1, 2, 3]), "0-3");
    assert_eq!(compress_ranges(&[0, 1, 2, 3, 8, 9, 10, 11]), "0-3,8-11");
    assert_eq!(compress_ranges(&[0, 1, 5]), "0,1,5");
    assert_eq!(compress_ranges(&[]), "");
}

#[test]
fn grid_mma_a_atom() {
    let l = atoms::mma_m16n8k16_a();
    let g = grid(&l);
    let lines: Vec<&str> = g.lines().collect();
    assert_eq!(lines.len(), 17);
    assert_eq!(
        lines[2],
        " 1  t4:0  t4:1  t5:0  t5:1  t6:0  t6:1  t7:0  t7:1  t4:4  t4:5  t5:4  t5:5  t6:4  t6:5  t7:4  t7:5"
    );
    assert_eq!(
        lines[10],
        " 9  t4:2  t4:3  t5:2  t5:3  t6:2  t6:3  t7:2  t7:3  t4:6  t4:7  t5:6  t5:7  t6:6  t6:7  t7:6  t7:7"
    );
    assert!(summary(&l).contains("canonical: column_local(2,2).spatial(8,4).local(1,2)\n"));
}

#[test]
fn grid_rank1_and_rank3() {
    assert_eq!(grid(&p("local(3)")), "   0    1    2\nt0:0 t0:1 t0:2\n");
    assert_eq!(
        grid(&p("spatial(2,2,2)")),
        "[0, :, :]\n     0    1\n0 t0:0 t1:0\n1 t2:0 t3:0\n\n[1, :, :]\n     0    1\n0 t4:0 t5:0\n1 t6:0 t7:0\n"
    );
}

#[test]
fn too_large_is_a_note() {
    let g = grid(&p("local(4096,4096)"));
    assert!(g.starts_with("(tile of 16777216 elements not drawn"), "{g}");
    assert!(table(&p("replicated(4096, threads=4096)")).starts_with('#'));
}

/// Checks that tags are balanced (a tiny XML well-formedness check).
fn balanced(svg: &str) -> bool {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            return false;
        };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            if stack.pop().as_deref() != Some(name.trim()) {
                return false;
            }
        } else {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    stack.is_empty()
}

#[test]
fn svg_is_well_formed() {
    for s in [
        "local(2,1).spatial(4,8)",
        "reduce(spatial(3,4), dims=[0])",
        "spatial(2,2,3)",
        "reduce(spatial(4), dims=[0])",
    ] {
        let l = p(s);
        let doc = svg(&l);
        assert!(doc.starts_with("<?xml"));
        assert!(balanced(&doc), "{doc}");
        assert_eq!(doc.matches("<rect").count(), l.num_elements(), "{s}");
        assert!(doc.contains(&format!("<title>{l}</title>")));
    }
    let doc = svg(&p("local(2,1).spatial(4,8)"));
    assert!(doc.contains(">t5:1</text>"));
    let doc = svg(&p("reduce(spatial(3,4), dims=[0])"));
    assert!(doc.contains(">t0,4,8:0</text>"));
    // Distinct threads get distinct colours.
    let doc = svg(&p("spatial(32)"));
    let fills: std::collections::HashSet<&str> = doc
        .split("<rect")
        .skip(1)
        .filter_map(|r| r.split("fill=\"").nth(1))
        .map(|f| &f[..7])
        .collect();
    assert_eq!(fills.len(), 32);
}

#[test]
fn shared_grid_swizzled() {
    let s = SharedLayout::row_major_swizzle(&[8, 64], 2).unwrap();
    let g = shared_grid(&s);
    let lines: Vec<&str> = g.lines().collect();
    assert_eq!(lines.len(), 9);
    assert!(lines[0].starts_with("    0   1   2"), "{}", lines[0]);
    assert!(
        lines[2]
            .starts_with("1  72  73  74  75  76  77  78  79  64  65  66  67  68  69  70  71  88"),
        "{}",
        lines[2]
    );
    assert!(lines[4].starts_with("3 216 217"), "{}", lines[4]);
    assert_eq!(
        shared_summary(&s),
        "shape: [8, 64]\nsize: 512\nswizzle: Swizzle(3,3,3)\ncanonical: row_major(8,64).swizzle(3,3,3)\n"
    );
    let c = parse_shared_layout("column_major(2,3)").unwrap();
    assert_eq!(shared_grid(&c), "  0 1 2\n0 0 2 4\n1 1 3 5\n");
    assert!(shared_summary(&c).contains("swizzle: none\n"));
    assert_eq!(
        shared_grid(&parse_shared_layout("row_major(4)").unwrap()),
        "0 1 2 3\n0 1 2 3\n"
    );
}
