//! `FaultProxy`: a TCP proxy on 127.0.0.1:0 in front of PostgreSQL or RabbitMQ that a test
//! routes one service's database or bus URL through, to break that service's connection
//! alone: per test, so fault tests run in parallel with everything else.
//!
//! - [`cut`](FaultProxy::cut): every open connection is closed and new ones are refused, as
//!   when the server goes down.
//! - [`blackhole`](FaultProxy::blackhole): connections stay open but nothing passes either
//!   way, as in a network partition; new connections are accepted and hang.
//! - [`latency`](FaultProxy::latency): every chunk is delayed.
//! - [`restore`](FaultProxy::restore): traffic passes again; blackholed connections resume
//!   where they stopped (as TCP does when a partition heals).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pass,
    Latency(Duration),
    Blackhole,
    Cut,
}

pub struct FaultProxy {
    address: SocketAddr,
    mode: watch::Sender<Mode>,
    accept: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy listener");
        let address = listener.local_addr().expect("proxy address");
        let (mode, _) = watch::channel(Mode::Pass);
        let upstream = upstream.to_string();
        let modes = mode.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let rx = modes.subscribe();
                if *rx.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                tokio::spawn(relay(client, upstream.clone(), rx));
            }
        });
        FaultProxy {
            address,
            mode,
            accept,
        }
    }

    /// The proxy's `127.0.0.1:<port>`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `url` with its `host:port` replaced by the proxy's, e.g.
    /// `postgres://postgres@127.0.0.1:5432` → `postgres://postgres@127.0.0.1:41234`.
    pub fn route(&self, url: &str, upstream: &str) -> String {
        assert!(url.contains(upstream), "{upstream} is not in the URL");
        url.replacen(upstream, &self.address.to_string(), 1)
    }

    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    pub fn blackhole(&self) {
        self.mode.send_replace(Mode::Blackhole);
    }

    pub fn latency(&self, delay: Duration) {
        self.mode.send_replace(Mode::Latency(delay));
    }

    pub fn restore(&self) {
        self.mode.send_replace(Mode::Pass);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.mode.send_replace(Mode::Cut);
    }
}

/// Copies bytes both ways between `client` and a new connection to `upstream` until either
/// side closes or the proxy is cut.
async fn relay(client: TcpStream, upstream: String, mode: watch::Receiver<Mode>) {
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pump(client_read, server_write, mode.clone()) => {}
        () = pump(server_read, client_write, mode) => {}
    }
}

/// One direction. Reads only while traffic may pass, so a blackhole leaves the bytes in the
/// kernel's buffers until restore; a cut ends the copy and so closes both sockets.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let current = *mode.borrow_and_update();
        match current {
            Mode::Cut => return,
            Mode::Blackhole => {
                if mode.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Mode::Pass | Mode::Latency(_) => {}
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        if let Mode::Latency(d) = current {
            tokio::time::sleep(d).await;
        }
        // Bytes read before a blackhole began are held back until it ends.
        loop {
            let now = *mode.borrow_and_update();
            match now {
                Mode::Cut => return,
                Mode::Blackhole => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
                _ => break,
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
