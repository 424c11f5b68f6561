//! A real BIND 9 (`named`) for the DDNS lab tests: one forward and one
//! reverse zone that accept updates signed with a TSIG key made by
//! `tsig-keygen`, run in a lab namespace and killed with it; `dig` reads
//! the records back.
#![allow(dead_code)]

use super::netns::{self, Lab};
use super::setup::read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The tools these tests need besides the lab's.
pub const TOOLS: [&str; 3] = ["named", "tsig-keygen", "dig"];

/// A running `named`: where it listens and the key file tandem reads.
pub struct Bind {
    pub ns: String,
    pub addr: String,
    pub key_file: PathBuf,
    pub log: PathBuf,
}

const ZONE: &str = "$TTL 300
@ IN SOA ns.ORIGIN. admin.ORIGIN. 1 3600 600 86400 300
@ IN NS ns.ORIGIN.
ns IN A ADDR
";

/// Starts `named` in namespace `ns` (which has `addr`) for `forward` and
/// `reverse`, its files in `dir`. Returns once it answers.
pub fn start(lab: &mut Lab, ns: &str, addr: &str, dir: &Path, zones: [&str; 2]) -> Bind {
    let key = netns::run(&["tsig-keygen", "-a", "hmac-sha256", "tandem"]);
    let key_file = dir.join("tandem.key");
    std::fs::write(&key_file, &key.stdout).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let d = dir.display();
    let mut conf = format!(
        "options {{ directory \"{d}\"; listen-on port 53 {{ {addr}; }}; listen-on-v6 {{ none; }};
  recursion no; pid-file \"{d}/named.pid\"; session-keyfile \"{d}/session.key\"; }};
controls {{ }};
include \"{}\";
",
        key_file.display()
    );
    for z in zones {
        let file = dir.join(format!("{z}.zone"));
        std::fs::write(&file, ZONE.replace("ORIGIN", z).replace("ADDR", addr)).unwrap();
        conf.push_str(&format!(
            "zone \"{z}\" {{ type primary; file \"{}\"; allow-update {{ key tandem; }}; }};\n",
            file.display()
        ));
    }
    let conf_file = dir.join("named.conf");
    std::fs::write(&conf_file, conf).unwrap();
    let log = dir.join("named.log");
    lab.spawn(
        ns,
        &["named", "-g", "-n", "1", "-c", conf_file.to_str().unwrap()],
        &log,
    );
    let bind = Bind {
        ns: ns.to_string(),
        addr: addr.to_string(),
        key_file,
        log,
    };
    let t0 = std::time::Instant::now();
    while !bind.dig(lab, zones[0], "SOA").contains("admin") {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "named did not answer:\n{}",
            read(&bind.log)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    bind
}

impl Bind {
    /// `dig +short NAME TYPE` against this server, from its namespace.
    pub fn dig(&self, lab: &Lab, name: &str, rtype: &str) -> String {
        let at = format!("@{}", self.addr);
        let out = lab.exec(
            &self.ns,
            &["dig", "+short", "+time=1", "+tries=1", &at, name, rtype],
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until `dig NAME TYPE` answers `want` ("" for no record).
    pub fn wait_record(&self, lab: &Lab, name: &str, rtype: &str, want: &str, secs: u64) {
        let mut last = String::new();
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(secs) {
            last = self.dig(lab, name, rtype);
            if last == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "{name} {rtype}: wanted {want:?}, DNS has {last:?}\nnamed log:\n{}",
            read(&self.log)
        );
    }
}

/// The `[ddns]` section for tandem: both zones at `bind`, signed.
pub fn ddns_config(bind: &Bind, suffix: &str, reverse: &str) -> String {
    format!(
        r#"
[ddns]
qualifying_suffix = "{suffix}"

[[ddns.key]]
name = "tandem"
secret_file = "{key}"

[[ddns.zone]]
name = "{suffix}"
servers = ["{addr}"]
key = "tandem"

[[ddns.zone]]
name = "{reverse}"
servers = ["{addr}"]
key = "tandem"
"#,
        key = bind.key_file.display(),
        addr = bind.addr
    )
}

/// Writes udhcpc's event script for `tag`; returns it and its events file.
pub fn client_script(dir: &Path, tag: &str) -> (String, PathBuf) {
    let events = dir.join(format!("{tag}.events"));
    let script = dir.join(format!("{tag}.sh"));
    // The address is configured, so that a RELEASE can go out from it.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1 ip=$ip\" >> {}\n[ \"$1\" = bound ] && ip addr add $ip/$subnet dev $interface\nexit 0\n",
            events.display()
        ),
    )
    .unwrap();
    netns::run(&["chmod", "+x", script.to_str().unwrap()]);
    (script.to_str().unwrap().to_string(), events)
}
