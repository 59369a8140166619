//! The quarterly report as one self-contained HTML page, for an auditor reading it offline or on
//! paper: the run report's page shell and style sheet, no script, no external asset. Every
//! string from the history is escaped; links go to the run directories' report.html, relative
//! to `<reports>/quarterly/` where the page is written.

use super::escape::Esc;
use super::html::{heading, page};
use super::quarter::{QuarterlyReport, RunStats};
use super::quarter_markdown::{delta, opt_duration, pass_rate, pass_rate_of, plural};
use super::rows::fmt_duration;
use std::fmt::Write;

/// What the quarterly page adds to the run report's style sheet.
const EXTRA_STYLE: &str = "
a { color: #08519c; }
.banner ul { font-size: 1rem; font-weight: normal; margin: .4rem 0 0; padding-left: 1.4rem; }
td.bad { color: #a50f15; font-weight: bold; }
td ul { margin: 0; padding-left: 1.1rem; }
table.sign-off td, table.sign-off th { height: 2.8rem; vertical-align: bottom; }
table.sign-off td.blank { min-width: 11rem; }
@media print {
  a { color: inherit; text-decoration: none; }
  section.sign-off { break-inside: avoid; }
}
";

/// The quarterly report as a complete HTML document.
pub fn quarterly_html(report: &QuarterlyReport) -> String {
    let (period, previous) = (&report.period, &report.previous);
    let mut out = String::new();
    out.push_str("<header>\n");
    heading(
        &mut out,
        1,
        "top",
        &format!("Failover drills: {}", period.label),
    );
    let _ = writeln!(
        out,
        "<p>The failover drills run from {} to {} (UTC), as the run history records them, \
         compared with {}.</p>",
        Esc(&period.first_day),
        Esc(&period.last_day),
        Esc(&previous.label)
    );
    chain_banner(&mut out, report);
    out.push_str("<dl class=\"facts\">\n");
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", Esc(name), Esc(value));
    };
    fact(
        "period",
        &format!("{} to {}, UTC", period.first_day, period.last_day),
    );
    fact(
        "compared with",
        &if previous.label.contains(" to ") {
            previous.label.clone()
        } else {
            format!(
                "{}: {} to {}",
                previous.label, previous.first_day, previous.last_day
            )
        },
    );
    fact(
        "runs",
        &format!(
            "{}, of {} scenario{} covering {} runbook procedure{}; {}",
            super::quarter::runs_with_game_days(report.runs, report.game_days),
            report.scenarios.len(),
            plural(report.scenarios.len()),
            report.procedures,
            plural(report.procedures),
            pass_rate_of(report.passed, report.runs, report.not_judged),
        ),
    );
    fact(
        "failed runs",
        &match report.failed_runs.len() {
            0 => "none".to_string(),
            n => n.to_string(),
        },
    );
    fact(
        "gaps",
        &match report.gaps.len() {
            0 => "none".to_string(),
            n => format!(
                "{n} procedure{} rehearsed before, not in this period",
                plural(n)
            ),
        },
    );
    fact(
        "generated",
        &format!("{} by firedrill {}", report.generated, report.firedrill),
    );
    out.push_str("</dl>\n</header>\n<main>\n");

    scenarios(&mut out, report);
    failed_runs(&mut out, report);
    gaps(&mut out, report);
    chain(&mut out, report);
    sign_off(&mut out, report);

    out.push_str("</main>\n<footer>\n");
    let _ = writeln!(
        out,
        "<p>Written by firedrill {} from the run history (history.jsonl). Links lead to the \
         report of each run, in the reports directory next to this page's.</p>",
        Esc(&report.firedrill)
    );
    out.push_str("</footer>\n");
    page(
        &format!("Failover drills {}: quarterly report", period.label),
        EXTRA_STYLE,
        &out,
    )
}

/// Whether the history verified, in the header where it cannot be missed.
fn chain_banner(out: &mut String, report: &QuarterlyReport) {
    let chain = &report.chain;
    if chain.intact {
        out.push_str(
            "<div class=\"banner pass\" role=\"status\">Run history intact: chain verified \
             (see run history)</div>\n",
        );
        return;
    }
    let _ = writeln!(
        out,
        "<div class=\"banner fail\" role=\"status\">Run history NOT intact: {} problem{}\n<ul>",
        chain.problems.len(),
        plural(chain.problems.len())
    );
    for problem in &chain.problems {
        let _ = writeln!(out, "<li>{}</li>", Esc(problem));
    }
    out.push_str("</ul>\n</div>\n");
}

fn scenarios(out: &mut String, report: &QuarterlyReport) {
    out.push_str("<section aria-labelledby=\"scenarios\">\n");
    heading(out, 2, "scenarios", "Runs by scenario");
    if report.scenarios.is_empty() {
        out.push_str("<p>No run in this period.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<table>\n<thead><tr><th scope=\"col\">runbook procedure</th><th scope=\"col\">scenario</th>\
         <th scope=\"col\">runs</th><th scope=\"col\">passed</th>\
         <th scope=\"col\">RTO min</th><th scope=\"col\">RTO median</th><th scope=\"col\">RTO max</th>\
         <th scope=\"col\">acknowledged writes lost, total / max</th><th scope=\"col\">split brain</th>\
         <th scope=\"col\">trend against {}</th></tr></thead>\n<tbody>",
        Esc(&report.previous.label)
    );
    for s in &report.scenarios {
        let n = &s.now;
        let spread = |pick: fn(&super::quarter::Spread) -> std::time::Duration| {
            n.rto
                .as_ref()
                .map_or_else(|| "not measured".to_string(), |r| fmt_duration(pick(r)))
        };
        let (lost, lost_bad) = lost(n);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num{}\">{}</td><td{}>{}</td><td>{}</td></tr>",
            Esc(s.runbook.as_deref().unwrap_or("—")),
            Esc(&s.scenario),
            Esc(&super::quarter::runs_with_game_days(n.runs, n.game_days)),
            if n.passed < n.judged() { " bad" } else { "" },
            Esc(&pass_rate(n)),
            Esc(&spread(|r| r.min)),
            Esc(&spread(|r| r.median)),
            Esc(&spread(|r| r.max)),
            if lost_bad { " bad" } else { "" },
            Esc(&lost),
            if n.split_brain_runs > 0 {
                " class=\"bad\""
            } else {
                ""
            },
            Esc(&match n.split_brain_runs {
                0 => format!("none{}", n.split_brain_unmeasured_note()),
                k => format!("{k} run{}{}", plural(k), n.split_brain_unmeasured_note()),
            }),
            trend(s.previous.as_ref(), n),
        );
    }
    out.push_str("</tbody>\n</table>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">RTO is over the runs where it was measured (writes recovered and were \
         seen to keep succeeding for {}); writes lost over the runs with a read-back; split brain \
         over the runs where a node's role was observed. The median is the middle value, or the mean of the \
         two middle values for an even count. Pass rates are rounded to one decimal.{}</p>",
        super::rows::stable_words(),
        if report
            .scenarios
            .iter()
            .any(|s| s.now.rto_measured < s.now.runs)
        {
            format!(
                " RTO measured in: {}.",
                Esc(&report
                    .scenarios
                    .iter()
                    .filter(|s| s.now.rto_measured < s.now.runs)
                    .map(|s| format!(
                        "{}, {} of {} runs",
                        s.scenario, s.now.rto_measured, s.now.runs
                    ))
                    .collect::<Vec<_>>()
                    .join("; "))
            )
        } else {
            String::new()
        }
    );
    out.push_str("</section>\n");
}

/// "0 / 0", or the total and largest loss (bad when not zero), with how many runs were read
/// back when not all.
fn lost(stats: &RunStats) -> (String, bool) {
    match (stats.lost_writes_total, stats.lost_writes_max) {
        (Some(total), Some(max)) => {
            let lost = format!("{total} / {max}{}", stats.lost_caveat());
            let lost = if stats.lost_writes_measured == stats.runs {
                lost
            } else {
                format!(
                    "{lost} ({} of {} read back)",
                    stats.lost_writes_measured, stats.runs
                )
            };
            (lost, total > 0)
        }
        _ => (format!("not measured{}", stats.lost_caveat()), false),
    }
}

/// The median RTO and the pass rate then and now, as escaped markup.
fn trend(then: Option<&RunStats>, now: &RunStats) -> String {
    let median = |stats: &RunStats| stats.rto.map(|r| r.median);
    let rto_trend = match (then.map(median), median(now)) {
        (None, now) => format!("no runs → {}", opt_duration(now)),
        (Some(Some(a)), Some(b)) => format!(
            "{} → {} ({})",
            fmt_duration(a),
            fmt_duration(b),
            delta(a, b)
        ),
        (Some(a), b) => format!("{} → {}", opt_duration(a), opt_duration(b)),
    };
    format!(
        "median RTO {}<br>passed {} → {}",
        Esc(&rto_trend),
        Esc(&then.map_or_else(|| "no runs".to_string(), pass_rate)),
        Esc(&pass_rate(now))
    )
}

/// A link to a run directory's report.html, from `<reports>/quarterly/`: the path is
/// percent-encoded (so it stays a relative path whatever the history holds), then escaped.
fn run_link(run_dir: &str) -> String {
    let mut href = String::from("../");
    for byte in format!("{run_dir}/report.html").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            href.push(byte as char);
        } else {
            let _ = write!(href, "%{byte:02X}");
        }
    }
    format!("<a href=\"{}\">{}</a>", Esc(&href), Esc(run_dir))
}

