//! A run's record on disk: `run.json.gz` in its run directory (format 6 on), or `run.json` as
//! firedrill wrote it before (plain JSON, formats 1–5). Finding, reading and writing it happen
//! here and nowhere else.

use super::layout;
use crate::record::{RECORD_FORMAT, RunRecord};
use serde_json::Value;
use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The record's file in a run directory: compact JSON, the history's bulky events as tables
/// (see `layout`), gzip-compressed. `zcat run.json.gz | jq` reads it.
pub const RECORD_FILE: &str = "run.json.gz";

/// The record's file as firedrill wrote it before format 6: pretty-printed JSON, every event
/// an object. Still read; replaced by [`RECORD_FILE`] when the run is written again.
pub const PLAIN_RECORD_FILE: &str = "run.json";

/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot decompress {}: {source}", path.display())]
    Decompress {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not a firedrill run record: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{}: run record format {found} is newer than this firedrill reads ({RECORD_FORMAT})",
        path.display()
    )]
    Format { path: PathBuf, found: u32 },
    /// A record in the tabulated layout whose tables or values do not make a record.
    #[error("{}: not a firedrill run record: {message}", path.display())]
    Layout { path: PathBuf, message: String },
}

/// The record file of a run directory: `run.json.gz`, else (a run written before format 6)
/// `run.json`; `None` if it holds neither.
pub fn record_file(dir: &Path) -> Option<PathBuf> {
    [RECORD_FILE, PLAIN_RECORD_FILE]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// The record file of a run directory (its `run.json.gz` if it holds none, for the error that
/// follows), or the file itself if `path` names one.
pub fn record_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        record_file(path).unwrap_or_else(|| path.join(RECORD_FILE))
    } else {
        path.to_path_buf()
    }
}

/// Reads a stored run record: `run.json.gz`, or a `run.json` of any earlier format.
pub fn load(path: &Path) -> Result<RunRecord, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(path, &bytes)
}

/// A record from a record file's bytes, compressed or not, in either layout; `path` names it in
/// errors.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<RunRecord, LoadError> {
    let json = decompressed(path, bytes)?;
    // The format first, so a newer record is refused for what it is, not for a field it has.
    #[derive(serde::Deserialize)]
    struct Head {
        format: u32,
        #[serde(default)]
        history: Option<HistoryHead>,
    }
    #[derive(serde::Deserialize)]
    struct HistoryHead {
        #[serde(default)]
        order: Option<serde::de::IgnoredAny>,
    }
    let head = serde_json::from_slice::<Head>(&json).ok();
    if let Some(head) = &head
        && head.format > RECORD_FORMAT
    {
        return Err(LoadError::Format {
            path: path.to_path_buf(),
            found: head.format,
        });
    }
    let parse = |e: serde_json::Error| LoadError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line ").next().unwrap_or("").into(),
    };
    let tabulated = head
        .and_then(|h| h.history)
        .is_some_and(|h| h.order.is_some());
    if !tabulated {
        // every event an object (formats 1–5): read straight, errors at their line and column
        return serde_json::from_slice(&json).map_err(parse);
    }
    let layout = |message: String| LoadError::Layout {
        path: path.to_path_buf(),
        message,
    };
    let mut value: Value = serde_json::from_slice(&json).map_err(parse)?;
    let Some(history) = value.get_mut("history").and_then(Value::as_object_mut) else {
        return Err(layout("history is not an object".into()));
    };
    layout::untabulate(history).map_err(layout)?;
    serde_json::from_value(value).map_err(|e| layout(e.to_string()))
}

/// A record file's JSON: its bytes, decompressed if they are a gzip stream.
pub fn decompressed<'a>(path: &Path, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, LoadError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut json = Vec::with_capacity(bytes.len() * 8);
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|source| LoadError::Decompress {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Cow::Owned(json))
}

/// The JSON `run.json.gz` holds for `record`: compact, the history's bulky events as tables.
pub fn stored_json(record: &RunRecord) -> serde_json::Result<Vec<u8>> {
    let mut value = serde_json::to_value(record)?;
    if let Some(history) = value.get_mut("history").and_then(Value::as_object_mut) {
        layout::tabulate(history);
    }
    serde_json::to_vec(&value)
}

