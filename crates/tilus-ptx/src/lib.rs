//! PTX-subset interpreter (under construction).