fn failed_runs(out: &mut String, report: &QuarterlyReport) {
    out.push_str("<section aria-labelledby=\"failed\">\n");
    heading(out, 2, "failed", "Failed runs");
    if report.failed_runs.is_empty() {
        out.push_str("<p>None: every run of the period passed.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th scope=\"col\">started</th><th scope=\"col\">scenario</th>\
         <th scope=\"col\">run</th><th scope=\"col\">objectives not met</th></tr></thead>\n<tbody>\n",
    );
    for run in &report.failed_runs {
        let mut why = String::new();
        if run.failed_objectives.is_empty() {
            why.push_str("no objective failed; the run is marked failed");
        } else {
            why.push_str("<ul>");
            for o in &run.failed_objectives {
                let measured = o
                    .measured
                    .map_or_else(|| "not measured".to_string(), |m| format!("measured {m}"));
                let text = match &o.note {
                    Some(note) if o.measured.is_some() => format!("{measured} ({note})"),
                    Some(note) => note.clone(),
                    None => measured,
                };
                let _ = write!(
                    why,
                    "<li><code>{}</code>: {}</li>",
                    Esc(&o.objective),
                    Esc(&text)
                );
            }
            why.push_str("</ul>");
        }
        if run.reanalyzed {
            why.push_str("judged again by <code>firedrill analyze</code>");
        }
        let _ = writeln!(
            out,
            "<tr><td class=\"instant\">{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&run.started),
            Esc(&run.scenario),
            if run.game_day { " (game day)" } else { "" },
            run_link(&run.run_dir),
            why
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn gaps(out: &mut String, report: &QuarterlyReport) {
    out.push_str("<section aria-labelledby=\"gaps\">\n");
    heading(
        out,
        2,
        "gaps",
        &format!("Gaps: procedures not rehearsed in {}", report.period.label),
    );
    if report.gaps.is_empty() {
        out.push_str(
            "<p>None: every procedure rehearsed before was rehearsed in this period.</p>\n\
             </section>\n",
        );
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th scope=\"col\">runbook procedure</th>\
         <th scope=\"col\">rehearsed before by</th><th scope=\"col\">its latest run</th></tr>\
         </thead>\n<tbody>\n",
    );
    for gap in &report.gaps {
        for (i, last) in gap.scenarios.iter().enumerate() {
            let procedure = match (i, &gap.runbook) {
                (0, Some(runbook)) => runbook.as_str(),
                (0, None) => "— (the scenario names none)",
                _ => "",
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}, {}{}</td></tr>",
                Esc(procedure),
                Esc(&last.scenario),
                Esc(&last.started),
                run_link(&last.run_dir),
                if last.game_day { " (a game day)" } else { "" }
            );
        }
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn chain(out: &mut String, report: &QuarterlyReport) {
    out.push_str("<section aria-labelledby=\"history\">\n");
    heading(out, 2, "history", "Run history");
    let _ = writeln!(
        out,
        "<p><code>firedrill verify</code>: {}</p>",
        Esc(&report.chain.summary)
    );
    if !report.chain.problems.is_empty() {
        out.push_str("<ul>\n");
        for problem in &report.chain.problems {
            let _ = writeln!(out, "<li>{}</li>", Esc(problem));
        }
        out.push_str("</ul>\n");
    }
    if let Some(head) = &report.chain.head {
        let _ = writeln!(
            out,
            "<p>Each line of history.jsonl holds the sha256 of the line before it and of its \
             run's run.json. Line {} (sha256 <code>{}</code>) is the last this report was made \
             from: quoted with the signatures, it anchors every line up to it, and \
             <code>firedrill verify</code> shows any later change.</p>",
            head.line,
            Esc(&head.sha256)
        );
    }
    out.push_str("</section>\n");
}

fn sign_off(out: &mut String, report: &QuarterlyReport) {
    let s = &report.sign_off;
    out.push_str("<section class=\"sign-off\" aria-labelledby=\"sign-off\">\n");
    heading(out, 2, "sign-off", "Sign-off");
    out.push_str(
        "<table class=\"sign-off\">\n<thead><tr><th scope=\"col\"></th><th scope=\"col\">name</th>\
         <th scope=\"col\">signature</th><th scope=\"col\">date</th></tr></thead>\n<tbody>\n",
    );
    let cell = |value: Option<&str>| match value {
        Some(value) => format!("<td>{}</td>", Esc(value)),
        None => "<td class=\"blank\"></td>".to_string(),
    };
    let _ = writeln!(
        out,
        "<tr><th scope=\"row\">Prepared by</th>{}{}{}</tr>",
        cell(s.prepared_by.as_deref()),
        cell(None),
        cell(s.prepared_on.as_deref())
    );
    let _ = writeln!(
        out,
        "<tr><th scope=\"row\">Reviewed by</th>{}{}{}</tr>",
        cell(s.reviewed_by.as_deref()),
        cell(None),
        cell(None)
    );
    out.push_str("</tbody>\n</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::tests::{attribute_names, start_tags};
    use crate::report::quarter::{Period, quarterly_report};
    use crate::report::quarter_markdown::tests::{chain, options, two_quarters};
    use crate::report::verify::verify_history;

    fn q4(lines: &mut [crate::report::history::HistoryLine]) -> String {
        let (bytes, runs) = chain(lines);
        let verification = verify_history(&bytes, &runs);
        let period = Period::quarter("2026-Q4").unwrap();
        quarterly_html(&quarterly_report(lines, &verification, &period, &options()))
    }

    #[test]
    fn a_quarter_over_two_quarters_of_history() {
        let page = q4(&mut two_quarters());
        assert!(
            page.contains(">Run history intact: chain verified"),
            "{page}"
        );
        assert!(page.contains(
            "<a href=\"../runs/2026-11-03T14-02-11Z-patroni-primary-crash/report.html\">"
        ));
        insta::assert_snapshot!(page);
    }

    #[test]
    fn a_broken_chain_is_in_the_banner_with_its_problems() {
        let mut lines = two_quarters();
        let (bytes, runs) = chain(&mut lines);
        let text =
            String::from_utf8(bytes)
                .unwrap()
                .replacen("\"passed\":false", "\"passed\":true", 1);
        let verification = verify_history(text.as_bytes(), &runs);
        let parsed = crate::report::history::parsed_lines(text.as_bytes());
        let period = Period::quarter("2026-Q4").unwrap();
        let page = quarterly_html(&quarterly_report(
            &parsed,
            &verification,
            &period,
            &options(),
        ));
        assert!(
            page.contains(
                "<div class=\"banner fail\" role=\"status\">Run history NOT intact: 2 problems\n\
                 <ul>\n<li>line 6: edited after it was written: line 7 recorded another sha256"
            ),
            "{page}"
        );
        // Nobody named as reviewer: blank cells to sign and date.
        assert!(
            page.contains(
                "<tr><th scope=\"row\">Reviewed by</th><td class=\"blank\"></td>\
                 <td class=\"blank\"></td><td class=\"blank\"></td></tr>"
            ),
            "{page}"
        );
    }

    #[test]
    fn text_from_the_history_cannot_inject_markup() {
        let evil = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
        let mut lines = two_quarters();
        for line in &mut lines {
            line.scenario = format!("{}{evil}", line.scenario);
            line.runbook = line.runbook.as_ref().map(|r| format!("{r}{evil}"));
            line.run_dir = format!("{}{evil}", line.run_dir);
            for o in &mut line.objectives {
                o.objective = format!("{}{evil}", o.objective);
            }
        }
        let page = q4(&mut lines);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("patroni-primary-crash&lt;script&gt;alert(&#39;x&#39;)"));
        assert!(page.contains("1. Primary node crash&lt;script&gt;"));
        assert!(page.contains("lost_writes == 0&lt;script&gt;"));
        // the link's path is percent-encoded, then escaped
        assert!(
            page.contains("-patroni-primary-crash%3Cscript%3E"),
            "{page}"
        );
        let allowed = [
            "a", "body", "br", "code", "dd", "div", "dl", "dt", "footer", "h1", "h2", "head",
            "header", "html", "li", "main", "meta", "p", "section", "style", "table", "tbody",
            "td", "th", "thead", "title", "tr", "ul",
        ];
        for (name, _) in start_tags(&page) {
            assert!(
                allowed.contains(&name.as_str()),
                "unexpected element <{name}>"
            );
        }
    }

    #[test]
    fn the_page_needs_nothing_from_outside() {
        let mut hostile = two_quarters();
        for line in &mut hostile {
            line.run_dir = format!("https://evil.example/{}", line.run_dir);
        }
        for page in [q4(&mut two_quarters()), q4(&mut hostile)] {
            let mut links = 0;
            for (name, attributes) in start_tags(&page) {
                assert!(!["script", "link", "img", "iframe", "object"].contains(&name.as_str()));
                for attribute in attribute_names(&attributes) {
                    let a = attribute.to_lowercase();
                    assert!(
                        !["src", "xlink:href", "srcset", "style", "action"].contains(&a.as_str())
                            && !a.starts_with("on"),
                        "<{name} {attributes}>"
                    );
                }
                // The only links: to run reports, relative, up from quarterly/.
                if let Some(href) = attributes.strip_prefix("href=\"") {
                    assert_eq!(name, "a");
                    let href = &href[..href.find('"').unwrap()];
                    assert!(href.starts_with("../"), "{href}");
                    assert!(!href.contains(':'), "{href}");
                    assert!(href.ends_with("/report.html"), "{href}");
                    links += 1;
                }
            }
            assert!(links > 0);
            let style = page
                .split("<style>")
                .nth(1)
                .unwrap()
                .split("</style>")
                .next()
                .unwrap();
            for needle in ["url(", "@import", "@font-face", "http"] {
                assert!(!style.contains(needle), "{needle} in the style sheet");
            }
        }
        assert!(!q4(&mut two_quarters()).contains("http"));
    }

    #[test]
    fn a_period_without_runs_says_so() {
        let period = Period::quarter("2025-Q1").unwrap();
        let verification = verify_history(b"", &std::collections::BTreeMap::new());
        let page = quarterly_html(&quarterly_report(&[], &verification, &period, &options()));
        assert!(page.contains("<p>No run in this period.</p>"), "{page}");
        assert!(page.contains("<td class=\"blank\"></td>"));
    }
}
