//! The history's stored layout (format 6): the bulky events, the probes' samples and the
//! workload's operations, as one table per event type, column by column, each instant stored
//! as a difference from the instant before it.
//!
//! Why: a minute of drill holds ~13 000 such events. As objects, their repeated keys and their
//! 10-digit nanosecond instants made a record of ~3.4 MB of pretty JSON (1.8 MB compact) that
//! gzip brings only to ~270 kB; as tables of differences the same record gzips to ~147 kB
//! (measured on real one-minute drills, `patroni-primary-crash` and `pgbackrest-restore-pitr`).
//! What is left is mostly the instants' own noise: nanoseconds, kept exact. Nothing is
//! rounded or left out: decoding gives back every event as the object it was (the same `type`,
//! the same fields and values), in the same order, so the history loads equal to the one
//! written and its digest in the run history still holds.

use serde_json::{Map, Value};

/// Where a column's stored value is counted from.
enum Base {
    /// The same column in the table's row before (0 for the first row): `invoke`, `sent`.
    Previous,
    /// An earlier column of the same row: `complete` from `invoke`.
    Column(usize),
}

/// How the events of one `type` are stored.
struct Table {
    /// The events' `type`.
    kind: &'static str,
    /// The event's letter in `order`.
    code: char,
    /// Integer fields stored as differences, one list each.
    columns: &'static [(&'static str, Base)],
    /// Fields holding an ascending list of integers, stored as differences from the one before
    /// (the read-back's `present`: 1, 1, 1, ...).
    lists: &'static [&'static str],
}

/// A sample held in `[sent, received]`: `sent` from the sample before, `received` from `sent`.
const SPAN: &[(&str, Base)] = &[("sent", Base::Previous), ("received", Base::Column(0))];

/// An operation: `invoke` from the one before, `complete` from `invoke`.
const OPERATION: &[(&str, Base)] = &[("invoke", Base::Previous), ("complete", Base::Column(0))];

const TABLES: &[Table] = &[
    Table {
        kind: "write",
        code: 'w',
        columns: &[
            ("seq", Base::Previous),
            ("invoke", Base::Previous),
            ("complete", Base::Column(1)),
        ],
        lists: &[],
    },
    Table {
        kind: "read",
        code: 'r',
        columns: OPERATION,
        lists: &[],
    },
    Table {
        kind: "role",
        code: 's',
        columns: SPAN,
        lists: &[],
    },
    Table {
        kind: "replication",
        code: 'l',
        columns: SPAN,
        lists: &[],
    },
    Table {
        kind: "proxy",
        code: 'x',
        columns: SPAN,
        lists: &[],
    },
    Table {
        kind: "pool",
        code: 'o',
        columns: SPAN,
        lists: &[],
    },
    // formats 1–2 (kept as recorded when such a record is written again)
    Table {
        kind: "probe",
        code: 'p',
        columns: SPAN,
        lists: &[],
    },
    Table {
        kind: "leader_key",
        code: 'k',
        columns: SPAN,
        lists: &[],
    },
    Table {
        kind: "read_back",
        code: 'b',
        columns: &[("at", Base::Previous)],
        lists: &["present"],
    },
];

/// The letter in `order` of an event kept whole in `others`.
const OTHER: char = 'e';

/// The column holding each row's other fields, as an object.
const FIELDS: &str = "fields";

/// One table being filled.
#[derive(Default)]
struct Filling {
    columns: Vec<Vec<Value>>,
    previous: Vec<u64>,
    fields: Vec<Value>,
}

/// Replaces `history.events` (every event an object, in order) by `order`, `tables` and
/// `others`: each event of a table's `type` is a row of that table, any other event (a fault,
/// a step, a note; an event a table cannot hold exactly) stays whole in `others`, and `order`
/// holds one letter per event, in the history's order, saying where it went.
pub(super) fn tabulate(history: &mut Map<String, Value>) {
    let events = match history.remove("events") {
        Some(Value::Array(events)) => events,
        _ => Vec::new(),
    };
    let mut order = String::with_capacity(events.len());
    let mut filling: Vec<Filling> = TABLES.iter().map(|_| Filling::default()).collect();
    let mut others = Vec::new();
    for event in events {
        let table = event
            .get("type")
            .and_then(Value::as_str)
            .and_then(|kind| TABLES.iter().position(|t| t.kind == kind));
        match table.and_then(|t| row(&TABLES[t], &event).map(|row| (t, row))) {
            Some((t, (values, fields))) => {
                let (table, filling) = (&TABLES[t], &mut filling[t]);
                if filling.columns.is_empty() {
                    filling.columns = vec![Vec::new(); table.columns.len()];
                    filling.previous = vec![0; table.columns.len()];
                }
                for (i, (_, base)) in table.columns.iter().enumerate() {
                    let from = match base {
                        Base::Previous => filling.previous[i],
                        Base::Column(j) => values[*j],
                    };
                    filling.columns[i].push(Value::from(difference(values[i], from)));
                    filling.previous[i] = values[i];
                }
                filling.fields.push(Value::Object(fields));
                order.push(table.code);
            }
            None => {
                others.push(event);
                order.push(OTHER);
            }
        }
    }
    let mut tables = Map::new();
    for (table, filling) in TABLES.iter().zip(filling) {
        if filling.fields.is_empty() {
            continue;
        }
        let mut stored = Map::new();
        for ((name, _), column) in table.columns.iter().zip(filling.columns) {
            stored.insert((*name).to_string(), Value::Array(column));
        }
        stored.insert(FIELDS.to_string(), Value::Array(filling.fields));
        tables.insert(table.kind.to_string(), Value::Object(stored));
    }
    history.insert("order".into(), Value::String(order));
    history.insert("tables".into(), Value::Object(tables));
    history.insert("others".into(), Value::Array(others));
}

