//! One line per event for the replay trace: client packets decoded, frames
//! by size.

use super::Ev;

pub(super) fn short(ev: &Ev) -> String {
    match ev {
        Ev::ToServer { node, bytes } => {
            format!("{} -> server {node}", describe(bytes))
        }
        Ev::ToClient { client, bytes } => {
            format!("{} -> client {client}", describe(bytes))
        }
        Ev::Frame { to, link, bytes } => format!(
            "peer frame ({} bytes) -> server {to} on link {link}",
            bytes.len()
        ),
        other => format!("{other:?}"),
    }
}

/// A DHCP packet in one line: type, client, and the addresses that matter.
pub(in crate::sim) fn describe(bytes: &[u8]) -> String {
    use dhcproto::{Decodable, v4};
    let Ok(m) = v4::Message::decode(&mut dhcproto::Decoder::new(bytes)) else {
        return format!("undecodable packet ({} bytes)", bytes.len());
    };
    let kind = match m.opts().get(v4::OptionCode::MessageType) {
        Some(v4::DhcpOption::MessageType(t)) => format!("{t:?}"),
        _ => "BOOTP".into(),
    };
    let mut s = format!(
        "{kind} hw ..{:02x}",
        m.chaddr().last().copied().unwrap_or(0)
    );
    if !m.ciaddr().is_unspecified() {
        s += &format!(" ciaddr {}", m.ciaddr());
    }
    if !m.yiaddr().is_unspecified() {
        s += &format!(" yiaddr {}", m.yiaddr());
    }
    if let Some(v4::DhcpOption::RequestedIpAddress(a)) =
        m.opts().get(v4::OptionCode::RequestedIpAddress)
    {
        s += &format!(" requested {a}");
    }
    if let Some(v4::DhcpOption::ServerIdentifier(a)) =
        m.opts().get(v4::OptionCode::ServerIdentifier)
    {
        s += &format!(" server-id {a}");
    }
    s
}
