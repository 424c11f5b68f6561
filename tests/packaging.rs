//! The Debian package and its unit (issue 16, packaging/README.md): `cargo
//! deb` packs the binary this test run built; the package's files,
//! conffiles and maintainer scripts are checked, the unit as installed passes
//! `systemd-analyze verify` and keeps its hardening, the shipped config is
//! valid, and `serve` tells systemd READY only once it can answer.

mod common;

use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const UNIT: &str = "usr/lib/systemd/system/tandem.service";
const WITNESS_UNIT: &str = "usr/lib/systemd/system/tandem-witness.service";

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn have(tool: &str, probe: &[&str]) -> bool {
    Command::new(tool)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Packs the binary of this test build (`--no-build`, the dev profile: the
/// contents are what is checked; `cargo deb` alone makes a release package).
fn build_package(out: &Path) -> std::path::PathBuf {
    let (ok, _, err) = run(Command::new("cargo")
        .args(["deb", "--no-build", "--profile", "dev", "--output"])
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert!(ok, "cargo deb: {err}");
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("cargo deb wrote a .deb")
}

#[test]
fn the_package_holds_the_server_its_hardened_unit_and_a_conffile() {
    let tools = [
        ("cargo-deb", vec!["deb", "--version"]),
        ("dpkg-deb", vec!["--version"]),
        ("systemd-analyze", vec!["--version"]),
    ];
    for (tool, probe) in &tools {
        let cmd = if *tool == "cargo-deb" { "cargo" } else { tool };
        if !have(cmd, probe) {
            eprintln!(
                "SKIPPED the_package_holds_the_server_its_hardened_unit_and_a_conffile: \
                 {tool} is not installed (.ci/run installs it)"
            );
            return;
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let deb = build_package(tmp.path());
    let field = |f: &str| run(Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg(f)).1;
    assert_eq!(field("Package").trim(), "tandem");
    assert!(field("Depends").contains("adduser"), "{}", field("Depends"));

    let root = tmp.path().join("root");
    let control = tmp.path().join("control");
    assert!(run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root)).0);
    assert!(run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control)).0);
    for f in [
        "usr/bin/tandem",
        UNIT,
        "etc/tandem/tandem.toml",
        "usr/share/doc/tandem/examples/pair-a.toml",
        "usr/share/doc/tandem/examples/pair-b.toml",
        "usr/share/doc/tandem/examples/campus-a.toml",
        "usr/share/doc/tandem/examples/campus-b.toml",
        "usr/share/doc/tandem/packaging.md",
        "usr/share/doc/tandem/grafana-dashboard.json",
        "usr/share/doc/tandem/OPERATIONS.md",
        "usr/share/doc/tandem/MIGRATION.md",
        WITNESS_UNIT,
    ] {
        assert!(root.join(f).is_file(), "the package lacks /{f}");
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(
        read(&control.join("conffiles")).trim(),
        "/etc/tandem/tandem.toml"
    );
    let postinst = read(&control.join("postinst"));
    assert!(postinst.contains("adduser --system --group"), "{postinst}");
    assert!(
        !postinst.contains("deb-systemd-invoke start") && !postinst.contains("enable --now"),
        "installed, not started until configured: {postinst}"
    );
    assert!(read(&control.join("postrm")).contains("rm -rf /var/lib/tandem"));

    let (ok, out, err) = run(Command::new(root.join("usr/bin/tandem"))
        .args(["check-config", "-c"])
        .arg(root.join("etc/tandem/tandem.toml")));
    assert!(ok, "the shipped config is valid: {out}{err}");

    verify_unit(&root);
}

/// `systemd-analyze verify` on the unit as installed (the host's targets
/// and kill(1) copied into the root so that `--root` resolves what the unit
/// names), and its offline security score.
fn verify_unit(root: &Path) {
    let units = root.join("usr/lib/systemd/system");
    for e in std::fs::read_dir("/usr/lib/systemd/system").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "target") {
            std::fs::copy(&p, units.join(p.file_name().unwrap())).unwrap();
        }
    }
    // ExecReload's kill(1), which the unit names by its path on Debian
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/kill", bin.join("kill")).expect("/bin/kill on this host");
    let unit = root.join(UNIT);
    for u in [&unit, &root.join(WITNESS_UNIT)] {
        let (ok, out, err) = run(Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.display()))
            .arg(u));
        assert!(
            ok && out.is_empty() && err.is_empty(),
            "verify {u:?}: {out}{err}"
        );
    }
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=tandem",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_INET AF_UNIX AF_PACKET AF_NETLINK",
        "SystemCallFilter=@system-service",
        "StateDirectory=tandem",
        "RuntimeDirectory=tandem",
    ] {
        assert!(text.lines().any(|l| l == line), "the unit lacks {line}");
    }
    let (_, out, err) = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(format!("--root={}", root.display()))
        .arg(&unit));
    let all = format!("{out}{err}");
    let score: f64 = all
        .split("Overall exposure level for tandem.service:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {all}"));
    assert!(score <= 2.0, "exposure {score} (was 1.6): {all}");
}

#[test]
fn serve_tells_systemd_ready_only_once_it_answers_and_stopping_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("t.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\nname = \"n\"\ninterfaces = [\"lo\"]\nlease_db = \"{d}/l.sqlite\"\n\
             control_socket = \"{d}/c.sock\"\nport = {p}\nclient_port = {p}\n\
             server_id = \"10.99.0.2\"\n\n[[subnet]]\ncidr = \"10.99.0.0/24\"\n\
             pools = [\"10.99.0.10-10.99.0.20\"]\nlease_time = \"1h\"\n",
            d = dir.path().display(),
            p = free_port()
        ),
    )
    .unwrap();
    let notify = dir.path().join("notify");
    let sock = UnixDatagram::bind(&notify).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let env = [("NOTIFY_SOCKET", notify.as_path())];
    let mut server = Server::start_with(&cfg, &dir.path().join("log"), &[], &env);
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).expect("READY within 20 s");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.lines().any(|l| l == "READY=1"), "{msg}");
    assert!(
        status(&cfg).is_some(),
        "the control socket answers once READY is sent"
    );
    assert!(server.stop(), "clean stop");
    let n = sock.recv(&mut buf).expect("STOPPING at shutdown");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
}
