//! Layouts: where each element of a tile lives (spec/layouts.md).
//!
//! A [`RegisterLayout`] maps `(thread, slot)` pairs to tile indices. It is built from
//! primitives ([`local`], [`spatial`], ...) with composition (`*`), concatenation,
//! reduction and division.

pub mod atoms;
mod error;
mod ops;
mod register;
pub mod render;
pub mod shared;
pub mod text;

pub use error::LayoutError;
pub use ops::{
    auto_local_spatial, column_local, column_local_ranked, column_spatial, column_spatial_ranked,
    concat, left_divide, local, local_ranked, replicated, spatial, spatial_ranked,
};
pub use register::RegisterLayout;
pub use shared::{parse_shared_layout, SharedLayout, SharedLayoutError, Swizzle};
pub use text::{parse_layout, LayoutParseError};
