//! Human-readable pictures of layouts: text grids, a `(thread, slot) -> index` table and
//! SVG. Library code for `tilus layout`; nothing here prints.
//!
//! # Grid cells
//!
//! A register-layout cell reads `t<threads>:<slot>`: `t5:2` is thread 5, register slot 2.
//! An element held by several threads (replication) lists every holder, ascending, with
//! runs of three or more consecutive threads written as ranges: `t0,4,8:0`, `t0-3:1`,
//! `t0-3,8-11:1`, `t0,1:0`. All holders of an element keep it in the same slot.
//!
//! Rank 0 and 1 tiles are one row; rank 2 tiles are rows × columns with the row index on
//! the left and the column index on top; a tile of rank > 2 is drawn as one grid per
//! leading index, each headed like `[1, 0, :, :]`. Cells are right-aligned to a common
//! width and separated by one space. Tiles above [`MAX_DRAWN_ELEMENTS`] elements (or with
//! more than [`MAX_DRAWN_PAIRS`] `(thread, slot)` pairs) are not drawn; a one-line note is
//! returned instead.

use std::fmt::Write as _;

use super::shared::{for_each_index, SharedLayout};
use super::RegisterLayout;

/// The largest tile (in elements) the grid and SVG renderers draw.
pub const MAX_DRAWN_ELEMENTS: usize = 1 << 16;

/// The most `(thread, slot)` pairs the renderers enumerate (also the most lines of
/// [`table`]).
pub const MAX_DRAWN_PAIRS: usize = 1 << 20;

/// Row-major linear position of `index` in `shape`.
fn linear(shape: &[usize], index: &[usize]) -> usize {
    index
        .iter()
        .zip(shape)
        .fold(0usize, |acc, (&i, &s)| acc * s + i)
}

/// For every element (row-major), its holders (ascending) and slot.
fn holders(l: &RegisterLayout) -> Option<Vec<(Vec<usize>, usize)>> {
    let n = l.num_elements();
    let pairs = l.num_threads().checked_mul(l.local_size())?;
    if n > MAX_DRAWN_ELEMENTS || pairs > MAX_DRAWN_PAIRS {
        return None;
    }
    let mut out = vec![(Vec::new(), 0usize); n];
    for t in 0..l.num_threads() {
        for s in 0..l.local_size() {
            let idx = l.index_of(t, s).ok()?;
            let cell = out.get_mut(linear(l.shape(), &idx))?;
            cell.0.push(t);
            cell.1 = s;
        }
    }
    Some(out)
}

/// `0,4,8` / `0-3` / `0-3,8-11`: ascending numbers, runs of three or more as ranges.
pub fn compress_ranges(values: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!("{}-{}", values[i], values[j]));
        } else {
            parts.extend(values[i..=j].iter().map(|v| v.to_string()));
        }
        i = j + 1;
    }
    parts.join(",")
}

/// The text of one register-layout cell.
fn cell_text(threads: &[usize], slot: usize) -> String {
    if threads.is_empty() {
        "-".to_string()
    } else {
        format!("t{}:{}", compress_ranges(threads), slot)
    }
}

/// Draws cells (row-major over `shape`) as aligned grids.
fn draw(shape: &[usize], cells: &[String]) -> String {
    let width = cells
        .iter()
        .map(|c| c.chars().count())
        .chain(shape.last().map(|&s| s.saturating_sub(1).to_string().len()))
        .max()
        .unwrap_or(1);
    let pad = |s: &str, w: usize| format!("{s:>w$}");
    let mut out = String::new();
    match shape.len() {
        0 => {
            out.push_str(cells.first().map(String::as_str).unwrap_or("-"));
            out.push('\n');
        }
        1 => {
            let header: Vec<String> = (0..shape[0]).map(|j| pad(&j.to_string(), width)).collect();
            let row: Vec<String> = cells.iter().map(|c| pad(c, width)).collect();
            out.push_str(&header.join(" "));
            out.push('\n');
            out.push_str(&row.join(" "));
            out.push('\n');
        }
        r => {
            let (rows, cols) = (shape[r - 2], shape[r - 1]);
            let lead = &shape[..r - 2];
            let row_w = rows.saturating_sub(1).to_string().len();
            let per_slice = rows * cols;
            let mut slice = 0usize;
            for_each_index(lead, |prefix| {
                if r > 2 {
                    if slice > 0 {
                        out.push('\n');
                    }
                    let mut head: Vec<String> = prefix.iter().map(|i| i.to_string()).collect();
                    head.push(":".into());
                    head.push(":".into());
                    let _ = writeln!(out, "[{}]", head.join(", "));
                }
                out.push_str(&" ".repeat(row_w));
                for j in 0..cols {
                    out.push(' ');
                    out.push_str(&pad(&j.to_string(), width));
                }
                out.push('\n');
                for i in 0..rows {
                    out.push_str(&pad(&i.to_string(), row_w));
                    for j in 0..cols {
                        out.push(' ');
                        let c = cells
                            .get(slice * per_slice + i * cols + j)
                            .map(String::as_str)
                            .unwrap_or("-");
                        out.push_str(&pad(c, width));
                    }
                    out.push('\n');
                }
                slice += 1;
            });
        }
    }
    out
}

