//! `tandem check-config`: validates a configuration file, and the key files
//! it names (the peer link's, and DDNS's TSIG keys), without starting
//! anything. Exit 2 for an invalid file.

use crate::config::Config;
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    match Config::load(path) {
        Ok(c) => {
            if let Some(file) = c.failover.as_ref().and_then(|f| f.protocol.secret_file())
                && let Err(e) = crate::keyfile::load(file)
            {
                eprintln!("{}: {e}", path.display());
                return Ok(ExitCode::from(2));
            }
            for k in c.ddns.iter().flat_map(|d| &d.keys) {
                if let Err(e) = crate::ddns::key::load(k) {
                    eprintln!("{}: {e}", path.display());
                    return Ok(ExitCode::from(2));
                }
            }
            let addrs: u64 = c.pools.iter().map(|p| p.range.len()).sum();
            let res: usize = c.subnets.iter().map(|s| s.reservations.len()).sum();
            println!(
                "{}: ok ({} subnets, {} pools with {} addresses, {} reservations)",
                path.display(),
                c.subnets.len(),
                c.pools.len(),
                addrs,
                res
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(2))
        }
    }
}
