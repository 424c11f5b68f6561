//! What a simulator run is asked for ([`Options`], [`Family`]) and what it
//! reports: a [`Summary`] of a seed that held every invariant, or the
//! [`Violation`] that broke one.

/// How one seed's world is built.
#[derive(Clone, Debug)]
pub struct Options {
    /// Simulated clients (the pool has 16 addresses).
    pub clients: usize,
    /// Also inject the faults no failover design survives: partner-down while
    /// the partner is alive, and forward clock jumps.
    pub dangerous: bool,
    /// Keep a trace of every step (for `--replay`).
    pub trace: bool,
    /// Print the trace as it is made (so the servers' own log lines fall in
    /// place) instead of returning it.
    pub live: bool,
    /// Longest delay of a peer frame, seconds (frames stay in order, as on
    /// TCP): a congested or long link skews every clock sample.
    pub link_delay: u64,
    /// A scenario aimed at one dangerous corner, added to the random
    /// faults (`None`: the random faults alone, as every regression seed
    /// was found with).
    pub family: Option<Family>,
}

/// Scenario families: schedules that reach a corner random faults hit
/// rarely (FoundationDB-style fault biasing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    /// The link is cut while one server renews its clients, then that
    /// server dies and the operator declares partner-down on the other:
    /// the survivor knows older expiries than the clients hold, and must
    /// wait MCLT past them before reusing an address (draft-12's
    /// PARTNER-DOWN rule, `failover::mclt::reusable_at`).
    PartnerDownExpiry,
    /// A server's disk fails its commits for a while (full, or an I/O
    /// error): the node must withhold everything that waited on the failed
    /// batches and stop (`node::Output::Halt`); it restarts from what its
    /// disk holds, maybe into the same failure.
    DiskFailure,
    /// The partner's last grants lost: frames from one server are dropped
    /// while it keeps granting from its own free addresses, it dies, and
    /// the operator declares partner-down on the other soon after, with
    /// more clients than addresses: the survivor must wait MCLT before it
    /// gives out the dead partner's free addresses
    /// (`PairPolicy::partner_surely_idle`), which some client may hold.
    PartnerDownFreshGrants,
    /// Planned maintenance (`tandem maintenance`): a server hands its
    /// clients to the partner (SHUTDOWN, the partner in PARTNER-DOWN), then
    /// comes back by `maintenance stop` or by a restart, sometimes with
    /// both put into maintenance at once; the returning server must learn
    /// every binding the partner made before it serves again.
    Maintenance,
    /// Hosts squat on two pool addresses without a lease (`sim::squatted`)
    /// and both servers run the ping check: the pings to them are
    /// answered, the addresses quarantined and the quarantine replicated,
    /// among the random faults. No squatted address may ever be ACKed.
    Squatters,
    /// Both servers update DNS for their clients' names (`[ddns]`, a
    /// simulated DNS server, `sim::dns`): records are added at grants and
    /// removed when bindings end, the status journaled and replicated and
    /// the partner's work taken over in PARTNER-DOWN, among the random
    /// faults.
    Ddns,
    /// Automatic partner-down on client evidence (`auto_partner_down`
    /// with `[failover.partner_down_evidence]`, `failover::evidence`): a
    /// long cut of the peer link while both servers keep serving their
    /// clients (neither may declare the other down), a server frozen as by
    /// SIGSTOP (its inputs wait, then arrive at once), and a server's death
    /// with its clients rebooting (the survivor should declare it down),
    /// among the random faults. No server may declare its partner down by
    /// itself while the partner serves, and two servers that have both
    /// reached their partner since they started are never in PARTNER-DOWN
    /// at once.
    Evidence,
    /// The evidence family with a witness (`[failover] witness`,
    /// `failover::witness`): both servers heartbeat a simulated witness;
    /// one server is cut from its clients, while it still reaches the
    /// witness, inside the long peer-link cut (its clients go unanswered,
    /// so only the witness can tell it is alive); the other is cut from
    /// the witness now and then; the witness may restart. The evidence
    /// family's checks hold, and blind servers may now declare.
    Witness,
    /// tandem beside a model of ISC dhcpd 4.4 over ISC's failover
    /// protocol (`sim::isc`): connection cuts, crashes of either with or
    /// without its database, partner-down on the survivor, client faults;
    /// dhcpd must never be told what makes it shut down or exit.
    Isc,
}

