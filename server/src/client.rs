//! Who is on the other end of a request: the peer's address, or behind a reverse proxy the
//! server was told to trust, the address that proxy saw (for login throttling and the audit).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The client's address, as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// A network, `192.0.2.0/24` or `2001:db8::/32`; a bare address is a network of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an address or network (e.g. 10.0.0.5 or 10.0.0.0/8)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let net: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let most = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(most);
        if prefix > most {
            return Err(bad());
        }
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address that arrived as IPv6 (`::ffff:192.0.2.1`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client of a request from `peer`, and whether it reached us over HTTPS (its own TLS
/// connection, or a trusted proxy's word).
pub fn client_of(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted: &[Cidr],
    over_tls: bool,
) -> (ClientAddr, bool) {
    let peer = canonical(peer.ip());
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return (ClientAddr(peer), over_tls);
    }
    // The nearest address the trusted proxies did not add themselves: what the first of them
    // saw. Addresses further left are the client's own word, which anyone can forge.
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>().map(canonical))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let client = forwarded
        .iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer);
    let https = over_tls
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    (ClientAddr(client), https)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_contain_what_they_should() {
        let lan: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(lan.contains("10.200.3.4".parse().unwrap()));
        assert!(lan.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!lan.contains("11.0.0.1".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "ten", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let proxy: Cidr = "127.0.0.1".parse().unwrap();
        let forged = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-proto", "https"),
        ]);
        let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        assert_eq!(
            client_of(stranger, &forged, &[proxy], false),
            (ClientAddr("203.0.113.9".parse().unwrap()), false),
            "a client cannot pose as another, nor claim HTTPS"
        );
        let via_proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.50"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            client_of(via_proxy, &h, &[proxy], false),
            (ClientAddr("203.0.113.50".parse().unwrap()), true),
            "the address the proxy saw, not what the client wrote before it"
        );
        assert_eq!(
            client_of(via_proxy, &headers(&[]), &[proxy], false).0,
            ClientAddr("127.0.0.1".parse().unwrap())
        );
        let garbage = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(
            client_of(via_proxy, &garbage, &[proxy], false).0,
            ClientAddr("127.0.0.1".parse().unwrap())
        );
    }
}
