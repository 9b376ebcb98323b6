//! Output for people and for pipes, shared by the client commands and the operator tools.
//!
//! Text for people shows server and store data (names, descriptions, user ids, audit changes) with
//! every hidden character ([`domain::characters::is_hidden`]: control characters, invisible format
//! characters, line and paragraph separators) escaped as `\n`, `\t`, `\r` or `\u{1b}`, so that data
//! can neither rewrite the terminal (an ESC sequence) nor pass for something else (`bob\u{200b}`).
//! JSON output is never escaped: it is exact JSON.
//!
//! Stdout may be a pipe whose reader stops early (`apikeyd api-key list | head -1`). That is not a
//! failure: the reader has what it wanted. Writes report it as [`is_closed_pipe`], and commands end
//! quietly with exit status 0 (as ripgrep does), without a panic or an error message. Any other
//! write error (a full disk) is reported and fails the command.
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

/// `text` with every hidden character escaped (newlines too, so a value stays on its line).
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_where(text, |_| true)
}

/// `text` with every hidden character but `\n` escaped: for output that is already laid out in lines.
pub fn escape_keeping_lines(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c != '\n')
}

fn escape_where(text: &str, escapable: impl Fn(char) -> bool) -> Cow<'_, str> {
    let needs = |c: char| domain::characters::is_hidden(c) && escapable(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) {
            push_escaped(&mut shown, c);
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// Appends the escape of one hidden character.
fn push_escaped(shown: &mut String, c: char) {
    match c {
        '\n' => shown.push_str("\\n"),
        '\t' => shown.push_str("\\t"),
        '\r' => shown.push_str("\\r"),
        other => {
            let _ = write!(shown, "\\u{{{:x}}}", other as u32);
        }
    }
}

/// How many characters `c` takes once escaped by [`escape`].
pub fn escaped_width(c: char) -> usize {
    if domain::characters::is_hidden(c) {
        let mut shown = String::new();
        push_escaped(&mut shown, c);
        shown.chars().count()
    } else {
        1
    }
}

/// Writes `text` and a final newline (unless it has one) to stdout, and flushes.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}

/// True when `error` says the reader of stdout has gone away.
pub fn is_closed_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// True when any cause in `error`'s chain is a closed pipe.
pub fn caused_by_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(is_closed_pipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped_and_the_rest_kept() {
        let cases = [
            ("plain name", "plain name"),
            ("\u{1b}[2Jcleared", "\\u{1b}[2Jcleared"),
            ("bob-key\u{200b}", "bob-key\\u{200b}"),
            ("abc\u{202e}fed", "abc\\u{202e}fed"),
            ("two\nlines\tand\r", "two\\nlines\\tand\\r"),
            (
                "nul\u{0} del\u{7f} c1\u{9b}",
                "nul\\u{0} del\\u{7f} c1\\u{9b}",
            ),
            ("日本 😀 é", "日本 😀 é"),
        ];
        for (raw, shown) in cases {
            assert_eq!(escape(raw), shown, "{raw:?}");
        }
        assert_eq!(escape_keeping_lines("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert_eq!(escaped_width('\u{1b}'), "\\u{1b}".len());
        assert_eq!(escaped_width('é'), 1);
    }

    #[test]
    fn a_closed_pipe_is_found_through_context() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(caused_by_closed_pipe(
            &anyhow::Error::new(pipe).context("printing")
        ));
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(!caused_by_closed_pipe(&anyhow::Error::new(full)));
    }
}
