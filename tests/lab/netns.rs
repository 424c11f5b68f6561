//! Throwaway network namespaces for lab tests: a bridge in a "switch"
//! namespace and one veth link per host. Everything is removed on drop, and
//! processes started here are killed by PID.
#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};

/// Why the lab cannot run here, if it cannot. Under `.ci/run`
/// (`TANDEM_LAB_REQUIRED` set), where everything is installed and root,
/// a reason is a failure rather than a skip: a lab test that quietly
/// skipped in CI would pass without running.
pub fn unavailable(tools: &[&str]) -> Option<String> {
    let why = why_unavailable(tools);
    if let Some(why) = &why {
        assert!(
            std::env::var_os("TANDEM_LAB_REQUIRED").is_none(),
            "the lab must run here (TANDEM_LAB_REQUIRED) but cannot: {why}"
        );
    }
    why
}

/// Whether `test` must skip here ([`unavailable`]), having said why.
pub fn skipped(test: &str, tools: &[&str]) -> bool {
    let why = unavailable(tools);
    if let Some(why) = &why {
        eprintln!("SKIPPED {test}: {why}");
    }
    why.is_some()
}

fn why_unavailable(tools: &[&str]) -> Option<String> {
    // SAFETY-free check of the effective uid through `id -u`.
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("needs root for network namespaces".into());
    }
    for t in tools {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "{t} is not installed (bash .ci/run installs what the lab needs)"
            ));
        }
    }
    None
}

