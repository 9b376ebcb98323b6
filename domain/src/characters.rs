//! Which characters names and free text may hold, shared by the value types (input checks) and the
//! CLI (escaping what it prints).
//!
//! A name is read by people in tables, logs and audit records, so it must look like what it is:
//! `bob-key\u{200b}` renders exactly like `bob-key`, and `\u{202e}` reverses the text after it. Names
//! therefore refuse every character that renders as nothing or steers a terminal or a renderer.
//! Descriptions are prose: they keep newline and tab, and the zero-width joiners that emoji and some
//! scripts need, but refuse the other control characters (an ESC sequence can rewrite a terminal) and
//! the bidirectional embeddings, overrides and isolates behind "Trojan Source" (CVE-2021-42574).
//!
//! Checks apply to input only: events already in the log load whatever they hold.
use crate::ParseError;
use unicode_general_category::{get_general_category, GeneralCategory};

/// True for characters that are invisible or act on the display rather than show: control characters
/// (Unicode category Cc, C0, DEL and C1), format characters (Cf: zero-width space and joiners, bidi
/// controls, BOM, soft hyphen, word joiner, tag characters, …) and the line and paragraph separators
/// (Zl, Zp).
pub fn is_hidden(c: char) -> bool {
    // Printable ASCII, most of any text, is never hidden: skip the table lookup.
    if matches!(c, ' '..='~') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// True for the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// which reorder the text around them when displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Refuses a hidden character (see [`is_hidden`]) anywhere in a name-like `field`.
pub fn check_name(field: &str, text: &str) -> Result<(), ParseError> {
    match text.chars().find(|&c| is_hidden(c)) {
        Some(c) => Err(ParseError::new(format!(
            "{field} must not contain control or invisible formatting characters (found {})",
            code_point(c)
        ))),
        None => Ok(()),
    }
}

/// Refuses control characters other than newline and tab, and bidi controls, in free-text `field`.
pub fn check_free_text(field: &str, text: &str) -> Result<(), ParseError> {
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(ParseError::new(format!(
            "{field} must not contain control characters other than newline and tab (found {})",
            code_point(c)
        )));
    }
    if let Some(c) = text.chars().find(|&c| is_bidi_control(c)) {
        return Err(ParseError::new(format!(
            "{field} must not contain bidirectional control characters (found {})",
            code_point(c)
        )));
    }
    Ok(())
}

/// `U+200B`: how messages name a character without printing it.
fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_by_category() {
        let hidden = [
            ('\u{0}', "NUL"),
            ('\u{1b}', "ESC"),
            ('\u{7f}', "DEL"),
            ('\u{85}', "NEL (C1)"),
            ('\u{ad}', "soft hyphen"),
            ('\u{200b}', "zero-width space"),
            ('\u{200c}', "zero-width non-joiner"),
            ('\u{200d}', "zero-width joiner"),
            ('\u{200e}', "left-to-right mark"),
            ('\u{2028}', "line separator"),
            ('\u{2029}', "paragraph separator"),
            ('\u{202e}', "right-to-left override"),
            ('\u{2060}', "word joiner"),
            ('\u{2066}', "left-to-right isolate"),
            ('\u{feff}', "BOM"),
            ('\u{e0041}', "tag letter A"),
        ];
        for (c, why) in hidden {
            assert!(is_hidden(c), "{why} is hidden");
        }
        for c in ['a', ' ', 'é', '日', '😀', '-', '\u{a0}'] {
            assert!(!is_hidden(c), "{c:?} shows");
        }
    }

    #[test]
    fn bidi_controls_are_the_embeddings_overrides_and_isolates() {
        let controls: Vec<char> = ('\u{2000}'..='\u{20ff}')
            .filter(|&c| is_bidi_control(c))
            .collect();
        assert_eq!(
            controls,
            [
                '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
                '\u{2068}', '\u{2069}'
            ]
        );
    }

    #[test]
    fn messages_name_the_field_and_the_code_point() {
        assert_eq!(
            check_name("apiKeyName", "bob-key\u{200b}").unwrap_err().0,
            "apiKeyName must not contain control or invisible formatting characters (found U+200B)"
        );
        assert_eq!(
            check_free_text("description", "a\u{1b}[2Jb").unwrap_err().0,
            "description must not contain control characters other than newline and tab (found U+001B)"
        );
        assert_eq!(
            check_free_text("description", "abc\u{202e}fed")
                .unwrap_err()
                .0,
            "description must not contain bidirectional control characters (found U+202E)"
        );
        assert!(check_free_text("description", "line one\n\tline two 👩\u{200d}💻").is_ok());
    }
}
