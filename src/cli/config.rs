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
    let mut out: Vec<OsString> = Vec::with_capacity(argv.len() + global.len() + 4);
    let mut it = argv.into_iter();
    out.extend(it.next());
    out.extend(global.into_iter().map(OsString::from));
    for a in it {
        let is_sub = a.to_str().is_some_and(|s| SUBCOMMANDS.contains(&s));
        out.push(a.clone());
        if is_sub {
            if let Some(extra) = sub
                .iter()
                .find(|(name, _)| Some(name.as_str()) == a.to_str())
            {
                out.extend(extra.1.iter().map(OsString::from));
            }
        }
    }
    Ok(out)
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
                check_entry(subcommand, Some(cli), k, v).map_err(|message| Located {
                    line: Some(line),
                    message,
                })?;
            }
        } else {
            check_entry(cli, None, key.get_ref(), value).map_err(|message| Located {
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

/// One key: an option of `command` (or of `parent`, whose global options every subcommand
/// takes) and a value it accepts.
fn check_entry(
    command: &clap::Command,
    parent: Option<&clap::Command>,
    key: &str,
    value: &toml::Value,
) -> Result<(), String> {
    if key == "config" {
        return Err("`config` cannot be set inside a configuration file".into());
    }
    let long = key.replace('_', "-");
    let arg = command
        .get_arguments()
        .chain(parent.into_iter().flat_map(|p| p.get_arguments()))
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
            toml::Value::Boolean(_) if parent.is_none() => {
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

type SubArgs = Vec<(String, Vec<String>)>;

/// Flags for the top-level keys, and per subcommand table.
fn to_args(text: &str) -> Result<(Vec<String>, SubArgs), Located> {
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
            let mut args = Vec::new();
            for (k, v) in t {
                push_flag(&mut args, k, v, true).map_err(unlocated)?;
            }
            subs.push((key.clone(), args));
        } else if key == "config" {
            return Err(unlocated(
                "`config` cannot be set inside a configuration file".into(),
            ));
        } else {
            push_flag(&mut global, key, value, false).map_err(unlocated)?;
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
