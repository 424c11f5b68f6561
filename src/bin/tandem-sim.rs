//! Runs the deterministic pair simulator over many seeds, or replays one.
//!
//!     tandem-sim --seeds 10000 --first 1      run seeds 1..=10000
//!     tandem-sim --replay 4242                print the step-by-step trace of seed 4242
//!     tandem-sim --seeds 500 --dangerous      also inject faults no design survives
//!     tandem-sim --seeds 500 --link-delay 4   peer frames delayed up to 4 s
//!
//! Exits non-zero if any schedule without a dangerous fault violates an invariant.

use clap::Parser;
use std::process::ExitCode;
use std::time::Instant;
use tandem::sim::{Options, run};

#[derive(Parser)]
#[command(
    name = "tandem-sim",
    about = "Deterministic fault simulation of a tandem pair"
)]
struct Args {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first: u64,
    /// Run one seed and print its trace.
    #[arg(long)]
    replay: Option<u64>,
    /// Simulated clients per seed.
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Also inject partner-down while the partner is alive and forward clock jumps.
    #[arg(long)]
    dangerous: bool,
    /// Longest delay of a peer-link frame, seconds.
    #[arg(long, default_value_t = 1)]
    link_delay: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let opts = Options {
        clients: args.clients.max(2),
        dangerous: args.dangerous,
        trace: args.replay.is_some(),
        live: args.replay.is_some(),
        link_delay: args.link_delay,
    };
    if let Some(seed) = args.replay {
        // RUST_LOG=tandem=debug adds the servers' own decisions to the trace.
        if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::io::stdout)
                .without_time()
                .init();
        }
        return match run(seed, &opts) {
            Ok(s) => {
                print!("{}", s.trace);
                println!(
                    "seed {seed}: ok ({} steps, {} acks, {} naks, {} crashes, {} partitions)",
                    s.steps, s.acks, s.naks, s.crashes, s.partitions
                );
                ExitCode::SUCCESS
            }
            Err(v) => {
                print!("{}", v.trace);
                println!("VIOLATION {v}");
                if v.dangerous {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
        };
    }
    let started = Instant::now();
    let (mut steps, mut failures, mut demonstrated) = (0u64, 0u64, 0u64);
    for seed in args.first..args.first + args.seeds {
        match run(seed, &opts) {
            Ok(s) => steps += s.steps,
            Err(v) if v.dangerous => {
                demonstrated += 1;
                steps += v.step;
                println!("dangerous schedule broke an invariant, as expected: {v}");
            }
            Err(v) => {
                failures += 1;
                steps += v.step;
                println!(
                    "VIOLATION {v}\n  replay: tandem-sim --replay {} --clients {} --link-delay {}{}",
                    v.seed,
                    opts.clients,
                    opts.link_delay,
                    if opts.dangerous { " --dangerous" } else { "" }
                );
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} seeds from {}: {failures} violations, {demonstrated} dangerous-schedule failures shown; {steps} steps in {secs:.1} s ({:.0} steps/s)",
        args.seeds,
        args.first,
        steps as f64 / secs.max(1e-9)
    );
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
