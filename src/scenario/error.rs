//! Errors in scenario files: which file, where in it (1-based line and column) and what was
//! expected there.

use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario file that could not be read, parsed or validated.
///
/// Displays as `FILE:LINE:COL: message`, or `FILE: message` when there is no position (the file
/// could not be read).
#[derive(Debug, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct ScenarioError {
    location: Location,
    /// Boxed to keep `Result<Scenario, ScenarioError>` small.
    kind: Box<ScenarioErrorKind>,
}

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// What is wrong with a scenario file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioErrorKind {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    /// No file at the path given, and no shipped scenario of that name.
    #[error("{}", not_found(.suggestion.as_deref()))]
    NotFound {
        /// The shipped scenario closest to the name given.
        suggestion: Option<String>,
    },
    /// No shipped scenario of that name (`firedrill show`, which reads no file).
    #[error("{}", not_shipped(.suggestion.as_deref()))]
    NotShipped {
        /// The shipped scenario closest to the name given.
        suggestion: Option<String>,
    },
    /// The file is larger than any scenario file: a scenario is a few kB of TOML.
    #[error("{}", too_large(*.size, *.limit))]
    TooLarge {
        /// The file's size in bytes, when it is known (not for a pipe or a device).
        size: Option<u64>,
        /// The largest scenario file accepted, in bytes.
        limit: u64,
    },
    /// The file is not valid TOML (or not UTF-8, or not text).
    #[error("invalid TOML: {message}")]
    Syntax { message: String },
    /// A key that the table does not have.
    #[error("{}", unknown_key(.table.as_deref(), .key, .expected, .suggestion.as_deref()))]
    UnknownKey {
        /// The table as written in TOML (`[topology.patroni]`, `[[fault]]`); `None`: top level.
        table: Option<String>,
        key: String,
        /// The keys the table has.
        expected: Vec<String>,
        /// A known key close to `key`.
        suggestion: Option<String>,
    },
    /// Keys that must be given and were not.
    #[error("{}", missing_keys(.table.as_deref(), .keys))]
    MissingKeys {
        /// The table as written in TOML; `None`: top level.
        table: Option<String>,
        keys: Vec<String>,
    },
    /// An objective on a measurement firedrill does not know.
    #[error("{}", unknown_measure(.name, .suggestion.as_deref()))]
    UnknownMeasure {
        name: String,
        suggestion: Option<String>,
    },
    /// An objective on a measurement the scenario's stack, topology or workload never gives.
    #[error("objective `{measure}`: {why}, so this is never measured")]
    NeverMeasured {
        measure: String,
        /// What the scenario lacks (`the patroni stack without [topology.pgbouncer] has no
        /// pooler`).
        why: String,
    },
    /// A value of the wrong type, or out of range, or inconsistent with another one.
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted key of the value (`topology.patroni.ttl`, `fault.at`).
        key: String,
        /// What was expected and what was found.
        message: String,
    },
}

impl ScenarioError {
    /// An error without a position in the file.
    pub(super) fn new(path: &Path, kind: ScenarioErrorKind) -> Self {
        ScenarioError {
            location: Location {
                path: path.to_path_buf(),
                position: None,
            },
            kind: Box::new(kind),
        }
    }

    /// An error at byte `offset` of `text`, the contents of `path`.
    pub(super) fn at(path: &Path, text: &str, offset: usize, kind: ScenarioErrorKind) -> Self {
        ScenarioError {
            location: Location {
                path: path.to_path_buf(),
                position: Some(position(text, offset)),
            },
            kind: Box::new(kind),
        }
    }

    /// An error reported by the toml crate while parsing `text` (`syntax`: the document is not
    /// TOML) or while deserializing it into the raw types.
    pub(super) fn from_toml(path: &Path, text: &str, err: &toml::de::Error, syntax: bool) -> Self {
        let kind = if syntax {
            let message = match err.message() {
                "duplicate key" => duplicate(text, err.span()),
                "recursion limit" | "cannot recurse further; max recursion depth met" => {
                    "expected arrays, inline tables and dotted keys nested a few levels deep, \
                     found them nested too deeply"
                        .to_owned()
                }
                other => other.to_owned(),
            };
            ScenarioErrorKind::Syntax { message }
        } else {
            translate_serde(err)
        };
        let offset = err.span().map_or(0, |span| span.start);
        ScenarioError::at(path, text, offset, kind)
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        &self.location.path
    }

    /// Where in the file; `None` when the file could not be read.
    pub fn position(&self) -> Option<Position> {
        self.location.position
    }

    /// 1-based line, if the error has a position.
    pub fn line(&self) -> Option<usize> {
        self.location.position.map(|p| p.line)
    }

    /// 1-based column (in characters), if the error has a position.
    pub fn column(&self) -> Option<usize> {
        self.location.position.map(|p| p.column)
    }