/// An event as a row of `table`: its columns' values and its other fields (less `type`, its
/// lists stored as differences); `None` if the table cannot hold it exactly (a column missing or
/// not an unsigned integer, a list not of unsigned integers).
fn row(table: &Table, event: &Value) -> Option<(Vec<u64>, Map<String, Value>)> {
    let mut fields = event.as_object()?.clone();
    fields.remove("type");
    let mut values = Vec::with_capacity(table.columns.len());
    for (name, _) in table.columns {
        values.push(fields.remove(*name)?.as_u64()?);
    }
    for name in table.lists {
        let Some(Value::Array(items)) = fields.get_mut(*name) else {
            return None;
        };
        let mut from = 0;
        for item in items.iter_mut() {
            let value = item.as_u64()?;
            *item = Value::from(difference(value, from));
            from = value;
        }
    }
    Some((values, fields))
}

/// `value - from` as a signed number; `from + difference` gives `value` back for any two
/// unsigned 64-bit integers (both wrap).
fn difference(value: u64, from: u64) -> i64 {
    value.wrapping_sub(from) as i64
}

fn add(from: u64, difference: i64) -> u64 {
    from.wrapping_add(difference as u64)
}

/// The inverse of [`tabulate`]: puts back `events`, every event an object, in order. Fails,
/// saying why in lower case, on tables that do not match `order`.
pub(super) fn untabulate(history: &mut Map<String, Value>) -> Result<(), String> {
    let order = match history.remove("order") {
        Some(Value::String(order)) => order,
        _ => return Err("history.order is not a string".into()),
    };
    let tables = match history.remove("tables") {
        Some(Value::Object(tables)) => tables,
        None => Map::new(),
        Some(_) => return Err("history.tables is not an object".into()),
    };
    let others = match history.remove("others") {
        Some(Value::Array(others)) => others,
        None => Vec::new(),
        Some(_) => return Err("history.others is not an array".into()),
    };
    if let Some(unknown) = tables.keys().find(|k| !TABLES.iter().any(|t| t.kind == *k)) {
        return Err(format!("history.tables.{unknown}: no such table"));
    }
    let mut reading: Vec<Option<Reading>> = TABLES
        .iter()
        .map(|t| {
            tables
                .get(t.kind)
                .map(|stored| Reading::new(t, stored))
                .transpose()
        })
        .collect::<Result<_, _>>()?;
    let mut others = others.into_iter();
    let mut events = Vec::with_capacity(order.len());
    for code in order.chars() {
        if code == OTHER {
            let event = others
                .next()
                .ok_or("history.order names more `e` events than history.others holds")?;
            events.push(event);
            continue;
        }
        let t = TABLES
            .iter()
            .position(|t| t.code == code)
            .ok_or_else(|| format!("history.order: no table has the letter `{code}`"))?;
        let table = &TABLES[t];
        let reading = reading[t].as_mut().ok_or_else(|| {
            format!(
                "history.order names `{code}`, but there is no {} table",
                table.kind
            )
        })?;
        events.push(reading.next(table)?);
    }
    if others.next().is_some() {
        return Err("history.others holds more events than history.order names".into());
    }
    for (table, reading) in TABLES.iter().zip(&reading) {
        if let Some(reading) = reading
            && reading.row < reading.fields.len()
        {
            return Err(format!(
                "history.tables.{} holds {} rows, history.order names {}",
                table.kind,
                reading.fields.len(),
                reading.row
            ));
        }
    }
    history.insert("events".into(), Value::Array(events));
    Ok(())
}

