//! Host-evaluable integer expressions over a kernel's scalar parameters: grid extents and
//! workspace sizes. The thread IR and the launch contract both use them; neither depends on
//! the other.

/// A host-evaluable integer expression over scalar parameters (grid sizes, workspace sizes).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum GridExpr {
    /// A constant.
    Const(i64),
    /// The value of scalar parameter `i` (tile-function parameter index).
    Param(usize),
    /// `a + b`
    Add(Box<GridExpr>, Box<GridExpr>),
    /// `a - b`
    Sub(Box<GridExpr>, Box<GridExpr>),
    /// `a * b`
    Mul(Box<GridExpr>, Box<GridExpr>),
    /// `a / b` (truncating)
    Div(Box<GridExpr>, Box<GridExpr>),
    /// `a % b`
    Rem(Box<GridExpr>, Box<GridExpr>),
    /// `cdiv(a, b)`
    CeilDiv(Box<GridExpr>, Box<GridExpr>),
    /// `min(a, b)`
    Min(Box<GridExpr>, Box<GridExpr>),
    /// `max(a, b)`
    Max(Box<GridExpr>, Box<GridExpr>),
}

impl GridExpr {
    /// Evaluates with the given integer parameter values (indexed by parameter index;
    /// `None` for pointers and float scalars, which sizes never read). Overflow, division by
    /// zero and a parameter without an integer value give `None`.
    pub fn eval(&self, params: &[Option<i64>]) -> Option<i64> {
        let bin = |a: &GridExpr, b: &GridExpr| Some((a.eval(params)?, b.eval(params)?));
        Some(match self {
            GridExpr::Const(c) => *c,
            GridExpr::Param(i) => (*params.get(*i)?)?,
            GridExpr::Add(a, b) => bin(a, b).and_then(|(a, b)| a.checked_add(b))?,
            GridExpr::Sub(a, b) => bin(a, b).and_then(|(a, b)| a.checked_sub(b))?,
            GridExpr::Mul(a, b) => bin(a, b).and_then(|(a, b)| a.checked_mul(b))?,
            GridExpr::Div(a, b) => bin(a, b).and_then(|(a, b)| a.checked_div(b))?,
            GridExpr::Rem(a, b) => bin(a, b).and_then(|(a, b)| a.checked_rem(b))?,
            GridExpr::CeilDiv(a, b) => {
                let (a, b) = bin(a, b)?;
                if b == 0 {
                    return None;
                }
                (a + b - 1).checked_div(b)?
            }
            GridExpr::Min(a, b) => bin(a, b).map(|(a, b)| a.min(b))?,
            GridExpr::Max(a, b) => bin(a, b).map(|(a, b)| a.max(b))?,
        })
    }
}
