//! What a CPU block function returns.

/// The block ran to its end.
pub const OK: i32 = 0;
/// A load, store or atomic indexed outside its buffer or outside shared memory.
pub const OUT_OF_BOUNDS: i32 = 1;
/// An integer `/` or `%` by zero.
pub const DIVISION_BY_ZERO: i32 = 2;
/// The threads of a block disagreed on the bounds of a loop, or the condition of an `if`,
/// that contains a barrier (they would not reach the same barriers).
pub const DIVERGENT: i32 = 3;
/// A `for` loop with a step that is not positive.
pub const BAD_STEP: i32 = 4;

/// A sentence for a status code.
pub fn describe(code: i32) -> &'static str {
    match code {
        OK => "ok",
        OUT_OF_BOUNDS => "a memory access outside its buffer or outside shared memory",
        DIVISION_BY_ZERO => "an integer division or remainder by zero",
        DIVERGENT => {
            "threads of a block disagree on the control flow around a barrier (they would not all reach it)"
        }
        BAD_STEP => "a `for` loop with a step that is not positive",
        _ => "an unknown status",
    }
}
