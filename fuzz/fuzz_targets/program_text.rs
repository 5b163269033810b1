//! cargo-fuzz target: [`tilus_fuzz::program_text`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tilus_fuzz::program_text(data));
