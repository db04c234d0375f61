//! docs/events.md documents every field of every event type once: its field reference is
//! generated from the JSON Schema (names, types, and the doc comments of the Rust types), and
//! this test fails when the two drift apart. Regenerate with
//! `UPDATE_DOCS=1 cargo test --test siem_docs`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

const BEGIN: &str =
    "<!-- BEGIN GENERATED FIELD REFERENCE (UPDATE_DOCS=1 cargo test --test siem_docs) -->";
const END: &str = "<!-- END GENERATED FIELD REFERENCE -->";

#[derive(Default)]
struct Row {
    types: Vec<String>,
    description: Option<String>,
}

struct Walker<'a> {
    definitions: &'a Map<String, Value>,
    rows: BTreeMap<String, Row>,
    stack: Vec<String>,
}

impl<'a> Walker<'a> {
    fn resolve(&self, schema: &'a Value) -> (&'a Value, Option<String>) {
        let definitions: &'a Map<String, Value> = self.definitions;
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap().to_string();
                (&definitions[&name], Some(name))
            }
            None => (schema, None),
        }
    }

    fn walk(&mut self, path: &str, schema: &'a Value, description: Option<&'a str>) {
        let (schema, name) = self.resolve(schema);
        if let Some(n) = &name {
            if self.stack.contains(n) {
                return;
            }
            self.stack.push(n.clone());
        }
        let description = description.or_else(|| schema.get("description").and_then(Value::as_str));
        if !path.is_empty() {
            let row = self.rows.entry(path.to_string()).or_default();
            // A field shared by several event kinds may mean something different in each:
            // keep every distinct meaning.
            if let Some(d) = description.map(one_line) {
                match &mut row.description {
                    None => row.description = Some(d),
                    Some(all) if !all.split(" / ").any(|m| m == d) => {
                        all.push_str(" / ");
                        all.push_str(&d);
                    }
                    Some(_) => {}
                }
            }
            for t in type_names(schema) {
                if !row.types.contains(&t) {
                    row.types.push(t);
                }
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for sub in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.walk(path, sub, None);
            }
        }
        if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
            self.walk_children(&format!("{path}[]"), items);
        }
        if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            self.walk_children(&format!("{path}.*"), extra);
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let d = v.get("description").and_then(Value::as_str);
                self.walk(&child, v, d);
            }
        }
        if name.is_some() {
            self.stack.pop();
        }
    }

    /// Items of arrays and values of maps: only objects add rows of their own.
    fn walk_children(&mut self, path: &str, schema: &'a Value) {
        let (resolved, _) = self.resolve(schema);
        let is_object = resolved.get("properties").is_some()
            || ["anyOf", "oneOf"]
                .iter()
                .any(|k| resolved.get(*k).is_some());
        if is_object {
            self.walk(path, schema, None);
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn type_names(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = e
            .iter()
            .map(|v| {
                v.as_str()
                    .map_or_else(|| v.to_string(), |s| format!("`{s}`"))
            })
            .collect();
        out.push(values.join(", "));
        return out;
    }
    if let Some(c) = schema.get("const") {
        out.push(format!(
            "`{}`",
            c.as_str().map_or_else(|| c.to_string(), String::from)
        ));
        return out;
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    for t in types {
        let name = match (t, schema.get("format").and_then(Value::as_str)) {
            ("string", Some("ip")) => "IP address".to_string(),
            ("number", _) => "number".to_string(),
            ("integer", _) => "integer".to_string(),
            (other, _) => other.to_string(),
        };
        out.push(name);
    }
    out
}

fn generated() -> String {
    let schema = watch3232::output::schema::schema();
    let definitions = schema["definitions"].as_object().unwrap();
    let mut md = String::new();
    for t in watch3232::output::schema::event_types() {
        let mut w = Walker {
            definitions,
            rows: BTreeMap::new(),
            stack: Vec::new(),
        };
        w.walk(t, &schema["properties"][t], None);
        md.push_str(&format!(
            "\n### `{t}`\n\n| field | type | meaning |\n|---|---|---|\n"
        ));
        for (path, row) in &w.rows {
            let types = row
                .types
                .iter()
                .filter(|t| *t != "null")
                .cloned()
                .collect::<Vec<_>>();
            let nullable = if row.types.iter().any(|t| t == "null") {
                " or null"
            } else {
                ""
            };
            md.push_str(&format!(
                "| `{path}` | {}{nullable} | {} |\n",
                types.join(" or "),
                row.description.as_deref().unwrap_or("")
            ));
        }
    }
    md
}

/// Fails unless docs/events.md holds `want` between the markers `begin` and `end`; with
/// `UPDATE_DOCS` set, writes it there instead.
fn keep_generated(begin: &str, end: &str, want: &str, what: &str) {
    // Tests run in parallel and both blocks live in one file: one update at a time.
    static DOC: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = DOC.lock().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (start, stop) = (
        doc.find(begin).expect("begin marker"),
        doc.find(end).expect("end marker"),
    );
    if doc[start + begin.len()..stop] != *want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{begin}{want}{}", &doc[..start], &doc[stop..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!("docs/events.md is out of date with {what}: run `UPDATE_DOCS=1 cargo test --test siem_docs`");
        }
    }
}

#[test]
fn the_field_reference_in_docs_matches_the_schema() {
    let want = format!("\n{}\n", generated().trim());
    keep_generated(BEGIN, END, &want, "the schema");
}

const SIG_BEGIN: &str =
    "<!-- BEGIN GENERATED SIGNATURE TABLE (UPDATE_DOCS=1 cargo test --test siem_docs) -->";
const SIG_END: &str = "<!-- END GENERATED SIGNATURE TABLE -->";

/// The `alert.signature_id` table, from `watch3232::event::signature::all()`.
fn signature_table() -> String {
    let mut md = String::from(
        "| `alert.signature_id` | rev | `event_type` | `kind` | `alert.signature` | `alert.category` |\n|---|---|---|---|---|---|\n",
    );
    for (event_type, kind, s) in watch3232::event::signature::all() {
        md.push_str(&format!(
            "| {} | {} | `{event_type}` | `{kind}` | {} | {} |\n",
            s.id, s.rev, s.title, s.category
        ));
    }
    md
}

#[test]
fn the_signature_table_in_docs_matches_the_code() {
    let want = format!("\n{}", signature_table());
    keep_generated(SIG_BEGIN, SIG_END, &want, "the signature table");
}

#[test]
fn the_examples_in_docs_are_valid_events() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let schema = watch3232::output::schema::schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut types = Vec::new();
    for block in doc.split("```json\n").skip(1) {
        let text = &block[..block.find("```").unwrap()];
        let event: Value = serde_json::from_str(&text.replace('\n', " ")).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{event}: {errors:?}");
        types.push(event["event_type"].as_str().unwrap().to_string());
    }
    types.sort();
    types.dedup();
    let mut want: Vec<String> = watch3232::output::schema::event_types()
        .iter()
        .map(|t| t.to_string())
        .collect();
    want.sort();
    assert_eq!(types, want, "one example per event type");
}
