//! A PostgreSQL server just real enough to answer the client's statements, recording the name
//! of every statement the client parses, binds or closes: the proof that the client never names
//! one (what a transaction-mode pooler cannot carry from one transaction to the next).

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The row the server answers a write with: node and timeline.
pub const NODE: &str = "pg2";
pub const TIMELINE: i32 = 3;
/// A write of this sequence number is refused as read-only (SQLSTATE 25006).
pub const READ_ONLY_SEQ: i64 = 13;
/// A write of this sequence number finds the connection closed after it was sent.
pub const LOST_SEQ: i64 = 99;
/// The rows the read-back finds.
pub const PRESENT: [i64; 3] = [1, 2, 7];

/// What the client sent: statement names (parse, bind, close) and simple queries.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub statement_names: Vec<String>,
    pub parsed: Vec<String>,
    pub simple: Vec<String>,
}

/// Serves every connection on a local port until dropped; returns the port and what it saw.
pub async fn start() -> (u16, Arc<Mutex<Seen>>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, record.clone()));
        }
    });
    (port, seen, task)
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&(i32::try_from(body.len()).unwrap() + 4).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn cstr(body: &[u8], at: &mut usize) -> String {
    let end = body[*at..].iter().position(|&b| b == 0).unwrap() + *at;
    let s = String::from_utf8(body[*at..end].to_vec()).unwrap();
    *at = end + 1;
    s
}

/// Columns: name and type oid.
type Columns = Vec<(&'static str, i32)>;
/// Rows of binary values.
type Rows = Vec<Vec<Vec<u8>>>;

/// The columns and rows the server answers a query with.
fn answer(query: &str, param: Option<i64>) -> (Columns, Rows) {
    let text = |s: &str| s.as_bytes().to_vec();
    let boolean = |b: bool| vec![u8::from(b)];
    if query.starts_with("INSERT") {
        let row = vec![text(NODE), TIMELINE.to_be_bytes().to_vec()];
        (vec![("node", 25), ("timeline", 23)], vec![row])
    } else if query.contains("EXISTS") {
        let row = vec![text(NODE), boolean(true), boolean(param == Some(7))];
        (vec![("node", 25), ("rec", 16), ("there", 16)], vec![row])
    } else if query.contains("pg_is_in_recovery") {
        (
            vec![("node", 25), ("rec", 16)],
            vec![vec![text(NODE), boolean(false)]],
        )
    } else {
        let rows = PRESENT.iter().map(|s| vec![s.to_be_bytes().to_vec()]);
        (vec![("seq", 20)], rows.collect())
    }
}

async fn serve(mut socket: TcpStream, seen: Arc<Mutex<Seen>>) {
    // Startup: length, protocol, parameters. No TLS is asked for by a NoTls client.
    let len = socket.read_i32().await.unwrap();
    let mut startup = vec![0; usize::try_from(len).unwrap() - 4];
    socket.read_exact(&mut startup).await.unwrap();
    let mut out = message(b'R', &0i32.to_be_bytes());
    out.extend(message(b'Z', b"I"));
    socket.write_all(&out).await.unwrap();
    let (mut query, mut param) = (String::new(), None);
    loop {
        let Ok(tag) = socket.read_u8().await else {
            return;
        };
        let len = socket.read_i32().await.unwrap();
        let mut body = vec![0; usize::try_from(len).unwrap() - 4];
        socket.read_exact(&mut body).await.unwrap();
        let mut at = 0;
        let reply = match tag {
            b'P' => {
                let name = cstr(&body, &mut at);
                query = cstr(&body, &mut at);
                let mut seen = seen.lock().unwrap();
                seen.statement_names.push(name);
                seen.parsed.push(query.clone());
                message(b'1', b"")
            }
            b'B' => {
                let _portal = cstr(&body, &mut at);
                let name = cstr(&body, &mut at);
                seen.lock().unwrap().statement_names.push(name);
                let formats = i16::from_be_bytes([body[at], body[at + 1]]);
                at += 2 + 2 * usize::try_from(formats).unwrap();
                let params = i16::from_be_bytes([body[at], body[at + 1]]);
                at += 2;
                param = (params == 1).then_some(()).and_then(|()| {
                    let len = i32::from_be_bytes(body[at..at + 4].try_into().unwrap());
                    (len == 8)
                        .then(|| i64::from_be_bytes(body[at + 4..at + 12].try_into().unwrap()))
                });
                message(b'2', b"")
            }
            b'D' => {
                let (columns, _) = answer(&query, param);
                let mut out = message(b't', &0i16.to_be_bytes());
                let mut fields = i16::try_from(columns.len()).unwrap().to_be_bytes().to_vec();
                for (name, oid) in columns {
                    fields.extend_from_slice(name.as_bytes());
                    fields.push(0);
                    fields.extend_from_slice(&0i32.to_be_bytes());
                    fields.extend_from_slice(&0i16.to_be_bytes());
                    fields.extend_from_slice(&oid.to_be_bytes());
                    fields.extend_from_slice(&(-1i16).to_be_bytes());
                    fields.extend_from_slice(&(-1i32).to_be_bytes());
                    fields.extend_from_slice(&1i16.to_be_bytes());
                }
                out.extend(message(b'T', &fields));
                out
            }
            b'E' if query.starts_with("INSERT") && param == Some(LOST_SEQ) => return,
            b'E' if query.starts_with("INSERT") && param == Some(READ_ONLY_SEQ) => {
                let mut fields = Vec::new();
                for (code, value) in [
                    (b'S', "ERROR"),
                    (b'V', "ERROR"),
                    (b'C', "25006"),
                    (b'M', "cannot execute INSERT in a read-only transaction"),
                ] {
                    fields.push(code);
                    fields.extend_from_slice(value.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                message(b'E', &fields)
            }
            b'E' => {
                let (_, rows) = answer(&query, param);
                let mut out = Vec::new();
                for row in &rows {
                    let mut data = i16::try_from(row.len()).unwrap().to_be_bytes().to_vec();
                    for value in row {
                        data.extend_from_slice(&i32::try_from(value.len()).unwrap().to_be_bytes());
                        data.extend_from_slice(value);
                    }
                    out.extend(message(b'D', &data));
                }
                out.extend(message(b'C', format!("SELECT {}\0", rows.len()).as_bytes()));
                out
            }
            b'C' => {
                let _kind = body[0];
                at = 1;
                seen.lock()
                    .unwrap()
                    .statement_names
                    .push(cstr(&body, &mut at));
                message(b'3', b"")
            }
            b'S' => message(b'Z', b"I"),
            b'Q' => {
                let sql = cstr(&body, &mut at);
                seen.lock().unwrap().simple.push(sql.clone());
                let mut out = if sql.is_empty() {
                    message(b'I', b"")
                } else {
                    message(b'C', b"CREATE TABLE\0")
                };
                out.extend(message(b'Z', b"I"));
                out
            }
            b'X' => return,
            other => panic!("unexpected message {:?}", other as char),
        };
        if socket.write_all(&reply).await.is_err() {
            return;
        }
    }
}
