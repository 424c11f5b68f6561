//! ISC dhclient as the lab runs it: with a script of its own (Debian's
//! dhclient-script would rewrite the host's /etc/resolv.conf from inside a
//! network namespace) that logs what the client was given, one line per
//! event (`REASON ip=… mask=… router=… dns=… lease=… sid=…`), and
//! configures the address and default route the way a host would.
#![allow(dead_code)]

use super::netns::Lab;
use super::setup::{field, lines_starting, read};
use std::path::{Path, PathBuf};
use std::process::Output;

pub struct Dhclient {
    conf: PathBuf,
    script: PathBuf,
    leases: PathBuf,
    pid: PathBuf,
    /// The script's event lines.
    pub events: PathBuf,
    /// What a foreground (`spawn`) dhclient prints.
    pub log: PathBuf,
}

impl Dhclient {
    /// Writes the script and `conf` (dhclient.conf's text) into `dir`, where
    /// the lease file, pid file, events and log also live.
    pub fn new(dir: &Path, conf: &str) -> Dhclient {
        let d = Dhclient {
            conf: dir.join("dhclient.conf"),
            script: dir.join("dhclient.sh"),
            leases: dir.join("dhclient.leases"),
            pid: dir.join("dhclient.pid"),
            events: dir.join("dhclient.events"),
            log: dir.join("dhclient.log"),
        };
        std::fs::write(&d.conf, conf).unwrap();
        std::fs::write(
            &d.script,
            format!(
                "#!/bin/sh\n\
                 echo \"$reason ip=$new_ip_address mask=$new_subnet_mask router=$new_routers dns=$new_domain_name_servers lease=$new_dhcp_lease_time sid=$new_dhcp_server_identifier\" >> {}\n\
                 case \"$reason\" in BOUND|REBOOT|RENEW|REBIND) ip addr replace \"$new_ip_address/$new_subnet_mask\" dev \"$interface\"\n\
                 [ -z \"$new_routers\" ] || ip route replace default via \"${{new_routers%% *}}\" ;;\n\
                 RELEASE|EXPIRE|STOP) ip addr flush dev \"$interface\" ;; esac\nexit 0\n",
                d.events.display()
            ),
        )
        .unwrap();
        super::netns::run(&["chmod", "+x", d.script.to_str().unwrap()]);
        d
    }

    /// The command line for eth0 with the mode flags `mode` (`-1`, `-d`,
    /// `-r`, `-x`).
    pub fn args(&self, mode: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec!["dhclient".into(), "-4".into(), "-v".into()];
        for (flag, p) in [
            ("-cf", &self.conf),
            ("-sf", &self.script),
            ("-lf", &self.leases),
            ("-pf", &self.pid),
        ] {
            args.push(flag.into());
            args.push(p.to_str().unwrap().into());
        }
        args.extend(mode.iter().map(|m| m.to_string()));
        args.push("eth0".into());
        args
    }

    /// Runs dhclient with `mode` to completion in `ns`; a failure panics
    /// with dhclient's stderr and `context` (the server's log, say).
    pub fn run(&self, lab: &Lab, ns: &str, mode: &[&str], context: &str) -> Output {
        let args = self.args(mode);
        let out = lab.exec(ns, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "dhclient {mode:?}: {}\n{context}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// dhclient in the foreground (`-d`) in `ns`, printing to `log`;
    /// returns its pid.
    pub fn spawn(&self, lab: &mut Lab, ns: &str) -> u32 {
        let args = self.args(&["-d"]);
        lab.spawn(
            ns,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &self.log,
        )
    }

    /// The event lines of `reason` (`BOUND`, `RENEW`, `REBOOT`...), oldest first.
    pub fn events(&self, reason: &str) -> Vec<String> {
        lines_starting(&self.events, reason)
    }

    /// dhclient kept one address from its first BOUND to the end: every later
    /// event renewed or rebound that same address, and none expired it,
    /// failed or fell back to INIT.
    pub fn check_kept(&self, dhclient_ip: &str) {
        let events = read(&self.events);
        let lost: Vec<&str> = events
            .lines()
            .filter(|l| {
                ["EXPIRE", "FAIL", "STOP", "RELEASE", "TIMEOUT"]
                    .iter()
                    .any(|r| l.starts_with(r))
            })
            .collect();
        assert!(
            lost.is_empty(),
            "dhclient lost its lease: {lost:?}\n{events}"
        );
        let moved: Vec<&str> = events
            .lines()
            .filter(|l| {
                ["BOUND", "RENEW", "REBIND", "REBOOT"]
                    .iter()
                    .any(|r| l.starts_with(r))
            })
            .filter(|l| field(l, "ip") != dhclient_ip)
            .collect();
        assert!(
            moved.is_empty(),
            "dhclient moved off {dhclient_ip}: {moved:?}\n{events}"
        );
    }
}
