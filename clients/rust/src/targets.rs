//! Several servers behind one [`Client`](crate::Client): what a target string
//! names, and the task that keeps a `dns:///` name's addresses current.
//!
//! The forms are gRPC's own naming (`ipv4:`, `ipv6:`, `dns:`), so one string
//! works for this crate, the Python client and grpcurl alike.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tonic::transport::channel::Change;
use tonic::transport::Endpoint;

/// What a client's target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Targets {
    /// One URI (or `HOST:PORT`).
    One(String),
    /// A fixed list of URIs: `ipv4:a:1,b:2`, `ipv6:[::1]:1,[::1]:2`, or `a:1,b:2`.
    List(Vec<String>),
    /// `dns:///NAME:PORT`: every address NAME resolves to, resolved again
    /// every so often (a Kubernetes headless Service, one A record per pod).
    Dns { host: String, port: u16 },
}

/// Reads a target string; `Err` says what is wrong with it.
pub(crate) fn parse(target: &str) -> Result<Targets, String> {
    let target = target.trim();
    if let Some(rest) = target.strip_prefix("dns:") {
        // dns:///name:port, dns:name:port; dns://AUTHORITY/ names a DNS server,
        // which the system resolver used here cannot be told.
        let name = match rest.strip_prefix("//") {
            Some(after) => match after.split_once('/') {
                Some(("", name)) => name,
                Some((authority, _)) => {
                    return Err(format!(
                    "a DNS server authority ({authority}) is not supported; use dns:///NAME:PORT"
                ))
                }
                None => return Err("expected dns:///NAME:PORT".to_string()),
            },
            None => rest,
        };
        let (host, port) = name
            .rsplit_once(':')
            .ok_or_else(|| "dns: targets need a port (dns:///NAME:PORT)".to_string())?;
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("bad port {port:?}"))?;
        if host.is_empty() {
            return Err("empty host name".to_string());
        }
        return Ok(Targets::Dns {
            host: host.to_string(),
            port,
        });
    }
    let list = target
        .strip_prefix("ipv4:")
        .or_else(|| target.strip_prefix("ipv6:"));
    let pieces: Vec<&str> = list
        .unwrap_or(target)
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    match pieces.as_slice() {
        [] => Err("no address".to_string()),
        [one] if list.is_none() => Ok(Targets::One(one.to_string())),
        _ => Ok(Targets::List(pieces.iter().map(|p| uri(p)).collect())),
    }
}

/// A URI for `piece`: bare `HOST:PORT` is taken as plaintext `http://`.
pub(crate) fn uri(piece: &str) -> String {
    if piece.contains("://") {
        piece.to_string()
    } else {
        format!("http://{piece}")
    }
}

/// The `http://IP:PORT` URIs that `host` resolves to now, sorted.
pub(crate) async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<String>> {
    let mut uris: Vec<String> = tokio::net::lookup_host((host, port))
        .await?
        .map(|addr| format!("http://{addr}"))
        .collect();
    uris.sort();
    uris.dedup();
    Ok(uris)
}

/// Keeps the balanced channel's endpoints equal to what `host` resolves to,
/// after `first`, then every `every`; ends when the channel is dropped. A failed lookup keeps the
/// addresses it had (as gRPC does).
pub(crate) async fn follow_dns(
    host: String,
    port: u16,
    first: Duration,
    every: Duration,
    mut known: HashSet<String>,
    tx: Sender<Change<String, Endpoint>>,
    make: impl Fn(&str) -> Option<Endpoint> + Send,
) {
    let mut wait = first;
    loop {
        tokio::time::sleep(wait).await;
        wait = every;
        if tx.is_closed() {
            return;
        }
        let Ok(now) = resolve(&host, port).await else {
            continue;
        };
        let now: HashSet<String> = now.into_iter().collect();
        for gone in known.difference(&now) {
            if tx.send(Change::Remove(gone.clone())).await.is_err() {
                return;
            }
        }
        for new in now.difference(&known) {
            if let Some(endpoint) = make(new) {
                if tx
                    .send(Change::Insert(new.clone(), endpoint))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        known = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_of_target() {
        assert_eq!(
            parse("http://127.0.0.1:50051"),
            Ok(Targets::One("http://127.0.0.1:50051".into()))
        );
        assert_eq!(
            parse("127.0.0.1:50051"),
            Ok(Targets::One("127.0.0.1:50051".into()))
        );
        assert_eq!(
            parse("ipv4:127.0.0.1:1,127.0.0.1:2"),
            Ok(Targets::List(vec![
                "http://127.0.0.1:1".into(),
                "http://127.0.0.1:2".into()
            ]))
        );
        // One address in an ipv4: list is still a list (balanced, resumable).
        assert_eq!(
            parse("ipv4:127.0.0.1:1"),
            Ok(Targets::List(vec!["http://127.0.0.1:1".into()]))
        );
        assert_eq!(
            parse("ipv6:[::1]:1,[::1]:2"),
            Ok(Targets::List(vec![
                "http://[::1]:1".into(),
                "http://[::1]:2".into()
            ]))
        );
        assert_eq!(
            parse("a:1, https://b:2"),
            Ok(Targets::List(vec![
                "http://a:1".into(),
                "https://b:2".into()
            ]))
        );
        assert_eq!(
            parse("dns:///tinyv.ns.svc:50051"),
            Ok(Targets::Dns {
                host: "tinyv.ns.svc".into(),
                port: 50051
            })
        );
        assert_eq!(
            parse("dns:localhost:7"),
            Ok(Targets::Dns {
                host: "localhost".into(),
                port: 7
            })
        );
    }

    #[test]
    fn says_what_is_wrong_with_a_bad_target() {
        assert!(parse("dns://8.8.8.8/x:1")
            .unwrap_err()
            .contains("authority"));
        assert!(parse("dns:///x").unwrap_err().contains("port"));
        assert!(parse("dns:///x:port").unwrap_err().contains("bad port"));
        assert!(parse("ipv4:").unwrap_err().contains("no address"));
        assert!(parse(" , ").is_err());
    }

    #[tokio::test]
    async fn resolves_localhost_to_loopback() {
        let uris = resolve("localhost", 9).await.unwrap();
        assert!(uris.iter().any(|u| u == "http://127.0.0.1:9"), "{uris:?}");
    }
}
