//! cargo-fuzz target: [`tilus_fuzz::layout_text`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tilus_fuzz::layout_text(data));
