//! The client address of a request: the direct peer, or the `X-Forwarded-For` entry the
//! trusted proxies vouch for when the peer is one of them (`TAROZI_TRUSTED_PROXIES`).

use std::net::IpAddr;

use actix_web::HttpRequest;

/// One trusted network: an address and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed; empty by default (believe no one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR networks (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let mut networks = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = match item.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (item, None),
            };
            let addr = canonical(addr.parse::<IpAddr>().map_err(|_| anyhow::anyhow!("TAROZI_TRUSTED_PROXIES: {item:?} is not an address"))?);
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => {
                    p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| anyhow::anyhow!("TAROZI_TRUSTED_PROXIES: bad prefix in {item:?}"))?
                }
                None => max,
            };
            networks.push(Network { addr, prefix });
        }
        Ok(TrustedProxies(networks))
    }

    /// From `TAROZI_TRUSTED_PROXIES` (unset: none).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::parse(&std::env::var("TAROZI_TRUSTED_PROXIES").unwrap_or_default())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address given the direct peer and the `X-Forwarded-For` values.
    ///
    /// Walks the forwarded chain from the right (the entry our own proxy appended) and stops
    /// at the first address that is not a trusted proxy: entries left of it were written by
    /// the client and could say anything.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for entry in forwarded_for.iter().rev().flat_map(|v| v.rsplit(',')).map(str::trim) {
            let Ok(ip) = entry.parse::<IpAddr>() else {
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }

    /// The client address of `req`.
    pub fn client_of(&self, req: &HttpRequest) -> IpAddr {
        let peer = req.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
        self.client(peer, &forwarded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.5"), &["1.2.3.4"]), ip("10.0.0.5"));
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        assert_eq!(proxies.client(ip("203.0.113.1"), &["1.2.3.4"]), ip("203.0.113.1"));
        assert_eq!(proxies.client(ip("10.1.2.3"), &["1.2.3.4"]), ip("1.2.3.4"));
        assert_eq!(proxies.client(ip("::ffff:10.1.2.3"), &["1.2.3.4"]), ip("1.2.3.4"));
    }

    #[test]
    fn a_client_cannot_spoof_its_address_by_prepending_entries() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client sent "X-Forwarded-For: 6.6.6.6"; our proxy appended the real address.
        assert_eq!(proxies.client(ip("10.0.0.1"), &["6.6.6.6, 198.51.100.4"]), ip("198.51.100.4"));
        assert_eq!(proxies.client(ip("10.0.0.1"), &["6.6.6.6", "198.51.100.4, 10.0.0.9"]), ip("198.51.100.4"));
        assert_eq!(proxies.client(ip("10.0.0.1"), &["garbage, 198.51.100.4"]), ip("198.51.100.4"));
        assert_eq!(proxies.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
    }

    #[test]
    fn parses_networks_and_refuses_nonsense() {
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        assert!(TrustedProxies::parse("::1, fd00::/8").unwrap().trusts(ip("fd12::1")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
    }
}