    pub fn kind(&self) -> &ScenarioErrorKind {
        &self.kind
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Location {
    path: PathBuf,
    position: Option<Position>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(Position { line, column }) => {
                write!(f, "{}:{line}:{column}", self.path.display())
            }
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// The 1-based line and column of byte `offset` in `text`. An offset past the end (toml reports
/// "unexpected end of file" there) is the position just after the last character.
pub(super) fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    // The file's byte order mark is no character an editor shows.
    let line_text = &before[line_start..];
    let line_text = match line_start {
        0 => line_text.strip_prefix('\u{feff}').unwrap_or(line_text),
        _ => line_text,
    };
    Position {
        line: before.matches('\n').count() + 1,
        column: line_text.chars().count() + 1,
    }
}

/// What is wrong with a key or table given twice, whose second occurrence is at `span`.
fn duplicate(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span.filter(|span| text.get(span.clone()).is_some()) else {
        return "duplicate key, expected each key once".to_owned();
    };
    let key = text[span.clone()].trim();
    let line_start = text[..span.start].rfind('\n').map_or(0, |nl| nl + 1);
    let line = text[line_start..].lines().next().unwrap_or_default().trim();
    // A table header: name it as written, up to its closing bracket(s).
    let header = line.starts_with('[').then(|| {
        let close = if line.starts_with("[[") { "]]" } else { "]" };
        line.find(close)
            .map_or(line, |end| &line[..end + close.len()])
    });
    match header {
        Some(header @ ("[fault]" | "[[fault]]")) => format!(
            "duplicate table `{header}`, expected [[fault]] (double brackets) for every fault"
        ),
        Some(header @ ("[step]" | "[[step]]")) => format!(
            "duplicate table `{header}`, expected [[step]] (double brackets) for every step"
        ),
        Some(header) => format!(
            "duplicate table `{header}`, expected each table once (all its keys under one header)"
        ),
        None => format!("duplicate key `{key}`, expected each key once in a table"),
    }
}

fn not_found(suggestion: Option<&str>) -> String {
    let mut message = "no such file, and no shipped scenario has this name (`firedrill list` \
                       shows them)"
        .to_owned();
    if let Some(name) = suggestion {
        message.push_str(&format!("; did you mean the shipped `{name}`?"));
    }
    message
}

fn not_shipped(suggestion: Option<&str>) -> String {
    let mut message = "no shipped scenario has this name (`firedrill list` shows them)".to_owned();
    if let Some(name) = suggestion {
        message.push_str(&format!("; did you mean `{name}`?"));
    }
    message
}

/// The known name closest to `got`, if it is within an edit distance of 2.
pub(super) fn suggest<'a>(got: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|name| (edit_distance(got, name), name))
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

fn unknown_key(
    table: Option<&str>,
    key: &str,
    expected: &[String],
    suggestion: Option<&str>,
) -> String {
    let mut message = match table {
        Some(table) => format!("unknown key `{key}` in {table}"),
        None => format!("unknown top-level key `{key}`"),
    };
    match suggestion {
        Some(suggestion) => message.push_str(&format!(", did you mean `{suggestion}`?")),
        None if expected.is_empty() => message.push_str(", this table has no keys"),
        None => message.push_str(&format!(", expected one of: {}", expected.join(", "))),
    }
    message
}

fn too_large(size: Option<u64>, limit: u64) -> String {
    let found = match size {
        Some(size) => format!("{size} bytes"),
        None => format!("more than {limit} bytes"),
    };
    let mib = if limit.is_multiple_of(1 << 20) {
        format!(", {} MiB", limit >> 20)
    } else {
        String::new()
    };
    format!(
        "file too large: expected a scenario file of at most {limit} bytes{mib} (a scenario is a \
         few kB of TOML), found {found}"
    )
}

fn missing_keys(table: Option<&str>, keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    let plural = if keys.len() == 1 { "key" } else { "keys" };
    let mut message = format!("missing required {plural} {}", quoted.join(", "));
    if let Some(table) = table {
        message.push_str(&format!(" in {table}"));
    }
    message
}

fn unknown_measure(name: &str, suggestion: Option<&str>) -> String {
    let mut message = format!("unknown measurement `{name}` in [objectives]");
    match suggestion {
        Some(suggestion) => message.push_str(&format!(", did you mean `{suggestion}`?")),
        None => message.push(','),
    }
    let known: Vec<&str> = super::Measure::ALL.iter().map(|m| m.name()).collect();
    message.push_str(&format!(" expected one of: {}", known.join(", ")));
    message
}

/// Rewrites serde's messages ("invalid type: string \"three\", expected i64", "unknown field
/// `nods`, expected one of ...") into firedrill's ("topology.patroni.nodes: expected an integer,
/// found string \"three\"").
pub(super) fn translate_serde(err: &toml::de::Error) -> ScenarioErrorKind {
    let message = err.message();
    let keys = error_keys(err);
    let table = || (!keys.is_empty()).then(|| table_header(&keys));
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let mut parts = rest.split('`');
        let key = parts.next().unwrap_or_default().to_owned();
        // The rest alternates between separators and the expected names, all in backticks.
        let expected: Vec<String> = parts.skip(1).step_by(2).map(str::to_owned).collect();
        let suggestion = suggest(&key, expected.iter().map(String::as_str)).map(str::to_owned);
        return ScenarioErrorKind::UnknownKey {
            table: table(),
            key,
            expected,
            suggestion,
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default().to_owned();
        return ScenarioErrorKind::MissingKeys {
            table: table(),
            keys: vec![key],
        };
    }
    let key = if keys.is_empty() {
        "scenario".to_owned()
    } else {
        keys
    };
    let type_error = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let message = match type_error {
        // TOML integers are 64-bit; a larger one is passed on as an i128.
        Some((found, expected))
            if found.starts_with("integer") && describe_expected(expected) == "an integer" =>
        {
            let found = found.split(" as ").next().unwrap_or(found);
            format!("expected a 64-bit integer, found {}", describe_found(found))
        }
        Some((found, expected)) => format!(
            "expected {}, found {}",
            describe_expected(expected),
            describe_found(found)
        ),
        None => message.to_owned(),
    };
    ScenarioErrorKind::Invalid { key, message }
}

/// The dotted key path the toml crate attaches to a deserialization error. It only shows it in
/// its `Display` when the error carries no input, so that is how it is read.
fn error_keys(err: &toml::de::Error) -> String {
    let mut err = err.clone();
    err.set_input(None);
    let shown = err.to_string();
    shown
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("in `")?.strip_suffix('`'))
        .unwrap_or_default()
        .to_owned()
}

/// A table's dotted path as its header is written.
fn table_header(keys: &str) -> String {
    match keys {
        // arrays of tables
        "fault" | "step" => format!("[[{keys}]]"),
        _ => format!("[{keys}]"),
    }
}

fn describe_expected(expected: &str) -> String {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" => {
            "an integer".to_owned()
        }
        "a sequence" => "an array of tables".to_owned(),
        "a map" => "a table".to_owned(),
        other if other.starts_with("struct ") => "a table".to_owned(),
        other => other.to_owned(),
    }
}

