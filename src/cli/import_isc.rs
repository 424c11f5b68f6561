//! `tandem import-isc`: an ISC dhcpd lease file into the configured lease
//! database (`--leases`: reported by state, with every skipped line; all or
//! nothing), or a dhcpd.conf translated into tandem.toml (`--dhcpd-conf`).

use crate::config::Config;
use crate::control::{self, Command};
use crate::lease::sqlite;
use crate::migrate::{import, isc_conf, isc_leases};
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// Reads `leases` (dhcpd.leases) and writes what tandem can hold into the
/// database of the config at `path`, unless `dry_run`. Errors: the config or
/// lease file cannot be read (a malformed line is named), a server is
/// running on that database, or the database already holds leases.
pub fn run(path: &Path, leases: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let text = std::fs::read(leases).with_context(|| format!("{}", leases.display()))?;
    let text = String::from_utf8_lossy(&text);
    let file = isc_leases::parse(&text).with_context(|| format!("{}", leases.display()))?;
    let blocks = file.blocks;
    let imported = import::to_tandem(file, &config);
    for s in &imported.skipped {
        eprintln!(
            "{}:{}: skipped `{}`: {}",
            leases.display(),
            s.line,
            s.what,
            s.why
        );
    }
    println!(
        "{}: {} lease blocks, {} addresses to import, {} statements or leases skipped",
        leases.display(),
        blocks,
        imported.leases.len(),
        imported.skipped.len()
    );
    for (state, n) in &imported.by_state {
        println!("  {state:<10} {n}");
    }
    if imported.free_unrecorded > 0 {
        println!(
            "  {} free addresses of a server without failover: no record, the pool split decides their owner",
            imported.free_unrecorded
        );
    }
    if dry_run {
        println!("dry run: nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    let socket = &config.server.control_socket;
    if control::call(socket, Command::Status).is_ok() {
        anyhow::bail!(
            "a tandem server answers on {}; stop it before importing into its database",
            socket.display()
        );
    }
    let db = &config.server.lease_db;
    let n = sqlite::import(db, imported.leases)?;
    println!(
        "wrote {n} lease records to {} in one transaction",
        db.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Translates the dhcpd.conf at `conf` into tandem.toml on stdout (a
/// preview), or into the new file `output` with its TSIG keys' secrets in
/// new files in `key_dir` (mode 0600); lists what it left out on stderr. Errors: the
/// file cannot be read or is not ISC syntax (named by line), or `output`
/// or a key file exists or cannot be written.
pub fn translate(conf: &Path, output: Option<&Path>, key_dir: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read(conf).with_context(|| format!("{}", conf.display()))?;
    // The TOML names the key files by absolute path: the server's working
    // directory is not the operator's.
    let key_dir =
        &std::path::absolute(key_dir).with_context(|| format!("{}", key_dir.display()))?;
    let t = isc_conf::translate(&String::from_utf8_lossy(&text), &key_dir.to_string_lossy())
        .with_context(|| format!("{}", conf.display()))?;
    match output {
        Some(_) => write_keys(&t.key_files, key_dir, output)?,
        None if !t.key_files.is_empty() => eprintln!(
            "{} TSIG key files not written (a preview on stdout): give --output FILE to write them into {}",
            t.key_files.len(),
            key_dir.display()
        ),
        None => {}
    }
    for s in &t.untranslated {
        eprintln!(
            "{}:{}: not translated `{}`: {}",
            conf.display(),
            s.line,
            s.what,
            s.why
        );
    }
    match output {
        Some(out) => {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(out)
                .with_context(|| format!("{}", out.display()))?;
            f.write_all(t.toml.as_bytes())?;
            eprintln!("wrote {}", out.display());
        }
        None => print!("{}", t.toml),
    }
    eprintln!(
        "{}: {} subnets and {} reservations translated, {} statements not; review it, then `tandem check-config -c FILE`",
        conf.display(),
        t.subnets,
        t.reservations,
        t.untranslated.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes each key file into `key_dir` (created if missing), mode 0600.
/// Errors: one of them, or `output`, exists (nothing is written then), or a
/// file cannot be written.
fn write_keys(
    files: &[isc_conf::KeyFile],
    key_dir: &Path,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let keys: Vec<_> = files
        .iter()
        .map(|k| (key_dir.join(&k.file_name), k))
        .collect();
    let taken = keys
        .iter()
        .map(|k| k.0.as_path())
        .chain(output)
        .find(|p| p.exists());
    if let Some(p) = taken {
        anyhow::bail!(
            "{} exists: not overwritten; move it or choose another path",
            p.display()
        );
    }
    if !keys.is_empty() {
        std::fs::create_dir_all(key_dir).with_context(|| format!("{}", key_dir.display()))?;
    }
    for (path, k) in &keys {
        crate::keyfile::write_secret(path, &k.text)?;
        eprintln!("wrote the TSIG key {} (mode 0600)", path.display());
    }
    Ok(())
}
