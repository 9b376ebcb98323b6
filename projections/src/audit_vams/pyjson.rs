//! JSON printed exactly as Python's `json.dumps` prints it with its defaults: `", "` and `": "`
//! separators, keys in insertion order, and `ensure_ascii` (every character outside printable ASCII
//! as `\uXXXX`, astral ones as a surrogate pair), so a line matches VAMS's byte for byte.
use serde_json::Value;
use std::fmt::Write;

/// A JSON value whose objects keep the order their keys were given in.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    /// `null` (Python `None`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, already in its JSON spelling.
    Number(String),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Py>),
    /// A dict, in insertion order.
    Object(Vec<(String, Py)>),
}

impl Py {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// A list of strings.
    pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Self {
        Self::List(items.into_iter().map(|s| Self::str(s.as_ref())).collect())
    }

    /// A dict from `(key, value)` pairs, in the given order.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Py)>) -> Self {
        Self::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// `json.dumps(self)`.
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Number(n) => out.push_str(n),
            Self::Str(s) => write_str(s, out),
            Self::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&Value> for Py {
    /// serde_json objects iterate in key order, as `json.loads` of sorted keys would.
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.to_string()),
            Value::String(s) => Self::str(s.as_str()),
            Value::Array(items) => Self::List(items.iter().map(Self::from).collect()),
            Value::Object(map) => Self::object(map.iter().map(|(k, v)| (k.as_str(), v.into()))),
        }
    }
}

/// Python's `py_encode_basestring_ascii`.
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_python_json_dumps_does() {
        // Expected strings are Python 3's json.dumps output for the same values.
        let cases: Vec<(Py, &str, &str)> = vec![
            (
                Py::object([("b", Py::str("x")), ("a", Py::Bool(false))]),
                r#"{"b": "x", "a": false}"#,
                "insertion order, spaced separators",
            ),
            (
                Py::strings(["admin", "ops"]),
                r#"["admin", "ops"]"#,
                "list separator",
            ),
            (Py::List(vec![]), "[]", "empty list"),
            (
                Py::str("naïve ☃ 😀"),
                r#""na\u00efve \u2603 \ud83d\ude00""#,
                "ensure_ascii, surrogate pairs",
            ),
            (
                Py::str("a\"b\\c\n\t\u{1}\u{7f}/"),
                r#""a\"b\\c\n\t\u0001\u007f/""#,
                "escapes; '/' left alone",
            ),
            (Py::Null, "null", "None"),
            (Py::Number("42".into()), "42", "int"),
        ];
        for (value, expected, what) in cases {
            assert_eq!(value.dumps(), expected, "{what}");
        }
    }
}
