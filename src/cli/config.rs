//! The TOML configuration file: every key is the long name of a flag (`rotate-size` or
//! `rotate_size`); tables `[read]` and `[capture]` hold the options of those subcommands.
//! Values from the file come first on the command line and every argument overrides itself, so a
//! flag given by hand replaces the file's value (for lists such as `output`, the whole list).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where the configuration is read from when `--config` is not given (only if it exists).
pub const DEFAULT_CONFIG: &str = "/etc/watch3232/config.toml";

const SUBCOMMANDS: &[&str] = &["read", "capture"];

/// A mistake in the configuration file, located: `FILE:LINE: what`.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The command line with the configuration file's settings spliced in. Every key and value is
/// checked against the command-line definition first, so a mistake names the file and line.
pub fn args_with_config(
    argv: Vec<OsString>,
    cli: &clap::Command,
) -> Result<Vec<OsString>, ConfigError> {
    let argv = hoist_subcommand_options(argv, cli);
    let explicit = find_config_flag(&argv);
    let path = match &explicit {
        Some(p) => p.clone(),
        None => match std::env::var_os("WATCH3232_CONFIG") {
            Some(p) => PathBuf::from(p),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok(argv),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
    let located = |e: Located| match e.line {
        Some(line) => ConfigError(format!("{}:{line}: {}", path.display(), e.message)),
        None => ConfigError(format!("{}: {}", path.display(), e.message)),
    };
    check(&text, cli).map_err(located)?;
    let (global, sub) = to_args(&text).map_err(located)?;
    let Some(at) = subcommand_position(&argv, cli) else {
        return Ok(argv); // `--help`, `--version`, or a mistake clap will report
    };
    let name = argv[at].to_string_lossy().into_owned();
    let subcommand = cli.find_subcommand(&name).expect("a known subcommand");
    // Right after the subcommand, before what was typed: the file's values come first, so a
    // flag given by hand replaces them. Top-level keys go only to subcommands that have them
    // (`output` means nothing to `schema`).
    // A key typed by hand is left out entirely, so that for lists such as `output` the
    // typed values replace the file's instead of adding to them.
    let typed = |long: &str| typed_by_hand(&argv[at + 1..], subcommand, long);
    let mut out: Vec<OsString> = argv[..=at].to_vec();
    for (long, flags) in &global {
        if has_long(subcommand, long) && !typed(long) {
            out.extend(flags.iter().map(OsString::from));
        }
    }
    if let Some((_, groups)) = sub.iter().find(|(table, _)| *table == name) {
        for (long, flags) in groups {
            if !typed(long) {
                out.extend(flags.iter().map(OsString::from));
            }
        }
    }
    out.extend(argv[at + 1..].iter().cloned());
    Ok(out)
}

/// Whether the option `--long` (or its short form) is among `typed`.
fn typed_by_hand(typed: &[OsString], command: &clap::Command, long: &str) -> bool {
    let short = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_short());
    let with_value = format!("--{long}=");
    typed.iter().map(|t| t.to_string_lossy()).any(|t| {
        t == format!("--{long}")
            || t.starts_with(&with_value)
            || short.is_some_and(|c| t.len() >= 2 && !t.starts_with("--") && t[1..].starts_with(c))
    })
}

fn has_long(command: &clap::Command, long: &str) -> bool {
    command.get_arguments().any(|a| a.get_long() == Some(long))
}

/// Options of the command itself (logging, `--config`, help), which may precede a subcommand.
fn is_top_level_option(token: &str) -> bool {
    matches!(
        token,
        "--config" | "--verbose" | "--quiet" | "--help" | "--version" | "-h" | "-V"
    ) || token.starts_with("--config=")
        || (token.len() > 1
            && token.starts_with('-')
            && !token.starts_with("--")
            && token[1..].chars().all(|c| c == 'v' || c == 'q'))
}

/// Whether `token` is an option (of any subcommand) that takes its value as the next argument.
fn takes_next_value(token: &str, cli: &clap::Command) -> bool {
    if token == "--config" {
        return true;
    }
    let found = |a: &clap::Arg| {
        if let Some(long) = token.strip_prefix("--") {
            a.get_long() == Some(long)
        } else {
            let mut chars = token.chars().skip(1);
            matches!((chars.next(), chars.next()), (Some(c), None) if a.get_short() == Some(c))
        }
    };
    cli.get_subcommands()
        .flat_map(|s| s.get_arguments())
        .find(|a| found(a))
        .is_some_and(|a| a.get_action().takes_values())
}

/// Index of the subcommand's name in `argv`.
fn subcommand_position(argv: &[OsString], cli: &clap::Command) -> Option<usize> {
    let mut i = 1;
    while i < argv.len() {
        let token = argv[i].to_string_lossy();
        if token == "--" {
            return None;
        }
        if token.starts_with('-') && token.len() > 1 {
            i += if takes_next_value(&token, cli) { 2 } else { 1 };
            continue;
        }
        return cli.find_subcommand(token.as_ref()).map(|_| i);
    }
    None
}

/// Options of `read`/`capture` typed before the subcommand (`watch3232 -o x.json capture …`,
/// as when they were global) are moved after it, where they belong now.
fn hoist_subcommand_options(argv: Vec<OsString>, cli: &clap::Command) -> Vec<OsString> {
    let Some(at) = subcommand_position(&argv, cli) else {
        return argv;
    };
    let mut kept = Vec::with_capacity(argv.len());
    let mut moved = Vec::new();
    let mut i = 1;
    kept.push(argv[0].clone());
    while i < at {
        let token = argv[i].to_string_lossy();
        let width = if takes_next_value(&token, cli) { 2 } else { 1 };
        let group = &argv[i..(i + width).min(at)];
        if is_top_level_option(&token) {
            kept.extend_from_slice(group);
        } else {
            moved.extend_from_slice(group);
        }
        i += width;
    }
    kept.push(argv[at].clone());
    kept.extend(moved);
    kept.extend_from_slice(&argv[at + 1..]);
    kept
}

/// A configuration mistake and the line it is on (when known).
struct Located {
    line: Option<usize>,
    message: String,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn syntax_error(text: &str, e: &toml::de::Error) -> Located {
    Located {
        line: e.span().map(|span| line_of(text, span.start)),
        message: e.message().trim().replace('\n', ": "),
    }
}

type SpannedTable = std::collections::BTreeMap<toml::Spanned<String>, toml::Value>;

/// Every key names an option of the command line (of the subcommand, for `[read]` and
/// `[capture]`) and every value is one that option accepts.
fn check(text: &str, cli: &clap::Command) -> Result<(), Located> {
    let top: SpannedTable = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    for (key, value) in &top {
        let line = line_of(text, key.span().start);
        if let Some(sub) = SUBCOMMANDS.iter().find(|s| **s == key.get_ref()) {
            if !matches!(value, toml::Value::Table(_)) {
                return Err(Located {
                    line: Some(line),
                    message: format!("`{sub}` must be a table ([{sub}])"),
                });
            }
            let subcommand = cli.find_subcommand(sub).expect("read and capture exist");
            // The table's keys again, this time with their own positions.
            let tables: std::collections::BTreeMap<String, toml::Value> =
                toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
            let toml::Value::Table(inner) = &tables[*sub] else {
                unreachable!("checked above")
            };
            for (k, v) in inner {
                // A nested table's keys carry no span here: find the key in the file instead.
                let line = find_key_line(text, sub, k).unwrap_or(line);
                check_entry(&[subcommand, cli], false, k, v).map_err(|message| Located {
                    line: Some(line),
                    message,
                })?;
            }
        } else {
            let everywhere: Vec<&clap::Command> =
                std::iter::once(cli).chain(cli.get_subcommands()).collect();
            check_entry(&everywhere, true, key.get_ref(), value).map_err(|message| Located {
                line: Some(line),
                message,
            })?;
        }
    }
    Ok(())
}

/// The line of `key` inside the `[table]` section.
fn find_key_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut inside = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            inside = line.trim_start_matches('[').trim_end_matches(']').trim() == table;
            continue;
        }
        let name = line
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if inside && name == key {
            return Some(i + 1);
        }
    }
    None
}

