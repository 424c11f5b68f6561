use super::*;

fn labels(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn option_81_parses_in_both_encodings() {
    let wire = ClientFqdn::parse(b"\x05\x00\x00\x03pc1\x06campus\x07example\x00").unwrap();
    assert_eq!(wire.flags, FLAG_S | FLAG_E);
    assert_eq!(wire.labels, labels(&["pc1", "campus", "example"]));
    assert!(wire.qualified);
    let partial = ClientFqdn::parse(b"\x04\x00\x00\x03pc1").unwrap();
    assert_eq!(
        (partial.labels, partial.qualified),
        (labels(&["pc1"]), false)
    );
    let ascii = ClientFqdn::parse(b"\x01\x00\x00Laptop.Campus.Example.\0").unwrap();
    assert_eq!(ascii.labels, labels(&["Laptop", "Campus", "Example"]));
    assert!(ascii.qualified);
    assert_eq!(ClientFqdn::parse(b"\x01\x00"), None, "too short");
    let broken = ClientFqdn::parse(b"\x04\x00\x00\x09pc").unwrap();
    assert!(broken.labels.is_empty(), "a label past the end is no name");
}

#[test]
fn labels_are_sanitised_to_what_dns_holds() {
    assert_eq!(
        sanitise_label("Bob's iPhone").as_deref(),
        Some("bobs-iphone")
    );
    assert_eq!(sanitise_label("_host_").as_deref(), Some("host"));
    assert_eq!(sanitise_label("ÿ\u{1F600}"), None);
    assert_eq!(sanitise_label("--"), None);
    assert_eq!(sanitise_label(&"a".repeat(80)).unwrap().len(), 63);
}

#[test]
fn a_client_names_its_host_under_the_suffix_only() {
    let s = Some("campus.example");
    assert_eq!(
        qualify(&labels(&["PC1"]), false, s).as_deref(),
        Some("pc1.campus.example")
    );
    assert_eq!(
        qualify(&labels(&["pc1", "dept", "campus", "example"]), true, s).as_deref(),
        Some("pc1.dept.campus.example"),
        "a fully qualified name under the suffix is kept"
    );
    assert_eq!(
        qualify(&labels(&["www", "bank", "example"]), true, s).as_deref(),
        Some("www.campus.example"),
        "elsewhere, only its host label"
    );
    assert_eq!(qualify(&labels(&["pc1"]), false, None), None);
    assert_eq!(qualify(&labels(&["!!!"]), false, s), None);
    assert_eq!(qualify(&[], false, s), None);
}

#[test]
fn reservations_give_whole_names_or_host_labels() {
    let s = Some("campus.example");
    assert_eq!(
        reserved_name("printer.lab.example.", s).as_deref(),
        Some("printer.lab.example")
    );
    assert_eq!(
        reserved_name("printer", s).as_deref(),
        Some("printer.campus.example")
    );
}

#[test]
fn suffixes_are_checked() {
    assert_eq!(
        normalise_suffix("Campus.Example.").unwrap(),
        "campus.example"
    );
    assert!(normalise_suffix("bad_suffix.example").is_err());
    assert!(normalise_suffix("a..b").is_err());
}

#[test]
fn the_answer_follows_rfc_4702_section_4() {
    let a = answer(FLAG_S, false, false);
    assert_eq!((a.flags, a.forward, a.reverse), (FLAG_S, true, true));
    let a = answer(0, false, false);
    assert_eq!((a.flags, a.forward, a.reverse), (0, false, true));
    let a = answer(0, true, false);
    assert_eq!((a.flags, a.forward), (FLAG_S | FLAG_O, true));
    let a = answer(FLAG_N | FLAG_E, false, false);
    assert_eq!(
        (a.flags, a.forward, a.reverse),
        (FLAG_N | FLAG_E, false, false)
    );
    let a = answer(FLAG_N, false, true);
    assert_eq!(
        (a.flags, a.forward, a.reverse),
        (FLAG_S | FLAG_O, true, true)
    );
}

#[test]
fn the_reply_option_encodes_as_the_client_did() {
    assert_eq!(
        reply_option(FLAG_S | FLAG_E, "pc1.example"),
        b"\x05\xff\xff\x03pc1\x07example\x00".to_vec()
    );
    assert_eq!(
        reply_option(FLAG_S, "pc1.example"),
        b"\x01\xff\xffpc1.example.".to_vec()
    );
}
