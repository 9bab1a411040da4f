//! Where the server may connect on a partner's behalf (the collector today). A partner types the address, so without
//! rules the collector would be a port scanner inside our network: only `https`, and never loopback, private,
//! link-local (cloud metadata), shared or multicast addresses. An operator can allow plain `http` and chosen networks
//! (`STACKBILL_OUTBOUND_ALLOW_HTTP`, `STACKBILL_OUTBOUND_ALLOW_NETWORKS`) for development, the test stand-in, or stacks
//! reached over a private link.
//!
//! The rules apply twice: when the address is saved (a literal IP or `http` is refused beside the field) and when
//! connecting, after DNS resolution (`server::collector::outbound`), so a name that resolves to 127.0.0.1 is refused
//! too.
use std::net::IpAddr;

use ipnet::IpNet;
use url::Url;

/// The operator's outbound rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbound {
    /// Plain `http` allowed (development and the test stand-in only).
    pub allow_http: bool,
    /// Networks allowed even though they are private or loopback.
    pub allow_networks: Vec<IpNet>,
}

/// Why an address is refused; the message names the address, never anything it answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not `https` (or `http` when allowed).
    #[error("“{0}” is not an https:// address")]
    Scheme(String),
    /// An address of a kind the server never connects to.
    #[error("{0} is a {1} address; Stackbill does not connect to those")]
    Address(IpAddr, &'static str),
}

impl Outbound {
    /// Everything allowed: plain `http` and every network (tests against stand-ins on loopback).
    pub fn lab() -> Self {
        Self { allow_http: true, allow_networks: vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()] }
    }

    /// Reads the two settings; `networks` is a comma-separated list of CIDRs.
    pub fn from_settings(allow_http: bool, networks: &str) -> Result<Self, String> {
        let allow_networks = networks
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.parse::<IpNet>().map_err(|_| format!("“{n}” is not a network (CIDR, e.g. 10.20.0.0/16)")))
            .collect::<Result<_, _>>()?;
        Ok(Self { allow_http, allow_networks })
    }

    /// Checks an address as typed: its scheme, and its host when that is a literal IP.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let scheme_ok = url.scheme() == "https" || (self.allow_http && url.scheme() == "http");
        if !scheme_ok || url.host().is_none() {
            return Err(Refused::Scheme(crate::domain::text::echo(url.as_str())));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }

    /// Checks one resolved address. IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
    /// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) are judged by that IPv4 address.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        let ip = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match kind(ip) {
            Some(kind) if !self.allow_networks.iter().any(|n| n.contains(&ip)) => Err(Refused::Address(ip, kind)),
            _ => Ok(()),
        }
    }
}

/// The IPv4 address inside an IPv6 one that carries it, if any.
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let tail = || std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    // NAT64 (the well-known and the local-use prefix), and IPv4-compatible (deprecated, still routed by some).
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1);
    let compatible = s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1);
    match v6.to_ipv4_mapped() {
        Some(v4) => Some(v4),
        None if nat64 || compatible => Some(tail()),
        None => None,
    }
}

/// The kind of a non-public address, `None` for a public one.
fn kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local (cloud metadata)")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if (a == 192 && b == 0 && v4.octets()[2] == 0) || (a == 198 && (b == 18 || b == 19)) {
                Some("reserved (protocol assignments, benchmarking)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
                Some("link-local or site-local")
            } else if v6.is_multicast() {
                Some("multicast or reserved")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        Outbound::default().check_url(&Url::parse(url).unwrap()).is_err()
    }

    #[test]
    fn only_https_to_public_addresses_by_default() {
        assert!(!refused("https://adminmanagement.local.azurestack.external"));
        assert!(!refused("https://20.50.1.2/"));
        for url in [
            "http://adminmanagement.example",
            "ftp://example.com",
            "https://127.0.0.1:6379",
            "https://10.1.2.3",
            "https://172.16.0.1",
            "https://192.168.1.1",
            "https://169.254.169.254/metadata",
            "https://100.64.0.1",
            "https://0.0.0.0",
            "https://[::1]",
            "https://[fd00::1]",
            "https://[fe80::1]",
            "https://[::ffff:127.0.0.1]",
            "https://[64:ff9b::a00:1]",
            "https://[64:ff9b:1::7f00:1]",
            "https://[::7f00:1]",
            "https://[fec0::1]",
            "https://192.0.0.8",
            "https://198.18.0.1",
        ] {
            assert!(refused(url), "{url} must be refused");
        }
    }

    #[test]
    fn the_operator_can_allow_http_and_chosen_networks() {
        let lab = Outbound::from_settings(true, "127.0.0.0/8, 10.20.0.0/16").unwrap();
        assert!(lab.check_url(&Url::parse("http://127.0.0.1:8080").unwrap()).is_ok());
        assert!(lab.check_url(&Url::parse("https://10.20.3.4").unwrap()).is_ok());
        assert!(lab.check_url(&Url::parse("https://10.21.3.4").unwrap()).is_err());
        assert!(Outbound::from_settings(false, "10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
    }
}
