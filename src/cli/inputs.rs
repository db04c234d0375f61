//! Inputs are sacred: no output may be the same file as a capture being read. Files are
//! compared by device and inode (through symlinks and hard links), before anything is opened
//! for writing — opening an output truncates it.

use super::{Args, Command, UsageError};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use watch3232::output::OutputSpec;

/// Refuses an output (`-o FILE`, `--write-matched`, `--extract-firmware`) that is an input
/// file, and an `--extract-firmware` target that exists but is not a directory.
pub fn refuse_overwriting_inputs(args: &Args) -> Result<(), UsageError> {
    let inputs: Vec<(&str, (u64, u64))> = match &args.command {
        Command::Read { files, .. } | Command::Audit { files, .. } => files
            .iter()
            .filter(|f| f.as_str() != "-")
            .filter_map(|f| identity(Path::new(f)).map(|id| (f.as_str(), id)))
            .collect(),
        _ => Vec::new(),
    };
    let (outputs, write_matched, engine): (&[OutputSpec], _, _) = match &args.command {
        Command::Read {
            output,
            write_matched,
            engine,
            ..
        } => (&output.output, write_matched.as_deref(), Some(engine)),
        Command::Capture { output, engine, .. } => (&output.output, None, Some(engine)),
        Command::Audit { engine, .. } => (&[], None, Some(engine)),
        _ => (&[], None, None),
    };
    let extract_firmware = engine.and_then(|e| e.ota.extract_firmware.as_deref());
    let mut targets: Vec<(&str, &Path)> = Vec::new();
    for spec in outputs {
        if let OutputSpec::File(path) = spec {
            targets.push(("-o", path));
        }
    }
    if let Some(path) = write_matched {
        targets.push(("--write-matched", path));
    }
    if let Some(dir) = extract_firmware {
        targets.push(("--extract-firmware", dir));
    }
    for (flag, target) in targets {
        let Some(target_id) = identity(target) else {
            continue;
        };
        if let Some((input, _)) = inputs.iter().find(|(_, id)| *id == target_id) {
            return Err(UsageError(format!(
                "{flag} {} is the input {input}: refusing to overwrite it",
                target.display()
            )));
        }
    }
    match extract_firmware {
        Some(dir) if dir.exists() && !dir.is_dir() => Err(UsageError(format!(
            "--extract-firmware {}: exists and is not a directory",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Device and inode of the file `path` names (after symlinks); None when it does not exist.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
