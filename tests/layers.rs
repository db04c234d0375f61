//! The module graph has no circle: every `crate::…` path in `src/` is an edge from the module
//! that writes it to the module it names, between the top-level modules (`decode`, `flow`,
//! `classify`, `event`, …) and between the protocol families inside `classify/`. A circle means a
//! change in one place ripples back into itself; this test names the modules that form it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its `#[cfg(test)]` modules: tests may reach anywhere.
fn non_test_code(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // Skip the item that follows, by brace depth.
            let mut depth = 0i32;
            let mut opened = false;
            for l in lines.by_ref() {
                depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                opened |= l.contains('{');
                if opened && depth <= 0 || !opened && l.trim_end().ends_with(';') {
                    break;
                }
            }
            continue;
        }
        // Comments may name any module.
        let code = line.split("//").next().unwrap_or("");
        kept.push_str(code);
        kept.push('\n');
    }
    kept
}

/// Every module named after `crate::` (or `super::` at the top of `classify/<family>/`) in `code`.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let path: Vec<String> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        found.push(path);
    }
    found
}

/// The module a file belongs to, as (top-level, classify family if any).
fn module_of(src: &Path, file: &Path) -> (String, Option<String>) {
    let rel = file.strip_prefix(src).unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    let top = parts[0].clone();
    let family = (top == "classify" && parts.len() > 2).then(|| parts[1].clone());
    (top, family)
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn modules_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut families: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let (module, family) = module_of(&src, file);
        if module == "main" || module == "cli" || module == "lib" {
            continue; // the binary sits on top of everything
        }
        let code = non_test_code(&std::fs::read_to_string(file).unwrap());
        for path in named_paths(&code) {
            let Some(target) = path.first() else { continue };
            if *target != module {
                top.entry(module.clone())
                    .or_default()
                    .insert(target.clone());
            }
            if let (Some(from), true, Some(to)) = (&family, target == "classify", path.get(1)) {
                let is_family = src.join("classify").join(to).is_dir();
                if is_family && to != from {
                    families.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
        // `super::<family>` from inside another family.
        if let Some(from) = &family {
            for family_dir in std::fs::read_dir(src.join("classify")).unwrap() {
                let dir = family_dir.unwrap().path();
                let name = dir.file_name().unwrap().to_string_lossy().to_string();
                if dir.is_dir() && &name != from && code.contains(&format!("super::{name}::")) {
                    families.entry(from.clone()).or_default().insert(name);
                }
            }
        }
    }
    assert!(top.contains_key("engine"), "no edges found: {top:?}");
    // The core knows nothing of where packets come from or where events go: it builds without
    // libpcap (`cargo check --lib --no-default-features`) and can be driven by anything.
    for core in [
        "time",
        "packet",
        "decode",
        "prefilter",
        "flow",
        "classify",
        "aggregate",
        "event",
    ]
    .iter()
    .chain(&["engine", "stats", "artifact"])
    {
        for outer in ["capture", "driver", "output", "cli"] {
            assert!(
                !top.get(*core).is_some_and(|deps| deps.contains(outer)),
                "{core} imports {outer}: the core must not depend on sources, the driver or sinks"
            );
        }
    }
    if let Some(cycle) = find_cycle(&top) {
        panic!(
            "modules import each other in a circle: {}\n(all edges: {top:#?})",
            cycle.join(" → ")
        );
    }
    // A protocol family is on its own: what several share lives in `ota/` (both OTA families)
    // or `device/` (the inventory's facts); only the anomaly guesser calls into the others,
    // for the probe each protocol owns.
    for (family, deps) in &families {
        for dep in deps {
            assert!(
                matches!(dep.as_str(), "ota" | "device") || family == "anomaly",
                "classify/{family} imports classify/{dep}: move what they share to a shared module"
            );
        }
    }
    if let Some(cycle) = find_cycle(&families) {
        panic!(
            "classifier families import each other in a circle: {}\n(all edges: {families:#?})",
            cycle.join(" → ")
        );
    }
}