/// One key: an option of one of the `scopes` and a value it accepts.
fn check_entry(
    scopes: &[&clap::Command],
    top_level: bool,
    key: &str,
    value: &toml::Value,
) -> Result<(), String> {
    if key == "config" {
        return Err("`config` cannot be set inside a configuration file".into());
    }
    let long = key.replace('_', "-");
    let arg = scopes
        .iter()
        .flat_map(|c| c.get_arguments())
        .find(|a| a.get_long() == Some(long.as_str()))
        .ok_or_else(|| format!("unknown key '{key}' (no option --{long})"))?;
    let items: Vec<&toml::Value> = match value {
        toml::Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    for item in items {
        let text = match item {
            toml::Value::Boolean(_) if !arg.get_action().takes_values() => continue,
            // Top-level `true` becomes a bare flag: only switches take it there.
            toml::Value::Boolean(_) if top_level => {
                return Err(format!(
                    "bad value for '{key}': expects a value, not true or false"
                ))
            }
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(format!(
                    "bad value for '{key}': {} is not accepted",
                    other.type_str()
                ))
            }
        };
        if !arg.get_action().takes_values() {
            return Err(format!("bad value for '{key}': true or false"));
        }
        // The option alone in a command of its own: clap checks the value as on the command
        // line (ranges, lists, enums), and no other option can interfere.
        let alone = clap::Command::new("watch3232")
            .no_binary_name(true)
            .arg(arg.clone().required(false).global(false));
        alone
            .try_get_matches_from([format!("--{long}={text}")])
            .map_err(|e| format!("bad value for '{key}': {}", clap_reason(&e)))?;
    }
    Ok(())
}