fn describe_found(found: &str) -> String {
    match found {
        "map" => "a table".to_owned(),
        "sequence" => "an array".to_owned(),
        other => other.replace("floating point", "float").replace('`', ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\ncdé f\n";
        assert_eq!(position(text, 0), Position { line: 1, column: 1 });
        assert_eq!(position(text, 2), Position { line: 1, column: 3 });
        assert_eq!(position(text, 3), Position { line: 2, column: 1 });
        // "é" is two bytes: the space after it is the 4th character.
        assert_eq!(position(text, 7), Position { line: 2, column: 4 });
        // Inside a multi-byte character: the character's start.
        assert_eq!(position(text, 6), Position { line: 2, column: 3 });
        assert_eq!(position(text, text.len()), Position { line: 3, column: 1 });
        assert_eq!(position(text, 100), Position { line: 3, column: 1 });
        assert_eq!(position("", 0), Position { line: 1, column: 1 });
        // A byte order mark (3 bytes) takes no column.
        let text = "\u{feff}name = 1\n";
        assert_eq!(position(text, 10), Position { line: 1, column: 8 });
        assert_eq!(position(text, 3), Position { line: 1, column: 1 });
        assert_eq!(position(text, 1), Position { line: 1, column: 1 });
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("nods", "nodes"), 1);
        assert_eq!(edit_distance("loop-wait", "loop_wait"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn suggests_only_close_names() {
        let known = ["name", "description", "duration"];
        assert_eq!(suggest("nme", known), Some("name"));
        assert_eq!(suggest("duraton", known), Some("duration"));
        assert_eq!(suggest("colour", known), None);
    }

    #[test]
    fn display_with_and_without_position() {
        let path = Path::new("scenarios/x.toml");
        let err = ScenarioError::at(
            path,
            "a = 1\nb = 2\n",
            10,
            ScenarioErrorKind::Invalid {
                key: "b".into(),
                message: "expected a string, found integer 2".into(),
            },
        );
        assert_eq!(
            err.to_string(),
            "scenarios/x.toml:2:5: b: expected a string, found integer 2"
        );
        assert_eq!((err.line(), err.column()), (Some(2), Some(5)));
        let err = ScenarioError::new(
            path,
            ScenarioErrorKind::Read(std::io::Error::from(std::io::ErrorKind::NotFound)),
        );
        assert_eq!(
            err.to_string(),
            "scenarios/x.toml: cannot read: entity not found"
        );
        assert_eq!(err.position(), None);
    }
}
