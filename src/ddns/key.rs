//! Reading a TSIG secret (RFC 8945): a BIND key file, as `tsig-keygen`
//! writes it (`key "name" { algorithm …; secret "…"; };`), or the base64
//! secret alone.

/// The secret in `text`, decoded. Errors: no secret, or one that is not
/// base64, or shorter than 16 octets (RFC 8945 section 6 asks for at least
/// the hash's length; 16 rules out a truncated paste).
pub fn secret(text: &str) -> Result<Vec<u8>, String> {
    let b64 = match text.find("secret") {
        Some(i) => text[i + "secret".len()..]
            .split('"')
            .nth(1)
            .ok_or("a `secret` without a quoted value")?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_key_files_and_bare_secrets_are_read() {
        let bind = "key \"tandem\" {\n\talgorithm hmac-sha256;\n\tsecret \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\";\n};\n";
        let k = secret(bind).unwrap();
        assert_eq!(k, (0u8..32).collect::<Vec<_>>());
        assert_eq!(
            secret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap(),
            k
        );
        assert!(secret("not base64!").is_err());
        assert!(secret("AAECAw==").unwrap_err().contains("at least 16"));
        assert!(secret("secret ;").is_err());
    }
}
