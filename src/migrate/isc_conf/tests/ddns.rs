//! dhcpd's DDNS statements translated: `[ddns]`, keys into key files of
//! their own, zones, per-subnet suffixes and opt-outs, and what is reported.

use super::*;

const DDNS: &str = r#"
ddns-update-style standard;
ddns-domainname "campus.example.";
ddns-ttl 600;
ignore client-updates;
update-static-leases on;
key "ddns-key" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw=="; };
key DHCP_UPDATER { algorithm HMAC-MD5.SIG-ALG.REG.INT; secret pRP5FapFoJ95JEL06sv4PQ==; };
key "../plain" { algorithm hmac-sha512; secret dW5xdW90ZWR1bnF1b3RlZHVucXVvdGVkdW5xdW90ZWQ=; };
zone campus.example. { primary 10.0.0.53, 10.0.1.53; key ddns-key; }
zone lab.campus.example { primary 10.0.0.54; key "../plain"; }
zone 0.10.in-addr.arpa. { primary 10.0.0.53; secondary 10.0.1.53; key DHCP_UPDATER; }
subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }
subnet 10.0.1.0 netmask 255.255.255.0 { range 10.0.1.10 10.0.1.20; ddns-updates off; }
subnet 10.0.2.0 netmask 255.255.255.0 {
  range 10.0.2.10 10.0.2.20;
  ddns-domainname "lab.campus.example";
  option domain-name-servers 10.0.0.53;
}
subnet 10.0.3.0 netmask 255.255.255.0 {
  range 10.0.3.10 10.0.3.20;
  ddns-domainname "elsewhere.example";
}
"#;

#[test]
fn ddns_statements_become_ddns_tables_and_key_files() {
    let t = translate(DDNS, "/etc/tandem").unwrap();
    // the secret is in the key file, never in the TOML
    assert!(!t.toml.contains("c2VjcmV0"), "{}", t.toml);
    assert!(!t.toml.contains("dW5xdW90"), "{}", t.toml);
    let names: Vec<&str> = t.key_files.iter().map(|k| k.file_name.as_str()).collect();
    assert_eq!(
        names,
        ["ddns-ddns-key.key", "ddns-_plain.key"],
        "the md5 key cannot be used; a name cannot leave the key directory"
    );
    let dir = tempfile::tempdir().unwrap();
    for k in &t.key_files {
        crate::keyfile::write_secret(&dir.path().join(&k.file_name), &k.text).unwrap();
    }
    let toml = t.toml.replace("/etc/tandem", &dir.path().to_string_lossy());
    let c = Config::parse(&toml, "t").unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let d = c.ddns.as_ref().expect("[ddns]");
    assert_eq!(d.ttl, Some(600));
    assert!(d.override_client_update, "ignore client-updates");
    for k in &d.keys {
        crate::ddns::key::load(k).expect("the key file reads back");
    }
    assert_eq!(
        crate::ddns::key::load(&d.keys[1]).unwrap().len(),
        32,
        "an unquoted secret, its padding included"
    );
    let zones: Vec<(&str, usize, Option<&str>)> = d
        .zones
        .iter()
        .map(|z| (z.name.as_str(), z.servers.len(), z.key.as_deref()))
        .collect();
    assert_eq!(
        zones,
        [
            ("campus.example", 2, Some("ddns-key")),
            ("lab.campus.example", 1, Some("../plain")),
            ("0.10.in-addr.arpa", 2, None)
        ]
    );
    let subnets: Vec<(bool, Option<&str>)> = c
        .subnets
        .iter()
        .map(|s| (s.ddns, s.ddns_suffix.as_deref()))
        .collect();
    assert_eq!(
        subnets,
        [
            (true, Some("campus.example")),
            (false, None),
            (true, Some("lab.campus.example")),
            (false, None)
        ]
    );
    let reported: Vec<&str> = t.untranslated.iter().map(|s| s.what.as_str()).collect();
    for want in [
        "key dhcp_updater",
        "zone 0.10.in-addr.arpa",
        "update-static-leases on",
        "subnet 10.0.3.0/24",
    ] {
        assert!(reported.contains(&want), "{want} in {reported:?}");
    }
}

#[test]
fn without_an_update_style_nothing_of_ddns_is_written() {
    let conf = "ddns-update-style none;\nzone campus.example. { primary 10.0.0.53; }\nsubnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n";
    let t = translate(conf, "/etc/tandem").unwrap();
    let c = Config::parse(&t.toml, "t").unwrap();
    assert!(c.ddns.is_none());
    assert!(
        t.untranslated.iter().any(|s| s.what == "zone"),
        "{:?}",
        t.untranslated
    );
    // interim style is translated, with a warning about its TXT records
    let interim = conf
        .replace("none", "interim")
        .replace("{ range", "{ option domain-name \"campus.example\"; range");
    let t = translate(&interim, "/etc/tandem").unwrap();
    let c = Config::parse(&t.toml, "t").unwrap_or_else(|e| panic!("{e}\n{}", t.toml));
    assert_eq!(c.subnets[0].ddns_suffix.as_deref(), Some("campus.example"));
    assert!(
        t.untranslated.iter().any(|s| s.why.contains("TXT")),
        "{:?}",
        t.untranslated
    );
}
