//! Building a world: the two servers' configs, clocks, disks and clients.

use super::*;

/// Where the servers' clocks stand when the global clock reads 0.
const CLOCK_BASE: i64 = 1000;

/// The ddns family's `[ddns]`: one forward and one reverse zone.
const DDNS: &str = r#"
[ddns]
qualifying_suffix = "sim.example"
[[ddns.zone]]
name = "sim.example"
servers = ["192.0.2.53"]
[[ddns.zone]]
name = "0.0.10.in-addr.arpa"
servers = ["192.0.2.53"]
"#;

/// The evidence family's automatic partner-down (after the silence, in
/// seconds): three clients of the partner unanswered for 10 s (the pool
/// is small).
const EVIDENCE: &str = r#"
[failover.partner_down_evidence]
clients = 3
window = "5m"
secs = 10
"#;

/// The witness family's witness, before the evidence table.
const WITNESS: &str = "witness = \"192.0.2.9:647\"\n";

/// One server's config for `family`, with `max_response_delay` and (where
/// the family sets it) `auto_partner_down` as `timing` gives them, in
/// seconds.
pub(super) fn config(primary: bool, family: Option<Family>, timing: (u64, u64)) -> Arc<Config> {
    let (mrd, silence) = timing;
    let ping = family == Some(Family::Squatters);
    let ddns = family == Some(Family::Ddns);
    let witness = family == Some(Family::Witness);
    let evidence = witness || family == Some(Family::Evidence);
    let (role, sid) = if primary {
        ("primary", "10.0.0.2")
    } else {
        ("secondary", "10.0.0.3")
    };
    let text = format!(
        r#"
[server]
name = "{role}"
interfaces = ["sim0"]
lease_db = "/nonexistent"
server_id = "{sid}"
decline_probation = "120s"
offer_hold = "20s"
{ping}
[failover]
role = "{role}"
listen = "192.0.2.{l}:647"
peer = "192.0.2.{p}:647"
secret_file = "/nonexistent"
mclt = "{MCLT}s"
split = 128
max_response_delay = "{mrd}s"
load_balance_max_secs = 8
{witness}{evidence}
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.25"]
lease_time = "300s"
min_lease_time = "30s"
max_lease_time = "600s"
authoritative = true
{ddns}
"#,
        l = if primary { 1 } else { 2 },
        p = if primary { 2 } else { 1 },
        ddns = if ddns { DDNS } else { "" },
        evidence = if evidence {
            format!("auto_partner_down = \"{silence}s\"{EVIDENCE}")
        } else {
            String::new()
        },
        witness = if witness { WITNESS } else { "" },
        ping = if ping {
            "ping_check = true\nping_timeout = \"300ms\""
        } else {
            ""
        },
    );
    Arc::new(Config::parse(&text, "sim").expect("the simulator's config is valid"))
}

impl World {
    /// A world for `seed`: both servers booted on fresh disks (epochs 1 and
    /// 2), clocks ahead of the global clock, fault rates drawn from the
    /// seed, and `opts.clients` clients waking in the first minute.
    pub(super) fn new(seed: u64, opts: Options) -> World {
        let mut rng = Rng::new(seed);
        let offsets = draw_offsets(&mut rng);
        let faults = Faults::draw(&mut rng);
        let timing = draw_timing(&mut rng, opts.family, opts.link_delay);
        let disk = |epoch| Disk {
            epoch,
            ..Disk::default()
        };
        let mut w = World {
            seed,
            rng,
            now: 0,
            step: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes: [None, None],
            disks: [disk(1), disk(2)],
            offsets,
            link: Link::closed(),
            clients: vec![],
            holders: Default::default(),
            acked: [HashMap::new(), HashMap::new()],
            faults,
            chaos: true,
            dangerous: false,
            summary: Summary::default(),
            trace: String::new(),
            traced_state: [None; 2],
            epochs: 2,
            configs: [
                config(true, opts.family, timing),
                config(false, opts.family, timing),
            ],
            zone: Default::default(),
            wiped: false,
            dead_until: [0; 2],
            death_watch: None,
            both_allocating: None,
            witness: None,
            witness_cut: [0; 2],
            witness_deaf: [0; 2],
            witness_delay: 1,
            pending: None,
            client_cut: [0; 2],
            opts,
        };
        w.populate();
        w
    }

    /// Boots both servers and schedules every client's first wake.
    fn populate(&mut self) {
        for i in 0..2 {
            self.boot(i);
        }
        for c in 0..self.opts.clients {
            let start = self.rng.range(1, 60);
            self.clients.push(Client::new(c, start));
            self.at(start, Ev::ClientWake(c));
        }
        self.at(1, Ev::Tick);
    }

    pub(super) fn boot(&mut self, i: usize) {
        let n = Host::boot(
            self.configs[i].clone(),
            self.disks[i].clone(),
            self.offsets[i],
            self.now,
            self.zone.clone(),
        );
        self.nodes[i] = Some(n);
    }
}

/// Where the servers' clocks stand: ahead of the global clock by 980 to
/// 1020 s, so no local time starts near zero (where it would clamp and
/// make the two clocks look equal to the offset measurement).
fn draw_offsets(rng: &mut Rng) -> [i64; 2] {
    [
        rng.range(0, 40) as i64 - 20 + CLOCK_BASE,
        rng.range(0, 40) as i64 - 20 + CLOCK_BASE,
    ]
}

/// `max_response_delay` and `auto_partner_down`, seconds: the witness
/// family also tries a short silence (the former), and both short enough
/// that the witness's own waits decide; the rest 15 and 60. Draws nothing
/// outside the witness family. The short silence is 5 s, or three times
/// the peer link's delay where that is longer: an operator must set
/// `max_response_delay` above the link's round trip, or a binding update's
/// acknowledgement outlives it and the link closes again and again (the
/// slow-link witness seeds with 5 s and up to 4 s each way, session 20's
/// sweep: 505 of 16,000 never settled in NORMAL).
fn draw_timing(rng: &mut Rng, family: Option<Family>, link_delay: u64) -> (u64, u64) {
    let short = 5.max(3 * link_delay).min(super::witness::MRD_MAX);
    match family {
        Some(Family::Witness) => [(15, 60), (15, 15), (short, short)][rng.range(0, 2) as usize],
        _ => (15, 60),
    }
}

impl Link {
    /// No connection yet, nothing cut.
    fn closed() -> Link {
        Link {
            id: 0,
            open: [false; 2],
            sessions: [None, None],
            blocked: [0; 2],
            last: [0; 2],
        }
    }
}

impl Faults {
    /// The seed's background fault rates: client datagrams lost (0-9 %)
    /// or duplicated (0-4 %), peer frames lost, duplicated or reordered
    /// (0-0.2 %), and a disk that takes 0 or 1 s to commit.
    fn draw(rng: &mut Rng) -> Faults {
        Faults {
            client_loss: rng.range(0, 10) as f64 / 100.0,
            client_dup: rng.range(0, 5) as f64 / 100.0,
            link_loss: rng.range(0, 3) as f64 / 1000.0,
            link_dup: rng.range(0, 2) as f64 / 1000.0,
            link_reorder: rng.range(0, 2) as f64 / 1000.0,
            disk_delay: rng.range(0, 2),
        }
    }
}