fn too_large(n: usize) -> String {
    format!(
        "(tile of {n} elements not drawn: the limit is {MAX_DRAWN_ELEMENTS} elements and {MAX_DRAWN_PAIRS} (thread, slot) pairs)\n"
    )
}

/// The tile as a text grid; each cell says which thread(s) and slot hold the element
/// (see the module documentation for the cell format). Ends with a newline.
///
/// For `local(2,1).spatial(4,8)` (first lines):
/// ```text
///       0     1     2     3     4     5     6     7
/// 0  t0:0  t1:0  t2:0  t3:0  t4:0  t5:0  t6:0  t7:0
/// 1  t8:0  t9:0 t10:0 t11:0 t12:0 t13:0 t14:0 t15:0
/// ```
pub fn grid(l: &RegisterLayout) -> String {
    match holders(l) {
        Some(h) => {
            let cells: Vec<String> = h.iter().map(|(t, s)| cell_text(t, *s)).collect();
            draw(l.shape(), &cells)
        }
        None => too_large(l.num_elements()),
    }
}

/// Facts about a layout, one per line: `shape: [8, 8]`, `threads: 32`, `local size: 2`,
/// `canonical: local(2,1).spatial(4,8)`, and `replicated: yes` when some element has
/// several holders. Ends with a newline.
pub fn summary(l: &RegisterLayout) -> String {
    let mut out = format!(
        "shape: {:?}\nthreads: {}\nlocal size: {}\ncanonical: {}\n",
        l.shape(),
        l.num_threads(),
        l.local_size(),
        l
    );
    if l.is_replicated() {
        out.push_str("replicated: yes\n");
    }
    out
}

/// One line per `(thread, slot)` pair, sorted by thread then slot:
/// `<thread> <slot> <i0> <i1> ...` with single spaces and no header. At most
/// [`MAX_DRAWN_PAIRS`] lines; a larger layout gets a single line starting with `#` that
/// says so.
pub fn table(l: &RegisterLayout) -> String {
    let pairs = l.num_threads().checked_mul(l.local_size());
    if pairs.is_none_or(|p| p > MAX_DRAWN_PAIRS) {
        return format!(
            "# {} threads x {} slots is more than {MAX_DRAWN_PAIRS} pairs; not listed\n",
            l.num_threads(),
            l.local_size()
        );
    }
    let mut out = String::new();
    for t in 0..l.num_threads() {
        for s in 0..l.local_size() {
            let _ = write!(out, "{t} {s}");
            if let Ok(idx) = l.index_of(t, s) {
                for i in idx {
                    let _ = write!(out, " {i}");
                }
            }
            out.push('\n');
        }
    }
    out
}

