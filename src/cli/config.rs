//! The TOML configuration file: every key is the long name of a flag (`rotate-size` or
//! `rotate_size`); tables `[read]` and `[capture]` hold the options of those subcommands.
//! Values from the file come first on the command line and every argument overrides itself, so a
//! flag given by hand replaces the file's value (for lists such as `output`, the whole list).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where the configuration is read from when `--config` is not given (only if it exists).
pub const DEFAULT_CONFIG: &str = "/etc/watch3232/config.toml";

const SUBCOMMANDS: &[&str] = &["read", "capture"];

/// The command line with the configuration file's settings spliced in.
pub fn args_with_config(argv: Vec<OsString>) -> Result<Vec<OsString>, String> {
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
        .map_err(|e| format!("cannot read configuration {}: {e}", path.display()))?;
    let (global, sub) =
        to_args(&text).map_err(|e| format!("configuration {}: {e}", path.display()))?;
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
fn to_args(text: &str) -> Result<(Vec<String>, SubArgs), String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let mut global = Vec::new();
    let mut subs = Vec::new();
    for (key, value) in &table {
        if SUBCOMMANDS.contains(&key.as_str()) {
            let toml::Value::Table(t) = value else {
                return Err(format!("`{key}` must be a table ([{key}])"));
            };
            let mut args = Vec::new();
            for (k, v) in t {
                push_flag(&mut args, k, v, true)?;
            }
            subs.push((key.clone(), args));
        } else if key == "config" {
            return Err("`config` cannot be set inside a configuration file".into());
        } else {
            push_flag(&mut global, key, value, false)?;
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
        .unwrap();
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
