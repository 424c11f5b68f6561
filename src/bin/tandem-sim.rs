//! Runs the deterministic pair simulator over many seeds, or replays one.
//!
//!     tandem-sim --seeds 10000 --first 1      run seeds 1..=10000
//!     tandem-sim --replay 4242                print the step-by-step trace of seed 4242
//!     tandem-sim --seeds 500 --dangerous      also inject faults no design survives
//!     tandem-sim --seeds 500 --link-delay 4   peer frames delayed up to 4 s
//!     tandem-sim --seeds 1000000 --jobs 2     a sweep on two threads (default: every core)
//!
//! Exits non-zero if any schedule without a dangerous fault violates an invariant.

use clap::Parser;
use std::process::ExitCode;
use std::time::Instant;
use tandem::sim::{Family, Options, Reached, run};

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
    /// Add a scenario aimed at one dangerous corner to every seed.
    #[arg(long, value_enum)]
    family: Option<Family>,
    /// Threads that share the seeds out (default: every core). Each seed is
    /// still deterministic; only the order of the printed lines varies.
    #[arg(long)]
    jobs: Option<usize>,
}

/// What a sweep found, added up over its threads.
#[derive(Default)]
struct Tally {
    steps: u64,
    failures: u64,
    demonstrated: u64,
    /// Automatic partner-downs, and deaths with rebooting clients (seen,
    /// declared by the survivor before the dead server came back).
    auto_partner_downs: u64,
    deaths: (u64, u64),
    /// Rare situations the schedules reached.
    reached: Reached,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let opts = Options {
        clients: args.clients.max(2),
        dangerous: args.dangerous,
        trace: args.replay.is_some(),
        live: args.replay.is_some(),
        link_delay: args.link_delay,
        family: args.family,
    };
    if let Some(seed) = args.replay {
        return replay(seed, &opts);
    }
    let started = Instant::now();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let Tally {
        steps,
        failures,
        demonstrated,
        auto_partner_downs,
        deaths,
        reached,
    } = sweep(&args, &opts, jobs);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} seeds from {} on {jobs} threads: {failures} violations, {demonstrated} dangerous-schedule failures shown; {steps} steps in {secs:.1} s ({:.0} steps/s)",
        args.seeds,
        args.first,
        steps as f64 / secs.max(1e-9)
    );
    if auto_partner_downs > 0 || deaths.0 > 0 {
        println!(
            "automatic partner-downs: {auto_partner_downs}; deaths with rebooting clients: {}, declared by the survivor: {}",
            deaths.0, deaths.1
        );
    }
    if reached != Reached::default() {
        let r = reached;
        println!(
            "reached: servers cut from their clients {}, one-way witness cuts {}, half-open peer links {}, freezes and crashes while blind {}",
            r.client_cuts, r.one_way_witness_cuts, r.half_open_links, r.faults_while_blind
        );
    }
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs one seed and prints its trace and verdict; fails only on a
/// violation outside dangerous mode (where violations are the point).
fn replay(seed: u64, opts: &Options) -> ExitCode {
    // RUST_LOG=tandem=debug adds the servers' own decisions to the trace.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::io::stdout)
            .without_time()
            .init();
    }
    match run(seed, opts) {
        Ok(s) => {
            print!("{}", s.trace);
            println!(
                "seed {seed}: ok ({} steps, {} acks, {} naks, {} crashes, {} partitions, {} freezes, {} automatic partner-downs)",
                s.steps, s.acks, s.naks, s.crashes, s.partitions, s.freezes, s.auto_partner_downs
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
    }
}

/// Runs seeds `first..first + seeds` on `jobs` threads, each taking the next
/// seed not yet taken, printing every violation as it is found.
fn sweep(args: &Args, opts: &Options, jobs: usize) -> Tally {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};
    let next = AtomicU64::new(args.first);
    let end = args.first + args.seeds;
    let total = Mutex::new(Tally::default());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut mine = Tally::default();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    one_seed(seed, opts, &mut mine);
                }
                let mut t = total.lock().unwrap_or_else(|e| e.into_inner());
                t.steps += mine.steps;
                t.failures += mine.failures;
                t.demonstrated += mine.demonstrated;
                t.auto_partner_downs += mine.auto_partner_downs;
                t.deaths.0 += mine.deaths.0;
                t.deaths.1 += mine.deaths.1;
                t.reached.add(&mine.reached);
            });
        }
    });
    total.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Runs one seed of a sweep into `t`, printing a violation with its replay command.
fn one_seed(seed: u64, opts: &Options, t: &mut Tally) {
    match run(seed, opts) {
        Ok(s) => {
            t.steps += s.steps;
            t.auto_partner_downs += s.auto_partner_downs;
            t.deaths.0 += s.deaths.0;
            t.deaths.1 += s.deaths.1;
            t.reached.add(&s.reached);
        }
        Err(v) if v.dangerous => {
            t.demonstrated += 1;
            t.steps += v.step;
            println!("dangerous schedule broke an invariant, as expected: {v}");
        }
        Err(v) => {
            t.failures += 1;
            t.steps += v.step;
            println!(
                "VIOLATION {v}\n  replay: tandem-sim --replay {} {}",
                v.seed,
                opts.replay_args()
            );
        }
    }
}
