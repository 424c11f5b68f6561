//! DNS updates at the edge: each [`Output::Dns`](crate::node::Output) job
//! runs on a task of its own (`ddns::Exchange` says which UPDATE to send
//! where), over UDP, signed with the zone's TSIG key (RFC 8945) and the
//! answer's signature checked. Its result comes back to the node as
//! [`Input::DnsDone`](crate::node::Input). Nothing on the packet path
//! waits for it.

use crate::config::{DdnsConfig, TsigAlgorithm};
use crate::ddns::{DnsJob, Exchange};
use crate::lease::DnsStatus;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, TSigner};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// A finished job: its number and outcome.
pub type DnsResult = (u64, Result<DnsStatus, String>);

/// How long one UPDATE waits for its answer.
const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// Sends per server before the next one is tried.
const TRIES: usize = 2;
/// The TSIG fudge: seconds of clock difference the DNS server accepts.
const FUDGE: u16 = 300;

/// The zones, their keys ready to sign, and where results go.
struct Setup {
    config: DdnsConfig,
    signers: HashMap<String, TSigner>,
}

/// A reloaded `[ddns]` with its keys read, waiting for the node to accept
/// the reload (`None` inside: DDNS turned off).
pub struct DnsSetup(Option<Arc<Setup>>);

/// Runs the node's DNS jobs; results arrive on the receiver [`Updater::new`] returns.
pub struct Updater {
    setup: Option<Arc<Setup>>,
    results: mpsc::UnboundedSender<DnsResult>,
}

impl Updater {
    /// An updater for `config` (`None`: DDNS is off), its key files read
    /// now. Errors: a key file that cannot be read or used, naming it.
    pub fn new(
        config: Option<&DdnsConfig>,
    ) -> Result<(Updater, mpsc::UnboundedReceiver<DnsResult>), String> {
        let (results, rx) = mpsc::unbounded_channel();
        let DnsSetup(setup) = Updater::prepare(config)?;
        Ok((Updater { setup, results }, rx))
    }

    /// Reads the key files of a reloaded `[ddns]`, to
    /// [`install`](Updater::install) once the node has accepted the reload.
    /// Errors: a key file that cannot be read or used, naming it (the
    /// reload is then refused whole).
    pub fn prepare(config: Option<&DdnsConfig>) -> Result<DnsSetup, String> {
        Ok(DnsSetup(config.map(setup).transpose()?.map(Arc::new)))
    }

    /// Takes what [`prepare`](Updater::prepare) read; jobs started from now
    /// on use it.
    pub fn install(&mut self, setup: DnsSetup) {
        self.setup = setup.0;
    }

    /// Starts job `id`; without DDNS configured it fails at once.
    pub fn run(&self, id: u64, job: DnsJob) {
        let results = self.results.clone();
        let Some(setup) = self.setup.clone() else {
            let _ = results.send((id, Err("ddns is not configured".into())));
            return;
        };
        tokio::spawn(async move {
            let outcome = exchange(job, &setup).await;
            let _ = results.send((id, outcome));
        });
    }
}

fn setup(config: &DdnsConfig) -> Result<Setup, String> {
    let mut signers = HashMap::new();
    for k in &config.keys {
        let secret = crate::ddns::key::load(k)?;
        let algorithm = match k.algorithm {
            TsigAlgorithm::HmacSha256 => hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha384 => hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha384,
            TsigAlgorithm::HmacSha512 => hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha512,
        };
        let name = Name::from_str(&format!("{}.", k.name))
            .map_err(|e| format!("ddns key name {:?}: {e}", k.name))?;
        let signer = TSigner::new(secret, algorithm, name, FUDGE)
            .map_err(|e| format!("ddns key {:?}: {e}", k.name))?;
        signers.insert(k.name.clone(), signer);
    }
    Ok(Setup {
        config: config.clone(),
        signers,
    })
}

/// Runs one job to its end. Errors: the step that failed and why.
async fn exchange(job: DnsJob, setup: &Setup) -> Result<DnsStatus, String> {
    let mut x = Exchange::new(job, &setup.config);
    while let Some((message, zone)) = x.next() {
        let signer = zone.key.as_ref().and_then(|k| setup.signers.get(k));
        let mut last = String::new();
        let mut rcode = None;
        for server in zone.servers.iter().flat_map(|s| [*s; TRIES]) {
            match send(message.clone(), server, signer).await {
                Ok(r) => {
                    rcode = Some(r);
                    break;
                }
                Err(e) => last = format!("{server}: {e}"),
            }
        }
        let rcode = rcode.ok_or_else(|| format!("zone {}: {last}", zone.name))?;
        x.answered(rcode).map_err(|e| e.to_string())?;
    }
    Ok(x.result())
}

/// Sends `m` to `server` and returns the answer's RCODE. Errors: no
/// answer in time, an unreadable answer, or a signed request whose answer
/// is not correctly signed.
async fn send(
    mut m: Message,
    server: SocketAddr,
    signer: Option<&TSigner>,
) -> Result<ResponseCode, String> {
    m.metadata.id = u16::from_be_bytes(crate::random::bytes::<2>().map_err(|e| e.to_string())?);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut verifier = match signer {
        Some(s) => m.finalize(s, now).map_err(|e| format!("signing: {e}"))?,
        None => None,
    };
    let bytes = m.to_vec().map_err(|e| format!("encoding: {e}"))?;
    let local: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("an address")
    } else {
        "[::]:0".parse().expect("an address")
    };
    let sock = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
    sock.connect(server).await.map_err(|e| e.to_string())?;
    sock.send(&bytes).await.map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(ANSWER_WAIT, answer_to(&sock, m.metadata.id))
        .await
        .map_err(|_| format!("no answer within {} s", ANSWER_WAIT.as_secs()))??;
    let reply = Message::from_vec(&answer).map_err(|e| format!("unreadable answer: {e}"))?;
    let rcode = reply.metadata.response_code;
    if let Some(v) = &mut verifier
        && let Err(e) = v.verify(&answer)
    {
        // An unsigned error answer (BADKEY, BADSIG) names the refusal.
        return Err(if rcode == ResponseCode::NoError {
            format!("the answer's TSIG does not verify: {e}")
        } else {
            format!("refused: {rcode} (TSIG: {e})")
        });
    }
    Ok(rcode)
}

/// The first datagram on `sock` answering message `id`.
async fn answer_to(sock: &UdpSocket, id: u16) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).await.map_err(|e| e.to_string())?;
        if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
            return Ok(buf[..n].to_vec());
        }
    }
}
