//! A tiny SMTP server for tests, on 127.0.0.1: it speaks enough SMTP for
//! lettre (EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT), keeps the
//! mails it accepted, and can refuse the next mails' data for now (451) or
//! for good (550).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A mail the sink accepted.
#[derive(Debug, Clone)]
pub struct SunkMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, CRLF line ends, dots unstuffed).
    pub data: String,
}

impl SunkMail {
    /// A header's value (unfolded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut unfolded: Vec<String> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = unfolded.last_mut() {
                    last.push(' ');
                    last.push_str(line.trim());
                }
            } else {
                unfolded.push(line.to_string());
            }
        }
        unfolded.into_iter().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body, quoted-printable decoded.
    pub fn body(&self) -> String {
        let raw = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if !qp {
            return raw.to_string();
        }
        let joined = raw.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    }
}

#[derive(Default)]
struct Inner {
    mails: Mutex<Vec<SunkMail>>,
    refuse_for_now: AtomicUsize,
    refuse_for_good: AtomicUsize,
    /// Mails whose data was refused.
    refused: AtomicUsize,
}

/// A running sink (it stops with the test's runtime).
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: std::net::SocketAddr,
    inner: Arc<Inner>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner::default());
        let shared = inner.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let inner = shared.clone();
                tokio::spawn(async move {
                    let _ = session(socket, &inner).await;
                });
            }
        });
        SmtpSink { addr, inner }
    }

    /// The URL to give `--smtp-url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Refuses the data of the next `n` mails with 451 (try again later).
    pub fn refuse_for_now(&self, n: usize) {
        self.inner.refuse_for_now.store(n, Ordering::SeqCst);
    }

    /// Refuses the data of the next `n` mails with 550 (never).
    pub fn refuse_for_good(&self, n: usize) {
        self.inner.refuse_for_good.store(n, Ordering::SeqCst);
    }

    /// The mails accepted so far.
    pub fn mails(&self) -> Vec<SunkMail> {
        self.inner.mails.lock().unwrap().clone()
    }

    /// How many mails' data were refused.
    pub fn refused(&self) -> usize {
        self.inner.refused.load(Ordering::SeqCst)
    }
}

/// Takes one from a counter if it is above zero.
fn take(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

async fn session(socket: tokio::net::TcpStream, inner: &Inner) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink greets you\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().to_string();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim().to_string());
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if lines.read_line(&mut l).await? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            if take(&inner.refuse_for_now) {
                inner.refused.fetch_add(1, Ordering::SeqCst);
                b"451 4.3.0 try again later\r\n"
            } else if take(&inner.refuse_for_good) {
                inner.refused.fetch_add(1, Ordering::SeqCst);
                b"550 5.1.1 no such mailbox\r\n"
            } else {
                inner.mails.lock().unwrap().push(SunkMail {
                    from: from.clone(),
                    to: to.clone(),
                    data: data.trim_end_matches("\r\n").to_string() + "\r\n",
                });
                b"250 OK queued\r\n"
            }
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
