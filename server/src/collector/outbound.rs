//! The HTTP client the collector connects with: the operator's outbound rules applied after DNS resolution (a name
//! that resolves to a private address is refused when connecting, whatever it resolved to when saved), no redirects
//! (one could carry a bearer token to another host), no proxy from the environment (it would connect for us,
//! unchecked), and a deadline per request.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::domain::outbound::{Outbound, Refused};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves with the system resolver, then keeps only the addresses the rules allow.
struct Checked(Arc<Outbound>);

/// Every address of a name was refused. The message says what kind of address, not which: the name was typed by a
/// partner, and the address behind it is ours to keep (it is in the server log).
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to a {kind} address; Stackbill does not connect to those")]
pub struct Blocked {
    host: String,
    kind: &'static str,
}

impl Resolve for Checked {
    fn resolve(&self, name: Name) -> Resolving {
        let rules = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match rules.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        first_refusal.get_or_insert(e);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), first_refusal) {
                (true, Some(Refused::Address(ip, kind))) => {
                    tracing::warn!(%host, %ip, "refused to connect to a non-public address");
                    Err(Box::new(Blocked { host, kind }) as _)
                }
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// A client that connects only where `rules` allow, giving up on any request after `timeout`.
pub fn client(rules: Outbound, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(Checked(Arc::new(rules))))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .build()
}

/// The refusal behind a failed request, if the rules refused it.
pub fn blocked<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Blocked> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(b) = e.downcast_ref::<Blocked>() {
            return Some(b);
        }
        source = e.source();
    }
    None
}
