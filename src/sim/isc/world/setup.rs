//! Building the isc family's world: tandem's config (`protocol =
//! "isc-draft12"`, the role drawn from the seed), dhcpd's matching
//! `failover peer` (MCLT, max-response-delay, max-unacked-updates drawn),
//! clocks within 2 s (NTP), and the clients.

use super::*;
use crate::failover::isc::session::SessionConfig;

/// Where the servers' clocks stand when the global clock reads 0.
const CLOCK_BASE: i64 = 1_000_000;

/// tandem's config for the isc family.
fn tandem_config(primary: bool, mrd: u64) -> Arc<Config> {
    let role = if primary { "primary" } else { "secondary" };
    let text = format!(
        r#"
[server]
name = "tandem"
interfaces = ["sim0"]
lease_db = "/nonexistent"
server_id = "10.0.0.2"
decline_probation = "120s"
offer_hold = "20s"
[failover]
role = "{role}"
protocol = "isc-draft12"
relationship = "sim"
listen = "192.0.2.1:647"
peer = "192.0.2.2:647"
mclt = "{MCLT}s"
split = 128
max_response_delay = "{mrd}s"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.25"]
lease_time = "300s"
min_lease_time = "30s"
max_lease_time = "600s"
authoritative = true
"#
    );
    Arc::new(Config::parse(&text, "sim").expect("the simulator's isc config is valid"))
}

/// The first connection's session settings for `config`.
pub(super) fn session_config(config: &Config) -> SessionConfig {
    SessionConfig::from_config(config).expect("the isc family's config has an ISC partner")
}

/// dhcpd's `failover peer` beside tandem's config: the other role, the
/// same MCLT and pool, its max-unacked-updates (1, 4, 10 or 100) and
/// max-response-delay (15, 20 or 60 s) drawn.
fn dhcpd_config(rng: &mut Rng, primary: bool) -> DhcpdConfig {
    DhcpdConfig {
        primary,
        name: b"sim".to_vec(),
        mclt: MCLT as u32,
        lease_time: 300,
        max_unacked: [1, 4, 10, 100][rng.range(0, 3) as usize],
        max_response_delay: [15, 20, 60][rng.range(0, 2) as usize],
        server_id: Ipv4Addr::new(10, 0, 0, 3),
        pool: (10..=25).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect(),
    }
}

impl World {
    pub(super) fn new(seed: u64, opts: Options) -> World {
        let mut rng = Rng::new(seed);
        let tandem_primary = rng.chance(0.5);
        let mrd = [15, 20, 30][rng.range(0, 2) as usize];
        // ISC takes every time on the wire as it is, with no correction
        // for the clocks' offset (research section 2.4): a pair beside
        // dhcpd runs NTP (docs/MIGRATION.md), so the clocks are within 2 s.
        let offsets = [
            CLOCK_BASE + rng.range(0, 2) as i64,
            CLOCK_BASE + rng.range(0, 2) as i64,
        ];
        let dhcpd_cfg = dhcpd_config(&mut rng, !tandem_primary);
        let client_loss = rng.range(0, 10) as f64 / 100.0;
        let disk_delay = rng.range(0, 2);
        let mut w = World {
            seed,
            opts,
            rng,
            now: 0,
            step: 0,
            seq: 0,
            queue: BTreeMap::new(),
            tandem_cfg: tandem_config(tandem_primary, mrd),
            tandem: None,
            disk: Disk {
                epoch: 1,
                ..Disk::default()
            },
            epochs: 1,
            session: None,
            recover_epoch: None,
            dhcpd_cfg,
            dhcpd: None,
            lease_file: None,
            offsets,
            conn: Conn::default(),
            clients: vec![],
            holders: Default::default(),
            marks: Marks::default(),
            dhcpd_blind: false,
            tandem_fell_in_partner_down: false,
            acked: [HashMap::new(), HashMap::new()],
            client_loss,
            disk_delay,
            chaos: true,
            down_since: [None, None],
            summary: Summary::default(),
            trace: String::new(),
            traced: ["down".into(), "down".into()],
            pending: None,
        };
        w.note(format!(
            "tandem is the {}; dhcpd max-unacked {} max-response-delay {}; tandem max_response_delay {mrd}",
            if tandem_primary { "primary" } else { "secondary" },
            w.dhcpd_cfg.max_unacked,
            w.dhcpd_cfg.max_response_delay
        ));
        w.populate();
        w
    }

    /// Boots both servers and schedules every client's first wake and the
    /// first tick.
    fn populate(&mut self) {
        self.boot_tandem();
        self.boot_dhcpd();
        for c in 0..self.opts.clients {
            let start = self.rng.range(1, 60);
            self.clients.push(Client::new(c, start));
            self.at(start, Ev::ClientWake(c));
        }
        self.at(1, Ev::Tick);
    }

    pub(super) fn boot_tandem(&mut self) {
        let h = Host::boot(
            self.tandem_cfg.clone(),
            self.disk.clone(),
            self.offsets[TANDEM],
            self.now,
            Default::default(),
        );
        self.tandem = Some(h);
        self.down_since[TANDEM] = None;
    }

    pub(super) fn boot_dhcpd(&mut self) {
        let t = self.dhcpd_time(self.now);
        let d = Dhcpd::boot(self.dhcpd_cfg.clone(), self.lease_file.clone(), t);
        self.dhcpd_blind = match self.tandem.as_ref() {
            Some(h) => h.node.state() == Some(crate::failover::State::PartnerDown),
            None => self.tandem_fell_in_partner_down,
        };
        self.dhcpd = Some(d);
        self.down_since[DHCPD] = None;
    }
}
