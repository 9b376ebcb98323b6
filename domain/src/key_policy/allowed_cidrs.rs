//! The networks a key may be used from.
use crate::cidr::Cidr;
use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Most networks one key may list.
pub const MAX_ALLOWED_CIDRS: usize = 50;

/// 1–[`MAX_ALLOWED_CIDRS`] distinct networks, normalized and sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AllowedCidrs(Vec<Cidr>);

impl AllowedCidrs {
    /// Parses addresses and CIDR ranges; an empty list is refused (`null` means anywhere).
    pub fn parse<S: AsRef<str>>(raw: impl IntoIterator<Item = S>) -> Result<Self, ParseError> {
        let cidrs = raw
            .into_iter()
            .map(|c| {
                c.as_ref().parse::<Cidr>().map_err(|_| {
                    ParseError::new(
                        "allowedCidrs: every entry must be an IP address or CIDR range (e.g. 10.0.0.0/8)",
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        super::distinct_list(
            cidrs,
            MAX_ALLOWED_CIDRS,
            "allowedCidrs must list at least one network (null: any address)",
            || format!("allowedCidrs may list at most {MAX_ALLOWED_CIDRS} networks"),
        )
        .map(Self)
    }

    /// Whether `ip` is in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The networks.
    pub fn iter(&self) -> impl Iterator<Item = &Cidr> {
        self.0.iter()
    }
}

/// Stored lists are read as written (whatever the log holds must load).
impl<'de> Deserialize<'de> for AllowedCidrs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(Vec::<Cidr>::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_normalized_and_bounded() {
        let cidrs = AllowedCidrs::parse(["192.0.2.7", "10.1.2.3/8", "10.0.0.0/8"]).unwrap();
        let shown: Vec<String> = cidrs.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32"]);
        assert!(cidrs.contains("10.200.0.1".parse().unwrap()));
        assert!(!cidrs.contains("192.0.2.8".parse().unwrap()));
        let empty: [&str; 0] = [];
        assert!(AllowedCidrs::parse(empty).is_err());
        assert!(AllowedCidrs::parse(["10.0.0.0/33"]).is_err());
        assert!(AllowedCidrs::parse((0..51).map(|n| format!("10.0.0.{n}"))).is_err());
        assert!(AllowedCidrs::parse((0..50).map(|n| format!("10.0.0.{n}"))).is_ok());
    }
}
