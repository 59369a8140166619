//! Property tests of the whole reading path with bad input: arbitrary bytes, arbitrary strings
//! and the shipped scenarios mutated at random. Whatever comes in, nothing panics, and an error
//! starts with the file and a line:column inside the text.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{ScenarioError, load_bytes, parse};

const PATH: &str = "scenarios/fuzz.toml";

/// Every shipped scenario: its name and its text.
fn shipped() -> &'static [(PathBuf, String)] {
    static SHIPPED: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                (path, text)
            })
            .collect();
        files.sort();
        assert!(files.len() >= 10, "{files:?}");
        files
    })
}

/// The error's `Display` is `PATH:LINE:COL: message`, with LINE and COL those of the error and
/// inside `text`: LINE at most the number of lines (the text after the last line feed counts as
/// a line, empty or not) and COL at most one past the last character of that line.
fn check_error(path: &Path, text: &str, err: &ScenarioError) -> Result<(), TestCaseError> {
    let shown = err.to_string();
    let prefix = format!("{}:", path.display());
    let rest = shown.strip_prefix(&prefix);
    prop_assert!(rest.is_some(), "does not start with {prefix:?}: {shown}");
    let mut parts = rest.unwrap_or_default().splitn(3, ':');
    let line: Option<usize> = parts.next().and_then(|n| n.parse().ok());
    let column: Option<usize> = parts.next().and_then(|n| n.parse().ok());
    let message = parts.next().unwrap_or_default();
    let (Some(line), Some(column)) = (line, column) else {
        return Err(TestCaseError::fail(format!("no line:col: {shown}")));
    };
    prop_assert_eq!((Some(line), Some(column)), (err.line(), err.column()));
    prop_assert!(
        message.starts_with(' ') && message.trim().len() > 1,
        "{shown}"
    );
    let lines: Vec<&str> = text.split('\n').collect();
    prop_assert!(line >= 1 && line <= lines.len(), "line {line}: {shown}");
    let width = lines[line - 1].chars().count();
    prop_assert!(
        column >= 1 && column <= width + 1,
        "column {column} of {width}: {shown}"
    );
    Ok(())
}

/// Parses `text` as `path`: it loads, or its error is well formed.
fn parse_checked(path: &Path, text: &str) -> Result<(), TestCaseError> {
    match parse(path, text) {
        Ok(_) => Ok(()),
        Err(err) => check_error(path, text, &err),
    }
}

/// One change to a scenario file.
#[derive(Clone, Debug)]
enum Mutation {
    /// Removes up to `len` bytes from `at`.
    Delete {
        at: usize,
        len: usize,
    },
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Replaces what follows the `=` of the `line`th `key = value` line.
    ReplaceValue {
        line: usize,
        with: &'static str,
    },
    Insert {
        at: usize,
        text: String,
    },
    Truncate(usize),
}

/// Values of every TOML type and of every shape firedrill reads, well formed or not.
const VALUES: &[&str] = &[
    "\"x\"",
    "\"\"",
    "''",
    "3",
    "0",
    "-1",
    "99999999999999999999",
    "1.5",
    "nan",
    "-inf",
    "true",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "[]",
    "[1, \"a\"]",
    "[\"pg1\", \"pg1\"]",
    "{}",
    "{ a = 1 }",
    "\"60s\"",
    "\"0s\"",
    "\"-5s\"",
    "\"25h\"",
    "\"584942417355y\"",
    "\"<= 1s\"",
    "\"== -1\"",
    "\">= 1MB\"",
    "\"pg9\"",
    "\"etcd0\"",
    "\"group:nope\"",
    "\"leader\"",
    "\"replica:all\"",
    "\"haproxy:random\"",
    "\"all\"",
    "\"\"\"\nmulti\nline\"\"\"",
    "\"unterminated",
    "",
    "= 2",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let text = prop_oneof![
        "[\\[\\]{}=\"'#.,:\n\t\r a-z0-9_-]{1,12}",
        "\\PC{1,6}",
        any::<String>().prop_map(|s| s.chars().take(4).collect()),
        Just("\0".to_owned()),
        Just("\n[[fault]]\n".to_owned()),
        Just("\n[topology]\n".to_owned()),
        Just("\u{feff}".to_owned()),
    ];
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), prop::sample::select(VALUES))
            .prop_map(|(line, with)| Mutation::ReplaceValue { line, with }),
        (any::<usize>(), text).prop_map(|(at, text)| Mutation::Insert { at, text }),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Places in a mutation are any `usize`, taken modulo the number of places: lines, or bytes of
