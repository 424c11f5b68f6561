#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem::fuzzing::witness_datagram(data));
