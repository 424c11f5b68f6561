//! The `tandem` command line. Each subcommand is a small module; errors reach
//! the user through anyhow with the context that names what failed.

mod check_config;
mod import_isc;
mod init;
mod leases;
mod pair;
mod reservation;
mod serve;
mod status_view;
mod witness;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_CONFIG: &str = "/etc/tandem/tandem.toml";

#[derive(Parser)]
#[command(
    name = "tandem",
    version,
    about = "DHCPv4 server that runs as an active-active failover pair"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// Configuration file (TOML).
    #[arg(short, long, default_value = DEFAULT_CONFIG)]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until SIGTERM or SIGINT.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
        /// Log filter, e.g. "info" or "tandem=debug" (overrides RUST_LOG).
        #[arg(long)]
        log: Option<String>,
        /// Log lines as text (for a person) or JSON objects, one per line (for log shippers).
        #[arg(long, value_enum, default_value_t = serve::LogFormat::Text)]
        log_format: serve::LogFormat,
    },
    /// Create the lease database of a new installation (once, before the first `serve`). A
    /// server that later finds its database missing treats it as lost, not as new: it
    /// re-learns leases from renewing clients and gives no new address for the longest lease
    /// time (see `end-relearn`).
    Init {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// End the running server's wait after a lost database, so it gives new addresses again.
    /// Only when no client can still hold a lease the lost database knew.
    EndRelearn {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Validate a configuration file; exits non-zero naming the key and line of each problem.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// List the leases in the database (works while the server runs).
    Leases {
        #[command(flatten)]
        config: ConfigArg,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the failover state of the running server: partner, contact, clock offset, pools.
    Status {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Tell the running server its partner is down, so it may take over the partner's addresses
    /// (after MCLT). Only when the partner is truly down: both serving alone can double-allocate.
    PartnerDown {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Move from ISC dhcpd (docs/MIGRATION.md). With --leases: import a dhcpd.leases file into
    /// this configuration's new lease database, failover states and times included (the last
    /// entry for an address wins, as in dhcpd), reporting counts by binding state and every
    /// line it skipped; all or nothing. With --dhcpd-conf: translate a dhcpd.conf into
    /// tandem.toml, listing with line numbers what it could not translate.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["leases", "dhcpd_conf"])))]
    ImportIsc {
        #[command(flatten)]
        config: ConfigArg,
        /// The dhcpd.leases file (copy it from the ISC server while dhcpd is stopped).
        #[arg(long)]
        leases: Option<PathBuf>,
        /// The dhcpd.conf to translate; the TOML goes to stdout or --output.
        #[arg(long)]
        dhcpd_conf: Option<PathBuf>,
        /// With --dhcpd-conf: write the TOML to this new file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// With --dhcpd-conf and --output: the directory for the DDNS TSIG keys' secrets,
        /// one new file (mode 0600) per `key` block; the TOML names them there.
        #[arg(long, default_value = "/etc/tandem")]
        key_dir: PathBuf,
        /// With --leases: read and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Planned maintenance of this server (a reboot, an upgrade): `start` hands every client to
    /// the partner, which takes over in PARTNER-DOWN, and this server serves no one; `stop` (or
    /// restarting the server) catches up with the partner and serves again. Needs both peers
    /// in NORMAL and connected.
    Maintenance {
        /// `start` or `stop`.
        #[arg(value_enum)]
        action: pair::MaintenanceAction,
        #[command(flatten)]
        config: ConfigArg,
        /// Print the server's JSON answer instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Make the running server re-read its configuration file (as SIGHUP does) and say what
    /// it applied: options, lease times, reservations, rate limits and added pools take
    /// effect at once; a change that needs a restart (sockets, database, [failover], a pool
    /// removed or resized under leases) is refused by key and the old configuration keeps running.
    Reload {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Add, remove or list runtime reservations on the running server (kept in its lease
    /// database and replicated to the partner; the configuration file is not edited).
    Reservation {
        #[command(subcommand)]
        action: reservation::ReservationAction,
    },
    /// Run the witness of a pair on a third host (`[failover] witness` on both peers): it
    /// answers each peer's heartbeat with how long it has not heard the other, so that a peer
    /// declares its partner down by itself only when the witness cannot hear it either.
    Witness {
        /// UDP address to listen on, with an optional port (647 when absent).
        #[arg(long, default_value = "0.0.0.0")]
        listen: String,
        /// The pair's key file (the peers' `failover.secret_file`); mode 0600.
        #[arg(long, default_value = "/etc/tandem/peer.key")]
        secret_file: PathBuf,
        /// Log filter, e.g. "info" or "tandem=debug" (overrides RUST_LOG).
        #[arg(long)]
        log: Option<String>,
        /// Log lines as text or JSON objects, one per line.
        #[arg(long, value_enum, default_value_t = serve::LogFormat::Text)]
        log_format: serve::LogFormat,
    },
    /// Make a new random pre-shared key for `failover.secret_file`: printed, or written to a
    /// new file with mode 0600 (the server refuses a key file that group or others can read).
    Keygen {
        /// Write the key to this new file (mode 0600) instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Parses the command line and runs the subcommand. Returns the subcommand's own
/// exit code (e.g. 2 from `check-config` for an invalid file); an error is printed
/// to stderr with its context chain and gives exit status 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            config,
            log,
            log_format,
        } => serve::run(&config.config, log.as_deref(), log_format),
        Command::Init { config } => init::init(&config.config),
        Command::EndRelearn { config } => init::end_relearn(&config.config),
        Command::CheckConfig { config } => check_config::run(&config.config),
        Command::Leases { config, json } => leases::run(&config.config, json),
        Command::Status { config, json } => pair::status(&config.config, json),
        Command::PartnerDown { config } => pair::partner_down(&config.config),
        Command::Reload { config } => pair::reload(&config.config),
        Command::Maintenance {
            action,
            config,
            json,
        } => pair::maintenance(&config.config, action, json),
        Command::ImportIsc {
            config,
            leases,
            dhcpd_conf,
            output,
            key_dir,
            dry_run,
        } => match (leases, dhcpd_conf) {
            (Some(l), _) => import_isc::run(&config.config, &l, dry_run),
            (None, Some(c)) => import_isc::translate(&c, output.as_deref(), &key_dir),
            (None, None) => unreachable!("clap requires --leases or --dhcpd-conf"),
        },
        Command::Keygen { output } => pair::keygen(output.as_deref()),
        Command::Witness {
            listen,
            secret_file,
            log,
            log_format,
        } => witness::run(&listen, &secret_file, log.as_deref(), log_format),
        Command::Reservation { action } => reservation::run(action),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tandem: {e:#}");
            ExitCode::FAILURE
        }
    }
}