pub fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ip -n NS route add ROUTE...`, e.g. `["10.128.0.0/12", "dev", "eth0"]`.
pub fn route(ns: &str, route: &[&str]) {
    let mut args = vec!["ip", "-n", ns, "route", "add"];
    args.extend_from_slice(route);
    run(&args);
}

/// Runs `f` on a thread that entered namespace `ns` and returns what it
/// made: a socket stays in the namespace it was made in, and the test
/// itself stays where it is.
pub fn inside<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    use std::os::fd::AsRawFd;
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("netns file");
        // SAFETY: setns on this thread only, with a valid namespace fd.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .unwrap()
}

/// Sends `sig` (`USR1`, `STOP`...) to `pid` and returns at once.
pub fn kill(pid: u32, sig: &str) {
    run(&["kill", &format!("-{sig}"), &pid.to_string()]);
}

pub struct Lab {
    pub prefix: String,
    pub switch: String,
    hosts: Vec<String>,
    children: Vec<Child>,
    links: usize,
}

impl Lab {
    pub fn new(tag: &str) -> Lab {
        let prefix = format!("t{}{}", tag, std::process::id() % 100_000);
        let switch = format!("{prefix}sw");
        let _ = Command::new("ip").args(["netns", "del", &switch]).output();
        run(&["ip", "netns", "add", &switch]);
        run(&["ip", "-n", &switch, "link", "add", "br0", "type", "bridge"]);
        run(&["ip", "-n", &switch, "link", "set", "br0", "up"]);
        run(&["ip", "-n", &switch, "link", "set", "lo", "up"]);
        Lab {
            prefix,
            switch,
            hosts: Vec::new(),
            children: Vec::new(),
            links: 0,
        }
    }

    /// A host namespace `name` whose link into the bridge is called `ifname`
    /// inside it, with `addr` (CIDR) if given. Returns the namespace name.
    pub fn host(
        &mut self,
        name: &str,
        ifname: &str,
        addr: Option<&str>,
        mac: Option<&str>,
    ) -> String {
        let ns = format!("{}{}", self.prefix, name);
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        run(&["ip", "netns", "add", &ns]);
        self.hosts.push(ns.clone());
        let a = format!("{}{}a", self.prefix, self.hosts.len());
        let b = format!("{}{}b", self.prefix, self.hosts.len());
        run(&["ip", "link", "add", &a, "type", "veth", "peer", "name", &b]);
        run(&["ip", "link", "set", &a, "netns", &ns]);
        run(&["ip", "link", "set", &b, "netns", &self.switch]);
        run(&[
            "ip",
            "-n",
            &self.switch,
            "link",
            "set",
            &b,
            "master",
            "br0",
            "up",
        ]);
        run(&["ip", "-n", &ns, "link", "set", &a, "name", ifname]);
        if let Some(m) = mac {
            run(&["ip", "-n", &ns, "link", "set", ifname, "address", m]);
        }
        run(&["ip", "-n", &ns, "link", "set", ifname, "up"]);
        run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        if let Some(addr) = addr {
            run(&["ip", "-n", &ns, "addr", "add", addr, "dev", ifname]);
        }
        ns
    }

    /// A namespace `name` with only its loopback up, not on the bridge;
    /// removed with the lab. Returns the namespace name.
    pub fn namespace(&mut self, name: &str) -> String {
        let ns = format!("{}{}", self.prefix, name);
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        run(&["ip", "netns", "add", &ns]);
        run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        self.hosts.push(ns.clone());
        ns
    }

    /// A veth link straight from `a` (named `if_a` there) to `b` (`if_b`),
    /// both ends up.
    pub fn veth(&mut self, a: &str, if_a: &str, b: &str, if_b: &str) {
        self.links += 1;
        let (ea, eb) = (
            format!("{}v{}a", self.prefix, self.links),
            format!("{}v{}b", self.prefix, self.links),
        );
        run(&[
            "ip", "link", "add", &ea, "type", "veth", "peer", "name", &eb,
        ]);
        for (e, ns, name) in [(&ea, a, if_a), (&eb, b, if_b)] {
            run(&["ip", "link", "set", e, "netns", ns]);
            run(&["ip", "-n", ns, "link", "set", e, "name", name]);
            run(&["ip", "-n", ns, "link", "set", name, "up"]);
        }
    }

    /// Drops (`on`) or lets through again the UDP datagrams that `ns`
    /// sends from its own sockets to `dst` port 67, with nftables: a
    /// client's unicast RENEW fails, while the broadcast it sends from a
    /// packet socket (REBINDING) still leaves.
    pub fn block_unicast_to(&self, ns: &str, dst: &str, on: bool) {
        let dport = format!("ip daddr {dst} udp dport 67 drop");
        let cmds: Vec<Vec<&str>> = if on {
            vec![
                vec!["nft", "add", "table", "ip", "tandemlab"],
                vec![
                    "nft",
                    "add",
                    "chain",
                    "ip",
                    "tandemlab",
                    "out",
                    "{ type filter hook output priority 0 ; }",
                ],
                vec!["nft", "add", "rule", "ip", "tandemlab", "out", &dport],
            ]
        } else {
            vec![vec!["nft", "delete", "table", "ip", "tandemlab"]]
        };
        for c in cmds {
            let out = self.exec(ns, &c);
            assert!(
                out.status.success(),
                "{c:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Runs a command to completion inside `ns`.
    pub fn exec(&self, ns: &str, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(args);
        Command::new(full[0]).args(&full[1..]).output().unwrap()
    }

    /// Starts a long-running command inside `ns`; it is killed when the lab drops.
    pub fn spawn(&mut self, ns: &str, args: &[&str], log: &std::path::Path) -> u32 {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Sends `sig` to the process started as `pid` and reaps it.
    pub fn signal(&mut self, pid: u32, sig: &str) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status();
        let i = self.children.iter().position(|c| c.id() == pid)?;
        let mut c = self.children.remove(i);
        for _ in 0..200 {
            if let Ok(Some(s)) = c.try_wait() {
                return Some(s);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = c.kill();
        c.wait().ok()
    }

    /// Kills every process still running inside our namespaces (dhclient daemonizes).
    fn kill_ns_processes(&self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.switch)) {
            if let Ok(o) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.kill_ns_processes();
        for ns in self.hosts.iter().chain(std::iter::once(&self.switch)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}
