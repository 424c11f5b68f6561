//! Reading a TSIG secret (RFC 8945): a BIND key file, as `tsig-keygen`
//! writes it (`key "name" { algorithm …; secret "…"; };`), or the base64
//! secret alone.

use crate::config::{DnsKey, TsigAlgorithm};

/// The value of statement `word` in a BIND key file (`word value;` or
/// `word "value";`), if there is one.
fn statement<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    text.split([';', '{', '}'])
        .map(str::trim)
        .find_map(|s| {
            s.strip_prefix(word)
                .filter(|r| r.starts_with(char::is_whitespace))
        })
        .map(|v| v.trim().trim_matches('"'))
}

/// The secret in `text`, decoded. Errors: a key file without a `secret`
/// statement, a secret that is not base64, or one shorter than 16 octets
/// (RFC 8945 section 6 asks for at least the hash's length; 16 rules out a
/// truncated paste).
pub fn secret(text: &str) -> Result<Vec<u8>, String> {
    let b64 = match statement(text, "secret") {
        Some(s) => s,
        None if text.contains('{') => return Err("a key file without a `secret` statement".into()),
        None => text.trim(),
    };
    let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let key = data_encoding::BASE64
        .decode(clean.as_bytes())
        .map_err(|e| format!("the secret is not base64: {e}"))?;
    if key.len() < 16 {
        return Err(format!(
            "the secret is {} octets; at least 16 are needed",
            key.len()
        ));
    }
    Ok(key)
}

/// Reads `key`'s secret file (mode 0600, `keyfile::load_secret`). A BIND
/// key file must name the algorithm the configuration gives, or every
/// update would fail BIND's check (BADSIG) at run time. Errors: the file's
/// problem, or the algorithm mismatch, naming the file.
pub fn load(key: &DnsKey) -> Result<Vec<u8>, String> {
    let setting = "ddns.key.secret_file";
    let secret = crate::keyfile::load_secret(&key.secret_file, setting, secret)
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&key.secret_file).unwrap_or_default();
    let named = TsigAlgorithm::NAMES
        .iter()
        .find(|(_, a)| *a == key.algorithm)
        .map_or("", |(n, _)| *n);
    if let Some(a) = statement(&text, "algorithm").filter(|a| !a.eq_ignore_ascii_case(named)) {
        return Err(format!(
            "{setting} {}: the file's key is {a}, the configuration's algorithm {named}",
            key.secret_file.display()
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn bind_key_files_and_bare_secrets_are_read() {
        let bind =
            format!("key \"tandem\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n");
        let k = secret(&bind).unwrap();
        assert_eq!(k, (0u8..32).collect::<Vec<_>>());
        assert_eq!(secret(&format!("{SECRET}\n")).unwrap(), k);
        let named = bind.replace("\"tandem\"", "\"ddns-secret\"");
        assert_eq!(
            secret(&named).unwrap(),
            k,
            "a key named *secret* is no secret statement"
        );
        assert!(secret("not base64!").is_err());
        assert!(secret("AAECAw==").unwrap_err().contains("at least 16"));
        assert!(secret("key \"k\" { algorithm hmac-sha256; };").is_err());
        assert_eq!(statement(&bind, "algorithm"), Some("hmac-sha256"));
    }
}
