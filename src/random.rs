//! Randomness from the operating system (the `getrandom` crate), for peer
//! session nonces, pre-shared keys and database epochs.

/// `N` random octets from the kernel's generator. Errors only when the
/// kernel has none to give (reported as an I/O error).
pub fn bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b)
}
