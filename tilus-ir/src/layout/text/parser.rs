//! The recursive-descent parser of register-layout expressions.

use super::lexer::{capped_product, extent, Cursor, Tok, MAX_LAYOUT_SIZE};
use super::LayoutParseError;
use crate::layout::{
    column_local_ranked, column_spatial_ranked, concat, left_divide, local_ranked, replicated,
    spatial_ranked, RegisterLayout,
};

/// Parses a register-layout expression (see the [module documentation](super)).
///
/// ```
/// use tilus_ir::layout::text::parse_layout;
/// let l = parse_layout("local(2,1).spatial(4,8)").unwrap();
/// assert_eq!(l.shape(), &[8, 8]);
/// assert_eq!(l.to_string(), "local(2,1).spatial(4,8)");
/// ```
pub fn parse_layout(src: &str) -> Result<RegisterLayout, LayoutParseError> {
    let mut cur = Cursor::new(src)?;
    let mut p = Parser {
        cur: &mut cur,
        depth: 0,
    };
    let l = p.layout()?;
    p.cur
        .finish("`*`, `/`, `.` or end of input after the layout")?;
    Ok(l)
}

/// The deepest nesting of parentheses and calls accepted (keeps recursion bounded).
const MAX_DEPTH: usize = 128;

const PRIMS: [&str; 5] = [
    "local",
    "spatial",
    "column_local",
    "column_spatial",
    "replicated",
];

struct Parser<'c, 'a> {
    cur: &'c mut Cursor<'a>,
    depth: usize,
}

/// Checks that a layout with these counts stays within [`MAX_LAYOUT_SIZE`].
fn check_sizes(
    cur: &Cursor<'_>,
    col: usize,
    what: &str,
    elements: u128,
    threads: u128,
    slots: u128,
) -> Result<(), LayoutParseError> {
    let cap = u128::from(MAX_LAYOUT_SIZE);
    for (n, name) in [
        (elements, "elements"),
        (threads, "threads"),
        (slots, "register slots"),
    ] {
        if n > cap {
            return Err(cur.error_at(
                col,
                format!(
                    "{what} would have {n} {name}, more than the cap of 2^24 = {MAX_LAYOUT_SIZE}"
                ),
            ));
        }
    }
    Ok(())
}

fn counts(l: &RegisterLayout) -> (u128, u128, u128) {
    (
        l.num_elements() as u128,
        l.num_threads() as u128,
        l.local_size() as u128,
    )
}

