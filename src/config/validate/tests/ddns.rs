//! `[ddns]`: suffixes, keys and zones are checked, and a subnet whose
//! names would go to no zone is a problem, not a silent gap.

use super::*;

const SUBNET: &str = r#"
[[subnet]]
cidr = "10.0.0.0/24"
pools = ["10.0.0.10-10.0.0.20"]
"#;

#[test]
fn ddns_keys_zones_and_suffixes_are_checked() {
    let text = format!(
        r#"{BASE}{SUBNET}
[ddns]
qualifying_suffix = "bad_suffix.example"
[[ddns.key]]
name = "k"
algorithm = "hmac-md5"
secret_file = "/etc/k"
[[ddns.zone]]
name = "campus.example"
servers = ["not an address"]
key = "missing"
"#
    );
    let p = problems(&text);
    let keys: Vec<&str> = p.iter().map(|(_, k, _)| k.as_str()).collect();
    for want in [
        "ddns.qualifying_suffix",
        "ddns.key[0].algorithm",
        "ddns.zone[0].servers",
        "ddns.zone[0].key",
    ] {
        assert!(keys.contains(&want), "{want} in {p:?}");
    }
}

#[test]
fn a_subnet_whose_names_go_to_no_zone_is_a_problem() {
    let text = format!(
        r#"{BASE}{SUBNET}
[ddns]
qualifying_suffix = "campus.example"
[[ddns.zone]]
name = "other.example"
servers = ["10.0.0.53"]
"#
    );
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|(_, k, m)| k == "ddns.zone" && m.contains("campus.example")),
        "{p:?}"
    );
    let opted_out = text.replace(SUBNET, &format!("{SUBNET}ddns = false\n"));
    let c = Config::parse(&opted_out, "t.toml").expect("a subnet left out needs no zone");
    assert!(!c.subnets[0].ddns);
    assert_eq!(c.ddns.unwrap().zones[0].servers[0].port(), 53);
}

/// Both peers must give a client the same name, so what decides it is in
/// the fingerprint; where each peer sends its updates is not.
#[test]
fn what_names_a_client_is_in_the_fingerprint_and_where_updates_go_is_not() {
    let text = format!(
        r#"{BASE}{SUBNET}
[ddns]
qualifying_suffix = "campus.example"
[[ddns.zone]]
name = "campus.example"
servers = ["10.0.0.53"]
"#
    );
    let fp = |t: &str| Config::parse(t, "t.toml").unwrap().fingerprint();
    let base = fp(&text);
    let without = text.split("[ddns]").next().unwrap().to_string();
    assert_ne!(fp(&without), base, "DDNS on or off");
    let suffix = text.replace(
        SUBNET,
        &format!("{SUBNET}ddns_qualifying_suffix = \"a.campus.example\"\n"),
    );
    assert_ne!(fp(&suffix), base, "a subnet's suffix");
    let opted_out = text.replace(SUBNET, &format!("{SUBNET}ddns = false\n"));
    assert_ne!(fp(&opted_out), base, "a subnet left out");
    let overridden = text.replace("[ddns]\n", "[ddns]\noverride_no_update = true\n");
    assert_ne!(fp(&overridden), base, "the overrides");
    let elsewhere = text.replace("10.0.0.53", "10.0.0.54");
    assert_eq!(fp(&elsewhere), base, "another DNS server");
}
