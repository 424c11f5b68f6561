//! The local control socket: `tandem status` and `tandem partner-down` talk
//! to the running server here. One line in (the command), one JSON line out.
//! The socket is created mode 0600 so only its owner (root) can use it.

use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

pub use crate::node::Command;

/// The longest command line read (octets): a client identifier of 255
/// octets in hex fits.
const LINE_LIMIT: u64 = 1024;

/// One command from the control socket, handed to the node, with where its answer goes.
pub struct Request {
    /// The parsed command line.
    pub command: Command,
    /// Receives the JSON answer written back to the caller.
    pub reply: oneshot::Sender<serde_json::Value>,
}

/// Binds the socket at `path` with mode 0600, creating its directory and
/// replacing a stale socket no server answers on; `serve` then serves it.
///
/// Errors: `AddrInUse` when another tandem answers there, or any I/O error
/// creating the directory, removing the stale socket or binding.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another tandem answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let l = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}

/// Accepts connections for ever, each answered on its own task: one command
/// line (at most `LINE_LIMIT` octets) in, one JSON line out, 5 s at most
/// per connection.
/// An unknown command is answered `{"ok": false, ...}` without reaching the node.
pub async fn serve(listener: UnixListener, tx: mpsc::Sender<Request>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, say: back off rather than spin.
                tracing::warn!(error = %e, "control socket accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), answer(stream, tx)).await;
        });
    }
}

async fn answer(stream: UnixStream, tx: mpsc::Sender<Request>) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    BufReader::new(r.take(LINE_LIMIT))
        .read_line(&mut line)
        .await?;
    let parsed = if line.len() as u64 >= LINE_LIMIT && !line.ends_with('\n') {
        Err(format!("command line longer than {LINE_LIMIT} bytes"))
    } else {
        Command::parse(&line)
    };
    let reply = match parsed {
        Err(error) => serde_json::json!({ "ok": false, "error": error }),
        Ok(command) => {
            let (rtx, rrx) = oneshot::channel();
            if tx
                .send(Request {
                    command,
                    reply: rtx,
                })
                .await
                .is_err()
            {
                return Ok(());
            }
            rrx.await.unwrap_or_else(
                |_| serde_json::json!({ "ok": false, "error": "server is shutting down" }),
            )
        }
    };
    w.write_all(format!("{reply}\n").as_bytes()).await?;
    w.shutdown().await
}

/// Client side: sends `command` to the server at `path` and returns its answer.
pub fn call(path: &PathBuf, command: Command) -> anyhow::Result<serde_json::Value> {
    use std::io::{BufRead, Write};
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the server at {} ({e}); is `tandem serve` running with this config?",
            path.display()
        )
    })?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    s.write_all(format!("{}\n", command.line()).as_bytes())?;
    let mut line = String::new();
    std::io::BufReader::new(s).read_line(&mut line)?;
    if line.is_empty() {
        anyhow::bail!(
            "the server at {} closed the connection without an answer (it answers within 5 s; a slow disk can delay a change past that, so check its effect, e.g. `tandem reservation list`)",
            path.display()
        );
    }
    Ok(serde_json::from_str(&line)?)
}
