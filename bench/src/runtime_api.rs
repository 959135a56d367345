//! A minimal Lambda Runtime API (the 2018-06-01 interface a function's runtime client polls) on
//! localhost, so a real function binary can be started and invoked as Lambda would.
//!
//! One server per function process: once the events run out and the sender is dropped, a
//! pending `GET …/invocation/next` fails and the connection closes. Every path outside the
//! runtime API answers 200 with `{"folio":"F-1","track_id":"T-1"}`, which is enough to stand in
//! for the Orders API and the DTE provider a function calls.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";
const STAND_IN_BODY: &[u8] = br#"{"folio":"F-1","track_id":"T-1"}"#;

/// What the function did, in the order it did it.
#[derive(Debug)]
pub enum Signal {
    /// The runtime asked for an event: the end of a cold start, or of the previous invocation.
    Next(Instant),
    /// The runtime answered an event, with its response (`ok`) or an error report.
    Done { ok: bool, at: Instant },
    /// The function failed before it could take events.
    InitError(String),
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub signals: Receiver<Signal>,
    events: Sender<Vec<u8>>,
}

impl RuntimeApi {
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (signal_tx, signals) = channel();
        let (events, event_rx) = channel::<Vec<u8>>();
        let event_rx = Arc::new(Mutex::new(event_rx));
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (signals, events) = (signal_tx.clone(), event_rx.clone());
                thread::spawn(move || serve(stream, &signals, &events));
            }
        });
        Ok(Self { addr, signals, events })
    }

    /// Queues one event for the next `GET …/invocation/next`.
    pub fn invoke(&self, event: &[u8]) {
        // The receiver lives as long as the listener thread: sending cannot fail.
        let _ = self.events.send(event.to_vec());
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Serves one keep-alive connection until the client closes it or the events run out.
fn serve(stream: TcpStream, signals: &Sender<Signal>, events: &Mutex<Receiver<Vec<u8>>>) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut next_id = 0u64;
    while let Some(request) = read_request(&mut reader) {
        let at = Instant::now();
        let answer = if request.method == "GET" && request.path == NEXT {
            let _ = signals.send(Signal::Next(at));
            let event = events.lock().map_err(drop).and_then(|rx| rx.recv().map_err(drop));
            let Ok(event) = event else { return };
            next_id += 1;
            let headers = format!(
                "Lambda-Runtime-Aws-Request-Id: bench-{next_id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-west-2:123456789012:function:bench\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n",
                deadline_ms()
            );
            respond(&mut writer, "200 OK", &headers, &event)
        } else if request.path.starts_with(INVOCATION) {
            let _ = signals.send(Signal::Done { ok: request.path.ends_with("/response"), at });
            respond(&mut writer, "202 Accepted", "", b"{}")
        } else if request.path == INIT_ERROR {
            let _ = signals.send(Signal::InitError(String::from_utf8_lossy(&request.body).into_owned()));
            respond(&mut writer, "202 Accepted", "", b"{}")
        } else {
            respond(&mut writer, "200 OK", "", STAND_IN_BODY)
        };
        if answer.is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|&n| n > 0)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, body })
}

fn respond(writer: &mut impl Write, status: &str, headers: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n",
        body.len()
    );
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

/// Fifteen minutes from now, in milliseconds since the epoch: no invocation times out.
fn deadline_ms() -> u128 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (now + std::time::Duration::from_secs(900)).as_millis()
}
