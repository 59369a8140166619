//! Escaping text for HTML, SVG and Markdown: every string that comes from a record (scenario
//! names and descriptions, error texts, node names, versions read from containers) goes through
//! here.

use std::borrow::Cow;
use std::fmt;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references: safe both as element
/// content and inside a double- or single-quoted attribute value, in HTML and in XML (SVG).
/// Control characters other than tab, newline and carriage return, which XML forbids, are
/// replaced by U+FFFD.
pub fn escape(text: &str) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || forbidden(c);
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if forbidden(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters XML 1.0 does not allow in a document.
fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Displays its text escaped, for `write!` and `format!`.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// `text` as Markdown text that stays within one GFM table cell (or one line): `|` escaped,
/// each line break (`\r\n`, `\n`, `\r`) made `<br>`, and `<` and `&` made references so that
/// the record's text is never read as HTML.
pub fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a Markdown code span that stays within one GFM table cell: `|` escaped (GFM
/// removes the backslash, even in code), line breaks made spaces, fenced with more backticks
/// than any run of them inside.
pub fn md_code(text: &str) -> String {
    let flat = text
        .replace("\r\n", " ")
        .replace(['\r', '\n'], " ")
        .replace('|', "\\|");
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(escape("pg1 → pg2, 10.058s"), Cow::Borrowed(_)));
    }

    #[test]
    fn markup_and_quotes_become_references() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        // an attribute cannot be closed from inside its value
        assert_eq!(
            format!("<a title=\"{}\">", Esc("\" onmouseover=\"x")),
            "<a title=\"&quot; onmouseover=&quot;x\">"
        );
        // references already present are escaped again, not trusted
        assert_eq!(escape("&lt;"), "&amp;lt;");
    }

    #[test]
    fn markdown_cells_keep_pipes_and_line_breaks_inside() {
        assert_eq!(md_cell("plain text, 1.5s"), "plain text, 1.5s");
        assert_eq!(
            md_cell("a | b\nc\r\nd\re <b>&"),
            "a \\| b<br>c<br>d<br>e &lt;b>&amp;"
        );
        assert_eq!(md_code("rto <= 30s"), "`rto <= 30s`");
        assert_eq!(md_code("a|b\nc"), "`a\\|b c`");
        assert_eq!(md_code("x `y` z"), "``x `y` z``");
        assert_eq!(md_code("`y`"), "`` `y` ``");
    }

    #[test]
    fn control_characters_xml_forbids_are_replaced() {
        assert_eq!(
            escape("a\u{0}b\u{1b}[31mc\td\ne"),
            "a\u{FFFD}b\u{FFFD}[31mc\td\ne"
        );
    }
}