/// The reason of a clap value error, on one line (without `error: ` and the help hint).
fn clap_reason(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid value");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

fn find_config_flag(argv: &[OsString]) -> Option<PathBuf> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
        if s == "--" {
            break;
        }
    }
    None
}

/// Flags per long option name (top level) or per subcommand (tables).
type FlagGroups = Vec<(String, Vec<String>)>;

/// Flags for the top-level keys, and per subcommand table.
fn to_args(text: &str) -> Result<(FlagGroups, Vec<(String, FlagGroups)>), Located> {
    let table: toml::Table = text.parse().map_err(|e| syntax_error(text, &e))?;
    let unlocated = |message: String| Located {
        line: None,
        message,
    };
    let mut global = Vec::new();
    let mut subs = Vec::new();
    for (key, value) in &table {
        if SUBCOMMANDS.contains(&key.as_str()) {
            let toml::Value::Table(t) = value else {
                return Err(unlocated(format!("`{key}` must be a table ([{key}])")));
            };
            let mut groups = Vec::new();
            for (k, v) in t {
                let mut flags = Vec::new();
                push_flag(&mut flags, k, v, true).map_err(unlocated)?;
                groups.push((k.replace('_', "-"), flags));
            }
            subs.push((key.clone(), groups));
        } else if key == "config" {
            return Err(unlocated(
                "`config` cannot be set inside a configuration file".into(),
            ));
        } else {
            let mut flags = Vec::new();
            push_flag(&mut flags, key, value, false).map_err(unlocated)?;
            global.push((key.replace('_', "-"), flags));
        }
    }
    Ok((global, subs))
}

fn push_flag(
    args: &mut Vec<String>,
    key: &str,
    value: &toml::Value,
    bool_takes_value: bool,
) -> Result<(), String> {
    let flag = format!("--{}", key.replace('_', "-"));
    match value {
        toml::Value::Boolean(b) if bool_takes_value => args.push(format!("{flag}={b}")),
        toml::Value::Boolean(true) => args.push(flag),
        toml::Value::Boolean(false) => {}
        toml::Value::Array(items) => {
            for item in items {
                push_flag(args, key, item, bool_takes_value)?;
            }
        }
        toml::Value::String(s) => args.extend([flag, s.clone()]),
        toml::Value::Integer(i) => args.extend([flag, i.to_string()]),
        toml::Value::Float(f) => args.extend([flag, f.to_string()]),
        other => return Err(format!("`{key}`: unsupported value {}", other.type_str())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_flags() {
        let (g, s) = to_args(
            "output = [\"eve.json\", \"syslog\"]\nrotate_size = \"100M\"\nstats-interval = 60\nappend = true\n\
             [capture]\ninterface = \"eth0\"\npromisc = false\n",
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        let g: Vec<String> = g.into_iter().flat_map(|(_, flags)| flags).collect();
        assert_eq!(
            g,
            [
                "--append",
                "--output",
                "eve.json",
                "--output",
                "syslog",
                "--rotate-size",
                "100M",
                "--stats-interval",
                "60"
            ]
        );
        let s: Vec<(String, Vec<String>)> = s
            .into_iter()
            .map(|(table, groups)| (table, groups.into_iter().flat_map(|(_, f)| f).collect()))
            .collect();
        assert_eq!(
            s,
            vec![(
                "capture".to_string(),
                vec![
                    "--interface".into(),
                    "eth0".into(),
                    "--promisc=false".into()
                ]
            )]
        );
    }
}