/// `text` with both ends included, at or before `at` the char boundary.
fn place(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    match mutation {
        Mutation::Delete { at, len } => {
            let start = place(text, *at);
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Truncate(at) => text[..place(text, *at)].to_owned(),
        Mutation::Insert { at, text: inserted } => {
            let at = place(text, *at);
            format!("{}{inserted}{}", &text[..at], &text[at..])
        }
        _ if lines.is_empty() => text.to_owned(),
        Mutation::DuplicateLine(line) => {
            let line = line % lines.len();
            let copy = lines[line].clone();
            // a last line without a line feed stays a line of its own
            let copy = if copy.ends_with('\n') {
                copy
            } else {
                format!("\n{copy}")
            };
            lines.insert(line + 1, copy);
            lines.concat()
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            lines.concat()
        }
        Mutation::ReplaceValue { line, with } => {
            let keyed: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains('=') && !lines[i].trim_start().starts_with('#'))
                .collect();
            if keyed.is_empty() {
                return text.to_owned();
            }
            let i = keyed[line % keyed.len()];
            let eq = lines[i].find('=').unwrap_or_default();
            lines[i] = format!("{} {with}\n", &lines[i][..=eq]);
            lines.concat()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let path = Path::new(PATH);
        match load_bytes(path, &bytes) {
            Ok(_) => {}
            // the position is in the valid prefix, which the lossy text keeps as it is
            Err(err) => check_error(path, &String::from_utf8_lossy(&bytes), &err)?,
        }
    }

    #[test]
    fn toml_like_bytes_never_panic(
        bytes in prop::collection::vec(
            prop::sample::select(b"[]{}=\"'#.,:\n\r\t \\0aez19-_\x7f\xc3\xa9\xff".to_vec()),
            0..300,
        )
    ) {
        let path = Path::new(PATH);
        match load_bytes(path, &bytes) {
            Ok(_) => {}
            Err(err) => check_error(path, &String::from_utf8_lossy(&bytes), &err)?,
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        parse_checked(Path::new(PATH), &text)?;
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn mutated_shipped_scenarios_never_panic(
        file in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let (path, text) = &shipped()[file % shipped().len()];
        let mut text = text.clone();
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        parse_checked(path, &text)?;
        // the same through the file reader, its size check and its UTF-8 check
        match load_bytes(path, text.as_bytes()) {
            Ok(_) => {}
            Err(err) => check_error(path, &text, &err)?,
        }
    }
}

#[test]
fn every_shipped_scenario_loads() {
    for (path, text) in shipped() {
        if let Err(err) = parse(path, text) {
            panic!("{err}");
        }
    }
}

#[test]
fn mutations_change_what_they_say() {
    let text = "a = 1\nb = 2\n[t]\n";
    let cases = [
        (Mutation::DuplicateLine(0), "a = 1\na = 1\nb = 2\n[t]\n"),
        (Mutation::DuplicateLine(4), "a = 1\nb = 2\nb = 2\n[t]\n"),
        (Mutation::SwapLines(1, 0), "b = 2\na = 1\n[t]\n"),
        (
            Mutation::ReplaceValue {
                line: 1,
                with: "[]",
            },
            "a = 1\nb = []\n[t]\n",
        ),
        (Mutation::Truncate(7), "a = 1\nb"),
        (Mutation::Truncate(text.len()), text),
        (Mutation::Delete { at: 6, len: 6 }, "a = 1\n[t]\n"),
        (Mutation::Delete { at: 14, len: 60 }, "a = 1\nb = 2\n[t"),
        (
            Mutation::Insert {
                at: 12,
                text: "\0".into(),
            },
            "a = 1\nb = 2\n\0[t]\n",
        ),
    ];
    for (mutation, expected) in cases {
        assert_eq!(apply(text, &mutation), expected, "{mutation:?}");
    }
    // a last line without a line feed is duplicated as a line
    assert_eq!(apply("a = 1", &Mutation::DuplicateLine(0)), "a = 1\na = 1");
    // places inside a character move back to its start
    assert_eq!(apply("é", &Mutation::Truncate(1)), "");
}

#[test]
fn errors_are_checked_for_their_place() {
    // the checker itself: a message that names no place, or one past the text, fails it
    let path = Path::new(PATH);
    let err = parse(path, "name = 1\n").unwrap_err();
    assert!(check_error(path, "name = 1\n", &err).is_ok(), "{err}");
    assert!(check_error(Path::new("other.toml"), "name = 1\n", &err).is_err());
    // the same error against a shorter text is out of place
    let err = parse(path, "\n\n\nname = 1\n").unwrap_err();
    assert_eq!(err.line(), Some(4), "{err}");
    assert!(check_error(path, "name = 1\n", &err).is_err());
}
