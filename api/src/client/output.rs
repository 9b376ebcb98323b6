//! Printing: aligned tables and fields for people, the server's JSON for machines, errors either way,
//! and the y/N confirmation.
//!
//! Everything shown to people passes through [`crate::console`]'s escaping, so server data cannot
//! drive the terminal; `--json` prints the server's JSON exactly. A closed stdout surfaces as
//! [`ClientError::Stdout`], which ends the command quietly (see [`crate::console`]).
use super::error::{ClientError, ClientResult};
use crate::console::{escape, escape_keeping_lines, escaped_width};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};

/// Longest cell shown in a table before it is cut with `…`.
const MAX_CELL: usize = 48;

/// Text for people on stdout, hidden characters other than line breaks escaped.
pub fn out(text: &str) -> ClientResult {
    crate::console::print(&escape_keeping_lines(text)).map_err(ClientError::Stdout)
}

/// Pretty JSON on stdout, exactly as serialized.
pub fn print_json(value: &Value) -> ClientResult {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    crate::console::print(&pretty).map_err(ClientError::Stdout)
}

/// A `{"message": …}` success answer: the message for people, the JSON for machines.
pub fn print_message(answer: &Value, as_json: bool) -> ClientResult {
    if as_json {
        print_json(answer)
    } else {
        out(&escape(&text(answer, "message")))
    }
}

/// A note for people on stderr (never with a key in it).
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// Reports a failure: `{"error": …}` on stdout with `--json`, text on stderr otherwise (the
/// server's message escaped like any other server data).
pub fn report_error(error: &ClientError, as_json: bool) {
    if as_json {
        let body = match error {
            ClientError::Server {
                status, message, ..
            } => json!({ "error": message, "status": status }),
            other => json!({ "error": other.to_string() }),
        };
        // Failing to report a failure leaves nothing better to do: the exit code still tells.
        let _ = print_json(&body);
        return;
    }
    eprintln!("apikeyd: {}", escape(&error.to_string()));
    if let ClientError::Server {
        hint: Some(hint), ..
    } = error
    {
        eprintln!("hint: {}", escape(hint));
    }
}

/// Aligned columns with a header row; cells escaped, long ones cut.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cut: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| shorten(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cut {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    std::iter::once(&header)
        .chain(&cut)
        .map(|row| line(row, &widths))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Label:  value` lines with the values aligned and escaped.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    pairs
        .iter()
        .map(|(label, value)| format!("{:<width$}  {}", format!("{label}:"), escape(value)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A string field of a JSON object, "" when missing or not a string.
pub fn text(item: &Value, field: &str) -> String {
    match item.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A timestamp field for people (`2027-01-31 12:00:00 UTC`); shown as sent when it does not parse.
pub fn when(item: &Value, field: &str) -> String {
    let raw = text(item, field);
    chrono::DateTime::parse_from_rfc3339(&raw)
        .map_or(raw, |at| super::time::show(at.with_timezone(&chrono::Utc)))
}

/// `expiresAt` for people: `Never` when empty.
pub fn expires(item: &Value) -> String {
    if text(item, "expiresAt").is_empty() {
        "Never".to_owned()
    } else {
        when(item, "expiresAt")
    }
}

/// `isActive` for people: only the string "true" is active, as VAMS reads it.
pub fn active(item: &Value) -> String {
    let yes = item.get("isActive").and_then(Value::as_str) == Some("true");
    if yes { "yes" } else { "no" }.to_owned()
}

/// Asks `question` with y/N on the terminal unless `yes`; without a terminal, `--yes` is required.
pub fn confirm(question: &str, yes: bool) -> ClientResult {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(ClientError::Usage(
            "not confirmed: pass --yes (stdin is not a terminal, so there is no one to ask)".into(),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(ClientError::Refused("aborted: nothing was deleted".into())),
    }
}

/// The cell escaped and, when longer than [`MAX_CELL`], cut before an escape that would not fit.
fn shorten(cell: &str) -> String {
    let shown = escape(cell);
    if shown.chars().count() <= MAX_CELL {
        return shown.into_owned();
    }
    let mut kept = String::new();
    let mut width = 0;
    for c in cell.chars() {
        width += escaped_width(c);
        if width > MAX_CELL - 1 {
            break;
        }
        kept.push(c);
    }
    format!("{}…", escape(&kept))
}

fn line(row: &[String], widths: &[usize]) -> String {
    let last = row.len().saturating_sub(1);
    row.iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, width))| {
            if i == last {
                cell.clone()
            } else {
                format!("{cell:<width$}")
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_cuts_long_cells() {
        let rows = vec![
            vec!["a".to_owned(), "x".repeat(60), "end".to_owned()],
            vec!["long name".to_owned(), "y".to_owned(), "z".to_owned()],
        ];
        let shown = table(&["Name", "Text", "Last"], &rows);
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("Name       Text"));
        assert!(lines[1].contains('…'));
        // Display columns are characters, not bytes ('…' is three bytes).
        let column = |l: &str| {
            let byte = l.find("end").or_else(|| l.find('z')).unwrap();
            l[..byte].chars().count()
        };
        assert_eq!(column(lines[1]), column(lines[2]));
    }

    #[test]
    fn cells_and_fields_escape_hidden_characters() {
        let rows = vec![vec!["\u{1b}[31mred".to_owned(), "bob\u{200b}".to_owned()]];
        let shown = table(&["Name", "User"], &rows);
        assert!(shown.contains("\\u{1b}[31mred"), "{shown}");
        assert!(shown.contains("bob\\u{200b}"), "{shown}");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{200b}'));
        let long = format!("{}\u{1b}tail", "x".repeat(45));
        let cut = shorten(&long);
        assert_eq!(cut, format!("{}…", "x".repeat(45)), "no half escape");
        let shown = fields(&[("Description", "two\nlines\u{202e}".to_owned())]);
        assert_eq!(shown, "Description:  two\\nlines\\u{202e}");
    }

    #[test]
    fn only_the_string_true_is_active() {
        assert_eq!(active(&json!({"isActive": "true"})), "yes");
        assert_eq!(active(&json!({"isActive": "false"})), "no");
        assert_eq!(active(&json!({"isActive": true})), "no");
        assert_eq!(expires(&json!({"expiresAt": ""})), "Never");
        let at = json!({"expiresAt": "2027-01-31T23:59:59+00:00", "x": "soon"});
        assert_eq!(expires(&at), "2027-01-31 23:59:59 UTC");
        assert_eq!(when(&at, "x"), "soon");
    }
}
