//! The benchmark's reading of perfdhcp's output (`benches/anchors/perf.rs`),
//! tested here because the bench itself has no test harness.

#[allow(dead_code)]
#[path = "../benches/anchors/perf.rs"]
mod perf;