impl Parser<'_, '_> {
    fn enter(&mut self) -> Result<(), LayoutParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let col = self.cur.peek().col;
            return Err(self
                .cur
                .error_at(col, format!("expression nested more than {MAX_DEPTH} deep")));
        }
        Ok(())
    }

    /// `layout := term (('*' | '/') term)*`
    fn layout(&mut self) -> Result<RegisterLayout, LayoutParseError> {
        self.enter()?;
        let mut acc = self.term()?;
        loop {
            let op = self.cur.peek().clone();
            match op.tok {
                Tok::Star => {
                    self.cur.bump();
                    let rhs = self.term()?;
                    acc = self.compose(&acc, &rhs, op.col, "`*`")?;
                }
                Tok::Slash => {
                    self.cur.bump();
                    let rhs = self.term()?;
                    acc = acc
                        .divide(&rhs)
                        .map_err(|e| self.cur.error_at(op.col, format!("cannot divide: {e}")))?;
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(acc)
    }

    fn compose(
        &self,
        a: &RegisterLayout,
        b: &RegisterLayout,
        col: usize,
        what: &str,
    ) -> Result<RegisterLayout, LayoutParseError> {
        let (ea, ta, la) = counts(a);
        let (eb, tb, lb) = counts(b);
        check_sizes(
            self.cur,
            col,
            &format!("the composition {what}"),
            ea * eb,
            ta * tb,
            la * lb,
        )?;
        Ok(a.compose(b))
    }

    /// `term := atom ('.' prim_call)*`
    fn term(&mut self) -> Result<RegisterLayout, LayoutParseError> {
        let mut acc = self.atom()?;
        while self.cur.peek().tok == Tok::Dot {
            self.cur.bump();
            let at = self.cur.peek().clone();
            match &at.tok {
                Tok::Ident(name) if PRIMS.contains(&name.as_str()) => {}
                _ => {
                    return Err(self.cur.expected(
                        "a primitive (`local`, `spatial`, `column_local`, `column_spatial` or `replicated`) after `.`",
                    ))
                }
            }
            let prim = self.prim_call()?;
            acc = self.compose(&acc, &prim, at.col, "`.`")?;
        }
        Ok(acc)
    }

    fn atom(&mut self) -> Result<RegisterLayout, LayoutParseError> {
        let t = self.cur.peek().clone();
        match &t.tok {
            Tok::LParen => {
                self.cur.bump();
                let l = self.layout()?;
                self.cur
                    .expect(&Tok::RParen, "`)` to close the parenthesis")?;
                Ok(l)
            }
            Tok::Ident(name) => match name.as_str() {
                n if PRIMS.contains(&n) => self.prim_call(),
                "concat" => {
                    self.open("concat")?;
                    let a = self.layout()?;
                    self.cur.expect(&Tok::Comma, "`,` after the first layout")?;
                    let b = self.layout()?;
                    self.cur.expect(&Tok::RParen, "`)` after the second layout")?;
                    let (ea, ta, la) = counts(&a);
                    let (eb, tb, lb) = counts(&b);
                    check_sizes(self.cur, t.col, "concat", ea * eb, ta * tb, la * lb)?;
                    Ok(concat(&a, &b))
                }
                "left_divide" => {
                    self.open("left_divide")?;
                    let a = self.layout()?;
                    self.cur.expect(&Tok::Comma, "`,` after the first layout")?;
                    let b = self.layout()?;
                    self.cur.expect(&Tok::RParen, "`)` after the second layout")?;
                    left_divide(&a, &b)
                        .map_err(|e| self.cur.error_at(t.col, format!("cannot left_divide: {e}")))
                }
                "reduce" => {
                    self.open("reduce")?;
                    let a = self.layout()?;
                    self.cur.expect(&Tok::Comma, "`,` after the layout")?;
                    self.cur.expect_keyword("dims")?;
                    let dims: Vec<usize> = self
                        .cur
                        .int_list("the reduced dimensions")?
                        .into_iter()
                        .map(|(v, _)| usize::try_from(v).unwrap_or(usize::MAX))
                        .collect();
                    let mut keepdims = false;
                    if self.cur.eat(&Tok::Comma) {
                        self.cur.expect_keyword("keepdims")?;
                        keepdims = self.cur.bool("`true` or `false`")?;
                    }
                    self.cur.expect(&Tok::RParen, "`)` or `, keepdims=` after the dims")?;
                    a.reduce(&dims, keepdims)
                        .map_err(|e| self.cur.error_at(t.col, format!("cannot reduce: {e}")))
                }
                "register_layout" => self.register_layout(t.col),
                other => Err(self.cur.error_at(
                    t.col,
                    format!(
                        "unknown layout `{other}`; expected a primitive (`local`, `spatial`, `column_local`, `column_spatial`, `replicated`), `concat`, `reduce`, `left_divide`, `register_layout` or `(`"
                    ),
                )),
            },
            _ => Err(self.cur.expected("a layout")),
        }
    }

    /// Consumes `name (`.
    fn open(&mut self, name: &str) -> Result<(), LayoutParseError> {
        self.cur.bump();
        self.cur
            .expect(&Tok::LParen, &format!("`(` after `{name}`"))?;
        Ok(())
    }

    /// `prim_call`
    fn prim_call(&mut self) -> Result<RegisterLayout, LayoutParseError> {
        let t = self.cur.peek().clone();
        let name = match &t.tok {
            Tok::Ident(n) => n.clone(),
            _ => return Err(self.cur.expected("a primitive")),
        };
        self.open(&name)?;
        let mut shape = Vec::new();
        let mut ranks: Option<Vec<usize>> = None;
        let mut threads: Option<(u64, usize)> = None;
        loop {
            if shape.is_empty() {
                let (v, col) = self.cur.int("an extent")?;
                shape.push(extent(self.cur, v, col)?);
            } else if name == "replicated" && self.cur.at_keyword("threads") {
                self.cur.expect_keyword("threads")?;
                threads = Some(self.cur.int("the number of threads")?);
                self.cur.expect(&Tok::RParen, "`)` after `threads=`")?;
                break;
            } else if name != "replicated" && self.cur.at_keyword("ranks") {
                self.cur.expect_keyword("ranks")?;
                let list = self.cur.int_list("the ranks")?;
                ranks = Some(
                    list.into_iter()
                        .map(|(v, _)| usize::try_from(v).unwrap_or(usize::MAX))
                        .collect(),
                );
                self.cur.expect(&Tok::RParen, "`)` after `ranks=[...]`")?;
                break;
            } else {
                let what = if name == "replicated" {
                    "an extent or `threads=`"
                } else {
                    "an extent or `ranks=`"
                };
                let (v, col) = self.cur.int(what)?;
                shape.push(extent(self.cur, v, col)?);
            }
            if self.cur.eat(&Tok::RParen) {
                break;
            }
            self.cur.expect(&Tok::Comma, "`)` or `,` after argument")?;
        }
        let elements = capped_product(self.cur, shape.iter().copied(), "element count", t.col)?;
        let _ = elements;
        let fail = |e: crate::layout::LayoutError| {
            self.cur.error_at(t.col, format!("invalid `{name}`: {e}"))
        };
        if name == "replicated" {
            let Some((r, rcol)) = threads else {
                return Err(self.cur.error_at(
                    t.col,
                    "`replicated` needs a `threads=` argument, e.g. `replicated(4, threads=2)`",
                ));
            };
            let r = extent(self.cur, r, rcol)?;
            return Ok(replicated(&shape, r));
        }
        let ranks = ranks.unwrap_or_else(|| (0..shape.len()).collect());
        match name.as_str() {
            "local" => local_ranked(&shape, &ranks),
            "spatial" => spatial_ranked(&shape, &ranks),
            "column_local" => column_local_ranked(&shape, &ranks),
            _ => column_spatial_ranked(&shape, &ranks),
        }
        .map_err(fail)
    }

    /// `register_layout(shape=[..], modes=[..], spatial=[..], local=[..])`
    fn register_layout(&mut self, col: usize) -> Result<RegisterLayout, LayoutParseError> {
        self.open("register_layout")?;
        self.cur.expect_keyword("shape")?;
        let shape = self.extents("the shape")?;
        self.cur.expect(&Tok::Comma, "`,` after the shape")?;
        self.cur.expect_keyword("modes")?;
        let modes = self.extents("the modes")?;
        self.cur.expect(&Tok::Comma, "`,` after the modes")?;
        self.cur.expect_keyword("spatial")?;
        let spatial_items = self.cur.signed_list("the spatial list")?;
        self.cur.expect(&Tok::Comma, "`,` after the spatial list")?;
        self.cur.expect_keyword("local")?;
        let local_items = self.cur.int_list("the local list")?;
        self.cur.expect(&Tok::RParen, "`)` after the local list")?;

        capped_product(self.cur, shape.iter().copied(), "element count", col)?;
        capped_product(self.cur, modes.iter().copied(), "product of the modes", col)?;
        let mut spatial = Vec::with_capacity(spatial_items.len());
        let mut reps: Vec<usize> = Vec::new();
        for (v, vcol) in spatial_items {
            if v < 0 {
                let r = extent(self.cur, v.unsigned_abs(), vcol)?;
                reps.push(r);
            } else if v as u64 >= modes.len() as u64 {
                return Err(self.cur.error_at(
                    vcol,
                    format!(
                        "spatial entry {v} is not a mode id (there are {} modes)",
                        modes.len()
                    ),
                ));
            }
            spatial.push(v);
        }
        capped_product(self.cur, reps, "number of replicated threads", col)?;
        let mut local = Vec::with_capacity(local_items.len());
        for (v, vcol) in local_items {
            if v >= modes.len() as u64 {
                return Err(self.cur.error_at(
                    vcol,
                    format!(
                        "local entry {v} is not a mode id (there are {} modes)",
                        modes.len()
                    ),
                ));
            }
            local.push(v as usize);
        }
        let l = RegisterLayout::new(shape, modes, spatial, local)
            .map_err(|e| self.cur.error_at(col, e.to_string()))?;
        check_sizes(
            self.cur,
            col,
            "register_layout",
            0,
            l.num_threads() as u128,
            0,
        )?;
        Ok(l)
    }

    fn extents(&mut self, what: &str) -> Result<Vec<usize>, LayoutParseError> {
        self.cur
            .int_list(what)?
            .into_iter()
            .map(|(v, col)| extent(self.cur, v, col))
            .collect()
    }
}