/// A distinct fill colour per thread (golden-angle hues), as `#rrggbb`.
fn thread_colour(t: usize) -> String {
    let h = ((t as f64) * 137.507_764) % 360.0;
    let (s, l) = (0.62, 0.80);
    let c = (1.0 - (2.0 * l - 1.0_f64).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - ((hp % 2.0) - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The grid of [`grid`] as a standalone SVG document: one `<rect>` per element, coloured
/// by (first) holding thread, labelled `t5:2`; row and column indices on the axes; the
/// canonical expression as `<title>` and heading. Slices of a rank > 2 tile are stacked
/// vertically, each under its `[i0, :, :]` heading.
pub fn svg(l: &RegisterLayout) -> String {
    let title = xml_escape(&l.to_string());
    let Some(h) = holders(l) else {
        return format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"40\" font-family=\"monospace\" font-size=\"12\">\n<title>{title}</title>\n<text x=\"8\" y=\"24\">{}</text>\n</svg>\n",
            xml_escape(too_large(l.num_elements()).trim_end())
        );
    };
    let cells: Vec<(String, String)> = h
        .iter()
        .map(|(t, s)| {
            let colour = t
                .first()
                .map_or_else(|| "#ffffff".to_string(), |&t| thread_colour(t));
            (cell_text(t, *s), colour)
        })
        .collect();
    let shape = l.shape();
    let rank = shape.len();
    let (rows, cols) = match rank {
        0 => (1, 1),
        1 => (1, shape[0]),
        r => (shape[r - 2], shape[r - 1]),
    };
    let lead: &[usize] = if rank > 2 { &shape[..rank - 2] } else { &[] };
    let max_chars = cells.iter().map(|c| c.0.chars().count()).max().unwrap_or(1);
    let cw = (max_chars * 7 + 12).max(36);
    let ch = 22;
    let left = 36;
    let title_h = 28;
    let slice_head = if rank > 2 { 20 } else { 0 };
    let col_head = 18;
    let slice_h = slice_head + col_head + rows * ch + 12;
    let slices = lead.iter().product::<usize>().max(1);
    let width = left + cols * cw + 12;
    let height = title_h + slices * slice_h;
    let mut out = String::new();
    let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"11\">"
    );
    let _ = writeln!(out, "<title>{title}</title>");
    let _ = writeln!(
        out,
        "<text x=\"8\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{title}</text>"
    );
    let mut slice = 0usize;
    for_each_index(lead, |prefix| {
        let top = title_h + slice * slice_h;
        if rank > 2 {
            let mut head: Vec<String> = prefix.iter().map(|i| i.to_string()).collect();
            head.push(":".into());
            head.push(":".into());
            let _ = writeln!(
                out,
                "<text x=\"8\" y=\"{}\" font-weight=\"bold\">[{}]</text>",
                top + 14,
                head.join(", ")
            );
        }
        let grid_top = top + slice_head + col_head;
        for j in 0..cols {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{j}</text>",
                left + j * cw + cw / 2,
                grid_top - 5
            );
        }
        for i in 0..rows {
            if rank >= 2 {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#555\">{i}</text>",
                    left - 6,
                    grid_top + i * ch + ch / 2 + 4
                );
            }
            for j in 0..cols {
                let k = slice * rows * cols + i * cols + j;
                let (text, colour) = cells
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| ("-".into(), "#ffffff".into()));
                let (x, y) = (left + j * cw, grid_top + i * ch);
                let _ = writeln!(
                    out,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{cw}\" height=\"{ch}\" fill=\"{colour}\" stroke=\"#333\" stroke-width=\"0.5\"/>"
                );
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    x + cw / 2,
                    y + ch / 2 + 4,
                    xml_escape(&text)
                );
            }
        }
        slice += 1;
    });
    out.push_str("</svg>\n");
    out
}

/// The element offsets of a shared layout (swizzle applied) as an aligned grid, drawn like
/// [`grid`]. Ends with a newline.
pub fn shared_grid(s: &SharedLayout) -> String {
    let n = s.num_elements();
    if n > MAX_DRAWN_ELEMENTS {
        return too_large(n);
    }
    let mut cells = Vec::with_capacity(n);
    for_each_index(s.shape(), |idx| {
        cells.push(
            s.offset(idx)
                .map_or_else(|_| "-".to_string(), |o| o.to_string()),
        );
    });
    draw(s.shape(), &cells)
}

/// Facts about a shared layout, one per line: `shape: [8, 64]`, `size: 512` (elements
/// spanned), `swizzle: Swizzle(3,3,3)` or `swizzle: none`, and
/// `canonical: row_major(8,64).swizzle(3,3,3)`. Ends with a newline.
pub fn shared_summary(s: &SharedLayout) -> String {
    let sw = s
        .swizzle()
        .map_or_else(|| "none".to_string(), |z| z.to_string());
    format!(
        "shape: {:?}\nsize: {}\nswizzle: {}\ncanonical: {}\n",
        s.shape(),
        s.size(),
        sw,
        s
    )
}