/// The bytes of `run.json.gz` for `record`. The same record always gives the same bytes: the
/// gzip header holds no file name and no time (mtime 0, operating system "unknown").
pub fn encode(record: &RunRecord) -> std::io::Result<Vec<u8>> {
    gzip(&stored_json(record).map_err(std::io::Error::other)?)
}

/// gzip at its best level. xz or zstd would take ~15 % less of these records, but gzip is read
/// everywhere (`zcat`), and flate2 compresses in pure Rust.
fn gzip(json: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(
            Vec::with_capacity(json.len() / 8),
            flate2::Compression::best(),
        );
    encoder.write_all(json)?;
    encoder.finish()
}

/// Writes `record` as `dir/run.json.gz` and returns that path. A `run.json` there (the record
/// as an older firedrill wrote it) gives way to it: a run directory holds one record.
///
/// If the file already holds this record's JSON, its bytes are left as they are: a re-analysis
/// that changed nothing rewrites nothing (and its digest in the run history holds), whichever
/// gzip version compressed it.
pub fn write(dir: &Path, record: &RunRecord) -> std::io::Result<PathBuf> {
    let json = stored_json(record).map_err(std::io::Error::other)?;
    let path = dir.join(RECORD_FILE);
    let unchanged = std::fs::read(&path)
        .ok()
        .is_some_and(|old| decompressed(&path, &old).is_ok_and(|old| *old == json[..]));
    if !unchanged {
        // written whole or not at all: a reader never finds half a record
        let partial = dir.join(format!("{RECORD_FILE}.partial"));
        std::fs::write(&partial, gzip(&json)?)?;
        std::fs::rename(&partial, &path)?;
    }
    match std::fs::remove_file(dir.join(PLAIN_RECORD_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(path),
    }
}

/// Edits a record file as a person would, `zcat`, a text edit, `gzip` (or a text edit of a plain
/// `run.json`), replacing `from` by `to` once; panics if `from` is not in it. For tests of what
/// an edit breaks.
#[cfg(test)]
pub(crate) fn edit_by_hand(path: &Path, from: &str, to: &str) {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8(decompressed(path, &bytes).unwrap().into_owned()).unwrap();
    assert!(text.contains(from), "{} holds no {from}", path.display());
    let edited = text.replacen(from, to, 1).into_bytes();
    let edited = if bytes.starts_with(&GZIP_MAGIC) {
        gzip(&edited).unwrap()
    } else {
        edited
    };
    std::fs::write(path, edited).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{gameday_record, restore_record, sample_record};

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// A deterministic stream of pseudo-random numbers (splitmix64): instants whose low digits
    /// are as random as a real clock's, which compress no better than real ones.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in `[low, high)` nanoseconds.
        fn ns(&mut self, low: u64, high: u64) -> u64 {
            low + self.next() % (high - low)
        }
    }

    /// A minute of the busiest drill shipped, every kind of sample at the probes' cadence: 4
    /// writers at 100 writes/s (every 10 ms, each taking 0.8–9 ms), 2 readers at 20 reads/s, each
    /// 100 ms Patroni's answer of 3 nodes, 3 etcd members' leader key, PostgreSQL's own answer
    /// of 3 nodes (the leader's `pg_stat_replication` of 2 replicas) and HAProxy's stats of 3
    /// servers, 3 pgBouncers' pools every 250 ms; a leader crash at 20 s with 10 s of refused
    /// writes, a read-back of every write, and 10 nodes' last 100 log lines.
    fn a_minute_of_the_busiest_drill() -> RunRecord {
        use crate::history::*;
        use crate::scenario::ReadEndpoint;
        const MS: u64 = 1_000_000;
        let mut noise = Noise(7);
        let mut events = Vec::new();
        let (crash, back) = (20_000 * MS, 30_000 * MS);
        let leader = |at: u64| if at < crash { "pg1" } else { "pg2" };
        let mut acknowledged = Vec::new();
        for seq in 0..6_000u64 {
            let invoke = seq * 10 * MS + noise.ns(0, 2 * MS);
            let complete = invoke + noise.ns(800_000, 9 * MS);
            let up = invoke < crash || invoke > back;
            if up {
                acknowledged.push(seq);
            }
            events.push(Event::Write(WriteOp {
                via: None,
                status: None,
                seq,
                invoke: At(invoke),
                complete: At(complete),
                outcome: if up { Outcome::Ok } else { Outcome::Fail },
                node: up.then(|| leader(invoke).to_string()),
                timeline: up.then_some(if invoke < crash { 1 } else { 2 }),
                error: (!up).then(|| "connect: connection refused (os error 111)".to_string()),
                error_kind: (!up).then_some(ErrorKind::ConnectRefused),
            }));
        }
        for k in 0..1_200u64 {
            let invoke = k * 50 * MS + noise.ns(0, 2 * MS);
            events.push(Event::Read(ReadOp {
                cache: None,
                age: None,
                invoke: At(invoke),
                complete: At(invoke + noise.ns(500_000, 4 * MS)),
                outcome: Outcome::Ok,
                through: ReadEndpoint::Replica,
                expected_seq: Some(invoke / (10 * MS)),
                node: Some(["pg2", "pg3"][(k % 2) as usize].into()),
                in_recovery: Some(true),
                visible: Some(true),
                error: None,
            }));
        }
        let nodes = ["pg1", "pg2", "pg3"];
        for tick in 0..600u64 {
            let at = tick * 100 * MS;
            let wal = 50_000_000 + tick * 2_048 + noise.ns(0, 1_024);
            // a replica has replayed all it received, but now and then
            let behind = |noise: &mut Noise, wal: u64| {
                if noise.ns(0, 10) == 0 {
                    wal - noise.ns(1, 512)
                } else {
                    wal
                }
            };
            let span = |noise: &mut Noise| {
                let sent = at + noise.ns(0, MS);
                (At(sent), At(sent + noise.ns(500_000, 15 * MS)))
            };
            for node in nodes {
                let (sent, received) = span(&mut noise);
                let leads = node == leader(at);
                events.push(Event::Role(RoleSample {
                    role: Some(if leads { Role::Leader } else { Role::Replica }),
                    epoch: Some(if at < crash { 1 } else { 2 }),
                    position: Some(wal),
                    replayed: (!leads).then(|| behind(&mut noise, wal)),
                    state: Some("running".into()),
                    streaming: if leads {
                        nodes
                            .iter()
                            .filter(|n| **n != node)
                            .map(|n| n.to_string())
                            .collect()
                    } else {
                        Vec::new()
                    },
                    ..RoleSample::self_report("patroni", node, sent, received)
                }));
            }
            for member in ["etcd1", "etcd2", "etcd3"] {
                let (sent, received) = span(&mut noise);
                let holder = Some(leader(at).to_string());
                events.push(Event::Role(RoleSample::authority(
                    "etcd", member, sent, received, holder,
                )));
            }
            for node in nodes {
                let (sent, received) = span(&mut noise);
                let leads = node == leader(at);
                let replicas = nodes
                    .iter()
                    .filter(|n| leads && **n != node)
                    .map(|n| ReplicaStat {
                        name: n.to_string(),
                        state: "streaming".into(),
                        sent: Some(wal),
                        flush: Some(wal),
                        replay: Some(behind(&mut noise, wal)),
                        // PostgreSQL's intervals are in microseconds
                        replay_lag: Some(std::time::Duration::from_micros(noise.ns(100, 2_000))),
                    })
                    .collect();
                events.push(Event::Replication(ReplicationSample {
                    node: node.into(),
                    sent,
                    received,
                    in_recovery: Some(!leads),
                    wal: leads.then_some(wal),
                    replicas,
                    error: None,
                }));
            }
            let (sent, received) = span(&mut noise);
            events.push(Event::Proxy(ProxySample {
                tier: vec![],
                sent,
                received,
                servers: nodes
                    .iter()
                    .map(|n| ProxyServer {
                        name: n.to_string(),
                        status: if *n == leader(at) { "UP" } else { "DOWN" }.into(),
                        sessions: if *n == leader(at) { noise.ns(0, 8) } else { 0 },
                    })
                    .collect(),
                error: None,
            }));
            if tick % 5 == 0 || tick % 5 == 2 {
                for (i, node) in nodes.iter().enumerate() {
                    let (sent, received) = span(&mut noise);
                    events.push(Event::Pool(PoolSample {
                        pooler: format!("pgbouncer{}", i + 1),
                        server: node.to_string(),
                        sent,
                        received,
                        pool_size: 20,
                        pools: vec![PoolStat {
                            database: "postgres".into(),
                            user: "postgres".into(),
                            cl_active: noise.ns(0, 5),
                            sv_idle: noise.ns(0, 4),
                            ..PoolStat::default()
                        }],
                        servers: (0..3)
                            .map(|_| ServerConnection {
                                database: "postgres".into(),
                                state: "idle".into(),
                                addr: format!("192.168.32.{}", 5 + i),
                                port: 5432,
                            })
                            .collect(),
                        error: None,
                    }));
                }
            }
        }
        for (action, at) in [
            (FaultAction::Inject, crash),
            (FaultAction::Heal, 40_000 * MS),
        ] {
            events.push(Event::Fault(FaultEvent {
                fault: 0,
                action,
                kind: "crash".into(),
                node: "pg1".into(),
                nodes: Vec::new(),
                at: At(at),
                done: At(at + noise.ns(10 * MS, 300 * MS)),
                detail: None,
                scheduled_at: Some(std::time::Duration::from_secs(20)),
                by_hand: false,
            }));
        }
        events.push(Event::ReadBack(ReadBack {
            at: At(61_000 * MS),
            node: "pg2".into(),
            present: acknowledged,
        }));
        let mut record = sample_record();
        record.history.events.clear();
        record.history.extend(events);
        record.measurements = crate::check::measure(&record.history);
        record.verdict = crate::check::judge(&record.scenario.objectives, &record.measurements);
        for (n, node) in [
            "etcd1",
            "etcd2",
            "etcd3",
            "pg1",
            "pg2",
            "pg3",
            "haproxy",
            "pgbouncer1",
            "pgbouncer2",
            "pgbouncer3",
        ]
        .iter()
        .enumerate()
        {
            let lines: Vec<String> = (0..100)
                .map(|i| {
                    format!(
                        "2026-11-28 08:41:{:02},{:03} UTC [{}] LOG:  {} (pid {}, lsn 0/{:X})",
                        i % 60,
                        noise.ns(0, 1_000),
                        noise.ns(100, 9_999),
                        [
                            "no action. I am a secondary and i am following a leader",
                            "checkpoint complete: wrote 3 buffers",
                            "received fast shutdown request",
                            "connection authorized: user=postgres database=postgres"
                        ][(i + n) % 4],
                        noise.ns(100, 9_999),
                        noise.ns(0x300_0000, 0x400_0000),
                    )
                })
                .collect();
            record.logs.insert(node.to_string(), lines.join("\n"));
        }
        record
    }

    /// A minute of the busiest drill stored takes well under 300 kB (the bound is the aim,
    /// 200 kB, so that new samples find room), every event kept.
    #[test]
    fn a_minute_of_drill_is_stored_in_well_under_300_kb() {
        let record = a_minute_of_the_busiest_drill();
        assert_eq!(
            record.history.events.len(),
            6_000 + 1_200 + 3_600 + 1_800 + 600 + 720 + 3
        );
        let pretty = serde_json::to_vec_pretty(&record).unwrap().len();
        let stored = encode(&record).unwrap();
        assert!(
            stored.len() < 200_000,
            "{} bytes stored for a minute of drill ({pretty} as pretty JSON)",
            stored.len()
        );
        assert_eq!(decode(Path::new("x"), &stored).unwrap(), record);
        eprintln!(
            "a minute of drill: {} bytes stored, {pretty} as pretty JSON",
            stored.len()
        );
    }

    #[test]
    fn a_record_is_written_gzipped_and_reads_back_equal_with_the_same_bytes_each_time() {
        let dir = tempfile::tempdir().unwrap();
        for record in [sample_record(), restore_record(false), gameday_record()] {
            let path = write(dir.path(), &record).unwrap();
            assert_eq!(path, dir.path().join(RECORD_FILE));
            assert_eq!(record_file(dir.path()), Some(path.clone()));
            let bytes = std::fs::read(&path).unwrap();
            // gzip, with no name and no time in its header: the same record, the same bytes
            assert_eq!(bytes[..4], [0x1f, 0x8b, 8, 0]);
            assert_eq!(bytes[4..8], [0, 0, 0, 0]);
            assert_eq!(bytes, encode(&record).unwrap());
            let loaded = load(&path).unwrap();
            assert_eq!(loaded, record);
            assert_eq!(
                serde_json::to_vec(&loaded.history).unwrap(),
                serde_json::to_vec(&record.history).unwrap(),
                "the history serialises as it did: its digest holds"
            );
            // compact JSON inside: what `zcat | jq` reads
            let json = decompressed(&path, &bytes).unwrap();
            assert_eq!(*json, stored_json(&record).unwrap()[..]);
            assert!(!json.contains(&b'\n'));
        }
    }

    #[test]
    fn writing_the_same_record_again_leaves_the_file_and_replaces_an_older_run_json() {
        let dir = tempfile::tempdir().unwrap();
        let record = sample_record();
        let plain = dir.path().join(PLAIN_RECORD_FILE);
        std::fs::write(&plain, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
        assert_eq!(record_file(dir.path()), Some(plain.clone()));
        assert_eq!(record_path(dir.path()), plain);

        let path = write(dir.path(), &record).unwrap();
        assert!(!plain.exists(), "one record per run directory");
        assert_eq!(record_path(dir.path()), path);
        // bytes compressed otherwise (another gzip version): the same record leaves them be
        let other = {
            let json = stored_json(&record).unwrap();
            let mut encoder =
                flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&json).unwrap();
            encoder.finish().unwrap()
        };
        std::fs::write(&path, &other).unwrap();
        write(dir.path(), &record).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), other);
        // another record replaces them
        let mut changed = record.clone();
        changed.seed += 1;
        write(dir.path(), &changed).unwrap();
        assert_eq!(load(&path).unwrap(), changed);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [RECORD_FILE], "no partial file left");
    }

    #[test]
    fn an_empty_directory_has_no_record_and_its_path_names_the_file_expected() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(record_file(dir.path()), None);
        assert_eq!(record_path(dir.path()), dir.path().join(RECORD_FILE));
        let err = load(&record_path(dir.path())).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read ") && err.contains("run.json.gz: "),
            "{err}"
        );
    }

    #[test]
    fn plain_records_of_every_format_load_compressed_or_not() {
        let file = root().join("tests/fixtures/format-2/sample.run.json");
        let text = std::fs::read(&file).unwrap();
        let plain = decode(&file, &text).unwrap();
        assert_eq!(plain.format, 2);
        // a run.json gzipped by hand reads the same
        let zipped = gzip(&text).unwrap();
        assert_eq!(decode(&file, &zipped).unwrap(), plain);
        // and a run.json.gz gunzipped by hand
        let record = sample_record();
        let json = stored_json(&record).unwrap();
        assert_eq!(decode(&file, &json).unwrap(), record);
    }

    #[test]
    fn bad_files_are_refused_for_what_they_are() {
        let path = Path::new("runs/x/run.json.gz");
        let mut bytes = encode(&sample_record()).unwrap();
        bytes.truncate(bytes.len() / 2);
        let err = decode(path, &bytes).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot decompress runs/x/run.json.gz: "),
            "{err}"
        );

        let mut newer = sample_record();
        newer.format = RECORD_FORMAT + 1;
        let err = decode(path, &encode(&newer).unwrap()).unwrap_err();
        assert!(matches!(err, LoadError::Format { found, .. } if found == RECORD_FORMAT + 1));

        let err = decode(path, b"{\"format\": 1,\n \"run_id\": 7}").unwrap_err();
        assert!(
            err.to_string().starts_with("runs/x/run.json.gz:2:"),
            "{err}"
        );

        let mut json: Value =
            serde_json::from_slice(&stored_json(&sample_record()).unwrap()).unwrap();
        json["history"]["order"] = Value::String("w".into());
        let err = decode(path, &serde_json::to_vec(&json).unwrap()).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "runs/x/run.json.gz: not a firedrill run record: history.others holds more"
            ),
            "{err}"
        );
    }
}