/// One table being read, row by row.
struct Reading<'a> {
    columns: Vec<&'a [Value]>,
    previous: Vec<u64>,
    fields: &'a [Value],
    row: usize,
}

impl<'a> Reading<'a> {
    fn new(table: &Table, stored: &'a Value) -> Result<Reading<'a>, String> {
        let name = |column: &str| format!("history.tables.{}.{column}", table.kind);
        let list = |column: &str| match stored.get(column) {
            Some(Value::Array(items)) => Ok(items.as_slice()),
            _ => Err(format!("{} is not an array", name(column))),
        };
        let fields = list(FIELDS)?;
        let mut columns = Vec::new();
        for (column, _) in table.columns {
            let items = list(column)?;
            if items.len() != fields.len() {
                return Err(format!(
                    "{} holds {} values for {} rows",
                    name(column),
                    items.len(),
                    fields.len()
                ));
            }
            columns.push(items);
        }
        Ok(Reading {
            previous: vec![0; columns.len()],
            columns,
            fields,
            row: 0,
        })
    }

    /// The next row as the event it was.
    fn next(&mut self, table: &Table) -> Result<Value, String> {
        let at = |what: &str| format!("history.tables.{}.{what}[{}]", table.kind, self.row);
        let Some(Value::Object(fields)) = self.fields.get(self.row) else {
            return Err(if self.row >= self.fields.len() {
                format!(
                    "history.order names more `{}` events than history.tables.{} holds",
                    table.code, table.kind
                )
            } else {
                format!("{} is not an object", at(FIELDS))
            });
        };
        let mut event = Map::with_capacity(fields.len() + table.columns.len() + 1);
        event.insert("type".into(), Value::String(table.kind.into()));
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, (name, base)) in table.columns.iter().enumerate() {
            let stored = self.columns[i][self.row]
                .as_i64()
                .ok_or_else(|| format!("{} is not an integer", at(name)))?;
            let from = match base {
                Base::Previous => self.previous[i],
                Base::Column(j) => values[*j],
            };
            let value = add(from, stored);
            self.previous[i] = value;
            values.push(value);
            event.insert((*name).to_string(), Value::from(value));
        }
        for (name, value) in fields {
            let value = if table.lists.contains(&name.as_str()) {
                let Value::Array(items) = value else {
                    return Err(format!(
                        "{} is not an array",
                        at(&format!("{FIELDS}.{name}"))
                    ));
                };
                let mut from = 0;
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    let stored = item.as_i64().ok_or_else(|| {
                        format!(
                            "{} holds a value that is not an integer",
                            at(&format!("{FIELDS}.{name}"))
                        )
                    })?;
                    from = add(from, stored);
                    list.push(Value::from(from));
                }
                Value::Array(list)
            } else {
                value.clone()
            };
            event.insert(name.clone(), value);
        }
        self.row += 1;
        Ok(Value::Object(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn history(events: Value) -> Map<String, Value> {
        let Value::Object(map) = json!({"started_wall": "x", "events": events}) else {
            unreachable!()
        };
        map
    }

    fn round_trip(events: Value) -> Map<String, Value> {
        let original = history(events);
        let mut stored = original.clone();
        tabulate(&mut stored);
        assert!(stored.contains_key("order"));
        let text = serde_json::to_string(&stored).unwrap();
        let mut read: Map<String, Value> = serde_json::from_str(&text).unwrap();
        untabulate(&mut read).unwrap();
        assert_eq!(read, original);
        stored
    }

    #[test]
    fn bulky_events_become_rows_of_differences_and_come_back_whole_in_order() {
        let stored = round_trip(json!([
            {"type": "write", "seq": 1, "invoke": 1_000, "complete": 1_700, "outcome": "ok", "node": "pg1", "timeline": 1},
            {"type": "role", "source": "etcd", "view": "authority", "asked": "etcd1", "sent": 1_100, "received": 1_150},
            {"type": "fault", "fault": 0, "action": "inject", "kind": "crash", "node": "pg1", "at": 1_200, "done": 1_300},
            {"type": "write", "seq": 2, "invoke": 1_250, "complete": 1_240, "outcome": "fail", "error": "x"},
            {"type": "read_back", "at": 9_000, "node": "pg2", "present": [1, 2, 3, 7]},
        ]));
        assert_eq!(stored["order"], "wsewb");
        assert_eq!(
            stored["tables"]["write"],
            json!({
                "seq": [1, 1],
                "invoke": [1_000, 250],
                // a complete before its invoke (never seen, but kept): a negative difference
                "complete": [700, -10],
                "fields": [{"outcome": "ok", "node": "pg1", "timeline": 1}, {"outcome": "fail", "error": "x"}],
            })
        );
        assert_eq!(
            stored["tables"]["read_back"]["fields"][0]["present"],
            json!([1, 1, 1, 4])
        );
        assert_eq!(stored["others"][0]["type"], "fault");
        assert!(stored["tables"].get("proxy").is_none(), "no empty table");
    }

    #[test]
    fn an_event_a_table_cannot_hold_exactly_stays_whole() {
        let stored = round_trip(json!([
            // a column missing, a column not an unsigned integer, a list not of integers
            {"type": "write", "seq": 1, "invoke": 5, "outcome": "ok"},
            {"type": "proxy", "sent": -3, "received": 4},
            {"type": "read_back", "at": 1, "node": "pg1", "present": [1, "2"]},
            {"type": "proxy", "sent": 5, "received": 6, "servers": []},
            {"type": "something_new", "at": 7},
            "not an object",
        ]));
        assert_eq!(stored["order"], "eeexee");
        assert_eq!(stored["others"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn the_extremes_of_an_instant_survive() {
        round_trip(json!([
            {"type": "proxy", "sent": u64::MAX, "received": 0},
            {"type": "proxy", "sent": 0, "received": u64::MAX},
            {"type": "read_back", "at": u64::MAX, "node": "pg1", "present": [0, u64::MAX, 3]},
        ]));
        round_trip(json!([]));
    }

    #[test]
    fn tables_that_do_not_match_the_order_are_refused() {
        let mut good = history(json!([
            {"type": "proxy", "sent": 1, "received": 2},
            {"type": "note", "at": 3, "text": "t"},
        ]));
        tabulate(&mut good);
        let broken = |edit: &dyn Fn(&mut Map<String, Value>)| {
            let mut h = good.clone();
            edit(&mut h);
            untabulate(&mut h).unwrap_err()
        };
        assert_eq!(
            broken(&|h| {
                h.insert("order".into(), json!("xxe"));
            }),
            "history.order names more `x` events than history.tables.proxy holds"
        );
        assert_eq!(
            broken(&|h| {
                h.insert("order".into(), json!("x"));
            }),
            "history.others holds more events than history.order names"
        );
        assert_eq!(
            broken(&|h| {
                h.insert("order".into(), json!("xz"));
            }),
            "history.order: no table has the letter `z`"
        );
        assert_eq!(
            broken(&|h| {
                h.insert("order".into(), json!("e"));
            }),
            "history.tables.proxy holds 1 rows, history.order names 0"
        );
        assert_eq!(
            broken(&|h| {
                h["tables"]["proxy"]["sent"] = json!([1, 2]);
            }),
            "history.tables.proxy.sent holds 2 values for 1 rows"
        );
        assert_eq!(
            broken(&|h| {
                h["tables"]["proxy"]["sent"] = json!(["1"]);
            }),
            "history.tables.proxy.sent[0] is not an integer"
        );
        assert_eq!(
            broken(&|h| {
                h["tables"]["proxy"]["fields"] = json!([1]);
            }),
            "history.tables.proxy.fields[0] is not an object"
        );
        assert_eq!(
            broken(&|h| {
                h["tables"]["wal"] = json!({});
            }),
            "history.tables.wal: no such table"
        );
    }

    /// reports/run-json.md names every part of this layout: its keys, each table, each column
    /// and each letter of `order`.
    #[test]
    fn the_run_json_schema_documents_the_layout() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/run-json.md"),
        )
        .unwrap();
        let mut names: Vec<String> = ["order", "tables", "others", FIELDS, "run.json.gz"]
            .map(String::from)
            .to_vec();
        names.push(OTHER.to_string());
        for table in TABLES {
            names.push(table.kind.into());
            names.push(table.code.to_string());
            names.extend(table.columns.iter().map(|(c, _)| c.to_string()));
            names.extend(table.lists.iter().map(|l| l.to_string()));
            let letter = format!("`{}` the `{}` table", table.code, table.kind);
            let named = format!("`{}` `{}`", table.code, table.kind);
            assert!(
                doc.contains(&letter) || doc.contains(&named),
                "run-json.md does not give `{}` as the letter of {}",
                table.code,
                table.kind
            );
        }
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !doc.contains(&format!("`{n}`")))
            .collect();
        assert!(missing.is_empty(), "not in run-json.md: {missing:?}");
    }

    #[test]
    fn every_table_has_its_own_letter() {
        let mut codes: Vec<char> = TABLES.iter().map(|t| t.code).collect();
        codes.push(OTHER);
        let count = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count);
        // a column counted from another is counted from an earlier one (decoded first)
        for table in TABLES {
            for (i, (_, base)) in table.columns.iter().enumerate() {
                if let Base::Column(j) = base {
                    assert!(*j < i, "{}", table.kind);
                }
            }
        }
    }
}
