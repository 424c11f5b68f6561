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