impl Options {
    /// The `tandem-sim` arguments that rebuild this world for a seed:
    /// `--clients C --link-delay D` and the family and danger flags.
    pub fn replay_args(&self) -> String {
        use clap::ValueEnum;
        let mut a = format!(
            "--clients {} --link-delay {}",
            self.clients, self.link_delay
        );
        if self.dangerous {
            a.push_str(" --dangerous");
        }
        if let Some(v) = self.family.and_then(|f| f.to_possible_value()) {
            a.push_str(&format!(" --family {}", v.get_name()));
        }
        a
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            clients: 10,
            dangerous: false,
            trace: false,
            live: false,
            link_delay: 1,
            family: None,
        }
    }
}

/// What a seed that held every invariant did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Events handled.
    pub steps: u64,
    /// DHCPACKs clients received.
    pub acks: u64,
    /// DHCPNAKs clients received.
    pub naks: u64,
    /// Server crashes.
    pub crashes: u64,
    /// Servers that stopped after a failed commit.
    pub halts: u64,
    /// Servers put into maintenance (a `maintenance start` that took).
    pub maintenances: u64,
    /// Peer-link partitions.
    pub partitions: u64,
    /// Pings a squatter answered (the squatters family).
    pub answered_pings: u64,
    /// DNS records added and removed (the ddns family).
    pub dns_records: (u64, u64),
    /// Automatic partner-down decisions (the evidence family).
    pub auto_partner_downs: u64,
    /// Deaths with rebooting clients, and those the survivor declared by
    /// itself before the dead server came back (the evidence family).
    pub deaths: (u64, u64),
    /// Servers frozen (the evidence family).
    pub freezes: u64,
    /// Rare situations the schedule reached, for a sweep to show it did.
    pub reached: Reached,
    /// Faults no design survives (only with `dangerous`).
    pub dangerous_events: u64,
    /// The trace, when asked for.
    pub trace: String,
}

/// Situations a seed's schedule reached, counted so that a sweep (and
/// `tests/sim.rs`) can show its families produce what they claim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// Servers cut from their clients (the witness family).
    pub client_cuts: u64,
    /// Cuts of a server from the witness's reports only.
    pub one_way_witness_cuts: u64,
    /// Peer-link ends closed whose FIN was lost: the other end stayed
    /// open (half-open).
    pub half_open_links: u64,
    /// Freezes and crashes of a server serving blind (after a restart, a
    /// stall or the witness fence).
    pub faults_while_blind: u64,
}

impl Reached {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Reached) {
        self.client_cuts += other.client_cuts;
        self.one_way_witness_cuts += other.one_way_witness_cuts;
        self.half_open_links += other.half_open_links;
        self.faults_while_blind += other.faults_while_blind;
    }
}

/// An invariant broken: where, when and how.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The seed that breaks it (replay with `tandem-sim --replay`).
    pub seed: u64,
    /// The event at which it was seen.
    pub step: u64,
    /// Global simulated time, seconds.
    pub time: u64,
    /// Which invariant, with the addresses and clients involved.
    pub message: String,
    /// The schedule contained a fault the design cannot survive.
    pub dangerous: bool,
    /// The trace up to the violation, when asked for.
    pub trace: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} step {} t={}s: {}{}",
            self.seed,
            self.step,
            self.time,
            self.message,
            if self.dangerous {
                " (dangerous schedule)"
            } else {
                ""
            }
        )
    }
}
