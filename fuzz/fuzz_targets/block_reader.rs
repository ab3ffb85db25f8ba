//! cargo-fuzz target `block_reader`; the property is in fuzz/harness.rs (shared with the crash replay test).
#![no_main]

include!("../harness.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| block_reader(data));
