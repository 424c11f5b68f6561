//! A lease file as dhcpd 4.4 writes it in a failover pair.

use super::*;

pub(crate) const SAMPLE: &str = r#"# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1

# authoring-byte-order entry is generated, DO NOT DELETE
authoring-byte-order little-endian;

server-duid "\000\001\000\001,\216\262\030\002B\254\021\000\002";

failover peer "campus" state {
  my state normal at 3 2026/12/01 10:00:00;
  partner state normal at 3 2026/12/01 10:00:00;
}

lease 10.20.1.5 {
  starts 3 2026/12/01 10:00:00;
  ends 3 2026/12/01 11:00:00;
  tstp 3 2026/12/01 11:30:00;
  cltt 3 2026/12/01 10:00:00;
  binding state active;
  next binding state expired;
  hardware ethernet 52:54:00:12:34:56;
  uid "\001RT\000\0224V";
  client-hostname "laptop-1";
}
lease 10.20.1.5 {
  starts 3 2026/12/01 10:30:00;
  ends 3 2026/12/01 12:30:00;
  tstp 3 2026/12/01 13:00:00;
  tsfp 3 2026/12/01 13:00:00;
  atsfp 3 2026/12/01 13:00:00;
  cltt 3 2026/12/01 10:30:00;
  binding state active;
  next binding state expired;
  rewind binding state backup;
  hardware ethernet 52:54:00:12:34:56;
  uid "\001RT\000\0224V";
  set vendor-class-identifier = "MSFT 5.0";
  client-hostname "laptop-1";
  on expiry { set x = "y"; }
}
lease 10.20.1.6 {
  starts epoch 1796119200; # Tue Dec 01 10:00:00 2026
  ends epoch 1796122800; # Tue Dec 01 11:00:00 2026
  binding state expired;
  hardware ethernet 52:54:0:1:2:3;
  uid 01:52:54:00:01:02:03;
}
lease 10.20.1.7 {
  binding state free;
}
lease 10.20.1.8 {
  binding state backup;
}
lease 10.20.1.9 {
  starts 3 2026/12/01 10:00:00;
  ends 4 2026/12/02 10:00:00;
  binding state abandoned;
}
lease 10.20.1.10 {
  starts 3 2026/12/01 10:00:00;
  ends never;
  binding state active;
  hardware ethernet 52:54:00:00:00:10;
}
lease 10.99.0.1 {
  binding state free;
}
host printer-2 { dynamic; hardware ethernet 52:54:00:aa:bb:cc; fixed-address 10.20.0.11; }
"#;

#[test]
fn the_last_block_for_an_address_wins_and_every_field_is_read() {
    let f = parse(SAMPLE).unwrap();
    assert_eq!(f.blocks, 8);
    assert_eq!(f.leases.len(), 7);
    let l = &f.leases[0];
    assert_eq!(l.addr, Ipv4Addr::new(10, 20, 1, 5));
    assert_eq!(l.line, 25, "the later block");
    assert_eq!(l.starts, Some(1_796_121_000));
    assert_eq!(l.ends, Some(1_796_128_200));
    assert_eq!(
        (l.tstp, l.tsfp, l.atsfp),
        (
            Some(1_796_130_000),
            Some(1_796_130_000),
            Some(1_796_130_000)
        )
    );
    assert_eq!(l.binding, "active");
    assert_eq!(l.rewind.as_deref(), Some("backup"));
    assert_eq!(
        l.hardware,
        Some(("ethernet".into(), vec![0x52, 0x54, 0, 0x12, 0x34, 0x56]))
    );
    assert_eq!(
        l.uid.as_deref(),
        Some(&[1, b'R', b'T', 0, 0x12, b'4', b'V'][..])
    );
    assert_eq!(l.hostname.as_deref(), Some("laptop-1"));
    let e = &f.leases[1];
    assert_eq!(
        (e.starts, e.ends),
        (Some(1_796_119_200), Some(1_796_122_800)),
        "epoch times"
    );
    assert_eq!(
        e.uid.as_deref(),
        Some(&[1, 0x52, 0x54, 0, 1, 2, 3][..]),
        "hex uid"
    );
    assert_eq!(
        e.hardware.as_ref().unwrap().1,
        [0x52, 0x54, 0, 1, 2, 3],
        "dhcpd drops leading zeros"
    );
    assert!(f.leases[5].ends_never);
}

#[test]
fn what_is_not_read_is_reported_with_its_line() {
    let f = parse(SAMPLE).unwrap();
    let lines: Vec<(usize, &str)> = f
        .skipped
        .iter()
        .map(|s| (s.line, s.what.as_str()))
        .collect();
    assert!(
        lines.contains(&(5, "authoring-byte-order little-endian")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.0 == 7 && l.1.starts_with("server-duid")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.0 == 9 && l.1.starts_with("failover peer")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(37, "set vendor-class-identifier = \"MSFT 5.0\"")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.0 == 39 && l.1 == "on expiry"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.1.starts_with("host printer-2")),
        "{lines:?}"
    );
}

#[test]
fn a_malformed_value_or_structure_is_an_error_naming_its_line() {
    let cases = [
        (
            "lease 10.0.0.1 {\n  starts 3 2026/13/01 10:00:00;\n  binding state free;\n}\n",
            2,
        ),
        ("lease 10.0.0.300 {\n  binding state free;\n}\n", 1),
        (
            "lease 10.0.0.1 {\n  hardware ethernet 52:54:zz;\n  binding state free;\n}\n",
            2,
        ),
        ("lease 10.0.0.1 {\n  starts 3 2026/12/01 10:00:00;\n", 1),
        ("lease 10.0.0.1 {\n  ends 3;\n  binding state free;\n}\n", 2),
        ("lease 10.0.0.1 {\n  starts 3 2026/12/01 10:00:00;\n}\n", 1),
        ("lease 10.0.0.1 {\n  uid \"abc\n", 2),
    ];
    for (text, line) in cases {
        let e = parse(text).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!("line {line}:")),
            "{text:?}: {e}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// Whatever the text, an answer and never a panic.
    #[test]
    fn any_text_is_read_or_refused(text in "[a-z0-9 {};\"#=:./\\\\\n]{0,200}") {
        let _ = parse(&text);
    }

    /// A sample cut anywhere is read or refused, never a panic.
    #[test]
    fn a_truncated_file_is_read_or_refused(cut in 0usize..2000) {
        let end = SAMPLE.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(SAMPLE.len());
        let _ = parse(&SAMPLE[..end]);
    }
}
